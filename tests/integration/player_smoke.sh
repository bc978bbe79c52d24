#!/bin/bash
# integration.player_smoke: the real Wireshark 4.0.17 RTP player, driven
# headlessly by tests/tools/ws-player-export.sh, hears exactly what rtpproc
# records on two clean G.711 captures (no loss, reordering or duplicates):
# captures/call-g711.pcap (two streams, PCMA and PCMU, no SIP: heuristic RTP)
# and captures/ffmpeg-pcma-lo.pcap (a real ffmpeg sender on loopback; packet
# spacing 10.3-20.8 ms). For each capture and each of the player's
# timing modes ("RTP Timestamp", "Uninterrupted Mode", "Jitter Buffer" 50 ms):
#   - the player exports audio for exactly the streams rtpproc records, under
#     the same file names;
#   - each export is 16-bit mono at 8000 Hz and equals rtpproc's default
#     recording sample for sample, from the first sample (Stream Synchronized
#     Audio of a single stream has no lead silence);
#   - each export holds exactly one all-zero frame after the length its header
#     declares (the player's quirk, docs/player-harness.md).
# On these streams the three modes agree: no timestamp gap to fill with
# silence, and no arrival time further than 50 ms from its RTP time.
# Skipped (77) unless run as root with wireshark, tshark, Xvfb, xdotool and
# setpriv installed, and in sanitizer builds (RTPPROC_SANITIZED=1).
set -eu
. "$(dirname "$0")/lib.sh"
need_env RTPPROC SNDINFO SRCDIR WORKDIR
[ "${RTPPROC_SANITIZED:-0}" != 1 ] || skip "sanitizer build"
need_tool wireshark tshark Xvfb xdotool setpriv od stat
[ "$(id -u)" = 0 ] || skip "not root (Wireshark is run as uid 65534 through setpriv)"

setup_workdir
cd "$WORKDIR"
export_tool=$SRCDIR/tests/tools/ws-player-export.sh

# The exported WAV as the player writes it: 44-byte header, then the declared
# data, then one more frame of zeros.
check_trailing_frame() {
    local f=$1 size data tail
    size=$(stat -c %s "$f")
    data=$(od -An -tu4 -j40 -N4 "$f" | tr -d ' ')
    [ "$size" -eq $((44 + data + 2)) ] ||
        fail "$f: $size bytes, expected 44 + $data declared + 2 (one trailing frame)"
    tail=$(tail -c 2 "$f" | od -An -tu1 | tr -s ' ')
    [ "$tail" = " 0 0" ] || fail "$f: trailing frame is not zero:$tail"
}

total=0
for spec in "call-g711.pcap|2" "ffmpeg-pcma-lo.pcap|1"; do
    IFS='|' read -r cap want_streams <<<"$spec"
    base=${cap%.pcap}
    run_expect 0 "$RTPPROC" -r "$SRCDIR/captures/$cap" -o "rp-$base" --force -q
    (cd "rp-$base" && ls -- *.wav) >"rp-$base.list"
    assert_lines "$want_streams" "rp-$base.list"
    for mode in rtp continuous jitter; do
        out=ws-$base-$mode
        mkdir "$out"
        t0=${EPOCHREALTIME/./}
        run_expect 0 bash "$export_tool" --heuristic --mode "$mode" "$SRCDIR/captures/$cap" "$out"
        t1=${EPOCHREALTIME/./}
        ms=$(((t1 - t0) / 1000))
        total=$((total + ms))
        echo "$cap --mode $mode: exported in $ms ms"
        cp "$RUN_OUT" "$out.stdout"
        sed 's/^ok //' "$out.stdout" >"$out.list"
        assert_no_grep "noaudio" "$out.stdout"
        diff -u "rp-$base.list" "$out.list" >&2 ||
            fail "$cap --mode $mode: the player's streams differ from rtpproc's"
        while read -r name; do
            info=$(wav_info "rp-$base/$name")
            frames=${info#frames=}
            frames=${frames%% *}
            check_wav "$out/$name" "$frames" 8000 1
            info=$("$SNDINFO" "$out/$name")
            case $info in
            *" format=0x010002") ;; # SF_FORMAT_WAV | SF_FORMAT_PCM_16
            *) fail "$out/$name: not a 16-bit PCM WAV: $info" ;;
            esac
            check_trailing_frame "$out/$name"
            if ! "$SNDINFO" --cmp "$out/$name" "rp-$base/$name" >"$out/$name.cmp" 2>&1; then
                cat "$out/$name.cmp" >&2
                fail "$cap --mode $mode: $name differs from rtpproc's recording"
            fi
        done <"rp-$base.list"
    done
done
echo "all exports: $total ms"
