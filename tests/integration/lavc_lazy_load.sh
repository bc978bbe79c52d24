#!/usr/bin/env bash
# integration.lavc_lazy_load: libavcodec and libavutil, which only iLBC and
# G.723.1 use, are loaded on first use (dlopen() in core/codec_lavc.c), not
# linked, so runs without those codecs do not pay their start-up time:
#   - neither rtpproc nor the plug-in ($RTPPROC_PLUGIN, when built) has a
#     DT_NEEDED entry for libavcodec or libavutil (readelf -d);
#   - rtpproc --version and a G.711 capture never load them (LD_DEBUG=files);
#   - G.723.1 (captures/ffmpeg-g723-lo.pcap) still decodes, loading
#     libavcodec during that run: one stream, codec G723, nothing
#     undecodable, a WAV of the frames the report gives, with audio in it
#     (RMS of the non-zero samples at least 300, as in real_codecs_amr_lavc;
#     measured 12425 here, 1065 for iLBC); so does the real iLBC capture
#     ($SHARED_DIR/captures/real/sip-rtp-ilbc.pcap) when present;
#   - the plug-in decodes the same G.723.1 capture inside tshark into the
#     same WAV (skipped with a note where plugin_lib.bash skips: no plug-in,
#     sanitizer build, no tshark);
#   - libavcodec missing at run time: in a private mount namespace
#     (unshare -m; root only, else skipped with a note) /dev/null stands in
#     for the file that the decoding run loaded. rtpproc still exits 0 with
#     the stream reported, no recording, every packet counted undecodable and
#     the note "the G723 decoder could not be started: it needs
#     libavcodec.so.N" (JSON and text report);
#   - a library that is not libavcodec under its soname (libm, found first
#     through LD_LIBRARY_PATH): the same result.
# Skipped (77) when rtpproc was built without both iLBC and G.723.1.
# shellcheck disable=SC2030,SC2031 # the plug-in check's subshell has its own WORKDIR
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO SRCDIR WORKDIR
need_tool jq readelf
setup_workdir

CAP=$SRCDIR/captures/ffmpeg-g723-lo.pcap
ILBC_CAP=${SHARED_DIR:-/nonexistent}/captures/real/sip-rtp-ilbc.pcap

built() {
    ! "$RTPPROC" --pt-map "96=$1" -r /nonexistent 2>&1 | grep -q "unknown codec"
}
HAVE_G723=0
HAVE_ILBC=0
built G723 && HAVE_G723=1
built iLBC && HAVE_ILBC=1
[ $HAVE_G723 = 1 ] || [ $HAVE_ILBC = 1 ] || skip "rtpproc was built without iLBC and G.723.1"

echo "== no DT_NEEDED entry for libavcodec or libavutil"
no_lavc_needed() {
    readelf -d "$1" >"$WORKDIR/needed.txt" || fail "readelf -d $1 failed"
    assert_grep "(NEEDED)" "$WORKDIR/needed.txt"
    if grep -E 'NEEDED.*\[lib(avcodec|avutil)\.so' "$WORKDIR/needed.txt"; then
        fail "$1 links libavcodec/libavutil"
    fi
    echo "ok   $(basename "$1"): $(grep -c NEEDED "$WORKDIR/needed.txt") DT_NEEDED entries, none libavcodec/libavutil"
}
no_lavc_needed "$RTPPROC"
if [ -n "${RTPPROC_PLUGIN:-}" ] && [ -f "$RTPPROC_PLUGIN" ]; then
    no_lavc_needed "$RTPPROC_PLUGIN"
else
    echo "note: the plug-in was not built"
fi

# loaded_lavc LOG: the libavcodec soname a LD_DEBUG=files log shows loaded, or nothing.
loaded_lavc() {
    grep -oE 'file=libavcodec\.so\.[0-9]+ \[0\];  dynamically loaded' "$1" | head -n 1 |
        sed -E 's/^file=([^ ]*) .*/\1/'
}

echo "== not loaded by runs without iLBC or G.723.1"
LD_DEBUG=files "$RTPPROC" --version >/dev/null 2>"$WORKDIR/ld-version.log" ||
    fail "rtpproc --version failed"
assert_no_grep "libavcodec" "$WORKDIR/ld-version.log"
assert_no_grep "libavutil" "$WORKDIR/ld-version.log"
LD_DEBUG=files "$RTPPROC" -r "$SRCDIR/captures/call-g711.pcap" -o "$WORKDIR/g711" -q \
    2>"$WORKDIR/ld-g711.log" || fail "rtpproc on call-g711.pcap failed"
assert_no_grep "libavcodec" "$WORKDIR/ld-g711.log"
assert_no_grep "libavutil" "$WORKDIR/ld-g711.log"
echo "ok   --version and call-g711.pcap load neither"

# check_decoded NAME CODEC: the single stream of $WORKDIR/NAME.json decoded
# as CODEC into a WAV with audio; prints the WAV's path.
check_decoded() {
    local j=$WORKDIR/$1.json codec file frames undec rms
    assert_eq 1 "$(jq '.streams | length' "$j")" "$1: streams"
    codec=$(jq -r '.streams[0].codec' "$j")
    file=$(jq -r '.streams[0].file' "$j")
    frames=$(jq -r '.streams[0].frames' "$j")
    undec=$(jq -r '.streams[0].undecodable' "$j")
    assert_eq "$2" "$codec" "$1: codec"
    assert_eq 0 "$undec" "$1: undecodable packets"
    assert_eq null "$(jq -r '.streams[0].note' "$j")" "$1: note"
    [ "$frames" -gt 0 ] || fail "$1: no frames"
    check_wav "$file" "$frames" 8000 1
    rms=$("$SNDINFO" --dump "$file" | awk '
        { for (k = 1; k <= NF; k++) if ($k != 0) { s += $k * $k; n++ } }
        END { print n ? int(sqrt(s / n)) : 0 }')
    [ "$rms" -ge 300 ] || fail "$1: RMS $rms of the non-zero samples, expected at least 300"
    echo "ok   $1: $codec, $frames frames, RMS $rms" >&2
    echo "$file"
}

SONAME=""
if [ $HAVE_G723 = 1 ]; then
    echo "== G.723.1 decodes, loading libavcodec on first use"
    LD_DEBUG=files "$RTPPROC" -r "$CAP" -o "$WORKDIR/g723" --json "$WORKDIR/g723.json" -q \
        2>"$WORKDIR/ld-g723.log" || fail "rtpproc on $CAP failed"
    G723_WAV=$(check_decoded g723 G723)
    SONAME=$(loaded_lavc "$WORKDIR/ld-g723.log")
    [ -n "$SONAME" ] || fail "the G.723.1 run did not dlopen() libavcodec (LD_DEBUG=files)"
    echo "ok   g723: $SONAME dynamically loaded during the run"
fi
if [ $HAVE_ILBC = 1 ] && [ -f "$ILBC_CAP" ]; then
    echo "== iLBC decodes"
    LD_DEBUG=files "$RTPPROC" -r "$ILBC_CAP" --pt-map 99=iLBC/8000 -o "$WORKDIR/ilbc" \
        --json "$WORKDIR/ilbc.json" -q 2>"$WORKDIR/ld-ilbc.log" || fail "rtpproc on $ILBC_CAP failed"
    check_decoded ilbc iLBC >/dev/null
    s=$(loaded_lavc "$WORKDIR/ld-ilbc.log")
    [ -n "$s" ] || fail "the iLBC run did not dlopen() libavcodec (LD_DEBUG=files)"
    [ -n "$SONAME" ] || SONAME=$s
elif [ $HAVE_ILBC = 1 ]; then
    echo "note: $ILBC_CAP not found: iLBC not decoded"
fi
if [ $HAVE_G723 = 0 ]; then
    echo "note: G.723.1 not built: the remaining checks need it"
    exit 0
fi

echo "== the plug-in decodes G.723.1 inside tshark"
# plugin_lib.bash skips (exit 77) or fails the shell that sources it, and
# empties $WORKDIR: a subshell with its own folder keeps this script going.
rc=0
(
    WORKDIR=$WORKDIR/plugin
    . "$(dirname "$0")/plugin_lib.bash" >"$WORKDIR.lib.log" 2>&1
    mkd rec
    cp "$CAP" cap.pcap
    chmod a+r cap.pcap
    run_expect 0 tshark_u -r cap.pcap -q --enable-heuristic rtp_udp -z "rtpproc,dir=rec,json=rec.json"
    assert_eq G723 "$(jq -r '.streams[0].codec' rec.json)" "plug-in: codec"
    assert_eq 0 "$(jq -r '.streams[0].undecodable' rec.json)" "plug-in: undecodable packets"
    f=rec/$(basename "$G723_WAV")
    [ -f "$f" ] || fail "plug-in: no $f"
    cmp "$G723_WAV" "$f" || fail "plug-in: $f differs from the standalone tool's recording"
    echo "ok   plug-in: the same G.723.1 recording as the standalone tool"
) || rc=$?
case $rc in
0) ;;
77) echo "note: plug-in not checked: $(grep -h '^SKIP' "$WORKDIR/plugin.lib.log" || true)" ;;
*)
    cat "$WORKDIR/plugin.lib.log" >&2
    fail "the plug-in check failed"
    ;;
esac

# check_unavailable NAME: rtpproc's results in $WORKDIR/NAME* when
# libavcodec could not be used.
check_unavailable() {
    local j=$WORKDIR/$1.json note
    note="the G723 decoder could not be started: it needs $SONAME"
    assert_eq 1 "$(jq '.streams | length' "$j")" "$1: streams"
    assert_eq null "$(jq -r '.streams[0].codec' "$j")" "$1: codec"
    assert_eq null "$(jq -r '.streams[0].file' "$j")" "$1: file"
    assert_eq "$(jq -r '.streams[0].packets' "$j")" "$(jq -r '.streams[0].undecodable' "$j")" \
        "$1: undecodable packets"
    assert_eq "$note" "$(jq -r '.streams[0].note' "$j")" "$1: note"
    assert_grep "($note)" "$WORKDIR/$1.txt"
    [ -z "$(ls -A "$WORKDIR/$1")" ] || fail "$1: recordings written: $(ls "$WORKDIR/$1")"
    echo "ok   $1: exit 0, no recording, note: $note"
}

echo "== libavcodec missing at run time"
LIBFILE=$(ldconfig -p | awk -v s="$SONAME" '$1 == s && /x86-64|64bit/ { print $NF; exit }')
[ -n "$LIBFILE" ] || LIBFILE=$(ldconfig -p | awk -v s="$SONAME" '$1 == s { print $NF; exit }')
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1 || [ -z "$LIBFILE" ]; then
    echo "note: not checked (needs root, unshare and $SONAME in ldconfig's cache)"
else
    mkdir "$WORKDIR/missing"
    # shellcheck disable=SC2016 # expanded by the inner shell
    run_expect 0 unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh \
        "$LIBFILE" "$RTPPROC" -r "$CAP" -o "$WORKDIR/missing" --json "$WORKDIR/missing.json"
    cp "$RUN_OUT" "$WORKDIR/missing.txt"
    check_unavailable missing
fi

echo "== another library under libavcodec's soname"
LIBM=$(ldconfig -p | awk '$1 == "libm.so.6" && /x86-64|64bit/ { print $NF; exit }')
if [ -z "$LIBM" ]; then
    echo "note: not checked (no libm.so.6 in ldconfig's cache)"
else
    mkdir "$WORKDIR/wrong" "$WORKDIR/wrong-lib"
    ln -s "$LIBM" "$WORKDIR/wrong-lib/$SONAME"
    run_expect 0 env LD_LIBRARY_PATH="$WORKDIR/wrong-lib" \
        "$RTPPROC" -r "$CAP" -o "$WORKDIR/wrong" --json "$WORKDIR/wrong.json"
    cp "$RUN_OUT" "$WORKDIR/wrong.txt"
    check_unavailable wrong
fi
