/* stop.c: the books of `run --stop-when-decided` (see stop.h).
 *
 * Pairs are fed in the order their second half is scored. That order comes
 * from the servers' timing, never from the outcome of later items, so the
 * sequential tests stay valid on it.
 */
#include "engine/stop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/csvw.h"
#include "core/jsonw.h"
#include "core/xalloc.h"

void eng_stop_init(struct eng_stop *s, const struct cfg *cfg, const struct stats_seq_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->opts = *o;
	s->cmp = xcalloc(cfg->n_shadows ? cfg->n_shadows : 1, sizeof(*s->cmp));
	for (size_t k = 0; k < cfg->n_shadows; k++)
		stats_seq_init(&s->cmp[k].seq);
	s->open = cfg->n_shadows;
}

void eng_stop_free(struct eng_stop *s)
{
	if (!s)
		return;
	free(s->cmp);
	s->cmp = NULL;
}

bool eng_stop_wants(struct eng_stop *s, size_t k)
{
	struct eng_stop_cmp *c = &s->cmp[k];
	if (c->seq.state != STATS_SEQ_OPEN) {
		c->skipped++;
		return false;
	}
	c->sent++;
	return true;
}

bool eng_stop_all_settled(const struct eng_stop *s)
{
	return s->cfg->n_shadows > 0 && s->open == 0;
}

signed char *eng_stop_item_new(const struct eng_stop *s)
{
	signed char *p = xmalloc(s->cfg->n_shadows + 1);
	memset(p, -2, s->cfg->n_shadows + 1);
	return p;
}

static void feed(struct eng_stop *s, size_t k, bool primary, bool shadow)
{
	struct stats_seq *q = &s->cmp[k].seq;
	if (q->state != STATS_SEQ_OPEN)
		return;
	if (stats_seq_add(q, &s->opts, primary, shadow) != STATS_SEQ_OPEN)
		s->open--;
}

void eng_stop_pass(struct eng_stop *s, signed char *item, int k, bool pass, double cost_usd)
{
	size_t n = s->cfg->n_shadows;
	if (k < 0) {
		item[0] = pass;
		if (isfinite(cost_usd)) {
			s->primary_cost_n++;
			s->primary_cost_usd += cost_usd;
		}
		for (size_t i = 0; i < n; i++)
			if (item[1 + i] >= 0)
				feed(s, i, pass, item[1 + i]);
		return;
	}
	item[1 + k] = pass;
	if (isfinite(cost_usd)) {
		s->cmp[k].cost_n++;
		s->cmp[k].cost_usd += cost_usd;
	}
	if (item[0] >= 0)
		feed(s, (size_t)k, item[0], pass);
}

static double mean_cost(size_t n, double sum)
{
	return n ? sum / (double)n : NAN;
}

static size_t reps(const struct eng_stop *s)
{
	return s->repeats > 1 ? (size_t)s->repeats : 1;
}

/* Requests a shadow did not make (every sample of each item), and their
 * estimated cost. */
static size_t saved_requests(const struct eng_stop *s, const struct eng_stop_cmp *c)
{
	return (c->skipped + c->not_run) * reps(s);
}

static double saved_usd(const struct eng_stop *s, const struct eng_stop_cmp *c)
{
	return (double)saved_requests(s, c) * mean_cost(c->cost_n, c->cost_usd);
}

static void why(const struct eng_stop *s, const struct eng_stop_cmp *c, char *out, size_t size)
{
	const struct stats_seq *q = &c->seq;
	double lo, hi;
	stats_seq_delta_cs(q->n, q->b, q->c, s->opts.alpha, &lo, &hi);
	switch (q->state) {
	case STATS_SEQ_BETTER:
	case STATS_SEQ_WORSE:
		snprintf(
		    out, size,
		    "mixture likelihood ratio %.4g >= 1/alpha on %ld discordant items (%ld won "
		    "by the shadow, %ld by the primary)",
		    exp(stats_seq_log_lr(q->b, q->c)), q->b + q->c, q->b, q->c);
		break;
	case STATS_SEQ_EQUIVALENT:
		snprintf(out, size,
			 "the difference's confidence sequence [%.4f, %.4f] lies inside +-%.4g", lo,
			 hi, s->opts.margin);
		break;
	case STATS_SEQ_OPEN:
		snprintf(out, size, "not settled: ran to the end of the items");
		break;
	}
}

void eng_stop_json(const struct eng_stop *s, struct buf *b)
{
	const struct cfg *cfg = s->cfg;
	size_t saved = s->primary_not_run * reps(s);
	double usd = (double)saved * mean_cost(s->primary_cost_n, s->primary_cost_usd);
	if (s->primary_not_run == 0)
		usd = 0;
	for (size_t k = 0; k < cfg->n_shadows; k++) {
		saved += saved_requests(s, &s->cmp[k]);
		if (saved_requests(s, &s->cmp[k]))
			usd += saved_usd(s, &s->cmp[k]);
	}
	buf_putc(b, '{');
	jsonw_key(b, "alpha");
	jsonw_double(b, s->opts.alpha);
	buf_putc(b, ',');
	jsonw_key(b, "min_items");
	jsonw_long(b, s->opts.min_items);
	buf_putc(b, ',');
	jsonw_key(b, "margin");
	jsonw_double(b, s->opts.margin);
	buf_putc(b, ',');
	jsonw_key(b, "stopped_run");
	jsonw_bool(b, s->stopped_run);
	buf_putc(b, ',');
	jsonw_key(b, "items_not_run");
	jsonw_long(b, (long long)s->items_not_run);
	buf_putc(b, ',');
	jsonw_key(b, "saved_requests");
	jsonw_long(b, (long long)saved);
	buf_putc(b, ',');
	jsonw_key(b, "saved_usd_estimate");
	jsonw_double(b, usd);
	buf_putc(b, ',');
	jsonw_key(b, "comparisons");
	buf_putc(b, '[');
	for (size_t k = 0; k < cfg->n_shadows; k++) {
		const struct eng_stop_cmp *c = &s->cmp[k];
		char reason[256];
		why(s, c, reason, sizeof(reason));
		if (k)
			buf_putc(b, ',');
		buf_putc(b, '{');
		jsonw_key(b, "shadow");
		jsonw_str(b, cfg->models[cfg->shadows[k]].id);
		buf_putc(b, ',');
		jsonw_key(b, "verdict");
		jsonw_str(b, stats_seq_state_name(c->seq.state));
		buf_putc(b, ',');
		jsonw_key(b, "settled_at_items");
		if (c->seq.state == STATS_SEQ_OPEN)
			buf_puts(b, "null");
		else
			jsonw_long(b, c->seq.at);
		buf_putc(b, ',');
		jsonw_key(b, "items_compared");
		jsonw_long(b, c->seq.n);
		buf_putc(b, ',');
		jsonw_key(b, "reason");
		jsonw_str(b, reason);
		buf_putc(b, ',');
		jsonw_key(b, "saved_requests");
		jsonw_long(b, (long long)saved_requests(s, c));
		buf_putc(b, ',');
		jsonw_key(b, "saved_usd_estimate");
		jsonw_double(b, saved_requests(s, c) ? saved_usd(s, c) : 0.0);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

/* A CSV figure: empty when unknown. */
static void fnum(double v, char *out, size_t size)
{
	if (isfinite(v))
		jsonw_number_text(v, out, size);
	else
		out[0] = '\0';
}

void eng_stop_csv(const struct eng_stop *s, struct buf *b)
{
	const struct cfg *cfg = s->cfg;
	static const char *const head[] = {"shadow",
					   "verdict",
					   "settled_at_items",
					   "items_compared",
					   "only_shadow_pass",
					   "only_primary_pass",
					   "delta_lo",
					   "delta_hi",
					   "saved_requests",
					   "saved_usd_estimate",
					   "reason"};
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		csvw_cell(b, head[i], i ? 0 : CSVW_FIRST);
	buf_putc(b, '\n');
	for (size_t k = 0; k < cfg->n_shadows; k++) {
		const struct eng_stop_cmp *c = &s->cmp[k];
		const struct stats_seq *q = &c->seq;
		char num[10][40], reason[256];
		double lo, hi;
		stats_seq_delta_cs(q->n, q->b, q->c, s->opts.alpha, &lo, &hi);
		why(s, c, reason, sizeof(reason));
		if (q->state == STATS_SEQ_OPEN)
			num[0][0] = '\0';
		else
			snprintf(num[0], sizeof(num[0]), "%ld", q->at);
		snprintf(num[1], sizeof(num[1]), "%ld", q->n);
		snprintf(num[2], sizeof(num[2]), "%ld", q->b);
		snprintf(num[3], sizeof(num[3]), "%ld", q->c);
		fnum(lo, num[4], sizeof(num[4]));
		fnum(hi, num[5], sizeof(num[5]));
		snprintf(num[6], sizeof(num[6]), "%zu", saved_requests(s, c));
		fnum(saved_requests(s, c) ? saved_usd(s, c) : 0.0, num[7], sizeof(num[7]));
		csvw_cell(b, cfg->models[cfg->shadows[k]].id, CSVW_FIRST);
		csvw_cell(b, stats_seq_state_name(q->state), 0);
		for (int i = 0; i < 8; i++)
			csvw_cell(b, num[i], 0);
		csvw_cell(b, reason, 0);
		buf_putc(b, '\n');
	}
}
