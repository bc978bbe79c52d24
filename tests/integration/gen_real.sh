#!/bin/bash
# integration.gen_real: the committed real-sender captures (ffmpeg over
# loopback, recorded by tcpdump with captures/make-real-capture.sh) hold what
# the recipe says: on Ethernet (Linux "lo"), one RTP stream each to
# 127.0.0.1:41000 (PCMA, PT 8) and 127.0.0.1:41010 (PCMU, PT 0), 150 packets
# of 20 ms without loss, an RTCP sender report from the same SSRC on port+1,
# and payload audio that is captures/real-ffmpeg-source.wav (8 kHz mono 16-bit,
# 3 s) as G.711 carries it: decoded by sox, every sample within the G.711
# quantisation step of the source (max(32, |x|/8)), starting at sample 0. A
# one-sample shift of the source must fail that comparison.
set -eu
. "$(dirname "$0")/lib.sh"
need_env WORKDIR SRCDIR
need_tool tshark sox soxi perl
# shellcheck source=../gen/checklib.sh
. "$SRCDIR/tests/gen/checklib.sh"

setup_workdir
cd "$WORKDIR"
failures=0
fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}

src=$SRCDIR/captures/real-ffmpeg-source.wav
[ "$(soxi -r "$src") $(soxi -c "$src") $(soxi -b "$src") $(soxi -s "$src")" = "8000 1 16 24000" ] ||
    fail "real-ffmpeg-source.wav is not 8000 Hz mono 16-bit, 24000 frames"
sox -D "$src" -t raw -e signed -b 16 -L source.raw

# within_step DECODED.raw SOURCE.raw SHIFT: prints the count of samples off by
# more than the G.711 step, comparing decoded[i] with source[i + SHIFT].
within_step() {
    perl -e '
        my ($a, $b, $sh) = @ARGV; local $/;
        open(my $A, "<", $a) or die; binmode $A; my @d = unpack("s<*", <$A>);
        open(my $B, "<", $b) or die; binmode $B; my @s = unpack("s<*", <$B>);
        my $bad = @d == @s ? 0 : abs(@d - @s);
        for my $i (0 .. $#d) {
            my $x = $s[$i + $sh] // 0; my $lim = abs($x) / 8; $lim = 32 if $lim < 32;
            $bad++ if abs($d[$i] - $x) > $lim;
        }
        print "$bad\n";' "$1" "$2" "$3"
}

for spec in pcma:41000:8:g711A:a-law pcmu:41010:0:g711U:u-law; do
    IFS=: read -r name port pt ptname enc <<<"$spec"
    cap=$SRCDIR/captures/ffmpeg-$name-lo.pcap
    [ -f "$cap" ] || { fail "$cap missing"; continue; }
    case $(tshark -r "$cap" -c 1 -T fields -e frame.protocols 2>/dev/null) in
    eth:ethertype:ip:udp*) ;;
    *) fail "$name: not Ethernet/IPv4/UDP" ;;
    esac
    table=$(tshark -r "$cap" -q --enable-heuristic rtp_udp -z rtp,streams 2>/dev/null |
        awk '$7 ~ /^0x/')
    [ "$(echo "$table" | wc -l)" = 1 ] || fail "$name: want exactly one RTP stream, got: $table"
    read -r _ _ s_addr _ d_addr d_port ssrc payload pkts lost _ <<<"$table"
    [ "$s_addr $d_addr $d_port $payload $pkts $lost" = "127.0.0.1 127.0.0.1 $port $ptname 150 0" ] ||
        fail "$name: stream is '$table'"
    tshark -r "$cap" --enable-heuristic rtp_udp -Y rtp -T fields -e rtp.p_type -e rtp.seq \
        -e rtp.timestamp -e rtp.payload 2>/dev/null >rtp.txt
    awk -v pt="$pt" 'NR > 1 && (($2 - s + 65536) % 65536 != 1 || ($3 - t + 4294967296) % 4294967296 != 160) { bad++ }
                     $1 != pt || length($4) != 320 { bad++ }
                     { s = $2; t = $3 } END { exit bad > 0 }' rtp.txt ||
        fail "$name: packets are not consecutive 20 ms PT $pt packets of 160 bytes"
    sr=$(tshark -r "$cap" -d "udp.port==$((port + 1)),rtcp" -Y 'rtcp.pt == 200' -T fields \
        -e rtcp.senderssrc 2>/dev/null | head -n 1)
    [ -n "$sr" ] && [ $((sr)) = $((ssrc)) ] || fail "$name: no RTCP SR from SSRC $ssrc (got '$sr')"
    awk '{ print $4 }' rtp.txt | perl -ne 'chomp; print pack("H*", $_)' >payload.raw
    sox -D -t raw -e "$enc" -b 8 -c 1 -r 8000 payload.raw -t raw -e signed -b 16 -L decoded.raw
    off=$(within_step decoded.raw source.raw 0)
    [ "$off" = 0 ] || fail "$name: $off samples differ from the source by more than a G.711 step"
    shifted=$(within_step decoded.raw source.raw 1)
    [ "$shifted" -gt 1000 ] || fail "$name: a one-sample shift went unnoticed ($shifted samples off)"
    echo "checked ffmpeg-$name-lo.pcap: SSRC $ssrc, $pkts packets"
done

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "real-sender captures hold the source audio"
