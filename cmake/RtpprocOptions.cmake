# Every build option of rtpproc, in one place.
include(CMakeDependentOption)

option(RTPPROC_BUILD_STANDALONE "Build the rtpproc command-line extractor" ON)
option(BUILD_TESTING "Build the tests (needs CUnit)" ON)
option(RTPPROC_WERROR "Treat compiler warnings as errors" OFF)
set(RTPPROC_SANITIZERS "" CACHE STRING "Sanitizers to build with, e.g. address;undefined")

add_feature_info(standalone RTPPROC_BUILD_STANDALONE "the rtpproc command-line extractor")
add_feature_info(tests BUILD_TESTING "CUnit and integration tests")
add_feature_info(werror RTPPROC_WERROR "warnings are errors")
if(RTPPROC_SANITIZERS)
  add_feature_info(sanitizers ON "built with -fsanitize=${RTPPROC_SANITIZERS}")
endif()
