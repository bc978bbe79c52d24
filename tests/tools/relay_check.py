#!/usr/bin/env python3
"""Checks rtpproc's recordings of one stream sent through udprelay (real_relay.sh).

Inputs: the relay's log, both legs of the capture (sender -> relay, relay ->
receiver), rtpproc's JSON report and recording of each leg, and the source
audio (recordings and source as `sndinfo --dump` text, one sample per line).

Asserted (each line of output names the check; exit 1 on the first failure):
  relay     the log lists every sender-leg packet in order, and the packets it
            forwarded, in its order, are exactly the receiver leg's
  decode    the sender-leg recording is the packets' payloads decoded here
            independently (G.711 expansion as ITU-T G.191, L16 big-endian)
  stats     the receiver-leg JSON: lost = sequence numbers the log says lost
            within the received span minus duplicates (RFC 3550 A.3 counts
            duplicates as received); duplicates, reordered (arrived after a
            higher sequence number and placed) and late as rtpproc's reorder
            window (window_model) makes of the receiver leg's arrival order
            and times: with the relay's short reordering, late 0 and reordered
            and duplicates as in the log; first/last sequence numbers
  length    the receiver-leg recording spans the received timestamps plus one
            packet, within one packet
  samples   the receiver-leg recording equals the sender-leg recording on each
            placed packet's frames (aligned by RTP timestamp) and is zero on
            each lost (or late) packet's frames
  snr       SNR against the source over the placed packets' frames only, at
            the lag found on the sender leg, >= --min-snr dB

Python 3 standard library only.
"""
import argparse
import json
import math
import struct
import sys


def fail(codec, msg):
    print(f"FAIL: {codec}: {msg}", file=sys.stderr)
    sys.exit(1)


def read_pcap(path):
    """RTP packets of a classic pcap file: (seq, ts, ssrc, pt, payload, arrival in ns)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    frac_ns = 1 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1000
    pos, out = 24, []
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[pos : pos + 16])
        frame = data[pos + 16 : pos + 16 + caplen]
        pos += 16 + caplen
        if linktype == 1:  # Ethernet (Linux "lo")
            off, ethertype = 14, struct.unpack(">H", frame[12:14])[0]
        elif linktype == 113:  # Linux cooked v1
            off, ethertype = 16, struct.unpack(">H", frame[14:16])[0]
        elif linktype == 276:  # Linux cooked v2
            off, ethertype = 20, struct.unpack(">H", frame[0:2])[0]
        else:
            raise ValueError(f"{path}: link type {linktype} not handled here")
        if ethertype != 0x0800 or len(frame) < off + 20:
            continue
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 17:
            continue
        udp = frame[off + ihl :]
        ulen = struct.unpack(">H", udp[4:6])[0]
        rtp = udp[8:ulen]
        if len(rtp) < 12 or rtp[0] >> 6 != 2 or 192 <= rtp[1] <= 223:
            continue
        cc, x, p = rtp[0] & 0x0F, rtp[0] & 0x10, rtp[0] & 0x20
        hl = 12 + 4 * cc
        if x:
            hl += 4 + 4 * struct.unpack(">H", rtp[hl + 2 : hl + 4])[0]
        end = len(rtp) - (rtp[-1] if p else 0)
        seq, ts, ssrc = struct.unpack(">HII", rtp[2:12])
        out.append((seq, ts, ssrc, rtp[1] & 0x7F, rtp[hl:end], sec * 10**9 + frac * frac_ns))
    return out


def alaw_expand(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def ulaw_expand(u):
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


ALAW = [alaw_expand(i) for i in range(256)]
ULAW = [ulaw_expand(i) for i in range(256)]


def decode(codec, payload):
    if codec == "pcma":
        return [ALAW[b] for b in payload]
    if codec == "pcmu":
        return [ULAW[b] for b in payload]
    return list(struct.unpack(f">{len(payload) // 2}h", payload[: len(payload) // 2 * 2]))


def window_model(arrivals, packets=16, time_ns=100 * 10**6):
    """rtpproc's reorder window as docs/stream-statistics.md states it ("rtp" mode,
    default --reorder 16/100ms): packets leave in sequence order; a missing
    packet is given up when a packet 16 or more ahead arrives or when the oldest
    held packet has waited 100 ms of capture time; a packet whose place was
    given up or released is late (or a duplicate if it was released). The
    window starts at the first packet (the seeds keep lower ones from arriving
    later, see main). arrivals: (extended seq, arrival ns) in
    capture order. Returns (placed, late, duplicates, reordered) where placed is
    the set of sequence numbers written and reordered counts the placed packets
    that arrived after a higher sequence number."""
    nxt = arrivals[0][0]
    released, held = set(), {}
    late = dups = reordered = 0
    top = None

    def drain():
        nonlocal nxt
        while nxt in held:
            del held[nxt]
            released.add(nxt)
            nxt += 1

    def skip_to_oldest():
        nonlocal nxt
        nxt = min(held)
        drain()

    for s, t in arrivals:
        behind = top is not None and s < top
        top = s if top is None else max(top, s)
        if s < nxt:
            if s in released:
                dups += 1
            else:
                late += 1
            continue
        if s in held:
            dups += 1
            continue
        reordered += behind
        if s == nxt:
            released.add(s)
            nxt += 1
            drain()
            continue
        while s - nxt >= packets:
            if held:
                skip_to_oldest()
            else:
                nxt = s - packets + 1
        if s == nxt:
            released.add(s)
            nxt += 1
            drain()
            continue
        held[s] = t
        while held and t - min(held.values()) >= time_ns:
            skip_to_oldest()
    released.update(held)
    return released, late, dups, reordered


def read_dump(path):
    with open(path) as f:
        return [int(line) for line in f]


def read_log(path):
    """Header settings and lines (index, seq or None, action, k or None), in log order."""
    header, lines = {}, []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                for word in line.split()[2:]:
                    key, _, value = word.partition("=")
                    header[key] = value
                continue
            index, seq, action = line.split()[:3]
            k = None
            if action.startswith("reordered+"):
                action, k = "reordered", int(action.split("+")[1])
            lines.append((int(index), None if seq == "-" else int(seq), action, k))
    return header, lines


def main():
    ap = argparse.ArgumentParser()
    for name in ("codec", "log", "tx-pcap", "rx-pcap", "tx-json", "rx-json", "tx-dump",
                 "rx-dump", "src-dump"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--pt", type=int, required=True)
    ap.add_argument("--lag", type=int, required=True)
    ap.add_argument("--min-snr", type=float, default=30.0)
    # rtpproc's --reorder when the receiver leg was not read with the default.
    ap.add_argument("--window-packets", type=int, default=16)
    ap.add_argument("--window-ms", type=float, default=100.0)
    a = ap.parse_args()
    c = a.codec

    tx, rx = read_pcap(a.tx_pcap), read_pcap(a.rx_pcap)
    header, log = read_log(a.log)
    if not tx or not rx:
        fail(c, f"no RTP in a leg (sender {len(tx)}, receiver {len(rx)} packets)")
    for leg, pkts in (("sender", tx), ("receiver", rx)):
        if {p[2] for p in pkts} != {tx[0][2]} or {p[3] for p in pkts} != {a.pt}:
            fail(c, f"{leg} leg: expected one SSRC and PT {a.pt} throughout")

    # Extended sequence numbers and timestamps, relative to the first sent packet.
    seq0, ts0 = tx[0][0], tx[0][1]

    def xseq(s):
        d = (s - seq0) & 0xFFFF
        return d - 0x10000 if d >= 0x8000 else d

    def xts(t):
        d = (t - ts0) & 0xFFFFFFFF
        return d - 0x100000000 if d >= 0x80000000 else d

    if [xseq(p[0]) for p in tx] != list(range(len(tx))):
        fail(c, "sender leg: sequence numbers not consecutive in order")
    ts_of = {xseq(p[0]): xts(p[1]) for p in tx}
    pcm_of = {xseq(p[0]): decode(c, p[4]) for p in tx}

    # relay: what the relay saw and sent is what tcpdump saw on each side.
    by_index = sorted(log)
    if [e[0] for e in by_index] != list(range(len(tx))):
        fail(c, f"relay log has {len(log)} packets, the sender leg {len(tx)}")
    if [e[1] for e in by_index] != [p[0] for p in tx]:
        fail(c, "relay log: sequence numbers differ from the sender leg's")
    forwarded = []
    for _, seq, action, _ in log:
        if action in ("sent", "delayed", "reordered"):
            forwarded.append(seq)
        elif action == "dup":
            forwarded += [seq, seq]
        elif not action.startswith("lost"):
            fail(c, f"relay log: unexpected action {action}")
    if forwarded != [p[0] for p in rx]:
        fail(c, "relay log: forwarded packets differ from the receiver leg's")
    want_k = int(header.get("reorder", "0:0").split(":")[1])
    short = [e for e in log if e[2] == "reordered" and e[3] != want_k]
    if short:
        fail(c, f"seq {short[0][1]} held to the end of the stream (K={short[0][3]}, "
                f"not {want_k}): choose another seed")
    # rtpproc's release starts at the lowest packet probation kept; a packet
    # below the stream's first one that arrives after probation is late however
    # short its delay. This model starts at the first packet, so seeds where any
    # packet below it arrives later are kept out rather than modelled.
    first = xseq(rx[0][0])
    early = [p[0] for p in rx if xseq(p[0]) < first]
    if early:
        fail(c, f"seq {early[0]} arrived after seq {rx[0][0]}, the stream's first packet: "
                "rtpproc counts it late; choose another seed")
    log_lost = {xseq(e[1]) for e in log if e[2].startswith("lost")}
    log_dups = sum(1 for e in log if e[2] == "dup")
    log_reord = sum(1 for e in log if e[2] == "reordered" and e[3] >= 1)
    print(f"{c}: relay: {len(log)} received, {len(log_lost)} lost "
          f"({sum(1 for e in log if e[2] == 'lost+burst')} in bursts), {log_dups} duplicated, "
          f"{log_reord} reordered; receiver leg {len(rx)} packets")

    # decode: the sender-leg recording against our own decoding of its payloads.
    txrec, rxrec, src = read_dump(a.tx_dump), read_dump(a.rx_dump), read_dump(a.src_dump)
    want = [v for p in tx for v in decode(c, p[4])]
    if txrec != want:
        bad = next((i for i, (u, v) in enumerate(zip(txrec, want)) if u != v),
                   min(len(txrec), len(want)))
        fail(c, f"sender-leg recording differs from the decoded payloads at frame {bad} "
                f"({len(txrec)} frames, {len(want)} decoded)")
    print(f"{c}: decode: sender-leg recording = payloads decoded independently "
          f"({len(want)} frames)")

    # stats: the receiver-leg report against the log and the receiver leg.
    with open(a.rx_json) as f:
        streams = json.load(f)["streams"]
    if len(streams) != 1:
        fail(c, f"receiver leg: {len(streams)} streams, expected 1")
    st = streams[0]
    seen, dups, reord, hi = set(), 0, 0, None
    for p in rx:
        s = xseq(p[0])
        if s in seen:
            dups += 1
            continue
        if hi is not None and s < hi:
            reord += 1
        seen.add(s)
        hi = s if hi is None else max(hi, s)
    lo, hi = min(seen), max(seen)
    lost_span = [s for s in range(lo, hi + 1) if s not in seen]
    if set(lost_span) != {s for s in log_lost if lo <= s <= hi}:
        fail(c, "the receiver leg's missing sequence numbers are not the log's lost ones")
    if dups != log_dups or reord != log_reord:
        fail(c, f"receiver leg: {dups} duplicates, {reord} reordered; log {log_dups}, "
                f"{log_reord}")
    # What the window makes of the arrival order: normally every reordered
    # packet is placed (late 0); if the machine stalled the sender or relay for
    # more than the window, the window's rule says which packets are late.
    placed, m_late, m_dups, m_reord = window_model([(xseq(p[0]), p[5]) for p in rx],
                                                   a.window_packets, a.window_ms * 1e6)
    arrival_of, hold_ms = {}, 0.0
    for p in rx:
        arrival_of.setdefault(xseq(p[0]), p[5])
    for p in rx:  # how long each reordered packet kept a higher one waiting
        s = xseq(p[0])
        ahead = [arrival_of[u] for u in arrival_of if u > s and arrival_of[u] < arrival_of[s]]
        if ahead:
            hold_ms = max(hold_ms, (arrival_of[s] - min(ahead)) / 1e6)
    want_stats = {
        "packets": len(rx),
        "lost": len(lost_span) - dups,
        "duplicates": m_dups,
        "late": m_late,
        "reordered": m_reord,
        "first_seq": (seq0 + lo) & 0xFFFF,
        "last_seq": (seq0 + hi) & 0xFFFF,
    }
    got_stats = {k: st[k] for k in want_stats}
    if got_stats != want_stats:
        fail(c, f"receiver-leg JSON {got_stats}, expected {want_stats}")
    print(f"{c}: stats: packets {st['packets']}, lost {st['lost']} ({len(lost_span)} lost in "
          f"the span of seq {want_stats['first_seq']}..{want_stats['last_seq']}, "
          f"{len(log_lost) - len(lost_span)} outside it, minus {dups} duplicates), "
          f"duplicates {m_dups}, reordered {m_reord}, late {m_late} - as expected "
          f"(longest reorder {hold_ms:.1f} ms of the window's {a.window_ms:g})")
    if m_late:
        print(f"{c}: NOTE: {m_late} packets arrived beyond the reorder window (with the "
              "default window: the sender or relay stalled); their frames are expected silent")

    # length: timestamp span of the received packets plus the last one's length.
    t_lo = ts_of[lo]
    want_frames = ts_of[hi] - t_lo + len(pcm_of[hi])
    if len(rxrec) != st["frames"]:
        fail(c, f"receiver-leg file has {len(rxrec)} frames, JSON says {st['frames']}")
    print(f"{c}: length: {len(rxrec)} frames, expected {want_frames} "
          f"(difference {len(rxrec) - want_frames}, allowed +-160)")
    if abs(len(rxrec) - want_frames) > 160:
        fail(c, f"receiver-leg recording has {len(rxrec)} frames, expected {want_frames} +-160")

    # samples: received packets as on the sender leg, lost ones silent.
    txstart = ts_of[0]
    n_ok = n_zero = 0
    for s in range(lo, hi + 1):
        n = len(pcm_of[s])
        r0, t0 = ts_of[s] - t_lo, ts_of[s] - txstart
        got = rxrec[r0 : r0 + n]
        if s in placed:
            if got != txrec[t0 : t0 + n]:
                fail(c, f"seq {(seq0 + s) & 0xFFFF}: receiver-leg frames {r0}..{r0 + n - 1} "
                        f"differ from the sender leg's {t0}..{t0 + n - 1}")
            n_ok += 1
        else:
            if got != [0] * n:
                fail(c, f"lost or late seq {(seq0 + s) & 0xFFFF}: frames {r0}..{r0 + n - 1} "
                        "not silent")
            n_zero += 1
    print(f"{c}: samples: {n_ok} received packets equal to the sender leg, "
          f"{n_zero} lost{' or late' if m_late else ''} packets silent")

    # snr: against the source, received frames only (rx frame g = source frame
    # g + (t_lo - txstart) - lag, the lag being the sender leg's).
    es = ee = es_all = ee_all = 0.0
    for g, v in enumerate(rxrec):
        i = g + t_lo - txstart - a.lag
        if not 0 <= i < len(src):
            continue
        d = (src[i] - v) ** 2
        es_all += src[i] ** 2
        ee_all += d
    for s in placed:
        n = len(pcm_of[s])
        for k in range(n):
            g, i = ts_of[s] - t_lo + k, ts_of[s] - txstart + k - a.lag
            if 0 <= g < len(rxrec) and 0 <= i < len(src):
                es += src[i] ** 2
                ee += (src[i] - rxrec[g]) ** 2

    def db(e_s, e_e):
        return 999.0 if e_e == 0 else 10 * math.log10(e_s / e_e)

    snr, snr_all = db(es, ee), db(es_all, ee_all)
    print(f"{c}: snr: {snr:.1f} dB over the received packets "
          f"({snr_all:.1f} dB over the whole recording, lost packets included)")
    if snr < a.min_snr:
        fail(c, f"SNR {snr:.1f} dB < {a.min_snr} dB over the received packets")


if __name__ == "__main__":
    main()
