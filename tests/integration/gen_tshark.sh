#!/bin/bash
# integration.gen_tshark: the captures rtpgen writes are what its manifest
# (streams.txt) says, as tshark sees them. For a range of options (every link
# type, IPv4/IPv6, fragments, pcap/pcapng, loss, duplicates, wraps, gaps,
# jitter, snaplen, noise, RTCP) it checks:
#   - tshark -z rtp,streams lists exactly the manifest's streams (addresses,
#     ports, SSRC) with the same packet counts, and no other stream (RTCP and
#     noise are not taken for RTP);
#   - the first sequence number of each stream;
#   - no bad IPv4/UDP/TCP checksum, no malformed frame, no expert warning;
#   - packet and frame counts worked out by hand from the options;
#   - every expected WAV opens in soxi with the manifest's frame count.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPGEN WORKDIR SRCDIR
need_tool tshark soxi
# shellcheck source=../gen/checklib.sh
. "$SRCDIR/tests/gen/checklib.sh"

setup_workdir
cd "$WORKDIR"
failures=0

fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}

# check NAME FILE "PKTS FRAMES; PKTS FRAMES; ..." -- RTPGEN OPTIONS...
# The third argument lists, per manifest line in order, the packet count and
# WAV frame count derived by hand from the options ("" = not checked).
check() {
    local name=$1 file=$2 counts=$3
    shift 4
    "$RTPGEN" -o "$file" -e "$name" "$@" || { fail "$name: rtpgen $*"; return; }
    if ! diff <(gen_tshark_streams "$file") <(gen_manifest_streams "$name/streams.txt") \
        >"$name.table.diff"; then
        fail "$name: tshark's stream table (<) differs from streams.txt (>):"
        cat "$name.table.diff" >&2
    fi
    if ! diff <(gen_tshark_first_seq "$file") <(gen_manifest_first_seq "$name/streams.txt") \
        >"$name.seq.diff"; then
        fail "$name: first sequence numbers, tshark (<) against streams.txt (>):"
        cat "$name.seq.diff" >&2
    fi
    gen_tshark_clean "$file" || fail "$name: unclean frames"
    if [ -n "$counts" ]; then
        local got want
        got=$(awk '{ printf "%s%s %s", sep, $7, $9; sep = "; " }' "$name/streams.txt")
        want=$counts
        [ "$got" = "$want" ] || fail "$name: packets/frames per stream are '$got', want '$want'"
    fi
    while read -r line; do
        local wav frames
        wav=$name/$(gen_wav_name "$line")
        frames=$(echo "$line" | awk '{ print $9 }')
        [ -f "$wav" ] || { fail "$name: no $wav"; continue; }
        [ "$(soxi -s "$wav")" = "$frames" ] ||
            fail "$name: $wav has $(soxi -s "$wav") frames, streams.txt says $frames"
    done <"$name/streams.txt"
    echo "checked $name: $(wc -l <"$name/streams.txt") streams"
}

# 60 packets of 20 ms at 8 kHz = 9600 frames each way.
check call call.pcap "60 9600; 60 9600" -- --bidir --codec pcma --reverse-codec pcmu \
    --packets 60 --rtcp
# 200 packets, 6 lost, 3 duplicated: 197 on the wire; the last one is there: 32000.
check wrap wrap.pcap "197 32000" -- --seq-start 65500 --ts-start 0xFFFFF000 \
    --loss 3,35,36,100-102 --dup 10,34,37 --packets 200
check vlan-v6 vlan-v6.pcapng "50 8000; 50 8000" -- --linktype vlan --ipv6 --streams 2 \
    --jitter 5 --noise 20 --codec pcmu --packets 50
check qinq qinq.pcap "50 8000" -- --linktype qinq --ip-options --pad --ext --csrc 3 --packets 50
# L16 44.1 kHz, 20 ms = 882 frames per packet, over IPv6 fragments.
check sll-frag6 sll-frag6.pcap "20 17640" -- --linktype sll --ipv6 --ip-options --codec l16 \
    --fragment 600 --packets 20
# L16 22.05 kHz stereo on PT 97: 441 frames per packet, IPv4 fragments.
check sll2-frag4 sll2-frag4.pcap "20 8820" -- --linktype sll2 --codec l16:22050:2:97 \
    --fragment 576 --packets 20 --rtcp
check null-v6 null-v6.pcap "30 4800" -- --linktype null --ipv6 --noise 10 --packets 30
check loop loop.pcapng "30 4800" -- --linktype loop --noise 10 --packets 30
check raw-v6-frag raw-v6-frag.pcap "10 1600" -- --linktype raw --ipv6 --fragment 100 --packets 10
check ipv4-lossy ipv4-lossy.pcap "" -- --linktype ipv4 --loss-rate 0.2 --seed 11 --packets 100
check ipv6raw-dup ipv6raw-dup.pcap "25 3200" -- --linktype ipv6raw --codec pcmu --dup 0-4 \
    --packets 20
# The PCMA side is cut by the snaplen but still counted; PCMU (10 ms) is whole.
check snaplen snaplen.pcap "50 8000; 100 8000" -- --bidir --reverse-codec pcmu \
    --reverse-ptime 10 --snaplen 160 --packets 50
check same-ssrc same-ssrc.pcap "20 3200; 20 3200; 20 3200; 20 3200; 20 3200; 20 3200" -- \
    --streams 3 --same-ssrc --bidir --packets 20
# 30 packets + 500 ms + 40 ms of gaps: 4800 + 4000 + 320 frames.
check gap gap.pcapng "30 9120" -- --gap-after 9:500 --gap-after 19:40 --jitter 30 --packets 30
# The first three packets and the last are lost: packets 3..28 remain.
check lost-edges lost-edges.pcap "26 4160" -- --loss 0-2,29 --packets 30

# The same SSRC on three 5-tuples must stay three streams.
n=$(gen_tshark_streams same-ssrc.pcap | awk '{ print $5 }' | sort -u | wc -l)
[ "$n" = 2 ] || fail "same-ssrc: $n distinct SSRCs in tshark's table, want 2 (one per direction)"
# lost-edges: the first packet on the wire is the fourth one generated.
seq0=$("$RTPGEN" -o lost-none.pcap -e lost-none --packets 30 && awk '{ print $8 }' lost-none/streams.txt)
first=$(awk '{ print $8 }' lost-edges/streams.txt)
[ "$first" = $(((seq0 + 3) % 65536)) ] || fail "lost-edges: first seq $first, want seq0+3 ($seq0+3)"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all rtpgen captures agree with tshark"
