# capsim_warnings(TARGET): the project's warning set; errors when CAPSIM_WERROR.
function(capsim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast
                                           -Woverloaded-virtual -Wimplicit-fallthrough)
  if(CAPSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
