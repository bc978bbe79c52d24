#!/usr/bin/env bash
# integration.live_load: a live probe under load (issue 6). rtpgen writes
# 100 two-way G.711 calls (200 streams, 500 packets each: 100000 packets);
# tcpreplay --topspeed sends them LOOPS times into one end of a veth pair
# in a network namespace, and `rtpproc -i` records the other end.
# Checked for every run, from rtpproc's JSON and tcpreplay's own count:
#   - the kernel's received counter (pcap_stats ps_recv, which on Linux
#     includes the packets dropped for want of buffer room) = packets sent;
#   - packets rtpproc read + kernel drops = packets sent (none unaccounted);
#   - RTP packets counted = packets sent - drops (the kernel filter passed
#     only RTP, and every packet read was RTP);
#   - 200 streams, and 200 recordings when nothing was dropped.
# Run 1 uses the default buffer (32 MiB) and prints tcpreplay's rate, the
# drops, and the rate at which rtpproc had taken every packet (its SIGUSR1
# line polled every 50 ms). Run 2 uses -B 256 (256 KiB) so the kernel must
# drop: the same accounting has to hold with drops > 0.
# Skipped (77) when not root, without netns or tcpreplay.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.bash"
need_env RTPPROC RTPGEN WORKDIR
need_tool tcpreplay ip jq bc
ns_need
setup_workdir
ns_veth
t0=$(date +%s.%N)
LOOPS=${LIVE_LOAD_LOOPS:-3}

"$RTPGEN" -o "$WORKDIR/load.pcap" --streams 100 --bidir --packets 500 --seed 9
per_loop=$(pcap_count "$WORKDIR/load.pcap")
assert_eq 100000 "$per_loop" "packets in the generated capture"

# run NAME LOOPS [RTPPROC OPTIONS...]: one replay; sets SENT, RATE, DROPS,
# TAKEN_AFTER (s from the replay's start until rtpproc had every packet)
run() {
    local name=$1 loops=$2
    shift 2
    local dir=$WORKDIR/$name
    mkdir -p "$dir"
    start_probe "$NS_V" "$dir/out.txt" "$dir/err.txt" -i lrx -o "$dir/rec" -q \
        --json "$dir/report.json" "$@"
    local ts
    ts=$(date +%s.%N)
    in_ns "$NS_V" tcpreplay --topspeed --loop="$loops" -i ltx "$WORKDIR/load.pcap" \
        >"$dir/tcpreplay.txt" 2>&1 || {
        cat "$dir/tcpreplay.txt" >&2
        fail "$name: tcpreplay failed"
    }
    SENT=$(sed -nE 's/^Actual: ([0-9]+) packets.*/\1/p' "$dir/tcpreplay.txt")
    RATE=$(sed -nE 's/^Rated: .* ([0-9.]+) pps.*/\1/p' "$dir/tcpreplay.txt")
    [ -n "$SENT" ] && [ -n "$RATE" ] || fail "$name: no counts from tcpreplay"
    assert_eq $((per_loop * loops)) "$SENT" "$name: packets tcpreplay sent"
    # Poll rtpproc's statistics until packets read + kernel drops = sent.
    local n=0 line got drops
    TAKEN_AFTER=
    while [ $n -lt 200 ]; do
        kill -USR1 "$PROBE_PID"
        sleep 0.05
        line=$(grep 'packets captured' "$dir/err.txt" | tail -n 1 || true)
        got=$(echo "$line" | sed -nE 's/.* ([0-9]+) packets captured.*/\1/p')
        drops=$(echo "$line" | sed -nE 's/.* ([0-9]+) dropped, .*/\1/p')
        if [ -n "$got" ] && [ $((got + drops)) -ge "$SENT" ]; then
            TAKEN_AFTER=$(echo "$(date +%s.%N) - $ts" | bc)
            break
        fi
        n=$((n + 1))
    done
    [ -n "$TAKEN_AFTER" ] || fail "$name: rtpproc did not account for $SENT packets within 10 s: $line"
    stop_probe INT
    [ "$PROBE_STATUS" = 0 ] || {
        cat "$dir/err.txt" >&2
        fail "$name: exit status $PROBE_STATUS after SIGINT"
    }
    local frames rtp streams recv
    read -r frames rtp streams recv DROPS <<<"$(jq -r '"\(.counters.frames) \(.counters.rtp) \(.counters.streams) \(.capture.received) \(.capture.dropped)"' "$dir/report.json")"
    echo "$name: sent $SENT at $RATE pps (tcpreplay); kernel received $recv, dropped $DROPS;" \
        "rtpproc read $frames, RTP $rtp, $streams streams; all taken ${TAKEN_AFTER} s after" \
        "the replay started ($(echo "$SENT / $TAKEN_AFTER" | bc) packets/s)"
    assert_eq "$SENT" "$recv" "$name: kernel received (ps_recv counts the drops too)"
    assert_eq "$SENT" "$((frames + DROPS))" "$name: packets read + kernel drops"
    assert_eq "$((SENT - DROPS))" "$rtp" "$name: RTP packets = sent - dropped"
    assert_eq 200 "$streams" "$name: streams"
    if [ "$DROPS" = 0 ]; then
        assert_eq 200 "$(ls "$dir/rec" | wc -l)" "$name: recordings"
    fi
    rm -rf "$dir/rec"
}

run default "$LOOPS"
run small-buffer 1 -B 256
[ "$DROPS" -gt 0 ] || fail "small-buffer: -B 256 dropped nothing at $RATE pps (cannot test the accounting of drops)"
rm -f "$WORKDIR/load.pcap"
echo "PASS live_load ($(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s)"
