#!/usr/bin/env bash
# integration.plugin_errors: what "tshark -z rtpproc,..." does with bad
# input, checked against the real tshark:
#   - an invalid -z argument or option value: one line
#     "tshark: rtpproc: ..." on stderr (the message the standalone tool
#     gives for the same option), exit status 1, nothing written;
#   - an unusable recording directory or JSON file: the same, before the
#     first packet;
#   - a recording that cannot be created mid-run (its file exists and
#     force=1 is not given): one message, the listener stops, the report is
#     still printed and the recording already started is finalised: byte for
#     byte what the standalone tool leaves in the same situation;
#   - a capture cut inside a record: tshark exits 2, the report and the
#     recordings of the part read are still written, identical to the
#     standalone tool's from the same cut file.
# Captures come from $RTPGEN (clean 20 ms G.711 streams in both directions).
set -eu
. "$(dirname "$0")/lib.sh"

need_tool tcpdump
. "$(dirname "$0")/plugin_lib.bash"

HEUR=(--enable-heuristic rtp_udp)

# Stream A (forward, PCMA) and B (its reverse), 100 packets each, with RTCP
# and non-RTP noise. rtpgen's manifest: src sport dst dport 0xSSRC pt ...
"$RTPGEN" -o cap.pcap -e expected --bidir --packets 100 --ssrc 0x11110000 --codec pcma --rtcp \
    --noise 5 >/dev/null
chmod a+r cap.pcap
assert_lines 2 expected/streams.txt
wav_name() {
    sed -n "${1}p" expected/streams.txt | awk '{ print $1 "_" $2 "-" $3 "_" $4 "-" $5 ".wav" }'
}
WAV_A=$(wav_name 1)
WAV_B=$(wav_name 2)
SSRC_A=$(sed -n 1p expected/streams.txt | awk '{ print $5 }')
SSRC_B=$(sed -n 2p expected/streams.txt | awk '{ print $5 }')

# stderr must be exactly this one line; nothing on stdout (before any packet).
expect_option_error() {
    local want=$1
    shift
    run_expect 1 tshark_u -r "$T/cap.pcap" -q "${HEUR[@]}" "$@"
    assert_lines 1 "$RUN_ERR"
    assert_eq "$want" "$(cat "$RUN_ERR")" "stderr of tshark $*"
    [ ! -s "$RUN_OUT" ] || fail "stdout not empty: $(cat "$RUN_OUT")"
}

echo "== invalid -z arguments and option values"
mkd opts
cd opts
expect_option_error "tshark: rtpproc: invalid -z argument 'rtpprocx' (expected rtpproc[,name=value,...])" \
    -z rtpprocx
expect_option_error "tshark: rtpproc: invalid timeout '-1': expected a positive duration such as 5, 1.5, 5s or 250ms" \
    -z rtpproc,timeout=-1
expect_option_error "tshark: rtpproc: unknown option 'bogus'" -z rtpproc,dir=out-bogus,bogus=1
expect_option_error "tshark: rtpproc: invalid ssrc '0x1ffffffff': expected a 32-bit number, decimal or hex with 0x" \
    -z rtpproc,ssrc=0x1ffffffff
expect_option_error "tshark: rtpproc: invalid encoding 'mp3': expected pcm16, alaw or ulaw" \
    -z rtpproc,encoding=mp3
expect_option_error "tshark: rtpproc: invalid force 'maybe': expected 1, 0, true, false, yes, no, on or off" \
    -z rtpproc,force=maybe
expect_option_error "tshark: rtpproc: option 'dir' needs a value" -z rtpproc,dir
expect_option_error "tshark: rtpproc: empty option in ',dir=x'" -z rtpproc,,dir=x
run_expect 1 tshark_u -r ../cap.pcap -q "${HEUR[@]}" -z rtpproc,pt-map=96=nosuchcodec
assert_lines 1 "$RUN_ERR"
assert_grep "tshark: rtpproc: invalid pt-map '96=nosuchcodec': unknown codec 'nosuchcodec'" "$RUN_ERR"
# The same messages as the standalone tool's, after its own prefix.
run_expect 1 "$RTPPROC" -r ../cap.pcap --timeout -1
assert_eq "rtpproc: invalid timeout '-1': expected a positive duration such as 5, 1.5, 5s or 250ms" \
    "$(cat "$RUN_ERR")" "the standalone tool's message"
[ -z "$(ls)" ] || fail "files written on an option error: $(ls)"
# One bad -z among good ones still stops tshark before any output.
run_expect 1 tshark_u -r ../cap.pcap -q "${HEUR[@]}" -z rtpproc,dir=. -z rtpproc,timeout=0
assert_grep "tshark: rtpproc: invalid timeout '0'" "$RUN_ERR"
[ -z "$(ls)" ] || fail "files written although a -z option was invalid: $(ls)"
cd ..

echo "== unusable recording directory or JSON file"
: >afile
chmod a+r afile
expect_option_error "tshark: rtpproc: cannot use output directory 'afile/sub': Not a directory" \
    -z rtpproc,dir=afile/sub
expect_option_error "tshark: rtpproc: output directory 'afile' is not a directory" \
    -z rtpproc,dir=afile
expect_option_error "tshark: rtpproc: cannot create output directory 'missing/sub': No such file or directory" \
    -z rtpproc,dir=missing/sub
[ ! -e missing ] || fail "dir= created more than one level"
expect_option_error "tshark: rtpproc: cannot write 'afile/x.json': Not a directory" \
    -z rtpproc,no-audio,json=afile/x.json
mkdir ro
chmod 0555 ro
if [ ${#AS_USER[@]} -gt 0 ] || [ "$(id -u)" -ne 0 ]; then
    expect_option_error "tshark: rtpproc: cannot write to output directory 'ro': Permission denied" \
        -z rtpproc,dir=ro
fi
[ -z "$(ls ro)" ] || fail "files written into a read-only directory"
# One missing level is created, as by the standalone tool.
run_expect 0 tshark_u -r cap.pcap -q "${HEUR[@]}" -z rtpproc,dir=newdir
check_wav "newdir/$WAV_A" 16000 8000 1

echo "== a recording that exists already (no force=1): reading stops, A is finalised"
mkd ex-pl
mkdir ex-sa
echo "precious" >"ex-pl/$WAV_B"
echo "precious" >"ex-sa/$WAV_B"
chmod a+rw "ex-pl/$WAV_B" # so that force=1 may replace it
run_expect 1 "$RTPPROC" -r cap.pcap -o ex-sa --json ex-sa.json
cp "$RUN_OUT" ex-sa.txt
cp "$RUN_ERR" ex-sa.err
# tshark's exit status is its own (0): the tap can only report.
run_expect 0 tshark_u -r cap.pcap -q "${HEUR[@]}" -z rtpproc,dir=ex-pl,json=ex-pl.json
assert_lines 1 "$RUN_ERR"
assert_grep "tshark: rtpproc: " "$RUN_ERR"
assert_grep "$WAV_B" "$RUN_ERR"
assert_grep "exists" "$RUN_ERR"
# The same message as the standalone tool's, with the plug-in's option name.
assert_grep "force=1" "$RUN_ERR"
assert_eq "$(sed 's/^rtpproc: //; s|ex-sa/|ex-pl/|g; s/--force/force=1/g' ex-sa.err)" \
    "$(sed 's/^tshark: rtpproc: //' "$RUN_ERR")" "the message"
assert_grep "$SSRC_A" "$RUN_OUT" # the report is still printed
assert_eq "precious" "$(cat "ex-pl/$WAV_B")" "the existing file"
info=$(wav_info "ex-pl/$WAV_A")
frames=${info#frames=}
frames=${frames%% *}
[ "$frames" -gt 0 ] && [ "$frames" -lt 16000 ] && [ $((frames % 160)) -eq 0 ] ||
    fail "stream A after the mid-run error: $info"
cmp -s "ex-sa/$WAV_A" "ex-pl/$WAV_A" ||
    fail "stream A differs from what the standalone tool leaves: $(wav_info "ex-sa/$WAV_A") vs $info"
assert_eq "$(jq -S '.streams | map(del(.file))' ex-sa.json)" \
    "$(jq -S '.streams | map(del(.file))' ex-pl.json)" "reports after the error"
assert_eq '"recording failed"' \
    "$(jq ".streams[] | select(.ssrc == \"$SSRC_B\") | .note" ex-pl.json)" "note of stream B"
# force=1 replaces it.
run_expect 0 tshark_u -r cap.pcap -q "${HEUR[@]}" -z rtpproc,dir=ex-pl,force=1
[ ! -s "$RUN_ERR" ] || fail "stderr with force=1: $(cat "$RUN_ERR")"
check_wav "ex-pl/$WAV_A" 16000 8000 1
check_wav "ex-pl/$WAV_B" 16000 8000 1

echo "== truncated capture: tshark exits 2, draw still runs"
# The first 120 records, then 40 bytes of record 121.
tcpdump -r cap.pcap -c 120 -w first120.pcap 2>/dev/null
size=$(stat -c %s first120.pcap)
head -c $((size + 40)) cap.pcap >cut.pcap
chmod a+r cut.pcap
mkd cut-pl
mkdir cut-sa
run_expect 2 "$RTPPROC" -r cut.pcap -o cut-sa --json cut-sa.json -q
run_expect 2 tshark_u -r cut.pcap -q "${HEUR[@]}" -z rtpproc,dir=cut-pl,json=cut-pl.json
assert_grep "cut short in the middle of a packet" "$RUN_ERR"
assert_no_grep "tshark: rtpproc:" "$RUN_ERR"
assert_grep "$SSRC_A" "$RUN_OUT"
assert_grep "$SSRC_B" "$RUN_OUT"
for w in "$WAV_A" "$WAV_B"; do
    info=$(wav_info "cut-pl/$w")
    frames=${info#frames=}
    frames=${frames%% *}
    [ "$frames" -gt 0 ] && [ "$frames" -lt 16000 ] || fail "cut-pl/$w: $info"
    check_wav "cut-sa/$w" "$frames" 8000 1
    cmp -s "cut-sa/$w" "cut-pl/$w" || fail "cut-pl/$w differs from the standalone tool's"
done
assert_eq "$(jq -S '.streams | map(del(.file))' cut-sa.json)" \
    "$(jq -S '.streams | map(del(.file))' cut-pl.json)" "reports of the cut capture"

echo "PASS"
