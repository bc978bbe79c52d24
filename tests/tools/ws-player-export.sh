#!/bin/bash
# ws-player-export.sh - export the audio of Wireshark's Qt RTP player (Debian
# wireshark-qt 4.0.17), one WAV per RTP stream, by driving the GUI headlessly.
#
# Usage:
#   ws-player-export.sh [--heuristic] [--decode-as SPEC]... --mode MODE
#                       [--jitter MS] [--timeout SEC] CAPTURE OUTDIR
#
#   --heuristic        dissect RTP on any UDP port (--enable-heuristic rtp_udp)
#   --decode-as SPEC   Wireshark "decode as", e.g. udp.port==5004,rtp; repeatable
#   --mode MODE        the player's "Playback Timing": rtp ("RTP Timestamp"),
#                      jitter ("Jitter Buffer") or continuous ("Uninterrupted
#                      Mode")
#   --jitter MS        the player's "Jitter Buffer" value, 0-500 (default 50;
#                      used by --mode jitter only)
#   --timeout SEC      limit for each wait on the GUI (default 30)
#
# For every RTP stream of CAPTURE (key: source address/port, destination
# address/port, SSRC) it opens the RTP player on that stream alone and saves
# Export > "Stream Synchronized Audio" as OUTDIR/<src>_<sport>-<dst>_<dport>-
# 0x<SSRC>.wav, the name rtpproc gives its recording (SSRC as 8 upper-case hex
# digits, IPv6 ':' as '-'). The WAV is written exactly as the player saved it:
# 16-bit PCM, mono, at the codec's rate, with one extra all-zero frame after the
# length the header declares (libsndfile ignores it). See docs/player-harness.md.
#
# Standard output, one line per stream, in order of the stream's first packet:
#   ok NAME.wav        exported
#   noaudio NAME.wav   the player decodes no audio for it (no file written)
# Exit status: 0 done, 1 failure (message on standard error), 2 usage error.
#
# Needs wireshark (wireshark-qt), tshark, Xvfb (xvfb), xdotool, and setpriv
# (util-linux) when run as root: Wireshark then runs as uid/gid 65534 with a
# private HOME and profile in a temporary tree. The script starts its own Xvfb
# display and kills everything it started on exit. Sound devices are hidden so
# that the player keeps each stream's own rate.
#
# WS_PLAYER_EXPORT_DEBUG=DIR keeps the logs there, plus a screenshot of the
# display on failure when ImageMagick's `import` is installed.
set -eu

prog=${0##*/}

usage() {
    sed -n '5,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

die() {
    echo "$prog: $*" >&2
    exit 1
}

heuristic=0
decode_as=()
mode=
jitter=50
step_timeout=30
while [ $# -gt 0 ]; do
    case $1 in
    --heuristic) heuristic=1 ;;
    --decode-as)
        [ $# -ge 2 ] || usage
        decode_as+=("$2")
        shift
        ;;
    --mode)
        [ $# -ge 2 ] || usage
        mode=$2
        shift
        ;;
    --jitter)
        [ $# -ge 2 ] || usage
        jitter=$2
        shift
        ;;
    --timeout)
        [ $# -ge 2 ] || usage
        step_timeout=$2
        shift
        ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "$prog: unknown option $1" >&2; usage ;;
    *) break ;;
    esac
    shift
done
[ $# -eq 2 ] || usage
capture=$1
outdir=$2
case $mode in
rtp) mode_key=r ;;
jitter) mode_key= ;;
continuous) mode_key=u ;;
*) echo "$prog: --mode must be rtp, jitter or continuous" >&2; usage ;;
esac
case $jitter in
'' | *[!0-9]*) echo "$prog: --jitter must be a whole number of ms" >&2; usage ;;
esac
jitter=$((10#$jitter))
[ "$jitter" -le 500 ] || { echo "$prog: --jitter must be 0-500" >&2; usage; }
case $step_timeout in
'' | *[!0-9]*) echo "$prog: --timeout must be whole seconds" >&2; usage ;;
esac
if [ ! -f "$capture" ] || [ ! -r "$capture" ]; then
    die "cannot read $capture"
fi
if [ ! -d "$outdir" ] || [ ! -w "$outdir" ]; then
    die "$outdir is not a writable directory"
fi

for t in wireshark tshark Xvfb xdotool; do
    command -v "$t" >/dev/null 2>&1 || die "$t is not installed"
done
as_root=0
if [ "$(id -u)" = 0 ]; then
    as_root=1
    command -v setpriv >/dev/null 2>&1 || die "setpriv is not installed"
fi

debug_dir=${WS_PLAYER_EXPORT_DEBUG:-}
tree=
xvfb_pid=
ws_pid=

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [ "$status" != 0 ] && [ -n "$debug_dir" ] && [ -n "${DISPLAY:-}" ] &&
        command -v import >/dev/null 2>&1; then
        mkdir -p "$debug_dir"
        import -window root "$debug_dir/failure.png" 2>/dev/null || true
    fi
    for pid in $ws_pid $xvfb_pid; do
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$tree" ]; then
        if [ -n "$debug_dir" ]; then
            mkdir -p "$debug_dir"
            cp "$tree"/*.log "$debug_dir"/ 2>/dev/null || true
        fi
        rm -rf "$tree"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The temporary tree: home/ (HOME, profile, XDG runtime dir), x<N>/ (one
# directory per export, so the file dialog's completer never offers an
# earlier file), the capture copy (readable by the unprivileged user whatever
# the permissions of the original's directories).
tree=$(mktemp -d /tmp/ws-player-export.XXXXXX)
chmod 755 "$tree"
mkdir -m 700 "$tree/home" "$tree/home/run"
cp "$capture" "$tree/wspe_capture"
chmod 644 "$tree/wspe_capture"
: >"$tree/alsa.conf"
if [ "$as_root" = 1 ]; then
    chown -R 65534:65534 "$tree/home"
fi

now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# The prefix that runs a command as the unprivileged user with a clean
# environment: private HOME/profile, no sound server or ALSA devices (notes 6:
# a sound device can change the player's output rate), C locale (the key
# strokes below rely on the English menu texts). env and setpriv exec the
# command, so a background job's $! is the command's own pid.
run_as() {
    run_cmd=(env -i PATH=/usr/bin:/bin HOME="$tree/home"
        XDG_CONFIG_HOME="$tree/home/.config" XDG_RUNTIME_DIR="$tree/home/run"
        LC_ALL=C.UTF-8 LANG=C.UTF-8 DISPLAY="${DISPLAY:-}" QT_QPA_PLATFORM=xcb
        QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 PULSE_SERVER=unix:/nonexistent
        ALSA_CONFIG_PATH="$tree/alsa.conf" AUDIODEV=/nonexistent)
    if [ "$as_root" = 1 ]; then
        run_cmd+=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    fi
    run_cmd+=("$@")
}

ws_opts=(-n)
[ "$heuristic" = 1 ] && ws_opts+=(--enable-heuristic rtp_udp)
for d in ${decode_as[@]+"${decode_as[@]}"}; do
    ws_opts+=(-d "$d")
done

# The streams, as the player keys them, each with its first frame: the player
# is opened from that packet (Go to packet, then Telephony > RTP > RTP Player
# adds exactly the selected packet's stream).
streams=$tree/streams.txt
run_as tshark -r "$tree/wspe_capture" "${ws_opts[@]}" -Y rtp -T fields \
    -E separator=/t -E occurrence=l -e frame.number -e ip.src -e ipv6.src \
    -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport -e rtp.ssrc
"${run_cmd[@]}" >"$tree/fields.txt" 2>"$tree/tshark.log" ||
    die "tshark cannot read $capture: $(head -n 3 "$tree/tshark.log")"
awk -F '\t' '
    $8 == "" || $4 == "" { next }
    {
        src = ($3 != "") ? $3 : $2
        dst = ($6 != "") ? $6 : $5
        key = src " " $4 " " dst " " $7 " " $8
        if (!(key in seen)) { seen[key] = 1; print $1, key }
    }' "$tree/fields.txt" >"$streams"
if [ ! -s "$streams" ]; then
    echo "$prog: no RTP stream in $capture" >&2
    exit 0
fi

# Private X display; Xvfb picks a free display number itself (-displayfd).
: >"$tree/display"
Xvfb -displayfd 3 -nolisten tcp -noreset -screen 0 1280x1024x24 \
    3>"$tree/display" >"$tree/xvfb.log" 2>&1 &
xvfb_pid=$!
deadline=$(($(now_ms) + step_timeout * 1000))
while ! grep -q '^[0-9][0-9]*$' "$tree/display"; do
    kill -0 "$xvfb_pid" 2>/dev/null || die "Xvfb failed: $(tail -n 3 "$tree/xvfb.log")"
    [ "$(now_ms)" -lt "$deadline" ] || die "timeout waiting for Xvfb"
    sleep 0.05
done
DISPLAY=:$(head -n 1 "$tree/display")
export DISPLAY

run_as wireshark -r "$tree/wspe_capture" "${ws_opts[@]}" -o gui.ask_unsaved:FALSE
"${run_cmd[@]}" >"$tree/wireshark.log" 2>&1 &
ws_pid=$!

shot_n=0
# Debug aid: numbered screenshots when WS_PLAYER_EXPORT_DEBUG is set.
shot() {
    if [ -n "$debug_dir" ] && command -v import >/dev/null 2>&1; then
        mkdir -p "$debug_dir"
        shot_n=$((shot_n + 1))
        import -window root "$debug_dir/$(printf %02d "$shot_n")-$1.png" 2>/dev/null || true
    fi
}

# The first visible window whose name matches the extended regex, or nothing.
find_win() {
    xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n 1
}

# The visible popup menu, if any: Qt names it only in _NET_WM_NAME (the
# application name), which `xdotool getwindowname` reads but `search --name`
# does not.
find_popup() {
    local w
    for w in $(xdotool search --onlyvisible --classname '^wireshark$' 2>/dev/null); do
        if [ "$(xdotool getwindowname "$w" 2>/dev/null)" = Wireshark ]; then
            echo "$w"
            return 0
        fi
    done
}

alive() {
    kill -0 "$ws_pid" 2>/dev/null || die "wireshark exited: $(tail -n 5 "$tree/wireshark.log")"
}

# wait_win REGEX WHAT: polls (every 50 ms, up to --timeout) for a visible
# window; prints its id. xdotool's own `search --sync` polls every 0.5 s,
# which made each step up to half a second slower.
wait_win() {
    local re=$1 what=$2 id deadline
    deadline=$(($(now_ms) + step_timeout * 1000))
    while :; do
        id=$(find_win "$re")
        if [ -n "$id" ]; then
            echo "$id"
            return 0
        fi
        alive
        [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for $what"
        sleep 0.05
    done
}

wait_gone() {
    local re=$1 what=$2 deadline
    deadline=$(($(now_ms) + step_timeout * 1000))
    while [ -n "$(find_win "$re")" ]; do
        alive
        [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for $what to close"
        sleep 0.05
    done
}

focus() {
    xdotool windowfocus --sync "$1" 2>/dev/null || die "cannot focus window $1"
}

# The title becomes the file name only when reading has finished
# (WiresharkMainWindow::captureFileReadFinished), so this also waits for the
# whole capture to be loaded.
main_win=$(wait_win '^wspe_capture' "the main window")
player_win=

# Opens the player (or adds to it) for the stream whose first frame is $1.
add_stream() {
    focus "$main_win"
    xdotool key --delay 30 ctrl+g
    xdotool type --delay 10 "$1"
    # Telephony (Alt+Y) > RTP (R) > RTP Player (last item: Up from the first).
    xdotool key --delay 40 Return alt+y r Up Return
}

# Selects the player's streams and opens Export > Stream Synchronized Audio.
# While the player retaps/decodes it is disabled and drops key strokes, so the
# keys are sent again until the file dialog (or the no-audio warning) shows.
# Prints "save" or "noaudio".
open_export() {
    local deadline next id
    deadline=$(($(now_ms) + step_timeout * 1000))
    next=0
    while :; do
        if [ "$(now_ms)" -ge "$next" ]; then
            focus "$player_win"
            xdotool key --delay 30 ctrl+a alt+e s
            next=$(($(now_ms) + 1500))
        fi
        sleep 0.05
        id=$(find_win '^Save audio$')
        if [ -n "$id" ]; then
            echo "save $id"
            return 0
        fi
        id=$(find_win '^Warning$')
        if [ -n "$id" ]; then
            echo "noaudio $id"
            return 0
        fi
        if [ -n "$(find_win '^RTP packet search failed$')" ]; then
            die "Telephony > RTP > RTP Player found no RTP stream at the packet"
        fi
        alive
        [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for the export dialog"
    done
}

remove_streams() {
    focus "$player_win"
    xdotool key --delay 30 ctrl+a Delete
}

# Waits until the player has handled every key sent so far and is enabled:
# opens its context menu (Menu key) and closes it again. Keys that reach the
# player while it re-decodes are dropped, so the Menu key is sent again until
# the menu (a visible window named "Wireshark") shows.
barrier() {
    local deadline next
    deadline=$(($(now_ms) + step_timeout * 1000))
    next=0
    while :; do
        if [ "$(now_ms)" -ge "$next" ]; then
            focus "$player_win"
            xdotool key Menu
            next=$(($(now_ms) + 2000))
            shot barrier
        fi
        sleep 0.05
        if [ -n "$(find_popup)" ]; then
            xdotool key Escape
            while [ -n "$(find_popup)" ]; do
                alive
                [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for the player's context menu to close"
                sleep 0.05
            done
            return 0
        fi
        alive
        [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for the RTP player to respond"
    done
}

# Sets "Playback Timing", or "Jitter Buffer" for --mode jitter, while the
# player holds no stream. Each change re-decodes the player's streams at once
# (rescanPackets) into their old buffers (stale audio past a shorter new end,
# notes 6): hence no stream now, and every stream added afterwards is decoded
# once, fresh. A re-decode disables the dialog, which loses the key focus and
# drops any key that arrives meanwhile, so each change is one key after a
# barrier, with the focus first put back by Home (the dialog's event filter
# gives it to the stream list) and Tab (with no stream, every widget between
# the list and the jitter spin box is disabled). Every key below changes the
# value (the dialog starts at "Jitter Buffer", 50 ms, and a digit appended to
# a whole number changes it), so the focus is always lost again afterwards. A
# key that changes nothing would leave the focus in a combo box, which eats
# the barrier's Menu key.
set_timing() {
    local i
    barrier
    if [ "$mode" != jitter ]; then
        # The combo box picks the item starting with the typed letter.
        xdotool key --delay 30 Home Tab Tab "$mode_key"
        barrier
        return 0
    fi
    for ((i = 0; i < ${#jitter}; i++)); do
        if [ "$i" = 0 ]; then
            # Tab into a spin box selects its text: the digit replaces it.
            xdotool key --delay 30 Home Tab "${jitter:i:1}"
        else
            xdotool key --delay 30 Home Tab End "${jitter:i:1}"
        fi
        barrier
    done
}

# Waits until the exported WAV is complete: the player writes the header
# first, then the samples plus one extra all-zero frame (notes 2.5).
wait_wav() {
    local f=$1 deadline size data ch want
    deadline=$(($(now_ms) + step_timeout * 1000))
    while :; do
        if [ -f "$f" ]; then
            size=$(stat -c %s "$f")
            if [ "$size" -ge 44 ]; then
                data=$(od -An -tu4 -j40 -N4 "$f" | tr -d ' ')
                ch=$(od -An -tu2 -j22 -N2 "$f" | tr -d ' ')
                want=$((44 + data + 2 * ch))
                [ "$size" -lt "$want" ] || return 0
            fi
        fi
        alive
        [ "$(now_ms)" -lt "$deadline" ] || die "timeout (${step_timeout}s) waiting for $f to be complete"
        sleep 0.05
    done
}

n=0
timing_set=0
if [ "$mode" = jitter ] && [ "$jitter" = 50 ]; then
    # The player's defaults: nothing to change.
    timing_set=1
fi
# The jitter value plays no part in the other modes (notes 2.3: the RTP
# timestamp mode has no arrival difference, Uninterrupted skips the check).
while read -r frame src sport dst dport ssrc <&3; do
    n=$((n + 1))
    name="${src//:/-}_${sport}-${dst//:/-}_${dport}-$(printf '0x%08X' "$((ssrc))").wav"
    add_stream "$frame"
    if [ -z "$player_win" ]; then
        player_win=$(wait_win 'RTP Player$' "the RTP player")
    fi
    if [ "$timing_set" = 0 ]; then
        # Wait for this first decode (in the default timing) to end, drop the
        # stream, set the timing, then add the stream again.
        res=$(open_export)
        focus "${res#* }"
        if [ "${res%% *}" = save ]; then
            xdotool key Escape
            wait_gone '^Save audio$' "the file dialog"
        else
            xdotool key Return
            wait_gone '^Warning$' "the warning"
        fi
        remove_streams
        set_timing
        timing_set=1
        add_stream "$frame"
    fi
    res=$(open_export)
    if [ "${res%% *}" = noaudio ]; then
        # "No stream selected or none of selected streams provide audio".
        # Asked again after a barrier, in case the keys overtook the retap
        # that addRtpStreams schedules (QTimer::singleShot(0)).
        focus "${res#* }"
        xdotool key Return
        wait_gone '^Warning$' "the warning"
        barrier
        res=$(open_export)
    fi
    focus "${res#* }"
    if [ "${res%% *}" = noaudio ]; then
        xdotool key Return
        wait_gone '^Warning$' "the warning"
        echo "noaudio $name"
    else
        mkdir "$tree/x$n"
        [ "$as_root" = 0 ] || chown 65534:65534 "$tree/x$n"
        # Keys of an earlier open_export try that were queued behind a long
        # decode may have typed into the file name field: replace its text.
        xdotool key ctrl+a
        xdotool type --delay 5 "$tree/x$n/a.wav"
        xdotool key Return
        wait_wav "$tree/x$n/a.wav"
        wait_gone '^Save audio$' "the file dialog"
        cp "$tree/x$n/a.wav" "$outdir/$name"
        echo "ok $name"
    fi
    shot "stream$n"
    remove_streams
done 3<"$streams"
