/* sum_kinds.c: what each column of the summary CSVs holds, for the readers
 * (report) to check every cell against what the writers here, and sweep's
 * sw_out.c, put there: a count, a rate, a USD amount, milliseconds...
 *
 * One list, next to the writers: a column added to a header must be added
 * here too (tests/test_summaries.c fails on a written column this list does
 * not know), so reader and writer cannot drift apart.
 *
 * Not here: formatting (sum_out.c), reading (report/rep_csv.c).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "summarize/summarize.h"

struct col_kind {
	const char *name;
	enum sum_col_kind kind;
};

static const struct col_kind kinds[] = {
    /* text */
    {"model", SUM_COL_TEXT},
    {"task", SUM_COL_TEXT},
    {"slot", SUM_COL_TEXT},
    {"role", SUM_COL_TEXT},
    {"scope", SUM_COL_TEXT},
    {"scope_value", SUM_COL_TEXT},
    {"primary", SUM_COL_TEXT},
    {"shadow", SUM_COL_TEXT},
    {"reference", SUM_COL_TEXT},
    {"verdict", SUM_COL_TEXT},
    {"verdict_adjusted", SUM_COL_TEXT},
    {"current_model", SUM_COL_TEXT},
    {"candidate", SUM_COL_TEXT},
    {"check", SUM_COL_TEXT},
    {"judge_model", SUM_COL_TEXT},
    {"kind", SUM_COL_TEXT},
    {"description", SUM_COL_TEXT},
    {"correction", SUM_COL_TEXT},
    /* counts (sum_line_long, "%ld") */
    {"n", SUM_COL_COUNT},
    {"passed", SUM_COL_COUNT},
    {"errors", SUM_COL_COUNT},
    {"rate_limited", SUM_COL_COUNT},
    {"timeout", SUM_COL_COUNT},
    {"http_4xx", SUM_COL_COUNT},
    {"http_5xx", SUM_COL_COUNT},
    {"network", SUM_COL_COUNT},
    {"bad_response", SUM_COL_COUNT},
    {"stream_error", SUM_COL_COUNT},
    {"budget", SUM_COL_COUNT},
    {"prompt_tokens", SUM_COL_COUNT},
    {"completion_tokens", SUM_COL_COUNT},
    {"cost_reported", SUM_COL_COUNT},
    {"cost_pricing", SUM_COL_COUNT},
    {"cost_unknown", SUM_COL_COUNT},
    {"cached", SUM_COL_COUNT},
    {"items", SUM_COL_COUNT},
    {"fallback_served", SUM_COL_COUNT},
    {"n_swapped", SUM_COL_COUNT},
    {"both_pass", SUM_COL_COUNT},
    {"only_primary", SUM_COL_COUNT},
    {"only_shadow", SUM_COL_COUNT},
    {"neither", SUM_COL_COUNT},
    {"primary_errors", SUM_COL_COUNT},
    {"shadow_errors", SUM_COL_COUNT},
    {"primary_cost_unknown", SUM_COL_COUNT},
    {"shadow_cost_unknown", SUM_COL_COUNT},
    {"candidate_errors", SUM_COL_COUNT},
    {"current_errors", SUM_COL_COUNT},
    {"candidate_cost_unknown", SUM_COL_COUNT},
    {"current_cost_unknown", SUM_COL_COUNT},
    {"wins", SUM_COL_COUNT},
    {"losses", SUM_COL_COUNT},
    {"ties", SUM_COL_COUNT},
    {"not_compared", SUM_COL_COUNT},
    {"only_text", SUM_COL_COUNT},
    {"only_judge", SUM_COL_COUNT},
    {"neither_pass", SUM_COL_COUNT},
    {"samples", SUM_COL_COUNT},
    {"k", SUM_COL_COUNT},
    {"policy_id", SUM_COL_COUNT},
    {"family_size", SUM_COL_COUNT},
    /* rates, shares and p-values (sum_line_rate): 0 to 1 */
    {"pass_rate", SUM_COL_RATE},
    {"pass_rate_lo", SUM_COL_RATE},
    {"pass_rate_hi", SUM_COL_RATE},
    {"share", SUM_COL_RATE},
    {"primary_pass_rate", SUM_COL_RATE},
    {"shadow_pass_rate", SUM_COL_RATE},
    {"current_pass_rate", SUM_COL_RATE},
    {"mcnemar_p", SUM_COL_RATE},
    {"mcnemar_p_adjusted", SUM_COL_RATE},
    {"win_rate", SUM_COL_RATE},
    {"win_rate_lo", SUM_COL_RATE},
    {"win_rate_hi", SUM_COL_RATE},
    {"sign_p", SUM_COL_RATE},
    {"position_consistency", SUM_COL_RATE},
    {"agreement", SUM_COL_RATE},
    {"text_pass_rate", SUM_COL_RATE},
    {"judge_pass_rate", SUM_COL_RATE},
    {"pass_at_1", SUM_COL_RATE},
    {"pass_at_k", SUM_COL_RATE},
    {"consistency", SUM_COL_RATE},
    {"t_test_p", SUM_COL_RATE},
    /* differences of rates, and Cohen's kappa: -1 to 1 */
    {"delta_pass_rate", SUM_COL_DELTA_RATE},
    {"delta_pass_rate_lo", SUM_COL_DELTA_RATE},
    {"delta_pass_rate_hi", SUM_COL_DELTA_RATE},
    {"delta_lo", SUM_COL_DELTA_RATE},
    {"delta_hi", SUM_COL_DELTA_RATE},
    {"kappa", SUM_COL_DELTA_RATE},
    /* USD */
    {"cost_usd_total", SUM_COL_USD},
    {"cost_usd_per_1k_items", SUM_COL_USD},
    {"cost_usd_per_pass", SUM_COL_USD},
    {"current_cost_usd_per_1k_items", SUM_COL_USD},
    {"delta_cost_usd_per_1k_items", SUM_COL_DELTA},
    /* milliseconds */
    {"latency_ms_p50", SUM_COL_MS},
    {"latency_ms_p90", SUM_COL_MS},
    {"latency_ms_p95", SUM_COL_MS},
    {"latency_ms_p99", SUM_COL_MS},
    {"ttft_ms_p50", SUM_COL_MS},
    {"ttft_ms_p90", SUM_COL_MS},
    {"ttft_ms_p95", SUM_COL_MS},
    {"ttft_ms_p99", SUM_COL_MS},
    {"current_latency_ms_p95", SUM_COL_MS},
    {"delta_latency_ms_p50", SUM_COL_DELTA},
    {"delta_latency_ms_p95", SUM_COL_DELTA},
    /* sweep.csv, pareto.csv */
    {"on_frontier", SUM_COL_FLAG},
};

enum sum_col_kind sum_col_kind(const char *column)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, column))
			return kinds[i].kind;
	return SUM_COL_UNKNOWN;
}

bool sum_col_ok(enum sum_col_kind kind, double v)
{
	/* a count, an amount or a time beyond 2^53 is no real figure (and a
	 * 309-digit integer on a page) */
	const double big = 9007199254740992.0;
	if (!isfinite(v))
		return kind == SUM_COL_TEXT || kind == SUM_COL_UNKNOWN;
	switch (kind) {
	case SUM_COL_COUNT:
		return v >= 0 && v <= big && v == floor(v);
	case SUM_COL_RATE:
		return v >= 0 && v <= 1;
	case SUM_COL_DELTA_RATE:
		return v >= -1 && v <= 1;
	case SUM_COL_USD:
	case SUM_COL_MS:
		return v >= 0 && v <= big;
	case SUM_COL_DELTA:
		return v >= -big && v <= big;
	case SUM_COL_FLAG:
		return v == 0 || v == 1;
	case SUM_COL_TEXT:
	case SUM_COL_UNKNOWN:
		break;
	}
	return true;
}

const char *sum_col_want(enum sum_col_kind kind)
{
	switch (kind) {
	case SUM_COL_COUNT:
		return "a whole number from 0 to 2^53";
	case SUM_COL_RATE:
		return "a rate from 0 to 1";
	case SUM_COL_DELTA_RATE:
		return "a difference of rates from -1 to 1";
	case SUM_COL_USD:
		return "a USD amount from 0 to 2^53";
	case SUM_COL_MS:
		return "milliseconds from 0 to 2^53";
	case SUM_COL_DELTA:
		return "a finite difference within 2^53";
	case SUM_COL_FLAG:
		return "0 or 1";
	case SUM_COL_TEXT:
	case SUM_COL_UNKNOWN:
		break;
	}
	return "text";
}
