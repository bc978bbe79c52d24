# shellcheck shell=bash
# tests/integration/plugin_lib.bash - set-up shared by the plugin_*.sh tests
# (not a test itself: only *.sh files become ctest cases). Source it after
# lib.sh. It skips in sanitizer builds and when the plug-in was not built,
# prepares a HOME tree under /tmp whose personal plug-in folder holds a copy of
# $RTPPROC_PLUGIN, checks that tshark loads exactly that copy, and cd's there.
# It defines T, PLUGDIR, AS_USER, and the helpers mkd (a directory uid 65534
# may write) and tshark_u (tshark as uid 65534 with HOME=$T; tshark ignores
# personal plug-in folders when run as root, wireshark-notes.md 1.6).
[ "${RTPPROC_SANITIZED:-0}" != 1 ] ||
    skip "sanitizer build: the system tshark cannot load an ASan/UBSan-instrumented rtpproc.so"
[ -n "${RTPPROC_PLUGIN:-}" ] && [ -f "$RTPPROC_PLUGIN" ] ||
    skip "the tshark plug-in was not built (RTPPROC_PLUGIN unset)"
need_tool tshark jq
need_env RTPPROC RTPGEN SNDINFO WORKDIR
AS_USER=()
if [ "$(id -u)" -eq 0 ]; then
    need_tool setpriv
    AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
setup_workdir
# Under /tmp so that uid 65534 can reach it; kept in $WORKDIR on failure.
T=$(mktemp -d /tmp/rtpproc-plugin.XXXXXX)
trap 'rc=$?; [ $rc -eq 0 ] || cp -a "$T"/. "$WORKDIR"/ 2>/dev/null; rm -rf "$T"' EXIT
chmod 0777 "$T"
WS_MM=$(tshark --version 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$WS_MM" ] || fail "cannot read tshark's version"
PLUGDIR=$T/.local/lib/wireshark/plugins/$WS_MM/epan
mkdir -p "$PLUGDIR"
cp "$RTPPROC_PLUGIN" "$PLUGDIR/rtpproc.so"
chmod -R a+rX "$T/.local"
# A directory tshark (uid 65534) may write into.
mkd() {
    mkdir -p "$@"
    chmod 0777 "$@"
}
tshark_u() {
    "${AS_USER[@]}" env HOME="$T" tshark "$@"
}
# Exactly our copy must be loaded: an installed rtpproc.so in the global
# folder would be found first and shadow the build under test.
tshark_u -G plugins >"$T/plugins.txt" 2>"$T/plugins.err" || fail "tshark -G plugins failed"
loaded=$(awk -F'\t' '$1 ~ /^rtpproc\.so/ { print $4 }' "$T/plugins.txt")
[ "$loaded" = "$PLUGDIR/rtpproc.so" ] ||
    fail "tshark loads rtpproc.so from '$loaded', not from $PLUGDIR (an installed copy shadows the build?)"
cd "$T"
