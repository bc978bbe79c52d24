#!/usr/bin/env bash
# integration.plugin_per_direction: "-z rtpproc,per-direction" joins the SSRCs
# of one 5-tuple as the standalone tool's --per-direction does (the same
# engine): byte-identical recordings and the same file offsets for an SSRC
# change after a pause and for two SSRCs talking at once (the captures of
# per_direction.sh). Skipped as the other plugin_* tests are (plugin_lib.bash).
set -eu
. "$(dirname "$0")/lib.sh"
need_tool mergecap
. "$(dirname "$0")/plugin_lib.bash"

"$RTPGEN" -o pause.pcap --packets 200 --ssrc-change 100 --pause-after 99:1000 >/dev/null
"$RTPGEN" -o a.pcap --packets 150 --ssrc 0x11111111 --seed 3 >/dev/null
"$RTPGEN" -o b.pcap --packets 150 --ssrc 0x22222222 --seed 4 --start 1 >/dev/null
mergecap -F pcap -w both.pcap a.pcap b.pcap
for cap in pause both; do
    mkd "pl-$cap"
    run_expect 0 tshark_u -r "$cap.pcap" -q --enable-heuristic rtp_udp \
        -z "rtpproc,dir=pl-$cap,per-direction,json=pl-$cap/report.json"
    run_expect 0 "$RTPPROC" -r "$cap.pcap" -o "sa-$cap" -q --per-direction \
        --json "sa-$cap.json"
    assert_eq 1 "$(find "pl-$cap" -name '*.wav' | wc -l)" "$cap: the plug-in's recordings"
    f=$(find "sa-$cap" -name '*.wav')
    cmp -s "$f" "pl-$cap/$(basename "$f")" ||
        fail "$cap: $(basename "$f") differs from the standalone tool's"
    assert_eq "$(jq -c '[.streams[] | [.ssrc, .file_offset_frames, .overlap_ms]]' "sa-$cap.json")" \
        "$(jq -c '[.streams[] | [.ssrc, .file_offset_frames, .overlap_ms]]' "pl-$cap/report.json")" \
        "$cap: offsets and overlap"
    echo "     $cap: $(wav_info "$f"), identical; $(jq -c '[.streams[].file_offset_frames]' "sa-$cap.json")"
done
echo "plugin_per_direction: ok"
