/* diff.h: where two answers to the same items disagree: `shadoweval diff`,
 * the item-level changes of `diff --baseline`, and the report's "Where they
 * disagree" section.
 *
 * Two passes, so that memory does not follow the size of the outputs and the
 * lines of one item need not be adjacent in results.jsonl:
 *
 * 1. dif_index_load streams results.jsonl once through the results reader's
 *    fast pass (res_scan_fields: every field checked by res_scan's rules
 *    and messages, no parse tree) and keeps, per line, a 16-byte cell (byte
 *    offset, item, model, role, pass) and, per item, 24 bytes (id hash,
 *    item_index, task, slot).
 * 2. dif_select pairs an A line with a B line per item (a sort-free join:
 *    cells are grouped by item with a counting pass, or not at all when each
 *    item's lines are adjacent) and sorts the compared items into kinds,
 *    keeping only those to be printed; dif_line_load then reads one line
 *    back by its offset (pread) and parses it with the results reader.
 *
 * Items are ordered by item_index (then by first appearance). Pass is the
 * summaries' pass: status ok and the checks passed; errors count as failures.
 *
 * Ownership: a dif_index owns its tables and its file descriptor
 * (dif_index_free); a dif_sel owns its arrays (dif_sel_free); a dif_line owns
 * its text and parsed tree until the next dif_line_load or dif_line_free.
 */
#ifndef SE_DIFF_H
#define SE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strtab.h"
#include "results/results.h"

enum dif_role { DIF_ROLE_PRIMARY, DIF_ROLE_SHADOW, DIF_ROLE_FALLBACK };

#define DIF_F_PASS 1u /* status ok and the checks passed */
#define DIF_F_OK 2u   /* status ok */

struct dif_cell {
	uint64_t off; /* byte offset of the line in results.jsonl */
	uint32_t item;
	uint16_t model;
	uint8_t role;  /* enum dif_role */
	uint8_t flags; /* DIF_F_* */
};

struct dif_item {
	uint64_t hash; /* of the item id */
	int64_t index; /* item_index, -1 when absent */
	uint16_t task, slot;
};

/* While loading: the last few names interned into a table. */
#define DIF_RECENT 8 /* names remembered; a power of two */
struct dif_recent {
	uint16_t name[DIF_RECENT];
	unsigned next;
};

struct dif_index {
	char *path;
	int fd;
	struct strtab models, tasks, slots;
	struct dif_item *items;
	size_t nitems, items_cap;
	uint64_t *htab;	    /* hash's high half | item number + 1; 0 empty */
	size_t hsize, hcap; /* entries used (a power of two), allocated */
	struct dif_cell *cells;
	size_t ncells, cells_cap;
	uint32_t *first; /* item -> first position in idx; nitems + 1 entries */
	uint32_t *idx;	 /* cell numbers grouped by item; NULL: the cells' order is
			  * grouped already (dif_cell_at) */
	uint32_t *order; /* items sorted by item_index, then first appearance */
	size_t first_cap, idx_cap, order_cap; /* allocated (dif_arr_grow) */
	size_t lines, torn;
	size_t recent[DIF_RECENT];     /* while loading: models of recent lines */
	size_t recent_len[DIF_RECENT]; /* their names' lengths */
	struct buf last_id;	       /* while loading: the item id of the last line */
	struct dif_recent recent_task, recent_slot;
	unsigned recent_next;
	struct se_err *load_err; /* while loading */
	uint32_t last_item;	 /* while loading: the item of the last line */
};

/* dif_arr.c: the index's large arrays: at least `need` elements of `size`
 * bytes, the new ones zero; *cap: how many fit. Aborts when out of memory,
 * as xgrow does. Freed by dif_arr_free with the same cap and size. */
void *dif_arr_grow(void *p, size_t *cap, size_t need, size_t size);
void dif_arr_free(void *p, size_t cap, size_t size);

/* The cell at position i of the grouping by item (first[item] to
 * first[item + 1]). */
static inline uint32_t dif_cell_at(const struct dif_index *x, size_t i)
{
	return x->idx ? x->idx[i] : (uint32_t)i;
}

/* Reads path (a results.jsonl) into x. Errors name file:line. */
int dif_index_load(struct dif_index *x, const char *path, struct se_err *err);
void dif_index_free(struct dif_index *x);
/* The item whose id has this hash64, or -1. */
long dif_item_find(const struct dif_index *x, uint64_t hash);
/* The model's number, or -1 when no line names it. */
long dif_model_find(const struct dif_index *x, const char *name);
/* Whether any line of the model has the role shadow (the default Bs). */
bool dif_model_is_shadow(const struct dif_index *x, size_t model);

/* Which line answers for a side of a comparison. */
#define DIF_A_PRIMARY (-1) /* the item's primary line (the routed model) */
#define DIF_A_POLICY (-2)  /* what production served: an ok fallback when the primary failed */

enum dif_kind { DIF_A_BETTER, DIF_B_BETTER, DIF_BOTH_PASS, DIF_NEITHER, DIF_NKINDS };
extern const char *const dif_kind_names[DIF_NKINDS]; /* "a-better", ... */

struct dif_spec {
	long a;		     /* a model number, DIF_A_PRIMARY or DIF_A_POLICY */
	long b;		     /* a model number: its shadow line when a is not a model, else its
			      * answer (primary, else shadow, else fallback line) */
	long task;	     /* a task number, or -1 for all */
	long slot;	     /* a slot number, or -1 for all */
	const void *grep;    /* NULL, or a compiled 8-bit pcre2_code: only items whose
			      * id or either output matches */
	size_t keep;	     /* 0: every hit is kept; else the first `keep` of each kind */
	unsigned count_only; /* kinds (bit 1u << kind) only counted, none kept */
};

struct dif_hit {
	uint32_t item, a, b; /* item number, A's and B's cells */
};

struct dif_sel {
	struct dif_hit *hit[DIF_NKINDS]; /* hit[k][0, kept[k]): the first, in item order */
	size_t n[DIF_NKINDS];		 /* counted */
	size_t kept[DIF_NKINDS], cap[DIF_NKINDS];
	size_t compared;
};

/* Pairs the lines of spec and sorts the compared items into kinds, each in
 * item order. With a grep pattern, lines are read back to match. */
int dif_select(const struct dif_index *x, const struct dif_spec *spec, struct dif_sel *sel,
	       struct se_err *err);
void dif_sel_free(struct dif_sel *sel);

/* ---- dif_base.c: --baseline, the same items in two runs ---- */

enum dif_cause { DIF_CAUSE_MODEL, DIF_CAUSE_ANSWER, DIF_CAUSE_ROUTE, DIF_NCAUSES };
extern const char *const dif_cause_names[DIF_NCAUSES];

/* Per cause, the changed items (A: the baseline's policy line, in the
 * baseline's index; B: this run's, in this run's index). */
struct dif_changes {
	struct dif_sel group[DIF_NCAUSES];
	size_t paired, only_base, only_cur, no_policy;
};

/* The policy result of an item (what production served), or -1. */
long dif_policy_cell(const struct dif_index *x, uint32_t item);
/* Pairs the items of base and cur by id; spec's task, slot (either run's)
 * and grep filter (a and b are unused). */
int dif_baseline_select(const struct dif_index *base, const struct dif_index *cur,
			const struct dif_spec *spec, struct dif_changes *out, struct se_err *err);
void dif_changes_free(struct dif_changes *c);
/* For `check --markdown`: appends a table of at most max items whose policy
 * pass flipped (lost first): id, task, slots, models, the failing check. */
int dif_flips_markdown(const char *dir, const char *baseline, size_t max, struct buf *md,
		       struct se_err *err);

/* One line read back and parsed. */
struct dif_line {
	struct res_rec row;
	struct cJSON *doc;
	struct buf text;
};
void dif_line_init(struct dif_line *l);
void dif_line_free(struct dif_line *l);
int dif_line_load(const struct dif_index *x, uint32_t cell, struct dif_line *l, struct se_err *err);
/* --grep on lines of one item: *hit when re (an 8-bit pcre2_code) matches
 * the item's id or any line's output. 0, or -1 with err naming --grep when
 * the pattern fails on a text (PCRE2's match or depth limit): never a miss
 * in silence. */
int dif_grep_lines(const void *re, const struct dif_line *const *lines, int n, bool *hit,
		   struct se_err *err);
/* The line's "checks" object, or NULL. */
const struct cJSON *dif_line_checks(const struct dif_line *l);

/* ---- dif_data.c: prompts and expected answers, from the run's dataset ---- */

#define DIF_SNIP_MAX 400 /* bytes kept of a prompt or of the expected answers */

struct dif_ds;
/* The dataset dir's manifest names (through its config when that still
 * loads). NULL when there is none; then *why (malloc'd) says why. */
struct dif_ds *dif_ds_open(const char *dir, char **why);
void dif_ds_free(struct dif_ds *d);

struct dif_snip {
	const char *id; /* not owned */
	char *prompt;	/* the last user message's start; NULL until found */
	char *expected; /* the expected answers, " | "-joined; NULL when none */
};
void dif_snip_clear(struct dif_snip *s);

/* Frees a batch: n pairs of lines (dif_line_free), their snippets
 * (dif_snip_clear) and the three arrays. */
void dif_batch_free(struct dif_line *la, struct dif_line *lb, struct dif_snip *sn, size_t n);
/* One pass over the dataset, filling the snips whose id it meets. -1 when
 * the dataset cannot be read; *why (malloc'd) says why, and may also be set
 * with 0 as a warning (the dataset changed since the run). */
int dif_ds_fetch(struct dif_ds *d, struct dif_snip *s, size_t n, char **why);

/* ---- dif_out.c: the formats ---- */

enum dif_format { DIF_TEXT, DIF_MD, DIF_JSONL, DIF_CSV };
enum dif_only { DIF_ONLY_DISCORDANT, DIF_ONLY_A_BETTER, DIF_ONLY_B_BETTER, DIF_ONLY_ALL };

struct dif_print_opts {
	enum dif_format format;
	enum dif_only only;
	long limit;	/* items listed per comparison; -1: all */
	int width;	/* text: columns; side by side from DIF_SIDE_MIN */
	bool color;	/* text: ANSI colours */
	int fold_lines; /* text: lines shown of an output before folding */
	bool baseline;	/* A is a baseline run's line, B this run's: kinds are
			 * lost, gained, both-pass, neither */
};
#define DIF_SIDE_MIN 100

struct dif_printer {
	FILE *out;
	const struct dif_index *x;  /* the A lines' */
	const struct dif_index *xb; /* the B lines', when not x's (--baseline) */
	struct dif_ds *ds;	    /* NULL: no prompts or expected answers */
	struct dif_print_opts o;
	size_t counted;	    /* dif_print_counts calls so far */
	size_t comparisons; /* dif_print_items calls so far */
	char *warning;	    /* the first dataset problem, for stderr; malloc'd */
};

/* The counts of every comparison come first (one call each), then each
 * comparison's items, A better first (one call each). */
/* The kinds --only lists, one bit (1u << kind) each: what dif_print_items
 * prints, so the rest need only be counted (dif_spec.count_only). */
unsigned dif_listed(enum dif_only only);
void dif_print_counts(struct dif_printer *p, const struct dif_sel *sel, const char *a_side,
		      const char *b_side);
int dif_print_items(struct dif_printer *p, const struct dif_sel *sel, const char *a_side,
		    const char *b_side, struct se_err *err);

/* ---- dif_html.c: the report's "Where they disagree" section ---- */

/* A comparison of the section: slot NULL is the routed primary against the
 * shadow `model` (a pairs.csv overall row); else the policy against the
 * candidate `model` on the slot's items (a swaps.csv row). */
struct dif_html_cmp {
	const char *slot;
	const char *model;
};
/* The id of a comparison's heading, safe in HTML whatever the names. */
void dif_anchor(struct buf *b, const char *slot, const char *model);
/* Appends the section: counts and up to max_each items each way per
 * comparison. Errors name results.jsonl. */
int dif_html_section(const char *dir, const struct dif_html_cmp *cmp, size_t ncmp, size_t max_each,
		     struct buf *b, struct se_err *err);

#endif
