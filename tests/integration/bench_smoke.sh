#!/usr/bin/env bash
# integration.bench_smoke - bench/run in a tiny configuration (20 000 packets,
# 10 streams, 1 repetition, no tshark -T fields) with the build's rtpproc and
# plug-in: the results table is produced, rtpproc's output bytes equal the
# bytes the floor's dd wrote, and every generated stream got a WAV of the
# expected length. No timing is asserted.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SRCDIR WORKDIR SNDINFO
need_tool cc dd awk
setup_workdir

# Under /tmp so that tshark, run as uid 65534 by bench/run, can read the
# captures; kept in $WORKDIR on failure.
T=$(mktemp -d /tmp/rtpproc-bench-smoke.XXXXXX)
# shellcheck disable=SC2154 # rc is assigned inside the trap
trap 'rc=$?; [ $rc -eq 0 ] || cp -a "$T"/. "$WORKDIR"/ 2>/dev/null; rm -rf "$T"' EXIT
chmod 0755 "$T"
tmpfs=$T
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    tmpfs=/dev/shm
fi

args=(--cases 20k:10 --reps 1 --no-fields --noise-case 20k:10 --cache "$T/cache"
    --tmpfs "$tmpfs" --tools-dir "$T/tools" --results "$T/results/smoke.md"
    --keep "$T/keep" --rtpproc "$RTPPROC")
with_tshark=0
with_plugin=0
if command -v tshark >/dev/null 2>&1 && { [ "$(id -u)" -ne 0 ] || command -v setpriv >/dev/null 2>&1; }; then
    with_tshark=1
    # The system tshark cannot load a sanitizer-instrumented module.
    if [ -n "${RTPPROC_PLUGIN:-}" ] && [ -f "$RTPPROC_PLUGIN" ] && [ "${RTPPROC_SANITIZED:-0}" != 1 ]; then
        with_plugin=1
        args+=(--plugin "$RTPPROC_PLUGIN")
    else
        args+=(--no-plugin)
    fi
else
    args+=(--no-tshark)
fi

run_expect 0 bash "$SRCDIR/bench/run" "${args[@]}"
md=$T/results/smoke.md
tsv=$T/results/smoke.tsv
[ -s "$md" ] || fail "no results file"
# bench/run's own output check: every stream recorded with its length.
check=$(awk -F'\t' '$1 == "20000x10" { print $2, $3, $4 }' "$T/results/smoke.checks.tsv")
assert_eq "10 10 0" "$check" "bench/run's output check (streams, as expected, unexpected)"
for row in '## Timings' '| rtpproc (PCM16 WAV) |' '| rtpproc --encoding alaw |' \
    '| rtpproc --sync-writes (no writer thread) |' \
    '| (beside the floor) the same bytes as one file per stream |' \
    '| floor: pcap_next_ex loop |' '| floor: dd of the same bytes |' \
    '| **floor: read + write** |' '## Ratios' '## Memory' '## Issue 7 targets' \
    '| rtpproc (PCM16) within 2x of the floor'; do
    assert_grep "$row" "$md"
done
if [ $with_tshark = 1 ]; then
    assert_grep '| tshark -z rtp,streams |' "$md"
fi
if [ $with_plugin = 1 ]; then
    assert_grep '| tshark -z rtpproc (plug-in) |' "$md"
fi
assert_no_grep '| tshark -T fields -e rtp.payload |' "$md"
cmp -s <(head -n 20 "$RUN_OUT") <(head -n 20 "$md") || fail "bench/run did not print the results"

# Output bytes: rtpproc's recordings (counted by bench/run and here) and dd.
col() { # TOOL COLUMN: the value in the first TSV line of the main case
    awk -F'\t' -v t="$1" -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) n[$i] = i; next }
        $1 == "20000x10" && $5 == t { print $(n[k]); exit }' "$tsv"
}
rec=$(col rtpproc_pcm16 out_bytes)
dd_bytes=$(col floor_dd out_bytes)
kept=$(find "$T/keep" -type f -name '*.wav' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
if [ -z "$rec" ] || [ "$rec" -le 0 ]; then
    fail "no rtpproc output bytes in $tsv"
fi
assert_eq "$rec" "$dd_bytes" "bytes written by dd (floor) against rtpproc"
assert_eq "$rec" "$kept" "bytes of the kept recordings against the measured run"
[ "$(col rtpproc_alaw out_bytes)" -gt 0 ] || fail "rtpproc --encoding alaw wrote nothing"
assert_eq "$rec" "$(col rtpproc_sync out_bytes)" "bytes written with --sync-writes"
assert_eq "$rec" "$(col files_write out_bytes)" "bytes written by bench/filewrite"

# Every generated stream: one WAV, as long as benchgen says (8 kHz, mono).
list=$T/cache/bench-n20000-s10-seed1.list
assert_lines 10 "$list"
assert_eq 10 "$(find "$T/keep" -type f -name '*.wav' | wc -l)" "recordings"
while read -r name frames codec; do
    [ "$codec" = PCMA ] || [ "$codec" = PCMU ] || fail "$list: codec '$codec'"
    check_wav "$T/keep/$name.wav" "$frames" 8000 1
done <"$list"

# The capture has what benchgen announced: records, 10 streams, noise.
meta=$T/cache/bench-n20000-s10-seed1.meta
records=$(sed -n 2p "$meta" | tr ' ' '\n' | sed -n 's/^records=//p')
assert_eq 20000 "$records" "benchgen records"
assert_eq 20000 "$(pcap_count "$T/cache/bench-n20000-s10-seed1.pcap")" "tcpdump records"
echo "PASS"
