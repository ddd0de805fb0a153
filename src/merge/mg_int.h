/* mg_int.h: what the two halves of merge/ share: the inputs' manifests
 * (mg_manifest.c reads, checks and combines them) and the counts the results
 * join (merge.c) hands to the merged manifest. Not a public interface.
 */
#ifndef SE_MG_INT_H
#define SE_MG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "manifest/manifest.h"

struct cJSON;

/* One input folder. The strings point into man, which the input owns. */
struct mg_input {
	const char *dir; /* as given */
	char *manifest_path;
	char *results_path;
	struct cJSON *man;
	const char *eval;
	const char *config_sha256;
	const char *dataset_sha256;
	const char *status;   /* NULL when absent */
	const char *shard;    /* "K/N", or NULL when unsharded */
	const char *shard_by; /* "hash" | "index" (with shard only) */
	long shard_k, shard_n;
};

/* Status counts of the merged lines, in order of first appearance (seeded
 * with the first manifest's by_status keys, so zero counts stay listed). */
struct mg_counts {
	struct man_status_count *st;
	char **names; /* owned copies behind st[i].name */
	size_t n, cap;
};

void mg_counts_init(struct mg_counts *c);
void mg_counts_free(struct mg_counts *c);
void mg_counts_add(struct mg_counts *c, const char *status, size_t k);

/* Reads every input's manifest.json and checks them against the first (eval,
 * config_sha256, dataset_sha256) and against each other (shards); seeds
 * counts. Fills *missing with the number of shards no input holds and appends
 * them ("2/4, 3/4") to missing_list. */
int mg_inputs_load(struct mg_input *in, size_t n, struct mg_counts *counts, size_t *missing,
		   struct buf *missing_list, struct se_err *err);
void mg_inputs_free(struct mg_input *in, size_t n);

/* Whether the merged inputs hold an item with this id. */
typedef bool (*mg_has_item_fn)(void *ctx, const char *id);

/* Counts the items of first's dataset for which has() is false and lists
 * their ids ("\"q03\", \"q07\", ..."; the first 20) in list. Returns 0, or
 * 1 when the dataset could not be read as the shards read it (why says
 * why; *missing is then 0). Never fails the merge. */
int mg_missing_items(const struct mg_input *first, mg_has_item_fn has, void *ctx, size_t *missing,
		     struct buf *list, struct buf *why);

/* Writes out/manifest.json with man_write: the inputs' shared fields, shard
 * null, summed work counts, the merged lines' status counts, the earliest
 * start and the latest end. */
/* missing_shards: "2/4, 3/4", or NULL when none is missing; missing_items:
 * the count mg_missing_items found, or -1 when it was not checked;
 * allow_partial: an incomplete set merged on purpose (--allow-partial). */
int mg_manifest_write(const char *out, const struct mg_input *in, size_t n,
		      const struct mg_counts *counts, size_t lines, const char *status,
		      const char *missing_shards, long missing_items, bool allow_partial,
		      struct se_err *err);

#endif
