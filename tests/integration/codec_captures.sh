#!/usr/bin/env bash
# integration.codec_captures: rtpproc on the project's own codec captures
# (ffmpeg encoding a known two-tone signal to RTP over loopback; recipe and
# files: captures/make-codec-captures.sh, captures/README.md "Codec senders").
#
# For every row of CODECS below:
#   check_stream  exactly one stream, every RTP packet of the capture, none
#                 lost, the expected codec name, a WAV at the expected rate
#                 and channel count;
#   check_length  the recording is as long as the source WAV, give or take
#                 one packet's worth of frames;
#   check_snr     the recording against the source: SNR at the best lag in
#                 -MAXLAG..MAXLAG frames (the codec's delay) above MIN_SNR;
#   check_ws      where Wireshark has the codec plug-in, sample-exact with it
#                 ($WSCHECK --codec WSNAME --pt PT; skipped when wscheck was
#                 built without Wireshark).
# Dynamic payload types get --pt-map from the a=rtpmap line of the SDP file
# ffmpeg printed (captures/ffmpeg-NAME-lo.sdp): the captures carry no SIP,
# so rtpproc's SDP learning has nothing to read. Static ones resolve alone.
#
# Adding a codec: append one row to CODECS (fields below). A row whose codec
# rtpproc was built without is reported and skipped, not failed, if the
# rest passes.
#
# SNR (wav_snr in lib.sh): signal energy over the energy of (source -
# recording) at the lag that minimises it, over every frame both cover (codec
# start-up included; a stereo recording of a mono source: left channel). The
# source is a 440 Hz + 1 kHz mix (right channel 660 Hz + 1.5 kHz), periodic
# every 25 ms, so MAXLAG stays below half that period (200 frames at 16 kHz)
# or the search could settle one period off. Thresholds are the values
# measured on the committed captures minus about 3 dB (each row's comment
# gives the measurement); they sit far above what a wrong packing, rate or
# channel order gives (all measured below 3 dB).
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WSCHECK SRCDIR WORKDIR
need_tool jq tcpdump
setup_workdir

CAPS=$SRCDIR/captures

# NAME|SOURCE|CODEC|RATE|CHANNELS|PKT_FRAMES|MAXLAG|MIN_SNR|WSNAME
#   NAME        captures/ffmpeg-NAME-lo.{pcap,sdp}
#   SOURCE      the source WAV in captures/
#   CODEC       the codec name rtpproc must report (JSON .codec)
#   RATE, CHANNELS  of the recording
#   PKT_FRAMES  frames in the longest packet (the length tolerance)
#   MAXLAG      lag search range, frames
#   MIN_SNR     dB, or - for no SNR check (say why in a comment)
#   WSNAME      Wireshark codec plug-in name for wscheck, or - for none
CODECS=(
    # 37.9 dB measured (G.722 at 64 kbit/s; 22 frames of QMF delay)
    "g722|codec-source-16000.wav|G722|16000|1|320|100|35|g722"
    # G.726-16/24/32: 19.5 / 27.1 / 33.2 dB measured (no delay; the ADPCM
    # start-up of the first packets included)
    "g726-16|codec-source-8000.wav|G726-16|8000|1|160|50|16.5|G726-16"
    "g726-24|codec-source-8000.wav|G726-24|8000|1|160|50|24|G726-24"
    "g726-32|codec-source-8000.wav|G726-32|8000|1|160|50|30|G726-32"
    # G.726-40: no SNR check (-). ffmpeg 5.1's 40 kbit/s bitstream (g726le and
    # g726 alike) decodes to noise with spandsp (-2.7 dB; Wireshark's decoder,
    # which rtpproc matches sample for sample) and with libsndfile's G.723-40
    # (the Sun reference code; -0.8 dB), while spandsp's own 40 kbit/s
    # encoding decodes with libsndfile and ffmpeg's 16/24/32 kbit/s ones with
    # spandsp: ffmpeg's 40 kbit/s encoder is the odd one out. The captures
    # still check the 5-bit packings against Wireshark.
    "g726-40|codec-source-8000.wav|G726-40|8000|1|160|50|-|G726-40"
    "aal2-g726-16|codec-source-8000.wav|AAL2-G726-16|8000|1|160|50|16.5|AAL2-G726-16"
    "aal2-g726-24|codec-source-8000.wav|AAL2-G726-24|8000|1|160|50|24|AAL2-G726-24"
    "aal2-g726-32|codec-source-8000.wav|AAL2-G726-32|8000|1|160|50|30|AAL2-G726-32"
    "aal2-g726-40|codec-source-8000.wav|AAL2-G726-40|8000|1|160|50|-|AAL2-G726-40"
    # 18.5 dB measured (libgsm encoder, spandsp decoder; no Wireshark plug-in)
    "gsm|codec-source-8000.wav|GSM|8000|1|160|50|15.5|-"
    # L16 is lossless: the recording must be the source itself (999 = identical)
    "l16-16k|codec-source-16000.wav|L16|16000|1|320|0|999|16-bit audio, monaural"
    "l16-44k-stereo|codec-source-44100-stereo.wav|L16|44100|2|365|0|999|16-bit audio, monaural"
    "l16-48k-stereo|codec-source-48000-stereo.wav|L16|48000|2|365|0|999|16-bit audio, monaural"
    # Opus: 16.5 dB (mono source) and 37.0 dB (stereo) measured. Both SDPs say
    # opus/48000/2 (RFC 7587 7: always 2), so both recordings are stereo;
    # the mono source is compared with the left channel (the two are equal).
    "opus-mono|codec-source-48000.wav|opus|48000|2|960|400|13.5|-"
    "opus-stereo|codec-source-48000-stereo.wav|opus|48000|2|960|400|34|-"
    # Speex NB/WB: 17.2 / 19.0 dB measured (a perceptual codec: waveform SNR
    # is modest)
    "speex-nb|codec-source-8000.wav|speex|8000|1|160|100|14|-"
    "speex-wb|codec-source-16000.wav|speex|16000|1|320|200|16|-"
    # G.723.1 (static PT 4, libavcodec): 15.7 dB measured; 30 ms packets
    "g723|codec-source-8000.wav|G723|8000|1|240|90|12.5|-"
)

failures=0
skipped_rows=""
ws_skipped=0

bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

# sdp_port NAME: the destination port (m= line); sdp_ptmap NAME: "PT=enc/rate[/ch]"
# of a dynamic PT's a=rtpmap line, if any. ffmpeg ends SDP lines with CRLF.
sdp_port() {
    awk '{ sub(/\r$/, "") } /^m=audio/ { print $2; exit }' "$CAPS/ffmpeg-$1-lo.sdp"
}

sdp_ptmap() {
    awk '{ sub(/\r$/, "") }
         /^a=rtpmap:/ { sub(/^a=rtpmap:/, ""); split($0, a, " ");
                        if (a[1] + 0 >= 96) { print a[1] "=" a[2]; exit } }' \
        "$CAPS/ffmpeg-$1-lo.sdp"
}

# run_rtpproc NAME: records into $WORKDIR/NAME, report in $WORKDIR/NAME.json.
# Returns 2 when rtpproc does not know the codec (not built).
run_rtpproc() {
    local name=$1 map rc=0
    local args=(-r "$CAPS/ffmpeg-$name-lo.pcap" -o "$WORKDIR/$name" --json "$WORKDIR/$name.json" -q)
    map=$(sdp_ptmap "$name")
    [ -z "$map" ] || args+=(--pt-map "$map")
    "$RTPPROC" "${args[@]}" >"$WORKDIR/$name.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        if grep -q "unknown codec" "$WORKDIR/$name.log"; then
            return 2
        fi
        bad "$name: rtpproc exit $rc:"
        sed 's/^/    /' "$WORKDIR/$name.log"
        return 1
    fi
}

# jfield NAME JQ: one value from the (single) stream of NAME's report.
jfield() {
    jq -r ".streams[0] | $2" "$WORKDIR/$1.json"
}

check_stream() {
    local name=$1 codec=$2 rate=$3 ch=$4 port n want got file info
    port=$(sdp_port "$name")
    n=$(jq '.streams | length' "$WORKDIR/$name.json")
    if [ "$n" != 1 ]; then
        bad "$name: $n streams in the report, expected 1"
        return 1
    fi
    # Every RTP packet to the SDP's port (RTCP goes to port+1).
    want=$(pcap_count "$CAPS/ffmpeg-$name-lo.pcap" "udp dst port $port")
    got=$(jfield "$name" '"\(.dport) \(.packets) \(.lost) \(.codec) \(.undecodable)"')
    if [ "$got" != "$port $want 0 $codec 0" ]; then
        bad "$name: dport/packets/lost/codec/undecodable '$got', expected '$port $want 0 $codec 0'"
        return 1
    fi
    file=$(jfield "$name" '.file')
    if [ "$file" = null ] || [ ! -f "$file" ]; then
        bad "$name: no recording ($(jfield "$name" '.note'))"
        return 1
    fi
    info=$(wav_info "$file")
    case " $info " in
    *" rate=$rate channels=$ch "*) ;;
    *)
        bad "$name: $info, expected rate=$rate channels=$ch"
        return 1
        ;;
    esac
}

frames_of() {
    wav_info "$1" | sed -E 's/^frames=([0-9]+).*/\1/'
}

check_length() {
    local name=$1 src=$2 pkt=$3 a b d
    a=$(frames_of "$CAPS/$src")
    b=$(frames_of "$(jfield "$name" '.file')")
    d=$((a > b ? a - b : b - a))
    if [ "$d" -gt "$pkt" ]; then
        bad "$name: recording $b frames, source $a (more than one packet, $pkt frames, apart)"
        return 1
    fi
    echo "     $name: $b frames, source $a"
}

check_snr() {
    local name=$1 src=$2 maxlag=$3 min=$4 res db lag
    [ "$min" != - ] || return 0
    res=$(wav_snr "$CAPS/$src" "$(jfield "$name" '.file')" "$maxlag")
    db=${res% *}
    lag=${res#* }
    echo "     $name: SNR $db dB at lag $lag (threshold $min dB)"
    if ! awk -v x="$db" -v t="$min" 'BEGIN { exit !(x >= t) }'; then
        bad "$name: SNR $db dB below $min dB"
        return 1
    fi
}

check_ws() {
    local name=$1 wsname=$2 rc=0 key
    [ "$wsname" != - ] || return 0
    key=$(jfield "$name" '"\(.src) \(.sport) \(.dst) \(.dport) \(.ssrc)"')
    # shellcheck disable=SC2086 # key is five words
    "$WSCHECK" --codec "$wsname" --pt "$(jfield "$name" '.payload_types[0]')" \
        "$CAPS/ffmpeg-$name-lo.pcap" "$(jfield "$name" '.file')" $key \
        >"$WORKDIR/$name.wscheck" 2>&1 || rc=$?
    if [ $rc -eq 77 ]; then
        ws_skipped=1
    elif [ $rc -eq 0 ]; then
        echo "     $name: wscheck $wsname: $(tail -n 1 "$WORKDIR/$name.wscheck")"
    else
        bad "$name: wscheck --codec '$wsname' (exit $rc):"
        sed 's/^/    /' "$WORKDIR/$name.wscheck"
        return 1
    fi
}

for row in "${CODECS[@]}"; do
    IFS='|' read -r name src codec rate ch pkt maxlag min wsname <<<"$row"
    rc=0
    run_rtpproc "$name" || rc=$?
    if [ $rc -eq 2 ]; then
        echo "skip $name: rtpproc was built without this codec"
        skipped_rows="$skipped_rows $name"
        continue
    elif [ $rc -ne 0 ]; then
        continue
    fi
    check_stream "$name" "$codec" "$rate" "$ch" || continue
    check_length "$name" "$src" "$pkt" || true
    check_snr "$name" "$src" "$maxlag" "$min" || true
    check_ws "$name" "$wsname" || true
done

[ "$ws_skipped" = 0 ] || echo "note: wscheck was built without Wireshark; sample-exact checks skipped"
[ -z "$skipped_rows" ] || echo "note: skipped (codec not built):$skipped_rows"
[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "codec_captures: ok"
