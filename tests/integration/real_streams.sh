#!/usr/bin/env bash
# integration.real_streams: rtpproc's stream table against tshark 4.0's on real
# third-party captures ($SHARED_DIR/captures/real, see its MANIFEST.md).
#
# For each capture, compared exactly:
#   - the set of streams, keyed by (src, sport, dst, dport, SSRC) as tshark
#     keys them (`-z rtp,streams`);
#   - per stream the packet count (tshark's "Pkts", duplicates included);
#   - per stream the set of payload types (tshark's rtp.p_type per packet)
#     against rtpproc's JSON "payload_types".
# rtpproc may split one key into several streams after an idle timeout
# (design.md section 3); those are summed per key before comparing.
# Left out on purpose: WebRTC_PCMA_Turn_SDES_Call_1 (RTP inside TURN
# ChannelData: tshark finds 2 streams, rtpproc does not unwrap TURN).
# Needs tshark and jq; skipped (77) when either or the captures are missing.
set -eu

: "${RTPPROC:?}" "${WORKDIR:?}"
REAL=${SHARED_DIR:-/nonexistent}/captures/real
if [ ! -d "$REAL" ]; then
    echo "skip: $REAL not found"
    exit 77
fi
for tool in tshark jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool not installed"
        exit 77
    fi
done
rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"

# capture file | tshark decoding options, as the MANIFEST's command for that
# file (RTP without SDP needs the heuristic, written here as its modern form
# --enable-heuristic rtp_udp; port 12344 needs Decode As, the heuristic does
# not find it). The first five are G.711 calls; the others add duplicates
# (sipp-dtmf, rtpproxy-dups: the FIRST packet twice), a first packet followed
# by a sequence jump (rtpproxy-lost), heavy loss, pcapng with VLAN and short
# streams (ndpi), L16 with SDP, Linux SLL, and RTP quoted in ICMP errors that
# must not count (webrtc-freeswitch).
CASES=(
    "sipp-g711a.pcap|--enable-heuristic rtp_udp"
    "aaa.pcap|"
    "SIP_DTMF2.pcap|"
    "sip-rtp-g711.pcap|"
    "rtpproxy-DLT_NULL.a.pcap|-d udp.port==12344,rtp"
    "sipp-dtmf_2833_pound.pcap|--enable-heuristic rtp_udp"
    "rtpproxy-dups.a.pcap|--enable-heuristic rtp_udp"
    "rtpproxy-lost.a.pcap|--enable-heuristic rtp_udp"
    "rtpproxy-weird.o.pcap|--enable-heuristic rtp_udp"
    "ndpi-rtp.pcapng|--enable-heuristic rtp_udp"
    "sip-rtp-l16.pcap|"
    "sample2_vowifi_ipv4_esp_ipv4.pcap|"
    "webrtc-freeswitch.pcapng|--enable-heuristic rtp_udp"
)

# Uppercases the hex digits of an SSRC written 0x....
norm_ssrc='function nssrc(s) { return "0x" toupper(substr(s, 3)) }'

# tshark_table FILE OPTS > lines "src sport dst dport SSRC packets pts"
tshark_table() {
    local f=$1 opts=$2 base
    base=$WORKDIR/$(basename "$f")
    # shellcheck disable=SC2086 # opts is a word list on purpose
    tshark -n -r "$f" $opts -q -z rtp,streams >"$base.tshark-streams" 2>"$base.tshark-err"
    # Fields are tab-separated; exactly one of ip.* / ipv6.* is empty. RTP
    # quoted inside ICMP errors is not part of any stream (the tap skips it).
    # shellcheck disable=SC2086
    tshark -n -r "$f" $opts -T fields -E separator=/t -E occurrence=f \
        -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport \
        -e rtp.ssrc -e rtp.p_type -Y 'rtp && !icmp && !icmpv6' \
        >"$base.tshark-fields" 2>>"$base.tshark-err"
    awk -F'\t' "$norm_ssrc"'
        FNR == NR {
            src = $1 != "" ? $1 : $2
            dst = $4 != "" ? $4 : $5
            k = src " " $3 " " dst " " $6 " " nssrc($7)
            if (!((k, $8) in seen)) {
                seen[k, $8] = 1
                prev = (k in pts) ? pts[k] "," : ""
                pts[k] = prev $8
            }
            next
        }
        # -z rtp,streams rows: start end src sport dst dport SSRC payload... pkts lost (pct) ...
        $7 ~ /^0x[0-9A-Fa-f]+$/ {
            for (i = 8; i <= NF; i++)
                if ($i ~ /^\(.*%\)$/)
                    break
            k = $3 " " $4 " " $5 " " $6 " " nssrc($7)
            print k, $(i - 2), sortlist(pts[k])
        }
        function sortlist(s,    a, n, i, j, t, out) {
            n = split(s, a, ",")
            for (i = 1; i <= n; i++)
                for (j = i + 1; j <= n; j++)
                    if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            out = ""
            for (i = 1; i <= n; i++)
                out = out (i > 1 ? "," : "") a[i]
            return out == "" ? "-" : out
        }' "$base.tshark-fields" FS=' ' "$base.tshark-streams" | sort
}

# rtpproc_table JSON > the same line format, one line per key.
rtpproc_table() {
    jq -r '.streams[] | [.src, (.sport|tostring), .dst, (.dport|tostring), .ssrc,
                         (.packets|tostring), ((.payload_types // []) | map(tostring) | join(","))]
                       | join(" ")' "$1" |
        awk "$norm_ssrc"'
        {
            k = $1 " " $2 " " $3 " " $4 " " nssrc($5)
            if (!(k in pk)) order[++n] = k
            pk[k] += $6
            split($7, a, ",")
            for (i in a)
                if (a[i] != "") set[k, a[i]] = 1
            parts[k]++
        }
        END {
            for (m = 1; m <= n; m++) {
                k = order[m]
                out = ""
                for (pt = 0; pt < 128; pt++)
                    if ((k, pt) in set) out = out (out == "" ? "" : ",") pt
                print k, pk[k], (out == "" ? "-" : out)
                if (parts[k] > 1)
                    printf "note: %s is %d rtpproc streams (idle timeout), summed\n", k, parts[k] > "/dev/stderr"
            }
        }' | sort
}

fail=0
for c in "${CASES[@]}"; do
    name=${c%%|*}
    opts=${c#*|}
    f=$REAL/$name
    if [ ! -f "$f" ]; then
        echo "FAIL $name: missing from $REAL"
        fail=1
        continue
    fi
    base=$WORKDIR/$name
    tshark_table "$f" "$opts" >"$base.expected"
    if [ ! -s "$base.expected" ]; then
        echo "FAIL $name: tshark listed no streams (options '$opts'); see $base.tshark-err"
        fail=1
        continue
    fi
    if ! "$RTPPROC" -r "$f" -o "$base.out" --json "$base.json" -q >"$base.rtpproc-log" 2>&1; then
        echo "FAIL $name: rtpproc failed:"
        sed 's/^/    /' "$base.rtpproc-log"
        fail=1
        continue
    fi
    rtpproc_table "$base.json" >"$base.actual"
    if diff -u --label "tshark $name" --label "rtpproc $name" \
        "$base.expected" "$base.actual" >"$base.diff"; then
        echo "ok   $name: $(wc -l <"$base.expected") streams (src sport dst dport SSRC packets PTs) agree"
    else
        echo "FAIL $name: stream tables differ (line = src sport dst dport SSRC packets PTs)"
        sed 's/^/    /' "$base.diff"
        fail=1
    fi
done
exit $fail
