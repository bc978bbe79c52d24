#!/bin/bash
# integration.player_compare: rtpproc's three timing modes against the real
# Wireshark 4.0.17 RTP player (tests/tools/ws-player-export.sh), sample for
# sample, on captures with loss, duplicates, jitter, DTX, wraps, reordering,
# padding and one-byte payloads, and on the G.711 real captures.
#
# Pairs: player "RTP Timestamp" <-> `--timing rtp`; "Jitter Buffer" 50 ms <->
# `--timing jitter` (and 20 ms <-> `jitter:20` on gen-jitter); "Uninterrupted
# Mode" <-> `--timing continuous`.
#
# For every stream and mode the test computes two predictions from the
# stream's packets as tshark dissects them (model.awk below; G.711 expanded
# as in ITU-T G.191):
#   - the player's audio: wireshark-notes.md 2.3, packets in capture order,
#     silence (int)-truncated, padding decoded as audio, one-byte G.711
#     payloads skipped, late packets and duplicates run through the timing
#     state but not written;
#   - rtpproc's audio: the same loop over the packets in sequence order
#     without duplicates and padding (jitter, continuous), or exact
#     RTP-timestamp placement with overlapping heads dropped (rtp).
# Each export must equal the first prediction and each recording the second,
# so every difference between the two is one of the model's switches, the
# named rules of docs/stream-statistics.md ("Comparison with the Wireshark
# RTP player"): truncation drift, one-byte payloads, overlap (rtp mode);
# reordering, duplicates, padding (every mode). A rule is named for a stream
# only where it applies (duplicates: where taking them out of the player's
# model changes its audio), and then the two must differ. Moreover:
#   - when no rule is named, the export equals rtpproc's recording (sndinfo
#     --cmp). So streams without reordering, duplicates or padding are equal
#     in jitter and continuous modes, loss or not, and in rtp mode unless a
#     timestamp gap (loss, DTX, events) truncates;
#   - rtp mode, no reordering or padding: the export equals `--timing
#     jitter:100000` (the same arithmetic, never a jitter drop); when
#     truncation is the only rule, rtpproc's length minus the player's is the
#     number of truncating gaps (one sample each), and removing one zero of
#     silence before each of those gaps from rtpproc's recording gives the
#     export;
#   - the player's late packets are rtpproc's `reordered`, the duplicates in
#     the capture its `duplicates`, and in jitter mode its `jitter_drops` are
#     the drops of its model.
# One line per capture, stream and mode gives the verdict and the named
# differences.
#
# Skipped (77) unless run as root with wireshark, tshark, text2pcap, Xvfb,
# xdotool, setpriv and jq, and in sanitizer builds. The real captures are
# left out when absent. Exports run two at a time.
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC RTPGEN SNDINFO SRCDIR SHARED_DIR WORKDIR
[ "${RTPPROC_SANITIZED:-0}" != 1 ] || skip "sanitizer build"
need_tool wireshark tshark text2pcap Xvfb xdotool setpriv jq awk cmp
[ "$(id -u)" = 0 ] || skip "not root (Wireshark is run as uid 65534 through setpriv)"

setup_workdir
cd "$WORKDIR"
t_start=${EPOCHREALTIME/./}
export_tool=$SRCDIR/tests/tools/ws-player-export.sh

# --- captures ---------------------------------------------------------------

# label|capture; every capture is read with heuristic RTP, as the player
# and rtpproc both find these streams without signalling.
: >captures.txt
for c in call-g711 loss-dup-wrap gap-jitter-null ffmpeg-pcma-lo; do
    echo "$c|$SRCDIR/captures/$c.pcap" >>captures.txt
done

gen() {
    local name=$1
    shift
    "$RTPGEN" -o "$name.pcap" "$@" >/dev/null 2>"$name.gen.err" ||
        fail "rtpgen $name: $(head -n 3 "$name.gen.err")"
    echo "$name|$WORKDIR/$name.pcap" >>captures.txt
}
# Bursty loss (Gilbert-Elliott) and two duplicates.
gen gen-burst --codec pcma --packets 400 --loss-burst 0.04:0.35 --dup 30,200 --seed 11
# Arrival delay 0..60 ms (+-30 ms around its mean, order kept), loss runs,
# each after a duplicate: no jitter drop at 50 ms; at 20 ms drops, resyncs,
# and the duplicate before packets 220-224 moves the player's resync.
gen gen-jitter --codec pcmu --packets 300 --jitter 60 --loss 60-62,150,151,220-224 \
    --dup 59,149,219 --seed 12
# Talk spurts: DTX gaps (marker bit after each), comfort noise in the gaps,
# small arrival jitter.
gen gen-dtx --codec pcma --packets 300 --gap-after 60:1000 --gap-after 140:460 \
    --gap-after 220:3000 --cn 100 --jitter 6 --seed 13
# Sequence wrap at packet 36 and timestamp wrap at packet 52; packets 20, 35
# (seq 65535, after seq 0), 70 and 150 arrive late (25-45 ms).
gen gen-wrap-reorder --codec pcmu --packets 250 --seq-start 65500 --ts-start 0xFFFFE000 \
    --delay 20:30 --delay 35:30 --delay 70:25 --delay 150:45 --seed 14
# RTP padding (1..8 bytes on every third packet) and losses.
gen gen-pad --codec pcma --packets 200 --pad --loss 50,120-121 --seed 15
# Arrival jitter with a resync whose silence is exactly 201 samples in exact
# arithmetic: the player's nstime_to_sec() offsets make it 200.999..., so
# it writes 200 (jitter 5 ms); rtpproc must compute offsets the same way.
gen gen-rounding --codec pcma --packets 300 --jitter 40 --loss 60-62,150,151 --seed 6

# One-byte PCMA payloads (packets 40 and 70 of 100, 20 ms apart), which
# rtpgen cannot make: RTP built here, framed by text2pcap.
awk 'BEGIN {
    for (k = 0; k < 100; k++) {
        t = k * 20000
        line = sprintf("80 %02x %02x %02x", k == 0 ? 136 : 8, int((1000 + k) / 256), (1000 + k) % 256)
        v = 80000 + k * 160
        line = line sprintf(" %02x %02x %02x %02x", int(v / 16777216) % 256, int(v / 65536) % 256,
            int(v / 256) % 256, v % 256) " 4a 2b 3c 4d"
        n = (k == 40 || k == 70) ? 1 : 160
        for (i = 0; i < n; i++) line = line sprintf(" %02x", (i * 37 + k * 11 + 85) % 256)
        printf "%d.%06d 000000 %s\n", 1704067200 + int(t / 1000000), t % 1000000, line
    }
}' >gen-skip1.txt
text2pcap -q -t '%s.%f' -u 40000,40002 -4 192.0.2.50,198.51.100.50 gen-skip1.txt gen-skip1.pcap ||
    fail "text2pcap failed"
echo "gen-skip1|$WORKDIR/gen-skip1.pcap" >>captures.txt

real=$SHARED_DIR/captures/real
for c in sipp-g711a aaa SIP_DTMF2 sip-rtp-g711 marseillaise-srtp; do
    if [ -f "$real/$c.pcap" ]; then
        echo "$c|$real/$c.pcap" >>captures.txt
    else
        echo "skipped: $real/$c.pcap absent"
    fi
done

# --- the player's exports, two at a time, in the background ------------------

# label|capture|mode|jitter ms; the longest first.
: >jobs.txt
for mode in rtp jitter continuous; do
    while IFS='|' read -r label cap; do
        echo "$label|$cap|$mode|50" >>jobs.txt
    done <captures.txt
done
echo "gen-jitter|$WORKDIR/gen-jitter.pcap|jitter|20" >>jobs.txt
echo "gen-rounding|$WORKDIR/gen-rounding.pcap|jitter|5" >>jobs.txt
{ grep -E '^(marseillaise-srtp|SIP_DTMF2)\|' jobs.txt || true; grep -vE '^(marseillaise-srtp|SIP_DTMF2)\|' jobs.txt; } >jobs.sorted

# ws-LABEL-MODE[JB]: the export directory (JB only when not 50).
ws_dir() {
    if [ "$4" = 50 ]; then echo "ws-$1-$3"; else echo "ws-$1-$3$4"; fi
}

run_exports() {
    local label cap mode jb d running=0
    while IFS='|' read -r label cap mode jb; do
        if [ "$running" -ge 2 ]; then
            wait -n || true
            running=$((running - 1))
        fi
        d=$(ws_dir "$label" "$cap" "$mode" "$jb")
        mkdir "$d"
        (
            rc=0
            t0=${EPOCHREALTIME/./}
            bash "$export_tool" --heuristic --mode "$mode" --jitter "$jb" "$cap" "$d" \
                >"$d.out" 2>"$d.err" &
            echo $! >"$d.pid"
            wait $! || rc=$?
            t1=${EPOCHREALTIME/./}
            echo "$rc $(((t1 - t0) / 1000))" >"$d.rc"
        ) &
        running=$((running + 1))
    done <jobs.sorted
    wait
}
# On an early exit: no new export, and the running ones stopped (the
# harness kills its Wireshark and Xvfb on SIGTERM).
stop_exports() {
    local status=$? p
    trap - EXIT
    if [ -n "${exports_pid:-}" ]; then
        kill "$exports_pid" 2>/dev/null || true
        for p in ws-*.pid; do
            if [ -f "$p" ] && [ ! -f "${p%.pid}.rc" ]; then
                kill "$(cat "$p")" 2>/dev/null || true
            fi
        done
        wait 2>/dev/null || true
    fi
    exit "$status"
}
exports_pid=
trap stop_exports EXIT
run_exports &
exports_pid=$!

# --- meanwhile: rtpproc and the packet lists ---------------------------------

# The stream's packets in capture order, one file per stream named like the
# recordings: pk-LABEL/NAME.wav.pkts (see model.awk for the columns).
split_packets() {
    local label=$1 cap=$2
    mkdir "pk-$label"
    tshark -r "$cap" -n --enable-heuristic rtp_udp -Y rtp -T fields -E separator=/t \
        -E occurrence=l -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst \
        -e udp.dstport -e rtp.ssrc -e frame.time_relative -e rtp.seq -e rtp.timestamp \
        -e rtp.p_type -e rtp.payload -e rtp.padding.data -e rtp.padding.count \
        >"pk-$label.fields" 2>"pk-$label.err" || fail "tshark cannot read $cap"
    awk -F '\t' -v dir="pk-$label" '
        function hexval(h,    i, v) {
            h = tolower(h); sub(/^0x/, "", h); v = 0
            for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            return v
        }
        $7 == "" || $3 == "" { next }
        {
            src = ($2 != "") ? $2 : $1; dst = ($5 != "") ? $5 : $4
            gsub(":", "-", src); gsub(":", "-", dst)
            name = sprintf("%s_%s-%s_%s-0x%08X.wav", src, $3, dst, $6, hexval($7))
            split($8, t, "."); ns = t[2]; while (length(ns) < 9) ns = ns "0"
            pad = $13
            if ($14 != "") pad = pad sprintf("%02x", $14)
            print t[1] "\t" (ns + 0) "\t" $9 "\t" $10 "\t" $11 "\t" $12 "\t" pad > (dir "/" name ".pkts")
        }' "pk-$label.fields"
}

# rp-LABEL-TIMING/: rtpproc's recordings; rp-LABEL-TIMING.json its report.
while IFS='|' read -r label cap; do
    split_packets "$label" "$cap"
    for timing in rtp jitter jitter:100000 continuous; do
        run_expect 0 "$RTPPROC" -r "$cap" -o "rp-$label-$timing" --timing "$timing" \
            --json "rp-$label-$timing.json" --force -q
    done
    if [ "$label" = gen-jitter ]; then
        run_expect 0 "$RTPPROC" -r "$cap" -o "rp-$label-jitter:20" --timing jitter:20 \
            --json "rp-$label-jitter:20.json" --force -q
    fi
    if [ "$label" = gen-rounding ]; then
        run_expect 0 "$RTPPROC" -r "$cap" -o "rp-$label-jitter:5" --timing jitter:5 \
            --json "rp-$label-jitter:5.json" --force -q
    fi
done <captures.txt

cat >model.awk <<'EOF'
# The audio of one G.711 stream as the RTP player (or rtpproc) makes it.
# Input: the stream's RTP packets in capture order, tab separated:
#   rel_secs rel_nsecs seq timestamp pt payload_hex padding_hex
# (relative time as Wireshark's frame.time_relative; padding_hex is every
# padding byte, the count byte last, or empty).
# -v settings, the player's first, rtpproc's second:
#   mode   rtp | jitter | continuous
#   jbuf   the jitter buffer in ms (mode jitter)
#   order  arrival: every packet in capture order; one is written only when
#                   its extended sequence number is above the last written
#                   (notes 2.3 step 11: late packets and duplicates are not
#                   written, but did update the timing state)
#          arrival-nodup: capture order, duplicates dropped (to see what
#                   the duplicates alone change)
#          seq:     duplicates dropped, the rest in sequence order (rtpproc's
#                   reorder window releases in sequence order)
#   pad    audio: padding bytes decoded as audio | strip
#   place  player: the loop of notes 2.3: silence from the timestamp (or
#                   arrival) step minus the previous packet's length, cast to
#                   int; negative silence ignored (no trimming); one-byte
#                   G.711 payloads skipped
#          exact:  rtpproc's rtp timing: frame = ts - ts_first, gaps are
#                   silence, a head overlapping what was written is dropped
#   out    file for the samples, one per line (sndinfo --dump's format)
#   drift  (place player, mode rtp) file for "POS N" lines: before the
#          packet at exact frame POS the (int) cast left N samples of
#          silence out
# Prints: frames= trunc= trunc_samples= drops= resyncs= late= dups=
# padded= skip1= overlap= overlap_samples= unmodelled=
function bit(x, k) { return int(x / 2 ^ k) % 2 }
function xor8(a, b,    k, r) {
    r = 0
    for (k = 0; k < 8; k++)
        if (bit(a, k) != bit(b, k)) r += 2 ^ k
    return r
}
# G.711 expansion as in ITU-T G.191's reference code.
function alaw(a,    t, seg) {
    a = xor8(a, 85)
    t = (a % 16) * 16
    seg = int(a / 16) % 8
    if (seg == 0) t += 8
    else if (seg == 1) t += 264
    else t = (t + 264) * 2 ^ (seg - 1)
    return (a >= 128) ? t : -t
}
function ulaw(u,    t) {
    u = 255 - u
    t = ((u % 16) * 8 + 132) * 2 ^ (int(u / 16) % 8)
    return (u >= 128) ? 132 - t : t - 132
}
function emit(v) { print v > out; frames++ }
function zeros(k,    j) { for (j = 0; j < k; j++) emit(0) }
function samples(i, bytes, from,    j, ns) {
    ns = length(bytes) / 2
    for (j = from; j < ns; j++) emit(dec[pt[i], substr(bytes, 2 * j + 1, 2)])
}
BEGIN {
    FS = "\t"
    hexd = "0123456789abcdef"
    for (i = 0; i < 256; i++) {
        h = substr(hexd, int(i / 16) + 1, 1) substr(hexd, i % 16 + 1, 1)
        dec[8, h] = alaw(i)
        dec[0, h] = ulaw(i)
    }
}
{
    n++
    sec[n] = $1; nsec[n] = $2; seq[n] = $3 + 0; ts[n] = $4 + 0; pt[n] = $5 + 0
    pl[n] = tolower($6); pd[n] = tolower($7)
}
END {
    # Extended sequence numbers and timestamps: signed steps from the
    # previous packet in capture order.
    for (i = 1; i <= n; i++) {
        if (i == 1) { es[i] = 65536 + seq[i]; et[i] = ts[i]; continue }
        d = seq[i] - seq[i - 1]
        if (d > 32767) d -= 65536; else if (d < -32768) d += 65536
        es[i] = es[i - 1] + d
        d = ts[i] - ts[i - 1]
        if (d > 2147483647) d -= 4294967296; else if (d < -2147483648) d += 4294967296
        et[i] = et[i - 1] + d
    }
    # arrive_offset: nstime_to_sec(rel_ts) minus that of the stream's first
    # packet, nstime_to_sec(t) = (double)secs + (double)nsecs / 1e9.
    for (i = 1; i <= n; i++)
        arr[i] = (sec[i] + nsec[i] / 1000000000) - (sec[1] + nsec[1] / 1000000000)
    m = 0
    if (order == "seq") {
        for (i = 1; i <= n; i++) {
            dup = 0
            for (j = m; j >= 1 && es[L[j]] >= es[i]; j--)
                if (es[L[j]] == es[i]) { dup = 1; break }
            if (dup) { dups++; continue }
            for (j = m; j >= 1 && es[L[j]] > es[i]; j--) L[j + 1] = L[j]
            L[j + 1] = i
            m++
        }
    } else {
        for (i = 1; i <= n; i++) {
            if (order == "arrival-nodup" && (es[i] in kept)) { dups++; continue }
            kept[es[i]] = 1
            L[++m] = i
        }
    }
    frames = 0
    last_w = 0; rtp_time_prev = 0; arrive_prev = 0; pack_period = 0; prev_samples = 0
    start_time = 0
    for (k = 1; k <= m; k++) {
        i = L[k]
        if (k == 1) { start_ts = et[i]; prev_et = et[i]; first_ts = et[i] }
        bytes = pl[i]
        if (pd[i] != "") {
            padded++
            if (pad == "audio") bytes = bytes pd[i]
        }
        ns = length(bytes) / 2
        if ((pt[i] != 0 && pt[i] != 8) || ns == 0) continue
        if (place == "exact") {
            pos = et[i] - first_ts
            if (pos + ns <= frames) { unmodelled++; continue }
            skip = 0
            if (pos > frames) zeros(pos - frames)
            else if (pos < frames) { skip = frames - pos; overlap++; overlap_samples += skip }
            samples(i, bytes, skip)
            continue
        }
        if (ns == 1) { skip1++; continue }
        rtp_time = (et[i] - start_ts) / 8000
        arrive = (mode == "rtp") ? rtp_time : arr[i] - start_time
        diff = arrive - rtp_time
        if (diff < 0) diff = -diff
        sil = 0
        if (diff * 1000 > jbuf && mode != "continuous") {
            drops++
            if (rtp_time - rtp_time_prev > pack_period * 2) {
                resyncs++
                sil = int((arrive - arrive_prev) * 8000 - prev_samples)
                prev_samples = 0
                start_ts = et[i]; prev_et = et[i]
                start_time = arr[i]
                rtp_time_prev = 0
            }
        } else {
            if (mode != "continuous") {
                sil = int((rtp_time - rtp_time_prev) * 8000 - prev_samples)
                exact = (et[i] - prev_et) - prev_samples
                if (exact > 0 && sil < exact) {
                    trunc++
                    trunc_samples += exact - sil
                    if (drift != "") print et[i] - first_ts, exact - sil > drift
                }
            }
            rtp_time_prev = rtp_time
            prev_et = et[i]
            pack_period = ns / 8000
            prev_samples = ns
            arrive_prev = arrive
        }
        if (sil > 0) zeros(sil)
        if (es[i] > last_w) {
            last_w = es[i]
            samples(i, bytes, 0)
        } else if (es[i] in seen) {
            dups++
        } else {
            late++
        }
        seen[es[i]] = 1
    }
    printf "" > out
    close(out)
    if (drift != "") { printf "" > drift; close(drift) }
    printf "frames=%d trunc=%d trunc_samples=%d drops=%d resyncs=%d late=%d dups=%d padded=%d skip1=%d overlap=%d overlap_samples=%d unmodelled=%d\n", \
        frames, trunc, trunc_samples, drops, resyncs, late, dups, padded, skip1, overlap, \
        overlap_samples, unmodelled
}
EOF

# stat KEY "k1=v1 k2=v2 ...": the value of KEY.
stat_of() {
    local kv
    for kv in $2; do
        if [ "${kv%%=*}" = "$1" ]; then
            echo "${kv#*=}"
            return 0
        fi
    done
    fail "no $1 in '$2'"
}

# cmp_dump WHAT A B: fail unless two dumps are equal; names the first
# differing sample.
cmp_dump() {
    if ! cmp -s "$2" "$3"; then
        awk -v what="$1" 'NR == FNR { a[FNR] = $0; na = FNR; next }
            { nb = FNR; if (!done && (FNR > na || a[FNR] != $0)) { printf "%s: first difference at sample %d: %s vs %s\n", what, FNR - 1, (FNR > na ? "end" : a[FNR]), $0; done = 1 } }
            END { if (!done) printf "%s: %d vs %d samples, equal over the common part\n", what, na, nb }' "$2" "$3" >&2
        return 1
    fi
}

# --- comparison ----------------------------------------------------------------

wait "$exports_pid" || true
exports_pid=
t_exported=${EPOCHREALTIME/./}
export_ms=0
while IFS='|' read -r label cap mode jb; do
    d=$(ws_dir "$label" "$cap" "$mode" "$jb")
    [ -f "$d.rc" ] || fail "$label --mode $mode: the export did not finish"
    read -r rc ms <"$d.rc"
    export_ms=$((export_ms + ms))
    if [ "$rc" != 0 ]; then
        cat "$d.err" >&2
        fail "$label --mode $mode --jitter $jb: ws-player-export.sh exited $rc"
    fi
done <jobs.sorted

declare -A seen_stream
nlines=0
nequal=0
while IFS='|' read -r label cap mode jb; do
    d=$(ws_dir "$label" "$cap" "$mode" "$jb")
    case $mode in
    rtp) timing=rtp ;;
    continuous) timing=continuous ;;
    jitter) if [ "$jb" = 50 ]; then timing=jitter; else timing=jitter:$jb; fi ;;
    esac
    rp=rp-$label-$timing
    # The same streams, under the same names; none without audio in only
    # one of the two.
    sed -n 's/^ok //p' "$d.out" | sort >"$d.list"
    (cd "$rp" && find . -maxdepth 1 -name '*.wav' | sed 's|^\./||') | sort >"$d.rplist"
    if ! diff -u "$d.rplist" "$d.list" >&2; then
        fail "$label --mode $mode: the player's streams (+) differ from rtpproc's (-)"
    fi
    [ -s "$d.list" ] || fail "$label --mode $mode: no stream with audio"
    while read -r name; do
        ssrc=${name##*-}
        ssrc=${ssrc%.wav}
        pk=pk-$label/$name.pkts
        [ -f "$pk" ] || fail "$label: tshark shows no packets for $name"
        info=$("$SNDINFO" "$d/$name") || fail "$d/$name: unreadable"
        case $info in
        *" rate=8000 channels=1 format=0x010002") ;;
        *) fail "$d/$name: not 8000 Hz mono 16-bit PCM: $info" ;;
        esac
        # rtpproc's statistics for this stream (its rtp run). A late packet
        # (beyond the reorder window) or a discontinuity would need more
        # than the model below knows of rtpproc.
        js=$(jq -r --arg f "rp-$label-rtp/$name" \
            '.streams[] | select(.file == $f) | "\(.lost) \(.duplicates) \(.reordered) \(.late) \(.discontinuities)"' \
            "rp-$label-rtp.json")
        [ -n "$js" ] || fail "$label: no JSON entry for $name"
        read -r j_lost j_dup j_reord j_late j_disc <<<"$js"
        [ "$j_late$j_disc" = 00 ] ||
            fail "$label $ssrc: late=$j_late discontinuities=$j_disc: outside what this test models"
        "$SNDINFO" --dump "$d/$name" >"$d/$name.p"
        "$SNDINFO" --dump "$rp/$name" >"$d/$name.r"
        place_r=player
        [ "$mode" = rtp ] && place_r=exact
        ms_p=$(awk -v mode="$mode" -v jbuf="$jb" -v order=arrival -v pad=audio -v place=player \
            -v out="$d/$name.mp" -v drift="$d/$name.drift" -f model.awk "$pk")
        ms_r=$(awk -v mode="$mode" -v jbuf="$jb" -v order=seq -v pad=strip -v place="$place_r" \
            -v out="$d/$name.mr" -f model.awk "$pk")
        if ! cmp_dump "player vs model" "$d/$name.p" "$d/$name.mp"; then
            fail "$label $ssrc $mode: the player's export differs from the model of notes 2.3 ($ms_p)"
        fi
        [ "$(stat_of unmodelled "$ms_r")" = 0 ] ||
            fail "$label $ssrc $mode: rtpproc's placement is not modelled here (discontinuity): $ms_r"
        if ! cmp_dump "rtpproc vs model" "$d/$name.r" "$d/$name.mr"; then
            fail "$label $ssrc $mode: rtpproc's recording ($timing) differs from its model ($ms_r); not a named rule"
        fi

        late=$(stat_of late "$ms_p")
        padded=$(stat_of padded "$ms_p")
        [ "$late" = "$j_reord" ] ||
            fail "$label $ssrc $mode: the player leaves $late late packets out, rtpproc counts $j_reord reordered"
        [ "$(stat_of dups "$ms_r")" = "$j_dup" ] ||
            fail "$label $ssrc: $(stat_of dups "$ms_r") duplicates in the capture, rtpproc counts $j_dup"

        # The jitter buffer's drops: the player's, and rtpproc's count.
        if [ "$mode" = jitter ]; then
            drops=$(jq -r --arg f "$rp/$name" '.streams[] | select(.file == $f) | .jitter_drops' \
                "$rp.json")
            [ "$drops" = "$(stat_of drops "$ms_r")" ] ||
                fail "$label $ssrc $timing: rtpproc reports $drops jitter drops, its model $(stat_of drops "$ms_r")"
        fi

        # The named rules that apply, with what they do here.
        fp=$(stat_of frames "$ms_p")
        fr=$(stat_of frames "$ms_r")
        rules=""
        trunc=$(stat_of trunc "$ms_p")
        trunc_samples=$(stat_of trunc_samples "$ms_p")
        skip1=$(stat_of skip1 "$ms_p")
        overlap=$(stat_of overlap "$ms_r")
        if [ "$mode" = rtp ]; then
            [ "$trunc" = 0 ] || rules="$rules; truncation drift ($trunc gaps, $trunc_samples samples)"
            [ "$skip1" = 0 ] || rules="$rules; one-byte payloads ($skip1 skipped by the player, placed by rtpproc)"
            [ "$overlap" = 0 ] || rules="$rules; overlap ($overlap packets longer than their timestamp step, $(stat_of overlap_samples "$ms_r") samples trimmed by rtpproc)"
        fi
        dups=$(stat_of dups "$ms_p")
        if [ "$dups" != 0 ] && [ "$late" = 0 ]; then
            # Does the player's handling of the duplicates alone change its
            # audio? (Only when one moves the state a resync reads.)
            ms_n=$(awk -v mode="$mode" -v jbuf="$jb" -v order=arrival-nodup -v pad=audio \
                -v place=player -v out="$d/$name.mn" -f model.awk "$pk")
            if ! cmp -s "$d/$name.mp" "$d/$name.mn"; then
                rules="$rules; duplicates ($dups run through the player's timing state:"
                rules="$rules player $((fp - $(stat_of frames "$ms_n"))) samples)"
            fi
        fi
        if [ "$late" != 0 ]; then
            rules="$rules; reordering ($late late packets not written by the player"
            [ "$mode" = continuous ] || rules="$rules, which repeats silence for them"
            rules="$rules)"
        fi
        [ "$padded" = 0 ] || rules="$rules; padding ($padded padded packets decoded as audio by the player)"
        rules=${rules#; }

        if [ -z "$rules" ]; then
            if ! "$SNDINFO" --cmp "$d/$name" "$rp/$name" >"$d/$name.cmp" 2>&1; then
                cat "$d/$name.cmp" >&2
                fail "$label $ssrc $mode: differs from rtpproc ($timing) and no named rule applies"
            fi
            verdict="equal ($fp samples)"
            nequal=$((nequal + 1))
        else
            if cmp -s "$d/$name.p" "$d/$name.r"; then
                fail "$label $ssrc $mode: equal to rtpproc although the rules predict a difference: $rules"
            fi
            verdict="differs by named rules: $rules; player $fp, rtpproc $fr samples"
        fi

        if [ "$mode" = rtp ] && [ "$late" = 0 ] && [ "$padded" = 0 ]; then
            # The player's RTP-timestamp arithmetic is rtpproc's jitter mode
            # with a buffer no arrival exceeds.
            if ! "$SNDINFO" --cmp "$d/$name" "rp-$label-jitter:100000/$name" >"$d/$name.cmp" 2>&1; then
                cat "$d/$name.cmp" >&2
                fail "$label $ssrc rtp: the player's export differs from rtpproc --timing jitter:100000"
            fi
            verdict="$verdict; = jitter:100000"
            if [ "$trunc" != 0 ] && [ "$skip1" = 0 ] && [ "$overlap" = 0 ]; then
                [ "$trunc_samples" = "$trunc" ] ||
                    fail "$label $ssrc rtp: $trunc_samples samples at $trunc gaps (expected one each)"
                [ $((fr - fp)) = "$trunc" ] ||
                    fail "$label $ssrc rtp: rtpproc has $fr samples, the player $fp: not the $trunc truncating gaps"
                # Piecewise: rtpproc's recording without one zero before each
                # truncating gap is the player's export.
                awk 'NR == FNR { for (k = 1; k <= $2; k++) del[$1 - k] = 1; next }
                    (FNR - 1) in del { if ($0 != 0) { bad = 1; print "sample " FNR - 1 " is not silence: " $0 > "/dev/stderr" }; next }
                    { print }
                    END { exit bad }' "$d/$name.drift" "$d/$name.r" >"$d/$name.rd" ||
                    fail "$label $ssrc rtp: rtpproc has audio where the player truncated silence"
                cmp_dump "rtpproc less the truncated samples vs player" "$d/$name.rd" "$d/$name.p" ||
                    fail "$label $ssrc rtp: rtpproc's recording and the export differ by more than the truncation drift"
                verdict="$verdict; = rtpproc less $trunc samples"
            fi
        fi
        if [ "$mode" = jitter ]; then
            verdict="$verdict; player: $(stat_of drops "$ms_p") jitter drops, $(stat_of resyncs "$ms_p") resyncs"
        fi
        printf '%-18s %-10s %-14s %s [lost %s, dup %s, reordered %s]\n' "$label" "$ssrc" "$timing" \
            "$verdict" "$j_lost" "$j_dup" "$j_reord"
        seen_stream["$label/$name"]=1
        nlines=$((nlines + 1))
    done <"$d.list"
done <jobs.sorted
nstreams=${#seen_stream[@]}
t_end=${EPOCHREALTIME/./}
echo "$(wc -l <captures.txt) captures, $nstreams streams, $nlines stream/mode comparisons ($nequal equal," \
    "$((nlines - nequal)) by named rules); exports $((export_ms / 1000)) s of player time," \
    "wall $(((t_exported - t_start) / 1000000)) s to the last export, $(((t_end - t_start) / 1000000)) s in all"
