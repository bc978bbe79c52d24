/*
 * Unit tests for core/options.c: every option name with valid and invalid
 * values and the exact messages, the plug-in's "a=b,c=d" lists, durations.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "rtpproc/options.h"

#define ERRLEN 256

/* Sets one option expecting success; the message buffer must stay untouched. */
static void expect_ok(rtpproc_options *o, const char *name, const char *value)
{
    char err[ERRLEN] = "untouched";

    CU_ASSERT_EQUAL(rtpproc_options_set(o, name, value, err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(err, "untouched");
}

/* Sets one option expecting RTPPROC_EINVAL with exactly `msg`. */
static void expect_error(rtpproc_options *o, const char *name, const char *value, const char *msg)
{
    char err[ERRLEN] = "";

    CU_ASSERT_EQUAL(rtpproc_options_set(o, name, value, err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, msg);
}

static void test_options_init_gives_engine_defaults(void)
{
    rtpproc_options o;
    rtpproc_engine_config cfg;

    memset(&o, 0xa5, sizeof(o)); /* init must not rely on zeroed memory */
    rtpproc_options_init(&o);
    rtpproc_engine_config_init(&cfg);
    CU_ASSERT_PTR_NULL(o.out_dir);
    CU_ASSERT_PTR_NULL(o.json_path);
    CU_ASSERT_FALSE(o.force);
    CU_ASSERT_FALSE(o.no_audio);
    CU_ASSERT_FALSE(o.sync_writes); /* the writer thread by default */
    CU_ASSERT_EQUAL(o.engine.idle_timeout, 5 * RTPPROC_NS_PER_SEC);
    CU_ASSERT_EQUAL(o.engine.idle_timeout, cfg.idle_timeout);
    CU_ASSERT_FALSE(o.engine.ssrc_filter_set);
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_NONE);
    CU_ASSERT_EQUAL(o.engine.max_streams, cfg.max_streams);
    CU_ASSERT_PTR_NULL(o.engine.sink_open);
    for (unsigned pt = 0; pt < 128; pt++)
        CU_ASSERT_FALSE(o.engine.ptmap.set[pt]);
    rtpproc_options_clear(&o);
}

static void test_options_timeout_accepts_durations(void)
{
    static const struct {
        const char *text;
        rtpproc_time_ns ns;
    } cases[] = {
        {"5", 5000000000LL},       {"5s", 5000000000LL}, {"250ms", 250000000LL},
        {"1.5", 1500000000LL},     {"0.02", 20000000LL}, {"1.5ms", 1500000LL},
        {"3600", 3600000000000LL}, {"0.000000001", 1LL},
    };
    rtpproc_options o;

    rtpproc_options_init(&o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_ok(&o, "timeout", cases[i].text);
        CU_ASSERT_EQUAL(o.engine.idle_timeout, cases[i].ns);
    }
    rtpproc_options_clear(&o);
}

static void test_options_timeout_rejects_bad_values(void)
{
    static const char *const bad[] = {"-1", "0",  "0ms", "0.0", "abc", "5 s", "1.",
                                      ".5", "5m", "1e3", "+5",  " 5",  "5s ", "0.0000000001"};
    rtpproc_options o;
    char msg[2 * ERRLEN];

    rtpproc_options_init(&o);
    expect_ok(&o, "timeout", "7");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(msg, sizeof(msg),
                 "invalid timeout '%s': expected a positive duration such as 5, 1.5, 5s or 250ms",
                 bad[i]);
        expect_error(&o, "timeout", bad[i], msg);
        /* A rejected value leaves the previous one in place. */
        CU_ASSERT_EQUAL(o.engine.idle_timeout, 7 * RTPPROC_NS_PER_SEC);
    }
    expect_error(&o, "timeout", NULL, "option 'timeout' needs a value");
    expect_error(&o, "timeout", "", "option 'timeout' needs a value");
    rtpproc_options_clear(&o);
}

static void test_options_ssrc_accepts_hex_and_decimal(void)
{
    static const struct {
        const char *text;
        uint32_t ssrc;
    } cases[] = {
        {"0x1234", 0x1234},          {"0XDEADBEEF", 0xDEADBEEF},
        {"0xdeadbeef", 0xDEADBEEF},  {"0x00000001", 1},
        {"4294967295", 4294967295u}, {"0", 0},
        {"0x0000000000ff", 0xff},    {"1234", 1234},
    };
    rtpproc_options o;

    rtpproc_options_init(&o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o.engine.ssrc_filter_set = false;
        expect_ok(&o, "ssrc", cases[i].text);
        CU_ASSERT_TRUE(o.engine.ssrc_filter_set);
        CU_ASSERT_EQUAL(o.engine.ssrc_filter, cases[i].ssrc);
    }
    rtpproc_options_clear(&o);
}

static void test_options_ssrc_rejects_out_of_range_and_junk(void)
{
    static const char *const bad[] = {
        "0x100000000", "4294967296",           "-1",      "0x", "12ab", " 1", "0xg1", "1 ",
        "x12",         "99999999999999999999", "deadbeef"};
    rtpproc_options o;
    char msg[2 * ERRLEN];

    rtpproc_options_init(&o);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(msg, sizeof(msg),
                 "invalid ssrc '%s': expected a 32-bit number, decimal or hex with 0x", bad[i]);
        expect_error(&o, "ssrc", bad[i], msg);
        CU_ASSERT_FALSE(o.engine.ssrc_filter_set);
    }
    expect_error(&o, "ssrc", NULL, "option 'ssrc' needs a value");
    rtpproc_options_clear(&o);
}

static void test_options_encoding_names(void)
{
    rtpproc_options o;

    rtpproc_options_init(&o);
    expect_ok(&o, "encoding", "alaw");
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_ALAW);
    expect_ok(&o, "encoding", "ulaw");
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_ULAW);
    expect_ok(&o, "encoding", "pcm16");
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_NONE);
    expect_ok(&o, "encoding", "ALaw");
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_ALAW);
    expect_error(&o, "encoding", "mp3", "invalid encoding 'mp3': expected pcm16, alaw or ulaw");
    expect_error(&o, "encoding", "pcm", "invalid encoding 'pcm': expected pcm16, alaw or ulaw");
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_ALAW);
    expect_error(&o, "encoding", "", "option 'encoding' needs a value");
    rtpproc_options_clear(&o);
}

static void test_options_pt_map_adds_up_and_fails_atomically(void)
{
    rtpproc_options o;
    rtpproc_ptmap scratch;
    char reason[ERRLEN] = "", msg[2 * ERRLEN];

    rtpproc_options_init(&o);
    expect_ok(&o, "pt-map", "96=L16/16000/2");
    CU_ASSERT_TRUE(o.engine.ptmap.set[96]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o.engine.ptmap.spec[96].codec);
    CU_ASSERT_STRING_EQUAL(o.engine.ptmap.spec[96].codec->name, "L16");
    CU_ASSERT_EQUAL(o.engine.ptmap.spec[96].clock_rate, 16000);
    CU_ASSERT_EQUAL(o.engine.ptmap.spec[96].channels, 2);

    /* A second --pt-map adds to the first. */
    expect_ok(&o, "pt-map", "97=PCMU");
    CU_ASSERT_TRUE(o.engine.ptmap.set[96]);
    CU_ASSERT_TRUE(o.engine.ptmap.set[97]);
    CU_ASSERT_EQUAL(o.engine.ptmap.spec[97].clock_rate, 8000);

    /* The message is ours around the map parser's own reason. */
    rtpproc_ptmap_init(&scratch);
    CU_ASSERT_EQUAL(rtpproc_ptmap_parse(&scratch, "98=PCMA,99=nosuchcodec", reason, sizeof(reason)),
                    RTPPROC_EINVAL);
    CU_ASSERT(reason[0] != '\0');
    snprintf(msg, sizeof(msg), "invalid pt-map '98=PCMA,99=nosuchcodec': %s", reason);
    expect_error(&o, "pt-map", "98=PCMA,99=nosuchcodec", msg);
    /* All or nothing: the valid item before the bad one is not applied. */
    CU_ASSERT_FALSE(o.engine.ptmap.set[98]);
    CU_ASSERT_TRUE(o.engine.ptmap.set[96]);
    CU_ASSERT_TRUE(o.engine.ptmap.set[97]);
    expect_error(&o, "pt-map", NULL, "option 'pt-map' needs a value");
    rtpproc_options_clear(&o);
}

static void test_options_dir_and_json_are_copied(void)
{
    rtpproc_options o;
    char value[16];

    rtpproc_options_init(&o);
    strcpy(value, "out");
    expect_ok(&o, "dir", value);
    strcpy(value, "changed");
    CU_ASSERT_STRING_EQUAL(o.out_dir, "out");
    expect_ok(&o, "dir", "other/dir");
    CU_ASSERT_STRING_EQUAL(o.out_dir, "other/dir");
    expect_ok(&o, "json", "report.json");
    CU_ASSERT_STRING_EQUAL(o.json_path, "report.json");
    expect_ok(&o, "json", "-");
    CU_ASSERT_STRING_EQUAL(o.json_path, "-");
    expect_error(&o, "dir", "", "option 'dir' needs a value");
    expect_error(&o, "json", NULL, "option 'json' needs a value");
    CU_ASSERT_STRING_EQUAL(o.out_dir, "other/dir");
    rtpproc_options_clear(&o);
    CU_ASSERT_PTR_NULL(o.out_dir);
    CU_ASSERT_PTR_NULL(o.json_path);
    CU_ASSERT_EQUAL(o.engine.idle_timeout, 5 * RTPPROC_NS_PER_SEC);
}

static void test_options_flags_take_booleans(void)
{
    static const struct {
        const char *text;
        bool value;
    } cases[] = {
        {NULL, true},  {"1", true},   {"0", false}, {"true", true}, {"false", false},
        {"yes", true}, {"no", false}, {"on", true}, {"off", false}, {"TRUE", true},
    };
    rtpproc_options o;

    rtpproc_options_init(&o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o.force = !cases[i].value;
        expect_ok(&o, "force", cases[i].text);
        CU_ASSERT_EQUAL(o.force, cases[i].value);
        o.no_audio = !cases[i].value;
        expect_ok(&o, "no-audio", cases[i].text);
        CU_ASSERT_EQUAL(o.no_audio, cases[i].value);
        o.sync_writes = !cases[i].value;
        expect_ok(&o, "sync-writes", cases[i].text);
        CU_ASSERT_EQUAL(o.sync_writes, cases[i].value);
    }
    o.force = false;
    expect_error(&o, "force", "maybe",
                 "invalid force 'maybe': expected 1, 0, true, false, yes, no, on or off");
    expect_error(&o, "no-audio", "",
                 "invalid no-audio '': expected 1, 0, true, false, yes, no, on or off");
    CU_ASSERT_FALSE(o.force);
    rtpproc_options_clear(&o);
}

static void test_options_unknown_names(void)
{
    rtpproc_options o;

    rtpproc_options_init(&o);
    expect_error(&o, "bogus", "1", "unknown option 'bogus'");
    expect_error(&o, "--timeout", "5", "unknown option '--timeout'");
    expect_error(&o, "Timeout", "5", "unknown option 'Timeout'");
    expect_error(&o, "o", "dir", "unknown option 'o'");
    expect_error(&o, "", "x", "unknown option ''");
    expect_error(&o, NULL, "x", "unknown option ''");
    rtpproc_options_clear(&o);
}

static void test_options_messages_fit_small_buffers(void)
{
    rtpproc_options o;
    char small[8];

    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "bogus", "1", small, sizeof(small)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(small, "unknown");
    CU_ASSERT_EQUAL(rtpproc_options_set(&o, "timeout", "x", NULL, 0), RTPPROC_EINVAL);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "bogus", NULL, 0), RTPPROC_EINVAL);
    rtpproc_options_clear(&o);
}

static void test_options_parse_list_sets_every_item(void)
{
    rtpproc_options o;
    char err[ERRLEN] = "untouched";

    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o,
                                               "dir=out,timeout=3,ssrc=0x10,force,encoding=ulaw,"
                                               "json=r.json,no-audio=1,pt-map=96=L16/16000,"
                                               "pt-map=97=PCMA,sync-writes",
                                               err, sizeof(err)),
                    RTPPROC_OK);
    CU_ASSERT_STRING_EQUAL(err, "untouched");
    CU_ASSERT_STRING_EQUAL(o.out_dir, "out");
    CU_ASSERT_STRING_EQUAL(o.json_path, "r.json");
    CU_ASSERT_EQUAL(o.engine.idle_timeout, 3 * RTPPROC_NS_PER_SEC);
    CU_ASSERT_TRUE(o.engine.ssrc_filter_set);
    CU_ASSERT_EQUAL(o.engine.ssrc_filter, 0x10);
    CU_ASSERT_TRUE(o.force);
    CU_ASSERT_TRUE(o.no_audio);
    CU_ASSERT_TRUE(o.sync_writes);
    CU_ASSERT_EQUAL(o.engine.encoding, RTPPROC_NATIVE_ULAW);
    CU_ASSERT_TRUE(o.engine.ptmap.set[96]);
    CU_ASSERT_EQUAL(o.engine.ptmap.spec[96].clock_rate, 16000);
    CU_ASSERT_TRUE(o.engine.ptmap.set[97]);
    CU_ASSERT_FALSE(o.engine.ptmap.set[98]);
    rtpproc_options_clear(&o);
}

static void test_options_parse_list_errors(void)
{
    rtpproc_options o;
    char err[ERRLEN];

    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "", err, sizeof(err)), RTPPROC_OK);
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, NULL, err, sizeof(err)), RTPPROC_OK);

    /* Items before the bad one stay applied; the message names the bad one. */
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "timeout=2,bogus=1,force", err, sizeof(err)),
                    RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "unknown option 'bogus'");
    CU_ASSERT_EQUAL(o.engine.idle_timeout, 2 * RTPPROC_NS_PER_SEC);
    CU_ASSERT_FALSE(o.force);

    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "timeout=-1", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        err, "invalid timeout '-1': expected a positive duration such as 5, 1.5, 5s or 250ms");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "timeout", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "option 'timeout' needs a value");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "timeout=", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "option 'timeout' needs a value");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "force,,timeout=1", err, sizeof(err)),
                    RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "empty option in 'force,,timeout=1'");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "force,", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "empty option in 'force,'");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "=5", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "unknown option ''");
    CU_ASSERT_EQUAL(rtpproc_options_parse_list(&o, "ssrc=0x1=2", err, sizeof(err)), RTPPROC_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        err, "invalid ssrc '0x1=2': expected a 32-bit number, decimal or hex with 0x");
    rtpproc_options_clear(&o);
}

static void test_duration_grammar_and_limits(void)
{
    static const struct {
        const char *text;
        rtpproc_time_ns ns;
    } good[] = {
        {"0", 0},
        {"0s", 0},
        {"1", 1000000000LL},
        {"1.000000001", 1000000001LL},
        {"1.0000000019", 1000000001LL}, /* beyond the ns: truncated */
        {"0.5ms", 500000LL},
        {"1.0000019ms", 1000001LL},
        {"007", 7000000000LL},
        {"9223372036", 9223372036000000000LL},
        {"9223372036.854775807", INT64_MAX},
        {"9223372036854ms", 9223372036854000000LL},
    };
    static const char *const bad[] = {
        "",
        "s",
        "ms",
        ".",
        "1.",
        ".5",
        "-0",
        "+1",
        "1e3",
        "1 s",
        " 1",
        "1s ",
        "1sms",
        "1mss",
        "1S",
        "1,5",
        "0x10",
        "1h",
        "1us",
        "1ns",
        "9223372037",
        "9223372036.854775808",
        "99999999999999999999",
        "9223372036855ms",
    };
    rtpproc_time_ns ns;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ns = -1;
        CU_ASSERT_EQUAL(rtpproc_parse_duration(good[i].text, &ns), RTPPROC_OK);
        CU_ASSERT_EQUAL(ns, good[i].ns);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ns = 42;
        CU_ASSERT_EQUAL(rtpproc_parse_duration(bad[i], &ns), RTPPROC_EINVAL);
        CU_ASSERT_EQUAL(ns, 42);
    }
    CU_ASSERT_EQUAL(rtpproc_parse_duration(NULL, &ns), RTPPROC_EINVAL);
}

CU_pSuite rtpproc_test_options_suite(void);

static void test_options_timing_reorder_plc(void)
{
    rtpproc_options o;
    rtpproc_options_init(&o);
    CU_ASSERT_EQUAL(o.engine.timing, RTPPROC_TIMING_RTP);
    expect_ok(&o, "timing", "continuous");
    CU_ASSERT_EQUAL(o.engine.timing, RTPPROC_TIMING_CONTINUOUS);
    expect_ok(&o, "timing", "jitter");
    CU_ASSERT_EQUAL(o.engine.timing, RTPPROC_TIMING_JITTER);
    CU_ASSERT_EQUAL(o.engine.jitter_buffer, 50 * RTPPROC_NS_PER_MSEC);
    expect_ok(&o, "timing", "JITTER:20");
    CU_ASSERT_EQUAL(o.engine.jitter_buffer, 20 * RTPPROC_NS_PER_MSEC);
    expect_ok(&o, "timing", "rtp");
    CU_ASSERT_EQUAL(o.engine.timing, RTPPROC_TIMING_RTP);
    expect_error(
        &o, "timing", "jitter:",
        "invalid timing 'jitter:': expected jitter:MS with MS in whole milliseconds (0-100000)");
    expect_error(
        &o, "timing", "jitter:1.5",
        "invalid timing 'jitter:1.5': expected jitter:MS with MS in whole milliseconds (0-100000)");
    expect_error(&o, "timing", "jitterx",
                 "invalid timing 'jitterx': expected rtp, jitter, jitter:MS or continuous");

    expect_ok(&o, "reorder", "32");
    CU_ASSERT_EQUAL(o.engine.reorder_packets, 32);
    CU_ASSERT_EQUAL(o.engine.reorder_time, 100 * RTPPROC_NS_PER_MSEC);
    expect_ok(&o, "reorder", "250ms");
    CU_ASSERT_EQUAL(o.engine.reorder_packets, 32);
    CU_ASSERT_EQUAL(o.engine.reorder_time, 250 * RTPPROC_NS_PER_MSEC);
    expect_ok(&o, "reorder", "8/40ms");
    CU_ASSERT_EQUAL(o.engine.reorder_packets, 8);
    CU_ASSERT_EQUAL(o.engine.reorder_time, 40 * RTPPROC_NS_PER_MSEC);
    static const char *bad[] = {"0", "1025", "x", "8/", "/40ms", "8/11s", "-1", "8/40ms/2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[ERRLEN] = "";
        CU_ASSERT_EQUAL(rtpproc_options_set(&o, "reorder", bad[i], err, sizeof(err)),
                        RTPPROC_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected PACKETS (1-1024)"));
    }
    CU_ASSERT_EQUAL(o.engine.reorder_packets, 8);

    CU_ASSERT_FALSE(o.engine.plc);
    expect_ok(&o, "plc", NULL);
    CU_ASSERT_TRUE(o.engine.plc);
    expect_ok(&o, "plc", "off");
    CU_ASSERT_FALSE(o.engine.plc);
    rtpproc_options_clear(&o);
}

CU_pSuite rtpproc_test_options_suite(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"init gives the engine defaults", test_options_init_gives_engine_defaults},
        {"timeout accepts durations", test_options_timeout_accepts_durations},
        {"timeout rejects bad values", test_options_timeout_rejects_bad_values},
        {"ssrc accepts hex and decimal", test_options_ssrc_accepts_hex_and_decimal},
        {"ssrc rejects out of range and junk", test_options_ssrc_rejects_out_of_range_and_junk},
        {"encoding names", test_options_encoding_names},
        {"pt-map adds up and fails atomically", test_options_pt_map_adds_up_and_fails_atomically},
        {"dir and json are copied", test_options_dir_and_json_are_copied},
        {"flags take booleans", test_options_flags_take_booleans},
        {"unknown names", test_options_unknown_names},
        {"messages fit small buffers", test_options_messages_fit_small_buffers},
        {"parse_list sets every item", test_options_parse_list_sets_every_item},
        {"parse_list errors", test_options_parse_list_errors},
        {"duration grammar and limits", test_duration_grammar_and_limits},
        {"timing, reorder and plc", test_options_timing_reorder_plc},
    };
    CU_pSuite suite = CU_add_suite("options", NULL, NULL);

    if (suite == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
            return NULL;
    }
    return suite;
}
