/* reply_row.c: a reply's fields of its results.jsonl row (see reply_row.h). */
#include "engine/reply_row.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "core/decimal.h"
#include "engine/judging.h"
#include "pricing/pricing.h"
#include "results/results.h"
#include "results/vocab.h"
#include "wire/wire.h"

double eng_reply_cost(const struct wire_reply *reply, double header_cost,
		      const struct pricing *pricing, const char *model, const char **source)
{
	const struct wire_usage *u = &reply->usage;
	bool counts = u->prompt_tokens >= 0 && u->completion_tokens >= 0 && u->cached_tokens >= 0;
	double cost = NAN;
	enum res_cost_source src = RES_COST_UNKNOWN;
	const struct price *pr = u->has_cost ? NULL : pricing_find(pricing, model);
	if (u->has_cost) {
		cost = u->cost;
		src = RES_COST_REPORTED;
	} else if (!isnan(header_cost)) {
		cost = header_cost;
		src = RES_COST_LITELLM_HEADER;
	} else if (reply->has_gen_cost) {
		cost = reply->gen_cost;
		src = RES_COST_GENERATION;
	} else if (u->present && pr && counts) {
		cost = pricing_cost(pr, u->prompt_tokens, u->completion_tokens, u->cached_tokens);
		src = RES_COST_PRICING;
	}
	if (source)
		*source = res_cost_source_name(src);
	return cost;
}

void eng_reply_row(const struct wire_reply *reply, bool ok, const struct pricing *pricing,
		   const struct chk_set *checks, const struct chk_item *item, double header_cost,
		   const struct eng_grade *grades, struct res_row *row, struct buf *checks_json)
{
	row->served_model = reply->model[0] ? reply->model : NULL;
	const struct wire_usage *u = &reply->usage;
	if (u->present) {
		/* counts a server sent that are not counts are -1: null */
		row->prompt_tokens = u->prompt_tokens;
		row->completion_tokens = u->completion_tokens;
	}
	row->cost_usd = eng_reply_cost(reply, header_cost, pricing, row->model, &row->cost_source);
	row->output = reply->content.len || ok ? reply->content.data : NULL;
	row->output_len = reply->content.len;
	row->finish_reason = reply->finish_reason[0] ? reply->finish_reason : NULL;
	buf_reset(checks_json);
	if (!ok) {
		row->checks_json = NULL;
		row->pass = false;
		row->score = 0;
		return;
	}
	struct chk_outcome oc = {0};
	chk_eval(checks, item, reply->content.data, reply->content.len, &oc);
	for (size_t i = 0; grades && i < checks->n; i++)
		if (chk_judge_of(checks, i))
			eng_grade_fill(&oc, i, &grades[i]);
	if (grades)
		chk_combine(checks, &oc);
	chk_outcome_json(&oc, checks_json);
	row->checks_json = checks_json->data;
	row->pass = oc.pass;
	row->score = oc.score;
	chk_outcome_free(&oc);
}

double eng_header_cost(const char *value)
{
	if (!value)
		return NAN;
	/* a decimal number, trailing blanks allowed (decimal.h) */
	char num[64];
	size_t n = strcspn(value, " \t");
	if (n >= sizeof(num) || value[n + strspn(value + n, " \t")])
		return NAN;
	memcpy(num, value, n);
	num[n] = '\0';
	double v;
	return decimal_parse(num, &v) && v >= 0 ? v : NAN;
}
