#!/bin/sh
# Records real RTP senders for the non-G.711 codecs: ffmpeg encodes a known
# two-tone signal and sends it over loopback, tcpdump records "lo" (Linux
# gives DLT_EN10MB). Same approach as make-real-capture.sh: a perl receiver
# drains the ports (no ICMP port-unreachable), ffmpeg -re paces the packets,
# tcpdump stops one second after the sender with SIGINT.
#
# ffmpeg 5.1's RTP muxer packetises G.722, G.726, Opus, Speex and L16 itself.
# It refuses GSM and G.723.1 ("Unsupported codec"), so for those two ffmpeg
# (libgsm, g723_1) writes the raw frames and a small perl sender puts one
# frame per packet into RTP as RFC 3551 4.5.8 (GSM, PT 3, 33 bytes / 160
# samples) and 4.5.3 (G.723.1, PT 4, frame length from the two low bits of
# its first byte, 240 samples) say, paced in real time like ffmpeg -re.
#
# The signal: mono  0.4 sin(2 pi 440 t) + 0.3 sin(2 pi 1000 t)
#             stereo left as mono, right 0.4 sin(2 pi 660 t) + 0.3 sin(2 pi 1500 t)
# It is rendered once per rate/layout into codec-source-<rate>[-stereo].wav
# (16-bit PCM, the same lavfi graph the sender encodes).
#
# Writes into OUTDIR (default: the directory of this script), for each
# capture NAME in the table below: ffmpeg-NAME-lo.pcap and ffmpeg-NAME-lo.sdp
# (the SDP ffmpeg printed; for gsm/g723 the SDP the perl sender describes).
#
# Usage: captures/make-codec-captures.sh [OUTDIR [NAME...]]
# Needs root (or CAP_NET_RAW) for tcpdump, plus ffmpeg and perl. Every run
# gives different files (SSRC, sequence and timestamp bases, times).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
[ $# -gt 0 ] && shift
base_port=${RTP_PORT_BASE:-42000}

LO_NAME=make-codec-captures.sh
. "$here/loopback.sh"
lo_init ffmpeg perl
mkdir -p "$out"

mono="0.4*sin(2*PI*440*t)+0.3*sin(2*PI*1000*t)"
right="0.4*sin(2*PI*660*t)+0.3*sin(2*PI*1500*t)"

# signal RATE CHANNELS SECONDS: the lavfi graph of the source.
signal() {
    if [ "$2" = 2 ]; then
        echo "aevalsrc=$mono|$right:s=$1:d=$3:c=stereo"
    else
        echo "aevalsrc=$mono:s=$1:d=$3:c=mono"
    fi
}

# source_name RATE CHANNELS
source_name() {
    if [ "$2" = 2 ]; then
        echo "codec-source-$1-stereo.wav"
    else
        echo "codec-source-$1.wav"
    fi
}

# Durations keep every capture and source WAV under 200 KB: 3 s at 8 and
# 16 kHz, 1 s at 48 kHz mono, 0.8 s for 44.1/48 kHz stereo (L16 at 48 kHz
# stereo is 192000 bytes per second before headers).
duration() {
    case "$1/$2" in
    8000/1 | 16000/1) echo 3 ;;
    48000/1) echo 1 ;;
    *) echo 0.8 ;;
    esac
}

# The captures: NAME RATE CHANNELS SENDER ENCODER-OPTIONS...
# SENDER is "rtp" (ffmpeg's RTP muxer; pkt_size sets the packet duration) or
# "perl:PT:RAWFORMAT" (raw frames from ffmpeg, packetised by perl).
table() {
    cat <<'EOF'
g722 16000 1 rtp -c:a g722 ?pkt_size=172
g726-16 8000 1 rtp -c:a g726le -b:a 16k ?pkt_size=52
g726-24 8000 1 rtp -c:a g726le -b:a 24k ?pkt_size=72
g726-32 8000 1 rtp -c:a g726le -b:a 32k ?pkt_size=92
g726-40 8000 1 rtp -c:a g726le -b:a 40k ?pkt_size=112
aal2-g726-16 8000 1 rtp -c:a g726 -b:a 16k ?pkt_size=52
aal2-g726-24 8000 1 rtp -c:a g726 -b:a 24k ?pkt_size=72
aal2-g726-32 8000 1 rtp -c:a g726 -b:a 32k ?pkt_size=92
aal2-g726-40 8000 1 rtp -c:a g726 -b:a 40k ?pkt_size=112
gsm 8000 1 perl:3:gsm -c:a libgsm
g723 8000 1 perl:4:g723_1 -c:a g723_1 -b:a 6300
opus-mono 48000 1 rtp -c:a libopus -b:a 32k
opus-stereo 48000 2 rtp -c:a libopus -b:a 64k
speex-nb 8000 1 rtp -c:a libspeex
speex-wb 16000 1 rtp -c:a libspeex
l16-16k 16000 1 rtp -c:a pcm_s16be ?pkt_size=652
l16-44k-stereo 44100 2 rtp -c:a pcm_s16be
l16-48k-stereo 48000 2 rtp -c:a pcm_s16be
EOF
}

# perl_send FILE PT PORT FORMAT: one frame per RTP packet, paced in real time.
perl_send() {
    perl -MIO::Socket::INET -MTime::HiRes=time,sleep -e '
        my ($file, $pt, $port, $fmt) = @ARGV;
        open(my $fh, "<:raw", $file) or die "$file: $!\n";
        local $/; my $data = <$fh>; close $fh;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
                                      Proto => "udp") or die "socket: $!\n";
        my ($ssrc, $seq, $ts) = (int(rand(2**32)), int(rand(65536)), int(rand(2**32)));
        my ($spf, $ms) = $fmt eq "gsm" ? (160, 20) : (240, 30);
        my ($off, $n, $t0) = (0, 0, time);
        while ($off < length $data) {
            my $len = 33;
            if ($fmt ne "gsm") {
                # RFC 3551 4.5.3: 0 = 6.3k (24 bytes), 1 = 5.3k (20), 2 = SID (4), 3 = untransmitted (1).
                $len = (24, 20, 4, 1)[ord(substr($data, $off, 1)) & 3];
            }
            last if $off + $len > length $data;
            my $hdr = pack("CCnNN", 0x80, ($n == 0 ? 0x80 : 0) | $pt, $seq, $ts, $ssrc);
            $s->send($hdr . substr($data, $off, $len)) or die "send: $!\n";
            $off += $len; $n++;
            $seq = ($seq + 1) & 0xFFFF; $ts = ($ts + $spf) % 2**32;
            my $due = $t0 + $n * $ms / 1000 - time;
            sleep($due) if $due > 0;
        }' "$@"
}

# record NAME RATE CHANNELS SENDER PORT ENCODER-OPTIONS...
record() {
    name=$1 rate=$2 ch=$3 sender=$4 port=$5
    shift 5
    url_opts=
    enc=
    for a in "$@"; do
        case "$a" in
        \?*) url_opts=$a ;;
        *) enc="$enc $a" ;;
        esac
    done
    graph=$(signal "$rate" "$ch" "$(duration "$rate" "$ch")")
    lo_start "$port"
    case "$sender" in
    rtp)
        # shellcheck disable=SC2086 # $enc is a list of ffmpeg options
        ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "$graph" $enc \
            -f rtp "rtp://127.0.0.1:$port$url_opts" >"$tmp/sdp"
        # ffmpeg prints "SDP:" before the description proper.
        sed -n '/^v=0/,$p' "$tmp/sdp" >"$out/ffmpeg-$name-lo.sdp"
        ;;
    perl:*)
        pt=${sender#perl:}
        fmt=${pt#*:}
        pt=${pt%%:*}
        # shellcheck disable=SC2086
        ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "$graph" $enc -f "$fmt" \
            -y "$tmp/frames.raw"
        perl_send "$tmp/frames.raw" "$pt" "$port" "$fmt"
        enc_name=GSM
        [ "$fmt" = gsm ] || enc_name=G723
        printf 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=rtpproc make-codec-captures.sh (perl sender)\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio %s RTP/AVP %s\na=rtpmap:%s %s/8000\n' \
            "$port" "$pt" "$pt" "$enc_name" >"$out/ffmpeg-$name-lo.sdp"
        ;;
    esac
    lo_stop "$out/ffmpeg-$name-lo.pcap"
}

# Source WAVs, one per rate/layout used. The loops read files rather than
# pipes so that they run in this shell and the lo_cleanup trap sees the pids.
table >"$tmp/table"
awk '{ print $2, $3 }' "$tmp/table" | sort -u >"$tmp/sources"
while read -r rate ch; do
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi \
        -i "$(signal "$rate" "$ch" "$(duration "$rate" "$ch")")" -c:a pcm_s16le -bitexact -y \
        "$out/$(source_name "$rate" "$ch")"
done <"$tmp/sources"

i=0
while read -r name rate ch sender opts; do
    i=$((i + 1))
    if [ $# -gt 0 ]; then
        want=0
        for w in "$@"; do [ "$w" = "$name" ] && want=1; done
        [ $want = 1 ] || continue
    fi
    # shellcheck disable=SC2086 # $opts is a list of ffmpeg options
    record "$name" "$rate" "$ch" "$sender" $((base_port + 10 * i)) $opts </dev/null
done <"$tmp/table"
