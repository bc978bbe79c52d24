#!/bin/sh
# Regenerates the synthetic captures in captures/ with the project's own
# generator, rtpgen (tests/gen/rtpgen.c). The output is deterministic: the
# same rtpgen writes the same bytes, and tests/integration/gen_captures.sh
# checks that the committed files are exactly what this script produces.
#
# Usage: captures/make-captures.sh [OUTDIR [EXPECTED_ROOT]]
#   OUTDIR         where the captures go (default: the directory of this script)
#   EXPECTED_ROOT  if given, rtpgen also writes EXPECTED_ROOT/<capture name>/
#                  with the expected WAVs and streams.txt of each capture
# Environment: RTPGEN, the rtpgen binary (default: build/tests/gen/rtpgen
# under the repository root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
expected=${2:-}
rtpgen=${RTPGEN:-$here/../build/tests/gen/rtpgen}

if [ ! -x "$rtpgen" ]; then
    echo "make-captures.sh: no rtpgen at $rtpgen (build it, or set RTPGEN)" >&2
    exit 1
fi
mkdir -p "$out"

# gen FILE OPTIONS...: one capture; with EXPECTED_ROOT also its expected audio.
gen() {
    file=$1
    shift
    if [ -n "$expected" ]; then
        mkdir -p "$expected"
        "$rtpgen" -o "$out/$file" -e "$expected/${file%.*}" "$@"
    else
        "$rtpgen" -o "$out/$file" "$@"
    fi
}

# A bidirectional G.711 call: PCMA one way, PCMU the other, 8 s of 20 ms
# packets with RTCP, on Ethernet. The README quick-start demo.
gen call-g711.pcap --bidir --codec pcma --reverse-codec pcmu --ptime 20 --packets 400 \
    --rtcp --seed 1

# PCMA with losses (among them a run of three), duplicates, a sequence wrap
# (65535 -> 0 at packets 35/36, the 0 duplicated) and a timestamp wrap
# (2^32 -> 0 between packets 25 and 26).
gen loss-dup-wrap.pcap --codec pcma --packets 250 --seq-start 65500 --ts-start 0xFFFFF000 \
    --loss 10,33,34,120-122,200 --dup 20,36,150 --seed 2

# Two IPv6 calls (four PCMU streams) behind 802.1ad + 802.1Q tags, in pcapng
# with nanosecond timestamps, arrival jitter, RTCP and non-RTP noise.
gen vlan-ipv6.pcapng --linktype qinq --ipv6 --streams 2 --bidir --codec pcmu --packets 100 \
    --jitter 3 --rtcp --noise 12 --seed 3

# Linux cooked v2 capture of L16 (PT 11, 44100 Hz mono): every 20 ms packet
# (1764 bytes of payload) is split into two IPv4 fragments.
gen sll2-fragments.pcap --linktype sll2 --codec l16 --ptime 20 --packets 50 --fragment 1500 \
    --noise 6 --seed 4

# Snaplen 160: the PCMA direction (20 ms, 214-byte frames) is cut inside the
# payload, the PCMU direction (10 ms, 134-byte frames) is whole. The cut
# packets still count; their audio is silence in the expected WAV.
gen truncated-snaplen.pcap --bidir --codec pcma --reverse-codec pcmu --reverse-ptime 10 \
    --packets 100 --snaplen 160 --seed 5

# RTP header extension (RFC 8285), padding, two CSRCs and an IPv4 Router
# Alert option, on Linux cooked v1.
gen ext-pad-csrc.pcap --linktype sll --codec pcmu --packets 100 --ext --pad --csrc 2 \
    --ip-options --seed 6

# Two 5-tuples with the same SSRC (two streams, not one), 802.1Q-tagged, with
# RTCP and 40 noise frames (UDP, TCP, ARP).
gen same-ssrc-noise.pcap --linktype vlan --streams 2 --same-ssrc --packets 100 --rtcp \
    --noise 40 --seed 7

# BSD loopback (DLT_NULL): a 2 s talk-spurt gap (timestamps and arrival jump
# together, marker bit after it) with 8 ms of arrival jitter.
gen gap-jitter-null.pcap --linktype null --codec pcma --packets 150 --gap-after 50:2000 \
    --jitter 8 --seed 8

# Raw IPv6 (LINKTYPE_IPV6) with a hop-by-hop header: L16 16 kHz stereo on a
# dynamic payload type (96), each packet in three IPv6 fragments.
gen ipv6-fragments-raw.pcapng --linktype ipv6raw --ip-options --codec l16:16000:2:96 \
    --packets 30 --fragment 1280 --seed 9
