#!/usr/bin/env python3
"""Writes a pcap (nanosecond resolution, Ethernet/IPv4/UDP/RTP) whose
streams make every rule of docs/stream-statistics.md ("Differences from
tshark") show at least once, for tests/integration/stats_compare.sh.

Usage: rtp_rules_pcap.py OUT.pcap

One stream per case, each on its own ports (41000+2i -> 42000+2i, SSRC
0x5EED00i), interleaved in time. The cases and the rules they are made for:
  clean     PCMU, arrival jitter, no loss: no rule (equal everywhere)
  wrap      sequence and timestamp wrap: no rule
  last      last two packets swapped: L1
  below     a packet below the first sequence number with the first
            packet's timestamp (tshark counts a cycle): L2
  first     first two packets swapped: L3, J4, D2
  probation gaps before two consecutive packets (rtpproc holds 4): P1
  novalid   never two consecutive sequence numbers: P2
  clock     PCMU then L16 (PT 11, 44.1 kHz) on one SSRC: J5, J2
  cn        PCMA, comfort noise (PT 13) during a pause, marker after: J1, J6, J7, D1
  events    PCMU and telephone-event (PT 101, no SDP): N1, J3
  idle      6 s without packets in the middle: S3
  dups      one duplicated packet: L0
  halfus    ns arrivals, deltas of an odd number of half microseconds: D3
  restart   the sequence number jumps by 6000 (RFC 3550 A.1 re-syncs): L4
"""

import struct
import sys

T0 = 1700000000 * 10**9  # capture start, ns
MS = 10**6


def jit(i):
    """Deterministic arrival jitter in ns, within +-0.9 ms."""
    return ((i * 7919) % 19 - 9) * 100000


def voice(n, seq0, ts0, t0, pt=0, step=160, period=20 * MS, jitter=True, size=160):
    return [dict(t=t0 + i * period + (jit(i) if jitter else 0), seq=(seq0 + i) & 0xFFFF,
                 ts=(ts0 + i * step) & 0xFFFFFFFF, pt=pt, m=False, size=size)
            for i in range(n)]


def cases():
    c = {}
    c["clean"] = voice(40, 1000, 5000, T0)
    c["wrap"] = voice(60, 65510, 2**32 - 4000, T0 + 3 * MS)
    p = voice(30, 100, 1000, T0 + 5 * MS)
    p[-1]["t"], p[-2]["t"] = p[-2]["t"], p[-1]["t"] + MS
    c["last"] = p
    p = voice(30, 2000, 7000, T0 + 7 * MS)
    p.insert(2, dict(t=p[1]["t"] + 2 * MS, seq=1999, ts=7000, pt=0, m=False, size=160))
    c["below"] = p
    p = voice(30, 10, 160, T0 + 9 * MS)
    p[0]["seq"], p[0]["ts"] = 11, 320
    p[1]["seq"], p[1]["ts"], p[1]["t"] = 10, 160, p[0]["t"] + MS
    c["first"] = p
    p = voice(30, 300, 0, T0 + 11 * MS)
    c["probation"] = [q for q in p if not (q["seq"] < 310 and q["seq"] % 2)]
    p = voice(12, 500, 0, T0 + 13 * MS)
    c["novalid"] = [q for q in p if q["seq"] % 2 == 0]
    a = voice(25, 700, 0, T0 + 15 * MS)
    b = voice(25, 725, 25 * 160, T0 + 15 * MS + 25 * 20 * MS, pt=11, step=882, size=1764)
    c["clock"] = a + b
    a = voice(20, 900, 0, T0 + 17 * MS, pt=8)
    cn1 = dict(t=a[-1]["t"] + 20 * MS, seq=920, ts=20 * 160, pt=13, m=False, size=1)
    cn2 = dict(t=cn1["t"] + 200 * MS, seq=921, ts=20 * 160 + 1600, pt=13, m=False, size=1)
    b = voice(20, 922, 20 * 160 + 3200, cn2["t"] + 200 * MS, pt=8)
    b[0]["m"] = True
    c["cn"] = a + [cn1, cn2] + b
    a = voice(15, 1200, 0, T0 + 19 * MS)
    ev = [dict(t=a[-1]["t"] + (i + 1) * 20 * MS + jit(i + 3), seq=1215 + i, ts=15 * 160,
               pt=101, m=(i == 0), size=4) for i in range(5)]
    b = voice(15, 1220, 20 * 160, ev[-1]["t"] + 20 * MS)
    c["events"] = a + ev + b
    a = voice(10, 1400, 0, T0 + 21 * MS)
    b = voice(10, 1410, 10 * 160 + 6 * 8000, a[-1]["t"] + 6000 * MS)
    c["idle"] = a + b
    p = voice(30, 1600, 0, T0 + 23 * MS)
    p.insert(11, dict(p[10], t=p[10]["t"] + MS))
    c["dups"] = p
    p = voice(20, 1800, 0, T0 + 25 * MS, jitter=False)
    for i, q in enumerate(p):
        q["t"] += i * 500  # +0.5 us per packet
    p[12]["t"] += 5 * MS  # the largest delta: 25.0005 ms
    for q in p[13:]:
        q["t"] += 5 * MS
    c["halfus"] = p
    a = voice(20, 3000, 0, T0 + 27 * MS)
    c["restart"] = a + voice(20, 9000, 20 * 160, a[-1]["t"] + 20 * MS)
    return c


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(i, q, ssrc):
    rtp = struct.pack("!BBHII", 0x80, (0x80 if q["m"] else 0) | q["pt"], q["seq"], q["ts"], ssrc)
    rtp += bytes([0xD5] * q["size"])
    udp = struct.pack("!HHHH", 41000 + 2 * i, 42000 + 2 * i, 8 + len(rtp), 0) + rtp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + udp


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    recs = []
    for i, (name, pkts) in enumerate(cases().items()):
        for n, q in enumerate(pkts):
            recs.append((q["t"], i, n, frame(i, q, 0x5EED00 + i)))
    recs.sort(key=lambda r: (r[0], r[1], r[2]))
    with open(argv[1], "wb") as fh:
        # pcap, nanosecond magic, Ethernet
        fh.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for t, _, _, data in recs:
            fh.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(data), len(data)))
            fh.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
