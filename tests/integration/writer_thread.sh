#!/bin/bash
# integration.writer_thread: by default a writer thread does the recordings'
# file writes (core/writer.c); --sync-writes does them in the reading thread.
# The files and the report must not depend on it: every WAV byte-identical,
# the JSON and the text report identical (file paths' directory aside), the
# exit status the same. Captures: every pcap/pcapng of captures/, an rtpgen
# capture of 200 concurrent streams (their first writes staggered, many
# buffers queued at once) with --encoding alaw, --rate 16000 and
# --per-direction, --threads 2 (two workers share the writer), and the real
# captures of ../shared when present. A write error (file size limit)
# stops both the same way: exit 1, "write error on" the file.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SRCDIR WORKDIR
need_tool jq
setup_workdir
cd "$WORKDIR"

"$RTPGEN" -o many.pcap --streams 100 --bidir --packets 400 --seed 5 --loss-rate 0.02 --jitter 20 \
    --jitter-reorder --noise 100 >/dev/null
"$RTPGEN" -o change.pcap --streams 20 --packets 200 --ssrc-change 100 \
    --pause-after 99:500 >/dev/null

caps=("$SRCDIR"/captures/*.pcap "$SRCDIR"/captures/*.pcapng many.pcap)
while IFS= read -r f; do caps+=("$f"); done < <(real_captures)

norm() {
    jq -S '.streams[]? |= (if .file then .file |= sub("^.*/"; "") else . end)' "$1"
}

n=0
compare() { # NAME OPTS... : the writer thread against --sync-writes
    local name=$1 s1 s2
    shift
    s1=0
    "$RTPPROC" -r "$cap" -o "$name.s" --json "$name.s.json" --sync-writes "$@" \
        >"$name.s.txt" 2>"$name.s.err" || s1=$?
    s2=0
    "$RTPPROC" -r "$cap" -o "$name.t" --json "$name.t.json" "$@" >"$name.t.txt" 2>"$name.t.err" ||
        s2=$?
    assert_eq "$s1" "$s2" "$name: exit status with the writer thread"
    assert_same_run "$name.s" "$name.t" "$name with the writer thread" norm
    n=$((n + 1))
}

i=0
for cap in "${caps[@]}"; do
    i=$((i + 1))
    compare "c$i" -q
done
cap=many.pcap
compare many-alaw --encoding alaw
w=$(find many-alaw.t -name '*.wav' | wc -l)
[ "$w" = 200 ] || fail "many.pcap: $w recordings, not 200"
compare many-rate --rate 16000
compare many-threads --threads 2
cap=change.pcap
compare change-per-direction --per-direction
echo "     $n runs identical with and without the writer thread (${#caps[@]} captures)"

# A full disk, as a file size limit (SIGXFSZ ignored: write() fails with
# EFBIG). The failure happens on the writer thread; it must still stop the
# run with the file named, like the synchronous write does.
for mode in --sync-writes ""; do
    rm -rf full
    # shellcheck disable=SC2086 # $mode is empty or one word
    run_expect 1 bash -c 'trap "" XFSZ; ulimit -f 40; exec "$@"' sh \
        "$RTPPROC" -r many.pcap -o full -q $mode
    assert_grep "rtpproc: write error on 'full/" "$RUN_ERR"
done
echo "PASS: writer_thread"
