#!/usr/bin/env bash
# integration.plugin_compare: "tshark -z rtpproc" and the standalone rtpproc
# tool, both on the same core, give the same results on the same capture:
#   - the same streams with the same figures (the JSON reports, stream by
#     stream, with file paths reduced to their names; the engine counters of
#     datagrams that are not RTP differ and are left out: tshark only taps
#     what it dissects as RTP, the standalone tool sees every UDP datagram);
#   - the same lines in the text report's stream table;
#   - the same recordings (same names, byte-identical files, and the same
#     audio as libsndfile reads it: $SNDINFO --cmp).
# Captures: the project's synthetic captures (captures/*.pcap*, plain UDP:
# tshark needs --enable-heuristic rtp_udp) and every capture of
# $SHARED_DIR/captures/real, each with the tshark options its MANIFEST gives
# (the SIP captures need none: SDP sets the RTP conversations up).
#
# Dynamic payload types: both learn them per media endpoint from the SIP/SDP
# in the capture, with no option (the standalone tool reads SIP over UDP
# itself; the plug-in reads the SIP packets tshark dissects, plus tshark's
# payload names). sip-rtp-l16.pcap, four calls that use PT 99 for L16 at
# four rates and channel layouts, must give four recordings with the rate
# and channel count of each call's SDP.
#
# When tshark does not tap every RTP packet the standalone tool puts in a
# stream, the capture is skipped with its documented reason (KNOWN_DIFF); an
# undocumented difference fails, and so does a documented one that is gone.
#
# Also: two -z rtpproc in one run work independently (the second writes
# without the writer thread, sync-writes, and must give the same files; a third one with
# ssrc= and encoding= gives what the standalone tool gives with --ssrc and
# --encoding), and SIP_DTMF2.pcap's PT 96, named telephone-event only by its
# SDP, is recognised as such by the plug-in without any option.
set -eu
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/plugin_lib.bash"

HEUR=(--enable-heuristic rtp_udp)

# Captures where tshark does not tap what the standalone tool reads as RTP.
declare -A KNOWN_DIFF=(
    [WebRTC_PCMA_Turn_SDES_Call_1]="RTP inside TURN ChannelData (port 3478): tshark's rtp_stun heuristic (on with -o rtp.heuristic_rtp:TRUE) strips the 4-byte ChannelData header and taps the RTP; the standalone tool takes each UDP payload as RTP and finds none"
)

# Standalone options for captures whose SDP only tshark reads: the VoWiFi
# capture's SIP runs over TCP (the standalone tool reads SIP over UDP only),
# so it gets the mapping tshark learns from it, AMR/8000 for PT 99 (where
# the mapping came from, "pt-map" or "sdp", is then not compared).
declare -A SA_OPTS=(
    [sample2_vowifi_ipv4_esp_ipv4]="--pt-map 99=AMR/8000"
)

# The streams of a JSON report, file paths reduced to their names.
norm_streams() {
    jq -S --argjson nosrc "${2:-false}" '.streams | map(.file |= (if . == null then null else split("/") | last end))
        | if $nosrc then map(.formats |= map(del(.source))) else . end' "$1"
}

# The stream table of a text report, without the recording directory.
table_lines() {
    sed -n '/^=* RTP Streams =*$/,/^=*$/p' "$1" | sed "s|$2/||"
}

mkd "$T/pl"
compared=0
skipped=0
declare -A RECORDINGS=()

# compare NAME CAPTURE [TSHARK OPTIONS...]
compare() {
    local name=$1 cap=$2
    shift 2
    local pl=$T/pl/$name sa=$T/sa/$name n_pl n_sa f nrec=0
    [ -r "$cap" ] || {
        echo "-- $name: missing, not compared"
        return 0
    }
    mkd "$pl"
    mkdir -p "$sa"
    # shellcheck disable=SC2086
    run_expect 0 "$RTPPROC" -r "$cap" -o "$sa" --json "$sa.json" ${SA_OPTS[$name]:-}
    cp "$RUN_OUT" "$sa.txt"
    run_expect 0 tshark_u -r "$cap" -q "$@" -z "rtpproc,dir=$pl,json=$T/pl/$name.json"
    cp "$RUN_OUT" "$pl.txt"
    cp "$RUN_ERR" "$pl.err"

    [ ! -s "$pl.err" ] || fail "$name: unexpected stderr: $(cat "$pl.err")"

    n_pl=$(jq '[.streams[].packets] | add // 0' "$T/pl/$name.json")
    n_sa=$(jq '[.streams[].packets] | add // 0' "$sa.json")
    if [ "$n_pl" != "$n_sa" ]; then
        [ -n "${KNOWN_DIFF[$name]:-}" ] ||
            fail "$name: the plug-in has $n_pl packets in streams, the standalone tool $n_sa (tshark options: $*)"
        echo "-- $name: SKIPPED, plug-in $n_pl packets in streams, standalone $n_sa: ${KNOWN_DIFF[$name]}"
        skipped=$((skipped + 1))
        return 0
    fi
    [ -z "${KNOWN_DIFF[$name]:-}" ] ||
        fail "$name: documented as different (${KNOWN_DIFF[$name]}), but both have $n_pl packets"

    local nosrc=false
    [ -z "${SA_OPTS[$name]:-}" ] || nosrc=true
    norm_streams "$T/pl/$name.json" $nosrc >"$pl.streams"
    norm_streams "$sa.json" $nosrc >"$sa.streams"
    diff -u "$sa.streams" "$pl.streams" >&2 || fail "$name: streams differ (- standalone, + plug-in)"
    for f in streams filtered dropped_limit; do
        assert_eq "$(jq ".counters.$f" "$sa.json")" "$(jq ".counters.$f" "$T/pl/$name.json")" \
            "$name: counter $f"
    done
    diff -u <(table_lines "$sa.txt" "$sa") <(table_lines "$pl.txt" "$pl") >&2 ||
        fail "$name: report tables differ (- standalone, + plug-in)"

    assert_eq "$(ls "$sa")" "$(ls "$pl")" "$name: recordings"
    for f in "$sa"/*; do
        [ -e "$f" ] || continue
        f=$(basename "$f")
        cmp -s "$sa/$f" "$pl/$f" || fail "$name: $f differs from the standalone tool's"
        "$SNDINFO" --cmp "$sa/$f" "$pl/$f" >/dev/null || fail "$name: $f: sndinfo --cmp differs"
        nrec=$((nrec + 1))
    done
    RECORDINGS[$name]=$nrec
    compared=$((compared + 1))
    echo "-- $name: $(jq '.streams | length' "$sa.json") streams, $n_sa packets, $nrec identical recordings"
}

echo "== synthetic captures (plain UDP: heuristic RTP)"
SYN=$T/captures
mkdir -p "$SYN"
if compgen -G "$SRCDIR/captures/*.pcap*" >/dev/null; then
    cp "$SRCDIR"/captures/*.pcap* "$SYN"/
elif [ -f "$SRCDIR/captures/make-captures.sh" ]; then
    RTPGEN=$RTPGEN sh "$SRCDIR/captures/make-captures.sh" "$SYN" >/dev/null
else
    "$RTPGEN" -o "$SYN/call-g711.pcap" --bidir --codec pcma --reverse-codec pcmu --packets 400 \
        --rtcp --seed 1 >/dev/null
fi
chmod a+r "$SYN"/*
for cap in "$SYN"/*.pcap*; do
    name=$(basename "$cap")
    compare "${name%.*}" "$cap" "${HEUR[@]}"
done
[ "${RECORDINGS[call-g711]:-0}" -ge 2 ] || fail "call-g711: no recordings compared"

echo "== two -z rtpproc in one run (the second with sync-writes), and a third with ssrc= and encoding=alaw"
call=$SYN/call-g711.pcap
pcma=$(jq -r '.streams[] | select(.codec == "PCMA") | .ssrc' "$T/sa/call-g711.json")
[ -n "$pcma" ] || fail "call-g711: no PCMA stream"
mkd multi multi/A multi/B multi/C
run_expect 0 tshark_u -r "$call" -q "${HEUR[@]}" -z "rtpproc,dir=multi/A,json=multi/A.json" \
    -z "rtpproc,dir=multi/B,json=multi/B.json,sync-writes" \
    -z "rtpproc,dir=multi/C,json=multi/C.json,ssrc=$pcma,encoding=alaw"
[ ! -s "$RUN_ERR" ] || fail "stderr not empty: $(cat "$RUN_ERR")"
assert_eq 3 "$(grep -c '^=* RTP Streams =*$' "$RUN_OUT")" "reports printed"
for d in A B; do
    norm_streams "multi/$d.json" | diff -u "$T/sa/call-g711.streams" - >&2 ||
        fail "-z rtpproc,dir=multi/$d: streams differ from the single run"
    assert_eq "$(ls "$T/pl/call-g711")" "$(ls "multi/$d")" "recordings in multi/$d"
    for f in multi/"$d"/*; do
        cmp -s "$f" "$T/pl/call-g711/$(basename "$f")" || fail "$f differs from the single run"
    done
done
mkdir sa-alaw
run_expect 0 "$RTPPROC" -r "$call" -o sa-alaw --json sa-alaw.json -q --ssrc "$pcma" --encoding alaw
norm_streams sa-alaw.json | diff -u - <(norm_streams multi/C.json) >&2 ||
    fail "ssrc=/encoding=alaw: streams differ from rtpproc --ssrc --encoding alaw"
assert_eq 1 "$(jq '.streams | length' multi/C.json)" "streams with ssrc=$pcma"
# (The standalone tool drops the other streams in its BPF filter already.)
assert_eq "$(jq "[.streams[] | select(.ssrc != \"$pcma\") | .packets] | add" multi/A.json)" \
    "$(jq '.counters.filtered' multi/C.json)" "packets filtered by ssrc="
assert_eq "$(ls sa-alaw)" "$(ls multi/C)" "recordings with ssrc="
f=$(ls multi/C)
cmp -s "sa-alaw/$f" "multi/C/$f" || fail "multi/C/$f differs from rtpproc --encoding alaw"
"$SNDINFO" --cmp "multi/C/$f" "multi/A/$f" >/dev/null ||
    fail "the A-law recording does not hold the audio of the PCM one"
[ "$("$SNDINFO" "multi/C/$f" | sed 's/.*format=//')" != "$("$SNDINFO" "multi/A/$f" | sed 's/.*format=//')" ] ||
    fail "encoding=alaw wrote the same file format as pcm16"

if [ -z "${SHARED_DIR:-}" ] || [ ! -d "$SHARED_DIR/captures/real" ]; then
    echo "(no \$SHARED_DIR/captures/real: real captures not compared)"
    echo "PASS ($compared captures compared, $skipped skipped)"
    exit 0
fi
R=$SHARED_DIR/captures/real

echo "== real captures"
# Without SIP: heuristic RTP (or Decode As, as the MANIFEST says).
for f in sipp-g711a.pcap sipp-dtmf_2833_pound.pcap marseillaise-srtp.pcap ndpi-rtp.pcapng \
    rtpproxy-G723_1.a.pcap rtpproxy-c1.a.pcap rtpproxy-dups.a.pcap rtpproxy-lost.a.pcap \
    rtpproxy-weird.o.pcap webrtc_opus_p2p.pcap webrtc-freeswitch.pcapng; do
    compare "${f%.*}" "$R/$f" "${HEUR[@]}"
done
compare rtpproxy-DLT_NULL.a "$R/rtpproxy-DLT_NULL.a.pcap" -d udp.port==12344,rtp
compare WebRTC_PCMA_Turn_SDES_Call_1 "$R/WebRTC_PCMA_Turn_SDES_Call_1.pcap" \
    -o rtp.heuristic_rtp:TRUE
# SIP/SDP (or, for the VoWiFi capture, RTP tshark finds by itself): no option.
for f in aaa.pcap SIP_DTMF2.pcap sip-rtp-g711.pcap sip-rtp-g722.pcap sip-rtp-g729a.pcap \
    sip-rtp-gsm.pcap sip-rtp-ilbc.pcap sip-rtp-l16.pcap sip-rtp-opus.pcap sip-rtp-speex.pcap \
    sip-rtp-lpc.pcap sip-rtp-dvi4.pcap h263-over-rtp.pcap sample2_vowifi_ipv4_esp_ipv4.pcap; do
    compare "${f%.*}" "$R/$f"
done
for f in sipp-g711a aaa SIP_DTMF2 sip-rtp-g711; do
    [ ! -r "$R/$f.pcap" ] || [ "${RECORDINGS[$f]:-0}" -ge 1 ] ||
        fail "$f: no G.711 recording compared"
done

echo "== SIP_DTMF2: PT 96 is telephone-event by SDP alone"
if [ -r "$R/SIP_DTMF2.pcap" ]; then
    # tshark's own statistics name it from the SDP too.
    tshark -r "$R/SIP_DTMF2.pcap" -q -z rtp,streams 2>/dev/null | grep -q '0x5711BF84 *g711A, telephone-event' ||
        fail "tshark -z rtp,streams does not name PT 96 telephone-event"
    mkd sdp
    run_expect 0 tshark_u -r "$R/SIP_DTMF2.pcap" -q -z "rtpproc,dir=sdp,json=sdp.json"
    s='.streams[] | select(.ssrc == "0x5711BF84")'
    assert_eq '"g711A, telephone-event"' "$(jq "$s | .payload" sdp.json)" "payload names"
    assert_eq "[8,96]" "$(jq -c "$s | .payload_types" sdp.json)" "payload types"
    assert_eq 0 "$(jq "$s | .undecodable" sdp.json)" "undecodable packets"
    assert_eq '"PCMA"' "$(jq "$s | .codec" sdp.json)" "recorded codec"
    assert_grep "g711A, telephone-event" "$RUN_OUT"
    # The standalone tool reads the same SDP ...
    mkdir sdp-sa
    run_expect 0 "$RTPPROC" -r "$R/SIP_DTMF2.pcap" -o sdp-sa --json sdp-sa.json -q
    assert_eq '"g711A, telephone-event"' "$(jq "$s | .payload" sdp-sa.json)" "standalone payload names"
    assert_eq '"sdp"' "$(jq "$s | .formats[] | select(.pt == 96) | .source" sdp-sa.json)" \
        "standalone: PT 96 resolved from SDP"
    # ... and without the SIP packets PT 96 is unknown and the report says
    # how to name it; --pt-map then does what the SDP did.
    tcpdump -r "$R/SIP_DTMF2.pcap" -w nosip.pcap 'not port 5060' 2>/dev/null
    mkdir sdp-nosip sdp-map
    run_expect 0 "$RTPPROC" -r nosip.pcap -o sdp-nosip --json sdp-nosip.json -q
    assert_eq '"g711A, RTPType-96"' "$(jq "$s | .payload" sdp-nosip.json)" "no SIP: payload names"
    jq -r "$s | .note" sdp-nosip.json | grep -q -- '--pt-map 96=' ||
        fail "no SIP: the report does not say that PT 96 needs --pt-map"
    [ "$(jq "$s | .undecodable" sdp-nosip.json)" -gt 0 ] ||
        fail "the standalone tool decoded PT 96 without any mapping"
    run_expect 0 "$RTPPROC" -r nosip.pcap -o sdp-map --json sdp-map.json -q \
        --pt-map 96=telephone-event/8000
    assert_eq '"pt-map"' "$(jq "$s | .formats[] | select(.pt == 96) | .source" sdp-map.json)" \
        "--pt-map: PT 96 source"
    # The events never become audio either way.
    for f in sdp/*.wav; do
        cmp -s "$f" "sdp-sa/$(basename "$f")" || fail "$f differs from the standalone tool's"
        cmp -s "$f" "sdp-nosip/$(basename "$f")" || fail "$f differs without the SIP packets"
        cmp -s "$f" "sdp-map/$(basename "$f")" || fail "$f differs with --pt-map"
    done
fi

echo "== sip-rtp-l16: one PT, four calls, four rates and channel layouts"
if [ -r "$R/sip-rtp-l16.pcap" ]; then
    # What each call's SDP says, in call order: "rate/channels".
    want=$(tshark -r "$R/sip-rtp-l16.pcap" -Y 'sdp and sip.Status-Code == 200' -T fields \
        -e sdp.media_attr 2>/dev/null | sed -n 's|.*rtpmap:99 L16/\([0-9]*\)/\{0,1\}\([0-9]*\).*|\1/\2|p' |
        sed 's|/$|/1|' | tr '\n' ' ')
    [ "$(echo "$want" | wc -w)" = 4 ] || fail "sip-rtp-l16: expected 4 SDP answers, got '$want'"
    for j in "$T/sa/sip-rtp-l16.json" "$T/pl/sip-rtp-l16.json"; do
        got=$(jq -r '.streams | sort_by(.start) | .[] | "\(.sample_rate)/\(.channels)"' "$j" | tr '\n' ' ')
        assert_eq "$want" "$got" "sip-rtp-l16: rate/channels per call ($j)"
    done
    echo "-- rates/channels per call: $want"
fi

echo "PASS ($compared captures compared, $skipped skipped)"
