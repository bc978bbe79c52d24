#!/usr/bin/env bash
# integration.cli_errors: every bad input of the rtpproc tool gives one line
# "rtpproc: ..." on stderr and the documented exit status (1 usage, options,
# unusable input file, output errors; 2 an input that could not be read to
# its end), and whatever was recorded before the error is a valid, complete
# sound file (checked through libsndfile: $SNDINFO, or soxi).
#
# Captures come from $RTPGEN (clean 20 ms G.711 A-law streams, so a stream's
# recording holds exactly 160 frames per packet read); the expected per-stream
# packet counts come from tcpdump/libpcap, not from rtpproc.
set -eu
. "$(dirname "$0")/lib.sh"

need_env RTPPROC RTPGEN WORKDIR
need_tool tcpdump
setup_workdir
cd "$WORKDIR"

A=0x11110000 # forward stream; rtpgen gives its reverse SSRC A ^ 0x5A5A5A5A
B=0x4B4B5A5A
WAV_A=192.0.2.10_16384-198.51.100.10_30000-$A.wav
WAV_B=198.51.100.10_30000-192.0.2.10_16384-$B.wav

# Both directions, 100 packets each, plus RTCP and non-RTP noise.
"$RTPGEN" -o cap.pcap -e expected --bidir --packets 100 --ssrc $A --codec pcma --rtcp --noise 5 \
    >/dev/null
assert_grep "0x11110000 8 100" expected/streams.txt
assert_grep "0x4B4B5A5A 8 100" expected/streams.txt

# The one stderr line must be exactly this (prefix and count checked).
expect_one_error() {
    assert_lines 1 "$RUN_ERR"
    assert_grep "$1" "$RUN_ERR"
    case "$(head -n 1 "$RUN_ERR")" in
    "rtpproc: "*) ;;
    *) fail "stderr does not start with 'rtpproc: ': $(cat "$RUN_ERR")" ;;
    esac
}

# Frames a clean stream's recording must hold after reading capture $1:
# 160 per packet of SSRC $2 that libpcap reads from it.
frames_in() {
    echo $(($(pcap_count "$1" "udp[16:4] = $2 and udp[8] & 0xc0 = 0x80") * 160))
}

echo "== missing file"
run_expect 1 "$RTPPROC" -r "$WORKDIR/nope.pcap" -o out-missing
expect_one_error "rtpproc: cannot open '$WORKDIR/nope.pcap': No such file or directory"
[ ! -e out-missing ] || fail "output directory created although the input is missing"

echo "== missing second file: nothing is processed"
run_expect 1 "$RTPPROC" -r cap.pcap -r nope.pcap -o out-missing2
expect_one_error "rtpproc: cannot open 'nope.pcap': No such file or directory"
[ ! -e out-missing2 ] || fail "output written although an input is missing"
[ ! -s "$RUN_OUT" ] || fail "report printed although an input is missing"

echo "== a directory as input"
mkdir adir
run_expect 1 "$RTPPROC" -r adir
expect_one_error "rtpproc: cannot open 'adir': Is a directory"

echo "== not a capture"
echo "hello, this is text" >text.pcap
run_expect 1 "$RTPPROC" -r text.pcap -o out-text
expect_one_error "rtpproc: 'text.pcap' is not a pcap or pcapng file: unknown file format"
[ ! -e out-text ] || fail "output directory created for a non-capture"
: >empty.pcap
run_expect 1 "$RTPPROC" -r empty.pcap
expect_one_error "rtpproc: 'empty.pcap' is not a pcap or pcapng file: "
head -c 10 cap.pcap >header-cut.pcap
run_expect 1 "$RTPPROC" -r header-cut.pcap
expect_one_error "rtpproc: 'header-cut.pcap' is not a pcap or pcapng file: truncated dump file"

echo "== unsupported link type"
# pcap file header, little endian, v2.4, snaplen 65535, DLT_IEEE802_11 (105).
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00' \
    >wifi.pcap
run_expect 1 "$RTPPROC" -r wifi.pcap -o out-wifi
expect_one_error "rtpproc: 'wifi.pcap': unsupported link type IEEE802_11 (105)"
[ ! -e out-wifi ] || fail "output directory created for an unsupported link type"

echo "== truncated capture (cut inside a record's data)"
# The first 120 records, then 40 bytes of record 121 (16-byte header + 24 of its data).
tcpdump -r cap.pcap -c 120 -w first120.pcap 2>/dev/null
size=$(stat -c %s first120.pcap)
head -c $((size + 40)) cap.pcap >cut.pcap
fa=$(frames_in cut.pcap $A)
fb=$(frames_in cut.pcap $B)
if [ "$fa" -eq 0 ] || [ "$fb" -eq 0 ]; then
    fail "cut capture holds no packets of a stream ($fa, $fb)"
fi
run_expect 2 "$RTPPROC" -r cut.pcap -o out-cut
expect_one_error "rtpproc: 'cut.pcap': truncated capture (truncated dump file; tried to read"
assert_grep "only got 24); 120 packets read" "$RUN_ERR"
# The report is still printed, with both streams.
assert_grep "$A" "$RUN_OUT"
assert_grep "$B" "$RUN_OUT"
check_wav "out-cut/$WAV_A" "$fa" 8000 1
check_wav "out-cut/$WAV_B" "$fb" 8000 1

echo "== truncated capture (cut inside a record header)"
head -c $((size + 10)) cap.pcap >cut-hdr.pcap
run_expect 2 "$RTPPROC" -r cut-hdr.pcap -o out-cut-hdr -q
expect_one_error "rtpproc: 'cut-hdr.pcap': truncated capture (truncated dump file; tried to read 16 header bytes, only got 10); 120 packets read"
[ ! -s "$RUN_OUT" ] || fail "-q printed a report"
check_wav "out-cut-hdr/$WAV_A" "$fa" 8000 1
check_wav "out-cut-hdr/$WAV_B" "$fb" 8000 1

echo "== truncated first file: the next file is still read, status stays 2"
"$RTPGEN" -o later.pcap --packets 50 --ssrc 0x22220000 --codec pcmu --start 100 >/dev/null
run_expect 2 "$RTPPROC" -r cut.pcap -r later.pcap -o out-cut-next
expect_one_error "rtpproc: 'cut.pcap': truncated capture"
check_wav "out-cut-next/$WAV_A" "$fa"
check_wav "out-cut-next/192.0.2.10_16384-198.51.100.10_30000-0x22220000.wav" 8000

echo "== truncated stdin"
run_expect 2 "$RTPPROC" -r - -o out-cut-stdin <cut.pcap
expect_one_error "rtpproc: '<stdin>': truncated capture (truncated dump file; tried to read"
check_wav "out-cut-stdin/$WAV_A" "$fa"

echo "== unwritable output directory"
: >afile
run_expect 1 "$RTPPROC" -r cap.pcap -o afile/sub
expect_one_error "rtpproc: cannot use output directory 'afile/sub': Not a directory"
run_expect 1 "$RTPPROC" -r cap.pcap -o afile
expect_one_error "rtpproc: output directory 'afile' is not a directory"
run_expect 1 "$RTPPROC" -r cap.pcap -o missing/sub
expect_one_error "rtpproc: cannot create output directory 'missing/sub': No such file or directory"
[ ! -e missing ] || fail "-o created more than one level"
# One missing level is created.
run_expect 0 "$RTPPROC" -r cap.pcap -o newdir -q
check_wav "newdir/$WAV_A" 16000
# Permissions: as root they do not apply, so run as nobody when possible.
mkdir ro
chmod 0555 ro
if [ "$(id -u)" -ne 0 ]; then
    run_expect 1 "$RTPPROC" -r cap.pcap -o ro
    expect_one_error "rtpproc: cannot write to output directory 'ro': Permission denied"
elif command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -r cap.pcap 2>/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$RTPPROC" 2>/dev/null; then
    run_expect 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$RTPPROC" -r cap.pcap -o ro
    expect_one_error "rtpproc: cannot write to output directory 'ro': Permission denied"
else
    echo "(skipped the mode 0555 case: running as root without a usable setpriv)"
fi
[ -z "$(ls ro)" ] || fail "files written into a read-only directory"

echo "== -w and --json to an unwritable place"
run_expect 1 "$RTPPROC" -r cap.pcap --no-audio -w afile/x.pcap
expect_one_error "rtpproc: cannot write 'afile/x.pcap': Not a directory"
run_expect 1 "$RTPPROC" -r cap.pcap --no-audio --json afile/x.json
expect_one_error "rtpproc: cannot write 'afile/x.json': Not a directory"

echo "== -w or --json naming an input"
cp cap.pcap self.pcap
run_expect 1 "$RTPPROC" -r self.pcap --no-audio -w self.pcap
expect_one_error "rtpproc: cannot write 'self.pcap': it is also an input"
run_expect 1 "$RTPPROC" -r cap.pcap -r self.pcap --no-audio --json ./self.pcap
expect_one_error "rtpproc: cannot write './self.pcap': it is also an input"
run_expect 1 "$RTPPROC" -r - --no-audio -w self.pcap <self.pcap
expect_one_error "rtpproc: cannot write 'self.pcap': it is also an input"
cmp -s cap.pcap self.pcap || fail "an input was overwritten"

echo "== a recording that exists already, mid-run (EEXIST)"
# Stream A in the first file, stream B in the second: B's file exists, so
# reading stops there; A was read completely and must be complete.
tcpdump -r cap.pcap -w only-a.pcap "udp[16:4] = $A" 2>/dev/null
tcpdump -r cap.pcap -w only-b.pcap "udp[16:4] = $B" 2>/dev/null
mkdir out-exists
echo "precious" >"out-exists/$WAV_B"
run_expect 1 "$RTPPROC" -r only-a.pcap -r only-b.pcap -o out-exists
expect_one_error "$WAV_B"
assert_grep "exists" "$RUN_ERR"
assert_grep "$A" "$RUN_OUT" # the report is still printed
check_wav "out-exists/$WAV_A" 16000 8000 1
assert_eq "precious" "$(cat "out-exists/$WAV_B")" "the existing file"
# Both streams in one file: A stops wherever B's open failed, but is valid.
mkdir out-exists2
echo "precious" >"out-exists2/$WAV_B"
run_expect 1 "$RTPPROC" -r cap.pcap -o out-exists2
expect_one_error "$WAV_B"
info=$(wav_info "out-exists2/$WAV_A")
frames=${info#frames=}
frames=${frames%% *}
if [ "$frames" -le 0 ] || [ "$frames" -ge 16000 ] || [ $((frames % 160)) -ne 0 ]; then
    fail "stream A after the mid-run error: $info"
fi
assert_eq "precious" "$(cat "out-exists2/$WAV_B")" "the existing file"
# --force replaces it.
run_expect 0 "$RTPPROC" -r cap.pcap -o out-exists2 --force -q
check_wav "out-exists2/$WAV_B" 16000

echo "== invalid option values"
run_expect 1 "$RTPPROC" -r cap.pcap --timeout -1
expect_one_error "rtpproc: invalid timeout '-1': expected a positive duration such as 5, 1.5, 5s or 250ms"
run_expect 1 "$RTPPROC" -r cap.pcap --timeout 0
expect_one_error "rtpproc: invalid timeout '0': "
run_expect 1 "$RTPPROC" -r cap.pcap --ssrc 0x1ffffffff
expect_one_error "rtpproc: invalid ssrc '0x1ffffffff': expected a 32-bit number, decimal or hex with 0x"
run_expect 1 "$RTPPROC" -r cap.pcap --encoding mp3
expect_one_error "rtpproc: invalid encoding 'mp3': expected pcm16, alaw or ulaw"
run_expect 1 "$RTPPROC" -r cap.pcap --pt-map 96=nosuchcodec
expect_one_error "rtpproc: invalid pt-map '96=nosuchcodec': "
run_expect 1 "$RTPPROC" -r cap.pcap --bogus
expect_one_error "rtpproc: unknown option '--bogus' (see 'rtpproc --help')"
run_expect 1 "$RTPPROC" -r cap.pcap -y
expect_one_error "rtpproc: unknown option '-y'"
run_expect 1 "$RTPPROC" -r cap.pcap --timeout
expect_one_error "rtpproc: option '--timeout' needs a value"
run_expect 1 "$RTPPROC" -r
expect_one_error "rtpproc: option '-r' needs a value"
run_expect 1 "$RTPPROC" -r cap.pcap --force=yes
expect_one_error "rtpproc: option '--force' takes no value"
run_expect 1 "$RTPPROC" -o out-noinput
expect_one_error "rtpproc: no input: give -r FILE"
run_expect 1 "$RTPPROC" -r - -r -
expect_one_error "rtpproc: standard input ('-r -') can be read only once"
run_expect 1 "$RTPPROC" -r cap.pcap -w - --json -
expect_one_error "rtpproc: -w - and --json - cannot both write to standard output"
[ ! -e out-noinput ] || fail "output directory created on a usage error"
run_expect 0 "$RTPPROC" --help
assert_grep "Exit status" "$RUN_OUT"
[ ! -s "$RUN_ERR" ] || fail "--help wrote to stderr"
run_expect 0 "$RTPPROC" -V
assert_grep "rtpproc " "$RUN_OUT"
assert_grep "libpcap" "$RUN_OUT"

echo "== invalid BPF expression"
run_expect 1 "$RTPPROC" -r cap.pcap -o out-bpf udp prot 5000
expect_one_error "rtpproc: invalid filter expression 'udp prot 5000': "
assert_grep "syntax error" "$RUN_ERR"
[ ! -e out-bpf ] || fail "output directory created for a bad filter"
# Valid syntax, but not for the link type of one input (raw IP has no VLANs).
"$RTPGEN" -o raw.pcap --linktype raw --packets 20 --ssrc 0x33330000 --start 10 >/dev/null
run_expect 1 "$RTPPROC" -r cap.pcap -r raw.pcap -o out-bpf2 vlan
expect_one_error "rtpproc: invalid filter expression 'vlan': no VLAN support for"
[ ! -e out-bpf2 ] || fail "output directory created for a filter that fails on the second input"

echo "== -w with inputs of different link types"
run_expect 1 "$RTPPROC" -r cap.pcap -r raw.pcap -w mixed.pcap --no-audio
expect_one_error "rtpproc: -w needs one link type, but 'cap.pcap' is EN10MB (1) and 'raw.pcap' is "
# Without -w, mixed link types are fine.
run_expect 0 "$RTPPROC" -r cap.pcap -r raw.pcap -o out-mixed -q
check_wav "out-mixed/$WAV_A" 16000
check_wav "out-mixed/192.0.2.10_16384-198.51.100.10_30000-0x33330000.wav" 3200

echo "PASS"
