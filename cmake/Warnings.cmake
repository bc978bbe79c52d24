# Compiler warnings, added only where the compiler knows them (tcpdump's set).
include(CheckCCompilerFlag)
set(RTPPROC_WARNING_FLAGS)
foreach(flag -Wall -Wextra -Wshadow -Wcast-qual -Wmissing-prototypes -Wstrict-prototypes
             -Wpointer-arith -Wwrite-strings -Wundef -Wformat=2 -Wvla)
  string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND RTPPROC_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(RTPPROC_WERROR)
  list(APPEND RTPPROC_WARNING_FLAGS -Werror)
endif()
