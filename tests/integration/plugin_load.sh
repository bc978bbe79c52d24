#!/usr/bin/env bash
# integration.plugin_load: the freshly built tshark plug-in (RTPPROC_PLUGIN)
# exports exactly the four symbols Wireshark's loader needs and none of the
# core's, the real tshark loads it from a personal plug-in folder
# (tshark -G plugins), lists "-z rtpproc" (tshark -z help), stays silent
# unless -z rtpproc is given, and honours json=- and no-audio.
#
# tshark ignores personal plug-in folders when started as root
# (wireshark-notes.md 1.6), so as root it runs as uid/gid 65534 through
# setpriv, with HOME pointing at a temporary tree that holds a copy of the
# module in .local/lib/wireshark/plugins/<major.minor>/epan/.
set -eu
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/plugin_lib.bash"

echo "== exported symbols"
syms=$(nm -D --defined-only "$RTPPROC_PLUGIN" | awk '{ print $3 }' | LC_ALL=C sort | tr '\n' ' ')
assert_eq "plugin_register plugin_version plugin_want_major plugin_want_minor " "$syms" \
    "dynamic symbols of rtpproc.so"
# The core is inside the module, not an external dependency.
if nm -D "$RTPPROC_PLUGIN" | grep -q 'rtpproc_'; then
    fail "rtpproc.so has dynamic rtpproc_* symbols: $(nm -D "$RTPPROC_PLUGIN" | grep rtpproc_)"
fi
readelf -d "$RTPPROC_PLUGIN" | grep -q 'NEEDED.*libwireshark\.so' ||
    fail "rtpproc.so does not link libwireshark"

echo "== tshark -G plugins"
line=$(awk -F'\t' '$1 ~ /^rtpproc\.so/' plugins.txt)
version=$("$RTPPROC" -V | sed -n '1s/^rtpproc //p')
[ -n "$version" ] || fail "rtpproc -V printed no version"
assert_eq "$version" "$(echo "$line" | cut -f2)" "plug-in version in tshark -G plugins"
assert_eq "dissector" "$(echo "$line" | cut -f3)" "plug-in type (4.0 labels every epan plug-in so)"
assert_no_grep "rtpproc" plugins.err

echo "== tshark -z help"
tshark_u -z help >zhelp.out 2>&1 || true
grep -qx '[[:space:]]*rtpproc' zhelp.out || fail "tshark -z help does not list rtpproc"

# 20 clean 20 ms PCMA packets in each direction; rtpgen's manifest names
# the streams (src sport dst dport 0xSSRC pt packets first_seq frames).
"$RTPGEN" -o cap.pcap -e expected --bidir --codec pcma --packets 20 --ssrc 0x12340000 >/dev/null
chmod a+r cap.pcap
assert_lines 2 expected/streams.txt
wav_name() {
    sed -n "${1}p" expected/streams.txt | awk '{ print $1 "_" $2 "-" $3 "_" $4 "-" $5 ".wav" }'
}
WAV_F=$(wav_name 1)
WAV_R=$(wav_name 2)
SSRC_F=$(sed -n 1p expected/streams.txt | awk '{ print $5 }')
SSRC_R=$(sed -n 2p expected/streams.txt | awk '{ print $5 }')

echo "== without -z rtpproc the plug-in does nothing"
mkd quiet
(cd quiet && run_expect 0 tshark_u -r ../cap.pcap -q --enable-heuristic rtp_udp)
[ ! -s "$RUN_OUT" ] || fail "tshark -q printed something without -z rtpproc: $(cat "$RUN_OUT")"
[ -z "$(ls quiet)" ] || fail "files written without -z rtpproc: $(ls quiet)"

echo "== -z rtpproc: recordings into the current directory, report on stdout"
mkd cwd
(cd cwd && run_expect 0 tshark_u -r ../cap.pcap -q --enable-heuristic rtp_udp -z rtpproc)
assert_grep "========================= RTP Streams" "$RUN_OUT"
assert_grep "$SSRC_F" "$RUN_OUT"
assert_grep "$SSRC_R" "$RUN_OUT"
assert_grep "RTP: 40 packets, 2 streams" "$RUN_OUT"
[ ! -s "$RUN_ERR" ] || fail "stderr not empty: $(cat "$RUN_ERR")"
check_wav "cwd/$WAV_F" 3200 8000 1
check_wav "cwd/$WAV_R" 3200 8000 1

echo "== live capture (tshark -i on a pipe, through dumpcap): the same recordings"
mkd live
mkfifo live/pipe
chmod 0666 live/pipe
# The writer blocks until dumpcap opens the pipe; its EOF ends the capture.
timeout 120 sh -c 'cat cap.pcap >live/pipe' &
writer=$!
(cd live && run_expect 0 timeout 120 "${AS_USER[@]}" env HOME="$T" tshark -i pipe -q \
    --enable-heuristic rtp_udp -z rtpproc,dir=.)
wait "$writer" || fail "the pipe writer failed"
assert_grep "RTP: 40 packets, 2 streams" "$RUN_OUT"
for w in "$WAV_F" "$WAV_R"; do
    cmp -s "cwd/$w" "live/$w" || fail "live/$w differs from the recording of tshark -r"
done

echo "== json=- and no-audio: JSON on stdout, the table on stderr, no files"
mkd noaudio
(cd noaudio && run_expect 0 tshark_u -r ../cap.pcap -q --enable-heuristic rtp_udp \
    -z rtpproc,no-audio,json=-)
assert_eq 2 "$(jq '.streams | length' "$RUN_OUT")" "streams in the JSON on stdout"
assert_eq "null null" "$(jq -r '[.streams[].file] | map(tostring) | join(" ")' "$RUN_OUT")" \
    "files with no-audio"
assert_eq 20 "$(jq '.streams[0].packets' "$RUN_OUT")" "packets of the first stream"
assert_grep "========================= RTP Streams" "$RUN_ERR"
[ -z "$(ls noaudio)" ] || fail "no-audio wrote files: $(ls noaudio)"

echo "PASS"
