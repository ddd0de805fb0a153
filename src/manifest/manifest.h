/* manifest.h: a run folder's manifest.json, the run's identity card.
 *
 * Written by `run` at the start (status "running") and at the end
 * ("complete", "interrupted", "stopped_by_budget"), always atomically (temp
 * file + rename), so a crash leaves the previous version. It records what was
 * run (tool and version, eval name, config and dataset paths and their
 * SHA-256, slots, shadows, endpoint URLs, shard with its scheme and limits,
 * limit, concurrency, cache mode) and how it
 * went (times and counts). It never holds keys or headers: --resume compares
 * the hashes, nothing else needs secrets.
 *
 * Not here: deciding what the counts are (the engine) or reading results.
 */
#ifndef SE_MANIFEST_H
#define SE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cfg;
struct cJSON;

struct man_status_count {
	const char *name;
	size_t n;
};

struct man_info {
	const struct cfg *cfg; /* name, path, sha256, slots, shadows */
	const char *dataset_path;
	const char *dataset_sha256;
	const char *status; /* running | complete | interrupted | stopped_by_budget |
			       stopped_when_decided | failed */
	char started_at[32];
	char ended_at[32]; /* "" while running: written as null */
	const char *shard; /* "K/N" or NULL */
	/* with shard only: "hash" | "index", "split" | "whole"; the endpoints'
	 * rpm and max_concurrency are then written as this shard applies them */
	const char *shard_by;
	const char *shard_limits;
	long limit; /* -1: null */
	int concurrency;
	const char *cache_mode;
	size_t items;
	size_t items_not_run;
	size_t requests;
	size_t results_written;
	const struct man_status_count *by_status; /* n_status entries */
	size_t n_status;
	double spent_usd;
	/* merge only: the run folders joined (as given), and the shards absent
	 * from them ("2/4, 3/4"); not written when NULL / 0 */
	const char *const *merged_from;
	size_t n_merged_from;
	const char *missing_shards;
	/* merge of shards only: dataset items no input holds; written when > 0
	 * (0: none, or not checked) */
	long missing_items;
	/* merge --allow-partial of an incomplete shard set: written as
	 * "allow_partial": true (not written otherwise) */
	bool allow_partial;
	/* run --stop-when-decided: the "stopping" object (JSON text from
	 * engine/stop.h), or NULL */
	const char *stopping_json;
};

/* Writes dir/manifest.json atomically. */
int man_write(const char *dir, const struct man_info *m, struct se_err *err);

/* What --resume needs from an existing manifest. */
struct man_read {
	char config_sha256[65];
	char dataset_sha256[65];
	char started_at[32];
};

/* Reads dir/manifest.json (man_load); SE_INPUT naming the file when missing
 * or bad. */
int man_read(const char *dir, struct man_read *out, struct se_err *err);

/* The largest count (and USD amount) a manifest may hold: 2^53, beyond which
 * a JSON number no longer counts by one. */
#define MAN_COUNT_MAX 9007199254740992.0

/* The statuses a manifest may record (NULL-terminated): man_info's, and
 * merge's "incomplete". */
extern const char *const man_statuses[];

/* The rules every reader of a manifest applies (merge, report, gate, diff,
 * run --resume), in man_check.c: each field present is what man_write writes
 * (absent fields are fine: older manifests lack some). Counts (counts.items,
 * items_not_run, requests, results_written, by_status.*, missing_items,
 * limit, endpoint_limits.*) whole numbers from 0 to 2^53, counts.spent_usd
 * finite from 0 to 2^53, concurrency whole from 0 to 10^9, strings where
 * strings are written, status one of man_statuses, shard "K/N" with
 * 1 <= K <= N or null, shard_by "hash" | "index", shadows "all-slots" or an
 * array of strings, no key twice. SE_INPUT at "<path>: <json.path>" naming
 * what was found. */
int man_check(const struct cJSON *o, const char *path, struct se_err *err);
/* dir/manifest.json parsed and checked (man_check), or NULL with err set
 * (missing, not JSON, or breaking a rule). The caller cJSON_Deletes it. */
struct cJSON *man_load(const char *dir, struct se_err *err);

/* --resume: the flags that decide which requests a run sends (--shard,
 * --shard-by, --limit, each endpoint's URL after --endpoint) must be those of the run
 * recorded in dir/manifest.json, or the folder would hold two runs that
 * merge and summarize cannot tell apart. SE_USAGE naming the flag and both
 * values; a manifest older than the endpoint URLs is not checked for them. */
int man_check_same_run(const char *dir, const struct man_info *now, struct se_err *err);

/* --resume: the --set/--routing overrides (cfg->overrides) must be those
 * recorded in dir/manifest.json ("overrides"; none when absent). SE_USAGE
 * naming both lists. */
int man_check_same_overrides(const char *dir, const struct cfg *cfg, struct se_err *err);

#endif
