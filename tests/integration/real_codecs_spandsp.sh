#!/usr/bin/env bash
# integration.real_codecs_spandsp: rtpproc's G.722, GSM and DVI4 recordings
# of real third-party captures ($SHARED_DIR/captures/real, see its
# MANIFEST.md): sip-rtp-g722, sip-rtp-gsm, rtpproxy-DLT_NULL.a (GSM over
# DLT_NULL, IPv4 and IPv6, one SSRC changing source port) and sip-rtp-dvi4
# (DVI4 at 8 and 16 kHz).
#
#   check_streams  the stream set and per-stream packet counts equal
#                  `tshark -n -r F -q -z rtp,streams` (with the MANIFEST's
#                  decoding options), nothing lost or undecodable;
#   check_wav      each stream has a mono WAV at the codec's rate, as long as
#                  its packets (no stream here has a gap);
#   check_audio    plausible audio: RMS level above a floor, fewer than 0.1 %
#                  of the samples at full scale (no clipping bursts);
#   check_g722     G.722 sample-exact with Wireshark's g722 plug-in (wscheck);
#   check_gsm      GSM sample-exact with ffmpeg's own GSM 06.10 decoder fed
#                  the concatenated payloads (tshark's rtp.payload);
#   check_dvi4     DVI4 sample-exact with an independent RFC 3551 4.5.1 / IMA
#                  ADPCM decoder written here in awk, fed tshark's payloads;
#   same prompt    sip-rtp-g722, -gsm and -dvi4 are calls that play the same
#                  prompt (MANIFEST: SIPp-to-FreeSWITCH calls, one prompt, one
#                  direction): their RMS levels agree within 1.5 dB.
# Skipped (77) without the captures, tshark or jq; the wscheck and ffmpeg
# checks are skipped (with a note) when wscheck lacks Wireshark or ffmpeg is
# missing.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WSCHECK WORKDIR
REAL=${SHARED_DIR:-/nonexistent}/captures/real
[ -d "$REAL" ] || skip "$REAL not found"
need_tool tshark jq
setup_workdir

# capture | tshark options (MANIFEST's command) | streams
CASES=(
    "sip-rtp-g722.pcap||1"
    "sip-rtp-gsm.pcap||1"
    "rtpproxy-DLT_NULL.a.pcap|-d udp.port==12344,rtp|3"
    "sip-rtp-dvi4.pcap||2"
)

# RMS floor for plausible speech, dBFS. The prompts of the sip-rtp calls sit
# at -31.5 dBFS, the rtpproxy streams at -12 dBFS. Exception: rtpproxy's
# first second (SSRC 0x9C49CA0A from port 12002, 51 packets) is near silence
# (-74 dBFS, peak 24) - check_gsm shows it is decoded exactly as ffmpeg does.
RMS_FLOOR=-45
QUIET_STREAMS=" 127.0.0.1:12002:0x9C49CA0A "

failures=0
notes=""

bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

note() {
    case "$notes" in *"$*"*) ;; *) notes="$notes
note: $*" ;; esac
}

# tshark_streams FILE OPTS: "src sport dst dport SSRC pkts" per stream, sorted.
tshark_streams() {
    # shellcheck disable=SC2086 # opts is a word list
    tshark -n -r "$REAL/$1" $2 -q -z rtp,streams 2>/dev/null | awk '
        / 0x[0-9A-Fa-f]+ / {
            for (i = 1; i <= NF; i++) if ($i ~ /^\(.*%\)$/) break
            print $3, $4, $5, $6, "0x" toupper(substr($7, 3)), $(i - 2)
        }' | sort
}

# rtpproc_streams JSON: the same fields from rtpproc's report, sorted.
rtpproc_streams() {
    jq -r '.streams[] | "\(.src) \(.sport) \(.dst) \(.dport) \(.ssrc | ascii_upcase | sub("^0X"; "0x")) \(.packets)"' \
        "$1" | sort
}

check_streams() {
    local name=$1 opts=$2 want=$3 json=$4 n
    tshark_streams "$name" "$opts" >"$WORKDIR/$name.tshark"
    rtpproc_streams "$json" >"$WORKDIR/$name.rtpproc"
    n=$(wc -l <"$WORKDIR/$name.tshark")
    if [ "$n" != "$want" ]; then
        bad "$name: tshark lists $n streams, the MANIFEST $want"
        return 1
    fi
    if ! diff -u "$WORKDIR/$name.tshark" "$WORKDIR/$name.rtpproc" >"$WORKDIR/$name.diff"; then
        bad "$name: stream set differs from tshark's (- tshark, + rtpproc):"
        sed 's/^/    /' "$WORKDIR/$name.diff"
        return 1
    fi
    if [ "$(jq '[.streams[] | select(.lost != 0 or .undecodable != 0)] | length' "$json")" != 0 ]; then
        bad "$name: lost or undecodable packets reported"
        return 1
    fi
}

# rate_of PT: the recording rate RFC 3551 gives the codec of static PT.
rate_of() {
    case $1 in
    9) echo 16000 ;; # G.722: 16 kHz audio on an 8 kHz clock (4.5.2)
    3 | 5) echo 8000 ;;
    6) echo 16000 ;;
    *) echo 0 ;;
    esac
}

# per_packet PT: samples one packet of these captures carries (20 ms).
per_packet() {
    echo $(($(rate_of "$1") / 50))
}

check_wav_of() {
    local name=$1 file=$2 pt=$3 packets=$4
    if [ "$file" = null ] || [ ! -f "$file" ]; then
        bad "$name: no recording for PT $pt"
        return 1
    fi
    # Inside a subshell: check_wav exits on failure.
    if ! (check_wav "$file" $((packets * $(per_packet "$pt"))) "$(rate_of "$pt")" 1) \
        >"$WORKDIR/check_wav.out" 2>&1; then
        bad "$name: $(cat "$WORKDIR/check_wav.out")"
        return 1
    fi
}

# level FILE: "rms_dbfs clipped samples" of a mono recording.
level() {
    "$SNDINFO" --dump "$1" | awk '
        { n++; s += $1 * $1; if ($1 >= 32767 || $1 <= -32767) c++ }
        END { printf "%.1f %d %d\n", n ? 10 * log(s / n / 32768 / 32768) / log(10) : -999, c, n }'
}

check_audio() {
    local name=$1 file=$2 key=$3 db clipped n
    read -r db clipped n <<<"$(level "$file")"
    echo "     $name $key: RMS $db dBFS, $clipped of $n samples at full scale"
    echo "$name $db" >>"$WORKDIR/levels"
    case "$QUIET_STREAMS" in
    *" $key "*) ;;
    *)
        if ! awk -v x="$db" -v t="$RMS_FLOOR" 'BEGIN { exit !(x >= t) }'; then
            bad "$name $key: RMS $db dBFS below $RMS_FLOOR dBFS"
        fi
        ;;
    esac
    # Clipping bursts: at most 0.1 % of the samples at +/-32767.
    if [ $((clipped * 1000)) -gt "$n" ]; then
        bad "$name $key: $clipped of $n samples at full scale"
    fi
}

# payloads NAME OPTS SSRC SPORT: the stream's RTP payloads, one hex line each.
payloads() {
    # shellcheck disable=SC2086
    tshark -n -r "$REAL/$1" $2 -Y "rtp.ssrc == $3 && udp.srcport == $4" \
        -T fields -e rtp.payload 2>/dev/null | tr -d ':'
}

check_g722() {
    local name=$1 file=$2 key5=$3 rc=0
    # shellcheck disable=SC2086 # key5 is five words
    "$WSCHECK" --codec g722 "$REAL/$name" "$file" $key5 >"$file.wscheck" 2>&1 || rc=$?
    if [ $rc -eq 77 ]; then
        note "wscheck was built without Wireshark: G.722 not compared with Wireshark"
    elif [ $rc -eq 0 ]; then
        echo "     $name: wscheck g722: $(tail -n 1 "$file.wscheck")"
    else
        bad "$name: wscheck --codec g722 (exit $rc):"
        sed 's/^/    /' "$file.wscheck"
    fi
}

check_gsm() {
    local name=$1 opts=$2 file=$3 ssrc=$4 sport=$5 base
    if ! command -v ffmpeg >/dev/null 2>&1; then
        note "ffmpeg not installed: GSM not compared with ffmpeg's decoder"
        return 0
    fi
    base=$WORKDIR/$name-$ssrc-$sport
    payloads "$name" "$opts" "$ssrc" "$sport" | perl -ne 'chomp; print pack("H*", $_)' \
        >"$base.gsm"
    if [ ! -s "$base.gsm" ]; then
        bad "$name $ssrc:$sport: tshark gave no GSM payloads"
        return 0
    fi
    if ! ffmpeg -nostdin -hide_banner -loglevel error -f gsm -ar 8000 -i "$base.gsm" \
        -c:a pcm_s16le -y "$base.ffmpeg.wav" 2>"$base.ffmpeg.err"; then
        note "ffmpeg cannot decode GSM here: $(head -n 1 "$base.ffmpeg.err")"
        return 0
    fi
    if "$SNDINFO" --cmp "$base.ffmpeg.wav" "$file" >"$base.cmp" 2>&1; then
        echo "     $name $ssrc: GSM identical to ffmpeg's decoder"
    else
        bad "$name $ssrc:$sport: GSM differs from ffmpeg's decoder:"
        sed 's/^/    /' "$base.cmp"
    fi
}

# An IMA ADPCM decoder from RFC 3551 4.5.1 and the IMA step tables: per
# packet the header's predicted value (signed, big-endian) and step index
# seed the state, then each nibble, high nibble first (the hex digits in
# order), gives one sample. Prints one sample per line.
# shellcheck disable=SC2016 # an awk program, expanded by awk
dvi4_decode_awk='
BEGIN {
    split("7 8 9 10 11 12 13 14 16 17 19 21 23 25 28 31 34 37 41 45 50 55 60 66 73 80 88 97 " \
          "107 118 130 143 157 173 190 209 230 253 279 307 337 371 408 449 494 544 598 658 " \
          "724 796 876 963 1060 1166 1282 1411 1552 1707 1878 2066 2272 2499 2749 3024 3327 " \
          "3660 4026 4428 4871 5358 5894 6484 7132 7845 8630 9493 10442 11487 12635 13899 " \
          "15289 16818 18500 20350 22385 24623 27086 29794 32767", step, " ")
    split("-1 -1 -1 -1 2 4 6 8", adj, " ")
    for (i = 0; i < 16; i++) hexval[substr("0123456789abcdef", i + 1, 1)] = i
}
function hx(s,   v, k) {
    v = 0
    for (k = 1; k <= length(s); k++) v = v * 16 + hexval[substr(s, k, 1)]
    return v
}
{
    p = tolower($0)
    if (length(p) < 10) next
    pred = hx(substr(p, 1, 4)); if (pred >= 32768) pred -= 65536
    idx = hx(substr(p, 5, 2))
    for (k = 9; k <= length(p); k++) {
        code = hexval[substr(p, k, 1)]
        ss = step[idx + 1]
        e = int(ss / 8)
        if (code % 2 >= 1) e += int(ss / 4)
        if (code % 4 >= 2) e += int(ss / 2)
        if (code % 8 >= 4) e += ss
        if (code >= 8) e = -e
        pred += e
        if (pred > 32767) pred = 32767
        if (pred < -32768) pred = -32768
        idx += adj[code % 8 + 1]
        if (idx < 0) idx = 0
        if (idx > 88) idx = 88
        print pred
    }
}'

check_dvi4() {
    local name=$1 opts=$2 file=$3 ssrc=$4 sport=$5 base
    base=$WORKDIR/$name-$ssrc-$sport
    payloads "$name" "$opts" "$ssrc" "$sport" | awk "$dvi4_decode_awk" >"$base.ref"
    "$SNDINFO" --dump "$file" >"$base.dump"
    if [ ! -s "$base.ref" ]; then
        bad "$name $ssrc:$sport: tshark gave no DVI4 payloads"
    elif cmp -s "$base.ref" "$base.dump"; then
        echo "     $name $ssrc: DVI4 identical to the awk RFC 3551 decoder ($(wc -l <"$base.ref") samples)"
    else
        bad "$name $ssrc: DVI4 differs from the awk RFC 3551 decoder:"
        diff "$base.ref" "$base.dump" | head -n 10 | sed 's/^/    /'
    fi
}

: >"$WORKDIR/levels"
for c in "${CASES[@]}"; do
    IFS='|' read -r name opts want <<<"$c"
    json=$WORKDIR/$name.json
    if ! "$RTPPROC" -r "$REAL/$name" -o "$WORKDIR/$name" --json "$json" -q \
        >"$WORKDIR/$name.log" 2>&1; then
        bad "$name: rtpproc failed:"
        sed 's/^/    /' "$WORKDIR/$name.log"
        continue
    fi
    check_streams "$name" "$opts" "$want" "$json" || continue
    while read -r file src sport dst dport ssrc pt packets; do
        check_wav_of "$name" "$file" "$pt" "$packets" || continue
        check_audio "$name" "$file" "$src:$sport:$ssrc"
        case $pt in
        9) check_g722 "$name" "$file" "$src $sport $dst $dport $ssrc" ;;
        3) check_gsm "$name" "$opts" "$file" "$ssrc" "$sport" ;;
        5 | 6) check_dvi4 "$name" "$opts" "$file" "$ssrc" "$sport" ;;
        *) bad "$name: unexpected PT $pt" ;;
        esac
    done < <(jq -r '.streams[] | "\(.file) \(.src) \(.sport) \(.dst) \(.dport) \(.ssrc) \(.payload_types[0]) \(.packets)"' "$json")
done

# The three sip-rtp calls play one prompt: same level whatever the codec.
awk '$1 ~ /^sip-rtp-/ { if (n == 0 || $2 < lo) lo = $2; if (n == 0 || $2 > hi) hi = $2; n++ }
     END { printf "%d %.1f %.1f\n", n, lo, hi }' "$WORKDIR/levels" >"$WORKDIR/prompt"
read -r n lo hi <"$WORKDIR/prompt"
echo "     same prompt: $n recordings between $lo and $hi dBFS"
if [ "$n" != 4 ] || ! awk -v a="$lo" -v b="$hi" 'BEGIN { exit !(b - a <= 1.5) }'; then
    bad "same prompt: $n sip-rtp recordings, levels $lo..$hi dBFS (expected 4 within 1.5 dB)"
fi

[ -z "$notes" ] || echo "$notes"
[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "real_codecs_spandsp: ok"
