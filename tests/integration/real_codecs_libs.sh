#!/usr/bin/env bash
# integration.real_codecs_libs: the library-backed decoders G.729 (bcg729),
# Opus (libopus) and Speex (libspeex) on the real third-party captures of
# $SHARED_DIR/captures/real (see its MANIFEST.md).
#
# Per capture:
#   - the stream set equals tshark 4.0's `-z rtp,streams` (with the
#     MANIFEST's options): src, sport, dst, dport, SSRC, packets and lost;
#   - duplicates equal the repeated sequence numbers tshark shows;
# and per stream:
#   - the codec and one WAV at the codec's rate and channel count (libsndfile
#     reads the file's header and frame count), nothing undecodable;
#   - the WAV's length agrees with the RTP timestamps: at least the span
#     from the first to the last timestamp, at most one packet (120 ms) more;
#   - plausible audio: RMS of the non-zero samples above 300 (the prompts
#     measure 830-4800), and no clipping burst (3 or more consecutive samples
#     at full scale);
#   - G.729: sample-exact with Wireshark's g729 codec plug-in (bcg729),
#     silence elsewhere ($WSCHECK --codec g729); skipped with a note when
#     wscheck has no --codec option or was built without Wireshark. The
#     captures carry no Annex B SID frames (all payloads are 10 or 20 bytes),
#     where rtpproc differs from Wireshark 4.0 by design (core/codec_g729.c);
#   - Opus: the sender is mono (MANIFEST) and the map says opus/48000/2, so
#     the recording is stereo with equal channels (libopus upmix).
#
# Dynamic PTs: sip-rtp-opus uses --pt-map 99=opus/48000/2 (its SDP's
# rtpmap). sip-rtp-speex carries three calls that all map PT 99, to
# speex/8000, /16000 and /32000; each stream's rate is read from the SDP
# that announced its source address and port (tshark's sdp.* fields), and
# the stream is decoded on its own (--ssrc) with that --pt-map.
# Skipped (77) without the captures, tshark or jq, or when rtpproc was built
# without one of the three codecs.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WSCHECK WORKDIR
REAL=${SHARED_DIR:-/nonexistent}/captures/real
[ -d "$REAL" ] || skip "$REAL not found"
need_tool tshark jq
setup_workdir

for codec in G729 opus speex; do
    if "$RTPPROC" --pt-map "96=$codec" -r /nonexistent 2>&1 | grep -q "unknown codec"; then
        skip "rtpproc was built without the $codec codec"
    fi
done

WS_CODEC=0
ws_rc=0
"$WSCHECK" --help >"$WORKDIR/wscheck-help" 2>&1 || ws_rc=$?
if [ "$ws_rc" -eq 77 ]; then
    echo "note: wscheck was built without Wireshark: no G.729 comparison"
elif grep -q -- "--codec" "$WORKDIR/wscheck-help"; then
    WS_CODEC=1
else
    echo "note: wscheck has no --codec option yet: no G.729 comparison"
fi

fail=0
bad() {
    echo "FAIL $*"
    fail=1
}

# capture | tshark options (MANIFEST) | codec | rate | channels | pt-map
CASES=(
    "sip-rtp-g729a.pcap||G729|8000|1|"
    "rtpproxy-c1.a.pcap|--enable-heuristic rtp_udp|G729|8000|1|"
    "rtpproxy-dups.a.pcap|--enable-heuristic rtp_udp|G729|8000|1|"
    "rtpproxy-lost.a.pcap|--enable-heuristic rtp_udp|G729|8000|1|"
    "rtpproxy-weird.o.pcap|--enable-heuristic rtp_udp|G729|8000|1|"
    "sip-rtp-opus.pcap||opus|48000|2|99=opus/48000/2"
    "sip-rtp-speex.pcap||speex|sdp|1|"
)

# tshark_streams FILE OPTS > "src sport dst dport SSRC packets lost" per stream
tshark_streams() {
    # shellcheck disable=SC2086 # OPTS is a word list
    tshark -n -r "$1" $2 -q -z rtp,streams 2>/dev/null | awk '
        $7 ~ /^0x[0-9A-Fa-f]+$/ {
            for (i = 8; i <= NF; i++)
                if ($i ~ /^\(.*%\)$/)
                    break
            print $3, $4, $5, $6, "0x" toupper(substr($7, 3)), $(i - 2), $(i - 1)
        }' | sort
}

# tshark_packets FILE OPTS > "SSRC seq timestamp" per RTP packet, capture order
tshark_packets() {
    # shellcheck disable=SC2086
    tshark -n -r "$1" $2 -T fields -E separator=' ' -e rtp.ssrc -e rtp.seq -e rtp.timestamp \
        -Y 'rtp && !icmp' 2>/dev/null | awk '{ print "0x" toupper(substr($1, 3)), $2, $3 }'
}

# sdp_rate FILE ADDR PORT CODEC: the clock rate of CODEC in the SDP whose
# connection address and media port are ADDR and PORT (empty if none).
sdp_rate() {
    tshark -n -r "$1" -Y sdp -T fields -E separator='|' -e sdp.connection_info.address \
        -e sdp.media.port -e sdp.mime.type -e sdp.sample_rate 2>/dev/null |
        awk -F'|' -v a="$2" -v p="$3" -v c="$4" '
            $1 == a && $2 == p {
                n = split($3, names, ",")
                split($4, rates, ",")
                for (i = 1; i <= n; i++)
                    if (names[i] == c) { print rates[i]; exit }
            }'
}

# audio_stats WAV > "rms=R clipburst=N lrdiff=D" (D: frames whose two channels differ)
audio_stats() {
    "$SNDINFO" --dump "$1" | awk '
        {
            for (k = 1; k <= NF; k++) {
                x = $k
                a = x < 0 ? -x : x
                if (x != 0) { s += x * x; nz++ }
                if (a >= 32767) { run++; if (run >= 3) burst++ } else run = 0
            }
            if (NF == 2 && $1 != $2) d++
        }
        END { printf "rms=%d clipburst=%d lrdiff=%d\n", nz ? sqrt(s / nz) : 0, burst, d }'
}

# check_stream NAME JSON_LINE CODEC RATE CHANNELS PACKETS_FILE
check_stream() {
    local name=$1 line=$2 codec=$3 rate=$4 ch=$5 pk=$6
    local file src sport dst dport ssrc scodec srate sch frames undec
    read -r file src sport dst dport ssrc scodec srate sch frames undec <<<"$line"
    local what="$name $ssrc"
    [ "$scodec" = "$codec" ] || bad "$what: codec $scodec, expected $codec"
    [ "$srate" = "$rate" ] || bad "$what: sample_rate $srate, expected $rate"
    [ "$sch" = "$ch" ] || bad "$what: channels $sch, expected $ch"
    [ "$undec" = 0 ] || bad "$what: $undec undecodable packets"
    if [ "$file" = null ]; then
        bad "$what: no recording"
        return
    fi
    local info
    info=$(wav_info "$file")
    [ "$info" = "frames=$frames rate=$rate channels=$ch" ] ||
        bad "$what: WAV '$info', report frames=$frames rate=$rate channels=$ch"

    # RTP timestamp span (32-bit, in capture order) at the output rate.
    local span
    span=$(awk -v s="$ssrc" '
        $1 == s {
            if (!n++) first = $3
            d = ($3 - first) % 4294967296
            if (d < 0) d += 4294967296
            if (d < 2147483648 && d > max) max = d
        }
        END { print max + 0 }' "$pk")
    local clock=$rate
    [ "$codec" = opus ] && clock=48000
    local lo=$((span * rate / clock)) hi=$((span * rate / clock + rate * 120 / 1000))
    if [ "$frames" -lt "$lo" ] || [ "$frames" -gt "$hi" ]; then
        bad "$what: $frames frames, RTP timestamps span $lo (expected $lo..$hi)"
    fi

    local stats rms burst lrdiff
    stats=$(audio_stats "$file")
    rms=$(echo "$stats" | sed -E 's/.*rms=([0-9]+).*/\1/')
    burst=$(echo "$stats" | sed -E 's/.*clipburst=([0-9]+).*/\1/')
    lrdiff=$(echo "$stats" | sed -E 's/.*lrdiff=([0-9]+).*/\1/')
    [ "$rms" -ge 300 ] || bad "$what: RMS $rms of the non-zero samples, below 300"
    [ "$burst" -eq 0 ] || bad "$what: $burst samples in clipping bursts"
    if [ "$codec" = opus ]; then
        [ "$lrdiff" -eq 0 ] || bad "$what: mono sender, but $lrdiff frames differ L/R"
    fi
    local ws="not compared"
    if [ "$codec" = G729 ] && [ "$WS_CODEC" = 1 ]; then
        local rc=0
        "$WSCHECK" --codec g729 "$REAL/$name" "$file" "$src" "$sport" "$dst" "$dport" "$ssrc" \
            >"$file.wscheck" 2>&1 || rc=$?
        if [ $rc -eq 0 ]; then
            ws="Wireshark g729: $(tail -n 1 "$file.wscheck")"
        else
            bad "$what: wscheck --codec g729 exit $rc:"
            sed 's/^/    /' "$file.wscheck"
        fi
    fi
    echo "ok   $what: $codec $rate Hz x$ch, $frames frames, $stats; $ws"
}

for c in "${CASES[@]}"; do
    IFS='|' read -r name topts codec rate ch map <<<"$c"
    f=$REAL/$name
    base=$WORKDIR/$name
    if [ ! -f "$f" ]; then
        bad "$name: missing from $REAL"
        continue
    fi
    tshark_streams "$f" "$topts" >"$base.expected"
    tshark_packets "$f" "$topts" >"$base.packets"
    [ -s "$base.expected" ] || {
        bad "$name: tshark listed no streams"
        continue
    }

    # One run, or for per-stream rates (speex) one run per stream with its map.
    runs=()
    if [ "$rate" = sdp ]; then
        while read -r src sport _ _ ssrc _; do
            r=$(sdp_rate "$f" "$src" "$sport" "$codec")
            if [ -z "$r" ]; then
                bad "$name $ssrc: no SDP for $src:$sport"
                continue
            fi
            runs+=("$ssrc|$r|--ssrc $ssrc --pt-map 99=$codec/$r")
        done <"$base.expected"
    else
        opts=""
        [ -n "$map" ] && opts="--pt-map $map"
        runs+=("all|$rate|$opts")
    fi
    : >"$base.actual"
    : >"$base.checks"
    i=0
    for r in "${runs[@]}"; do
        IFS='|' read -r tag rrate ropts <<<"$r"
        i=$((i + 1))
        # shellcheck disable=SC2086 # ropts is a word list
        if ! "$RTPPROC" -r "$f" -o "$base.out$i" --json "$base.$i.json" -q $ropts \
            >"$base.$i.log" 2>&1; then
            bad "$name ($tag): rtpproc failed:"
            sed 's/^/    /' "$base.$i.log"
            continue
        fi
        jq -r '.streams[] | [.src, .sport, .dst, .dport, .ssrc, .packets, .lost]
            | map(tostring) | join(" ")' "$base.$i.json" >>"$base.actual"
        jq -r '.streams[] | [.ssrc, (.duplicates // 0)] | map(tostring) | join(" ")' \
            "$base.$i.json" >>"$base.dups"
        jq -r --arg rate "$rrate" '.streams[] | [(.file // "null"), .src, .sport, .dst, .dport,
            .ssrc, (.codec // "none"), .sample_rate, .channels, .frames, .undecodable]
            | map(tostring) | join(" ")' "$base.$i.json" | sed "s/^/$rrate /" >>"$base.checks"
    done
    sort -o "$base.actual" "$base.actual"
    if diff -u --label "tshark $name" --label "rtpproc $name" \
        "$base.expected" "$base.actual" >"$base.diff"; then
        echo "ok   $name: $(wc -l <"$base.expected") streams (src sport dst dport SSRC packets lost) as tshark"
    else
        bad "$name: stream tables differ (src sport dst dport SSRC packets lost)"
        sed 's/^/    /' "$base.diff"
    fi
    # Duplicates: sequence numbers seen more than once per SSRC (tshark).
    while read -r ssrc dups; do
        want=$(awk -v s="$ssrc" '$1 == s { if (seen[$2]++) d++ } END { print d + 0 }' \
            "$base.packets")
        [ "$dups" = "$want" ] || bad "$name $ssrc: $dups duplicates, tshark shows $want"
    done <"$base.dups"
    while read -r rrate line; do
        check_stream "$name" "$line" "$codec" "$rrate" "$ch" "$base.packets"
    done <"$base.checks"
done

# --plc on Opus: one packet (seq 23945) dropped from sip-rtp-opus. Its 20 ms
# are concealed (libopus, decode_fec with the next packet), nothing is
# silence, the recording keeps its length, and the packets around the loss
# are decoded as without --plc except where libopus's concealment state
# carries on (the first packets after the gap).
if [ -f "$REAL/sip-rtp-opus.pcap" ]; then
    tcpdump -r "$REAL/sip-rtp-opus.pcap" -w "$WORKDIR/opus-loss.pcap" \
        'not (udp and udp[8] & 0xc0 = 0x80 and udp[10:2] = 23945)' 2>/dev/null
    for mode in plain plc; do
        extra=()
        [ "$mode" = plc ] && extra=(--plc)
        "$RTPPROC" -r "$WORKDIR/opus-loss.pcap" -o "$WORKDIR/opus-$mode" --force -q \
            --json "$WORKDIR/opus-$mode.json" "${extra[@]}" || bad "opus $mode: rtpproc failed"
    done
    p=$(jq -c '.streams[0] | [.lost, .silence_frames, .concealed_frames, .frames]' "$WORKDIR/opus-plain.json")
    c=$(jq -c '.streams[0] | [.lost, .silence_frames, .concealed_frames, .frames]' "$WORKDIR/opus-plc.json")
    [ "$p" = "[1,960,0,408000]" ] || bad "opus loss without --plc: [lost,silence,concealed,frames] $p"
    [ "$c" = "[1,0,960,408000]" ] || bad "opus loss with --plc: [lost,silence,concealed,frames] $c"
    echo "opus one loss: without --plc $p, with --plc $c"
fi
exit $fail
