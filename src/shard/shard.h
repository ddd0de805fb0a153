/* shard.h: which shard an item belongs to, and what a shard may spend.
 *
 * `run --shard K/N` keeps the items of shard K; two schemes decide it:
 * - hash (the default): K-1 = (the first 8 bytes of SHA-256(item id), read
 *   big-endian) mod N. An item's shard depends on its id alone, so
 *   appending, inserting or removing items moves none of the others, and any
 *   tool can recompute it;
 * - index: K-1 = (0-based item index) mod N, the scheme before hashing
 *   (inserting one item moves every later one).
 * `--shard-limits split` (the default) gives each shard 1/N of every
 * endpoint's rpm and max_concurrency (shd_split), so N shards together stay
 * within the provider's limits; `whole` leaves them as configured (shards
 * with keys of their own).
 *
 * Pure functions, no state; a run's scope over its dataset (its shard and
 * --limit) is scope.h. Not here: checking merged shards (merge/).
 */
#ifndef SE_SHARD_H
#define SE_SHARD_H

#include <stddef.h>

struct cfg;

/* The largest N accepted: more shards than this is not a real run. */
#define SHD_MAX_N 1000000L

enum shd_scheme { SHD_HASH = 0, SHD_INDEX };
enum shd_limits { SHD_SPLIT = 0, SHD_WHOLE };

/* "hash" / "index"; 0, or -1 for anything else. */
int shd_scheme_parse(const char *s, enum shd_scheme *out);
const char *shd_scheme_name(enum shd_scheme s);
/* "split" / "whole"; 0, or -1 for anything else. */
int shd_limits_parse(const char *s, enum shd_limits *out);
const char *shd_limits_name(enum shd_limits l);

/* "K/N" with 1 <= K <= N <= SHD_MAX_N, digits only; 0, or -1. */
int shd_parse(const char *s, long *k, long *n);

/* The 1-based shard (of n >= 1) of the item with this id and 0-based index. */
long shd_of(enum shd_scheme s, const char *id, size_t index, long n);

/* A per-endpoint limit (rpm or max_concurrency) for one of n shards: 0
 * (unlimited) stays 0; else limit / n rounded down, and never below 1 (so
 * with more shards than the limit, the shards together may pass it by up to
 * n - limit). */
int shd_split(int limit, long n);

/* --shard-limits split: every endpoint's rpm and max_concurrency of cfg
 * through shd_split for n shards (nothing when n <= 1). */
void shd_split_limits(struct cfg *cfg, long n);

#endif
