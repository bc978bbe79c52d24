/*
 * rtpproc - the tshark tap (tap.c), as seen by the ABI glue (plugin.c).
 * Internal to the plug-in.
 */
#ifndef RP_PLUGIN_TAP_H
#define RP_PLUGIN_TAP_H

/*
 * Registers "-z rtpproc[,options]" with tshark (register_stat_tap_ui).
 * Called once by Wireshark through the tap_plugin of plugin_register().
 */
void rp_tap_register(void);

#endif
