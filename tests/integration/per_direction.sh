#!/bin/bash
# integration.per_direction: --per-direction joins the streams of one 5-tuple
# (SSRC changes) into one recording, each placed at the arrival time of its
# first packet (docs/stream-statistics.md, "Per-direction recordings").
# Expected audio comes from rtpgen's own model (-e), joined here with sox:
#   1. an SSRC change without a pause: one file = stream 1 then stream 2;
#   2. an SSRC change after a 1 s pause: stream 1, 1 s of silence, stream 2;
#   3. two SSRCs talking at once on one 5-tuple (two rtpgen captures merged):
#      the file is as long as the union of their times, its head is the
#      first stream's and its tail the second's, and the audio one could not
#      write because the other had written there is counted (overlap_ms);
#   4. a second SSRC of another format (L16 16 kHz after PCMA) gets its own
#      file;
#   5. without the option, the same captures give one file per SSRC.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SNDINFO WORKDIR
need_tool jq sox mergecap
setup_workdir
cd "$WORKDIR"

# sox writes 16-bit PCM WAV like rtpproc; --cmp compares samples.
same_audio() { # WANT GOT WHAT
    "$SNDINFO" --cmp "$1" "$2" >cmp.out 2>&1 || fail "$3: $(tr '\n' ' ' <cmp.out)"
}
silence() { # FRAMES FILE
    sox -D -r 8000 -c 1 -n -b 16 -e signed-integer "$2" trim 0 "${1}s"
}
exp_wav() { # DIR N: the N-th (1-based) stream's expected WAV of rtpgen
    awk -v n="$2" 'NR == n { printf "%s_%s-%s_%s-%s.wav", $1, $2, $3, $4, $5 }' "$1/streams.txt"
}
frames_of() {
    wav_info "$1" | sed -n 's/.*frames=\([0-9]*\).*/\1/p'
}

# 1. SSRC change at packet 100, no pause.
"$RTPGEN" -o change.pcap -e change.exp --packets 200 --ssrc-change 100 >/dev/null
run_expect 0 "$RTPPROC" -r change.pcap -o change.out --per-direction --json change.json -q
assert_eq 2 "$(jq '.streams | length' change.json)" "streams in the report"
assert_eq 1 "$(find change.out -name '*.wav' | wc -l)" "recordings with --per-direction"
f1=$(jq -r '.streams[0].file' change.json)
assert_eq "$f1" "$(jq -r '.streams[1].file' change.json)" "both SSRCs' file"
assert_eq "0 16000" "$(jq -r '[.streams[].file_offset_frames] | join(" ")' change.json)" \
    "file offsets"
assert_eq "0.000 0.000" "$(jq -r '[.streams[].overlap_ms | tostring] | map(if . == "0" then "0.000" else . end) | join(" ")' change.json)" "overlap"
sox "change.exp/$(exp_wav change.exp 1)" "change.exp/$(exp_wav change.exp 2)" change.want.wav
same_audio change.want.wav "$f1" "SSRC change without pause"
echo "ok   SSRC change: one file of $(frames_of "$f1") frames = stream 1 + stream 2"

# 2. The same with a 1 s pause before the new SSRC (arrival only).
"$RTPGEN" -o pause.pcap -e pause.exp --packets 200 --ssrc-change 100 \
    --pause-after 99:1000 >/dev/null
run_expect 0 "$RTPPROC" -r pause.pcap -o pause.out --per-direction --json pause.json -q
assert_eq 1 "$(find pause.out -name '*.wav' | wc -l)" "recordings after a pause"
f2=$(jq -r '.streams[0].file' pause.json)
assert_eq "0 24000" "$(jq -r '[.streams[].file_offset_frames] | join(" ")' pause.json)" \
    "file offsets after a 1 s pause"
silence 8000 pause.z.wav
sox "pause.exp/$(exp_wav pause.exp 1)" pause.z.wav "pause.exp/$(exp_wav pause.exp 2)" \
    pause.want.wav
same_audio pause.want.wav "$f2" "SSRC change after a pause"
echo "ok   SSRC change after 1 s: stream 1 + 8000 frames of silence + stream 2"

# 3. Two SSRCs at once on one 5-tuple: A from 0 s for 3 s, B from 1 s for 3 s.
"$RTPGEN" -o a.pcap -e a.exp --packets 150 --ssrc 0x11111111 --seed 3 >/dev/null
"$RTPGEN" -o b.pcap -e b.exp --packets 150 --ssrc 0x22222222 --seed 4 --start 1 >/dev/null
mergecap -F pcap -w both.pcap a.pcap b.pcap
run_expect 0 "$RTPPROC" -r both.pcap -o both.out --per-direction --json both.json -q
assert_eq 1 "$(find both.out -name '*.wav' | wc -l)" "recordings of two SSRCs at once"
f3=$(jq -r '.streams[0].file' both.json)
assert_eq 32000 "$(frames_of "$f3")" "joined length (0 s to 4 s)"
assert_eq "0 8000" "$(jq -r '[.streams[].file_offset_frames] | join(" ")' both.json)" \
    "file offsets of overlapping SSRCs"
# 48000 frames of audio in a 32000-frame file: 16000 frames (2 s) not written.
assert_eq 2000 "$(jq '[.streams[].overlap_ms] | add | round' both.json)" "overlap in total"
sox "a.exp/$(exp_wav a.exp 1)" a.head.wav trim 0 8000s
sox "$f3" both.head.wav trim 0 8000s
same_audio a.head.wav both.head.wav "before the second SSRC starts"
sox "b.exp/$(exp_wav b.exp 1)" b.tail.wav trim 16000s
sox "$f3" both.tail.wav trim 24000s
same_audio b.tail.wav both.tail.wav "after the first SSRC ends"
echo "ok   overlapping SSRCs: 32000 frames, overlap $(jq -c '[.streams[].overlap_ms]' both.json) ms"

# 4. Another format on the same 5-tuple: a file of its own.
"$RTPGEN" -o l16.pcap --packets 50 --ssrc 0x33333333 --codec l16:16000 --start 5 >/dev/null
mergecap -F pcap -w fmt.pcap a.pcap l16.pcap
run_expect 0 "$RTPPROC" -r fmt.pcap -o fmt.out --per-direction --pt-map 96=L16/16000 \
    --json fmt.json -q
assert_eq 2 "$(find fmt.out -name '*.wav' | wc -l)" "recordings of two formats"
[ "$(jq -r '.streams[0].file' fmt.json)" != "$(jq -r '.streams[1].file' fmt.json)" ] ||
    fail "two formats share a file"
assert_eq "0 0" "$(jq -r '[.streams[].file_offset_frames] | join(" ")' fmt.json)" \
    "offsets of separate files"
echo "ok   another format on the same 5-tuple: its own file"

# 5. Without the option: one file per SSRC, as before.
run_expect 0 "$RTPPROC" -r change.pcap -o sep.out -q
assert_eq 2 "$(find sep.out -name '*.wav' | wc -l)" "recordings without --per-direction"
run_expect 0 "$RTPPROC" -r both.pcap -o sep2.out -q
assert_eq 2 "$(find sep2.out -name '*.wav' | wc -l)" "overlapping SSRCs without --per-direction"
echo "PASS: per-direction"
