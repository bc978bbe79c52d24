#!/usr/bin/env bash
# integration.stats_compare: rtpproc's stream statistics against tshark 4.0's
# `-z rtp,streams`, on every capture available, with every difference
# produced by a named rule of docs/stream-statistics.md ("Differences from
# tshark -z rtp,streams").
#
# Captures: the project's (captures/*.pcap*, plain UDP, tshark with
# --enable-heuristic rtp_udp), every file of $SHARED_DIR/captures/real (with
# the tshark options its MANIFEST.md gives for that file; skipped when the
# directory is absent), and a capture made here by tests/tools/
# rtp_rules_pcap.py whose streams show each rule (reordering, duplicates,
# wraps, probation, clock change, CN, events, idle split, ...).
#
# Per capture: one tshark run gives the `-z rtp,streams` table and the
# fields of every RTP (and SDP) packet; rtpproc gives its JSON report.
# tests/tools/rtp_stats_compare.py then, per stream keyed (src, sport, dst,
# dport, SSRC):
#   - predicts every column tshark printed from the packets with tshark's
#     own formulas (wireshark-notes.md section 3) and requires equality,
#     which checks the model;
#   - predicts rtpproc's packets, first/last seq, lost, max delta, max and
#     mean jitter with rtpproc's definitions and requires equality;
#   - compares stream set, payload names, packets, first_seq, last_seq
#     (tshark: the last packet's seq), lost, max delta, max and mean jitter:
#     equal, or changed only by named rules (printed with their IDs); any
#     other difference fails.
# One line per capture with the rules applied; details in $WORKDIR/report.txt.
# Needs tshark and python3 (skip otherwise).
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SRCDIR WORKDIR
need_tool tshark python3
setup_workdir

TOOLS=$SRCDIR/tests/tools
REAL=${SHARED_DIR:-/nonexistent}/captures/real
HEUR=(--enable-heuristic rtp_udp)
FIELDS=()
for f in $(python3 "$TOOLS/rtp_stats_compare.py" --fields); do
    FIELDS+=(-e "$f")
done

ARGS=()
n=0
# run_capture NAME FILE TSHARK_OPTION...: tshark and rtpproc outputs of one
# capture, queued for the comparison.
run_capture() {
    local name=$1 file=$2 base
    shift 2
    n=$((n + 1))
    base=$WORKDIR/$n
    # RTP quoted in ICMP errors belongs to no stream (the rtp tap skips it).
    if ! tshark -n -r "$file" "$@" -T fields -E separator=/t -E occurrence=a \
        -E aggregator='|' -E quote=n "${FIELDS[@]}" \
        -Y '(rtp && !icmp && !icmpv6) || sdp' -z rtp,streams \
        >"$base.tshark" 2>"$base.tshark-err"; then
        cat "$base.tshark-err" >&2
        fail "tshark failed on $name"
    fi
    if ! "$RTPPROC" -r "$file" -o "$base.out" --no-audio --json "$base.json" -q \
        >"$base.rtpproc-log" 2>&1; then
        cat "$base.rtpproc-log" >&2
        fail "rtpproc failed on $name"
    fi
    ARGS+=("$name" "$base.tshark" "$base.json")
}

# manifest_options NAME: the options between "-r NAME" and "-q" in the
# MANIFEST's command for NAME; exit status 1 when it has none.
manifest_options() {
    awk -v f="$1" '
        index($0, "- Command: `tshark -n -r " f " ") == 1 {
            s = substr($0, length("- Command: `tshark -n -r " f " ") + 1)
            sub(/ ?-q -z rtp,streams`.*$/, "", s)
            print s
            found = 1
            exit
        }
        END { exit !found }' "$REAL/MANIFEST.md"
}

start=$(date +%s)
python3 "$TOOLS/rtp_rules_pcap.py" "$WORKDIR/rules.pcap"
run_capture rules.pcap "$WORKDIR/rules.pcap" "${HEUR[@]}"

for f in "$SRCDIR"/captures/*.pcap "$SRCDIR"/captures/*.pcapng; do
    [ -f "$f" ] || continue
    run_capture "$(basename "$f")" "$f" "${HEUR[@]}"
done

if [ -d "$REAL" ]; then
    for f in "$REAL"/*; do
        name=$(basename "$f")
        [ "$name" != MANIFEST.md ] || continue
        if opts=$(manifest_options "$name"); then
            read -r -a o <<<"$opts"
        else
            echo "note: $name has no command in MANIFEST.md: --enable-heuristic rtp_udp"
            o=("${HEUR[@]}")
        fi
        run_capture "$name" "$f" ${o[@]+"${o[@]}"}
    done
else
    echo "note: $REAL not found: project and synthetic captures only"
fi

rc=0
python3 "$TOOLS/rtp_stats_compare.py" "${ARGS[@]}" >"$WORKDIR/report.txt" || rc=$?
# One line per capture; the rule details and errors stay in the report,
# except for failed captures.
awk '
    /^(ok  |FAIL) / { show = ($1 == "FAIL"); print; next }
    /^     / { if (show) print; next }
    { print }' "$WORKDIR/report.txt"
[ "$rc" = 0 ] || fail "statistics differ from tshark beyond the named rules (see above, $WORKDIR/report.txt)"

# The synthetic capture is made to show every rule but S2 and N2 (TURN, SIP
# over TCP: real captures only); each must have been applied there.
line=$(grep '^ok   rules.pcap:' "$WORKDIR/report.txt")
for r in S1 S3 P1 P2 N1 L0 L1 L2 L3 L4 J1 J2 J3 J4 J5 J6 J7 D1 D2 D3; do
    case " ${line#*rules: } " in
    *" $r "* | *" $r("*) ;;
    *) fail "rule $r was not applied on rules.pcap: $line" ;;
    esac
done
echo "all $n captures agree with tshark up to the named rules ($(($(date +%s) - start)) s)"
