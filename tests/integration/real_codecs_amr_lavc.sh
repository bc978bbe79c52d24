#!/usr/bin/env bash
# integration.real_codecs_amr_lavc: AMR (opencore-amr), iLBC and G.723.1
# (libavcodec) on the real third-party captures of $SHARED_DIR/captures/real
# (see its MANIFEST.md):
#   sample2_vowifi_ipv4_esp_ipv4.pcap  AMR, PT 99, bandwidth-efficient, Linux
#                                      SLL; no SIP/SDP in the file, so
#                                      --pt-map 99=AMR/8000 (the rtpmap of
#                                      the source repository's SDP)
#   sip-rtp-ilbc.pcap                  iLBC, PT 99, 30 ms frames; its SDP says
#                                      iLBC/8000 mode=30, given as --pt-map
#   rtpproxy-G723_1.a.pcap             G.723.1, static PT 4
#
# Per capture:
#   - the stream set equals tshark 4.0's `-z rtp,streams` (with MANIFEST's
#     options): src, sport, dst, dport, SSRC, packets and lost;
# and per stream:
#   - the codec, one WAV at the codec's rate, mono, nothing undecodable, no
#     timeline discontinuity; libsndfile reads the header the report gives;
#   - the WAV is at least as long as the RTP timestamps span, at most one
#     packet (120 ms) longer;
#   - plausible audio: RMS of the non-zero samples at least 300 (measured
#     AMR 1458, iLBC 1065, G.723.1 1930) and at most 0.1 % of the samples
#     clipped (at 32767 or -32768; measured: iLBC 20 of 68160, all in its
#     first frame, see core/codec_ilbc.c; the others none);
#   - the payloads decoded a second way, by the ffmpeg command-line tool from
#     a storage file that this script builds from the RTP payloads (tshark
#     gives them; awk splits them into frames), each frame placed at its
#     packet's RTP timestamp:
#       G.723.1, iLBC: the same libavcodec decoders, so the WAV must be
#         sample-exact with ffmpeg's PCM (this checks framing, mode choice,
#         sample conversion and placement, not the decoders);
#       AMR: an independent decoder (libavcodec's own amrnb, floating point)
#         and an independent unpacking of the bandwidth-efficient payloads
#         into the storage format. The two decoders differ in detail (phase
#         drift on long stationary sounds), so per 20 ms speech frame of the
#         reference with RMS >= 100: median SNR at least 18 dB (measured
#         26.1) and no frame more than 6 dB louder or quieter (measured
#         4.4). libavcodec has no AMR SID (DTX) support, so SID and NO_DATA
#         frames are left out of the reference.
# Skipped (77) without the captures, tshark or jq; a capture whose codec
# rtpproc was built without is skipped with a note. The ffmpeg comparison is
# skipped (with a note) without ffmpeg or xxd.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WORKDIR
REAL=${SHARED_DIR:-/nonexistent}/captures/real
[ -d "$REAL" ] || skip "$REAL not found"
need_tool tshark jq
setup_workdir

HAVE_FFMPEG=1
for t in ffmpeg xxd; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "note: $t not installed: no comparison with ffmpeg's decoding"
        HAVE_FFMPEG=0
    fi
done

fail=0
bad() {
    echo "FAIL $*"
    fail=1
}

# capture | tshark options (MANIFEST) | --pt-map | codec | rate | samples per frame
CASES=(
    "sample2_vowifi_ipv4_esp_ipv4.pcap||99=AMR/8000|AMR|8000|160"
    "sip-rtp-ilbc.pcap||99=iLBC/8000|iLBC|8000|240"
    "rtpproxy-G723_1.a.pcap|-o rtp.heuristic_rtp:TRUE||G723|8000|240"
)

# tshark_streams FILE OPTS > "src sport dst dport SSRC packets lost" per stream
tshark_streams() {
    # shellcheck disable=SC2086 # OPTS is a word list
    tshark -n -r "$1" $2 -q -z rtp,streams 2>/dev/null | awk '
        $7 ~ /^0x[0-9A-Fa-f]+$/ {
            for (i = 8; i <= NF && $i !~ /^\(.*%\)$/; i++)
                ;
            print $3, $4, $5, $6, "0x" toupper(substr($7, 3)), $(i - 2), $(i - 1)
        }' | sort
}

# tshark_payloads FILE OPTS SSRC > "timestamp payload-hex" per RTP packet of SSRC
tshark_payloads() {
    # shellcheck disable=SC2086
    tshark -n -r "$1" $2 -Y "rtp.ssrc == $3 && !icmp" -T fields -E separator=' ' \
        -e rtp.timestamp -e rtp.payload 2>/dev/null
}

# audio_stats WAV > "rms=R clipped=C samples=N" (R over the non-zero samples)
audio_stats() {
    "$SNDINFO" --dump "$1" | awk '
        { for (k = 1; k <= NF; k++) { x = $k; n++; if (x != 0) { s += x * x; nz++ }
                                      if (x >= 32767 || x <= -32768) c++ } }
        END { printf "rms=%d clipped=%d samples=%d\n", nz ? sqrt(s / nz) : 0, c, n }'
}

# frames_of CODEC < "timestamp hex" > "position hex-frame" per frame for the
# reference decoder: position is the frame's first sample relative to the
# first packet's timestamp; hex-frame is the frame as ffmpeg's demuxer for
# the codec reads it. Exits 1 on a payload it cannot split.
frames_of() {
    awk -v codec="$1" '
        function bits_of(h,   i, s, v) {
            s = ""
            for (i = 1; i <= length(h); i++) {
                v = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
                s = s int(v / 8) % 2 int(v / 4) % 2 int(v / 2) % 2 v % 2
            }
            return s
        }
        function value(s,   i, v) {
            v = 0
            for (i = 1; i <= length(s); i++)
                v = v * 2 + substr(s, i, 1)
            return v
        }
        function hex_of(s,   i, h) {
            h = ""
            for (i = 1; i <= length(s); i += 4)
                h = h substr("0123456789abcdef", value(substr(s, i, 4)) + 1, 1)
            return h
        }
        function fail(why) { print "frames_of: " why > "/dev/stderr"; exit 1 }
        BEGIN {
            # AMR speech bits per frame type 0-8 (RFC 4867 3.6), 15: NO_DATA
            split("95 103 118 134 148 159 204 244 39", amr, " ")
            g723[0] = 24; g723[1] = 20; g723[2] = 4; g723[3] = 0
        }
        {
            if (NR == 1)
                t0 = $1
            rel = ($1 - t0) % 4294967296
            if (rel < 0)
                rel += 4294967296
            h = $2
            if (codec == "AMR") {
                # bandwidth-efficient (RFC 4867 4.3): CMR, 6-bit ToC entries, frames
                b = bits_of(h); p = 5; n = 0
                do {
                    if (p + 6 > length(b) + 1) fail("ToC past the payload")
                    f = substr(b, p, 1); ft[n] = value(substr(b, p + 1, 4))
                    q[n] = substr(b, p + 5, 1); n++; p += 6
                } while (f == 1)
                for (k = 0; k < n; k++) {
                    if (ft[k] > 8 && ft[k] != 15) fail("frame type " ft[k])
                    len = ft[k] == 15 ? 0 : amr[ft[k] + 1]
                    fr = substr(b, p, len); p += len
                    if (length(fr) < len) fail("frame past the payload")
                    if (ft[k] > 7)
                        continue # SID, NO_DATA: not in the reference
                    # storage format (RFC 4867 5.3): 0 FT Q 0 0, bits, zero padding
                    hdr = "0" int(ft[k] / 8) % 2 int(ft[k] / 4) % 2 int(ft[k] / 2) % 2 ft[k] % 2 q[k] "00"
                    while (length(fr) % 8)
                        fr = fr "0"
                    print rel + 160 * k, hex_of(hdr fr)
                }
            } else if (codec == "G723") {
                # RFC 3551 4.5.3: frame length from the low 2 bits of its first octet
                k = 0
                while (length(h) > 0) {
                    t = (index("0123456789abcdef", tolower(substr(h, 2, 1))) - 1) % 4
                    if (g723[t] == 0 || 2 * g723[t] > length(h)) fail("G.723.1 frame")
                    print rel + 240 * k++, substr(h, 1, 2 * g723[t])
                    h = substr(h, 2 * g723[t] + 1)
                }
            } else if (codec == "iLBC") {
                # RFC 3952: 50-octet frames in 30 ms mode
                if (length(h) % 100 != 0) fail("iLBC payload of " length(h) / 2 " octets")
                for (k = 0; 100 * k < length(h); k++)
                    print rel + 240 * k, substr(h, 100 * k + 1, 100)
            }
        }'
}

# ffmpeg_decode CODEC FRAMES OUT.raw: the frames as ffmpeg's demuxer file,
# decoded to 16-bit mono; prints ffmpeg's decoder name.
ffmpeg_decode() {
    local codec=$1 frames=$2 out=$3 file=$2.bin fmt dec
    case $codec in
    AMR) fmt=amr dec=amrnb && printf '#!AMR\n' >"$file" ;;
    iLBC) fmt=ilbc dec=ilbc && printf '#!iLBC30\n' >"$file" ;;
    G723) fmt=g723_1 dec=g723_1 && : >"$file" ;;
    esac
    cut -d' ' -f2 "$frames" | xxd -r -p >>"$file"
    ffmpeg -nostdin -hide_banner -loglevel error -y -c:a "$dec" -f "$fmt" -i "$file" \
        -f s16le -c:a pcm_s16le "$out"
    echo "$dec"
}

# compare CODEC SPF FRAMES REF.raw WAV: checks the WAV against ffmpeg's PCM at
# the frame positions; prints a summary, returns 1 on failure.
compare() {
    local codec=$1 spf=$2 frames=$3 ref=$4 wav=$5 mode=exact
    [ "$codec" = AMR ] && mode=close
    od -An -v -td2 -w2 "$ref" >"$ref.txt"
    "$SNDINFO" --dump "$wav" >"$wav.txt"
    awk -v spf="$spf" -v mode="$mode" '
        FILENAME == ARGV[1] { pos[nf++] = $1; next }
        FILENAME == ARGV[2] { ref[nr++] = $1; next }
        { rec[nw++] = $1 }
        END {
            if (nr != nf * spf) {
                printf "ffmpeg decoded %d samples for %d frames of %d\n", nr, nf, spf
                exit 1
            }
            for (f = 0; f < nf; f++) {
                a = 0; b = 0; e = 0
                for (i = 0; i < spf; i++) {
                    j = pos[f] + i
                    x = ref[f * spf + i]; y = j < nw ? rec[j] : 0
                    if (j >= nw) missing++
                    if (x != y) diff++
                    a += x * x; b += y * y; e += (x - y) * (x - y)
                }
                if (a / spf < 100 * 100)
                    continue
                n++
                snr[n] = e > 0 ? 10 * log(a / e) / log(10) : 99
                db = 10 * log((b + 1) / (a + 1)) / log(10)
                if (db < 0) db = -db
                if (db > maxdb) maxdb = db
            }
            for (i = 1; i <= n; i++)
                for (k = i + 1; k <= n; k++)
                    if (snr[k] < snr[i]) { t = snr[i]; snr[i] = snr[k]; snr[k] = t }
            med = n ? snr[int((n + 1) / 2)] : 0
            if (mode == "exact") {
                printf "%d frames, %d samples differ, %d missing", nf, diff + 0, missing + 0
                exit (diff + missing > 0)
            }
            printf "%d frames (%d speech frames): median SNR %.1f dB, level within %.1f dB, %d missing",
                   nf, n, med, maxdb, missing + 0
            exit (missing > 0 || n < 10 || med < 18 || maxdb > 6)
        }' "$frames" "$ref.txt" "$wav.txt"
}

for c in "${CASES[@]}"; do
    IFS='|' read -r name topts map codec rate spf <<<"$c"
    f=$REAL/$name
    base=$WORKDIR/$name
    if [ ! -f "$f" ]; then
        bad "$name: missing from $REAL"
        continue
    fi
    if "$RTPPROC" --pt-map "96=$codec" -r /nonexistent 2>&1 | grep -q "unknown codec"; then
        echo "skip $name: rtpproc was built without the $codec codec"
        continue
    fi
    tshark_streams "$f" "$topts" >"$base.expected"
    if [ ! -s "$base.expected" ]; then
        bad "$name: tshark listed no streams"
        continue
    fi
    opts=()
    [ -z "$map" ] || opts=(--pt-map "$map")
    if ! "$RTPPROC" -r "$f" -o "$base.out" --json "$base.json" -q "${opts[@]}" \
        >"$base.log" 2>&1; then
        bad "$name: rtpproc failed:"
        sed 's/^/    /' "$base.log"
        continue
    fi
    jq -r '.streams[] | [.src, .sport, .dst, .dport, .ssrc, .packets, .lost]
        | map(tostring) | join(" ")' "$base.json" | sort >"$base.actual"
    if diff -u --label "tshark $name" --label "rtpproc $name" \
        "$base.expected" "$base.actual" >"$base.diff"; then
        echo "ok   $name: $(wc -l <"$base.expected") stream(s) (src sport dst dport SSRC packets lost) as tshark"
    else
        bad "$name: stream tables differ (src sport dst dport SSRC packets lost)"
        sed 's/^/    /' "$base.diff"
    fi

    while read -r file ssrc scodec srate sch frames undec disc; do
        what="$name $ssrc"
        [ "$scodec" = "$codec" ] || bad "$what: codec $scodec, expected $codec"
        [ "$srate" = "$rate" ] || bad "$what: sample_rate $srate, expected $rate"
        [ "$sch" = 1 ] || bad "$what: $sch channels, expected 1"
        [ "$undec" = 0 ] || bad "$what: $undec undecodable packets"
        [ "$disc" = 0 ] || bad "$what: $disc timeline discontinuities"
        if [ "$file" = null ] || [ ! -f "$file" ]; then
            bad "$what: no recording"
            continue
        fi
        info=$(wav_info "$file")
        [ "$info" = "frames=$frames rate=$rate channels=1" ] ||
            bad "$what: WAV '$info', report frames=$frames rate=$rate channels=1"

        tshark_payloads "$f" "$topts" "$ssrc" >"$base.$ssrc.payloads"
        span=$(awk 'NR == 1 { t0 = $1 }
                    { d = ($1 - t0) % 4294967296; if (d < 0) d += 4294967296
                      if (d < 2147483648 && d > m) m = d }
                    END { print m + 0 }' "$base.$ssrc.payloads")
        hi=$((span + rate * 120 / 1000))
        if [ "$frames" -lt "$span" ] || [ "$frames" -gt "$hi" ]; then
            bad "$what: $frames frames, RTP timestamps span $span (expected $span..$hi)"
        fi

        stats=$(audio_stats "$file")
        rms=$(echo "$stats" | sed -E 's/.*rms=([0-9]+).*/\1/')
        clipped=$(echo "$stats" | sed -E 's/.*clipped=([0-9]+).*/\1/')
        samples=$(echo "$stats" | sed -E 's/.*samples=([0-9]+).*/\1/')
        [ "$rms" -ge 300 ] || bad "$what: RMS $rms of the non-zero samples, below 300"
        [ $((clipped * 1000)) -le "$samples" ] ||
            bad "$what: $clipped of $samples samples clipped (more than 0.1 %)"

        ref="not compared with ffmpeg"
        if [ "$HAVE_FFMPEG" = 1 ]; then
            if ! frames_of "$codec" <"$base.$ssrc.payloads" >"$base.$ssrc.frames"; then
                bad "$what: payloads do not split into $codec frames"
            elif ! dec=$(ffmpeg_decode "$codec" "$base.$ssrc.frames" "$base.$ssrc.ref.raw"); then
                bad "$what: ffmpeg could not decode the frames"
            elif res=$(compare "$codec" "$spf" "$base.$ssrc.frames" "$base.$ssrc.ref.raw" "$file"); then
                ref="ffmpeg $dec: $res"
            else
                bad "$what: against ffmpeg $dec: $res"
            fi
        fi
        echo "ok   $what: $codec $rate Hz, $frames frames, $stats; $ref"
    done < <(jq -r '.streams[] | [(.file // "null"), .ssrc, (.codec // "none"), .sample_rate,
                .channels, .frames, .undecodable, .discontinuities] | map(tostring) | join(" ")' \
        "$base.json")
done
exit $fail
