#!/usr/bin/env bash
# integration.live_bridge: the seed use case (issue 6). Hosts A and B (network
# namespaces) talk through a transparent bridge br0 in a third namespace;
# `rtpproc -i br0` there records the call without touching A or B.
#
# A sends a 3 s 440 Hz sine as PCMA to B while B sends a 700 Hz sine as PCMU
# to A, both with ffmpeg's RTP muxer in real time (20 ms packets, RTCP to
# port+1). rtpproc runs with --timeout 2, -w and --json. Checked:
#   - idle timeout without traffic: within 3.5 s of the senders' end both
#     streams' report lines are out and their recordings final (libsndfile
#     reads the frames the line reports) while rtpproc keeps running; the -w
#     file is readable (flushed) by then;
#   - SIGUSR1 prints one line of statistics and rtpproc goes on;
#   - SIGINT: exit status 0, the footer with the "Capture:" kernel counters,
#     JSON with "capture" (received = frames read, nothing dropped);
#   - each recording against its source: length within one packet (160
#     frames) and SNR >= 30 dB (lib.sh wav_snr, aligned), the right source
#     in the right file (A->B is 440 Hz, B->A 700 Hz);
#   - the kernel filter keeps RTCP, ARP and ICMP out: no frame that is not
#     RTP reaches rtpproc ("0 not RTP", decoder frames = RTP packets);
#   - a second probe with --ssrc (B's SSRC, set with ffmpeg -ssrc) and -w:
#     the kernel received that stream's packets only, all in its -w file.
# Skipped (77) when not root, without netns, ffmpeg, sox or perl.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.bash"
need_env RTPPROC SNDINFO WORKDIR
need_tool ffmpeg sox perl ip jq tcpdump
ns_need
setup_workdir
ns_bridge
t_start=$(date +%s.%N)

sine_wav "$WORKDIR/a.wav" 440 3
sine_wav "$WORKDIR/b.wav" 700 3
ns_sink "$NS_B" 10.99.0.2 5004 5005
ns_sink "$NS_A" 10.99.0.1 5006 5007
REC=$WORKDIR/rec
# A second probe keeps one SSRC (B's, 0x0A0B0C0D): its -w file holds that
# stream's packets and nothing else, its report that stream alone.
start_probe "$NS_BR" "$WORKDIR/one.txt" "$WORKDIR/one.err" -i br0 --no-audio \
    --ssrc 0x0A0B0C0D -w "$WORKDIR/one.pcap"
one_pid=$PROBE_PID
start_probe "$NS_BR" "$WORKDIR/out.txt" "$WORKDIR/err.txt" -i br0 -o "$REC" --timeout 2 \
    --json "$WORKDIR/report.json" -w "$WORKDIR/rtp.pcap"

send_rtp "$NS_A" "$WORKDIR/a.wav" pcm_alaw 10.99.0.2 5004
pa=$SEND_PID
send_rtp "$NS_B" "$WORKDIR/b.wav" pcm_mulaw 10.99.0.1 5006 168496141
pb=$SEND_PID
sleep 1.5
kill -USR1 "$PROBE_PID"
wait "$pa" || fail "ffmpeg A failed"
wait "$pb" || fail "ffmpeg B failed"
t_end=$(date +%s.%N)

# Idle timeout: both lines within 2 s (timeout) + 1.5 s (ticks, packet-buffer
# timeout, ffmpeg's last packet) of the senders' end.
n=0
until [ "$(grep -c ' 10\.99\.0\.' "$WORKDIR/out.txt" || true)" -ge 2 ]; do
    n=$((n + 1))
    [ $n -le 35 ] || {
        cat "$WORKDIR/out.txt" "$WORKDIR/err.txt" >&2
        fail "streams not closed 3.5 s after the senders stopped (--timeout 2)"
    }
    sleep 0.1
done
t_closed=$(date +%s.%N)
kill -0 "$PROBE_PID" 2>/dev/null || fail "rtpproc ended after the idle timeout"
closed_after=$(echo "$t_closed - $t_end" | bc)
echo "streams closed ${closed_after} s after the senders ended (--timeout 2)"
# Closed files while running: libsndfile reads them complete (compared with
# the JSON's frames after the stop).
[ "$(ls "$REC"/*.wav | wc -l)" = 2 ] || fail "expected 2 recordings, got: $(ls "$REC")"
for f in "$REC"/*.wav; do
    echo "$f $(wav_info "$f")" >>"$WORKDIR/running.txt"
done
running_pkts=$(pcap_count "$WORKDIR/rtp.pcap")
[ "$running_pkts" -ge 290 ] || fail "-w file holds $running_pkts packets while running (flush)"
assert_grep "streams open" "$WORKDIR/err.txt"

stop_probe INT
[ "$PROBE_STATUS" = 0 ] || {
    cat "$WORKDIR/err.txt" >&2
    fail "rtpproc exit status $PROBE_STATUS after SIGINT"
}
cat "$WORKDIR/err.txt"
cat "$WORKDIR/out.txt"
assert_grep "Capture: " "$WORKDIR/out.txt"
assert_grep " 0 not RTP" "$WORKDIR/out.txt"
jq -e . "$WORKDIR/report.json" >/dev/null || fail "report.json is not JSON"
read -r nstreams rtp frames recv dropped <<<"$(jq -r '"\(.streams|length) \(.counters.rtp) \(.counters.frames) \(.capture.received) \(.capture.dropped)"' "$WORKDIR/report.json")"
assert_eq 2 "$nstreams" "streams in the JSON"
assert_eq "$frames" "$rtp" "frames read = RTP packets (the kernel filter passes nothing else)"
assert_eq "$frames" "$recv" "kernel received = frames read"
assert_eq 0 "$dropped" "kernel drops"
[ "$rtp" -ge 290 ] || fail "only $rtp RTP packets"
assert_eq "$rtp" "$(pcap_count "$WORKDIR/rtp.pcap")" "-w packets"
while read -r f info; do
    want=$(jq -r --arg f "$f" '.streams[] | select(.file == $f) | .frames' "$WORKDIR/report.json")
    assert_eq "frames=$want" "${info%% *}" "$f read while rtpproc was running"
done <"$WORKDIR/running.txt"

# check_dir SRC_IP DPORT REF: the recording of one direction against its source
check_dir() {
    local f
    f=$(ls "$REC"/"$1"_*-*_"$2"-0x*.wav) || fail "no recording for $1 -> port $2"
    local got ref
    got=$(wav_info "$f" | sed -E 's/frames=([0-9]+).*/\1/')
    ref=$(wav_info "$3" | sed -E 's/frames=([0-9]+).*/\1/')
    local d=$((got - ref))
    [ "${d#-}" -le 160 ] || fail "$f: $got frames, source $ref (more than one packet apart)"
    local snr lag
    read -r snr lag <<<"$(wav_snr "$3" "$f" 5)"
    echo "$1 -> :$2: $got frames (source $ref), SNR $snr dB at lag $lag"
    awk -v s="$snr" 'BEGIN { exit !(s >= 30) }' || fail "$f: SNR $snr dB < 30"
}
kill -TERM "$one_pid"
status=0
wait "$one_pid" || status=$?
assert_eq 0 "$status" "exit status of the --ssrc probe after SIGTERM"
one=$(pcap_count "$WORKDIR/one.pcap")
assert_eq "$one" "$(pcap_count "$WORKDIR/one.pcap" "udp[16:4] = 0x0A0B0C0D")" \
    "-w --ssrc 0x0A0B0C0D: packets of other SSRCs"
assert_eq "$one" "$(pcap_count "$WORKDIR/rtp.pcap" "udp[16:4] = 0x0A0B0C0D")" \
    "-w --ssrc 0x0A0B0C0D: packets of that SSRC"
assert_eq 1 "$(grep -c '0x0A0B0C0D' "$WORKDIR/one.txt")" "--ssrc probe: report lines"
assert_grep "Capture: $one received" "$WORKDIR/one.txt"
echo "--ssrc 0x0A0B0C0D probe: $one packets in its -w file, all of that SSRC"

check_dir 10.99.0.1 5004 "$WORKDIR/a.wav"
check_dir 10.99.0.2 5006 "$WORKDIR/b.wav"
echo "PASS live_bridge ($(echo "$(date +%s.%N) - $t_start" | bc | cut -c1-5) s)"
