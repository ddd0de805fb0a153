/* merge.h: `shadoweval merge DIR... -o OUT`, the run folders of one eval run
 * in shards (or in partial copies) joined into one run folder.
 *
 * Every input is a run folder (manifest.json + results.jsonl) of the same eval
 * (same name, config_sha256 and dataset_sha256). OUT/results.jsonl holds every
 * input line byte for byte (never re-serialized), each (item_id, model) pair
 * once; OUT/manifest.json is written with the manifest module; the summaries
 * are then rebuilt by sum_run_dir, so a merged run summarizes exactly as a
 * single run holding the same lines. The rules are listed in merge.c.
 *
 * Not here: running anything, or changing the inputs (they are only read).
 */
#ifndef SE_MERGE_H
#define SE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

struct mg_opts {
	FILE *table; /* the summaries' tables, or NULL */
	FILE *warn;  /* warnings (torn lines, missing shards), or NULL */
	/* merge an incomplete shard set (shards or items missing) with a
	 * warning, rather than fail */
	bool allow_partial;
};

/* What a merge did. */
struct mg_report {
	size_t inputs;
	size_t lines;	      /* lines written to OUT/results.jsonl */
	size_t identical;     /* byte-identical duplicate lines dropped */
	size_t torn;	      /* torn last lines skipped */
	size_t missing;	      /* shards K of N that no input holds */
	size_t missing_items; /* dataset items no shard holds (0: none or unchecked) */
	bool complete;	      /* manifest status "complete" (else "incomplete") */
};

/* Merges dirs[0..n) into out (which must not exist, or be an empty folder).
 * On an input error nothing is left in out (a folder merge created is
 * removed); a failure while summarizing leaves results and manifest in out.
 * report may be NULL. */
int mg_merge(const char *const *dirs, size_t n, const char *out, const struct mg_opts *opts,
	     struct mg_report *report, struct se_err *err);

#endif
