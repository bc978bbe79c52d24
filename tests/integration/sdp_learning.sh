#!/usr/bin/env bash
# integration.sdp_learning: dynamic payload types named by the SIP/SDP of
# the capture itself (issue 5, "SDP learning"), on the real captures
# sip-rtp-opus, sip-rtp-speex (three calls: PT 99 is speex/8000, /16000 and
# /32000 in turn, all to the same 10.0.2.20:6000) and sip-rtp-ilbc of
# $SHARED_DIR/captures/real (MANIFEST.md).
#
# Per capture, three runs of rtpproc:
#   1. as it is, no option: the stream set is tshark's (`-z rtp,streams`:
#      src, sport, dst, dport, SSRC, packets); every stream's PT 99 is
#      resolved from SDP (JSON formats[0].source "sdp") to the codec, clock
#      rate and channel count of the rtpmap in the SDP that announced the
#      stream's source address and port (read with tshark's sdp.* fields, not
#      with rtpproc); nothing undecodable; one WAV at that rate and channel
#      count, as long as the report says, with plausible audio (RMS of the
#      non-zero samples >= 300, measured 872-1065; at most 0.1 % of the
#      samples at full scale: iLBC's first frame clips 20 of 68160 samples,
#      the same bound as real_codecs_amr_lavc);
#   2. with the SIP removed (tcpdump 'not port 5060'): the same streams, no
#      recording, no file in the output directory, source "none", and the
#      note naming the fix in the JSON and in the table;
#   3. the SIP-less capture with --pt-map 99=NAME/RATE[/CH] from the same
#      rtpmap (source "pt-map"): byte-identical WAVs (cmp) to run 1. One
#      --pt-map cannot give PT 99 three rates, so sip-rtp-speex is decoded a
#      stream at a time (--ssrc).
# Skipped (77) without the captures, tshark, tcpdump or jq, or when rtpproc
# was built without one of the codecs.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO WORKDIR
REAL=${SHARED_DIR:-/nonexistent}/captures/real
[ -d "$REAL" ] || skip "$REAL not found"
need_tool tshark tcpdump jq cmp
setup_workdir

NOTE="dynamic payload type 99: no SDP in the capture names it; use --pt-map 99=NAME/RATE"
# pt, source, clock rate, sample rate, channels, undecodable of a JSON stream
FMT_FIELDS='"\(.formats[0].pt) \(.formats[0].source) \(.formats[0].clock_rate) \(.sample_rate) \(.channels) \(.undecodable)"'
failures=0

bad() {
    echo "FAIL $*"
    failures=$((failures + 1))
}

# sdp_rtpmaps CAP > "ADDR PORT NAME/RATE[/CH]" for PT 99 of every SDP m= line.
sdp_rtpmaps() {
    tshark -n -r "$1" -Y sdp -T fields -E separator='|' \
        -e sdp.connection_info.address -e sdp.media.port -e sdp.media_attr 2>/dev/null |
        awk -F'|' '{
            n = split($3, attr, ",")
            for (i = 1; i <= n; i++)
                if (attr[i] ~ /^rtpmap:99 /) { sub(/^rtpmap:99 /, "", attr[i]); print $1, $2, attr[i] }
        }'
}

# tshark_streams CAP > "SRC SPORT DST DPORT SSRC PACKETS", sorted
tshark_streams() {
    tshark -n -r "$1" -q -z rtp,streams 2>/dev/null |
        awk '$3 ~ /^[0-9.]+$/ && $7 ~ /^0x/ { print $3, $4, $5, $6, $7, $9 }' | sort
}

# rtpproc_streams JSON > the same fields from rtpproc's report, sorted
rtpproc_streams() {
    jq -r '.streams[] | "\(.src) \(.sport) \(.dst) \(.dport) \(.ssrc) \(.packets)"' "$1" | sort
}

# audio_stats WAV > "rms=R clipped=C samples=N" (R over the non-zero samples)
audio_stats() {
    "$SNDINFO" --dump "$1" | awk '
        {
            for (k = 1; k <= NF; k++) {
                x = $k; n++
                if (x != 0) { s += x * x; nz++ }
                if (x >= 32767 || x <= -32768) c++
            }
        }
        END { printf "rms=%d clipped=%d samples=%d\n", nz ? sqrt(s / nz) : 0, c, n }'
}

# run_rtpproc OUT CAP ARGS...: records into OUT/, report OUT.json and OUT.txt
run_rtpproc() {
    local out=$1 cap=$2 rc=0
    shift 2
    "$RTPPROC" -r "$cap" -o "$out" --json "$out.json" "$@" >"$out.txt" 2>"$out.err" || rc=$?
    if [ $rc -ne 0 ]; then
        sed 's/^/    /' "$out.err"
        fail "rtpproc -r $cap $* exited with $rc"
    fi
}

# check_sdp_run NAME: run 1 checks; appends "SSRC FILE MAP" per recorded
# stream to $WORKDIR/NAME.recorded
check_sdp_run() {
    local name=$1 cap=$REAL/sip-rtp-$1.pcap out=$WORKDIR/$1-sdp
    run_rtpproc "$out" "$cap"
    local want got
    want=$(tshark_streams "$cap")
    got=$(rtpproc_streams "$out.json")
    [ -n "$want" ] || fail "$name: tshark lists no RTP stream"
    [ "$got" = "$want" ] || bad "$name: streams differ from tshark's:
$(diff <(echo "$want") <(echo "$got") | sed 's/^/    /')"

    sdp_rtpmaps "$cap" >"$WORKDIR/$name.rtpmaps"
    : >"$WORKDIR/$name.recorded"
    local src sport ssrc map cname rate ch j codec file info frames stats rms clipped samples
    while read -r src sport ssrc; do
        # The sender's own SDP (its m= port is its RTP source port here).
        map=$(awk -v a="$src" -v p="$sport" '$1 == a && $2 == p { m = $3 } END { print m }' \
            "$WORKDIR/$name.rtpmaps")
        if [ -z "$map" ]; then
            bad "$name $ssrc: no SDP announces $src:$sport"
            continue
        fi
        IFS=/ read -r cname rate ch <<<"$map"
        ch=${ch:-1}
        j=$(jq -c --arg s "$ssrc" '.streams[] | select(.ssrc == $s)' "$out.json")
        codec=$(jq -r '.codec' <<<"$j")
        # SDP encoding names are case-insensitive (RFC 4566 6).
        [ "${codec,,}" = "${cname,,}" ] || bad "$name $ssrc: codec '$codec', SDP says $cname"
        want="99 sdp $rate $rate $ch 0"
        got=$(jq -r "$FMT_FIELDS" <<<"$j")
        [ "$got" = "$want" ] ||
            bad "$name $ssrc: pt/source/clock/rate/channels/undecodable '$got', expected '$want' (SDP $map)"
        file=$(jq -r '.file' <<<"$j")
        if [ "$file" = null ] || [ ! -f "$file" ]; then
            bad "$name $ssrc: no recording ($(jq -r .note <<<"$j"))"
            continue
        fi
        frames=$(jq -r '.frames' <<<"$j")
        info=$(wav_info "$file")
        [ "$info" = "frames=$frames rate=$rate channels=$ch" ] ||
            bad "$name $ssrc: WAV '$info', expected frames=$frames rate=$rate channels=$ch"
        stats=$(audio_stats "$file")
        rms=$(echo "$stats" | sed -E 's/.*rms=([0-9]+).*/\1/')
        clipped=$(echo "$stats" | sed -E 's/.*clipped=([0-9]+).*/\1/')
        samples=$(echo "$stats" | sed -E 's/.*samples=([0-9]+).*/\1/')
        [ "$rms" -ge 300 ] || bad "$name $ssrc: RMS $rms of the non-zero samples, below 300"
        [ $((clipped * 1000)) -le "$samples" ] ||
            bad "$name $ssrc: $clipped of $samples samples clipped (more than 0.1 %)"
        echo "     $name $ssrc: SDP $map -> $codec, $info, $stats"
        echo "$ssrc $file 99=$map" >>"$WORKDIR/$name.recorded"
    done < <(jq -r '.streams[] | "\(.src) \(.sport) \(.ssrc)"' "$out.json")
}

# check_nosip_run NAME STRIPPED: run 2 checks
check_nosip_run() {
    local name=$1 cap=$2 out=$WORKDIR/$1-nosip
    run_rtpproc "$out" "$cap"
    local want got
    want=$(tshark_streams "$REAL/sip-rtp-$name.pcap")
    got=$(rtpproc_streams "$out.json")
    [ "$got" = "$want" ] || bad "$name without SIP: streams differ from the capture's"
    got=$(jq -r --arg n "$NOTE" '.streams[] |
        select(.file != null or .note != $n or .formats[0].source != "none" or .codec != null) |
        .ssrc' "$out.json")
    [ -z "$got" ] || bad "$name without SIP: streams recorded or without the --pt-map note: $got"
    [ -z "$(ls -A "$out")" ] || bad "$name without SIP: files written: $(ls "$out")"
    local n
    n=$(grep -cF -- "$NOTE" "$out.txt" || true)
    [ "$n" = "$(jq '.streams | length' "$out.json")" ] ||
        bad "$name without SIP: the table shows the note $n times for $(jq '.streams | length' "$out.json") streams"
}

# check_map_run NAME STRIPPED "SSRC FILE MAP"...: run 3 checks
check_map_run() {
    local name=$1 cap=$2 line ssrc file map args out
    shift 2
    local k=0
    for line in "$@"; do
        read -r ssrc file map <<<"$line"
        k=$((k + 1))
        out=$WORKDIR/$name-map$k
        args=(--pt-map "$map")
        [ $# -eq 1 ] || args+=(--ssrc "$ssrc")
        run_rtpproc "$out" "$cap" "${args[@]}"
        local j mfile
        j=$(jq -c --arg s "$ssrc" '.streams[] | select(.ssrc == $s)' "$out.json")
        [ "$(jq -r '.formats[0].source' <<<"$j")" = pt-map ] ||
            bad "$name $ssrc with --pt-map $map: source '$(jq -r '.formats[0].source' <<<"$j")', expected pt-map"
        mfile=$(jq -r '.file' <<<"$j")
        if [ "$mfile" = null ] || [ ! -f "$mfile" ]; then
            bad "$name $ssrc with --pt-map $map: no recording"
        elif ! cmp -s "$file" "$mfile"; then
            bad "$name $ssrc: --pt-map $map gives another WAV than SDP ($mfile vs $file)"
        else
            echo "     $name $ssrc: --pt-map $map without SIP = SDP recording (cmp)"
        fi
    done
}

for name in opus speex ilbc; do
    cap=$REAL/sip-rtp-$name.pcap
    [ -f "$cap" ] || skip "$cap not found"
    # Built with the codec? (--pt-map refuses a name without a decoder.)
    if ! "$RTPPROC" -r "$cap" --no-audio --pt-map "99=$name/8000" -q 2>"$WORKDIR/probe.err"; then
        grep -q "unknown codec" "$WORKDIR/probe.err" && skip "rtpproc was built without $name"
        fail "$name: rtpproc: $(cat "$WORKDIR/probe.err")"
    fi
    check_sdp_run "$name"
    stripped=$WORKDIR/$name-nosip.pcap
    tcpdump -r "$cap" -w "$stripped" 'not port 5060' 2>/dev/null
    [ "$(pcap_count "$stripped" 'port 5060')" = 0 ] || fail "$name: SIP left in $stripped"
    check_nosip_run "$name" "$stripped"
    mapfile -t recorded <"$WORKDIR/$name.recorded"
    [ ${#recorded[@]} -gt 0 ] || continue
    check_map_run "$name" "$stripped" "${recorded[@]}"
done

# --guess-codecs: without SIP, Opus is recognised from its TOC bytes and
# timestamps (source "heuristic"; the RP_OPUS_RUN = 10 packets of the run
# are undecodable, the rest decoded), and no other unnamed payload is taken
# for Opus: Speex, iLBC, L16 and telephone-event without their SIP.
echo "== --guess-codecs"
tcpdump -r "$REAL/sip-rtp-opus.pcap" -w "$WORKDIR/g-opus.pcap" 'not port 5060' 2>/dev/null
run_rtpproc "$WORKDIR/g-opus" "$WORKDIR/g-opus.pcap" -q --guess-codecs
got=$(jq -r '.streams[] | "\(.formats[0].codec) \(.formats[0].source) \(.undecodable) \(.sample_rate)"' \
    "$WORKDIR/g-opus.json")
[ "$got" = "opus heuristic 9 48000" ] || bad "opus without SIP, --guess-codecs: '$got'"
f=$(jq -r '.streams[0].file' "$WORKDIR/g-opus.json")
st=$(audio_stats "$f")
rmsv=${st#rms=}
rmsv=${rmsv%% *}
[ "$rmsv" -ge 300 ] || bad "opus recognised, but the audio is too quiet ($st)"
for other in speex ilbc l16; do
    [ -f "$REAL/sip-rtp-$other.pcap" ] || continue
    tcpdump -r "$REAL/sip-rtp-$other.pcap" -w "$WORKDIR/g-$other.pcap" 'not port 5060' 2>/dev/null
    run_rtpproc "$WORKDIR/g-$other" "$WORKDIR/g-$other.pcap" -q --guess-codecs --no-audio
    n=$(jq '[.streams[].formats[] | select(.source == "heuristic")] | length' "$WORKDIR/g-$other.json")
    [ "$n" = 0 ] || bad "$other without SIP was taken for Opus by --guess-codecs"
done
if [ -f "$REAL/SIP_DTMF2.pcap" ]; then
    tcpdump -r "$REAL/SIP_DTMF2.pcap" -w "$WORKDIR/g-dtmf.pcap" 'not port 5060' 2>/dev/null
    run_rtpproc "$WORKDIR/g-dtmf" "$WORKDIR/g-dtmf.pcap" -q --guess-codecs --no-audio
    n=$(jq '[.streams[].formats[] | select(.source == "heuristic")] | length' "$WORKDIR/g-dtmf.json")
    [ "$n" = 0 ] || bad "SIP_DTMF2's PT 96 events were taken for Opus by --guess-codecs"
fi

[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "sdp_learning: ok"
