# -DRTPPROC_SANITIZERS="address;undefined" builds everything with those sanitizers.
if(RTPPROC_SANITIZERS)
  list(JOIN RTPPROC_SANITIZERS "," _rp_san)
  add_compile_options(-fsanitize=${_rp_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_rp_san})
endif()
