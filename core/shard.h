/*
 * rtpproc - internal: the engine on several threads (cfg.threads > 1).
 *
 * Streams are sharded by a hash of their 5-tuple over N sub-engines, each
 * driven by a worker thread. Every packet of a 5-tuple goes to the same
 * sub-engine in feed order, so each stream sees exactly what it would see
 * alone: its idle timeout is checked against its own packets' times before
 * they are placed, and --per-direction files stay on one thread. What
 * every sub-engine must know is broadcast in order: the epoch, SIP/SDP
 * bindings, learned payload types, ticks. Datagrams travel in batches
 * (one lock per batch, copies into a fixed arena: no allocation per
 * packet); memory is bounded by RP_SHARD_BATCHES batches per worker.
 * Summaries are merged in the order the single-threaded engine gives them
 * (the datagram that validated each stream). Not installed.
 */
#ifndef RP_SHARD_H
#define RP_SHARD_H

#include "rtpproc/engine.h"

typedef struct rp_shards rp_shards;

/* N sub-engines (cfg copied, cfg->threads ignored) and their threads. */
rp_shards *rp_shards_new(const rtpproc_engine_config *cfg, unsigned n);
/* Stops the threads and frees the sub-engines (finish first). */
void rp_shards_free(rp_shards *p);

/* As the rtpproc_engine_* functions of the same names. `order` numbers the
 * datagram (1-based, feed order). The verdict is the dispatcher's: a
 * datagram that a bound (max streams) will drop is still RTPPROC_PKT_RTP. */
int rp_shards_feed(rp_shards *p, const rtpproc_datagram *d, uint64_t order);
void rp_shards_set_epoch(rp_shards *p, rtpproc_time_ns t);
void rp_shards_learn_sdp(rp_shards *p, const uint8_t *msg, size_t len);
void rp_shards_learn_pt(rp_shards *p, const rtpproc_addr *addr, uint16_t port, unsigned pt,
                        const char *name, uint32_t rate, unsigned channels, unsigned fmtp);
int rp_shards_tick(rp_shards *p, rtpproc_time_ns now);
int rp_shards_flush(rp_shards *p);
int rp_shards_finish(rp_shards *p);
const char *rp_shards_error(const rp_shards *p);
/* Counters summed over the sub-engines. */
void rp_shards_counters(rp_shards *p, rtpproc_engine_counters *out);
size_t rp_shards_open_streams(rp_shards *p);
/* Ended streams of every sub-engine, in validation order, indexed as the
 * single-threaded engine indexes them; lives as rtpproc_engine_summaries(). */
const rtpproc_stream_summary *rp_shards_summaries(rp_shards *p, size_t *n);
void rp_shards_release_summaries(rp_shards *p);

/*
 * engine.c: rtpproc_engine_feed_batch() for a sub-engine. The n datagrams
 * are `stride` bytes apart, as are their numbers in the whole feed
 * (summaries' validated_at) from `order` (NULL: numbered as
 * rtpproc_engine_feed numbers them), so that they can be fed where they
 * lie (the workers' operations). verdicts may be NULL. *done is how many
 * were fed before the one that failed (n if none): that one was fed too,
 * the ones after it are not.
 */
int rp_engine_feed_run(rtpproc_engine *e, const rtpproc_datagram *d, const uint64_t *order,
                       size_t stride, size_t n, int *verdicts, size_t *done);

#endif
