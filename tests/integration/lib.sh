# shellcheck shell=bash
# tests/integration/lib.sh - helpers for the integration scripts (bash).
#
# Source it after `set -eu`:
#     . "$(dirname "$0")/lib.sh"
# The scripts get their tools from ctest's environment: RTPPROC, RTPGEN,
# WSCHECK, SNDINFO, SRCDIR, SHARED_DIR, WORKDIR (see tests/integration/
# CMakeLists.txt). Exit status 77 means "skipped" to ctest.
#
#   fail MSG...              print "FAIL: MSG" on stderr, exit 1
#   skip MSG...              print "SKIP: MSG", exit 77
#   need_tool TOOL...        skip unless every TOOL is on PATH
#   need_env VAR...          fail unless every VAR is set and non-empty
#   setup_workdir            rm -rf and recreate $WORKDIR
#   run_expect STATUS CMD... run CMD with stdout/stderr in $RUN_OUT/$RUN_ERR,
#                            fail unless it exits with STATUS
#   assert_grep TEXT FILE    fail unless FILE contains TEXT (fixed string)
#   assert_no_grep TEXT FILE fail if FILE contains TEXT
#   assert_lines N FILE      fail unless FILE has exactly N lines
#   assert_eq WANT GOT WHAT  fail unless WANT = GOT (strings)
#   wav_info FILE            print "frames=N rate=R channels=C" ($SNDINFO or soxi)
#   check_wav FILE FRAMES [RATE [CHANNELS]]
#                            fail unless libsndfile opens FILE with exactly
#                            FRAMES frames (and RATE, CHANNELS when given)
#   pcap_count FILE [BPF...] number of records in a capture (tcpdump)
#   wav_snr REF REC MAXLAG   print "SNR_DB LAG": REC against REF at the lag
#                            (frames, -MAXLAG..MAXLAG) that fits best; 999
#                            when identical ($SNDINFO --dump, files in $WORKDIR)
#   real_captures            the pcap/pcapng files of $SHARED_DIR/captures/real,
#                            one per line, sorted (nothing without that folder)
#   assert_same_run A B WHAT NORM
#                            fail unless two rtpproc runs are the same: the
#                            recordings in folders A and B byte for byte, the
#                            JSON reports A.json and B.json through the shell
#                            function NORM, the text reports A.txt and B.txt
#                            with the folder names removed

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

need_tool() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
    done
}

need_env() {
    local v
    for v in "$@"; do
        [ -n "${!v:-}" ] || fail "environment variable $v is not set (run through ctest)"
    done
}

setup_workdir() {
    need_env WORKDIR
    rm -rf "$WORKDIR"
    mkdir -p "$WORKDIR"
}

# Output files of the last run_expect; later runs overwrite them.
RUN_OUT=${WORKDIR:-/tmp}/run.stdout
RUN_ERR=${WORKDIR:-/tmp}/run.stderr

run_expect() {
    local want=$1 got=0
    shift
    RUN_OUT=$WORKDIR/run.stdout
    RUN_ERR=$WORKDIR/run.stderr
    "$@" >"$RUN_OUT" 2>"$RUN_ERR" || got=$?
    if [ "$got" != "$want" ]; then
        echo "--- command: $*" >&2
        echo "--- stdout:" >&2
        head -n 40 "$RUN_OUT" >&2
        echo "--- stderr:" >&2
        head -n 40 "$RUN_ERR" >&2
        fail "exit status $got, expected $want: $*"
    fi
}

assert_grep() {
    grep -qF -- "$1" "$2" || {
        echo "--- $2:" >&2
        head -n 40 "$2" >&2
        fail "'$1' not found in $2"
    }
}

assert_no_grep() {
    if grep -qF -- "$1" "$2"; then
        echo "--- $2:" >&2
        head -n 40 "$2" >&2
        fail "'$1' unexpectedly found in $2"
    fi
}

assert_lines() {
    local n
    n=$(wc -l <"$2")
    [ "$n" -eq "$1" ] || {
        echo "--- $2:" >&2
        head -n 40 "$2" >&2
        fail "$2 has $n lines, expected $1"
    }
}

assert_eq() {
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# libsndfile's view of a sound file: frames=N rate=R channels=C. Uses the
# project's sndinfo when built, else soxi (sox) - both read through libsndfile
# or an equivalent header parser, never through rtpproc.
wav_info() {
    local f=$1 line
    [ -f "$f" ] || fail "$f does not exist"
    if [ -n "${SNDINFO:-}" ] && [ -x "$SNDINFO" ]; then
        line=$("$SNDINFO" "$f") || fail "$f: not a readable sound file"
        echo "$line" | sed -E 's/^(frames=[0-9]+ rate=[0-9]+ channels=[0-9]+).*/\1/'
    elif command -v soxi >/dev/null 2>&1; then
        local frames rate channels
        frames=$(soxi -s "$f" 2>/dev/null) || fail "$f: not a readable sound file"
        rate=$(soxi -r "$f")
        channels=$(soxi -c "$f")
        echo "frames=$frames rate=$rate channels=$channels"
    else
        skip "neither \$SNDINFO nor soxi available"
    fi
}

check_wav() {
    local f=$1 frames=$2 rate=${3:-} channels=${4:-} info
    info=$(wav_info "$f") || exit 1
    case " $info " in
    *" frames=$frames "*) ;;
    *) fail "$f: expected frames=$frames, got: $info" ;;
    esac
    if [ -n "$rate" ]; then
        case " $info " in
        *" rate=$rate "*) ;;
        *) fail "$f: expected rate=$rate, got: $info" ;;
        esac
    fi
    if [ -n "$channels" ]; then
        case " $info " in
        *" channels=$channels "*) ;;
        *) fail "$f: expected channels=$channels, got: $info" ;;
        esac
    fi
}

# Records tcpdump reads from FILE (matching the optional BPF expression).
# tcpdump stops at a truncated record just as libpcap does for rtpproc.
pcap_count() {
    local f=$1
    shift
    { tcpdump -n -r "$f" "$@" 2>/dev/null || true; } | wc -l
}

# wav_snr REF REC MAXLAG: signal energy of REF over the energy of REF - REC,
# in dB, at the lag that minimises the difference over a window of up to
# 4000 frames from a quarter into REF, then over every frame both cover.
# Samples of multi-channel files are interleaved; only as many channels of
# REC are read as REF has (a mono source against a stereo recording
# compares the left channel). Keep MAXLAG below half the period of a
# periodic REF, or the search may settle one period off.
wav_snr() {
    need_env SNDINFO WORKDIR
    "$SNDINFO" --dump "$1" >"$WORKDIR/snr.ref" || fail "$1: cannot dump"
    "$SNDINFO" --dump "$2" >"$WORKDIR/snr.rec" || fail "$2: cannot dump"
    awk -v maxlag="$3" '
        NR == FNR { for (k = 1; k <= NF; k++) s[n++] = $k; ch = NF; next }
        { for (k = 1; k <= ch; k++) r[m++] = $k }
        END {
            if (ch < 1) ch = 1
            nf = int(n / ch); w = int(nf / 2); if (w > 4000) w = 4000
            st = int(nf / 4); best = -1
            for (L = -maxlag; L <= maxlag; L++) {
                e = 0
                for (i = st * ch; i < (st + w) * ch; i++) {
                    j = i + L * ch
                    d = s[i] - ((j >= 0 && j < m) ? r[j] : 0)
                    e += d * d
                    if (best >= 0 && e > best) break
                }
                if (best < 0 || e < best) { best = e; lag = L }
            }
            es = 0; ee = 0
            for (i = 0; i < n; i++) {
                j = i + lag * ch
                if (j < 0 || j >= m) continue
                d = s[i] - r[j]; es += s[i] * s[i]; ee += d * d
            }
            if (ee == 0) printf "999 %d\n", lag
            else printf "%.1f %d\n", 10 * log(es / ee) / log(10), lag
        }' "$WORKDIR/snr.ref" "$WORKDIR/snr.rec"
}

real_captures() {
    [ -d "${SHARED_DIR:-}/captures/real" ] || return 0
    find "$SHARED_DIR/captures/real" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) |
        sort
}

assert_same_run() {
    local a=$1 b=$2 what=$3 norm=$4
    diff -r "$a" "$b" >/dev/null 2>&1 ||
        fail "$what: recordings differ ($(diff -rq "$a" "$b" | head -n 3 | tr '\n' ' '))"
    diff <("$norm" "$a.json") <("$norm" "$b.json") >"$b.diff" ||
        fail "$what: report differs: $(head -n 6 "$b.diff" | tr '\n' ' ')"
    diff <(sed "s|${a//./\\.}/||g" "$a.txt") <(sed "s|${b//./\\.}/||g" "$b.txt") >/dev/null ||
        fail "$what: text report differs"
}
