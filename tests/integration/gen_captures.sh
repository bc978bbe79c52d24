#!/bin/bash
# integration.gen_captures: the synthetic captures committed in captures/ are
# exactly what captures/make-captures.sh makes with this build's rtpgen (byte
# for byte), each is under 200 KB, and for each one tshark's RTP stream table,
# first sequence numbers and checksums agree with the regenerated manifest and
# the regenerated expected WAVs equal the audio rebuilt from the committed
# file. The byte comparison runs without tshark; the rest needs tshark and sox
# (exit 77 if they are missing and the comparison passed).
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPGEN WORKDIR SRCDIR
# shellcheck source=../gen/checklib.sh
. "$SRCDIR/tests/gen/checklib.sh"

setup_workdir
cd "$WORKDIR"
failures=0
fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}

RTPGEN=$RTPGEN sh "$SRCDIR/captures/make-captures.sh" "$WORKDIR/captures" "$WORKDIR/expected"

# Every file the recipe makes is committed, unchanged; no committed synthetic
# capture lacks its recipe line.
made=$(cd captures && ls)
[ -n "$made" ] || fail "make-captures.sh made nothing"
for f in $made; do
    if [ ! -f "$SRCDIR/captures/$f" ]; then
        fail "captures/$f is made by make-captures.sh but not committed"
    elif ! cmp -s "captures/$f" "$SRCDIR/captures/$f"; then
        fail "captures/$f differs from what make-captures.sh makes now"
    fi
    size=$(wc -c <"captures/$f")
    [ "$size" -lt 204800 ] || fail "captures/$f is $size bytes, over 200 KB"
done
for f in "$SRCDIR"/captures/*.pcap "$SRCDIR"/captures/*.pcapng; do
    base=$(basename "$f")
    case $base in ffmpeg-*) continue ;; esac # real sender, make-real-capture.sh
    [ -f "captures/$base" ] || fail "captures/$base is committed but make-captures.sh does not make it"
done
# The quick-start and other named captures the documentation relies on.
for f in call-g711.pcap loss-dup-wrap.pcap vlan-ipv6.pcapng sll2-fragments.pcap \
    truncated-snaplen.pcap; do
    [ -f "$SRCDIR/captures/$f" ] || fail "captures/$f is missing"
done

if ! command -v tshark >/dev/null || ! command -v sox >/dev/null; then
    [ "$failures" -eq 0 ] || exit 1
    echo "tshark or sox not found: stream checks skipped"
    exit 77
fi

for f in $made; do
    name=${f%.*}
    cap=$SRCDIR/captures/$f
    dir=expected/$name
    if ! diff <(gen_tshark_streams "$cap") <(gen_manifest_streams "$dir/streams.txt") \
        >"$name.diff"; then
        fail "$f: tshark's stream table (<) differs from the manifest (>):"
        cat "$name.diff" >&2
    fi
    diff <(gen_tshark_first_seq "$cap") <(gen_manifest_first_seq "$dir/streams.txt") \
        >/dev/null || fail "$f: first sequence numbers differ from the manifest"
    gen_tshark_clean "$cap" || fail "$f: unclean frames"
    # ipv6-fragments-raw carries L16 16 kHz stereo on PT 96.
    gen_check_audio "$cap" "$dir" 2 16000 || fail "$f: expected audio differs"
    echo "checked captures/$f: $(wc -l <"$dir/streams.txt") streams"
done

# What the README promises about the quick-start capture.
[ "$(awk '{ print $6 }' expected/call-g711/streams.txt | sort | tr '\n' ' ')" = "0 8 " ] ||
    fail "call-g711.pcap is not one PCMA and one PCMU stream"
case $(tshark -r "$SRCDIR/captures/vlan-ipv6.pcapng" -c 1 -T fields -e frame.protocols 2>/dev/null) in
eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ipv6:udp*) ;;
*) fail "vlan-ipv6.pcapng does not start with a QinQ-tagged IPv6 UDP frame" ;;
esac

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "committed captures are reproducible and agree with tshark"
