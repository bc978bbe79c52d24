# Every build option of rtpproc, in one place.
include(CMakeDependentOption)

option(RTPPROC_BUILD_STANDALONE "Build the rtpproc command-line extractor" ON)
option(RTPPROC_BUILD_PLUGIN "Build the tshark tap plug-in (needs pkg-config wireshark)" ON)
set(RTPPROC_PLUGIN_INSTALL "global" CACHE STRING
    "Install the plug-in into Wireshark's global plug-in folder (global) or into ~/.local/lib/wireshark/plugins/<major.minor>/epan (user)")
set_property(CACHE RTPPROC_PLUGIN_INSTALL PROPERTY STRINGS global user)
option(BUILD_TESTING "Build the tests (needs CUnit)" ON)
option(RTPPROC_WERROR "Treat compiler warnings as errors" OFF)
set(RTPPROC_SANITIZERS "" CACHE STRING "Sanitizers to build with, e.g. address;undefined")

if(NOT RTPPROC_PLUGIN_INSTALL MATCHES "^(global|user)$")
  message(FATAL_ERROR "RTPPROC_PLUGIN_INSTALL must be global or user, not '${RTPPROC_PLUGIN_INSTALL}'")
endif()
# The plug-in needs Wireshark's development files; without them it is
# switched off for this configuration (not in the cache, so installing
# libwireshark-dev and re-running cmake brings it back).
if(RTPPROC_BUILD_PLUGIN)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(WIRESHARK QUIET IMPORTED_TARGET wireshark)
  endif()
  if(NOT WIRESHARK_FOUND)
    message(STATUS "pkg-config wireshark not found (apt-get install libwireshark-dev): the tshark plug-in is not built")
    set(RTPPROC_BUILD_PLUGIN OFF)
  endif()
endif()

add_feature_info(standalone RTPPROC_BUILD_STANDALONE "the rtpproc command-line extractor")
add_feature_info(plugin RTPPROC_BUILD_PLUGIN "the tshark tap plug-in (-z rtpproc)")
add_feature_info(tests BUILD_TESTING "CUnit and integration tests")
add_feature_info(werror RTPPROC_WERROR "warnings are errors")
if(RTPPROC_SANITIZERS)
  add_feature_info(sanitizers ON "built with -fsanitize=${RTPPROC_SANITIZERS}")
endif()
