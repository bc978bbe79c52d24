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

LO_NAME=make-real-capture.sh
. "$here/loopback.sh"
lo_init ffmpeg perl
mkdir -p "$out"

ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$sine" -c:a pcm_s16le -bitexact -y \
    "$out/real-ffmpeg-source.wav"

# record CODEC PORT FILE
record() {
    codec=$1
    port=$2
    file=$3
    lo_start "$port"
    ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "$sine" -c:a "$codec" \
        -f rtp "rtp://127.0.0.1:$port?pkt_size=172" >"$tmp/sdp"
    lo_stop "$out/$file"
}

record pcm_alaw "$port_a" ffmpeg-pcma-lo.pcap
record pcm_mulaw "$port_u" ffmpeg-pcmu-lo.pcap
