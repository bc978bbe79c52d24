# shellcheck shell=bash
# tests/integration/netns_lib.bash - network namespaces for the live_*.sh
# tests. Source it after lib.sh. Every name carries the test's PID, so
# tests can run side by side; everything is removed on exit.
#
#   ns_need                 skip (77) unless root and `ip netns add` works
#   ns_bridge               host namespaces $NS_A and $NS_B, each with eth0
#                           (10.99.0.1/24 in A, 10.99.0.2/24 in B), whose veth
#                           peers va and vb are ports of br0 in $NS_BR (STP
#                           off, forwarding at once); all up
#   ns_veth                 one namespace $NS_V with a veth pair ltx <-> lrx
#                           (tcpreplay into ltx, capture on lrx)
#   in_ns NS CMD...         run CMD in namespace NS
#   ns_sink NS ADDR PORT... a UDP receiver on ADDR:PORT... in NS (no ICMP port
#                           unreachable back to the senders), killed on exit
#   start_probe NS OUT ERR ARGS...
#                           rtpproc ARGS in NS, stdout/stderr to OUT/ERR, in
#                           the background ($PROBE_PID); returns when it is
#                           listening (fails after 10 s)
#   stop_probe SIG          sends SIG to the probe, waits, sets $PROBE_STATUS
#   sine_wav FILE HZ SEC    an 8 kHz mono 16-bit sine (sox), the senders' source
#   send_rtp NS SRC CODEC DST_IP PORT [SSRC]
#                           ffmpeg in NS sends SRC as RTP, 20 ms packets
#                           (CODEC pcm_alaw or pcm_mulaw), in real time, in
#                           the background ($SEND_PID); SSRC: a decimal SSRC
#                           (below 2^31) instead of a random one

NS_PIDS=()
NS_LIST=()

ns_cleanup() {
    local p n
    for p in "${NS_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${NS_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    for n in "${NS_LIST[@]}"; do
        ip netns del "$n" 2>/dev/null || true
    done
}

ns_need() {
    [ "$(id -u)" = 0 ] || skip "not root"
    local probe="rplive-probe-$$"
    ip netns add "$probe" 2>/dev/null || skip "ip netns add is not allowed here"
    ip netns del "$probe"
    trap ns_cleanup EXIT
}

in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

ns_add() {
    ip netns add "$1" || fail "ip netns add $1"
    NS_LIST+=("$1")
    in_ns "$1" ip link set lo up
}

ns_bridge() {
    NS_A="rplive-a-$$"
    NS_B="rplive-b-$$"
    NS_BR="rplive-br-$$"
    ns_add "$NS_A"
    ns_add "$NS_B"
    ns_add "$NS_BR"
    ip link add va netns "$NS_BR" type veth peer name eth0 netns "$NS_A" || fail "veth A"
    ip link add vb netns "$NS_BR" type veth peer name eth0 netns "$NS_B" || fail "veth B"
    in_ns "$NS_BR" ip link add br0 type bridge stp_state 0 forward_delay 0 || fail "bridge"
    in_ns "$NS_BR" ip link set va master br0
    in_ns "$NS_BR" ip link set vb master br0
    in_ns "$NS_BR" ip link set va up
    in_ns "$NS_BR" ip link set vb up
    in_ns "$NS_BR" ip link set br0 up
    in_ns "$NS_A" ip addr add 10.99.0.1/24 dev eth0
    in_ns "$NS_B" ip addr add 10.99.0.2/24 dev eth0
    in_ns "$NS_A" ip link set eth0 up
    in_ns "$NS_B" ip link set eth0 up
    # Without STP and with no forward delay, a port forwards once it is up.
    local n=0
    until [ "$(in_ns "$NS_BR" bridge link show | grep -c 'state forwarding')" = 2 ]; do
        n=$((n + 1))
        [ $n -lt 50 ] || fail "br0's ports are not forwarding: $(in_ns "$NS_BR" bridge link show)"
        sleep 0.1
    done
}

ns_veth() {
    NS_V="rplive-v-$$"
    ns_add "$NS_V"
    in_ns "$NS_V" ip link add name ltx type veth peer name lrx || fail "veth ltx/lrx"
    in_ns "$NS_V" ip link set ltx up
    in_ns "$NS_V" ip link set lrx up
}

ns_sink() {
    local ns=$1 addr=$2
    shift 2
    need_env SRCDIR
    # `ip netns exec` execs the command: $! is the command's own PID.
    ip netns exec "$ns" perl "$SRCDIR/captures/udp-drain.pl" "$addr" "$@" >/dev/null &
    NS_PIDS+=($!)
}

start_probe() {
    local ns=$1 out=$2 err=$3
    shift 3
    ip netns exec "$ns" "$RTPPROC" "$@" >"$out" 2>"$err" &
    PROBE_PID=$!
    NS_PIDS+=("$PROBE_PID")
    local n=0
    until grep -q "listening on" "$err"; do
        n=$((n + 1))
        if [ $n -gt 100 ] || ! kill -0 "$PROBE_PID" 2>/dev/null; then
            cat "$err" >&2
            fail "rtpproc did not start listening: $*"
        fi
        sleep 0.1
    done
}

stop_probe() {
    kill -"$1" "$PROBE_PID" 2>/dev/null || true
    PROBE_STATUS=0
    wait "$PROBE_PID" || PROBE_STATUS=$?
}

sine_wav() {
    sox -n -r 8000 -c 1 -b 16 "$1" synth "$3" sine "$2" vol 0.5 || fail "sox: $1"
}

send_rtp() {
    local ns=$1 src=$2 codec=$3 ip=$4 port=$5 ssrc=()
    [ -z "${6:-}" ] || ssrc=(-ssrc "$6")
    ip netns exec "$ns" ffmpeg -nostdin -hide_banner -loglevel error -re -i "$src" -c:a "$codec" \
        -ar 8000 -ac 1 "${ssrc[@]}" -f rtp "rtp://$ip:$port?pkt_size=172" >/dev/null &
    SEND_PID=$!
    NS_PIDS+=("$SEND_PID")
}
