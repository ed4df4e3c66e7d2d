# With CAPSIM_SANITIZE every target is built and linked with ASan and UBSan,
# and any UBSan finding aborts. GCC's -Wmaybe-uninitialized gives false
# positives on sanitizer-instrumented code (e.g. inside <regex>), so that one
# warning is off in this build; the normal build keeps it.
if(CAPSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()
