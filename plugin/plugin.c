/*
 * rtpproc - Wireshark plug-in ABI glue, and nothing else.
 *
 * Wireshark 4.0's loader (wsutil/plugins.c) opens every ".so" module in
 * the epan folder of its plug-in directories, checks the data symbols
 * plugin_version, plugin_want_major and plugin_want_minor (which must equal
 * the running Wireshark's major and minor version), then calls
 * plugin_register(). A tap plug-in hands a tap_plugin to
 * tap_register_plugin(); Wireshark calls its register_tap_listener function
 * later, from register_all_tap_listeners(). 4.0 has no plugin_describe()
 * (later releases added it), so none is exported. Everything
 * version-dependent belongs in this file; the logic is in tap.c.
 */
#define WS_BUILD_DLL
#include <wireshark.h>

#include <epan/tap.h>

#include "tap.h"

#ifndef RTPPROC_VERSION
#define RTPPROC_VERSION "0.0.0"
#endif

WS_DLL_PUBLIC_DEF const char plugin_version[] = RTPPROC_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);

void plugin_register(void)
{
    /* Wireshark keeps the pointer: static storage. */
    static tap_plugin plug = {.register_tap_listener = rp_tap_register};

    tap_register_plugin(&plug);
}
