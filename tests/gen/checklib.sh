# Shell functions shared by the tests/integration/gen_*.sh scripts (sourced,
# not run). They compare what tshark sees in a capture with the manifest
# (streams.txt) that rtpgen wrote next to it.

# tshark's RTP stream table as "src sport dst dport 0xSSRC pt packets", sorted.
# The payload column may contain spaces ("16-bit audio, monaural"), so the
# packet count is found as the field two before the "(x.x%)" loss field.
gen_tshark_streams() {
    tshark -r "$1" -q --enable-heuristic rtp_udp -z rtp,streams 2>/dev/null |
        awk '$7 ~ /^0x[0-9A-F]+$/ {
                 for (i = 8; i <= NF; i++)
                     if ($i ~ /^\(.*%\)$/) { print $3, $4, $5, $6, $7, $(i - 2); break }
             }' | LC_ALL=C sort
}

# The same columns from a streams.txt manifest.
gen_manifest_streams() {
    awk '{ print $1, $2, $3, $4, $5, $7 }' "$1" | LC_ALL=C sort
}

# First sequence number per stream as tshark dissects it: "src sport dst dport 0xSSRC seq".
gen_tshark_first_seq() {
    tshark -r "$1" --enable-heuristic rtp_udp -Y 'rtp && !icmp && !icmpv6' -T fields \
        -E separator=' ' -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst \
        -e udp.dstport -e rtp.ssrc -e rtp.seq 2>/dev/null |
        awk '{ ssrc = "0x" toupper(substr($5, 3)); k = $1 " " $2 " " $3 " " $4 " " ssrc
               if (!(k in seen)) { seen[k] = 1; print k, $6 } }' | LC_ALL=C sort
}

gen_manifest_first_seq() {
    awk '{ print $1, $2, $3, $4, $5, $8 }' "$1" | LC_ALL=C sort
}

# Frames with a bad IP/UDP/TCP checksum, malformed frames or expert warnings
# and errors; prints them and fails if there is any.
gen_tshark_clean() {
    local bad
    bad=$(tshark -r "$1" --enable-heuristic rtp_udp -o ip.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y 'ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0 || _ws.malformed || _ws.expert.severity >= 6291456' \
        2>/dev/null | head -n 5)
    if [ -n "$bad" ]; then
        echo "$1: tshark flags frames:" >&2
        echo "$bad" >&2
        return 1
    fi
}

# Rebuilds, from the capture alone, the audio of one stream as an ideal
# RTP-timestamp recorder would, and writes it as raw 16-bit little-endian PCM.
#   gen_rebuild_audio CAPTURE "src sport dst dport 0xSSRC pt" CHANNELS RATE OUT.raw
# The payload bytes come from tshark's RTP dissector (padding excluded) and
# are decoded by sox, so neither rtpgen's nor rtpproc's code is involved.
# Each sample goes to (ts - ts_first) mod 2^32; duplicates are skipped;
# packets the snaplen cut are silence; everything else not covered is zero.
gen_rebuild_audio() {
    local cap=$1 key=$2 ch=$3 rate=$4 out=$5
    local src sport dst dport ssrc pt fam enc bps
    read -r src sport dst dport ssrc pt _ <<<"$key"
    fam=ip
    case $src in *:*) fam=ipv6 ;; esac
    case $pt in
    8) enc="-e a-law -b 8" bps=1 ;;
    0) enc="-e u-law -b 8" bps=1 ;;
    *) enc="-e signed -b 16 -B" bps=2 ;;
    esac
    tshark -r "$cap" --enable-heuristic rtp_udp -T fields \
        -Y "rtp && !icmp && !icmpv6 && $fam.src == $src && $fam.dst == $dst && udp.srcport == $sport && udp.dstport == $dport && rtp.ssrc == $ssrc" \
        -e frame.cap_len -e frame.len -e rtp.seq -e rtp.timestamp -e rtp.payload \
        2>/dev/null >"$out.fields"
    perl -e '
        my ($bpf, $pay, $idx) = @ARGV;
        open(my $P, ">", $pay) or die; binmode $P;
        my (%seen, $ts0, @index); my $end = 0;
        while (<STDIN>) {
            chomp; my ($cap, $len, $seq, $ts, $hex) = split /\t/;
            next if $seen{$seq}++;
            $ts0 = $ts unless defined $ts0;
            my $off = ($ts - $ts0) % 4294967296;
            my $bytes = pack("H*", $hex // "");
            if ($cap < $len) {
                my $n = int((length($bytes) + $len - $cap) / $bpf);
                $end = $off + $n if $off + $n > $end;
                next;
            }
            my $n = int(length($bytes) / $bpf);
            print $P substr($bytes, 0, $n * $bpf);
            push @index, "$off $n";
            $end = $off + $n if $off + $n > $end;
        }
        open(my $I, ">", $idx) or die;
        print $I "$end\n", map { "$_\n" } @index;
    ' "$((bps * ch))" "$out.pay" "$out.idx" <"$out.fields"
    # shellcheck disable=SC2086
    sox -D -t raw $enc -c "$ch" -r "$rate" "$out.pay" -t raw -e signed -b 16 -L "$out.dec"
    perl -e '
        my ($ch, $dec, $idx, $out) = @ARGV;
        open(my $I, "<", $idx) or die; my $end = <$I>; chomp $end;
        open(my $D, "<", $dec) or die; binmode $D;
        my $buf = "\0" x ($end * 2 * $ch);
        while (<$I>) {
            my ($off, $n) = split;
            read($D, my $pcm, $n * 2 * $ch) == $n * 2 * $ch or die "short decode\n";
            substr($buf, $off * 2 * $ch, $n * 2 * $ch) = $pcm;
        }
        open(my $O, ">", $out) or die; binmode $O; print $O $buf;
    ' "$ch" "$out.dec" "$out.idx" "$out"
    rm -f "$out.fields" "$out.pay" "$out.idx" "$out.dec"
}

# The expected WAV of a manifest line, named as rtpproc names its recordings.
gen_wav_name() {
    local src sport dst dport ssrc
    read -r src sport dst dport ssrc _ <<<"$1"
    echo "${src//:/-}_${sport}-${dst//:/-}_${dport}-${ssrc}.wav"
}

# Checks every expected WAV of a manifest: it opens in sox with the frame count
# streams.txt gives and the rate and channels of its payload type (CHANNELS
# and RATE of dynamic types come from the caller), and its samples equal the
# audio rebuilt from the capture by gen_rebuild_audio. Returns 1 on a mismatch.
#   gen_check_audio CAPTURE DIR [DYN_CHANNELS DYN_RATE]
gen_check_audio() {
    local cap=$1 dir=$2 dyn_ch=${3:-1} dyn_rate=${4:-8000} line wav ch rate frames
    local fail=0
    while read -r line; do
        wav=$dir/$(gen_wav_name "$line")
        set -- $line
        frames=$9
        case $6 in
        0 | 8) ch=1 rate=8000 ;;
        10) ch=2 rate=44100 ;;
        11) ch=1 rate=44100 ;;
        *) ch=$dyn_ch rate=$dyn_rate ;;
        esac
        if [ ! -f "$wav" ]; then
            echo "$wav: missing" >&2
            fail=1
            continue
        fi
        if [ "$(soxi -s "$wav")" != "$frames" ] || [ "$(soxi -c "$wav")" != "$ch" ] ||
            [ "$(soxi -r "$wav")" != "$rate" ] || [ "$(soxi -b "$wav")" != 16 ]; then
            echo "$wav: soxi says $(soxi -s "$wav") frames, $(soxi -c "$wav") ch," \
                "$(soxi -r "$wav") Hz, $(soxi -b "$wav") bits; want $frames, $ch, $rate, 16" >&2
            fail=1
            continue
        fi
        gen_rebuild_audio "$cap" "$line" "$ch" "$rate" "$dir/rebuilt.raw"
        sox -D "$wav" -t raw -e signed -b 16 -L "$dir/wav.raw"
        if ! cmp -s "$dir/rebuilt.raw" "$dir/wav.raw"; then
            echo "$wav: differs from the audio rebuilt from $cap:" >&2
            cmp "$dir/rebuilt.raw" "$dir/wav.raw" >&2 || true
            fail=1
        fi
        rm -f "$dir/rebuilt.raw" "$dir/wav.raw"
    done <"$dir/streams.txt"
    return $fail
}
