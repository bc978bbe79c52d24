#!/bin/bash
# integration.gen_rtpgen: rtpgen's command line and file formats.
#   - --help documents every option; bad option values are refused (exit != 0)
#     and write no capture;
#   - the same command line writes the same bytes, another --seed other bytes;
#   - pcap and pcapng of the same command carry the same frames and times;
#   - --start puts the first packet at 2024-01-01T00:00:00Z + START, with
#     nanoseconds kept in pcapng and microseconds in pcap;
#   - every --linktype gives the link layer tshark expects;
#   - --snaplen gives caplen < len; IPv6 WAV names use '-' for ':'.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPGEN WORKDIR
need_tool tshark

setup_workdir
cd "$WORKDIR"
failures=0
fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}

help=$("$RTPGEN" --help)
for opt in --output --expected --format --linktype --snaplen --start --streams --bidir --ssrc \
    --same-ssrc --codec --reverse-codec --ptime --reverse-ptime --packets --seq-start \
    --ts-start --seed --loss --loss-rate --dup --gap-after --jitter --pad --ext --csrc --ipv6 \
    --ip-options --fragment --rtcp --noise; do
    grep -q -- "$opt" <<<"$help" || fail "--help does not mention $opt"
done

# refused "OPTIONS": must exit non-zero without writing the capture.
refused() {
    rm -f bad.pcap
    # shellcheck disable=SC2086
    if "$RTPGEN" -o bad.pcap $1 2>/dev/null; then
        fail "rtpgen accepted: $1"
    fi
    [ ! -e bad.pcap ] || fail "rtpgen wrote a capture for: $1"
}
refused "--codec g729"
refused "--codec l16 --ptime 7"  # 7 ms is 308.7 samples at 44100 Hz
refused "--gap-after 3:1 --codec l16"
refused "--linktype ipv4 --ipv6"
refused "--linktype token-ring"
refused "--snaplen 100 --fragment 576"
refused "--same-ssrc"
refused "--streams 0"
refused "--csrc 16"
refused "--loss-rate 1.5"
refused "--loss 5-3"
refused "--seq-start 65536"
refused "--fragment 40"
refused "stray-argument"
if "$RTPGEN" --packets 5 2>/dev/null; then fail "rtpgen ran without -o"; fi

opts="--bidir --streams 2 --noise 20 --rtcp --jitter 7 --loss-rate 0.1 --packets 80"
# shellcheck disable=SC2086
{
    "$RTPGEN" -o a.pcap $opts
    "$RTPGEN" -o b.pcap $opts
    "$RTPGEN" -o c.pcap $opts --seed 2
    "$RTPGEN" -o d.pcapng $opts
}
cmp -s a.pcap b.pcap || fail "the same command line wrote different captures"
! cmp -s a.pcap c.pcap || fail "--seed 2 wrote the same capture as --seed 1"
fields="-T fields -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.protocols"
# shellcheck disable=SC2086
if ! diff <(tshark -r a.pcap $fields 2>/dev/null) <(tshark -r d.pcapng $fields 2>/dev/null) \
    >/dev/null; then
    fail "pcap and pcapng of the same command differ"
fi
[ "$(capinfos -t d.pcapng 2>/dev/null | awk -F': *' '/File type/ { print $2 }')" = \
    "Wireshark/... - pcapng" ] || fail "d.pcapng is not pcapng"

first_time() {
    tshark -r "$1" -c 1 -T fields -e frame.time_epoch 2>/dev/null
}
"$RTPGEN" -o s.pcap --start 12.5 --packets 2
[ "$(first_time s.pcap)" = 1704067212.500000000 ] || fail "--start 12.5: $(first_time s.pcap)"
"$RTPGEN" -o ns.pcapng --start 0.000000123 --packets 2
[ "$(first_time ns.pcapng)" = 1704067200.000000123 ] || fail "pcapng ns: $(first_time ns.pcapng)"
"$RTPGEN" -o us.pcap --start 0.000001999 --packets 2
[ "$(first_time us.pcap)" = 1704067200.000001000 ] || fail "pcap us: $(first_time us.pcap)"

for spec in en10mb:eth:ethertype:ip:udp vlan:eth:ethertype:vlan:ethertype:ip:udp \
    qinq:eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp sll:sll:ethertype:ip:udp \
    sll2:sll:ethertype:ip:udp null:null:ip:udp loop:null:ip:udp raw:raw:ip:udp ipv4:ip:udp \
    ipv6raw:ipv6:udp; do
    lt=${spec%%:*}
    want=${spec#*:}
    "$RTPGEN" -o "lt-$lt.pcap" --linktype "$lt" --packets 2
    got=$(tshark -r "lt-$lt.pcap" -c 1 -T fields -e frame.protocols 2>/dev/null)
    case $got in
    "$want" | "$want":*) ;;
    *) fail "--linktype $lt: tshark sees $got" ;;
    esac
done
encap() {
    capinfos -E "$1" 2>/dev/null | awk -F': *' '/encapsulation/ { print $2 }'
}
[ "$(encap lt-sll2.pcap)" = "Linux cooked-mode capture v2" ] || fail "sll2: $(encap lt-sll2.pcap)"
[ "$(encap lt-sll.pcap)" = "Linux cooked-mode capture v1" ] || fail "sll: $(encap lt-sll.pcap)"
[ "$(encap lt-loop.pcap)" = "OpenBSD loopback" ] || fail "loop: $(encap lt-loop.pcap)"
"$RTPGEN" -o v6null.pcap --linktype null --ipv6 --packets 2
case $(tshark -r v6null.pcap -c 1 -T fields -e frame.protocols 2>/dev/null) in
null:ipv6:udp*) ;;
*) fail "IPv6 on DLT_NULL is not recognised" ;;
esac

"$RTPGEN" -o snap.pcap --snaplen 100 --packets 3
[ "$(tshark -r snap.pcap -T fields -e frame.cap_len -e frame.len 2>/dev/null | sort -u)" = \
    "$(printf '100\t214')" ] || fail "--snaplen 100 did not give caplen 100 < len 214"

"$RTPGEN" -o v6.pcap -e v6 --ipv6 --packets 3 --ssrc 0x0000abcd
[ -f "v6/2001-db8-0-1--a_16384-2001-db8-0-2--a_30000-0x0000ABCD.wav" ] ||
    fail "IPv6 expected WAV not named as rtpproc names recordings: $(ls v6)"
[ "$(cat v6/streams.txt)" = "2001:db8:0:1::a 16384 2001:db8:0:2::a 30000 0x0000ABCD 8 3 $(
    awk '{ print $8 }' v6/streams.txt) 480" ] || fail "v6 manifest: $(cat v6/streams.txt)"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "rtpgen command line and formats behave as documented"
