# bench/report.awk - turns bench/run's raw measurements into the Markdown
# tables of the results file: the timings, the ratios, the memory section,
# the output checks and the issue 7 targets. Run with -F'\t' on two files:
#   CHECKS: case streams recordings_ok unexpected_files (rtpproc's first
#           PCM16 run of each case against benchgen's stream list)
#   TSV:    case packets streams cap_bytes tool rep wall user sys maxrss_kib
#           out_bytes, one line per run
# Cases whose name starts with "noise" are the probation-noise memory test; a
# case id ending in rNNN had its streams' starts spread over NNN ms. A case
# whose output check failed is shown but left out of the targets' figures
# (its timings are not those of a correct run).

function fmt_rate(x) {
    if (x >= 1e6) return sprintf("%.2f M", x / 1e6)
    if (x >= 1e3) return sprintf("%.0f k", x / 1e3)
    return sprintf("%.0f", x)
}
function fmt_n(x) { return x >= 1e6 ? sprintf("%.1f M", x / 1e6) : sprintf("%.0f k", x / 1e3) }
function fmt_s(x) { return x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
# median of v[1..n] (sorts v)
function median(v, n,    i, j, t) {
    for (i = 2; i <= n; i++) {
        t = v[i]
        for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]
        v[j + 1] = t
    }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# statistics of case c, tool t over its repetitions: W (median wall),
# WMIN, WMAX, CPU (median user+sys), RSS (median KiB), OUT (bytes); 0 if absent
function stat(c, t,    k, r, n, a, b, d, i) {
    k = c SUBSEP t
    n = nrep[k]
    if (n == 0) return 0
    i = 0
    for (r = 1; r <= maxrep[k]; r++) {
        if (!((k, r) in wall)) continue
        i++
        a[i] = wall[k, r]; b[i] = cpu[k, r]; d[i] = rss[k, r]
        if (i == 1 || wall[k, r] < WMIN) WMIN = wall[k, r]
        if (i == 1 || wall[k, r] > WMAX) WMAX = wall[k, r]
    }
    W = median(a, i); CPU = median(b, i); RSS = median(d, i); OUT = outb[k]
    return 1
}
function add(c, t, r, w, u, s, m, o,    k) {
    k = c SUBSEP t
    if (!(k in nrep)) { ntools[c]++; tools[c, ntools[c]] = t }
    if (!((k, r) in wall)) nrep[k]++
    wall[k, r] = w; cpu[k, r] = u + s; rss[k, r] = m; outb[k] = o
    if (r > maxrep[k]) maxrep[k] = r
}
# One part (wall, CPU, peak RSS) of a summed row, e.g. floor_sum = floor_read + floor_dd.
function sum_part(s, c, r, w, cpu, m) {
    sum_w[s, c, r] += w; sum_cpu[s, c, r] += cpu; sum_n[s, c, r]++
    if (m > sum_rss[s, c, r]) sum_rss[s, c, r] = m
}
function add_sum(s, c, r) {
    add(c, s, r, sum_w[s, c, r], sum_cpu[s, c, r], 0, sum_rss[s, c, r], sum_out[s, c])
}
function label(t) {
    if (t == "rtpproc_pcm16") return "rtpproc (PCM16 WAV)"
    if (t == "rtpproc_alaw") return "rtpproc --encoding alaw"
    if (t == "rtpproc_threads2") return "rtpproc --threads 2"
    if (t == "rtpproc_sync") return "rtpproc --sync-writes (no writer thread)"
    if (t == "rtpproc_threads2_sync") return "rtpproc --threads 2 --sync-writes (two workers, no writer thread)"
    if (t == "floor_read") return "floor: pcap_next_ex loop"
    if (t == "floor_dd") return "floor: dd of the same bytes"
    if (t == "floor_sum") return "**floor: read + write**"
    if (t == "files_write") return "(beside the floor) the same bytes as one file per stream"
    if (t == "files_sum") return "(beside the floor) read loop + one file per stream"
    if (t == "tshark_streams") return "tshark -z rtp,streams"
    if (t == "tshark_plugin") return "tshark -z rtpproc (plug-in)"
    if (t == "tshark_fields") return "tshark -T fields -e rtp.payload"
    return t
}
function capname(c,    r) {
    r = ""
    if (c ~ /r[0-9]+$/) { r = c; sub(/.*r/, "", r); r = ", starts over " r " ms" }
    return sprintf("%s pkts, %d streams%s", fmt_n(packets[c]), streams[c], r)
}
# "noise5:20628x10:1031" -> "20 k pkts, 10 streams, 1031 never-validated sources"
function noisename(c,    part, pk) {
    split(c, part, ":")
    pk = part[2]; sub(/x.*/, "", pk)
    return sprintf("%s pkts, %d streams, %d never-validated sources", fmt_n(pk + 0), streams[c], part[3])
}
function verdict(ok) { return ok ? "**met**" : "**missed**" }
function ratio(a, b) { return b > 0 ? a / b : 0 }

FNR == 1 { next }
FILENAME == ARGV[1] {
    nchk++; chk[nchk] = $1; chk_n[$1] = $2; chk_ok[$1] = $3; chk_bad[$1] = $4
    if ($2 != $3 || $4 != 0) wrong[$1] = 1
    next
}
{
    c = $1
    if (!(c in packets)) {
        packets[c] = $2; streams[c] = $3; capb[c] = $4
        if (c ~ /^noise/) nnoise++; else { ncase++; order[ncase] = c }
        if (c ~ /^noise/) norder[nnoise] = c
    }
    add(c, $5, $6, $7, $8, $9, $10, $11)
    # the floor = read loop + dd; beside it, read loop + one file per stream
    if ($5 == "floor_read") {
        sum_part("floor_sum", c, $6, $7, $8 + $9, $10)
        sum_part("files_sum", c, $6, $7, $8 + $9, $10)
    }
    if ($5 == "floor_dd") { sum_part("floor_sum", c, $6, $7, $8 + $9, $10); sum_out["floor_sum", c] = $11 }
    if ($5 == "files_write") { sum_part("files_sum", c, $6, $7, $8 + $9, $10); sum_out["files_sum", c] = $11 }
}
END {
    # the sums, per repetition, once both parts are there
    for (i = 1; i <= ncase; i++) {
        c = order[i]
        for (r = 1; r <= 100; r++) {
            if (sum_n["floor_sum", c, r] == 2) add_sum("floor_sum", c, r)
            if (sum_n["files_sum", c, r] == 2) add_sum("files_sum", c, r)
        }
    }

    print "## Timings"
    print ""
    print "| capture | tool | wall s, median (min-max) | CPU s | packets/s | MB/s | peak RSS MiB | output MB |"
    print "| --- | --- | --- | --- | --- | --- | --- | --- |"
    ntord = split("rtpproc_pcm16 rtpproc_alaw rtpproc_sync rtpproc_threads2 rtpproc_threads2_sync floor_read floor_dd floor_sum files_write files_sum tshark_streams tshark_plugin tshark_fields", tord, " ")
    for (i = 1; i <= ncase; i++) {
        c = order[i]
        cap = sprintf("%s, %.0f MB%s", capname(c), capb[c] / 1e6, (c in wrong) ? " **(output wrong, see the check)**" : "")
        for (j = 1; j <= ntord; j++) {
            t = tord[j]
            if (!stat(c, t)) continue
            o = (t ~ /^(rtpproc|floor_dd|floor_sum|files_|tshark_plugin)/) ? sprintf("%.0f", OUT / 1e6) : ""
            printf "| %s | %s | %s (%s-%s) | %s | %s | %.0f | %.0f | %s |\n", cap, label(t), fmt_s(W),
                fmt_s(WMIN), fmt_s(WMAX), fmt_s(CPU), fmt_rate(packets[c] / W), capb[c] / 1e6 / W,
                RSS / 1024, o
            cap = ""
        }
    }

    print ""
    print "## Ratios (median wall times; CPU times in brackets)"
    print ""
    print "| capture | rtpproc / floor | rtpproc alaw / floor | tshark rtp,streams / rtpproc | tshark -T fields / rtpproc | plug-in over tshark rtp,streams | --threads 2 speed-up (default / --threads 2) | sharding speed-up without the writer thread (--sync-writes / --threads 2 --sync-writes) | writer thread speed-up (--sync-writes / default) | (beside) rtpproc / (read loop + one file per stream) |"
    print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    worst_floor = 0; min_tshark = -1; have_plug = 0; fields_ratio = -1
    for (i = 1; i <= ncase; i++) {
        c = order[i]
        if (!stat(c, "rtpproc_pcm16")) continue
        rw = W; rc = CPU
        f = "-"; fa = "-"; ts = "-"; tf = "-"; pl = "-"; th = "-"; shs = "-"; sw = "-"; nf = "-"
        ok = !(c in wrong)
        if (stat(c, "floor_sum")) {
            fwm = W; fcm = CPU
            f = sprintf("%.2f (%.2f)", ratio(rw, fwm), ratio(rc, fcm))
            if (ok && ratio(rw, fwm) > worst_floor) { worst_floor = ratio(rw, fwm); worst_floor_c = c }
            if (stat(c, "rtpproc_alaw")) fa = sprintf("%.2f (%.2f)", ratio(W, fwm), ratio(CPU, fcm))
        }
        if (stat(c, "tshark_streams")) {
            tw = W; tc = CPU
            ts = sprintf("%.1f (%.1f)", ratio(tw, rw), ratio(tc, rc))
            if (ok && (min_tshark < 0 || ratio(tw, rw) < min_tshark)) { min_tshark = ratio(tw, rw); min_tshark_c = c }
            if (stat(c, "tshark_plugin")) {
                p = 100 * (ratio(W, tw) - 1)
                pl = sprintf("%+.0f %% (%+.0f %%)", p, 100 * (ratio(CPU, tc) - 1))
                if (ok && (!have_plug || p > max_plug)) { max_plug = p; max_plug_c = c; have_plug = 1 }
            }
        }
        if (stat(c, "tshark_fields")) {
            tf = sprintf("%.1f (%.1f)", ratio(W, rw), ratio(CPU, rc))
            if (ok) { fields_ratio = ratio(W, rw); fields_c = c }
        }
        if (stat(c, "rtpproc_threads2")) th = sprintf("%.2f", ratio(rw, W))
        if (stat(c, "rtpproc_sync")) {
            sw = sprintf("%.2f", ratio(W, rw))
            syncw = W
            if (stat(c, "rtpproc_threads2_sync")) shs = sprintf("%.2f", ratio(syncw, W))
        }
        if (stat(c, "files_sum")) nf = sprintf("%.2f", ratio(rw, W))
        printf "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", capname(c), (c in wrong) ? " (output wrong)" : "",
            f, fa, ts, tf, pl, th, shs, sw, nf
    }

    print ""
    print "## Memory (rtpproc, PCM16, peak RSS)"
    print ""
    print "Against capture length, same stream count:"
    print ""
    print "| streams | packets | peak RSS MiB | change from the smallest |"
    print "| --- | --- | --- | --- |"
    len_ok = -1
    for (i = 1; i <= ncase; i++) {
        c = order[i]
        s = streams[c]
        if (s in seen_s) continue
        seen_s[s] = 1
        n = 0
        for (j = 1; j <= ncase; j++)
            if (streams[order[j]] == s && !(order[j] in wrong) && order[j] !~ /r[0-9]+$/) { n++; lc[n] = order[j] }
        if (n < 2) continue
        for (a = 2; a <= n; a++) {   # by packets
            t = lc[a]
            for (b = a - 1; b >= 1 && packets[lc[b]] + 0 > packets[t] + 0; b--) lc[b + 1] = lc[b]
            lc[b + 1] = t
        }
        stat(lc[1], "rtpproc_pcm16"); base = RSS
        for (a = 1; a <= n; a++) {
            stat(lc[a], "rtpproc_pcm16")
            printf "| %d | %s | %.1f | %+.1f %% |\n", s, fmt_n(packets[lc[a]]), RSS / 1024, 100 * (RSS / base - 1)
        }
        # the target compares the largest capture with the one closest to a
        # quarter of its length (8 M against 2 M)
        big = lc[n]; ref = lc[1]
        for (a = 1; a < n; a++)
            if ((packets[lc[a]] - packets[big] / 4) ^ 2 < (packets[ref] - packets[big] / 4) ^ 2) ref = lc[a]
        stat(ref, "rtpproc_pcm16"); r1 = RSS
        stat(big, "rtpproc_pcm16"); r2 = RSS
        d = 100 * (r2 / r1 - 1)
        if (len_ok < 0 || (d < 0 ? -d : d) > len_dev) {
            len_dev = d < 0 ? -d : d; len_ok = len_dev <= 10
            len_txt = sprintf("%d streams: %s packets %.1f MiB, %s packets %.1f MiB (%+.1f %%)", s,
                fmt_n(packets[ref]), r1 / 1024, fmt_n(packets[big]), r2 / 1024, d)
        }
    }
    if (len_ok < 0) print "| - | (needs two cases with the same stream count) | | |"

    print ""
    print "Per concurrent stream:"
    print ""
    print "| capture | streams | peak RSS MiB | KiB per stream (total / streams) | KiB per extra stream (against the fewest streams, same packets) |"
    print "| --- | --- | --- | --- | --- |"
    smax = 0
    for (i = 1; i <= ncase; i++)
        if (!(order[i] in wrong) && streams[order[i]] + 0 > smax) { smax = streams[order[i]] + 0; cmax = order[i] }
    per_ok = -1
    if (smax > 0 && stat(cmax, "rtpproc_pcm16")) {
        rmax = RSS; cmin = ""
        for (i = 1; i <= ncase; i++) {
            c = order[i]
            if (!(c in wrong) && packets[c] == packets[cmax] && streams[c] + 0 < smax && (cmin == "" || streams[c] + 0 < streams[cmin] + 0)) cmin = c
        }
        marg = "-"
        if (cmin != "" && stat(cmin, "rtpproc_pcm16")) {
            marg = sprintf("%.1f (%d streams: %.1f MiB)", (rmax - RSS) / (smax - streams[cmin]), streams[cmin], RSS / 1024)
        }
        per = rmax / smax
        per_ok = per <= 64
        per_txt = sprintf("%s: %.1f MiB, %.1f KiB per stream", capname(cmax), rmax / 1024, per)
        printf "| %s | %d | %.1f | %.1f | %s |\n", capname(cmax), smax, rmax / 1024, per, marg
    }

    print ""
    print "Sources that never pass probation (the same streams; every noise record is an RTP-looking packet from a new source with a new SSRC):"
    print ""
    print "| capture | never-validated sources | peak RSS MiB | change from no noise | wall s (min-max) |"
    print "| --- | --- | --- | --- | --- |"
    noise_ok = -1
    for (i = 1; i <= nnoise; i++) {
        c = norder[i]
        split(c, part, ":")
        if (!stat(c, "rtpproc_pcm16")) continue
        if (i == 1) nb = RSS
        nr[i] = RSS; ns[i] = part[3]
        printf "| %s pkts, %d streams%s | %d | %.1f | %+.1f %% | %s (%s-%s) |\n", fmt_n(packets[c]), streams[c], (c in wrong) ? " (output wrong)" : "",
            part[3], RSS / 1024, 100 * (RSS / nb - 1), fmt_s(W), fmt_s(WMIN), fmt_s(WMAX)
    }
    if (nnoise >= 3) {
        g = 100 * (nr[3] / nr[2] - 1)
        noise_ok = g <= 2
        noise_txt = sprintf("%d sources %.1f MiB, %d sources %.1f MiB (%+.1f %%; the flood costs %+.1f %% against none)", ns[2], nr[2] / 1024,
            ns[3], nr[3] / 1024, g, 100 * (nr[3] / nr[1] - 1))
    }

    print ""
    print "## Output check (rtpproc, PCM16, first run of each capture)"
    print ""
    print "| capture | streams generated | recordings with the expected length | unexpected files |"
    print "| --- | --- | --- | --- |"
    nwrong = 0
    for (i = 1; i <= nchk; i++) {
        c = chk[i]
        printf "| %s | %d | %d%s | %d |\n", (c ~ /^noise/) ? noisename(c) : capname(c), chk_n[c], chk_ok[c],
            (c in wrong) ? " **(wrong)**" : "", chk_bad[c]
        if (c in wrong) { nwrong++; wrong_txt = wrong_txt (nwrong > 1 ? "; " : "") sprintf("%s: %d of %d", c, chk_ok[c], chk_n[c]) }
    }

    print ""
    print "## Issue 7 targets"
    print ""
    print "| target | measured | verdict |"
    print "| --- | --- | --- |"
    if (nchk > 0) printf "| every generated stream recorded, with its exact length (a prerequisite; the figures below leave out failed captures) | %s | %s |\n", nwrong ? wrong_txt : sprintf("%d captures correct", nchk), verdict(!nwrong)
    if (worst_floor > 0)
        printf "| rtpproc (PCM16) within 2x of the floor (read loop + write of the same bytes) | worst %.2fx (%s) | %s |\n", worst_floor, worst_floor_c, verdict(worst_floor <= 2)
    else print "| rtpproc within 2x of the floor | not measured | - |"
    if (min_tshark >= 0)
        printf "| >= 10x faster than tshark -z rtp,streams | least %.1fx (%s) | %s |\n", min_tshark, min_tshark_c, verdict(min_tshark >= 10)
    else print "| >= 10x faster than tshark -z rtp,streams | not measured | - |"
    if (fields_ratio >= 0)
        printf "| >= 40x faster than tshark -T fields | %.1fx (%s) | %s |\n", fields_ratio, fields_c, verdict(fields_ratio >= 40)
    else print "| >= 40x faster than tshark -T fields | not measured | - |"
    if (len_ok >= 0) printf "| peak RSS independent of capture length (within 10 %%) | %s | %s |\n", len_txt, verdict(len_ok)
    else print "| peak RSS independent of capture length | not measured | - |"
    if (per_ok >= 0 && smax >= 10000) printf "| <= 64 KiB per concurrent stream at 10 000 streams | %s | %s |\n", per_txt, verdict(per_ok)
    else if (per_ok >= 0) printf "| <= 64 KiB per concurrent stream at 10 000 streams | %s (not 10 000) | - |\n", per_txt
    else print "| <= 64 KiB per concurrent stream | not measured | - |"
    if (noise_ok >= 0) printf "| no growth from packets that never pass probation (within 2 %% from N to 4 N such sources at the same rate) | %s | %s |\n", noise_txt, verdict(noise_ok)
    else print "| no growth from never-validated sources | not measured | - |"
    if (have_plug)
        printf "| plug-in adds <= 15 %% to tshark -z rtp,streams | worst %+.0f %% (%s) | %s |\n", max_plug, max_plug_c, verdict(max_plug <= 15)
    else print "| plug-in adds <= 15 % to tshark -z rtp,streams | not measured | - |"
}
