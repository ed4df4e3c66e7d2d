# With CAPSIM_SANITIZE every target is built and linked with ASan and UBSan,
# and any UBSan finding aborts.
if(CAPSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
