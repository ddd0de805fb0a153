/* sum_judge.c: what the judges cost and how far they agree with the text
 * checks: the judge rows of models.csv (role judge) and agreement.csv.
 *
 * Fed one results line at a time (struct res_rec, from res_scan in
 * `summarize` or from the engine in `run`), both paths through the same
 * sum_judges_add, so they agree. It reads the line's `checks` object and its
 * pairwise and judge_* fields (JUDGE.md section 3); it does not compute the
 * pairwise verdicts (sum_pw.c) nor read files.
 *
 * Decisions (README "How the summaries decide"):
 * - a judge row counts judge requests: one per `judge` check entry, two per
 *   pairwise comparison (both orders). errors: judge entries with "error":
 *   true and pairwise orders whose pick is "error". cost: the entries'
 *   cost_usd, and for a pairwise comparison the line's judge_cost_usd minus
 *   its judge entries' costs; latency percentiles over the requests that
 *   were not cache hits, a pairwise order counting with the mean of the two
 *   (the line keeps only their sum). Cost per 1k is per 1,000 judge requests.
 * - agreement: on ok lines that carry both a judge check's grade (not an
 *   error) and at least one text check (an entry with no "type", or a type
 *   other than judge, pairwise or command; a bare boolean too), the judge's pass against the
 *   text checks' (all must pass). One row per judge check name, with the
 *   2x2 table, the agreement rate and Cohen's kappa (stats/pairwise.h).
 */
#include "summarize/sum_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "results/results.h"
#include "stats/pairwise.h"

void sum_judges_init(struct sum_judges *j, bool bounded)
{
	memset(j, 0, sizeof(*j));
	j->bounded = bounded;
}

void sum_judges_free(struct sum_judges *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->row[i].model);
		sum_fvec_free(&j->row[i].lat);
	}
	for (size_t i = 0; i < j->nagree; i++) {
		free(j->agree[i].check);
		free(j->agree[i].judge_model);
	}
	free(j->row);
	free(j->agree);
	memset(j, 0, sizeof(*j));
}

static struct sum_judge_row *judge_row(struct sum_judges *j, const char *model)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->row[i].model, model))
			return &j->row[i];
	j->row = xgrow(j->row, &j->cap, j->n + 1, sizeof(*j->row));
	struct sum_judge_row *r = &j->row[j->n++];
	memset(r, 0, sizeof(*r));
	r->model = xstrdup(model);
	r->lat.bounded = j->bounded;
	return r;
}

static struct sum_agree_row *agree_row(struct sum_judges *j, const char *check, const char *model)
{
	for (size_t i = 0; i < j->nagree; i++)
		if (!strcmp(j->agree[i].check, check))
			return &j->agree[i];
	j->agree = xgrow(j->agree, &j->agree_cap, j->nagree + 1, sizeof(*j->agree));
	struct sum_agree_row *r = &j->agree[j->nagree++];
	memset(r, 0, sizeof(*r));
	r->check = xstrdup(check);
	r->judge_model = xstrdup(model);
	return r;
}

static double num_or_nan(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= 0 ? v->valuedouble
										    : NAN;
}

static const char *type_of(const cJSON *entry)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(entry, "type");
	return cJSON_IsString(t) ? t->valuestring : "";
}

/* The text checks' verdict: -1 none on the line, else 0 or 1 (all pass). */
static int text_verdict(const cJSON *checks)
{
	int v = -1;
	for (const cJSON *e = checks->child; e; e = e->next) {
		const char *t = type_of(e);
		if (!strcmp(t, "judge") || !strcmp(t, "pairwise") || !strcmp(t, "command"))
			continue;
		/* {"pass": b, "detail": ...}, or a bare boolean (older lines) */
		const cJSON *pass =
		    cJSON_IsBool(e) ? e : cJSON_GetObjectItemCaseSensitive(e, "pass");
		if (!cJSON_IsBool(pass))
			continue;
		v = (v != 0 && cJSON_IsTrue(pass)) ? 1 : 0;
	}
	return v;
}

/* One judge check entry: its request into the judge's row, its grade into
 * the agreement table. *cost and *lat collect what the line's pairwise
 * comparison did not spend. */
static void add_entry(struct sum_judges *j, const cJSON *e, int text, bool ok, double *cost,
		      double *lat)
{
	const cJSON *jm = cJSON_GetObjectItemCaseSensitive(e, "judge_model");
	const char *model = cJSON_IsString(jm) ? jm->valuestring : "";
	struct sum_judge_row *r = judge_row(j, model);
	r->requests++;
	bool error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "error"));
	r->errors += error;
	double c = num_or_nan(e, "cost_usd"), l = num_or_nan(e, "latency_ms");
	if (isnan(c))
		r->cost_unknown++;
	else
		r->cost += c;
	*cost = isnan(c) || isnan(*cost) ? NAN : *cost - c;
	*lat = isnan(l) || isnan(*lat) ? NAN : *lat - l;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "cached")))
		r->cached++;
	else if (!isnan(l))
		sum_fvec_push(&r->lat, (float)l);
	if (error || text < 0 || !ok || !e->string)
		return;
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(e, "pass");
	stats_pair_add(&agree_row(j, e->string, model)->t, text == 1, cJSON_IsTrue(pass));
}

void sum_judges_add(struct sum_judges *j, const struct res_rec *rec)
{
	double cost = rec->judge_cost_usd, lat = rec->judge_latency_ms;
	if (rec->checks && cJSON_IsObject(rec->checks)) {
		int text = text_verdict(rec->checks);
		for (const cJSON *e = rec->checks->child; e; e = e->next)
			if (cJSON_IsObject(e) && !strcmp(type_of(e), "judge"))
				add_entry(j, e, text, rec->status == RES_OK, &cost, &lat);
	}
	if (rec->pairwise == RES_PW_NONE)
		return;
	struct sum_judge_row *r = judge_row(j, rec->pw_judge_model ? rec->pw_judge_model : "");
	r->requests += 2;
	r->errors += (rec->pw_ab == RES_PICK_ERROR) + (rec->pw_ba == RES_PICK_ERROR);
	/* What the entries did not spend; a rounding crumb below 0 is 0. */
	if (isnan(cost) || cost < -1e-12)
		r->cost_unknown += 2;
	else
		r->cost += cost > 0 ? cost : 0;
	if (!isnan(lat) && lat >= 0) {
		sum_fvec_push(&r->lat, (float)(lat / 2));
		sum_fvec_push(&r->lat, (float)(lat / 2));
	}
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct sum_judge_row *)a)->model,
		      ((const struct sum_judge_row *)b)->model);
}

static int cmp_agree(const void *a, const void *b)
{
	return strcmp(((const struct sum_agree_row *)a)->check,
		      ((const struct sum_agree_row *)b)->check);
}

void sum_judges_sort(struct sum_judges *j)
{
	if (j->n)
		qsort(j->row, j->n, sizeof(*j->row), cmp_row);
	if (j->nagree)
		qsort(j->agree, j->nagree, sizeof(*j->agree), cmp_agree);
}

/* One models.csv row for judge r: the columns of sum_acc_header, the
 * quality ones empty (a judge grades, it is not graded). */
void sum_judge_line(struct sum_line *l, struct sum_judge_row *r)
{
	bool known = r->requests > r->cost_unknown;
	for (size_t i = 0; sum_acc_header[i]; i++) {
		const char *h = sum_acc_header[i];
		if (!strcmp(h, "n"))
			sum_line_long(l, r->requests);
		else if (!strcmp(h, "errors"))
			sum_line_long(l, r->errors);
		else if (!strncmp(h, "latency_ms_p", 12))
			sum_line_ms(l, sum_fvec_pct(&r->lat, atoi(h + 12)));
		else if (!strcmp(h, "cost_usd_total"))
			sum_line_usd(l, known ? r->cost : NAN);
		else if (!strcmp(h, "cost_usd_per_1k_items"))
			sum_line_usd(l, sum_cost_per_1k(r->cost, r->requests, r->cost_unknown));
		else if (!strcmp(h, "cost_unknown"))
			sum_line_long(l, r->cost_unknown);
		else if (!strcmp(h, "cached"))
			sum_line_long(l, r->cached);
		else
			sum_line_str(l, "");
	}
}

static const char *const agree_header[] = {
    "check",	    "judge_model", "n",	    "both_pass",      "only_text",	 "only_judge",
    "neither_pass", "agreement",   "kappa", "text_pass_rate", "judge_pass_rate", NULL};

int sum_write_agreement(struct sum_ctx *x, struct se_err *err)
{
	struct sum_judges *j = x->judges;
	if (!j || !j->nagree)
		return sum_csv_remove(x->dir, "agreement.csv", err);
	struct sum_csv csv;
	if (sum_csv_open(&csv, x->dir, "agreement.csv", agree_header, NULL, err))
		return -1;
	struct sum_line l;
	sum_line_init(&l);
	for (size_t i = 0; i < j->nagree; i++) {
		const struct sum_agree_row *r = &j->agree[i];
		const struct stats_pair *t = &r->t;
		sum_line_reset(&l);
		sum_line_str(&l, r->check);
		sum_line_str(&l, r->judge_model);
		sum_line_long(&l, t->n);
		sum_line_long(&l, t->both);
		sum_line_long(&l, t->only_a);
		sum_line_long(&l, t->only_b);
		sum_line_long(&l, t->neither);
		sum_line_rate(&l, stats_agreement(t));
		sum_line_rate(&l, stats_kappa(t));
		sum_line_rate(&l, t->n ? (double)(t->both + t->only_a) / (double)t->n : NAN);
		sum_line_rate(&l, t->n ? (double)(t->both + t->only_b) / (double)t->n : NAN);
		sum_csv_line(&csv, &l);

		struct sum_line *tr = sum_tab_row(&x->agree_tab);
		sum_line_str(tr, r->check);
		sum_line_str(tr, r->judge_model);
		sum_line_long(tr, t->n);
		double a = stats_agreement(t), k = stats_kappa(t);
		if (isnan(a))
			sum_line_str(tr, "-");
		else
			sum_line_printf(tr, "%.1f%%", 100 * a);
		if (isnan(k))
			sum_line_str(tr, "-");
		else
			sum_line_printf(tr, "%.3g", k);
	}
	sum_line_free(&l);
	return sum_csv_commit(&csv, err);
}
