/* gate.h: `shadoweval check`, the regression gate for CI.
 *
 * Compares a run folder (DIR) with a baseline run folder (BASE), both read
 * from their results.jsonl (and manifest.json, for the dataset hash), on the
 * items present in both: the routing policy's quality (paired pass rate),
 * cost per 1,000 items and latency p95, each against a tolerance; with
 * --min-win-rate, the judge's pairwise win rate of the current run's
 * shadows against their reference (their baseline's beside it); per model,
 * the paired pass rate as information. Writes a plain-text report, and on
 * request a GitHub markdown table and a JUnit XML file (temp + rename).
 * The rules are in gate.c's opening comment (copied to the README).
 *
 * Not here: running anything, or the CSV summaries (summarize/): the gate
 * re-reads results.jsonl, so it works on any run folder, complete or not.
 *
 * Ownership: gate_compare fills a struct gate_report the caller frees with
 * gate_report_free (safe on a zeroed or already freed report).
 */
#ifndef SE_GATE_H
#define SE_GATE_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "stats/stats.h"

/* A drop of more than this many points fails whatever its p-value (see
 * gate.c: a small sample must not hide a disaster). */
#define GATE_FLOOR_PTS 10.0

struct gate_opts {
	double max_pass_drop;		  /* points (0..100), default 0 */
	double max_cost_increase;	  /* percent, default 10 */
	double max_p95_increase;	  /* percent, default 25 */
	double alpha;			  /* McNemar significance level, default 0.05 */
	enum stats_correction correction; /* the per-model family, default Holm */
	double min_win_rate;		  /* --min-win-rate (0..1); NAN: no win-rate check */
};

void gate_opts_init(struct gate_opts *o);

enum gate_verdict { GATE_PASS, GATE_FAIL, GATE_SKIP };

/* win_rate runs only with --min-win-rate: it is last, so the checks a
 * report ran are always the first gate_nchecks(r). */
enum gate_check_id { GATE_QUALITY, GATE_COST, GATE_LATENCY, GATE_WIN_RATE, GATE_NCHECKS };

/* One policy-level check. Unknown figures are NAN. */
struct gate_check {
	const char *name; /* "pass_rate", "cost_per_1k_items", "latency_p95_ms", "win_rate" */
	enum gate_verdict verdict;
	double base, cur;
	double delta;	    /* pass_rate, win_rate: points (cur - base); others: percent */
	double lo, hi;	    /* pass_rate: Newcombe 95% interval of delta, in points;
			     * win_rate: Wilson 95% interval of cur (0..1) */
	double p;	    /* pass_rate: exact McNemar p; win_rate: exact sign test p */
	double limit;	    /* the tolerance as given (points or percent) */
	long n;		    /* items the figures are computed on */
	long base_k, cur_k; /* pass_rate: passes; win_rate: wins (n: decided items) */
	char why[400];	    /* one sentence: why it passed, failed or was skipped */
};

/* A model present in both runs: its primary or shadow answers, paired on
 * the items it answered in both. Information only, never a failure. */
struct gate_model {
	char *name;
	long n, both, only_base, only_cur, neither;
	double base_rate, cur_rate, delta, lo, hi, p; /* rates 0..1, delta in points */
	double p_adj; /* p adjusted over the models (one family; opts.correction) */
};

#define GATE_MAX_NOTES 8

struct gate_report {
	const char *dir, *baseline; /* as given; not owned */
	struct gate_opts opts;
	size_t base_items, cur_items;
	size_t paired; /* items in both runs with a policy result in both */
	size_t only_base, only_cur;
	size_t no_policy; /* items in both runs without a policy result in one */
	int dataset_same; /* 1 same, 0 different, -1 unknown (a manifest missing) */
	int config_same;  /* same encoding */
	char base_dataset[65], cur_dataset[65];
	struct gate_check checks[GATE_NCHECKS];
	struct gate_model *models;
	size_t nmodels;
	char notes[GATE_MAX_NOTES][400];
	size_t nnotes;
	int failures;
};

/* Loads both run folders and fills r. Errors (SE_INPUT, SE_IO) name the
 * folder or file: a missing results.jsonl, a bad line, no item in common. A
 * regression is not an error here: it is r->failures > 0. */
/* How many checks r ran (GATE_NCHECKS with --min-win-rate, else one less). */
int gate_nchecks(const struct gate_report *r);

int gate_compare(const char *dir, const char *baseline, const struct gate_opts *o,
		 struct gate_report *r, struct se_err *err);
void gate_report_free(struct gate_report *r);

/* The plain-text report (what `check` prints). */
void gate_write_text(const struct gate_report *r, FILE *out);
/* GitHub-flavoured markdown, for a pull request comment; atomic write. */
int gate_write_markdown(const struct gate_report *r, const char *path, struct se_err *err);
/* JUnit XML: one testsuite "shadoweval.check", one testcase per check, a
 * <failure> on a regression, <skipped> on a skipped check; atomic write. */
int gate_write_junit(const struct gate_report *r, const char *path, struct se_err *err);

#endif
