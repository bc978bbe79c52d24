#!/usr/bin/env bash
# integration.live_signals: a live probe stopped in the middle of a call
# (issue 6). A sends a 6 s sine to B as PCMA through br0 (netns_lib.bash);
# two probes record it on br0 side by side:
#   - the first gets SIGINT about 3 s into the call: exit status 0, the report
#     (table with its footer and "Capture:" line, JSON with "capture") is
#     printed, the recording is final (libsndfile reads as many frames as the
#     report says) and holds the audio sent until the signal: between
#     elapsed - 0.6 s and elapsed + 0.1 s, elapsed counted from the sender's
#     start;
#   - the second gets kill -9 about 4 s into the call (--flush-interval 1, the
#     default): its recording opens in libsndfile and sox and holds at least
#     elapsed - 1.5 s of audio, and that audio is the source's (SNR >= 30 dB).
# Two more probes on the same call stop by themselves: -c 50 after 50 packets
# and --duration 2 after 2 s, both with their report and exit status 0.
# Skipped (77) when not root, without netns, ffmpeg, sox or perl.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.bash"
need_env RTPPROC SNDINFO WORKDIR
need_tool ffmpeg sox soxi perl ip jq bc
ns_need
setup_workdir
ns_bridge
t0=$(date +%s.%N)

sine_wav "$WORKDIR/a.wav" 440 6
ns_sink "$NS_B" 10.99.0.2 5004 5005
start_probe "$NS_BR" "$WORKDIR/int.out" "$WORKDIR/int.err" -i br0 -o "$WORKDIR/int" \
    --json "$WORKDIR/int.json"
int_pid=$PROBE_PID
start_probe "$NS_BR" "$WORKDIR/kill.out" "$WORKDIR/kill.err" -i br0 -o "$WORKDIR/kill"
kill_pid=$PROBE_PID

# -c 50 and --duration 2 end by themselves, with the report and status 0.
start_probe "$NS_BR" "$WORKDIR/count.out" "$WORKDIR/count.err" -i br0 -o "$WORKDIR/count" -c 50
count_pid=$PROBE_PID
# Taken before the probe starts: rtpproc's 2 s count from its own start,
# which start_probe only sees up to 0.1 s (and a busy machine) later.
t_dur=$(date +%s.%N)
start_probe "$NS_BR" "$WORKDIR/dur.out" "$WORKDIR/dur.err" -i br0 -o "$WORKDIR/dur" --duration 2
dur_pid=$PROBE_PID

t_send=$(date +%s.%N)
send_rtp "$NS_A" "$WORKDIR/a.wav" pcm_alaw 10.99.0.2 5004
sleep 3
t_int=$(date +%s.%N)
kill -INT "$int_pid"
status=0
wait "$int_pid" || status=$?
sleep 1
t_kill=$(date +%s.%N)
kill -KILL "$kill_pid"
wait "$kill_pid" 2>/dev/null || true

status=0
wait "$count_pid" || status=$?
assert_eq 0 "$status" "exit status after -c 50"
assert_grep "Frames: 50 read" "$WORKDIR/count.out"
assert_grep "RTP: 50 packets" "$WORKDIR/count.out"
status=0
wait "$dur_pid" || status=$?
# The report is written when it stops: the file's time is the end.
t_dur_end=$(stat -c %.9Y "$WORKDIR/dur.out")
assert_eq 0 "$status" "exit status after --duration 2"
assert_grep "Capture: " "$WORKDIR/dur.out"
dur=$(echo "$t_dur_end - $t_dur" | bc)
echo "--duration 2 ended after $dur s"
awk -v d="$dur" 'BEGIN { exit !(d >= 2 && d <= 5) }' || fail "--duration 2 took $dur s"

frames_of() {
    wav_info "$1" | sed -E 's/frames=([0-9]+).*/\1/'
}

# SIGINT
[ "$status" = 0 ] || {
    cat "$WORKDIR/int.err" >&2
    fail "exit status $status after SIGINT, expected 0"
}
cat "$WORKDIR/int.out"
assert_grep "RTP Streams" "$WORKDIR/int.out"
assert_grep "Capture: " "$WORKDIR/int.out"
jq -e '.capture.received > 0 and (.streams | length) == 1' "$WORKDIR/int.json" >/dev/null ||
    fail "int.json: no capture counters or not one stream"
f=$(ls "$WORKDIR"/int/*.wav)
got=$(frames_of "$f")
want=$(jq -r '.streams[0].frames' "$WORKDIR/int.json")
assert_eq "$want" "$got" "frames of the recording after SIGINT (JSON against libsndfile)"
elapsed=$(echo "$t_int - $t_send" | bc)
held=$(echo "scale=3; $got / 8000" | bc)
echo "SIGINT ${elapsed} s after the sender started: ${held} s recorded"
awk -v h="$held" -v e="$elapsed" 'BEGIN { exit !(h >= e - 0.6 && h <= e + 0.1) }' ||
    fail "SIGINT: $held s recorded, $elapsed s elapsed"

# kill -9
f=$(ls "$WORKDIR"/kill/*.wav) || fail "no recording after kill -9"
got=$(frames_of "$f")
soxi "$f" >/dev/null || fail "sox cannot open $f after kill -9"
elapsed=$(echo "$t_kill - $t_send" | bc)
held=$(echo "scale=3; $got / 8000" | bc)
echo "kill -9 ${elapsed} s after the sender started: ${held} s in the file"
awk -v h="$held" -v e="$elapsed" 'BEGIN { exit !(h >= e - 1.5) }' ||
    fail "kill -9: $held s in the file, $elapsed s elapsed (at most 1.5 s may be missing)"
read -r snr lag <<<"$(wav_snr "$WORKDIR/a.wav" "$f" 5)"
echo "kill -9 recording against the source: SNR $snr dB at lag $lag"
awk -v s="$snr" 'BEGIN { exit !(s >= 30) }' || fail "$f: SNR $snr dB < 30"
echo "PASS live_signals ($(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s)"
