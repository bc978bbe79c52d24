# shellcheck shell=sh
# captures/loopback.sh - recording a real sender on loopback, shared by
# make-real-capture.sh and make-codec-captures.sh. Source it after `set -eu`
# with LO_NAME set to the script's name (for messages) and `here` to the
# directory holding it (for udp-drain.pl):
#
#   lo_init TOOL...   fail unless every TOOL is on PATH; make $tmp (removed on
#                     exit) and the trap that stops what lo_start started
#   lo_start PORT     a receiver (udp-drain.pl) draining UDP PORT and PORT+1
#                     on 127.0.0.1 (so no ICMP port-unreachable disturbs the
#                     sender) and tcpdump recording both ports on "lo"
#                     (Linux gives DLT_EN10MB) into $tmp/cap.pcap; returns
#                     when both are ready (at most 10 s)
#   lo_stop FILE      one second after the sender: SIGINT makes tcpdump flush
#                     and close the capture, which is moved to FILE; the
#                     receiver is stopped

lo_init() {
    for tool in tcpdump "$@"; do
        command -v "$tool" >/dev/null || {
            echo "$LO_NAME: $tool not found" >&2
            exit 1
        }
    done
    tmp=$(mktemp -d)
    rx_pid=
    tcpdump_pid=
    trap lo_cleanup EXIT INT TERM
}

lo_cleanup() {
    if [ -n "$tcpdump_pid" ]; then kill "$tcpdump_pid" 2>/dev/null || true; fi
    if [ -n "$rx_pid" ]; then kill "$rx_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}

lo_start() {
    lo_port=$1
    perl "$here/udp-drain.pl" 127.0.0.1 "$lo_port" $((lo_port + 1)) >"$tmp/rx.out" &
    rx_pid=$!
    tcpdump -i lo -n -U -Z "$(id -un)" -w "$tmp/cap.pcap" \
        "udp and (port $lo_port or port $((lo_port + 1)))" 2>"$tmp/tcpdump.err" &
    tcpdump_pid=$!
    lo_n=0
    until grep -q "listening on" "$tmp/tcpdump.err" && grep -q ready "$tmp/rx.out"; do
        lo_n=$((lo_n + 1))
        if [ $lo_n -gt 100 ] || ! kill -0 "$tcpdump_pid" 2>/dev/null ||
            ! kill -0 "$rx_pid" 2>/dev/null; then
            cat "$tmp/tcpdump.err" >&2
            echo "$LO_NAME: tcpdump or the receiver did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
}

lo_stop() {
    sleep 1
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" || true
    tcpdump_pid=
    kill "$rx_pid"
    wait "$rx_pid" 2>/dev/null || true
    rx_pid=
    cat "$tmp/tcpdump.err" >&2
    mv "$tmp/cap.pcap" "$1"
}
