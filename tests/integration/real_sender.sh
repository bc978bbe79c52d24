#!/usr/bin/env bash
# rtpproc on the captures of a real sender (ffmpeg sending PCMA and PCMU RTP over
# loopback, recorded with tcpdump; recipe: captures/make-real-capture.sh): one stream
# each, every packet, the recording as long as the source, sample-exact with
# Wireshark's G.711 decoder (wscheck), and SNR >= 30 dB against the source audio.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WSCHECK SRCDIR WORKDIR
need_tool sox jq
setup_workdir

src="$SRCDIR/captures/real-ffmpeg-source.wav"
for codec in pcma pcmu; do
    cap="$SRCDIR/captures/ffmpeg-$codec-lo.pcap"
    out="$WORKDIR/$codec"
    run_expect 0 "$RTPPROC" -r "$cap" -o "$out" --json "$WORKDIR/$codec.json" -q
    assert_eq 1 "$(jq '.streams | length' "$WORKDIR/$codec.json")" "$codec stream count"
    assert_eq 150 "$(jq '.streams[0].packets' "$WORKDIR/$codec.json")" "$codec packets"
    assert_eq 0 "$(jq '.streams[0].lost' "$WORKDIR/$codec.json")" "$codec lost"
    wav=$(jq -r '.streams[0].file' "$WORKDIR/$codec.json")
    check_wav "$wav" 24000 8000 1

    ws_rc=0
    "$WSCHECK" --help >/dev/null 2>&1 || ws_rc=$?
    if [ "$ws_rc" -ne 77 ]; then  # 77: built without Wireshark
        j=$(jq -r '.streams[0] | "\(.src) \(.sport) \(.dst) \(.dport) \(.ssrc)"' \
            "$WORKDIR/$codec.json")
        # shellcheck disable=SC2086
        "$WSCHECK" "$cap" "$wav" $j >"$WORKDIR/$codec.wscheck" 2>&1 ||
            { cat "$WORKDIR/$codec.wscheck" >&2; fail "$codec: wscheck"; }
    fi

    # SNR of the recording against ffmpeg's source: the difference's RMS is
    # G.711 quantisation noise only (about 38 dB below a full-scale tone).
    sig=$(sox "$src" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    err=$(sox -m -v 1 "$src" -v -1 "$wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
    snr=$(awk -v s="$sig" -v e="$err" 'BEGIN { if (e == 0) print 999; else printf "%.1f", 20 * log(s / e) / log(10) }')
    echo "$codec: SNR $snr dB"
    awk -v x="$snr" 'BEGIN { exit !(x >= 30) }' || fail "$codec: SNR $snr dB < 30 dB"
done
echo "real_sender: ok"
