/* sw_int.h: the sweep room's insides, shared by its .c files only.
 *
 * sw_store.c: manifest.json + results.jsonl -> one compact cell per (item,
 * slot model), items in a canonical order (by id) so that every figure is
 * summed in the same order whatever the line order of results.jsonl.
 * sweep.c: policies, their figures, the frontier, the recommendation.
 * sw_out.c: sweep.csv, pareto.csv, the stdout table and the routing block.
 *
 * Memory: 16 bytes per (item, slot model) plus one id per item; while
 * policies are evaluated, one latency (float) per (item, slot) per partition.
 */
#ifndef SE_SW_INT_H
#define SE_SW_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strtab.h"
#include "sweep/sweep.h"

#define SW_MAX_SLOTS 64
#define SW_NONE UINT32_MAX
#define SW_NO_SLOT UINT8_MAX

/* One item's answer from one model. */
struct sw_cell {
	double cost;  /* NAN: unknown */
	float lat;    /* NAN: unknown */
	uint8_t have; /* 0 no result, 1 shadow row, 2 primary row */
	bool pass;
};

struct sw_store {
	char *manifest_path, *results_path;
	/* manifest */
	char **slot_name, **slot_model;
	size_t nslots;
	uint8_t *slot_col; /* slot -> column (distinct model) */
	char **col_model;
	size_t ncols;
	char *config_path; /* as recorded, or NULL */
	char config_sha[65];
	/* items, by first appearance */
	struct strtab ids, tasks; /* task "" is "no task" */
	long *est;		  /* -1: unknown */
	uint32_t *task;		  /* index into tasks, SW_NONE: not seen yet */
	uint8_t *cur;		  /* the slot the run routed it to, SW_NO_SLOT: unknown */
	uint32_t *primary_line;	  /* its primary line's number, 0: none yet */
	struct sw_cell *cells;	  /* [item * ncols + col] */
	size_t item_cap;
	size_t lines, torn, ignored;
	/* after sw_store_finish */
	uint32_t *order; /* the complete items, sorted by id */
	size_t ncomplete, nskipped;
	char **task_sorted;  /* task names by name (points into tasks) */
	uint32_t *task_rank; /* task index -> rank */
	size_t ntasks;	     /* over complete items' tasks, all of them ranked */
};

void sw_store_init(struct sw_store *s);
void sw_store_free(struct sw_store *s);
/* Reads dir/manifest.json (slots) and dir/results.jsonl. */
int sw_store_load(struct sw_store *s, const char *dir, struct se_err *err);
/* Orders the items; an item is complete when it has an estimate, a current
 * slot and a result from the model of each slot in `used` (and of its current
 * slot). */
int sw_store_finish(struct sw_store *s, const bool *used, struct se_err *err);

static inline const struct sw_cell *sw_cell(const struct sw_store *s, uint32_t item, size_t slot)
{
	return &s->cells[(size_t)item * s->ncols + s->slot_col[slot]];
}

enum sw_kind { SW_CURRENT, SW_SINGLE, SW_COMPLEXITY, SW_TASK_MAP };
extern const char *const sw_kind_names[];

struct sw_policy {
	int id;
	enum sw_kind kind;
	/* single: band_slot[0]; complexity: nbands 2 or 3 */
	int nbands;
	uint8_t band_slot[3];
	long thr[2];
	uint8_t *task_slot; /* task map: per task rank (owned) */
	/* figures */
	long n, passed;
	double cost_1k;	 /* NAN when every cost is unknown */
	double cost_key; /* cost_1k rounded to 10 significant digits */
	double lo, hi, p50, p95;
	bool on_frontier;
	char *desc; /* owned */
};

struct sw_run {
	const struct sw_store *s;
	const struct sw_opts *o;
	uint8_t *order; /* used slots, cheapest first */
	size_t norder;
	long *cur_thr; /* the current config's thresholds, when it could be read */
	size_t n_cur_thr;
	int grid_step; /* percent step of the est_tokens grid */
	bool complexity_truncated, task_greedy;
	struct sw_policy *p;
	size_t np, cap;
	size_t count[4]; /* per kind */
	int rec;	 /* index of the recommended policy, -1 none */
	const char *rec_rule;
};

/* Figures of one policy on some items. */
struct sw_eval {
	long n, passed, unknown;
	double cost_1k; /* NAN: no known cost */
};

/* The honest side of a sweep (sweep.c): upper bound, AIQ, out-of-sample. */
struct sw_honest {
	struct sw_eval oracle;
	double aiq;   /* NAN: no policy with a known cost */
	double *hull; /* (cost_1k, pass rate) pairs, owned */
	size_t nhull;
	size_t holdout_choose, holdout_report;
	bool holdout_has;
	struct sw_eval holdout_in, holdout_out;
	char *holdout_desc;   /* owned */
	struct sw_eval folds; /* summed over the folds' held-out items */
	size_t folds_used, folds_without;
};

/* FNV-1a 64 of an item id, and that hash mixed (fmix64) into [0, 1): the
 * deterministic split of --holdout (held out when < F) and --folds (fold
 * floor(u K)). */
uint64_t sw_hash_id(const char *id);
double sw_split_unit(const char *id);
/* RouterBench's AIQ of n (cost, quality) points (NAN ones skipped): the area
 * under the non-decreasing upper concave hull from the least to the largest
 * cost (flat past the best point), over that cost range. The hull's points go
 * to hull[2 * i], hull[2 * i + 1] (room for 2n doubles). NAN when no point. */
double sw_aiq(const double *cost, const double *quality, size_t n, double *hull, size_t *nhull);

/* sw_out.c; sw_write_csvs writes sweep.csv, pareto.csv and recommended.json. */
int sw_write_csvs(const struct sw_run *r, const char *dir, struct se_err *err);
void sw_print(const struct sw_run *r, const char *dir, FILE *out);
/* The routing object for policy p (config syntax), pretty-printed. */
void sw_routing_json(const struct sw_run *r, const struct sw_policy *p, struct buf *b);

#endif
