#!/usr/bin/env bash
# integration.plugin_rate: the plug-in's rate=HZ option ("-z rtpproc,rate=HZ")
# gives the recordings the standalone tool gives with --rate HZ (the same
# option parser and resampling sink): byte-identical WAVs for the project's
# G.711 and G.722 ffmpeg captures at 16 and 48 kHz, and the same refusals
# (rate=abc, rate=0, encoding=alaw with rate=16000) with the same messages,
# before anything is written. Skipped as the other plugin_* tests are
# (plugin_lib.bash).
set -eu
. "$(dirname "$0")/lib.sh"
need_env SRCDIR
. "$(dirname "$0")/plugin_lib.bash"

HEUR=(--enable-heuristic rtp_udp)
failures=0

bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

for cap in pcma g722; do
    for rate in 16000 48000; do
        pcap=$SRCDIR/captures/ffmpeg-$cap-lo.pcap
        mkd "pl-$cap-$rate"
        run_expect 0 tshark_u -r "$pcap" -q "${HEUR[@]}" -z "rtpproc,dir=pl-$cap-$rate,rate=$rate"
        run_expect 0 "$RTPPROC" -r "$pcap" -o "sa-$cap-$rate" -q --rate "$rate"
        n=0
        for f in "sa-$cap-$rate"/*.wav; do
            n=$((n + 1))
            p=pl-$cap-$rate/$(basename "$f")
            if [ ! -f "$p" ]; then
                bad "$cap rate=$rate: the plug-in wrote no $(basename "$f")"
            elif ! cmp -s "$f" "$p"; then
                bad "$cap rate=$rate: $(basename "$f") differs from the standalone tool's"
            else
                echo "     $cap rate=$rate: $(wav_info "$p"), identical to --rate $rate"
            fi
            check_wav "$p" "$(wav_info "$f" | sed -E 's/^frames=([0-9]+).*/\1/')" "$rate" 1
        done
        [ "$n" = 1 ] || bad "$cap --rate $rate: $n recordings, expected 1"
    done
done

mkd errs
cd errs
pcap=$SRCDIR/captures/ffmpeg-pcma-lo.pcap
for opts in "rate=abc|--rate abc" "rate=0|--rate 0" "encoding=alaw,rate=16000|--encoding alaw --rate 16000"; do
    pl=${opts%|*}
    sa=${opts#*|}
    run_expect 1 tshark_u -r "$pcap" -q "${HEUR[@]}" -z "rtpproc,$pl"
    assert_lines 1 "$RUN_ERR"
    pl_msg=$(sed 's/^tshark: rtpproc: //' "$RUN_ERR")
    # shellcheck disable=SC2086 # the options are words
    run_expect 1 "$RTPPROC" -r "$pcap" $sa
    assert_eq "$(sed 's/^rtpproc: //' "$RUN_ERR")" "$pl_msg" "the message for $pl"
    echo "     $pl: $pl_msg"
done
[ -z "$(ls)" ] || bad "files written on an option error: $(ls)"
cd ..

[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "plugin_rate: ok"
