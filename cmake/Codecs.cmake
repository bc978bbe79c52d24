# Optional codec libraries. Each codec is one file in core/; a codec whose
# library is missing is left out of the build with a message, never an error.
# Sets RTPPROC_CODEC_SOURCES_OFF (files to drop from the core), and for each
# codec built RTPPROC_HAVE_<NAME> as a compile definition of rtpproc_core,
# its libraries in RTPPROC_CODEC_LIBRARIES, and, for a codec that loads its
# libraries itself at run time (DLOPEN), their include directories in
# RTPPROC_CODEC_INCLUDE_DIRS and their pkg-config modules in
# RTPPROC_CODEC_DLOPEN_MODULES.
#
#   codec file               library (pkg-config)            Debian package
#   codec_g722/g726/gsm/dvi4 spandsp (required anyway)       libspandsp-dev
#   codec_g729.c             libbcg729                       libbcg729-dev
#   codec_opus.c             opus                            libopus-dev
#   codec_speex.c            speex                           libspeex-dev
#   codec_amr.c              opencore-amrnb, opencore-amrwb  libopencore-amr{nb,wb}-dev
#   codec_ilbc.c, g723.c     libavcodec, libavutil (dlopen)  libavcodec-dev
#   resampling (--rate)      samplerate                      libsamplerate0-dev

set(RTPPROC_CODEC_DEFINITIONS "")
set(RTPPROC_CODEC_LIBRARIES "")
set(RTPPROC_CODEC_INCLUDE_DIRS "")
set(RTPPROC_CODEC_DLOPEN_MODULES "")
set(RTPPROC_CODEC_SOURCES_OFF "")

# rtpproc_optional_codec(NAME FILES <f...> MODULES <pkg...> [DLOPEN] [PURPOSE text])
#   DLOPEN: the codec's code dlopen()s the modules' libraries on first use,
#   so the modules are still required at configure time, for their headers,
#   but the core links ${CMAKE_DL_LIBS} instead of them.
function(rtpproc_optional_codec name)
  cmake_parse_arguments(ARG "DLOPEN" "PURPOSE" "FILES;MODULES" ${ARGN})
  string(TOUPPER "${name}" up)
  set(found TRUE)
  foreach(f IN LISTS ARG_FILES)
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/core/${f})
      set(found FALSE)
    endif()
  endforeach()
  set(targets "")
  set(incdirs "")
  foreach(m IN LISTS ARG_MODULES)
    string(MAKE_C_IDENTIFIER "RP_${m}" var)
    string(TOUPPER "${var}" var)
    pkg_check_modules(${var} QUIET IMPORTED_TARGET ${m})
    if(${var}_FOUND)
      list(APPEND targets PkgConfig::${var})
      list(APPEND incdirs ${${var}_INCLUDE_DIRS})
    else()
      set(found FALSE)
      message(STATUS "rtpproc: ${name} codec off: pkg-config module '${m}' not found")
    endif()
  endforeach()
  option(RTPPROC_CODEC_${up} "Build the ${name} codec (${ARG_PURPOSE})" ON)
  if(found AND RTPPROC_CODEC_${up})
    set(RTPPROC_CODEC_DEFINITIONS ${RTPPROC_CODEC_DEFINITIONS} RTPPROC_HAVE_${up} PARENT_SCOPE)
    if(ARG_DLOPEN)
      set(libs ${RTPPROC_CODEC_LIBRARIES} ${CMAKE_DL_LIBS})
      set(dirs ${RTPPROC_CODEC_INCLUDE_DIRS} ${incdirs})
      set(mods ${RTPPROC_CODEC_DLOPEN_MODULES} ${ARG_MODULES})
      list(REMOVE_DUPLICATES libs)
      list(REMOVE_DUPLICATES dirs)
      list(REMOVE_DUPLICATES mods)
      set(RTPPROC_CODEC_LIBRARIES ${libs} PARENT_SCOPE)
      set(RTPPROC_CODEC_INCLUDE_DIRS ${dirs} PARENT_SCOPE)
      set(RTPPROC_CODEC_DLOPEN_MODULES ${mods} PARENT_SCOPE)
    else()
      set(RTPPROC_CODEC_LIBRARIES ${RTPPROC_CODEC_LIBRARIES} ${targets} PARENT_SCOPE)
    endif()
    add_feature_info(codec-${name} ON "${ARG_PURPOSE}")
  else()
    set(off ${RTPPROC_CODEC_SOURCES_OFF})
    foreach(f IN LISTS ARG_FILES)
      list(APPEND off ${PROJECT_SOURCE_DIR}/core/${f})
    endforeach()
    set(RTPPROC_CODEC_SOURCES_OFF ${off} PARENT_SCOPE)
    add_feature_info(codec-${name} OFF "${ARG_PURPOSE}")
  endif()
endfunction()

rtpproc_optional_codec(g722 FILES codec_g722.c PURPOSE "G.722, spandsp")
rtpproc_optional_codec(g726 FILES codec_g726.c PURPOSE "G.726-16/24/32/40, spandsp")
rtpproc_optional_codec(gsm FILES codec_gsm.c PURPOSE "GSM 06.10, spandsp")
rtpproc_optional_codec(dvi4 FILES codec_dvi4.c PURPOSE "DVI4/IMA ADPCM, spandsp")
rtpproc_optional_codec(g729 FILES codec_g729.c MODULES libbcg729 PURPOSE "G.729/A/B, bcg729")
rtpproc_optional_codec(opus FILES codec_opus.c MODULES opus PURPOSE "Opus, libopus")
rtpproc_optional_codec(speex FILES codec_speex.c MODULES speex PURPOSE "Speex, libspeex")
rtpproc_optional_codec(amr FILES codec_amr.c MODULES opencore-amrnb opencore-amrwb
  PURPOSE "AMR-NB/AMR-WB, opencore-amr")
# libavcodec is loaded on first use, not at start-up (codec_lavc.c says why).
rtpproc_optional_codec(ilbc FILES codec_ilbc.c codec_lavc.c MODULES libavcodec libavutil DLOPEN
  PURPOSE "iLBC, libavcodec (loaded on first use)")
rtpproc_optional_codec(g723 FILES codec_g723.c codec_lavc.c MODULES libavcodec libavutil DLOPEN
  PURPOSE "G.723.1, libavcodec (loaded on first use)")

# codec_lavc.c serves both libavcodec codecs: keep it while either is built.
if("RTPPROC_HAVE_ILBC" IN_LIST RTPPROC_CODEC_DEFINITIONS OR
   "RTPPROC_HAVE_G723" IN_LIST RTPPROC_CODEC_DEFINITIONS)
  list(REMOVE_ITEM RTPPROC_CODEC_SOURCES_OFF ${PROJECT_SOURCE_DIR}/core/codec_lavc.c)
endif()
