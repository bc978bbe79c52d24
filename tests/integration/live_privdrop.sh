#!/usr/bin/env bash
# integration.live_privdrop: -Z USER (issue 6). rtpproc opens br0 as root,
# creates the -o directory, gives it to nobody and becomes nobody before any
# file is written: the directory, the recording, the -w and --json files are
# owned by nobody, /proc shows the process running as nobody while it
# captures, and the capture still works (a 2 s PCMU call A -> B recorded:
# length within one packet, SNR >= 30 dB). Also: -Z with a user that does
# not exist is one clear error line and exit status 1, before anything is
# created.
# Skipped (77) when not root, without netns, ffmpeg, sox, perl or the user
# nobody.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.bash"
need_env RTPPROC SNDINFO WORKDIR
need_tool ffmpeg sox perl ip jq
id nobody >/dev/null 2>&1 || skip "no user nobody"
ns_need
setup_workdir
ns_bridge
t0=$(date +%s.%N)

run_expect 1 ip netns exec "$NS_BR" "$RTPPROC" -i br0 -o "$WORKDIR/none" -Z no-such-user-rtpproc
assert_eq "rtpproc: -Z: no such user 'no-such-user-rtpproc'" "$(cat "$RUN_ERR")" "unknown -Z user"
[ ! -e "$WORKDIR/none" ] || fail "-Z with an unknown user created the -o directory"

# nobody must reach the work directory to write in its own subdirectory.
chmod 755 "$WORKDIR"
REC=$WORKDIR/rec
sine_wav "$WORKDIR/a.wav" 440 2
ns_sink "$NS_B" 10.99.0.2 5004 5005
start_probe "$NS_BR" "$WORKDIR/out.txt" "$WORKDIR/err.txt" -i br0 -o "$REC" -Z nobody \
    -w "$REC/rtp.pcap" --json "$REC/report.json"
proc_uid=$(awk '/^Uid:/ { print $2 "/" $3 "/" $4 }' "/proc/$PROBE_PID/status")
assert_eq "$(id -u nobody)/$(id -u nobody)/$(id -u nobody)" "$proc_uid" \
    "real/effective/saved uid of the capturing process"
send_rtp "$NS_A" "$WORKDIR/a.wav" pcm_mulaw 10.99.0.2 5004
wait "$SEND_PID" || fail "ffmpeg failed"
sleep 0.5
stop_probe TERM
[ "$PROBE_STATUS" = 0 ] || {
    cat "$WORKDIR/err.txt" >&2
    fail "exit status $PROBE_STATUS after SIGTERM"
}
cat "$WORKDIR/out.txt"
for f in "$REC" "$REC"/*.wav "$REC/rtp.pcap" "$REC/report.json"; do
    [ -e "$f" ] || fail "$f missing"
    owner=$(stat -c %U "$f")
    assert_eq nobody "$owner" "owner of $f"
done
f=$(ls "$REC"/10.99.0.1_*-10.99.0.2_5004-0x*.wav)
got=$(wav_info "$f" | sed -E 's/frames=([0-9]+).*/\1/')
d=$((got - 16000))
[ "${d#-}" -le 160 ] || fail "$f: $got frames, source 16000"
read -r snr lag <<<"$(wav_snr "$WORKDIR/a.wav" "$f" 5)"
echo "recording as nobody: $got frames (source 16000), SNR $snr dB at lag $lag"
awk -v s="$snr" 'BEGIN { exit !(s >= 30) }' || fail "$f: SNR $snr dB < 30"
echo "PASS live_privdrop ($(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s)"
