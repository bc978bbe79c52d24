#!/bin/bash
# integration.threads: --threads N shards the streams over N worker threads
# by 5-tuple; the recordings and the report must be those of one thread:
# every WAV byte-identical, the JSON identical (file paths aside) except the
# probation counters (evicted, expired, peak), which depend on each worker's
# own pool of candidate sources and the datagrams it sees (docs/performance.md). Captures: every pcap/pcapng of
# captures/, rtpgen captures with 40 concurrent two-way streams and
# impairments, SSRC changes with --per-direction, --timing jitter and --plc
# runs, and the real captures of ../shared when present. Also checked: the
# text table is identical, and --threads rejects bad values.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SRCDIR WORKDIR
need_tool jq
setup_workdir
cd "$WORKDIR"

"$RTPGEN" -o many.pcap --streams 40 --bidir --packets 300 --seed 21 --loss-rate 0.03 \
    --jitter 30 --jitter-reorder --dup 10,20 --noise 200 >/dev/null
"$RTPGEN" -o change.pcap --streams 20 --packets 200 --ssrc-change 100 \
    --pause-after 99:500 >/dev/null

caps=("$SRCDIR"/captures/*.pcap "$SRCDIR"/captures/*.pcapng many.pcap change.pcap)
while IFS= read -r f; do caps+=("$f"); done < <(real_captures)

# norm JSON: the report without file paths' directory and the probation
# pool's counters (each worker has its own pool and sees its own datagrams).
norm() {
    jq -S 'del(.counters.probation_evicted, .counters.probation_expired, .counters.probation_peak)
           | .streams[]? |= (if .file then
               .file |= sub("^.*/"; "") else . end)' "$1"
}

n=0
compare() { # NAME OPTS...
    local name=$1
    shift
    local t
    "$RTPPROC" -r "$cap" -o "$name.1" --json "$name.1.json" "$@" >"$name.1.txt" 2>"$name.1.err" ||
        true
    for t in 2 3; do
        "$RTPPROC" -r "$cap" -o "$name.$t" --json "$name.$t.json" --threads "$t" "$@" \
            >"$name.$t.txt" 2>"$name.$t.err" || true
        assert_same_run "$name.1" "$name.$t" "$name --threads $t against one thread" norm
    done
    n=$((n + 1))
}

i=0
for cap in "${caps[@]}"; do
    i=$((i + 1))
    compare "c$i" -q
done
cap=many.pcap
compare many-jitter --timing jitter
compare many-plc --plc
cap=change.pcap
compare change-per-direction --per-direction
w=$(find change-per-direction.1 -name '*.wav' | wc -l)
[ "$w" = 20 ] || fail "--per-direction on 20 directions wrote $w files"
echo "     $n runs identical with --threads 2 and 3 (${#caps[@]} captures)"

for bad in 0 65 abc -1 2x; do
    run_expect 1 "$RTPPROC" -r "$SRCDIR/captures/call-g711.pcap" --no-audio --threads "$bad"
    assert_grep "expected a number of threads from 1 to 64" "$RUN_ERR"
done
echo "PASS: threads"
