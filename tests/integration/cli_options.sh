#!/usr/bin/env bash
# integration.cli_options: the rtpproc tool's inputs, selections and outputs.
#   -r - (stdin, file and pipe) and several -r files make the same recordings
#   as one file (streams continue across files); -w writes exactly the RTP
#   packets (counted by tcpdump); --ssrc keeps one stream, also for IPv6,
#   VLAN-tagged and fragmented packets that its BPF part cannot index; a BPF
#   expression selects; --json is valid JSON; --no-audio, --encoding, -q;
#   SIGTERM while reading a pipe finalises the recordings and prints the report.
# Expected audio and packet counts come from $RTPGEN (-e), not from rtpproc.
set -eu
. "$(dirname "$0")/lib.sh"

need_env RTPPROC RTPGEN SNDINFO WORKDIR
need_tool tcpdump editcap jq
setup_workdir
cd "$WORKDIR"

A=0x11110000
B=0x4B4B5A5A # rtpgen's reverse of A: A ^ 0x5A5A5A5A
WAV_A=192.0.2.10_16384-198.51.100.10_30000-$A.wav
WAV_B=198.51.100.10_30000-192.0.2.10_16384-$B.wav

"$RTPGEN" -o cap.pcap -e expected --bidir --packets 100 --ssrc $A --codec pcma --rtcp --noise 5 \
    >/dev/null
assert_lines 2 expected/streams.txt

# same_audio DIR: DIR holds exactly the expected recordings, sample for sample.
same_audio() {
    local n
    n=$(find "$1" -name '*.wav' | wc -l)
    [ "$n" -eq 2 ] || fail "$1 holds $n recordings, expected 2"
    "$SNDINFO" --cmp "expected/$WAV_A" "$1/$WAV_A" || fail "$1/$WAV_A differs from the expected audio"
    "$SNDINFO" --cmp "expected/$WAV_B" "$1/$WAV_B" || fail "$1/$WAV_B differs from the expected audio"
}

# report_streams FILE: number of stream lines in a text report.
report_streams() {
    grep -cE ' 0x[0-9A-F]{8} ' "$1" || true
}

echo "== one file"
run_expect 0 "$RTPPROC" -r cap.pcap -o one
same_audio one
assert_eq 2 "$(report_streams "$RUN_OUT")" "streams in the report"
[ ! -s "$RUN_ERR" ] || fail "stderr not empty: $(cat "$RUN_ERR")"

echo "== pcapng (nanosecond timestamps), also through -w"
"$RTPGEN" -o cap.pcapng --bidir --packets 100 --ssrc $A --codec pcma --rtcp --noise 5 >/dev/null
run_expect 0 "$RTPPROC" -r cap.pcapng -o ng -q -w ng-sel.pcap
same_audio ng
assert_eq 200 "$(pcap_count ng-sel.pcap)" "packets -w wrote from a pcapng"

echo "== stdin, redirected and through a pipe"
run_expect 0 "$RTPPROC" -r - -o stdin <cap.pcap
same_audio stdin
# shellcheck disable=SC2002 # a pipe, not a regular file, on purpose
cat cap.pcap | "$RTPPROC" -r - -o pipe -q || fail "reading a pipe failed"
same_audio pipe

echo "== several -r files: streams continue across files"
total=$(pcap_count cap.pcap)
tcpdump -r cap.pcap -c 77 -w part1.pcap 2>/dev/null
editcap -r cap.pcap part2.pcap "78-$((total - 40))" >/dev/null
editcap -r cap.pcap part3.pcap "$((total - 39))-$total" >/dev/null
assert_eq "$total" $(($(pcap_count part1.pcap) + $(pcap_count part2.pcap) + $(pcap_count part3.pcap))) \
    "records in the three parts"
run_expect 0 "$RTPPROC" -r part1.pcap -r part2.pcap -r part3.pcap -o multi
same_audio multi
assert_eq 2 "$(report_streams "$RUN_OUT")" "streams in the report of three files"
# A file from stdin in the middle.
run_expect 0 "$RTPPROC" -r part1.pcap -r - -r part3.pcap -o multi-stdin -q <part2.pcap
same_audio multi-stdin

echo "== -w writes exactly the RTP packets"
rtp_packets=$(awk '{ n += $7 } END { print n }' expected/streams.txt)
assert_eq 200 "$rtp_packets" "RTP packets rtpgen wrote"
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio -q -w sel.pcap
assert_eq "$rtp_packets" "$(pcap_count sel.pcap)" "packets in the -w file"
assert_eq "$rtp_packets" "$(pcap_count sel.pcap 'udp[8] & 0xc0 = 0x80')" "RTP v2 packets in -w file"
assert_eq 1 "$(tcpdump -r sel.pcap 2>&1 >/dev/null | grep -c 'link-type EN10MB')" "-w link type"
# The selected packets alone give the same recordings.
run_expect 0 "$RTPPROC" -r sel.pcap -o from-sel -q
same_audio from-sel
# -w - writes the pcap to stdout; the report then goes to stderr.
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio -w -
cp "$RUN_OUT" sel-stdout.pcap
assert_eq "$rtp_packets" "$(pcap_count sel-stdout.pcap)" "packets written by -w -"
assert_grep "$A" "$RUN_ERR"

echo "== --ssrc keeps one stream"
run_expect 0 "$RTPPROC" -r cap.pcap -o ssrc --ssrc $A -w ssrc.pcap --json ssrc.json
[ "$(ls ssrc)" = "$WAV_A" ] || fail "--ssrc $A recorded: $(ls ssrc)"
"$SNDINFO" --cmp "expected/$WAV_A" "ssrc/$WAV_A" || fail "--ssrc recording differs"
assert_eq 1 "$(report_streams "$RUN_OUT")" "streams in the --ssrc report"
assert_grep "$A" "$RUN_OUT"
assert_no_grep "$B" "$RUN_OUT"
assert_eq 100 "$(pcap_count ssrc.pcap)" "packets -w wrote with --ssrc"
assert_eq 100 "$(pcap_count ssrc.pcap "udp[16:4] = $A")" "packets of $A in the -w file"
assert_eq 1 "$(jq '.streams | length' ssrc.json)" "JSON streams with --ssrc"
# Decimal works the same.
run_expect 0 "$RTPPROC" -r cap.pcap -o ssrc-dec --ssrc $((B)) -q
[ "$(ls ssrc-dec)" = "$WAV_B" ] || fail "--ssrc $((B)) recorded: $(ls ssrc-dec)"
# No such SSRC: nothing recorded, success.
run_expect 0 "$RTPPROC" -r cap.pcap -o ssrc-none --ssrc 0x12345678
assert_eq 0 "$(report_streams "$RUN_OUT")" "streams for an absent SSRC"
[ -z "$(ls ssrc-none)" ] || fail "files written for an absent SSRC"

# The BPF part (udp[16:4]) indexes only unfragmented IPv4: other packets must
# still reach the engine, whose own filter selects.
for shape in "--ipv6" "--linktype vlan" "--fragment 100" "--ipv6 --fragment 100" \
    "--linktype qinq --ip-options"; do
    name=$(echo "$shape" | tr -c 'a-z0-9\n' '_')
    # shellcheck disable=SC2086 # $shape is a word list
    "$RTPGEN" -o "shape$name.pcap" -e "exp$name" --bidir --packets 30 --ssrc $A $shape >/dev/null
    wav_a=$(basename "$(echo "exp$name"/*-"$A".wav)")
    run_expect 0 "$RTPPROC" -r "shape$name.pcap" -o "out$name" --ssrc $A -q
    [ "$(ls "out$name")" = "$wav_a" ] || fail "$shape --ssrc: recorded '$(ls "out$name")'"
    "$SNDINFO" --cmp "exp$name/$wav_a" "out$name/$wav_a" || fail "$shape --ssrc: audio differs"
done

echo "== a BPF expression selects"
run_expect 0 "$RTPPROC" -r cap.pcap -o bpf udp src port 16384
[ "$(ls bpf)" = "$WAV_A" ] || fail "'udp src port 16384' recorded: $(ls bpf)"
assert_eq 1 "$(report_streams "$RUN_OUT")" "streams with a BPF expression"
run_expect 0 "$RTPPROC" -r cap.pcap -o bpf2 -q -- src host 198.51.100.10 and udp
[ "$(ls bpf2)" = "$WAV_B" ] || fail "'src host 198.51.100.10' recorded: $(ls bpf2)"
# BPF and --ssrc together: ANDed.
run_expect 0 "$RTPPROC" -r cap.pcap -o bpf3 --ssrc $B udp src port 16384
assert_eq 0 "$(report_streams "$RUN_OUT")" "streams for --ssrc B and A's port"

echo "== --json"
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio -q --json report.json
[ ! -s "$RUN_OUT" ] || fail "-q --json FILE printed to stdout"
jq -e . report.json >/dev/null || fail "report.json is not valid JSON"
assert_eq 2 "$(jq '.streams | length' report.json)" "JSON streams"
# SSRCs as numbers or "0x..." strings: compared by value.
assert_eq "$(printf '%d\n%d' $A $B | sort -n)" \
    "$(jq -r '.streams[].ssrc' report.json | while read -r v; do echo $((v)); done | sort -n)" \
    "JSON SSRCs"
# --json - : stdout is the JSON alone, the table goes to stderr.
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio --json -
jq -e . "$RUN_OUT" >/dev/null || fail "--json - did not write valid JSON alone on stdout"
assert_grep "$A" "$RUN_ERR"
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio --json - -q
jq -e '.streams | length == 2' "$RUN_OUT" >/dev/null || fail "--json - -q"
[ ! -s "$RUN_ERR" ] || fail "--json - -q wrote to stderr"

echo "== --no-audio, --encoding"
run_expect 0 "$RTPPROC" -r cap.pcap --no-audio -o not-created
[ ! -e not-created ] || fail "--no-audio created the output directory"
assert_eq 2 "$(report_streams "$RUN_OUT")" "streams with --no-audio"
run_expect 0 "$RTPPROC" -r cap.pcap -o alaw --encoding alaw -q
# WAV (0x010000) | A-law (0x0011), and the same audio as the expected PCM.
case "$("$SNDINFO" "alaw/$WAV_A")" in
*"format=0x010011"*) ;;
*) fail "--encoding alaw wrote: $("$SNDINFO" "alaw/$WAV_A")" ;;
esac
same_audio alaw
run_expect 0 "$RTPPROC" -r cap.pcap -o timeout --timeout 250ms --pt-map 96=L16/16000 -q
same_audio timeout

echo "== SIGTERM while reading a pipe"
tcpdump -r cap.pcap -c 60 -w first60.pcap 2>/dev/null
fa=$(($(pcap_count first60.pcap "udp[16:4] = $A") * 160))
fb=$(($(pcap_count first60.pcap "udp[16:4] = $B") * 160))
mkfifo fifo
"$RTPPROC" -r - -o sig <fifo >sig.stdout 2>sig.stderr &
pid=$!
exec 3>fifo # keep the writer open: rtpproc waits for more after the 60 records
cat first60.pcap >&3
for _ in $(seq 1 100); do
    [ "$(ls sig 2>/dev/null | wc -l)" -eq 2 ] && break
    sleep 0.1
done
sleep 0.3
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
exec 3>&-
assert_eq 143 "$status" "exit status after SIGTERM (128 + 15)"
assert_grep "$A" sig.stdout
assert_grep "$B" sig.stdout
check_wav "sig/$WAV_A" "$fa" 8000 1
check_wav "sig/$WAV_B" "$fb" 8000 1

echo "PASS"
