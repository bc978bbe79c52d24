#!/usr/bin/env bash
# integration.live_filter: the kernel filter of live capture (issue 6),
# compiled by libpcap and run over crafted frames. `rtpproc --rtp-filter -r`
# installs on a file exactly the filter -i installs on an interface (built
# for the file's link type), so the frames it lets through are counted from
# its JSON (counters.frames); tcpdump, a second libpcap program, must count
# the same frames with the expression `rtpproc -d` prints.
#   passes: RTP over IPv4, 802.1Q, QinQ (802.1ad + 802.1Q), IPv6, IPv6 in
#           802.1Q, Linux SLL2 and raw IP; SIP INVITE and responses over
#           IPv4 and IPv6 on any port (the engine learns payload types from
#           SDP); IP fragments only with --fragments (then reassembled);
#   rejected: RTCP (rtpgen --rtcp, and a crafted RR), DNS, TCP carrying an
#           RTP-like payload, ARP and rtpgen's other noise, UDP too short for
#           RTP, non-first IPv4 fragments and first fragments without
#           --fragments;
#   --ssrc narrows the RTP part to one SSRC over IPv4 and IPv6;
#   the user's expression is ANDed (and comes first, so a 'vlan 100' in it
#   applies to what follows).
# Also the option rules of live capture (errors, -d, -D).
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN WORKDIR
need_tool tcpdump text2pcap jq od xxd
setup_workdir
cd "$WORKDIR"

# passed FILE [OPTIONS...]: frames rtpproc's kernel filter lets through
passed() {
    local f=$1
    shift
    "$RTPPROC" -r "$f" --rtp-filter --no-audio -q --json - "$@" | jq -r .counters.frames
}

# check NAME WANT FILE [OPTIONS...]: rtpproc and tcpdump (with the printed
# expression for the same options) both let WANT frames of FILE through.
check() {
    local name=$1 want=$2 f=$3
    shift 3
    local got expr td
    got=$(passed "$f" "$@")
    expr=$("$RTPPROC" -d -r "$f" "$@" | sed -n 2p)
    td=$(pcap_count "$f" "$expr")
    echo "$name: $got frames pass (tcpdump: $td), expected $want"
    assert_eq "$want" "$got" "$name: frames through the kernel filter"
    assert_eq "$want" "$td" "$name: tcpdump with the printed filter"
}

# udp_frame OUT PAYLOAD_HEX IPFLAG ADDRS PORTS: one Ethernet/IP/UDP frame
# (text2pcap) whose UDP payload is PAYLOAD_HEX
udp_frame() {
    echo "$2" | xxd -r -p | od -Ax -tx1 -v >"$1.txt"
    text2pcap -q "$3" "$4" -u "$5" "$1.txt" "$1" || fail "text2pcap $1"
}
tcp_frame() {
    echo "$2" | xxd -r -p | od -Ax -tx1 -v >"$1.txt"
    text2pcap -q -4 10.0.0.1,10.0.0.2 -T "$3" "$1.txt" "$1" || fail "text2pcap $1"
}
hexof() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# A 12-byte RTP header (PT 8, SSRC 0x11223344) and 160 bytes of payload.
RTP_HEX=80080001000000a011223344$(printf 'd5%.0s' $(seq 160))

# --- RTP over the link and network layers -----------------------------------
for lt in en10mb vlan qinq sll2 raw; do
    "$RTPGEN" -o "rtp-$lt.pcap" --linktype "$lt" --packets 12 --rtcp --noise 8 --seed 3
    check "RTP $lt (+RTCP, noise)" 12 "rtp-$lt.pcap"
done
"$RTPGEN" -o rtp6.pcap --ipv6 --packets 12 --rtcp --noise 8 --seed 4
check "RTP IPv6 (+RTCP, noise)" 12 rtp6.pcap
"$RTPGEN" -o rtp6-vlan.pcap --ipv6 --linktype vlan --packets 12 --rtcp --seed 5
check "RTP IPv6 802.1Q (+RTCP)" 12 rtp6-vlan.pcap
"$RTPGEN" -o rtp6-ext.pcap --ipv6 --ip-options --packets 12
# An extension header moves UDP: the kernel filter reads plain IPv6 only
# (docs/probe.md says so).
check "RTP IPv6 with a hop-by-hop header (not captured)" 0 rtp6-ext.pcap

# --- the SSRC narrowing --------------------------------------------------------
"$RTPGEN" -o three.pcap --streams 3 --ssrc 0x11110000 --packets 10 --seed 6
check "three streams" 30 three.pcap
check "three streams, --ssrc 0x11110001" 10 three.pcap --ssrc 0x11110001
check "three streams, --ssrc 0x22220000" 0 three.pcap --ssrc 0x22220000
"$RTPGEN" -o three6.pcap --ipv6 --linktype vlan --streams 3 --ssrc 0x11110000 --packets 10
check "three IPv6 streams in 802.1Q, --ssrc 0x11110002" 10 three6.pcap --ssrc 0x11110002

# --- fragments -----------------------------------------------------------------
"$RTPGEN" -o frag.pcap --fragment 100 --packets 10 --seed 7
nfrag=$(pcap_count frag.pcap)
check "fragmented IPv4 RTP" 0 frag.pcap
check "fragmented IPv4 RTP, --fragments" "$nfrag" frag.pcap --fragments
rtp=$("$RTPPROC" -r frag.pcap --rtp-filter --fragments --no-audio -q --json - | jq -r .counters.rtp)
assert_eq 10 "$rtp" "RTP packets reassembled from the fragments --fragments lets in"
"$RTPGEN" -o frag6.pcap --ipv6 --fragment 100 --packets 10 --seed 8
nfrag=$(pcap_count frag6.pcap)
check "fragmented IPv6 RTP" 0 frag6.pcap
check "fragmented IPv6 RTP, --fragments" "$nfrag" frag6.pcap --fragments

# --- SIP, RTCP, DNS, TCP, short UDP -----------------------------------------------
udp_frame sip-invite.pcap "$(hexof "INVITE sip:b@x SIP/2.0")" -4 10.0.0.1,10.0.0.2 5060,5060
udp_frame sip-200.pcap "$(hexof "SIP/2.0 200 OK")" -4 10.0.0.2,10.0.0.1 5080,5080
udp_frame sip6-invite.pcap "$(hexof "INVITE sip:b@x SIP/2.0")" -6 2001:db8::1,2001:db8::2 5060,5062
udp_frame sip-options.pcap "$(hexof "OPTIONS sip:b@x SIP/2.0")" -4 10.0.0.1,10.0.0.2 5060,5060
check "SIP INVITE over IPv4" 1 sip-invite.pcap
check "SIP response on port 5080" 1 sip-200.pcap
check "SIP INVITE over IPv6" 1 sip6-invite.pcap
check "SIP OPTIONS (no SDP)" 0 sip-options.pcap
udp_frame rtcp-rr.pcap 81c900071122334455667788000000000000000100000000000000000000000000000000 \
    -4 10.0.0.1,10.0.0.2 4001,4001
check "RTCP receiver report" 0 rtcp-rr.pcap
udp_frame dns.pcap 123401000001000000000000076578616d706c6503636f6d0000010001 \
    -4 10.0.0.1,10.0.0.2 40000,53
check "DNS query" 0 dns.pcap
udp_frame short.pcap 8008000100000001 -4 10.0.0.1,10.0.0.2 4000,4000
check "UDP payload shorter than an RTP header" 0 short.pcap
tcp_frame tcp-rtp.pcap "$RTP_HEX" 4000,4002
check "TCP carrying an RTP-like payload" 0 tcp-rtp.pcap
udp_frame rtp-one.pcap "$RTP_HEX" -4 10.0.0.1,10.0.0.2 4000,4002
check "one crafted RTP packet" 1 rtp-one.pcap
check "crafted RTP, --ssrc 0x11223344" 1 rtp-one.pcap --ssrc 0x11223344
check "crafted RTP, --ssrc 0x11223345" 0 rtp-one.pcap --ssrc 0x11223345

# --- the user's expression ----------------------------------------------------------
check "user expression that matches" 12 rtp-en10mb.pcap "udp dst portrange 30000-30010"
check "user expression that does not" 0 rtp-en10mb.pcap "host 10.9.9.9"
check "user 'vlan 100' on 802.1Q" 12 rtp-vlan.pcap vlan 100
check "user 'vlan 101' on 802.1Q" 0 rtp-vlan.pcap vlan 101

# --- the option rules of live capture ---------------------------------------------
run_expect 1 "$RTPPROC" -r rtp-one.pcap -i lo
expect_err() {
    assert_eq "$1" "$(cat "$RUN_ERR")" "error message"
}
expect_err "rtpproc: -r and -i cannot be used together: read capture files or capture live"
for opt in "-c 5" "--duration 3" "--flush-interval 2" "-Z nobody" "-B 1024" "-s 96" "-p" \
    "--fragments"; do
    # shellcheck disable=SC2086
    run_expect 1 "$RTPPROC" -r rtp-one.pcap $opt
    expect_err "rtpproc: ${opt%% *} is for live capture: it needs -i IFACE"
done
run_expect 1 "$RTPPROC" -i lo --rtp-filter
expect_err "rtpproc: --rtp-filter is for -r: live capture always uses that filter"
run_expect 1 "$RTPPROC" -i lo -c 0
expect_err "rtpproc: invalid value '0' for -c: a whole number from 1 to 9223372036854775807 is expected"
run_expect 1 "$RTPPROC" -i lo --duration soon
expect_err "rtpproc: invalid value 'soon' for --duration: a duration such as 5, 1.5, 5s or 250ms is expected"
run_expect 1 "$RTPPROC" -i no-such-interface0
assert_grep "rtpproc: cannot capture on 'no-such-interface0': " "$RUN_ERR"
assert_lines 1 "$RUN_ERR"
run_expect 1 "$RTPPROC" -d "udp port"
assert_grep "rtpproc: invalid filter expression 'udp port': " "$RUN_ERR"
run_expect 0 "$RTPPROC" -d
assert_grep "# kernel filter for link type EN10MB (1)" "$RUN_OUT"
assert_grep "(000) ldh      [12]" "$RUN_OUT"
run_expect 0 "$RTPPROC" -D
assert_grep "lo" "$RUN_OUT"
echo "PASS live_filter"
