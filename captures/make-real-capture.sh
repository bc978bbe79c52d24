#!/bin/sh
# Records a real RTP sender: ffmpeg streams a 3 s, 440 Hz sine (8 kHz mono,
# 20 ms packets) as PCMA and then as PCMU to 127.0.0.1, and tcpdump records
# the loopback interface (Linux gives DLT_EN10MB for "lo"). ffmpeg also sends
# RTCP sender reports to port+1; they are recorded too.
#
# Writes into OUTDIR (default: the directory of this script):
#   real-ffmpeg-source.wav  the sine ffmpeg sends, 8000 Hz mono 16-bit PCM
#                           (same lavfi graph, rendered to a file)
#   ffmpeg-pcma-lo.pcap     PT 8 stream + RTCP, ports RTP_PORT_PCMA(/+1)
#   ffmpeg-pcmu-lo.pcap     PT 0 stream + RTCP, ports RTP_PORT_PCMU(/+1)
#
# Usage: captures/make-real-capture.sh [OUTDIR]
# Needs root (or CAP_NET_RAW) for tcpdump, plus ffmpeg and perl. A small perl
# receiver listens on the ports so that no ICMP port-unreachable errors
# disturb the sender. The captures differ on every run (SSRC, sequence and
# timestamp bases, and packet times are the sender's and the clock's own).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
port_a=${RTP_PORT_PCMA:-41000}
port_u=${RTP_PORT_PCMU:-41010}
sine="sine=frequency=440:duration=3:sample_rate=8000:samples_per_frame=160"

for tool in tcpdump ffmpeg perl; do
    command -v "$tool" >/dev/null || { echo "make-real-capture.sh: $tool not found" >&2; exit 1; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
rx_pid=
tcpdump_pid=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null || true
    [ -n "$rx_pid" ] && kill "$rx_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$sine" -c:a pcm_s16le -bitexact -y \
    "$out/real-ffmpeg-source.wav"

# record CODEC PORT FILE
record() {
    codec=$1
    port=$2
    file=$3
    # Receiver: drains RTP on PORT and RTCP on PORT+1 until killed.
    perl -MIO::Socket::INET -e '
        my ($p) = @ARGV;
        my @s = map { IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $_,
                                            Proto => "udp") or die "port $_: $!\n" } ($p, $p + 1);
        $| = 1; print "ready\n";
        my $buf;
        while (1) {
            my $rin = ""; vec($rin, fileno($_), 1) = 1 for @s;
            select(my $rout = $rin, undef, undef, 1) > 0 or next;
            vec($rout, fileno($_), 1) and $_->recv($buf, 65535) for @s;
        }' "$port" >"$tmp/rx.out" &
    rx_pid=$!
    tcpdump -i lo -n -U -Z "$(id -un)" -w "$tmp/cap.pcap" \
        "udp and (port $port or port $((port + 1)))" 2>"$tmp/tcpdump.err" &
    tcpdump_pid=$!
    # Wait until both are ready, at most 10 s.
    n=0
    until grep -q "listening on" "$tmp/tcpdump.err" && grep -q ready "$tmp/rx.out"; do
        n=$((n + 1))
        if [ $n -gt 100 ] || ! kill -0 "$tcpdump_pid" 2>/dev/null || ! kill -0 "$rx_pid" 2>/dev/null; then
            cat "$tmp/tcpdump.err" >&2
            echo "make-real-capture.sh: tcpdump or the receiver did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "$sine" -c:a "$codec" \
        -f rtp "rtp://127.0.0.1:$port?pkt_size=172" >"$tmp/sdp"
    sleep 1
    # A clean stop: SIGINT makes tcpdump flush and close the file.
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" || true
    tcpdump_pid=
    kill "$rx_pid"
    wait "$rx_pid" 2>/dev/null || true
    rx_pid=
    cat "$tmp/tcpdump.err" >&2
    mv "$tmp/cap.pcap" "$out/$file"
}

record pcm_alaw "$port_a" ffmpeg-pcma-lo.pcap
record pcm_mulaw "$port_u" ffmpeg-pcmu-lo.pcap
