/* scope.h: the items a run covers, read from its dataset: those of its
 * shard (`--shard K/N`, shard.h), the first `--limit` of them.
 *
 * One rule for the two readers of a run's scope: the engine's admission
 * (engine/engine.c) and `run --resume`'s check that an earlier line is the
 * run's own (cli/cmd_run.c). The limit counts in-scope items, so
 * `--shard 2/4 --limit 10` is the first 10 items of shard 2.
 */
#ifndef SE_SHARD_SCOPE_H
#define SE_SHARD_SCOPE_H

#include <stddef.h>

#include "core/err.h"
#include "dataset/dataset.h"
#include "shard/shard.h"

struct shd_scope {
	enum shd_scheme by;
	long k, n;    /* 1-based shard of n; n = 0: every item */
	long limit;   /* in-scope items at most; < 0: no limit */
	size_t taken; /* in-scope items returned so far */
};

/* A scope of shard k of n (n = 0: none) and limit (< 0: none). */
struct shd_scope shd_scope_make(enum shd_scheme by, long k, long n, long limit);

/* The next in-scope item of rd into it: 1, 0 at the end of the dataset or
 * of the limit, -1 with err (the reader's error). */
int shd_scope_next(struct shd_scope *sc, struct ds_reader *rd, struct ds_item *it,
		   struct se_err *err);

#endif
