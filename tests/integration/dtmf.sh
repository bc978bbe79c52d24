#!/usr/bin/env bash
# integration.dtmf: RFC 4733 telephone-events in the report and JSON, from
# the standalone tool and from the tshark plug-in (same core).
#
# - A synthetic capture made here (python3, deterministic): a PCMU call whose
#   SSRC also carries all 16 DTMF events and event 16 (flash) on PT 101,
#   event packets in place of audio as user agents send them. Even events
#   send their end packet 3 times with new sequence numbers, odd ones 3 times
#   with the same sequence number; event 5 loses its first two packets
#   (start not seen: it must still start at its RTP timestamp); event 9
#   loses its three end packets (longest duration seen, "end": false). A
#   second, events-only stream ('*' then 'D') must give no recording. The
#   expected lists are written from the generator's parameters.
# - $SHARED_DIR/captures/real (parts skipped when absent):
#   sipp-dtmf_2833_pound.pcap must give exactly one '#' (its end packet is
#   sent 3 times with the same sequence number) and no recording;
#   SIP_DTMF2.pcap (PT 96 named by SDP) its 7 digits. Both are compared with
#   what tshark's rtpevent dissector shows, grouped by RTP timestamp: digit,
#   first arrival, offset of the event's timestamp from the stream's first
#   packet, longest duration, volume, end and M bits seen.
# - The plug-in ($RTPPROC_PLUGIN, not in sanitizer builds) must report the
#   same events on the same captures.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SHARED_DIR WORKDIR
need_tool jq python3 awk

PLUGIN=0
if [ "${RTPPROC_SANITIZED:-0}" != 1 ] && [ -n "${RTPPROC_PLUGIN:-}" ] &&
    [ -f "$RTPPROC_PLUGIN" ] && command -v tshark >/dev/null 2>&1; then
    # Sets up tshark with our plug-in (T, tshark_u, mkd) and cd's to $T.
    . "$(dirname "$0")/plugin_lib.bash"
    PLUGIN=1
    W=$T
else
    echo "-- plug-in not built, sanitizer build or no tshark: standalone tool only"
    setup_workdir
    W=$WORKDIR
fi
cd "$W"

# events JSON SSRC: one line per event of stream SSRC in a JSON report:
#   name code offset_ms duration_ms volume_dbm0 end start_seen start_us
events() {
    jq -r --arg ssrc "$2" '.streams[] | select(.ssrc == $ssrc) | .events[]
        | [.event, .code, .offset_ms, .duration_ms, .volume_dbm0, .end, .start_seen, .start]
        | map(tostring) | join(" ")' "$1" |
        awk '{ printf "%s %d %.3f %.3f %d %s %s %.0f\n", $1, $2, $3, $4, $5, $6, $7, $8 * 1e6 }'
}

# json_field JSON SSRC FIELD
json_field() {
    jq -r --arg ssrc "$2" ".streams[] | select(.ssrc == \$ssrc) | .$3" "$1"
}

# truth CAP SSRC CLOCK [TSHARK OPTIONS...]: the events line format above from
# tshark's dissection; an event = the rtpevent packets with one timestamp and
# event code; offset from the SSRC's first RTP packet (frame order).
truth() {
    local cap=$1 ssrc=$2 clock=$3
    shift 3
    tshark -n -r "$cap" "$@" -Y "rtp.ssrc == $ssrc" -T fields -e frame.time_epoch \
        -e rtp.timestamp -e rtp.marker -e rtpevent.event_id -e rtpevent.end_of_event \
        -e rtpevent.volume -e rtpevent.duration 2>/dev/null |
        awk -F'\t' -v clock="$clock" '
        BEGIN { split("0 1 2 3 4 5 6 7 8 9 * # A B C D", dtmf, " ") }
        NR == 1 { base = $2 }
        $4 == "" { next }
        {
            k = $2 " " $4
            if (!(k in first)) { order[++n] = k; first[k] = $1; code[k] = $4; ts[k] = $2 }
            if ($1 < first[k]) first[k] = $1
            if ($7 + 0 > dur[k] + 0) dur[k] = $7
            if ($5 == 1 || $5 == "True") endseen[k] = 1
            if ($3 == 1 || $3 == "True") mark[k] = 1
            vol[k] = $6
        }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]
                d = ts[k] - base
                if (d >= 2147483648) d -= 4294967296
                if (d < -2147483648) d += 4294967296
                name = code[k] < 16 ? dtmf[code[k] + 1] : code[k]
                printf "%s %d %.3f %.3f %d %s %s %.0f\n", name, code[k], d * 1000 / clock,
                    dur[k] * 1000 / clock, -vol[k], (k in endseen) ? "true" : "false",
                    (k in mark) ? "true" : "false", first[k] * 1e6
            }
        }'
}

# standalone NAME CAP [OPTIONS...]: run the tool; report in NAME.txt/NAME.json,
# recordings in NAME/
standalone() {
    local name=$1 cap=$2
    shift 2
    rm -rf "$name"
    run_expect 0 "$RTPPROC" -r "$cap" -o "$name" --json "$name.json" "$@"
    cp "$RUN_OUT" "$name.txt"
}

# plugin NAME CAP [TSHARK OPTIONS...]: the same through tshark; pl-NAME.*
plugin() {
    local name=$1 cap=$2
    shift 2
    mkd "pl-$name"
    run_expect 0 tshark_u -r "$cap" -q "$@" -z "rtpproc,dir=pl-$name,json=$W/pl-$name.json"
    [ ! -s "$RUN_ERR" ] || fail "$name: tshark stderr: $(cat "$RUN_ERR")"
    cp "$RUN_OUT" "pl-$name.txt"
}

# same_events NAME SSRC: the plug-in's events and text line equal the tool's.
same_events() {
    diff -u <(events "$1.json" "$2") <(events "pl-$1.json" "$2") >&2 ||
        fail "$1: plug-in events differ (- standalone, + plug-in)"
    diff -u <(grep '^  Events:' "$1.txt") <(grep '^  Events:' "pl-$1.txt") >&2 ||
        fail "$1: plug-in Events lines differ"
    echo "-- $1: plug-in reports the same events"
}

echo "== synthetic: 16 DTMF events + flash, retransmitted ends, lost start, lost end"
python3 - synth.pcap synth.expected <<'EOF'
import struct, sys

T0 = 1700000000 * 10**6       # capture time of the first packet, us (times are integers)
TS0, SEQ0 = 0xFFFFF000, 65000  # timestamp and sequence wrap during the call
CLOCK = 8000
out, expected_path = sys.argv[1], sys.argv[2]
recs = []

def ip_sum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def udp(t, src, sport, dst, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), len(recs) & 0xFFFF, 0, 64, 17, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", ip_sum(h)) + h[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    recs.append((t, eth + h + u))

def rtp(t, flow, pt, marker, seq, ts, ssrc, payload):
    hdr = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                      ts & 0xFFFFFFFF, ssrc)
    udp(t, *flow, hdr + payload)

def ev(code, end, vol, dur):
    return struct.pack("!BBH", code, (0x80 if end else 0) | vol, dur)

A = ([10, 0, 0, 1], 40000, [10, 0, 0, 2], 50000)
SSRC_A = 0x0A0A0A0A
events = {10 + 25 * j: j for j in range(17)}   # slot of each event's start
slot, seq, exp = 0, SEQ0, []
while slot < 450:
    t = T0 + slot * 20000
    if slot not in events:
        rtp(t, A, 0, slot == 0, seq, TS0 + 160 * slot, SSRC_A, b"\xff" * 160)
        seq += 1
        slot += 1
        continue
    j = events[slot]
    code, vol, ts = j, 5 + j, TS0 + 160 * slot
    # five updates, 20 ms apart: durations 160..800 (the fifth is the end)
    for i in range(5):
        dur, end = 160 * (i + 1), i == 4
        lost = (j == 5 and i < 2) or (j == 9 and end)
        copies = 3 if end else 1
        for c in range(copies):
            # even events: each copy has its own seq; odd: the same seq
            tc = t + 20000 * (i + (c if j % 2 == 0 else 0)) + (100 * c if j % 2 else 0)
            if not lost:
                rtp(tc, A, 101, i == 0, seq, ts, SSRC_A, ev(code, end, vol, dur))
            if j % 2 == 0 or c == copies - 1:
                seq += 1
    first = 2 if j == 5 else 0
    name = "0123456789*#ABCD"[code] if code < 16 else str(code)
    start_us = t + 20000 * first
    exp.append("%s %d %.3f %.3f %d %s %s %d" % (
        name, code, 20.0 * slot, 80.0 if j == 9 else 100.0, -vol,
        "false" if j == 9 else "true", "false" if j == 5 else "true", start_us))
    slot += 7 if j % 2 == 0 else 5

# An events-only stream: '*' (end 3 times, same seq) then 'D' (new seqs).
B = ([10, 0, 0, 3], 40002, [10, 0, 0, 2], 50002)
SSRC_B = 0x0B0B0B0B
seq, t = 100, T0 + 1000000
for code, ts, same in ((10, 5000, True), (15, 5000 + 2400, False)):
    for i in range(4):
        end = i == 3
        for c in range(3 if end else 1):
            rtp(t, B, 101, i == 0, seq, ts, SSRC_B, ev(code, end, 12, 160 * (i + 1)))
            if not same or c == 2 or not end:
                seq += 1
            t += 100 if same and end else 20000
    t += 200000

recs.sort(key=lambda r: r[0])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for t, data in recs:
        sec, usec = divmod(t, 10**6)
        f.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)
with open(expected_path, "w") as f:
    f.write("\n".join(exp) + "\n")
EOF
if command -v tshark >/dev/null 2>&1; then
    # The generator itself, as tshark's rtpevent dissector reads its output.
    truth synth.pcap 0x0A0A0A0A 8000 --enable-heuristic rtp_udp >synth.truth
    diff -u synth.expected synth.truth >&2 ||
        fail "synth: tshark reads other events than generated (- expected, + tshark)"
fi
standalone synth synth.pcap
[ "$(events synth.json 0x0A0A0A0A | wc -l)" -eq 17 ] || {
    cat synth.txt >&2
    fail "synth: $(events synth.json 0x0A0A0A0A | wc -l) events, not 17"
}
diff -u synth.expected <(events synth.json 0x0A0A0A0A) >&2 ||
    fail "synth: events differ from the generated ones (- expected, + rtpproc)"
assert_eq 17 "$(json_field synth.json 0x0A0A0A0A events_count)" "synth: events_count"
assert_eq 0 "$(json_field synth.json 0x0A0A0A0A events_dropped)" "synth: events_dropped"
assert_eq PCMU "$(json_field synth.json 0x0A0A0A0A codec)" "synth: audio codec"
[ "$(json_field synth.json 0x0A0A0A0A file)" != null ] || fail "synth: the call has no recording"
# Two events per text line are checked: lost start, lost end.
assert_grep " 5@2.700s/100ms/-10dBm0 " synth.txt
assert_grep " 9@4.700s/>=80ms/-14dBm0 " synth.txt
assert_grep " 16@" synth.txt
# The events-only stream: two events, no recording.
diff -u <(printf '%s\n' "* 10 0.000 80.000 -12 true true" "D 15 300.000 80.000 -12 true true") \
    <(events synth.json 0x0B0B0B0B | cut -d' ' -f1-7) >&2 || fail "synth: events-only stream"
assert_eq null "$(json_field synth.json 0x0B0B0B0B file)" "synth: events-only recording"
assert_eq 2 "$(json_field synth.json 0x0B0B0B0B duplicates)" "synth: same-seq end copies"
assert_eq 1 "$(find synth -name '*.wav' | wc -l)" "synth: recordings"
echo "-- synth: 17 events as generated; events-only stream without recording"
if [ "$PLUGIN" = 1 ]; then
    chmod a+r synth.pcap
    plugin synth "$W/synth.pcap" --enable-heuristic rtp_udp
    same_events synth 0x0A0A0A0A
    same_events synth 0x0B0B0B0B
fi

REAL=$SHARED_DIR/captures/real
if [ ! -d "$REAL" ]; then
    echo "-- $REAL absent: real captures skipped"
    echo "PASS"
    exit 0
fi
command -v tshark >/dev/null 2>&1 || {
    echo "-- tshark absent: real captures skipped"
    echo "PASS"
    exit 0
}

# real NAME SSRC WANT_DIGITS [TSHARK OPTIONS...]
real() {
    local name=$1 ssrc=$2 want=$3
    shift 3
    local cap=$REAL/$name.pcap
    [ -r "$cap" ] || {
        echo "-- $name: absent, skipped"
        return 0
    }
    standalone "$name" "$cap"
    truth "$cap" "$ssrc" 8000 "$@" >"$name.truth"
    diff -u "$name.truth" <(events "$name.json" "$ssrc") >&2 ||
        fail "$name: events differ from tshark's rtpevent (- tshark, + rtpproc)"
    assert_eq "$want" "$(events "$name.json" "$ssrc" | cut -d' ' -f1 | tr -d '\n')" "$name: digits"
    echo "-- $name: $want as tshark's rtpevent shows them"
    if [ "$PLUGIN" = 1 ]; then
        plugin "$name" "$cap" "$@"
        same_events "$name" "$ssrc"
    fi
}

real sipp-dtmf_2833_pound 0x0E05384E "#" -o rtp.heuristic_rtp:TRUE
if [ -f sipp-dtmf_2833_pound.json ]; then
    assert_eq 1 "$(json_field sipp-dtmf_2833_pound.json 0x0E05384E events_count)" "pound: count"
    assert_eq null "$(json_field sipp-dtmf_2833_pound.json 0x0E05384E file)" "pound: recording"
    assert_eq 0 "$(find sipp-dtmf_2833_pound -type f | wc -l)" "pound: files"
    assert_grep "  Events: #@0.000s/280ms/-10dBm0" sipp-dtmf_2833_pound.txt
fi
real SIP_DTMF2 0x5711BF84 "6789123"
if [ -f SIP_DTMF2.json ]; then
    assert_eq 0 "$(json_field SIP_DTMF2.json 0x9A7B5382 events_count)" "SIP_DTMF2: other direction"
    # --dtmf-tones: the first digit (6, at offset 4.650 s for 120 ms) is
    # heard as its ITU-T Q.23 pair, 770 + 1477 Hz, where the recording
    # without the option has silence; the audio around it is unchanged.
    need_tool sox
    mkdir -p tones
    run_expect 0 "$RTPPROC" -r "$SHARED_DIR/captures/real/SIP_DTMF2.pcap" -o tones -q --dtmf-tones
    t=$(ls tones/*0x5711BF84.wav)
    plain=$(ls SIP_DTMF2/*0x5711BF84.wav)
    rms() { sox "$1" -n trim "$2" "$3" stat 2>&1 | awk '/RMS +amplitude/ {print $3}'; }
    awk -v a="$(rms "$plain" 4.66 0.1)" 'BEGIN { exit !(a < 0.01) }' ||
        fail "SIP_DTMF2: the event span is not silent without --dtmf-tones"
    awk -v a="$(rms "$t" 4.66 0.1)" 'BEGIN { exit !(a > 0.05) }' ||
        fail "SIP_DTMF2: no tone in the event span with --dtmf-tones"
    peaks=$(sox "$t" -n trim 4.66 0.1 stat -freq 2>&1 | awk 'NF == 2 && $1 ~ /^[0-9.]+$/' |
        sort -k2 -g -r | head -4 | awk '{printf "%d ", $1}')
    for f in 770 1477; do
        echo "$peaks" | tr ' ' '\n' | awk -v f=$f 'function abs(x){return x<0?-x:x} $1 != "" && abs($1 - f) < 8 {ok=1} END {exit !ok}' ||
            fail "SIP_DTMF2: --dtmf-tones peaks '$peaks' miss $f Hz"
    done
    "$SNDINFO" --cmp <(sox "$plain" -t wav - trim 0 4.6) <(sox "$t" -t wav - trim 0 4.6) >/dev/null ||
        fail "SIP_DTMF2: --dtmf-tones changed the audio before the first event"
fi
echo "PASS"
