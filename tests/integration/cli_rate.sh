#!/usr/bin/env bash
# integration.cli_rate: --rate HZ resamples every recording to one rate
# (core/resample.c, libsamplerate SRC_SINC_MEDIUM_QUALITY).
#
# On the project's ffmpeg captures of a 3 s source (captures/README.md,
# "Codec senders"): G.711 A-law (8 kHz) and G.722 (16 kHz audio).
#   - --rate R gives one WAV at R Hz with the channel count unchanged;
#   - its length is round(N * R / r) for the N frames at r Hz that the same
#     run without --rate records (exact: no drift), and the source's 3 s at R
#     Hz give or take one 20 ms packet;
#   - its audio matches the recording made without --rate resampled by sox
#     (`rate`, linear phase, very high quality): SNR at lag 0 (both are
#     zero-delay) >= MIN_SNR. Measured 61.0 dB (G.711 to 16 and 48 kHz),
#     65.3 dB (G.722 to 8 kHz) and 81.7 dB (G.722 to 48 kHz): the two
#     resamplers differ only near the band edge, where libsamplerate's medium
#     filter keeps 90 % of the lower Nyquist frequency and sox 95 %, and
#     A-law's quantisation noise fills that band. MIN_SNR 50 dB is 11 dB
#     below the lowest measurement and far above what a misplacement by one
#     output frame gives (20 log10(1 / (2 sin(pi f / R))): 8 dB for the
#     source's 1 kHz tone at 16 kHz, 18 dB at 48 kHz), let alone a wrong
#     rate;
#   - a stream already at R is not touched: G.722 with --rate 16000 is
#     byte-identical to the recording without --rate;
#   - --encoding alaw with --rate 8000 keeps the G.711 bytes (byte-identical
#     to --encoding alaw alone); with another rate it is refused;
#   - with $SHARED_DIR: sip-rtp-dvi4.pcap (DVI4 at 8 and 16 kHz, MANIFEST)
#     with --rate 16000 gives both recordings at 16 kHz, the 16 kHz one
#     identical to the run without --rate.
# Errors: --rate 0, abc, 1000000 (and 0x3E80, 7999) exit 1 with one line
# naming the value and the accepted range, before any output is written.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO SRCDIR WORKDIR
need_tool jq sox cmp
setup_workdir

CAPS=$SRCDIR/captures
MIN_SNR=50
failures=0

bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

# record NAME CAP ARGS...: runs rtpproc into $WORKDIR/NAME; prints the
# recording of the capture's only stream
record() {
    local name=$1 cap=$2 rc=0
    shift 2
    "$RTPPROC" -r "$cap" -o "$WORKDIR/$name" --json "$WORKDIR/$name.json" -q "$@" \
        >"$WORKDIR/$name.log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || fail "$name: rtpproc $* exited $rc: $(cat "$WORKDIR/$name.log")"
    [ "$(jq '.streams | length' "$WORKDIR/$name.json")" = 1 ] || fail "$name: not one stream"
    local file
    file=$(jq -r '.streams[0].file' "$WORKDIR/$name.json")
    [ -f "$file" ] || fail "$name: no recording ($(jq -r '.streams[0].note' "$WORKDIR/$name.json"))"
    echo "$file"
}

field() {
    wav_info "$1" | sed -E "s/.*$2=([0-9]+).*/\\1/"
}

# check_rate NAME CAP RATE: the checks above for one capture and output rate
check_rate() {
    local name=$1 cap=$2 rate=$3 base out
    base=$(record "$name-native-for-$rate" "$cap")
    out=$(record "$name-$rate" "$cap" --rate "$rate")
    local n r ch want got
    n=$(field "$base" frames)
    r=$(field "$base" rate)
    ch=$(field "$base" channels)
    want=$(((n * rate * 2 + r) / (2 * r))) # round(n * rate / r), half up
    got=$(wav_info "$out")
    [ "$got" = "frames=$want rate=$rate channels=$ch" ] ||
        bad "$name --rate $rate: '$got', expected frames=$want rate=$rate channels=$ch"
    # The source lasts 3 s; one 20 ms packet of tolerance.
    local d=$((want - 3 * rate))
    [ "${d#-}" -le $((rate / 50)) ] || bad "$name --rate $rate: $want frames for a 3 s source"
    if [ "$rate" = "$r" ]; then
        cmp -s "$base" "$out" || bad "$name --rate $rate: not byte-identical to the $r Hz recording"
        echo "     $name --rate $rate: $got, byte-identical to the recording without --rate"
        return
    fi
    sox -D "$base" "$WORKDIR/$name-sox-$rate.wav" rate -v "$rate"
    local res db lag
    res=$(wav_snr "$WORKDIR/$name-sox-$rate.wav" "$out" 4)
    db=${res% *}
    lag=${res#* }
    echo "     $name --rate $rate: $got, SNR $db dB at lag $lag vs sox (threshold $MIN_SNR dB)"
    [ "$lag" = 0 ] || bad "$name --rate $rate: best match with sox at lag $lag, not 0"
    awk -v x="$db" -v t="$MIN_SNR" 'BEGIN { exit !(x >= t) }' ||
        bad "$name --rate $rate: SNR $db dB vs sox, below $MIN_SNR dB"
}

check_rate pcma "$CAPS/ffmpeg-pcma-lo.pcap" 16000
check_rate pcma "$CAPS/ffmpeg-pcma-lo.pcap" 48000
check_rate g722 "$CAPS/ffmpeg-g722-lo.pcap" 16000
check_rate g722 "$CAPS/ffmpeg-g722-lo.pcap" 8000
check_rate g722 "$CAPS/ffmpeg-g722-lo.pcap" 48000

# Native G.711 storage: kept at 8000, refused at other rates.
a=$(record alaw "$CAPS/ffmpeg-pcma-lo.pcap" --encoding alaw)
b=$(record alaw-8000 "$CAPS/ffmpeg-pcma-lo.pcap" --encoding alaw --rate 8000)
cmp -s "$a" "$b" || bad "--encoding alaw --rate 8000: not the bytes of --encoding alaw"
for order in "--encoding alaw --rate 16000" "--rate 16000 --encoding ulaw"; do
    # shellcheck disable=SC2086 # two options
    run_expect 1 "$RTPPROC" -r "$CAPS/ffmpeg-pcma-lo.pcap" -o "$WORKDIR/refused" $order
    assert_grep "keep G.711 as it came, at 8000 Hz" "$RUN_ERR"
    assert_lines 1 "$RUN_ERR"
done

# Invalid values: one line, exit 1, nothing written.
for v in 0 abc 1000000 0x3E80 7999 ""; do
    run_expect 1 "$RTPPROC" -r "$CAPS/ffmpeg-pcma-lo.pcap" -o "$WORKDIR/invalid" --rate "$v"
    assert_lines 1 "$RUN_ERR"
    if [ -n "$v" ]; then
        assert_grep "invalid rate '$v': expected a sample rate in Hz from 8000 to 192000" "$RUN_ERR"
    else
        assert_grep "'rate' needs a value" "$RUN_ERR"
    fi
    [ ! -e "$WORKDIR/invalid" ] || bad "--rate '$v': output directory created"
done
run_expect 1 "$RTPPROC" -r "$CAPS/ffmpeg-pcma-lo.pcap" -o "$WORKDIR/invalid" --rate
assert_lines 1 "$RUN_ERR"

# Two codec rates in one capture, one output rate.
REAL=${SHARED_DIR:-/nonexistent}/captures/real
if [ -f "$REAL/sip-rtp-dvi4.pcap" ]; then
    "$RTPPROC" -r "$REAL/sip-rtp-dvi4.pcap" -o "$WORKDIR/dvi4" --json "$WORKDIR/dvi4.json" -q
    "$RTPPROC" -r "$REAL/sip-rtp-dvi4.pcap" -o "$WORKDIR/dvi4-16000" --rate 16000 -q
    n=0
    while read -r file rate frames; do
        [ "$file" != null ] || continue
        n=$((n + 1))
        out=$WORKDIR/dvi4-16000/$(basename "$file")
        want=$(((frames * 16000 * 2 + rate) / (2 * rate)))
        got=$(wav_info "$out")
        [ "$got" = "frames=$want rate=16000 channels=1" ] ||
            bad "sip-rtp-dvi4 $(basename "$file"): '$got', expected frames=$want rate=16000 channels=1"
        if [ "$rate" = 16000 ]; then
            cmp -s "$file" "$out" || bad "sip-rtp-dvi4 $(basename "$file"): 16 kHz stream changed"
        fi
        echo "     sip-rtp-dvi4 $(basename "$file"): $rate Hz -> $got"
    done < <(jq -r '.streams[] | "\(.file) \(.sample_rate) \(.frames)"' "$WORKDIR/dvi4.json")
    [ "$n" = 2 ] || bad "sip-rtp-dvi4: $n recordings, expected 2"
else
    echo "note: $REAL/sip-rtp-dvi4.pcap not found; the mixed-rate check was skipped"
fi

[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "cli_rate: ok"
