#!/bin/bash
# integration.impairments: the impairment matrix of issue 4 on synthetic
# captures (tests/gen/rtpgen.c), in the default "rtp" timing mode with the
# default bounds (reorder window 16 packets / 100 ms, max_gap 2 s).
#
# Each row of CASES is one capture: PCMA, 20 ms packets unless the row says
# otherwise. For each case:
#   1. rtpproc's streams equal rtpgen's streams.txt (src sport dst dport
#      SSRC packets first_seq frames);
#   2. every recording equals rtpgen's expected WAV sample for sample
#      ($SNDINFO --cmp). rtpgen computes it with its own model of design.md
#      section 4 (see rtpgen --help), sharing no code with rtpproc;
#   3. packets, lost, duplicates, late, reordered (once rtpproc reports it),
#      discontinuities, frames and silence_frames in rtpproc's JSON equal the
#      counts of rtpgen's model (stats.txt);
#   4. the row's own assertions hold: jq expressions on each stream (in
#      streams.txt order, ";" between streams), with the values the case
#      defines by construction (e.g. .late==1 for one packet sent beyond the
#      window). They are checked against rtpproc's JSON, and against the
#      model's counts (to catch a wrong model);
#   5. the row's shape holds for the model's WAV: the expected recording
#      built from the clean signal (the same rtpgen command without the
#      impairment): "c:START:LEN" takes LEN frames of the clean audio from
#      START, "z:LEN" is LEN frames of silence.
# A row with a known-failure note is a disagreement between rtpproc and the
# design that the core has to fix: it is reported and does not fail the
# test, but once it passes the test fails until the note is removed.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SNDINFO WORKDIR
need_tool jq awk
setup_workdir
cd "$WORKDIR"

# name | base options | impairment options | assertions | shape | known failure
CASES=(
    # Losses: each lost packet is 160 frames of silence.
    "loss-random|--packets 300 --seed 11|--loss-rate 0.1|.lost>0 .duplicates==0 .late==0 .discontinuities==0 .silence_frames==.lost*160 .frames==48000||"
    "loss-burst|--packets 400 --seed 12|--loss-burst 0.05:0.3|.lost>=20 .duplicates==0 .late==0 .discontinuities==0 .silence_frames==.lost*160||"
    "loss-burst-fixed|--packets 150|--loss 30-49,100-102|.lost==23 .late==0 .discontinuities==0 .silence_frames==3680 .frames==24000|c:0:4800 z:3200 c:8000:8000 z:480 c:16480:7520|"
    # Reordering: placed within the window, late (dropped, its span silent) beyond.
    "reorder-in-window|--packets 150|--delay 20:50 --delay 60:90 --delay 100:25|.late==0 .lost==0 .reordered==3 .silence_frames==0 .frames==24000|c:0:24000|"
    "reorder-count-in|--packets 200 --ptime 5|--delay 40:62|.late==0 .reordered==1 .silence_frames==0 .frames==8000|c:0:8000|"
    "reorder-count-beyond|--packets 200 --ptime 5|--delay 40:92|.late==1 .lost==0 .reordered==0 .silence_frames==40 .frames==8000|c:0:1600 z:40 c:1640:6360|"
    "reorder-time-beyond|--packets 100|--delay 30:150|.late==1 .lost==0 .reordered==0 .silence_frames==160 .frames==16000|c:0:4800 z:160 c:4960:11040|"
    "reorder-block-late|--packets 120|--delay 30-49:500|.late==20 .lost==0 .silence_frames==3200 .frames==19200|c:0:4800 z:3200 c:8000:11200|"
    "jitter-reorder|--packets 300 --seed 13|--jitter 60 --jitter-reorder|.late==0 .lost==0 .reordered>0 .silence_frames==0 .frames==48000|c:0:48000|"
    # Duplicates: dropped and counted, nothing written twice.
    "dup-immediate|--packets 100|--dup 10,11,50|.duplicates==3 .lost==-3 .late==0 .silence_frames==0 .frames==16000|c:0:16000|"
    "dup-delayed|--packets 100|--dup-delay 20:100 --dup-delay 40:300|.duplicates==2 .lost==-2 .late==0 .silence_frames==0 .frames==16000|c:0:16000|"
    "dup-delayed-far|--packets 200|--dup-delay 30:1510|.duplicates==1 .late==0 .discontinuities==0 .frames==32000|c:0:32000|"
    "dup-delayed-200|--packets 300|--dup-delay 30:4000|.duplicates==1 .late==0 .discontinuities==0 .frames==48000|c:0:48000|"
    "dup-delayed-restart|--packets 250|--dup-delay 30:3010|.duplicates==1 .late==0 .discontinuities==0 .frames==40000|c:0:40000|"
    # Arrival jitter alone changes nothing.
    "jitter|--packets 200|--jitter 40|.late==0 .lost==0 .duplicates==0 .discontinuities==0 .silence_frames==0 .frames==32000|c:0:32000|"
    # Wraps: 65535 -> 0 and 2^32 -> 0 are ordinary steps, also across reordering, duplicates and losses.
    "seq-wrap|--packets 100 --seq-start 65530|--delay 5:30 --dup 6 --loss 8|.first_seq==65530 .last_seq==93 .lost==0 .duplicates==1 .reordered==1 .late==0 .silence_frames==160 .frames==16000|c:0:1280 z:160 c:1440:14560|"
    "ts-wrap|--packets 100 --ts-start 4294966496 --codec pcmu|--loss 5 --delay 6:30|.lost==1 .reordered==1 .late==0 .discontinuities==0 .silence_frames==160 .frames==16000|c:0:800 z:160 c:960:15040|"
    # A new SSRC on the same 5-tuple is a second stream and a second file.
    "ssrc-change|--packets 200|--ssrc-change 100|.packets==100 .lost==0 .discontinuities==0 .frames==16000 ; .packets==100 .lost==0 .discontinuities==0 .frames==16000|c:0:16000 ; c:16000:16000|"
    # DTX: timestamps and arrival jump together (marker bit after the gap):
    # silence of the gap, also for a gap longer than max_gap.
    "dtx-marker|--packets 150|--gap-after 40:400 --gap-after 80:3000 --jitter 5|.lost==0 .discontinuities==0 .silence_frames==27200 .frames==51200|c:0:6560 z:3200 c:9760:6400 z:24000 c:40160:11040|"
    # A talkspurt (marker bit) whose timestamps hide the pause before it: the
    # pause is kept (re-anchored at arrival time) when arrival exceeds the
    # timestamps by more than the reorder window (100 ms), not below it, and
    # not when every packet is marked (the marker then says nothing).
    "pause-marker|--packets 150|--pause-after 40:1000|.lost==0 .discontinuities==1 .talkspurts==2 .silence_frames==8000 .frames==32000|c:0:6560 z:8000 c:6560:17440|"
    "pause-marker-short|--packets 150|--pause-after 40:80|.lost==0 .discontinuities==0 .silence_frames==0 .frames==24000|c:0:24000|"
    "pause-marker-all|--packets 150|--pause-after 40:1000 --marker-all|.lost==0 .discontinuities==0 .talkspurts==150 .silence_frames==0 .frames==24000|c:0:24000|"
    # Comfort noise (PT 13, every 200 ms of a 1 s gap): its span is silence.
    "cn|--packets 100|--gap-after 40:1000 --cn 200|.packets==105 .lost==0 .payload_types==[8,13] .discontinuities==0 .silence_frames==8000 .frames==24000|c:0:6560 z:8000 c:14560:9440|"
    # Discontinuities: re-anchored at arrival time, counted, no bogus silence.
    "ts-restart|--packets 200 --ts-start 1000000|--ts-restart 100:0|.discontinuities==1 .silence_frames==0 .frames==32000|c:0:32000|"
    "ts-restart-forward|--packets 200 --ts-start 5000|--ts-restart 100:100000000|.discontinuities==1 .silence_frames==0 .frames==32000|c:0:32000|"
    "hold-frozen|--packets 300|--ts-freeze 50-199|.discontinuities==150 .silence_frames==0 .frames==48000|c:0:48000|"
    "hold-frozen-short|--packets 200|--ts-freeze 50-99|.discontinuities==49 .silence_frames==7840 .frames==39840|c:0:16000 z:7840 c:16000:16000|"
    "ts-jump|--packets 200|--ts-jump 100:80000|.discontinuities==1 .silence_frames==0 .frames==32000|c:0:32000|"
    "ts-jump-within-max-gap|--packets 200|--ts-jump 100:8000|.discontinuities==0 .silence_frames==8000 .frames==40000|c:0:16000 z:8000 c:16000:16000|"
    "ts-jump-below-boundary|--packets 200|--ts-jump 100:15920|.discontinuities==0 .silence_frames==15920 .frames==47920|c:0:16000 z:15920 c:16000:16000|"
    "ts-jump-above-boundary|--packets 200|--ts-jump 100:16080|.discontinuities==1 .silence_frames==0 .frames==32000|c:0:32000|"
    "ts-jump-back|--packets 200|--ts-jump 100:-8000|.discontinuities==1 .silence_frames==0 .frames==32000|c:0:32000|"
    "ts-step-back-half|--packets 200|--ts-jump 100:-80|.discontinuities==0 .silence_frames==0 .frames==31920|c:0:16000 c:16080:15920|"
    # Everything at once.
    "mix|--packets 300 --seed 14|--loss-rate 0.05 --jitter 50 --jitter-reorder --dup 10,20,30 --dup-delay 50:200|.late==0 .duplicates==4 .discontinuities==0 .reordered>0 .silence_frames==(.lost+4)*160 .frames==48000||"
)

failures=0
known=0
notes=()

# rtpproc's JSON streams in streams.txt columns, without the payload type.
json_streams() {
    jq -r '.streams[] | [.src, (.sport|tostring), .dst, (.dport|tostring), .ssrc,
                         (.packets|tostring), (.first_seq|tostring), (.frames|tostring)]
                       | join(" ")' "$1" | LC_ALL=C sort
}

# The stats.txt line of a stream as a JSON object of numbers.
model_object() {
    local line=$1 kv obj="{" sep=""
    for kv in $line; do
        case $kv in
        *=*)
            obj="$obj$sep\"${kv%%=*}\":${kv#*=}"
            sep=,
            ;;
        esac
    done
    echo "$obj}"
}

# A jq program, run with $s (rtpproc's stream) and $m (the model's counts),
# that prints one line per problem: a count of rtpproc that differs from the
# model, an assertion (each argument) that does not hold for rtpproc, or one
# that does not hold for the model's counts (with rtpproc's other fields).
# "reordered" is compared only when rtpproc reports it.
check_program() {
    local a prog
    # shellcheck disable=SC2016 # a jq program: $m, $s and $k are jq variables
    prog='(($m | keys_unsorted[]) as $k
        | if ($s | has($k)) | not then "note: \($k) not reported by rtpproc: not compared"
          elif $s[$k] != $m[$k] then "\($k) is \($s[$k]), the model says \($m[$k])"
          else empty end)'
    for a in "$@"; do
        case $a in
        *'"'* | *\\*) fail "assertion $a: no quotes or backslashes" ;;
        esac
        prog="$prog,
        (if (\$s | has(\"reordered\")) or (\"$a\" | test(\"reordered\") | not) then
             if (try (\$s | $a) catch false) == true then empty
             else \"$a does not hold for rtpproc (\\(\$s | {packets, lost, duplicates, late,
                 reordered, discontinuities, frames, silence_frames} | tojson))\" end
         else empty end),
        (if (try ((\$s * \$m) | $a) catch false) == true then empty
         else \"$a does not hold for rtpgen's model (test bug): \\(\$m | tojson)\" end)"
    done
    echo "$prog"
}

# Writes one sample per line for a shape ("c:START:LEN z:LEN ...") of the
# clean dump $1 into $2.
shape_dump() {
    awk -v shape="$3" '
        { clean[NR - 1] = $1 }
        END {
            n = split(shape, piece, " ")
            for (i = 1; i <= n; i++) {
                k = split(piece[i], f, ":")
                if (f[1] == "z" && k == 2) {
                    for (j = 0; j < f[2]; j++) print 0
                } else if (f[1] == "c" && k == 3) {
                    if (f[2] + f[3] > NR) { print "shape beyond the clean audio" > "/dev/stderr"; exit 1 }
                    for (j = f[2]; j < f[2] + f[3]; j++) print clean[j]
                } else {
                    print "bad shape piece " piece[i] > "/dev/stderr"; exit 1
                }
            }
        }' "$1" >"$2"
}

run_case() {
    local name=$1 base=$2 impair=$3 asserts=$4 shape=$5
    local exp=$name.exp out=$name.out json=$name.json
    local src sport dst dport ssrc rest file wav i obj model k
    problems=()
    # shellcheck disable=SC2086 # option lists
    if ! "$RTPGEN" -o "$name.pcap" -e "$exp" $base $impair >"$name.rtpgen.log" 2>&1; then
        problems+=("rtpgen failed: $(head -n 3 "$name.rtpgen.log")")
        return
    fi
    if ! "$RTPPROC" -r "$name.pcap" -o "$out" --json "$json" -q >"$name.rtpproc.log" 2>&1; then
        problems+=("rtpproc failed: $(head -n 3 "$name.rtpproc.log")")
        return
    fi

    awk '{ print $1, $2, $3, $4, $5, $7, $8, $9 }' "$exp/streams.txt" | LC_ALL=C sort >"$name.want"
    json_streams "$json" >"$name.got"
    if ! diff "$name.want" "$name.got" >"$name.diff"; then
        problems+=("streams differ (src sport dst dport SSRC packets first_seq frames; < rtpgen, > rtpproc): $(grep '^[<>]' "$name.diff" | tr '\n' ' ')")
    fi

    # Per stream, in streams.txt order.
    local -a stream_asserts stream_shapes
    IFS=';' read -r -a stream_asserts <<<"$asserts"
    IFS=';' read -r -a stream_shapes <<<"$shape"
    i=0
    while read -r src sport dst dport ssrc rest; do
        local sel=".streams[] | select(.src == \"$src\" and .sport == $sport and .dst == \"$dst\"
                   and .dport == $dport and (.ssrc | ascii_upcase) == \"${ssrc^^}\")"
        obj=$(jq -c "[$sel][0]" "$json")
        wav=$(printf '%s_%s-%s_%s-%s.wav' "${src//:/-}" "$sport" "${dst//:/-}" "$dport" "$ssrc")
        if [ "$obj" = null ]; then
            problems+=("$ssrc: no such stream in rtpproc's report")
            i=$((i + 1))
            continue
        fi
        # 2. the recording, sample for sample
        file=$(jq -r '.file // ""' <<<"$obj")
        if [ -z "$file" ]; then
            problems+=("$ssrc: rtpproc wrote no recording")
        elif [ "$(basename "$file")" != "$wav" ]; then
            problems+=("$ssrc: recording named $(basename "$file"), expected $wav")
        elif ! "$SNDINFO" --cmp "$exp/$wav" "$file" >"$name.$i.cmp" 2>&1; then
            problems+=("$ssrc: recording differs from rtpgen's expected audio (expected vs rtpproc): $(tr '\n' ';' <"$name.$i.cmp")")
        fi
        # 3. rtpproc's counts against the model's, 4. the row's assertions
        model=$(model_object "$rest")
        local -a checks=()
        read -r -a checks <<<"${stream_asserts[$i]:-}"
        while IFS= read -r k; do
            case $k in
            note:*) notes+=("${k#note: }") ;;
            ?*) problems+=("$ssrc: $k") ;;
            esac
        done < <(jq -nr --argjson s "$obj" --argjson m "$model" "$(check_program "${checks[@]}")")
        # 5. the model's WAV against the shape built from the clean audio
        local sh=${stream_shapes[$i]:-}
        sh=$(echo "$sh" | xargs)
        if [ -n "$sh" ]; then
            if [ ! -f "$name.clean/streams.txt" ]; then
                # shellcheck disable=SC2086
                "$RTPGEN" -o "$name.clean.pcap" -e "$name.clean" $base --packets 400 \
                    >/dev/null 2>&1 || problems+=("rtpgen failed on the clean reference")
                "$SNDINFO" --dump "$name.clean/$(awk 'NR == 1 {
                    printf "%s_%s-%s_%s-%s.wav", $1, $2, $3, $4, $5 }' "$name.clean/streams.txt")" \
                    >"$name.clean.txt" || problems+=("cannot dump the clean reference")
            fi
            if ! shape_dump "$name.clean.txt" "$name.$i.shape" "$sh" 2>"$name.$i.shape.err"; then
                problems+=("shape '$sh': $(cat "$name.$i.shape.err")")
            else
                "$SNDINFO" --dump "$exp/$wav" >"$name.$i.model" || true
                if ! cmp -s "$name.$i.shape" "$name.$i.model"; then
                    problems+=("$ssrc: rtpgen's model is not '$sh' of the clean audio (test bug): $(cmp "$name.$i.shape" "$name.$i.model" 2>&1 | head -n 1)")
                fi
            fi
        fi
        i=$((i + 1))
    done <"$exp/stats.txt"
    [ "$i" -gt 0 ] || problems+=("rtpgen expected no stream")
    if [ "${#stream_asserts[@]}" -gt "$i" ]; then
        problems+=("the row has assertions for ${#stream_asserts[@]} streams, rtpgen made $i")
    fi
    # No recording that rtpgen did not expect.
    for file in "$out"/*.wav; do
        [ -e "$file" ] || continue
        [ -f "$exp/$(basename "$file")" ] || problems+=("unexpected recording $(basename "$file")")
    done
}

start=$(date +%s%N)
for c in "${CASES[@]}"; do
    IFS='|' read -r name base impair asserts shape note <<<"$c"
    t0=$(date +%s%N)
    run_case "$name" "$base" "$impair" "$asserts" "$shape"
    ms=$((($(date +%s%N) - t0) / 1000000))
    if [ "${#problems[@]}" -eq 0 ] && [ -z "$note" ]; then
        printf 'ok     %-24s %s (%d ms)\n' "$name" "$impair" "$ms"
    elif [ "${#problems[@]}" -eq 0 ]; then
        printf 'FAIL   %-24s passes now: remove its known-failure note (%s)\n' "$name" "$note"
        failures=$((failures + 1))
    elif [ -n "$note" ]; then
        printf 'KNOWN  %-24s %s\n       why: %s\n' "$name" "$impair" "$note"
        printf '       got: %s\n' "${problems[@]}"
        known=$((known + 1))
    else
        printf 'FAIL   %-24s %s\n' "$name" "$impair"
        printf '       %s\n' "${problems[@]}"
        failures=$((failures + 1))
    fi
done
if [ "${#notes[@]}" -gt 0 ]; then
    printf 'note: %s\n' "$(printf '%s\n' "${notes[@]}" | sort -u)"
fi
echo "${#CASES[@]} cases, $failures failed, $known known failures," \
    "$((($(date +%s%N) - start) / 1000000)) ms"
[ "$failures" -eq 0 ]
