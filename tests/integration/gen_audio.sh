#!/bin/bash
# integration.gen_audio: rtpgen's expected WAVs hold exactly the audio that
# its captures carry. For each case the audio of every stream is rebuilt from
# the capture alone - payload bytes from tshark's RTP dissector, G.711
# decoded by sox, samples placed by RTP timestamp, duplicates skipped, lost,
# gap and snaplen-cut spans silent - and must equal the expected WAV sample
# for sample (see gen_rebuild_audio in tests/gen/checklib.sh). The soxi
# header checks (frames, rate, channels, 16 bits) run on every WAV as well.
# A final check makes sure the comparison can fail: a WAV with one sample
# changed must be reported.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPGEN WORKDIR SRCDIR
need_tool tshark sox soxi perl
# shellcheck source=../gen/checklib.sh
. "$SRCDIR/tests/gen/checklib.sh"

setup_workdir
cd "$WORKDIR"
failures=0

# audio NAME FILE DYN_CHANNELS DYN_RATE -- RTPGEN OPTIONS...
audio() {
    local name=$1 file=$2 ch=$3 rate=$4
    shift 5
    "$RTPGEN" -o "$file" -e "$name" "$@"
    if gen_check_audio "$file" "$name" "$ch" "$rate"; then
        echo "audio of $name matches its capture"
    else
        echo "FAIL $name" >&2
        failures=$((failures + 1))
    fi
}

audio call call.pcap 1 8000 -- --bidir --codec pcma --reverse-codec pcmu --packets 100 --rtcp \
    --noise 10
audio wrap wrap.pcap 1 8000 -- --seq-start 65500 --ts-start 0xFFFFF000 \
    --loss 3,35,36,100-102 --dup 10,34,37 --packets 200
audio lossy lossy.pcapng 1 8000 -- --codec pcmu --loss-rate 0.15 --seed 5 --packets 200 \
    --jitter 25
audio gaps gaps.pcap 1 8000 -- --gap-after 9:500 --gap-after 19:40 --loss 10,39 --packets 40
audio shape shape.pcap 1 8000 -- --pad --ext --csrc 4 --ip-options --ipv6 --codec pcmu \
    --packets 60
audio snaplen snaplen.pcap 1 8000 -- --bidir --reverse-codec pcmu --reverse-ptime 10 \
    --snaplen 160 --packets 50
audio l16 l16.pcap 1 44100 -- --codec l16 --fragment 1500 --linktype sll2 --packets 20 \
    --loss 5 --dup 6
audio l16-stereo l16-stereo.pcapng 2 16000 -- --codec l16:16000:2:98 --ipv6 --fragment 1280 \
    --packets 20 --gap-after 4:100
audio lost-edges lost-edges.pcap 1 8000 -- --loss 0-2,29 --packets 30

# The signal is the documented tone: amplitude 8000 of 32768 (RMS ~0.17).
rms=$(sox "call/$(gen_wav_name "$(head -n 1 call/streams.txt)")" -n stat 2>&1 |
    awk '/RMS +amplitude/ { print $3 }')
awk -v r="$rms" 'BEGIN { exit !(r > 0.15 && r < 0.19) }' || {
    echo "FAIL call: RMS amplitude $rms, want about 0.17" >&2
    failures=$((failures + 1))
}

# The rebuilt-audio comparison must notice a single changed sample.
wav=call/$(gen_wav_name "$(head -n 1 call/streams.txt)")
sox "$wav" -t raw -e signed -b 16 -L call/pcm.raw
perl -e 'open(my $f, "+<", $ARGV[0]) or die; binmode $f; seek($f, 2000, 0);
         read($f, my $s, 2); seek($f, 2000, 0); print $f pack("s<", unpack("s<", $s) ^ 1);' \
    call/pcm.raw
sox -t raw -e signed -b 16 -L -c 1 -r 8000 call/pcm.raw "$wav"
if gen_check_audio call.pcap call 1 8000 2>/dev/null; then
    echo "FAIL a WAV with one changed sample was not noticed" >&2
    failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all expected WAVs match their captures"
