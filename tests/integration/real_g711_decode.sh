#!/usr/bin/env bash
# integration.real_g711_decode: rtpproc's G.711 recordings of real captures
# checked sample by sample against Wireshark's own G.711 codec plug-ins
# (tests/tools/wscheck.c: decode with find_codec("g711A"/"g711U"), place at
# extended RTP timestamp - first timestamp, everything else silence).
#
#   1. default PCM16 recordings of every G.711 stream of four real captures;
#   2. --encoding alaw (native A-law WAV) of the PCMA captures: the stored
#      bytes must be the RTP payload bytes (wscheck --alaw);
#   3. --encoding ulaw of the PCMU stream of sip-rtp-g711 (wscheck --ulaw).
# Skipped (77) without $SHARED_DIR/captures/real, jq, or a wscheck built
# with Wireshark.
set -eu

: "${RTPPROC:?}" "${WSCHECK:?}" "${WORKDIR:?}"
REAL=${SHARED_DIR:-/nonexistent}/captures/real
if [ ! -d "$REAL" ]; then
    echo "skip: $REAL not found"
    exit 77
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "skip: jq not installed"
    exit 77
fi
rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"
cd "$WORKDIR"

# capture | number of streams carrying PT 0/8 (MANIFEST.md's tables)
CASES=(
    "sipp-g711a.pcap|1"
    "aaa.pcap|1"
    "SIP_DTMF2.pcap|2"
    "sip-rtp-g711.pcap|2"
)

fail=0
skipped=0

# run_rtpproc NAME TAG [rtpproc options...]: records into $WORKDIR/TAG-NAME/.
run_rtpproc() {
    local name=$1 tag=$2
    shift 2
    if ! "$RTPPROC" -r "$REAL/$name" -o "$WORKDIR/$tag-$name" --json "$WORKDIR/$tag-$name.json" \
        -q "$@" >"$WORKDIR/$tag-$name.log" 2>&1; then
        echo "FAIL $name ($tag): rtpproc failed:"
        sed 's/^/    /' "$WORKDIR/$tag-$name.log"
        return 1
    fi
}

# streams JSON PTS: "file src sport dst dport ssrc" for every stream whose
# payload types include one of PTS (a jq array such as [0,8]) and, with
# ONLY=1, no other G.711 law; "null" as file when none was written.
streams() {
    jq -r --argjson want "$2" --argjson only "${3:-0}" '
        .streams[]
        | select(any(.payload_types[]; . as $p | $want | index($p)))
        | select($only == 0 or ([.payload_types[] | select(. == 0 or . == 8)] - $want | length) == 0)
        | [(.file // "null"), .src, (.sport|tostring), .dst, (.dport|tostring), .ssrc] | join(" ")' "$1"
}

# check NAME TAG JSON PTS ONLY EXPECTED [wscheck mode option]
check() {
    local name=$1 tag=$2 json=$3 pts=$4 only=$5 expected=$6 mode=${7:-}
    local n=0 file src sport dst dport ssrc rc
    while read -r file src sport dst dport ssrc; do
        n=$((n + 1))
        if [ "$file" = null ]; then
            echo "FAIL $name ($tag): no recording for $src:$sport -> $dst:$dport $ssrc"
            fail=1
            continue
        fi
        rc=0
        # shellcheck disable=SC2086 # empty mode means no option
        "$WSCHECK" $mode "$REAL/$name" "$file" "$src" "$sport" "$dst" "$dport" "$ssrc" \
            >"$file.wscheck" 2>&1 || rc=$?
        if [ $rc -eq 77 ]; then
            skipped=1
            return 0
        elif [ $rc -eq 0 ]; then
            echo "ok   $name ($tag) $ssrc: $(tail -n 1 "$file.wscheck")"
        else
            echo "FAIL $name ($tag) $src:$sport -> $dst:$dport $ssrc (wscheck exit $rc):"
            sed 's/^/    /' "$file.wscheck"
            fail=1
        fi
    done < <(streams "$json" "$pts" "$only")
    if [ "$n" -lt "$expected" ]; then
        echo "FAIL $name ($tag): $n G.711 streams in the report, expected $expected"
        fail=1
    fi
}

for c in "${CASES[@]}"; do
    name=${c%%|*}
    expected=${c#*|}
    run_rtpproc "$name" pcm16 || { fail=1; continue; }
    check "$name" pcm16 "$WORKDIR/pcm16-$name.json" '[0,8]' 0 "$expected"
done

# Native A-law storage of the PCMA captures: no transcoding, so the WAV's
# bytes are the payload bytes at the same positions.
for c in "sipp-g711a.pcap|1" "SIP_DTMF2.pcap|2" "sip-rtp-g711.pcap|1"; do
    name=${c%%|*}
    expected=${c#*|}
    run_rtpproc "$name" alaw --encoding alaw || { fail=1; continue; }
    check "$name" alaw "$WORKDIR/alaw-$name.json" '[8]' 1 "$expected" --alaw
done

# Native u-law storage of the PCMU stream.
run_rtpproc sip-rtp-g711.pcap ulaw --encoding ulaw || fail=1
if [ -f "$WORKDIR/ulaw-sip-rtp-g711.pcap.json" ]; then
    check sip-rtp-g711.pcap ulaw "$WORKDIR/ulaw-sip-rtp-g711.pcap.json" '[0]' 1 1 --ulaw
fi

if [ $skipped -eq 1 ] && [ $fail -eq 0 ]; then
    echo "skip: wscheck was built without Wireshark"
    exit 77
fi
exit $fail
