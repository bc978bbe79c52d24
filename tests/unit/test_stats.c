/*
 * RFC 3550 A.1 sequence logic and probation, A.3 lost, A.8 jitter on a
 * hand-computed example.
 */
#include <math.h>

#include <CUnit/CUnit.h>

#include "rtpproc/stats.h"

CU_pSuite rtpproc_test_stats_suite(void);

static void test_stats_probation_needs_two_sequential(void)
{
    rtpproc_seq_state s;
    rtpproc_seq_init(&s, 100);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 100), 0); /* first packet: probation 1 */
    CU_ASSERT_EQUAL(s.probation, 1);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 101), 1); /* second sequential: valid */
    CU_ASSERT_EQUAL(s.probation, 0);
    CU_ASSERT_EQUAL(s.base_seq, 101);

    /* a non-sequential second packet restarts probation */
    rtpproc_seq_init(&s, 100);
    rtpproc_seq_update(&s, 100);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 300), 0);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 301), 1);
}

static void test_stats_rebase_keeps_probation_packets(void)
{
    rtpproc_seq_state s;
    rtpproc_seq_init(&s, 500);
    rtpproc_seq_update(&s, 500);
    rtpproc_seq_update(&s, 501);
    rtpproc_seq_rebase(&s, 500, 2);
    CU_ASSERT_EQUAL(rtpproc_seq_expected(&s), 2);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 0);

    /* probation across the wrap: 65535 then 0 */
    rtpproc_seq_init(&s, 65535);
    rtpproc_seq_update(&s, 65535);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 0), 1);
    rtpproc_seq_rebase(&s, 65535, 2);
    CU_ASSERT_EQUAL(rtpproc_seq_expected(&s), 2);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 1), 1);
    CU_ASSERT_EQUAL(rtpproc_seq_expected(&s), 3);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 0);
}

static void valid_source(rtpproc_seq_state *s, uint16_t first)
{
    rtpproc_seq_init(s, first);
    rtpproc_seq_update(s, first);
    rtpproc_seq_update(s, (uint16_t)(first + 1));
    rtpproc_seq_rebase(s, first, 2);
}

static void test_stats_wrap_counts_cycle(void)
{
    rtpproc_seq_state s;
    valid_source(&s, 65533); /* 65533, 65534 */
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 65535), 1);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 0), 1);
    CU_ASSERT_EQUAL(s.cycles, 65536u);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 1), 1);
    CU_ASSERT_EQUAL(rtpproc_seq_ext_max(&s), 65537u);
    CU_ASSERT_EQUAL(rtpproc_seq_expected(&s), 5);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 0);
}

static void test_stats_loss_and_duplicate(void)
{
    rtpproc_seq_state s;
    valid_source(&s, 10);       /* 10, 11 */
    rtpproc_seq_update(&s, 13); /* 12 lost */
    rtpproc_seq_update(&s, 14);
    CU_ASSERT_EQUAL(rtpproc_seq_expected(&s), 5);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 1);
    /* a duplicate counts as received (A.3: lost may go negative) */
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 14), 1);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 0);
    /* a late (reordered) packet keeps max_seq */
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 12), 1);
    CU_ASSERT_EQUAL(s.max_seq, 14);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), -1);
}

static void test_stats_large_jump_needs_confirmation(void)
{
    rtpproc_seq_state s;
    valid_source(&s, 1000);
    /* a jump of 20000: A.1 rejects it once, then re-syncs on the next */
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 21000), 0);
    CU_ASSERT_EQUAL(s.max_seq, 1001);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 21001), 1);
    CU_ASSERT_EQUAL(s.base_seq, 21001u);
    CU_ASSERT_EQUAL(s.max_seq, 21001);
    CU_ASSERT_EQUAL(s.received, 1u);
    /* a lone jump followed by in-order packets is just dropped */
    valid_source(&s, 1000);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 30000), 0);
    CU_ASSERT_EQUAL(rtpproc_seq_update(&s, 1002), 1);
    CU_ASSERT_EQUAL(rtpproc_seq_lost(&s), 0);
}

static void test_stats_jitter_hand_computed(void)
{
    /* 8 kHz clock, 160 ts units (20 ms) per packet. Arrivals at 0, 20, 45,
     * 60 ms. D = arrival step (ts units) - 160:
     *   p2: 160-160 = 0     J = 0
     *   p3: 200-160 = 40    J = 0 + (40-0)/16 = 2.5
     *   p4: 120-160 = -40   J = 2.5 + (40-2.5)/16 = 4.84375
     * In ms (/8): 0.3125 and 0.60546875. */
    rtpproc_jitter_state j;
    rtpproc_jitter_init(&j);
    const int64_t ms = 1000000;
    rtpproc_jitter_update(&j, 1000 * ms, 1000, 8000);
    rtpproc_jitter_update(&j, 1020 * ms, 1160, 8000);
    CU_ASSERT_DOUBLE_EQUAL(j.jitter, 0.0, 1e-9);
    rtpproc_jitter_update(&j, 1045 * ms, 1320, 8000);
    CU_ASSERT_DOUBLE_EQUAL(j.jitter, 2.5, 1e-9);
    rtpproc_jitter_update(&j, 1060 * ms, 1480, 8000);
    CU_ASSERT_DOUBLE_EQUAL(j.jitter, 4.84375, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(rtpproc_jitter_ms(&j), 0.60546875, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(j.max_jitter_ms, 0.60546875, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(rtpproc_jitter_mean_ms(&j), (0.0 + 0.3125 + 0.60546875) / 3, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(j.max_delta_ms, 25.0, 1e-9);
}

static void test_stats_jitter_across_ts_wrap_and_events(void)
{
    rtpproc_jitter_state j;
    rtpproc_jitter_init(&j);
    const int64_t ms = 1000000;
    /* perfectly paced across the 2^32 wrap: J stays 0 */
    rtpproc_jitter_update(&j, 0, 0xFFFFFF60u, 8000);
    rtpproc_jitter_update(&j, 20 * ms, 0x00000000u, 8000);
    rtpproc_jitter_update(&j, 40 * ms, 0x000000A0u, 8000);
    CU_ASSERT_DOUBLE_EQUAL(j.jitter, 0.0, 1e-9);
    /* an event packet (clock 0) in between changes only the delta */
    rtpproc_jitter_update(&j, 50 * ms, 0x12345678u, 0);
    rtpproc_jitter_update(&j, 60 * ms, 0x00000140u, 8000);
    CU_ASSERT_DOUBLE_EQUAL(j.jitter, 0.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(j.max_delta_ms, 20.0, 1e-9);
}

CU_pSuite rtpproc_test_stats_suite(void)
{
    CU_pSuite s = CU_add_suite("stats", NULL, NULL);
    if (s == NULL)
        return NULL;
    if (!CU_add_test(s, "probation needs two sequential packets",
                     test_stats_probation_needs_two_sequential) ||
        !CU_add_test(s, "rebase keeps the probation packets",
                     test_stats_rebase_keeps_probation_packets) ||
        !CU_add_test(s, "sequence wrap counts a cycle", test_stats_wrap_counts_cycle) ||
        !CU_add_test(s, "loss, duplicate and late packets", test_stats_loss_and_duplicate) ||
        !CU_add_test(s, "a large jump needs confirmation",
                     test_stats_large_jump_needs_confirmation) ||
        !CU_add_test(s, "A.8 jitter, hand-computed", test_stats_jitter_hand_computed) ||
        !CU_add_test(s, "jitter across ts wrap and events",
                     test_stats_jitter_across_ts_wrap_and_events))
        return NULL;
    return s;
}
