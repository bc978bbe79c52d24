#!/usr/bin/env python3
"""Compares rtpproc's stream statistics with tshark 4.0's `-z rtp,streams`.

Usage: rtp_stats_compare.py NAME TSHARK_OUT RTPPROC_JSON [NAME TSHARK_OUT RTPPROC_JSON ...]
       rtp_stats_compare.py --fields    (the tshark fields TSHARK_OUT must have)

TSHARK_OUT is the output of one tshark run (see tests/integration/
stats_compare.sh): tab-separated per-packet fields of every RTP packet and
every SDP packet, followed by the `-z rtp,streams` table.

Two models are computed from the packets, independently of both programs:
  - tshark's per-packet and per-stream formulas (Wireshark 4.0.17,
    ui/tap-rtp-analysis.c and ui/tap-rtp-common.c, as written down in
    wireshark-notes.md section 3); the prediction must equal every column
    tshark printed, which checks the model;
  - rtpproc's definitions (RFC 3550 A.1 probation and sequence extension,
    A.3 lost, A.8 jitter in timestamp units; docs/stream-statistics.md);
    the prediction must equal rtpproc's JSON.
The two models are the same computation with switches: every switch is one
named rule of docs/stream-statistics.md ("Differences from tshark"). With
every switch off the computation is tshark's, with every switch on it is
rtpproc's. Switching the rules on one at a time, in a fixed order, shows
which rule changes which printed value; a field that no rule changes must be
equal in both outputs. So every difference between the two programs is
produced by a named rule, and a difference that is not fails.

Prints one line per capture ("ok" or "FAIL") with the rules applied, each
application indented below it (stream, field, value before -> after), then
totals; exits 1 on any failure.
"""

import json
import re
import sys

NS = 1000000000

# Rule IDs in the doc's order (the switching order is per figure, below and
# in compare_stream()). Texts are short; the full definitions are in
# docs/stream-statistics.md.
RULES = [
    ("S1", "tshark prints streams newest first"),
    ("S2", "RTP inside TURN ChannelData: a tshark stream rtpproc does not read"),
    ("S3", "rtpproc ends a stream after 5 s without packets; tshark keeps one"),
    ("P1", "packets before RFC 3550 A.1 probation ended that rtpproc discarded"),
    ("P2", "a source that never passed probation: no rtpproc stream"),
    ("N1", "PT 101 without SDP: tshark 'rtpevent', rtpproc 'telephone-event'"),
    ("N2", "dynamic PT named by SDP that rtpproc does not read (SIP over TCP)"),
    ("L0", "duplicates make lost negative in both (agreement)"),
    ("L1", "lost/last_seq: tshark uses the last packet's seq, rtpproc the highest"),
    ("L2", "lost: tshark's sequence-cycle heuristic against plain extension"),
    ("L3", "lost: rtpproc's base is the lowest probation packet, tshark's the first"),
    ("L4", "lost/last_seq: RFC 3550 A.1 re-synchronisation after a large jump"),
    ("J1", "jitter clock per PT: tshark's table against rtpproc's codecs"),
    ("J3", "jitter: tshark's arrival reference moves on packets without a clock"),
    ("J5", "jitter: rtpproc restarts J when the clock rate changes"),
    ("J2", "jitter: tshark's ms arithmetic with integer clock/1000"),
    ("J4", "jitter: tshark skips packets before the first timestamp"),
    ("J6", "jitter max/mean: tshark only over 'regular' packets"),
    ("J7", "mean jitter: tshark divides by every packet of the stream"),
    ("D2", "delta: tshark's reference is the last packet in timestamp order"),
    ("D1", "max delta: tshark only over 'regular' packets"),
    ("D3", "delta: rtpproc's integer-ns arithmetic against tshark's ms doubles"),
]
TIMING_ORDER = ["P1", "J3", "J1", "J5", "J2", "J4", "J6", "J7", "D2", "D1", "D3"]

# ui/tap-rtp-analysis.c clock_map (static PTs); everything else 0.
TSHARK_STATIC_CLOCK = {}
for _pt in (0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 18, 19):
    TSHARK_STATIC_CLOCK[_pt] = 8000
TSHARK_STATIC_CLOCK[6] = 16000
TSHARK_STATIC_CLOCK[10] = TSHARK_STATIC_CLOCK[11] = 44100
TSHARK_STATIC_CLOCK[16] = 11025
TSHARK_STATIC_CLOCK[17] = 22050
for _pt in (14, 25, 26, 28, 31, 32, 33, 34):
    TSHARK_STATIC_CLOCK[_pt] = 90000

# mimetype_and_clock_map: used only when the SDP gave no rate.
TSHARK_MIME_CLOCK = [
    ("AMR", 8000), ("AMR-WB", 16000), ("BMPEG", 90000), ("BT656", 90000), ("DV", 90000),
    ("EVRC", 8000), ("EVRC0", 8000), ("EVRC1", 8000), ("EVRCB", 8000), ("EVRCB0", 8000),
    ("EVRCB1", 8000), ("EVRCWB", 16000), ("EVRCWB0", 16000), ("EVRCWB1", 16000),
    ("EVS", 16000), ("G7221", 16000), ("G726-16", 8000), ("G726-24", 8000),
    ("G726-32", 8000), ("G726-40", 8000), ("G729D", 8000), ("G729E", 8000),
    ("GSM-EFR", 8000), ("H263-1998", 90000), ("H263-2000", 90000), ("H264", 90000),
    ("MP1S", 90000), ("MP2P", 90000), ("MP4V-ES", 90000), ("mpa-robust", 90000),
    ("opus", 48000), ("pointer", 90000), ("raw", 90000), ("red", 1000), ("SMV", 8000),
    ("SMV0", 8000), ("t140", 1000), ("telephone-event", 8000),
]

# rtpproc codecs that do not time audio (codec kind CN / EVENT).
RTPPROC_NOT_AUDIO = ("telephone-event", "CN")

# rtpproc defaults (RFC 3550 A.1 constants, engine probation hold, idle timeout).
MAX_DROPOUT = 3000
MAX_MISORDER = 100
SEQ_MOD = 1 << 16
PROBATION_HOLD = 4
IDLE_TIMEOUT_NS = 5 * NS

# rtpproc's JSON names of the timing figures.
JSON_NAME = {"max_delta": "max_delta_ms", "max_jitter": "max_jitter_ms",
             "mean_jitter": "mean_jitter_ms"}

FIELDS = [
    "frame.number", "frame.time_relative", "frame.time_epoch", "frame.protocols",
    "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport",
    "rtp.ssrc", "rtp.seq", "rtp.timestamp", "rtp.p_type", "rtp.marker", "rtp.setup-frame",
    "sdp.media_attr",
]


def f3(x):
    return "%.3f" % x


class Pkt:
    __slots__ = ("frame", "rel", "rel_ms", "arr", "proto", "seq", "ts", "pt", "marker",
                 "setup", "ct", "cr")


def split_time(text):
    """'S.NNNNNNNNN' (maybe negative) -> (secs, nsecs) with the sign on both."""
    neg = text.startswith("-")
    if neg:
        text = text[1:]
    s, _, n = text.partition(".")
    secs = int(s)
    nsecs = int((n + "000000000")[:9])
    return (-secs, -nsecs) if neg else (secs, nsecs)


def parse_tshark(path):
    pkts = {}  # key -> [Pkt] in capture order
    order = []  # keys by first appearance
    sdp = {}  # frame -> {pt: (name, rate)}
    sdp_proto = {}
    rows = []
    in_table = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("====="):
                in_table = True
                continue
            if in_table:
                m = TABLE_RE.match(line)
                if m:
                    rows.append(m)
                continue
            col = line.split("\t")
            if len(col) != len(FIELDS):
                raise ValueError("unexpected field line: %r" % line)
            v = dict(zip(FIELDS, col))
            if v["sdp.media_attr"]:
                fr = int(v["frame.number"])
                maps = sdp.setdefault(fr, {})
                sdp_proto[fr] = v["frame.protocols"]
                for a in v["sdp.media_attr"].split("|"):
                    mm = re.match(r"rtpmap:(\d+) ([^/]+)/(\d+)", a)
                    if mm and int(mm.group(1)) not in maps:
                        maps[int(mm.group(1))] = (mm.group(2), int(mm.group(3)))
            if not v["rtp.ssrc"]:
                continue
            # the innermost address and port (tshark's pinfo->src/dst)
            inner = {f: v[f].split("|")[-1] for f in FIELDS[4:10]}
            src = inner["ip.src"] or inner["ipv6.src"]
            dst = inner["ip.dst"] or inner["ipv6.dst"]
            rtp = [v[f].split("|") for f in ("rtp.ssrc", "rtp.seq", "rtp.timestamp",
                                              "rtp.p_type", "rtp.marker")]
            setup = v["rtp.setup-frame"].split("|")
            secs, nsecs = split_time(v["frame.time_relative"])
            esecs, ensecs = split_time(v["frame.time_epoch"])
            for i in range(len(rtp[0])):
                p = Pkt()
                p.frame = int(v["frame.number"])
                p.rel = (secs, nsecs)
                # wsutil nstime_to_msec()
                p.rel_ms = float(secs) * 1000 + float(nsecs) / 1000000
                p.arr = esecs * NS + ensecs
                p.proto = v["frame.protocols"]
                p.seq = int(rtp[1][i])
                p.ts = int(rtp[2][i])
                p.pt = int(rtp[3][i])
                p.marker = rtp[4][i] in ("1", "True")
                p.setup = int(setup[i]) if i < len(setup) and setup[i] else None
                key = (src, int(inner["udp.srcport"]), dst, int(inner["udp.dstport"]),
                       int(rtp[0][i], 16))
                if key not in pkts:
                    pkts[key] = []
                    order.append(key)
                pkts[key].append(p)
    return pkts, order, sdp, sdp_proto, rows


# "%13.6f %13.6f %15s %5u %15s %5u 0x%08X %16s %5u %5d (%.1f%%) %15.3f x6 %s"
TABLE_RE = re.compile(
    r"^\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-F]{8})\s+(.*?)"
    r"\s+(\d+)\s+(-?\d+) \((-?[\d.]+|-?nan|-?inf)%\)"
    r"\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+) ?(X?)\s*$")


def tshark_clock(p, sdp):
    """ui/tap-rtp-analysis.c: the clock rtppacket_analyse() uses for p."""
    if p.pt < 96:
        return TSHARK_STATIC_CLOCK.get(p.pt, 0)
    name, rate = sdp_name(p, sdp)
    if name is None:
        return 0  # "RTPType-NNN", "rtpevent": no info_payload_type_str
    if name.lower().startswith("telephone-event"):
        return 0
    if rate:
        return rate
    for mime, clock in reversed(TSHARK_MIME_CLOCK):
        if name.lower().startswith(mime.lower()):
            return clock
    return 0


def sdp_name(p, sdp):
    if p.setup is None or p.setup not in sdp:
        return None, 0
    return sdp[p.setup].get(p.pt, (None, 0))


# ---------------------------------------------------------------- sequence


def tshark_seq(pk):
    """rtppacket_analyse() sequence part and rtpstream_info_calculate()."""
    first = pk[0]
    start = stop = prev = first.seq
    cycles, under, problems = 0, False, False
    for p in pk[1:]:
        in_ts = ((p.ts - first.ts) & 0xFFFFFFFF) < 0x80000000
        if not in_ts:
            problems = True
        s = p.seq
        if s < start and in_ts and not under:
            cycles += 1
            under = True
        elif s == 0 and stop == 65535 and in_ts and not under:
            cycles += 1
            under = True
        elif s > start and in_ts and under:
            under = False
        if in_ts and prev + 1 == s:
            prev = s
        elif in_ts and prev == 65535 and s == 0:
            prev = s
        elif in_ts and (prev + 1 < s or prev - s > 0xFF00):
            prev = s
            problems = True
        elif prev + 1 > s:
            problems = True
        stop = s
    expected = stop + 65536 * cycles - start + 1
    return {"start": start, "stop": stop, "cycles": cycles, "expected": expected,
            "lost": expected - len(pk), "problems": problems}


def unwrap(pk):
    """Extended sequence numbers, each the value nearest the highest so far."""
    ext, hi = [], None
    for p in pk:
        if hi is None:
            e = p.seq
        else:
            d = (p.seq - hi) & 0xFFFF
            e = hi + d if d < 0x8000 else hi + d - SEQ_MOD
        ext.append(e)
        hi = e if hi is None else max(hi, e)
    return ext


class A1:
    """RFC 3550 A.1 source state, as rtpproc's core/stats.c keeps it."""

    def __init__(self, seq):
        self.base, self.max, self.bad = seq, (seq - 1) & 0xFFFF, SEQ_MOD + 1
        self.cycles, self.received, self.probation = 0, 0, 2

    def init_seq(self, seq):
        self.base, self.max, self.bad = seq, seq, SEQ_MOD + 1
        self.cycles, self.received = 0, 0

    def update(self, seq):
        udelta = (seq - self.max) & 0xFFFF
        if self.probation:
            if seq == (self.max + 1) & 0xFFFF:
                self.probation -= 1
                self.max = seq
                if self.probation == 0:
                    self.init_seq(seq)
                    self.received += 1
                    return True
            else:
                self.probation = 1
                self.max = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self.max:
                self.cycles += SEQ_MOD
            self.max = seq
        elif udelta <= SEQ_MOD - MAX_MISORDER:
            if seq == self.bad:
                self.init_seq(seq)
            else:
                self.bad = (seq + 1) & (SEQ_MOD - 1)
                return False
        self.received += 1
        return True

    def rebase(self, first_seq, packets):
        if first_seq > self.max and self.cycles == 0:
            self.cycles = SEQ_MOD
        self.base = first_seq
        self.received = packets
        self.restart_packets = 0  # stream packets before the last A.1 restart


def rtpproc_parts(pk):
    """rtpproc's streams for one key (core/engine.c): parts split where the
    key's packets are more than the idle timeout apart (capture times assumed
    in order), each through probation. Returns [(stream packets, A1 state,
    first_seq, base at the end of probation)] and the count of packets no
    stream kept."""
    parts, cur = [], [pk[0]]
    for a, b in zip(pk, pk[1:]):
        if b.arr - a.arr > IDLE_TIMEOUT_NS:
            parts.append(cur)
            cur = []
        cur.append(b)
    parts.append(cur)
    streams, dropped = [], 0
    for part in parts:
        st, kept, stream = None, [], None
        for p in part:
            if stream is not None:
                base, received = st.base, st.received
                st.update(p.seq)
                if st.base != base or st.received < received:
                    st.restart_packets = len(stream)  # A.1 re-synchronised here
                stream.append(p)
                continue
            if st is None:
                st = A1(p.seq)
                st.update(p.seq)
                kept.append(p)
                continue
            if not st.update(p.seq):
                if len(kept) == PROBATION_HOLD:
                    kept.pop(0)
                    dropped += 1
                kept.append(p)
                continue
            use, base = [], p.seq
            for k in kept:
                back = (p.seq - k.seq) & 0xFFFF
                if back < MAX_DROPOUT:
                    if ((p.seq - base) & 0xFFFF) < back:
                        base = k.seq
                    use.append(k)
                else:
                    dropped += 1
            st.rebase(base, len(use) + 1)
            stream = use + [p]
            first_seq = stream[0].seq
            base0 = base
        if stream is None:
            dropped += len(kept)
        else:
            streams.append((stream, st, first_seq, base0))
    return streams, dropped


# ---------------------------------------------------------------- timing


def timing(pk, on):
    """Delta and jitter of one stream. With `on` empty this is tshark's
    rtppacket_analyse(); every rule in `on` switches one part to rtpproc's
    core/stats.c (rtpproc_jitter_update)."""
    j_clk, j_seq, j_ref, j_rst = "J1" in on, "J4" in on, "J3" in on, "J5" in on
    j_ar, j_reg, j_mean = "J2" in on, "J6" in on, "J7" in on
    d_ref, d_all, d_ns = "D2" in on, "D1" in on, "D3" in on
    first = pk[0]
    clock = (lambda p: p.cr) if j_clk else (lambda p: p.ct)
    # delta reference (tshark: statinfo->time)
    dref_ms, dref_ns = first.rel_ms, first.arr
    # jitter references: arrival (time) and nominal (lastnominaltime / ts)
    c0 = clock(first)
    if j_ref:
        have_ref = c0 != 0
        ref_clock = c0
    else:
        have_ref, ref_clock = True, c0
    aref_ms, aref_ns = first.rel_ms, first.arr
    nref_ms, nref_ts = 0.0, first.ts
    jit_ms = jit_ts = 0.0
    max_d, min_d, mean_d = 0.0, -1.0, 0.0
    max_j, min_j, mean_j, sum_j, n_j = 0.0, -1.0, 0.0, 0.0, 0
    prev_pt = first.pt
    total = 1
    for p in pk[1:]:
        total += 1
        in_ts = ((p.ts - first.ts) & 0xFFFFFFFF) < 0x80000000
        regular = in_ts and not p.marker and p.pt not in (13, 19) and prev_pt not in (13, 19)
        prev_pt = p.pt
        c = clock(p)
        # delta
        delta = None
        if d_ref or in_ts:
            delta = (p.arr - dref_ns) / 1e6 if d_ns else p.rel_ms - dref_ms
            dref_ms, dref_ns = p.rel_ms, p.arr
        # jitter
        updated = False
        if c != 0 and (in_ts or j_seq):
            if have_ref and j_rst and ref_clock != c:
                jit_ms = jit_ts = 0.0
            elif have_ref:
                if j_ar:
                    r = float(p.arr - aref_ns) * float(c) / 1e9
                    dts = (p.ts - nref_ts) & 0xFFFFFFFF
                    dts = dts - (1 << 32) if dts >= 0x80000000 else dts
                    jit_ts += (abs(r - float(dts)) - jit_ts) / 16.0
                    jit_ms = jit_ts * 1000.0 / c
                else:
                    s_ms = float((p.ts - first.ts) & 0xFFFFFFFF) / (c // 1000)
                    expected = aref_ms + (s_ms - nref_ms)
                    jit_ms = (15 * jit_ms + abs(p.rel_ms - expected)) / 16
                updated = True
            have_ref, ref_clock = True, c
            nref_ts = p.ts
            nref_ms = float((p.ts - first.ts) & 0xFFFFFFFF) / (c // 1000)
            aref_ms, aref_ns = p.rel_ms, p.arr
        elif not j_ref and (in_ts or j_seq):
            aref_ms, aref_ns = p.rel_ms, p.arr
        # statistics
        if delta is not None and (regular or d_all):
            if delta > max_d:
                max_d = delta
            if regular:
                if min_d == -1 or delta < min_d:
                    min_d = delta
                # tshark's recurrence over the packets before this one
                # (total - 1): the true mean when every packet is regular
                mean_d = (mean_d * (total - 2) + delta) / (total - 1)
        # J6: tshark samples J on regular packets with a clock, rtpproc on
        # every update; J7: tshark's mean is the same recurrence as delta's
        sample = updated if j_reg else (regular and c != 0)
        if sample:
            if jit_ms > max_j:
                max_j = jit_ms
            if min_j == -1 or jit_ms < min_j:
                min_j = jit_ms
            mean_j = (mean_j * (total - 2) + jit_ms) / (total - 1)
            sum_j += jit_ms
            n_j += 1
    if j_mean:
        mean_j = sum_j / n_j if n_j else 0.0
    return {"max_delta": max_d, "min_delta": min_d, "mean_delta": mean_d,
            "max_jitter": max_j, "min_jitter": min_j, "mean_jitter": mean_j}


# ---------------------------------------------------------------- compare


class Report:
    def __init__(self, name):
        self.name = name
        self.errors = []
        self.applied = {}
        self.fields = 0
        self.equal = 0
        self.streams = 0
        self.table_payload = {}

    def rule(self, rid, detail=""):
        self.applied.setdefault(rid, []).append(detail)

    def err(self, msg):
        self.errors.append(msg)


def keystr(k):
    return "%s:%d -> %s:%d 0x%08X" % k


def compare(name, tshark_out, json_path):
    rep = Report(name)
    pkts, order, sdp, sdp_proto, rows = parse_tshark(tshark_out)
    with open(json_path, encoding="utf-8") as fh:
        rj = json.load(fh)

    # tshark's table, checked against the model of tshark
    table = {}
    for m in rows:
        k = (m.group(3), int(m.group(4)), m.group(5), int(m.group(6)), int(m.group(7), 16))
        table[k] = m
        rep.table_payload[k] = m.group(8)
    tkeys = [(m.group(3), int(m.group(4)), m.group(5), int(m.group(6)), int(m.group(7), 16))
             for m in rows]
    if set(tkeys) != set(order):
        rep.err("tshark model: stream set from the packets %s, table %s" %
                (sorted(map(keystr, set(order) - set(tkeys))),
                 sorted(map(keystr, set(tkeys) - set(order)))))
        return rep
    if tkeys != list(reversed(order)):
        rep.err("tshark model: table order is not newest first")
    elif len(tkeys) > 1:
        rep.rule("S1")

    tmodel = {}
    for k in order:
        pk = pkts[k]
        for p in pk:
            p.ct = tshark_clock(p, sdp)
        sq = tshark_seq(pk)
        tm = timing(pk, set())
        m = table[k]
        exp = sq["expected"]
        pct = sq["lost"] * 100.0 / exp if exp else float("nan")
        first, last = pk[0], pk[-1]
        want = {
            "start": "%.6f" % (first.rel[0] + first.rel[1] / 1e9),
            "end": "%.6f" % (last.rel[0] + last.rel[1] / 1e9),
            "packets": str(len(pk)), "lost": str(sq["lost"]), "pct": "%.1f" % pct,
            "min_delta": f3(tm["min_delta"]), "mean_delta": f3(tm["mean_delta"]),
            "max_delta": f3(tm["max_delta"]), "min_jitter": f3(tm["min_jitter"]),
            "mean_jitter": f3(tm["mean_jitter"]), "max_jitter": f3(tm["max_jitter"]),
            "problems": "X" if sq["problems"] else "",
        }
        got = dict(zip(["start", "end"], m.group(1, 2)))
        got.update(zip(["packets", "lost", "pct", "min_delta", "mean_delta", "max_delta",
                        "min_jitter", "mean_jitter", "max_jitter", "problems"],
                       m.group(9, 10, 11, 12, 13, 14, 15, 16, 17, 18)))
        bad = ["%s model %s printed %s" % (f, want[f], got[f]) for f in want if want[f] != got[f]]
        if bad:
            rep.err("tshark model, %s: %s" % (keystr(k), "; ".join(bad)))
        tmodel[k] = (sq, tm)

    # rtpproc's streams, keyed as tshark keys them
    rstreams = {}
    for s in rj.get("streams", []):
        k = (s["src"], s["sport"], s["dst"], s["dport"], int(s["ssrc"], 16))
        rstreams.setdefault(k, []).append(s)
    for k in rstreams:
        if k not in pkts:
            rep.err("stream only in rtpproc: %s" % keystr(k))

    rep.streams = len(order)
    for k in order:
        pk = pkts[k]
        sq, tm = tmodel[k]
        rs = rstreams.get(k, [])
        # rtpproc's clock per PT, from its own report (codec and rate)
        clocks = {}
        for s in rs:
            for f in s.get("formats", []):
                ok = f.get("codec") and f["codec"] not in RTPPROC_NOT_AUDIO
                clocks[f["pt"]] = f["clock_rate"] if ok else 0
        for p in pk:
            p.cr = clocks.get(p.pt, 0)
        parts, dropped = rtpproc_parts(pk)
        ks = keystr(k)
        if not rs:
            if all(":stun:rtp" in p.proto or "turnchannel" in p.proto for p in pk):
                rep.rule("S2", ks)
            elif not parts:
                rep.rule("P2", ks)
            else:
                rep.err("stream only in tshark, unexplained: %s (%d packets)" % (ks, len(pk)))
            continue
        if len(parts) != len(rs):
            rep.err("%s: rtpproc model predicts %d streams, rtpproc has %d" %
                    (ks, len(parts), len(rs)))
            continue
        # the rtpproc model against rtpproc's report
        for (spk, st, first_seq, _), s in zip(parts, rs):
            rt = timing(spk, set(TIMING_ORDER))
            want = {
                "packets": len(spk), "first_seq": first_seq, "last_seq": st.max,
                "lost": st.cycles + st.max - st.base + 1 - (len(spk) - st.restart_packets),
                "max_delta": f3(rt["max_delta"]), "max_jitter": f3(rt["max_jitter"]),
                "mean_jitter": f3(rt["mean_jitter"]),
            }
            got = {f: (f3(s[JSON_NAME.get(f, f)]) if isinstance(want[f], str) else s[f])
                   for f in want}
            bad = ["%s model %s rtpproc %s" % (f, want[f], got[f])
                   for f in want if want[f] != got[f]]
            if bad:
                rep.err("rtpproc model, %s: %s" % (ks, "; ".join(bad)))
        if len(rs) > 1:
            rep.rule("S3", "%s in %d streams" % (ks, len(rs)))
            rep.fields += 1
            total = sum(s["packets"] for s in rs)
            if total + dropped != len(pk):
                rep.err("%s: packets %d + %d discarded != tshark %d" % (ks, total, dropped,
                                                                       len(pk)))
            continue
        compare_stream(rep, k, pk, parts[0], sq, tm, rs[0], sdp, sdp_proto)
    return rep


def check(rep, k, field, tval, rval, rules, notes=None):
    """tval: tshark's value, rval: rtpproc's; rules: [(rule, value after it)]
    in switching order, starting from tshark's value. Equal values need no
    rule; each change must come from the rule that made it."""
    rep.fields += 1
    if tval == rval and all(v == tval for _, v in rules):
        rep.equal += 1
        return
    cur = tval
    for rid, v in rules:
        if v != cur:
            extra = " (%s)" % notes[rid] if notes and notes.get(rid) else ""
            rep.rule(rid, "%s %s: %s -> %s%s" % (keystr(k), field, cur, v, extra))
            cur = v
    if cur != rval:
        rep.err("%s %s: tshark %s, rtpproc %s, unexplained (rules give %s)" %
                (keystr(k), field, tval, rval, cur))


def compare_stream(rep, k, pk, part, sq, tm, s, sdp, sdp_proto):
    ks = keystr(k)
    spk, st, _, base0 = part
    # payload names, from tshark's spelling to rtpproc's
    tname = rep.table_payload[k]
    cur = tname
    rules = []
    for pt in sorted({p.pt for p in pk}):
        names = {sdp_name(p, sdp)[0] for p in pk if p.pt == pt}
        setups = {p.setup for p in pk if p.pt == pt and p.setup is not None}
        if pt == 101 and names == {None}:
            cur = component_sub("rtpevent", "telephone-event", cur)
            rules.append(("N1", cur))
        if (pt >= 96 and len(names) == 1 and None not in names and setups and
                all(":tcp:" in sdp_proto.get(f, "") for f in setups)):
            cur = component_sub(next(iter(names)), "RTPType-%d" % pt, cur)
            rules.append(("N2", cur))
    check(rep, k, "payload", tname, s["payload"], rules)
    # counts and sequence numbers. Extended numbers: each the value nearest
    # the highest so far, counted from tshark's first packet.
    ext = unwrap(pk)
    ext_of = {id(p): e for p, e in zip(pk, ext)}
    ext_r = [ext_of[id(p)] for p in spk]
    hi_t = pk[ext.index(max(ext))].seq
    hi_r = spk[ext_r.index(max(ext_r))].seq
    # base: rtpproc's A.3 base, the lowest probation packet (within
    # MAX_DROPOUT below the packet that ended probation)
    base_ext = ext_r[0] - ((spk[0].seq - base0) & 0xFFFF)
    a1_lost = st.cycles + st.max - st.base + 1 - (len(spk) - st.restart_packets)
    check(rep, k, "packets", len(pk), s["packets"], [("P1", len(spk))])
    check(rep, k, "first_seq", pk[0].seq, s["first_seq"], [("P1", spk[0].seq)])
    check(rep, k, "last_seq", sq["stop"], s["last_seq"],
          [("L1", hi_t), ("P1", hi_r), ("L4", st.max)])
    check(rep, k, "lost", sq["lost"], s["lost"], [
        ("L2", ext[-1] - ext[0] + 1 - len(pk)),
        ("L1", max(ext) - ext[0] + 1 - len(pk)),
        ("P1", max(ext_r) - ext_r[0] + 1 - len(spk)),
        ("L3", max(ext_r) - base_ext + 1 - len(spk)),
        ("L4", a1_lost),
    ])
    if s["lost"] < 0 and sq["lost"] < 0:
        rep.rule("L0", "%s lost %d / %d" % (ks, sq["lost"], s["lost"]))
    # J1 covers a PT that only one side gives a clock (comfort noise, video
    # and codecs rtpproc lacks; dynamic PTs only one side has a name for);
    # two different non-zero clocks for one PT are not a rule but an error.
    clocks = sorted({(p.pt, p.ct, p.cr) for p in pk})
    for pt, ct, cr in clocks:
        if ct and cr and ct != cr:
            rep.err("%s PT %d: tshark clock %d, rtpproc %d" % (ks, pt, ct, cr))
    note = ", ".join("PT %d %d->%d" % c for c in clocks if c[1] != c[2])
    # timing: switch the rules on one by one
    on = set()
    steps = []
    for rid in TIMING_ORDER:
        on.add(rid)
        steps.append((rid, timing(spk if "P1" in on else pk, on)))
    for field in ("max_delta", "max_jitter", "mean_jitter"):
        check(rep, k, field, f3(tm[field]), f3(s[JSON_NAME[field]]),
              [(rid, f3(v[field])) for rid, v in steps], {"J1": note})


def component_sub(old, new, names):
    """Replaces one whole name in tshark's ", "-joined payload names."""
    return re.sub(r"(^|, )%s(?=, |$)" % re.escape(old), lambda m: m.group(1) + new, names)


def main(argv):
    args = argv[1:]
    if args == ["--fields"]:
        print("\n".join(FIELDS))
        return 0
    if not args or len(args) % 3:
        sys.stderr.write(__doc__)
        return 2
    failed = 0
    totals = {"captures": 0, "streams": 0, "fields": 0, "equal": 0}
    seen = {}
    for i in range(0, len(args), 3):
        name = args[i]
        try:
            rep = compare(name, args[i + 1], args[i + 2])
        except (OSError, ValueError, KeyError) as e:
            print("FAIL %s: %s" % (name, e))
            failed += 1
            continue
        applied = " ".join("%s(x%d)" % (r, len(rep.applied[r])) if len(rep.applied[r]) > 1
                           else r for r, _ in RULES if r in rep.applied)
        status = "FAIL" if rep.errors else "ok  "
        print("%s %s: %d streams, %d fields, %d equal; rules: %s" %
              (status, name, rep.streams, rep.fields, rep.equal, applied or "none"))
        for r, _ in RULES:
            if r in rep.applied:
                seen[r] = seen.get(r, 0) + len(rep.applied[r])
            for d in rep.applied.get(r, []):
                if d:
                    print("     %s %s" % (r, d))
        for e in rep.errors:
            print("     ERROR %s" % e)
        failed += 1 if rep.errors else 0
        totals["captures"] += 1
        totals["streams"] += rep.streams
        totals["fields"] += rep.fields
        totals["equal"] += rep.equal
    print("total: %(captures)d captures, %(streams)d tshark streams, %(fields)d fields "
          "compared, %(equal)d equal" % totals)
    print("rules applied: %s" % " ".join("%s(x%d)" % (r, seen[r]) for r, _ in RULES if r in seen))
    print("rules not applied: %s" % (" ".join(r for r, _ in RULES if r not in seen) or "none"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
