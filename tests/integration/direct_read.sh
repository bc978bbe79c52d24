#!/bin/bash
# integration.direct_read: classic pcap files are read in place (pread into
# a large buffer, standalone/pcap_source.c), not through libpcap; stdin is
# always read by libpcap. Both readers must give the same result on every
# capture: the same report (text and JSON), the same recordings byte for
# byte, the same -w file, the same exit status and the same message. Covered:
# every pcap/pcapng of captures/ and of ../shared's real captures, a 4 MB
# capture (records straddle the 1 MiB buffer), the same in the other byte
# order and with nanosecond timestamps, records longer than the file's
# snapshot length (libpcap cuts them), a record longer than libpcap accepts,
# and files cut inside a record header and inside a record. strace shows
# that the file is read with pread64 and stdin is not.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SRCDIR WORKDIR
need_tool strace
setup_workdir
cd "$WORKDIR"
craft="perl $SRCDIR/tests/tools/pcapcraft.pl"

mkdir caps
"$RTPGEN" -o caps/big.pcap --streams 20 --bidir --packets 500 --seed 7 >/dev/null
size=$(stat -c %s caps/big.pcap)
[ "$size" -gt $((3 * 1024 * 1024)) ] || fail "big.pcap is only $size bytes"
$craft swap caps/big.pcap caps/big-swapped.pcap
$craft nsec caps/big.pcap caps/big-nsec.pcap
$craft swap caps/big-nsec.pcap caps/big-nsec-swapped.pcap
$craft snaplen 100 "$SRCDIR/captures/call-g711.pcap" caps/snap100.pcap
$craft snaplen 100 caps/big-swapped.pcap caps/snap100-swapped.pcap
$craft bigrec "$SRCDIR/captures/call-g711.pcap" caps/bigrec.pcap
head -c $((size - 100)) caps/big.pcap >caps/cut-record.pcap
# 24-byte file header + records: cut 6 bytes into the header of record 1001.
off=$(perl -e 'open F, "<:raw", $ARGV[0]; local $/; $d = <F>; $o = 24;
    for (1 .. 1000) { $o += 16 + unpack("V", substr($d, $o + 8, 4)) } print $o + 6' caps/big.pcap)
head -c "$off" caps/big.pcap >caps/cut-header.pcap

caps=(caps/*.pcap "$SRCDIR"/captures/*.pcap "$SRCDIR"/captures/*.pcapng)
while IFS= read -r f; do caps+=("$f"); done < <(real_captures)

# run NAME MODE CAP: rtpproc on CAP as a file (MODE file) or on stdin; its
# outputs go to NAME/ (recordings in NAME/rec, the same path for both modes).
run() {
    local name=$1 mode=$2 cap=$3 rc=0
    rm -rf rec
    mkdir -p "$name"
    if [ "$mode" = file ]; then
        "$RTPPROC" -r "$cap" -o rec --json "$name/report.json" -w "$name/w.pcap" \
            >"$name/out" 2>"$name/err" || rc=$?
    else
        "$RTPPROC" -r - -o rec --json "$name/report.json" -w "$name/w.pcap" \
            <"$cap" >"$name/out" 2>"$name/err" || rc=$?
    fi
    echo "$rc" >"$name/rc"
    # The input's name is the only expected difference.
    sed -i "s|'<stdin>'|'$cap'|; s|<stdin>|$cap|g" "$name/out" "$name/err"
    mv rec "$name/rec" 2>/dev/null || mkdir "$name/rec"
}

n=0
for cap in "${caps[@]}"; do
    rm -rf a b
    run a file "$cap"
    run b stdin "$cap"
    for f in rc out err report.json w.pcap; do
        cmp -s "a/$f" "b/$f" || { diff "a/$f" "b/$f" | head -5 >&2; fail "$cap: $f differs between the file and stdin readers"; }
    done
    diff -r a/rec b/rec >/dev/null || fail "$cap: recordings differ between the file and stdin readers"
    n=$((n + 1))
done
echo "$n captures: identical results from both readers"

# The expected outcomes of the crafted files (so that "identical" is not
# "identically broken").
rm -rf a
run a file caps/big.pcap
assert_eq 0 "$(cat a/rc)" "big.pcap exit status"
[ "$(find a/rec -name '*.wav' | wc -l)" -eq 40 ] || fail "big.pcap: not 40 recordings"
for v in big-swapped big-nsec big-nsec-swapped; do
    rm -rf b
    run b file "caps/$v.pcap"
    diff -r a/rec b/rec >/dev/null || fail "$v.pcap: recordings differ from big.pcap's"
    cmp -s a/out b/out || fail "$v.pcap: report differs from big.pcap's"
done
rm -rf a
run a file caps/snap100.pcap
assert_eq 0 "$(cat a/rc)" "snap100.pcap exit status"
jq -e '[.streams[].truncated] | add > 0' a/report.json >/dev/null ||
    fail "snap100.pcap: libpcap cuts records to the snapshot length, so payloads are truncated"
for v in cut-record cut-header bigrec; do
    rm -rf a
    run a file "caps/$v.pcap"
    assert_eq 2 "$(cat a/rc)" "$v.pcap exit status"
done
assert_grep "caps/cut-header.pcap': truncated capture (truncated dump file; tried to read 16 header bytes, only got 6); 1000 packets read" \
    "$(rm -rf a; run a file caps/cut-header.pcap; echo a/err)"
rm -rf a
run a file caps/cut-record.pcap
assert_grep "truncated capture (truncated dump file; tried to read" a/err
rm -rf a
run a file caps/bigrec.pcap
assert_grep "read error (invalid packet capture length 300000" a/err

# The file is read with large pread64 calls (the direct reader); stdin is
# not. (The dynamic loader's small pread64 calls are not counted.)
big_preads() {
    perl -ne '$n++ if /pread64\(\d+, .*, (\d+), \d+\) = \d+$/ && $1 >= 65536;
        END { print $n + 0 }' "$1"
}
# LeakSanitizer cannot run under ptrace: off for these two runs in the ASan build.
lsan_off="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
rm -rf rec
ASAN_OPTIONS=$lsan_off strace -f -e trace=pread64 -o strace-file.log "$RTPPROC" -r caps/big.pcap -o rec -q --force
reads=$(big_preads strace-file.log)
[ "$reads" -ge 4 ] || fail "big.pcap was read with $reads large pread64 calls (the direct reader is not used)"
rm -rf rec
ASAN_OPTIONS=$lsan_off strace -f -e trace=pread64 -o strace-stdin.log "$RTPPROC" -r - -o rec -q --force <caps/big.pcap
[ "$(big_preads strace-stdin.log)" -eq 0 ] || fail "stdin was read with pread64"
echo "direct_read: PASS ($reads pread64 calls for a $size-byte file)"
