/* report.c: the report page: reads the run folder's summaries and manifest,
 * lays out the sections (header, at a glance, models, primary vs shadows,
 * slot swaps, per task, routing, threshold sweep, how to read) and writes
 * the page atomically.
 *
 * Decisions:
 * - missing summaries are rebuilt from results.jsonl (sum_run_dir) before
 *   anything is read; sweep.csv / pareto.csv / recommended.json are
 *   optional (only `sweep` writes them; the recommended policy is marked
 *   only when recommended.json names it, the report never re-decides it);
 * - columns are looked up by name; a column the page needs and cannot find
 *   is SE_INPUT naming the file and the column;
 * - manifest.json may be absent (a folder of CSVs alone still makes a page);
 *   when present it must be JSON; fields it lacks are simply not shown;
 * - the page carries no time of its own: dates come from the manifest, so
 *   the same folder gives the same bytes.
 *
 * Not here: any statistics (the summaries decide), escaping and number
 * formats (rep_fmt.c), chart geometry (rep_svg.c).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/jsonr.h"
#include "core/jsonv.h"
#include "core/strtab.h"
#include "core/version.h"
#include "core/xalloc.h"
#include "diff/diff.h"
#include "manifest/manifest.h"
#include "report/rep_int.h"
#include "report/report.h"
#include "results/vocab.h"
#include "summarize/summarize.h"

static const char *const summaries[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
					"swaps.csv"};

struct page {
	struct buf b;
	const char *dir;
	struct rep_table models, tasks, slots, pairs, swaps, sweep, pareto, pairwise, agreement;
	bool have_sweep, have_pareto, have_pairwise, have_agreement;
	cJSON *man; /* NULL without manifest.json */
	cJSON *rec; /* recommended.json (from sweep), or NULL */
};

static const char css[] =
    ":root{--fg:#1a1a1a;--mute:#5b5b5b;--line:#dcdcdc;--better:#0072B2;--worse:#D55E00;"
    "--nodiff:#6E6E6E}\n"
    "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
    "Arial,sans-serif;color:var(--fg);margin:0;background:#fff}\n"
    "main{max-width:1160px;margin:0 auto;padding:20px 28px 48px}\n"
    "h1{font-size:24px;margin:0 0 2px}h2{font-size:19px;margin:34px 0 8px;"
    "padding-bottom:4px;border-bottom:2px solid #222}h3{font-size:15px;margin:18px 0 4px}\n"
    ".sub,.note,figcaption{color:var(--mute)}.note,figcaption{font-size:13px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr max-content 1fr;"
    "gap:3px 16px;margin:14px 0}dl.meta dt{color:var(--mute)}dl.meta dd{margin:0}\n"
    "code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
    "nav{margin:10px 0;font-size:13px}nav a{margin-right:14px;color:#0072B2}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;margin:8px 0 4px;font-variant-numeric:tabular-nums}\n"
    "table{font-size:13px}th,td{padding:4px 7px;border-bottom:1px solid var(--line);"
    "text-align:right;white-space:nowrap}th{font-weight:600;background:#f3f3f3;"
    "vertical-align:bottom;white-space:normal}thead th{overflow-wrap:break-word}\n"
    "td.l,th.l{text-align:left}tr.total td{font-weight:600;border-top:2px solid #999}\n"
    ".ci{color:var(--mute);font-size:12px}.unk{color:#A0522D;font-size:12px}\n"
    ".verdict{font-weight:600}.verdict.better{color:var(--better)}"
    ".verdict.worse{color:var(--worse)}.verdict.nodiff{color:var(--nodiff)}\n"
    ".status{display:inline-block;padding:0 8px;border-radius:10px;background:#e6f0f7;"
    "font-weight:600}.status.bad{background:#fbe3d6}\n"
    ".warn{background:#fff4e0;border-left:4px solid #E69F00;padding:8px 12px;margin:10px 0}\n"
    "ul.glance{padding-left:20px}ul.glance li{margin:3px 0}\n"
    "figure.chart{margin:12px 0}figure.chart svg{max-width:100%;height:auto;display:block}\n"
    "svg text{fill:#222}svg .grid line{stroke:#e2e2e2}svg .grid line.zero{stroke:#444;"
    "stroke-width:1.5}svg .grid text{fill:#666}svg text.axis{fill:#444;font-weight:600}\n"
    "svg .band{fill:#f6f6f6}svg .frontier{fill:none;stroke:#0072B2;stroke-width:2}\n"
    "svg text.onbar{font-weight:600}svg text.tag{fill:#0072B2;font-weight:600}\n"
    "svg text.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    "svg .cloud{fill:#8a8a8a;fill-opacity:.45}td.wrap{white-space:normal;min-width:220px}\n"
    "details{margin:8px 0}summary{cursor:pointer;color:#0072B2}\n"
    "td.heat{min-width:70px}td "
    ".ci{display:block}td.name{white-space:normal;min-width:8em}td.wrap-v{white-space:normal;min-"
    "width:6em}\n"
    "tr.note td{color:var(--mute);font-style:italic}li.more{list-style:none}\n"
    "tr.rec td{font-weight:600;background:#e3f3ee}tr.rec td:first-child{box-shadow:inset 4px 0 "
    "#009E73}p.rec{border-left:4px solid #009E73;padding:4px 10px;background:#f1f9f6}\n"
    "svg text.rec{fill:#00694d;font-weight:600}\n"
    "table.dis{width:100%;table-layout:fixed}table.dis td{vertical-align:top;text-align:left;"
    "white-space:normal;width:50%}pre.out{white-space:pre-wrap;overflow-wrap:anywhere;"
    "max-height:28em;overflow:auto;background:#f7f7f7;padding:6px;margin:6px 0;"
    "font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
    "ul.checks{margin:0;padding-left:18px}details.dis{margin:4px 0}\n";

/* ---------- small helpers ---------- */

/* "2026-11-25T13:34:22Z" -> time_t, or -1 when not in that form. */
static time_t parse_utc(const char *s, struct tm *tm)
{
	memset(tm, 0, sizeof(*tm));
	char z = 0;
	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm->tm_year, &tm->tm_mon, &tm->tm_mday,
		   &tm->tm_hour, &tm->tm_min, &tm->tm_sec, &z) != 7 ||
	    z != 'Z')
		return -1;
	tm->tm_year -= 1900;
	tm->tm_mon -= 1;
	return timegm(tm);
}

static void put_time(struct buf *b, const char *s)
{
	struct tm tm;
	if (parse_utc(s, &tm) == -1) {
		rep_esc(b, s);
		return;
	}
	buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_duration(struct buf *b, double s)
{
	long t = (long)llround(s);
	if (t < 60)
		buf_printf(b, "%ld s", t);
	else if (t < 3600)
		buf_printf(b, "%ld min %ld s", t / 60, t % 60);
	else
		buf_printf(b, "%ld h %ld min", t / 3600, (t % 3600) / 60);
}

/* Required columns, resolved at once: -1 (err set) when one is missing. */
static int cols(const struct rep_table *t, const char *const *names, int *out, size_t n,
		struct se_err *err)
{
	for (size_t i = 0; i < n; i++)
		if ((out[i] = rep_col(t, names[i], err)) < 0)
			return -1;
	return 0;
}

#define NCOL(a) (sizeof(a) / sizeof((a)[0]))

/* Opens section `id` with its heading and a note (trusted HTML). */
static void section_open(struct buf *b, const char *id, const char *title, const char *note)
{
	buf_printf(b, "<section id=\"%s\"><h2>%s</h2><p class=\"note\">%s</p>\n", id, title, note);
}

/* ---------- header ---------- */

static void put_sha(struct buf *b, const char *path, const char *sha)
{
	if (path) {
		buf_puts(b, "<code>");
		rep_esc(b, path);
		buf_puts(b, "</code>");
	}
	if (sha) {
		buf_puts(b, " <span class=\"ci\">sha256 ");
		char pre[13];
		snprintf(pre, sizeof(pre), "%s", sha);
		rep_esc(b, pre);
		buf_puts(b, "</span>");
	}
	if (!path && !sha)
		buf_puts(b, "\xe2\x80\x94");
}

/* The title line: the eval's name, the run's status, start and duration. */
static void header_title(struct buf *b, const cJSON *m)
{
	const char *name = m ? jsonr_str(m, "eval") : NULL;
	const char *status = m ? jsonr_str(m, "status") : NULL;
	const char *started = m ? jsonr_str(m, "started_at") : NULL;
	const char *ended = m ? jsonr_str(m, "ended_at") : NULL;
	buf_puts(b, "<header><h1>Shadow evaluation: ");
	rep_esc(b, name ? name : "(unnamed run)");
	buf_puts(b, "</h1><div class=\"sub\">");
	if (status) {
		bool ok = !strcmp(status, "complete");
		buf_printf(b, "<span class=\"status%s\">", ok ? "" : " bad");
		rep_esc(b, status);
		buf_puts(b, "</span> ");
	}
	if (started) {
		buf_puts(b, " started ");
		put_time(b, started);
		struct tm t0, t1;
		time_t a = parse_utc(started, &t0), z = parse_utc(ended, &t1);
		if (a != -1 && z != -1 && z >= a) {
			buf_puts(b, ", took ");
			put_duration(b, difftime(z, a));
		}
	}
	if (!m)
		buf_puts(b, "no manifest.json in the run folder: run identity unknown");
	buf_puts(b, "</div>\n");
	if (status && strcmp(status, "complete")) {
		buf_puts(b, "<p class=\"warn\">This run did not complete (status <b>");
		rep_esc(b, status);
		buf_puts(b, "</b>): the figures cover only the results it wrote.</p>\n");
	}
}

/* The manifest's counts: items, requests and results, errors by status,
 * money spent. */
static void header_counts(struct buf *b, const cJSON *counts)
{
	buf_puts(b, "<dt>Items</dt><dd>");
	rep_int(b, jsonr_num(counts, "items", NAN));
	double nr = jsonr_num(counts, "items_not_run", NAN);
	if (isfinite(nr) && nr > 0) {
		buf_puts(b, " (");
		rep_int(b, nr);
		buf_puts(b, " not run)");
	}
	buf_puts(b, "</dd><dt>Requests / results</dt><dd>");
	rep_int(b, jsonr_num(counts, "requests", NAN));
	buf_puts(b, " / ");
	rep_int(b, jsonr_num(counts, "results_written", NAN));
	buf_puts(b, "</dd><dt>Errors</dt><dd>");
	const cJSON *bs = cJSON_GetObjectItemCaseSensitive(counts, "by_status");
	const cJSON *e;
	bool any = false;
	cJSON_ArrayForEach(e, bs)
	{
		if (!e->string || res_status_parse(e->string, strlen(e->string)) == RES_OK ||
		    !cJSON_IsNumber(e) || e->valuedouble <= 0)
			continue;
		buf_puts(b, any ? ", " : "");
		rep_esc(b, e->string);
		buf_puts(b, " ");
		rep_int(b, e->valuedouble);
		any = true;
	}
	if (!any)
		buf_puts(b, "none");
	buf_puts(b, "</dd><dt>Spent</dt><dd>");
	rep_usd(b, jsonr_num(counts, "spent_usd", NAN), false);
	buf_puts(b, "</dd>");
}

/* One "term: value" of the run's settings; text escaped, or a number. */
static void header_setting(struct buf *b, const char *term, const char *text, double num)
{
	if (!text && !isfinite(num))
		return;
	buf_printf(b, "<dt>%s</dt><dd>", term);
	if (text)
		rep_esc(b, text);
	else
		rep_int(b, num);
	buf_puts(b, "</dd>");
}

/* The slots (slot -> model) and the shadows, each model in <code>. */
static void header_models(struct buf *b, const cJSON *m)
{
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(m, "slots"), *e;
	if (cJSON_IsObject(slots) && slots->child) {
		buf_puts(b, "<dt>Slots</dt><dd>");
		bool first = true;
		cJSON_ArrayForEach(e, slots)
		{
			if (!cJSON_IsString(e) || !e->string)
				continue;
			buf_puts(b, first ? "" : ", ");
			rep_esc(b, e->string);
			buf_puts(b, " \xe2\x86\x92 <code>");
			rep_esc(b, e->valuestring);
			buf_puts(b, "</code>");
			first = false;
		}
		buf_puts(b, "</dd>");
	}
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(m, "shadows");
	if (!cJSON_IsString(sh) && !cJSON_IsArray(sh))
		return;
	buf_puts(b, "<dt>Shadows</dt><dd>");
	if (cJSON_IsString(sh)) {
		rep_esc(b, sh->valuestring);
	} else {
		bool first = true;
		cJSON_ArrayForEach(e, sh)
		{
			if (!cJSON_IsString(e))
				continue;
			buf_puts(b, first ? "<code>" : ", <code>");
			rep_esc(b, e->valuestring);
			buf_puts(b, "</code>");
			first = false;
		}
		if (first)
			buf_puts(b, "none");
	}
	buf_puts(b, "</dd>");
}

static void section_header(struct page *pg)
{
	struct buf *b = &pg->b;
	const cJSON *m = pg->man;
	header_title(b, m);
	if (m) {
		const cJSON *counts = cJSON_GetObjectItemCaseSensitive(m, "counts");
		buf_puts(b, "<dl class=\"meta\">");
		buf_puts(b, "<dt>Config</dt><dd>");
		put_sha(b, jsonr_str(m, "config"), jsonr_str(m, "config_sha256"));
		buf_puts(b, "</dd><dt>Dataset</dt><dd>");
		put_sha(b, jsonr_str(m, "dataset"), jsonr_str(m, "dataset_sha256"));
		buf_puts(b, "</dd>");
		if (counts)
			header_counts(b, counts);
		header_setting(b, "Concurrency", NULL, jsonr_num(m, "concurrency", NAN));
		header_setting(b, "Cache", jsonr_str(m, "cache"), NAN);
		header_setting(b, "Shard", jsonr_str(m, "shard"), NAN);
		header_setting(b, "Limit", NULL, jsonr_num(m, "limit", NAN));
		header_models(b, m);
		buf_puts(b, "</dl>\n");
	}
	buf_puts(b, "<nav><a href=\"#glance\">At a glance</a><a href=\"#models\">Models</a>"
		    "<a href=\"#pairs\">Primary vs shadows</a><a href=\"#swaps\">Slot swaps</a>"
		    "<a href=\"#disagree\">Where they disagree</a>"
		    "<a href=\"#tasks\">Per task</a><a href=\"#routing\">Routing</a>");
	if (pg->have_pairwise || pg->have_agreement)
		buf_puts(b, "<a href=\"#pairwise\">Judge: pairwise</a>");
	if (pg->have_pareto)
		buf_puts(b, "<a href=\"#sweep\">Threshold sweep</a>");
	buf_puts(b, "<a href=\"#method\">How to read</a></nav></header>\n");
}

/* ---------- at a glance ---------- */

#define GLANCE_SWAPS 3 /* swaps listed at a glance; the rest are counted and linked */

/* The whole policy's line of slots.csv. */
static int glance_policy(struct buf *b, const struct rep_table *s, struct se_err *err)
{
	static const char *const sc[] = {"slot", "items", "pass_rate"};
	int c[NCOL(sc)];
	if (cols(s, sc, c, NCOL(sc), err))
		return -1;
	int lo = rep_col_opt(s, "pass_rate_lo"), hi = rep_col_opt(s, "pass_rate_hi");
	int cost = rep_col_opt(s, "cost_usd_per_1k_items"), p95 = rep_col_opt(s, "latency_ms_p95");
	for (size_t r = 0; r < s->nrows; r++) {
		if (strcmp(rep_str(s, r, c[0]), "policy"))
			continue;
		buf_puts(b, "<li><b>Current routing policy</b>: pass rate <b>");
		rep_pct(b, rep_num(s, r, c[2]));
		buf_puts(b, "</b> <span class=\"ci\">");
		rep_ci(b, rep_num(s, r, lo), rep_num(s, r, hi));
		buf_puts(b, "</span> on ");
		rep_int(b, rep_num(s, r, c[1]));
		buf_puts(b, " items, ");
		rep_usd(b, rep_num(s, r, cost), false);
		buf_puts(b, " per 1,000 items, p95 latency ");
		rep_ms(b, rep_num(s, r, p95));
		buf_puts(b, ".</li>");
	}
	return 0;
}

/* The overall verdicts of pairs.csv, counted. */
static int glance_shadows(struct buf *b, const struct rep_table *p, struct se_err *err)
{
	int scope = rep_col(p, "scope", err), verdict = rep_col_verdict(p, err);
	if (scope < 0 || verdict < 0)
		return -1;
	size_t nb = 0, nw = 0, nn = 0;
	for (size_t r = 0; r < p->nrows; r++) {
		if (strcmp(rep_str(p, r, scope), "overall"))
			continue;
		const char *v = rep_str(p, r, verdict);
		nb += !strcmp(v, "better");
		nw += !strcmp(v, "worse");
		nn += strcmp(v, "better") && strcmp(v, "worse");
	}
	buf_printf(b,
		   "<li><b>Shadows</b> against the routed primary: %zu <span class=\"verdict "
		   "better\">better</span>, %zu <span class=\"verdict worse\">worse</span>, %zu "
		   "with no significant difference.</li>",
		   nb, nw, nn);
	return 0;
}

/* The swaps of swaps.csv that save money without a significant loss,
 * largest saving first (a stable sort: the same folder, the same order);
 * *n set. c: slot, current_model, candidate, delta_pass_rate and its lo, hi,
 * delta cost, verdict. */
static size_t *saving_swaps(const struct rep_table *w, const int *c, size_t *n)
{
	size_t *idx = xcalloc(w->nrows + 1, sizeof(*idx));
	*n = 0;
	for (size_t r = 0; r < w->nrows; r++) {
		double dc = rep_num(w, r, c[6]);
		if (strcmp(rep_str(w, r, c[7]), "worse") && isfinite(dc) && dc < 0)
			idx[(*n)++] = r;
	}
	for (size_t i = 1; i < *n; i++) /* insertion sort: stable, deterministic */
		for (size_t j = i; j > 0 && rep_num(w, idx[j], c[6]) < rep_num(w, idx[j - 1], c[6]);
		     j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return idx;
}

static void glance_swap(struct buf *b, const struct rep_table *w, size_t r, const int *c)
{
	buf_puts(b, "<li>");
	rep_esc(b, rep_str(w, r, c[0]));
	buf_puts(b, ": <code>");
	rep_esc(b, rep_str(w, r, c[1]));
	buf_puts(b, "</code> \xe2\x86\x92 <a href=\"#");
	dif_anchor(b, rep_str(w, r, c[0]), rep_str(w, r, c[2]));
	buf_puts(b, "\"><code>");
	rep_esc(b, rep_str(w, r, c[2]));
	buf_puts(b, "</code></a>: ");
	rep_usd(b, rep_num(w, r, c[6]), true);
	buf_puts(b, " per 1,000 items, pass rate ");
	rep_pts(b, rep_num(w, r, c[3]));
	buf_puts(b, " <span class=\"ci\">");
	rep_ci(b, rep_num(w, r, c[4]), rep_num(w, r, c[5]));
	buf_puts(b, "</span> ");
	rep_verdict(b, rep_str(w, r, c[7]));
	buf_puts(b, "</li>");
}

static int glance_swaps(struct buf *b, const struct rep_table *w, struct se_err *err)
{
	static const char *const wc[] = {"slot",
					 "current_model",
					 "candidate",
					 "delta_pass_rate",
					 "delta_pass_rate_lo",
					 "delta_pass_rate_hi",
					 "delta_cost_usd_per_1k_items"};
	int c[NCOL(wc) + 1];
	if (cols(w, wc, c, NCOL(wc), err) || (c[7] = rep_col_verdict(w, err)) < 0)
		return -1;
	size_t n;
	size_t *idx = saving_swaps(w, c, &n);
	if (n) {
		buf_puts(b, "<li><b>Slot swaps that cost less without a significant pass-rate "
			    "loss</b> (largest saving first; check the interval before adopting "
			    "one):<ul>");
		for (size_t i = 0; i < n && i < GLANCE_SWAPS; i++)
			glance_swap(b, w, idx[i], c);
		if (n > GLANCE_SWAPS)
			buf_printf(b,
				   "<li class=\"more\">and %zu more: see <a href=\"#swaps\">all "
				   "%zu slot swaps</a></li>",
				   n - GLANCE_SWAPS, w->nrows);
		buf_puts(b, "</ul></li>");
	} else if (w->nrows) {
		buf_puts(b, "<li><b>Slot swaps</b>: none saves money without a significant "
			    "pass-rate loss.</li>");
	}
	free(idx);
	return 0;
}

static int section_glance(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	buf_puts(b, "<section id=\"glance\"><h2>At a glance</h2><ul class=\"glance\">");
	if (glance_policy(b, &pg->slots, err) || glance_shadows(b, &pg->pairs, err) ||
	    glance_swaps(b, &pg->swaps, err))
		return -1;
	buf_puts(b, "</ul></section>\n");
	return 0;
}

/* ---------- models ---------- */

#define CI_HEAD(t) t " <span class=\"ci\">[95% CI]</span>"
/* The columns of a pass rate and of a paired delta, each with its interval. */
#define PASS_RATE_COL(h)                                                                           \
	{                                                                                          \
		.head = CI_HEAD(h), .kind = REP_PCT, .name = "pass_rate", .lo = "pass_rate_lo",    \
		.hi = "pass_rate_hi"                                                               \
	}
#define DELTA_COL                                                                                  \
	{                                                                                          \
		.head = CI_HEAD("Delta"), .kind = REP_PTS, .name = "delta_pass_rate",              \
		.lo = "delta_pass_rate_lo", .hi = "delta_pass_rate_hi"                             \
	}

static const struct rep_tcol model_cols[] = {
    {.head = "Model", .kind = REP_TEXT, .name = "model"},
    {.head = "Items", .kind = REP_INT, .name = "n"},
    PASS_RATE_COL("Pass rate"),
    {.head = "Errors", .kind = REP_INT, .name = "errors"},
    {.head = "Latency p50", .kind = REP_MS, .name = "latency_ms_p50"},
    {.head = "Latency p95", .kind = REP_MS, .name = "latency_ms_p95"},
    {.head = "Cost total", .kind = REP_COST, .name = "cost_usd_total", .aux = "cost_unknown"},
    {.head = "Cost / 1,000 items", .kind = REP_USD, .name = "cost_usd_per_1k_items"},
    {.head = "Cost / pass", .kind = REP_USD, .name = "cost_usd_per_pass", .opt = true},
};

static int section_models(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *t = &pg->models;
	section_open(b, "models", "Models",
		     "Every model's answers on the items it saw, as primary, shadow or "
		     "fallback. Errors count as failures.");
	struct rep_tbl tb;
	if (rep_tbl_open(&tb, b, t, model_cols, NCOL(model_cols), err))
		return -1;
	struct rep_point *pts = xcalloc(t->nrows + 1, sizeof(*pts));
	const int *model = tb.at[0], *rate = tb.at[2], *cost = tb.at[7];
	for (size_t r = 0; r < t->nrows; r++) {
		rep_tbl_row(&tb, b, r, NULL);
		pts[r] = (struct rep_point){rep_str(t, r, model[0]), rep_num(t, r, cost[0]),
					    rep_num(t, r, rate[0]),  rep_num(t, r, rate[2]),
					    rep_num(t, r, rate[3]),  NULL};
	}
	rep_tbl_close(&tb, b);
	struct rep_scatter sc = {
	    .p = pts, .n = t->nrows, .current = -1, .recommended = -1, .labels = true};
	rep_svg_scatter(b, "Pass rate (95% CI) against cost per 1,000 items, per model", &sc);
	free(pts);
	buf_puts(b, "</section>\n");
	return 0;
}

/* ---------- primary vs shadows ---------- */

/* The per-scope pairs table; the overall one starts at its third column,
 * with the shadow linking to its disagreements. */
static const struct rep_tcol pair_cols[] = {
    {.head = "Scope", .kind = REP_SCOPE, .name = "scope", .aux = "scope_value"},
    {.head = "Primary", .kind = REP_TEXT, .name = "primary"},
    {.head = "Shadow", .kind = REP_NAME, .name = "shadow"},
    {.head = "Items", .kind = REP_INT, .name = "n"},
    {.head = "Primary pass", .kind = REP_PCT, .name = "primary_pass_rate", .opt = true},
    {.head = "Shadow pass", .kind = REP_PCT, .name = "shadow_pass_rate", .opt = true},
    DELTA_COL,
    {.head = "p (McNemar)", .kind = REP_P, .name = "mcnemar_p"},
    {.head = "Verdict", .kind = REP_VERDICT, .name = "verdict"},
    {.head = "Cost / 1k delta",
     .kind = REP_DUSD,
     .name = "delta_cost_usd_per_1k_items",
     .opt = true},
    {.head = "p50 delta", .kind = REP_DMS, .name = "delta_latency_ms_p50", .opt = true},
    {.head = "p95 delta", .kind = REP_DMS, .name = "delta_latency_ms_p95", .opt = true},
};

/* The overall rows of pairs.csv (each linking to its disagreements), or the
 * per-slot and per-task ones. */
static int pairs_table(struct buf *b, const struct rep_table *t, bool overall, struct se_err *err)
{
	struct rep_tcol c[NCOL(pair_cols)];
	memcpy(c, pair_cols, sizeof(c));
	c[2] = (struct rep_tcol){.head = "Shadow", .kind = REP_LINK, .name = "shadow"};
	size_t skip = overall ? 2 : 0;
	int scope = rep_col(t, "scope", err);
	struct rep_tbl tb;
	if (scope < 0 || rep_tbl_open(&tb, b, t, c + skip, NCOL(c) - skip, err))
		return -1;
	size_t shown = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		if (!strcmp(rep_str(t, r, scope), "overall") != overall)
			continue;
		rep_tbl_row(&tb, b, r, NULL);
		shown++;
	}
	if (!shown)
		rep_tbl_note(&tb, b, "no rows");
	rep_tbl_close(&tb, b);
	return 0;
}

/* The chart columns of pairs.csv and swaps.csv, and two that name a row
 * (a, b: scope and shadow, or slot and candidate). */
struct forest_cols {
	int a, b, delta, lo, hi, verdict, p, cost;
};

static int forest_cols(const struct rep_table *t, const char *a, const char *b,
		       struct forest_cols *f, struct se_err *err)
{
	f->cost = rep_col_opt(t, "delta_cost_usd_per_1k_items");
	return (f->a = rep_col(t, a, err)) < 0 || (f->b = rep_col(t, b, err)) < 0 ||
		       (f->delta = rep_col(t, "delta_pass_rate", err)) < 0 ||
		       (f->lo = rep_col(t, "delta_pass_rate_lo", err)) < 0 ||
		       (f->hi = rep_col(t, "delta_pass_rate_hi", err)) < 0 ||
		       (f->verdict = rep_col_verdict(t, err)) < 0 ||
		       (f->p = rep_col(t, "mcnemar_p", err)) < 0
		   ? -1
		   : 0;
}

static struct rep_forest_row forest_row(const struct rep_table *t, size_t r,
					const struct forest_cols *f, const char *label)
{
	return (struct rep_forest_row){label,
				       rep_num(t, r, f->delta),
				       rep_num(t, r, f->lo),
				       rep_num(t, r, f->hi),
				       rep_str(t, r, f->verdict),
				       rep_num(t, r, f->p),
				       rep_num(t, r, f->cost)};
}

/* A section around a forest plot of t: its id, title and note, and the
 * two columns naming a row (a: the scope or slot, b: the model). */
struct forest_section {
	const char *id, *title, *note;
	const char *a, *b;
};

/* Finds the forest's columns of t, then opens the section. */
static int forest_open(struct buf *b, const struct rep_table *t, const struct forest_section *fs,
		       struct forest_cols *fc, struct se_err *err)
{
	if (forest_cols(t, fs->a, fs->b, fc, err))
		return -1;
	section_open(b, fs->id, fs->title, fs->note);
	return 0;
}

static const struct forest_section pairs_section = {
    "pairs", "Primary vs shadows",
    "Each shadow against what the routing policy served, on the same items (paired). A "
    "delta above 0 means the shadow passed more often. A shadow's name links to the items "
    "where they disagree.",
    "scope", "shadow"};

static int section_pairs(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *t = &pg->pairs;
	struct forest_cols fc;
	if (forest_open(b, t, &pairs_section, &fc, err))
		return -1;
	struct rep_forest_row *rows = xcalloc(t->nrows + 1, sizeof(*rows));
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++)
		if (!strcmp(rep_str(t, r, fc.a), "overall"))
			rows[n++] = forest_row(t, r, &fc, rep_str(t, r, fc.b));
	if (n)
		rep_svg_forest(b, "Shadow minus routed primary: pass-rate delta with 95% CI", rows,
			       n, true);
	else
		buf_puts(b, "<p class=\"note\">No shadows ran in this evaluation.</p>\n");
	free(rows);
	if (n && pairs_table(b, t, true, err))
		return -1;
	size_t more = t->nrows - n;
	if (more) {
		buf_printf(b, "<details><summary>Per slot and per task (%zu comparisons)</summary>",
			   more);
		if (pairs_table(b, t, false, err))
			return -1;
		buf_puts(b, "</details>\n");
	}
	buf_puts(b, "</section>\n");
	return 0;
}

/* ---------- swaps ---------- */

static const struct rep_tcol swap_cols[] = {
    {.head = "Slot", .kind = REP_TEXT, .name = "slot"},
    {.head = "Current model", .kind = REP_NAME, .name = "current_model"},
    {.head = "Candidate", .kind = REP_LINK, .name = "candidate", .aux = "slot"},
    {.head = "Items swapped", .kind = REP_INT, .name = "n_swapped"},
    PASS_RATE_COL("Policy pass rate"),
    DELTA_COL,
    {.head = "p (McNemar)", .kind = REP_P, .name = "mcnemar_p"},
    {.head = "Verdict", .kind = REP_VERDICT, .name = "verdict"},
    {.head = "Cost / 1k", .kind = REP_USD, .name = "cost_usd_per_1k_items", .opt = true},
    {.head = "Cost / 1k delta", .kind = REP_DUSD, .name = "delta_cost_usd_per_1k_items"},
    {.head = "p95 delta", .kind = REP_DMS, .name = "delta_latency_ms_p95", .opt = true},
};

static const struct forest_section swaps_section = {
    "swaps", "Slot swaps",
    "The whole policy with one slot's model replaced by a candidate, against the current "
    "policy on the same items: what the change would do to production traffic. A "
    "candidate's name links to the items where it and the policy disagree.",
    "slot", "candidate"};

static int section_swaps(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *t = &pg->swaps;
	struct forest_cols fc;
	if (forest_open(b, t, &swaps_section, &fc, err))
		return -1;
	if (!t->nrows) {
		buf_puts(b,
			 "<p class=\"note\">No candidate ran on a slot's items.</p></section>\n");
		return 0;
	}
	struct rep_forest_row *rows = xcalloc(t->nrows, sizeof(*rows));
	char **labels = xcalloc(t->nrows, sizeof(*labels));
	for (size_t r = 0; r < t->nrows; r++) {
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "%s \xe2\x86\x92 %s", rep_str(t, r, fc.a), rep_str(t, r, fc.b));
		labels[r] = buf_detach(&l, NULL);
		rows[r] = forest_row(t, r, &fc, labels[r]);
	}
	rep_svg_forest(b, "Policy with the swap minus current policy: pass-rate delta with 95% CI",
		       rows, t->nrows, true);
	for (size_t r = 0; r < t->nrows; r++)
		free(labels[r]);
	free(labels);
	free(rows);
	struct rep_tbl tb;
	if (rep_tbl_open(&tb, b, t, swap_cols, NCOL(swap_cols), err))
		return -1;
	for (size_t r = 0; r < t->nrows; r++)
		rep_tbl_row(&tb, b, r, NULL);
	rep_tbl_close(&tb, b);
	buf_puts(b, "</section>\n");
	return 0;
}

/* ---------- where they disagree ---------- */

#define DISAGREE_EACH 5 /* items shown each way per comparison */

static int section_disagree(struct page *pg, struct se_err *err)
{
	const struct rep_table *p = &pg->pairs, *s = &pg->swaps;
	int scope = rep_col(p, "scope", err), shadow = rep_col(p, "shadow", err);
	int slot = rep_col(s, "slot", err), cand = rep_col(s, "candidate", err);
	if (scope < 0 || shadow < 0 || slot < 0 || cand < 0)
		return -1;
	struct dif_html_cmp *cmp = xcalloc(p->nrows + s->nrows + 1, sizeof(*cmp));
	size_t n = 0;
	for (size_t r = 0; r < p->nrows; r++)
		if (!strcmp(rep_str(p, r, scope), "overall"))
			cmp[n++] = (struct dif_html_cmp){NULL, rep_str(p, r, shadow)};
	for (size_t r = 0; r < s->nrows; r++)
		cmp[n++] = (struct dif_html_cmp){rep_str(s, r, slot), rep_str(s, r, cand)};
	char *results = fio_join(pg->dir, "results.jsonl");
	int rc = 0;
	if (n && access(results, F_OK) != 0) /* n == 0: no shadow, no swap, no section */
		buf_puts(&pg->b, "<section id=\"disagree\"><h2>Where they disagree</h2><p "
				 "class=\"note\">No <code>results.jsonl</code> in the run folder: "
				 "the items cannot be shown.</p></section>\n");
	else if (n)
		rc = dif_html_section(pg->dir, cmp, n, DISAGREE_EACH, &pg->b, err);
	free(results);
	free(cmp);
	return rc;
}

/* ---------- per task ---------- */

/* tasks.csv as a grid: models in models.csv order (those with a task row),
 * then any other; tasks in order of first appearance; cell[task * models.n
 * + model] is the tasks.csv row, or -1. */
struct task_grid {
	struct strtab models, tasks;
	long *cell;
};

static void task_grid_init(struct task_grid *g, const struct rep_table *t, int task, int model,
			   const struct rep_table *models, int mcol)
{
	strtab_init(&g->models);
	strtab_init(&g->tasks);
	for (size_t r = 0; r < models->nrows; r++)
		for (size_t k = 0; k < t->nrows; k++)
			if (!strcmp(rep_str(t, k, model), rep_str(models, r, mcol))) {
				strtab_intern(&g->models, rep_str(t, k, model), NULL);
				break;
			}
	for (size_t r = 0; r < t->nrows; r++) {
		strtab_intern(&g->models, rep_str(t, r, model), NULL);
		strtab_intern(&g->tasks, rep_str(t, r, task), NULL);
	}
	size_t n = g->models.n * g->tasks.n;
	g->cell = xcalloc(n + 1, sizeof(*g->cell));
	for (size_t i = 0; i < n; i++)
		g->cell[i] = -1;
	for (size_t r = 0; r < t->nrows; r++) {
		size_t ti = (size_t)strtab_find(&g->tasks, rep_str(t, r, task));
		size_t mi = (size_t)strtab_find(&g->models, rep_str(t, r, model));
		g->cell[ti * g->models.n + mi] = (long)r;
	}
}

static void task_grid_free(struct task_grid *g)
{
	free(g->cell);
	strtab_free(&g->models);
	strtab_free(&g->tasks);
}

static int section_tasks(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *t = &pg->tasks;
	static const char *const names[] = {"task", "model", "n", "pass_rate"};
	int c[NCOL(names)];
	if (cols(t, names, c, NCOL(names), err))
		return -1;
	int lo = rep_col_opt(t, "pass_rate_lo"), hi = rep_col_opt(t, "pass_rate_hi");
	int mc = rep_col(&pg->models, "model", err);
	if (mc < 0)
		return -1;
	struct task_grid g;
	task_grid_init(&g, t, c[0], c[1], &pg->models, mc);
	section_open(b, "tasks", "Per task",
		     "Pass rate per task and model, the items in brackets and the 95% "
		     "interval below. Shading follows the pass rate.");
	struct rep_tcol *head = xcalloc(g.models.n + 1, sizeof(*head));
	head[0] = (struct rep_tcol){.head = "Task", .kind = REP_TEXT};
	for (size_t m = 0; m < g.models.n; m++)
		head[m + 1] = (struct rep_tcol){
		    .head = g.models.name[m], .kind = REP_PCT, .head_is_name = true};
	struct rep_tbl tb;
	rep_tbl_open(&tb, b, NULL, head, g.models.n + 1, err);
	for (size_t ti = 0; ti < g.tasks.n; ti++) {
		buf_puts(b, "<tr>");
		rep_td_text(b, *g.tasks.name[ti] ? g.tasks.name[ti] : "(no task)");
		for (size_t m = 0; m < g.models.n; m++) {
			long r = g.cell[ti * g.models.n + m];
			if (r < 0)
				buf_puts(b, "<td class=\"heat\">\xe2\x80\x94</td>");
			else
				rep_td_heat(b, rep_num(t, (size_t)r, c[3]),
					    rep_num(t, (size_t)r, lo), rep_num(t, (size_t)r, hi),
					    rep_num(t, (size_t)r, c[2]));
		}
		buf_puts(b, "</tr>\n");
	}
	rep_tbl_close(&tb, b);
	buf_puts(b, "</section>\n");
	free(head);
	task_grid_free(&g);
	return 0;
}

/* ---------- routing ---------- */

static const struct rep_tcol slot_cols[] = {
    {.head = "Slot", .kind = REP_SLOT, .name = "slot"},
    {.head = "Model", .kind = REP_NAME, .name = "model"},
    {.head = "Items", .kind = REP_INT, .name = "items"},
    {.head = "Share", .kind = REP_PCT, .name = "share"},
    {.head = "Fallback served", .kind = REP_INT, .name = "fallback_served", .opt = true},
    PASS_RATE_COL("Pass rate"),
    {.head = "Latency p95", .kind = REP_MS, .name = "latency_ms_p95", .opt = true},
    {.head = "Cost / 1,000 items", .kind = REP_USD, .name = "cost_usd_per_1k_items", .opt = true},
};

static int section_routing(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *t = &pg->slots;
	int slot = rep_col(t, "slot", err), model = rep_col(t, "model", err),
	    share = rep_col(t, "share", err);
	if (slot < 0 || model < 0 || share < 0)
		return -1;
	section_open(b, "routing", "Routing",
		     "The policy as configured: the share of items each slot received and "
		     "what its primary model did on them.");
	struct rep_share *sh = xcalloc(t->nrows + 1, sizeof(*sh));
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(rep_str(t, r, slot), "policy"))
			sh[n++] = (struct rep_share){rep_str(t, r, slot), rep_str(t, r, model),
						     rep_num(t, r, share)};
	rep_svg_shares(b, "Share of items routed to each slot", sh, n);
	free(sh);
	struct rep_tbl tb;
	if (rep_tbl_open(&tb, b, t, slot_cols, NCOL(slot_cols), err))
		return -1;
	for (int pass = 0; pass < 2; pass++) /* the slots, then the whole policy */
		for (size_t r = 0; r < t->nrows; r++)
			if (!strcmp(rep_str(t, r, slot), "policy") == (pass == 1))
				rep_tbl_row(&tb, b, r, pass ? "total" : NULL);
	rep_tbl_close(&tb, b);
	buf_puts(b, "</section>\n");
	return 0;
}

/* ---------- threshold sweep ---------- */

static const struct rep_tcol sweep_cols[] = {
    {.head = "Policy", .kind = REP_INT, .name = "policy_id"},
    {.head = "Kind", .kind = REP_TEXT, .name = "kind"},
    {.head = "Rule", .kind = REP_WRAP, .name = "description"},
    PASS_RATE_COL("Pass rate"),
    {.head = "Cost / 1,000 items", .kind = REP_USD, .name = "cost_usd_per_1k_items"},
    {.head = "Latency p50", .kind = REP_MS, .name = "latency_ms_p50", .opt = true},
    {.head = "Latency p95", .kind = REP_MS, .name = "latency_ms_p95", .opt = true},
    {.head = "Delta vs current", .kind = REP_PTS, .name = "delta_pass_rate", .opt = true},
    {.head = "Cost / 1k delta",
     .kind = REP_DUSD,
     .name = "delta_cost_usd_per_1k_items",
     .opt = true},
};

/* The frontier, cheapest first (row rec, the recommended one, marked), then
 * the current policy for reference when it is not on the frontier. */
static int sweep_table(struct page *pg, const int *c, const int *d, long rec, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *f = &pg->pareto, *s = &pg->sweep;
	buf_puts(b, "<h3>The frontier, cheapest first</h3>");
	struct rep_tbl tb;
	if (rep_tbl_open(&tb, b, f, sweep_cols, NCOL(sweep_cols), err))
		return -1;
	for (size_t r = 0; r < f->nrows; r++)
		rep_tbl_row(&tb, b, r, (long)r == rec ? "rec" : NULL);
	for (size_t r = 0; pg->have_sweep && r < s->nrows; r++) {
		if (strcmp(rep_str(s, r, d[1]), "current"))
			continue;
		bool on = false;
		for (size_t k = 0; k < f->nrows && !on; k++)
			on = !strcmp(rep_str(f, k, c[0]), rep_str(s, r, d[0]));
		if (on)
			break;
		if (rep_tbl_use(&tb, s, err)) {
			rep_tbl_close(&tb, b);
			return -1;
		}
		rep_tbl_note(&tb, b, "current (not on the frontier)");
		rep_tbl_row(&tb, b, r, "total");
		break;
	}
	rep_tbl_close(&tb, b);
	return 0;
}

/* The policies of sweep.csv or pareto.csv as chart points (c: policy_id,
 * kind, description, pass_rate, cost); each labelled and tagged "#id rule",
 * the current policy "current policy" (*current: its index, -1 none). The
 * labels are malloc'd: free_points frees them with the points. */
static struct rep_point *policy_points(const struct rep_table *t, const int *c, long *current)
{
	struct rep_point *pts = xcalloc(t->nrows + 1, sizeof(*pts));
	*current = -1;
	for (size_t r = 0; r < t->nrows; r++) {
		bool cur = !strcmp(rep_str(t, r, c[1]), "current");
		struct buf l;
		buf_init(&l);
		if (cur)
			buf_puts(&l, "current policy");
		else
			buf_printf(&l, "#%s %s", rep_str(t, r, c[0]), rep_str(t, r, c[2]));
		char *label = buf_detach(&l, NULL);
		if (cur && *current < 0)
			*current = (long)r;
		pts[r] = (struct rep_point){
		    label, rep_num(t, r, c[4]), rep_num(t, r, c[3]), NAN, NAN, label};
	}
	return pts;
}

static void free_points(struct rep_point *pts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)pts[i].label);
	free(pts);
}

/* The row of pareto.csv (c[0]: policy_id) that recommended.json names; -1
 * when there is none (no file, no recommendation, an older sweep). */
static long recommended_row(const struct page *pg, const int *c)
{
	const cJSON *id = pg->rec ? cJSON_GetObjectItemCaseSensitive(pg->rec, "policy_id") : NULL;
	if (!cJSON_IsNumber(id))
		return -1;
	char want[32]; /* check_recommended: a whole number from 0 to 2^53 */
	snprintf(want, sizeof(want), "%.0f", id->valuedouble);
	for (size_t r = 0; r < pg->pareto.nrows; r++)
		if (!strcmp(rep_str(&pg->pareto, r, c[0]), want))
			return (long)r;
	return -1;
}

/* What the sweep recommends, and by which rule, in words. */
static void sweep_recommendation(struct buf *b, const struct rep_table *f, const int *c, long rec,
				 const cJSON *json)
{
	const char *rule = json ? jsonr_str(json, "rule") : NULL;
	if (rec < 0) {
		buf_puts(b, "<p class=\"note\">No policy is marked recommended: ");
		buf_puts(b, json ? "no policy meets the sweep's rule"
				 : "this folder has no <code>recommended.json</code> (run "
				   "<code>shadoweval sweep</code> again)");
		if (rule) {
			buf_puts(b, " (");
			rep_esc(b, rule);
			buf_puts(b, ")");
		}
		buf_puts(b, ".</p>\n");
		return;
	}
	size_t r = (size_t)rec;
	buf_puts(b, "<p class=\"rec\"><b>Recommended</b>");
	if (rule) {
		buf_puts(b, " (");
		rep_esc(b, rule);
		buf_puts(b, ")");
	}
	buf_puts(b, ": policy <b>#");
	rep_esc(b, rep_str(f, r, c[0]));
	buf_puts(b, "</b> <code>");
	rep_esc(b, rep_str(f, r, c[2]));
	buf_puts(b, "</code>, pass rate ");
	rep_pct(b, rep_num(f, r, c[3]));
	buf_puts(b, ", ");
	rep_usd(b, rep_num(f, r, c[4]), false);
	buf_puts(b, " per 1,000 items (the ring on the chart, the marked row below).</p>\n");
}

static int section_sweep(struct page *pg, struct se_err *err)
{
	struct buf *b = &pg->b;
	const struct rep_table *f = &pg->pareto, *s = &pg->sweep;
	static const char *const names[] = {"policy_id", "kind", "description", "pass_rate",
					    "cost_usd_per_1k_items"};
	int c[NCOL(names)], d[NCOL(names)];
	if (cols(f, names, c, NCOL(names), err))
		return -1;
	if (pg->have_sweep && cols(s, names, d, NCOL(names), err))
		return -1;
	section_open(b, "sweep", "Threshold sweep",
		     "Routing policies simulated offline on this run's full-matrix results. "
		     "The line is the cost-quality frontier: no other policy is both "
		     "cheaper and better. Figures are optimistic for the chosen policy "
		     "(picked among many on the same items): confirm it on other items.");
	const struct rep_table *pt = pg->have_sweep ? s : f;
	struct rep_scatter sc = {.n = pt->nrows, .n_line = f->nrows};
	long unused;
	sc.p = policy_points(pt, pg->have_sweep ? d : c, &sc.current);
	sc.line = policy_points(f, c, &unused);
	sc.recommended = recommended_row(pg, c);
	rep_svg_scatter(b,
			pg->have_sweep
			    ? "Every simulated policy (grey), the frontier (blue), the "
			      "current policy (diamond) and the recommended one (ring)"
			    : "The cost-quality frontier and the recommended policy (ring)",
			&sc);
	free_points((struct rep_point *)sc.p, sc.n);
	free_points((struct rep_point *)sc.line, sc.n_line);
	sweep_recommendation(b, f, c, sc.recommended, pg->rec);
	if (sweep_table(pg, c, d, sc.recommended, err))
		return -1;
	buf_puts(b, "</section>\n");
	return 0;
}

/* ---------- method ---------- */

static void section_method(struct page *pg)
{
	buf_puts(&pg->b,
		 "<section id=\"method\"><h2>How to read this page</h2><ul class=\"glance\">"
		 "<li>Pass rates carry a Wilson 95% interval; errors count as failures.</li>"
		 "<li>Deltas are paired (the same items on both sides), in percentage points, "
		 "with Newcombe's 95% interval. An interval that crosses 0 means this run cannot "
		 "tell the two apart: more items would be needed.</li>"
		 "<li>Verdicts come from the exact McNemar test at alpha 0.05: "
		 "<span class=\"verdict better\">\xe2\x96\xb2 better</span>, "
		 "<span class=\"verdict worse\">\xe2\x96\xbc worse</span> or "
		 "<span class=\"verdict nodiff\">= no difference</span> (not significant). Near "
		 "0.05 the test and the interval can disagree. The verdicts of a table are "
		 "adjusted together (each scope of the pairs, all the swaps: Holm unless "
		 "<code>--correction</code> said otherwise; the p shown is the raw one), so "
		 "that a table of many rows does not call a difference by chance.</li>"
		 "<li>Costs sum the known costs (reported by the gateway, else from the price "
		 "list); \"unknown\" counts answers without one. Latency percentiles exclude "
		 "cache hits.</li>"
		 "<li>Every figure is read from the run folder's CSV summaries; "
		 "<code>shadoweval summarize</code> rebuilds them from "
		 "<code>results.jsonl</code>.</li></ul></section>\n");
}

/* ---------- the page ---------- */

/* dir/name parsed into *out when the file exists (NULL when it does not);
 * SE_INPUT naming the file when it is not a JSON object. */
static int load_json(const struct page *pg, const char *name, cJSON **out, struct se_err *err)
{
	char *path = fio_join(pg->dir, name);
	if (access(path, F_OK)) {
		free(path);
		return 0;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = fio_read_all(path, &data, &len, err);
	if (!rc) {
		*out = cJSON_ParseWithLength(data, len);
		if (!cJSON_IsObject(*out))
			rc = se_fail(err, SE_INPUT, path, "not a JSON object");
	}
	free(data);
	free(path);
	return rc;
}

/* manifest.json, when present, passes the rules every manifest reader
 * applies (manifest/man_check.c): the counts, money, status and shard the
 * header shows are what run or merge writes. */
static int check_manifest(const struct page *pg, struct se_err *err)
{
	if (!pg->man)
		return 0;
	char *path = fio_join(pg->dir, "manifest.json");
	int rc = man_check(pg->man, path, err);
	free(path);
	return rc;
}

/* recommended.json, when present: policy_id null (no recommendation) or a
 * whole number naming a row of pareto.csv (sweep recommends a frontier
 * policy); rule and description strings or null. */
static int check_recommended(const struct page *pg, struct se_err *err)
{
	if (!pg->rec)
		return 0;
	char *path = fio_join(pg->dir, "recommended.json");
	int rc = 0;
	static const char *const strs[] = {"rule", "description"};
	for (size_t i = 0; i < NCOL(strs) && !rc; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(pg->rec, strs[i]);
		if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
			rc = jsonv_fail_in(err, path, strs[i], "expected a string or null, got %s",
					   jsonv_type(v));
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(pg->rec, "policy_id");
	if (!rc && id && !cJSON_IsNull(id)) {
		char got[64];
		if (cJSON_IsString(id))
			snprintf(got, sizeof(got), "\"%.40s\"", id->valuestring);
		else if (cJSON_IsNumber(id))
			snprintf(got, sizeof(got), "%.17g", id->valuedouble);
		else
			snprintf(got, sizeof(got), "%s", jsonv_type(id));
		int col = pg->have_pareto ? rep_col_opt(&pg->pareto, "policy_id") : -1;
		bool named = col < 0; /* no frontier to look in: the id alone is checked */
		char want[32] = "";
		if (jsonv_integer_in(id, 0, MAN_COUNT_MAX))
			snprintf(want, sizeof(want), "%.0f", id->valuedouble);
		for (size_t r = 0; want[0] && !named && r < pg->pareto.nrows; r++)
			named = !strcmp(rep_str(&pg->pareto, r, col), want);
		if (!want[0])
			rc = jsonv_fail_in(
			    err, path, "policy_id",
			    "expected a policy id (a whole number >= 0) or null, got %s", got);
		else if (!named)
			rc = jsonv_fail_in(err, path, "policy_id",
					   "%s names no policy of pareto.csv (the sweep recommends "
					   "a frontier policy)",
					   got);
	}
	free(path);
	return rc;
}

static int load_table(struct page *pg, const char *name, struct rep_table *t, bool *have,
		      struct se_err *err)
{
	char *path = fio_join(pg->dir, name);
	int rc = 0;
	if (have && access(path, F_OK))
		*have = false;
	else if (!(rc = rep_table_load(path, t, err)) && have)
		*have = true;
	free(path);
	return rc;
}

static int build(struct page *pg, struct se_err *err)
{
	bool missing = false;
	for (size_t i = 0; i < NCOL(summaries); i++) {
		char *p = fio_join(pg->dir, summaries[i]);
		missing |= access(p, F_OK) != 0;
		free(p);
	}
	if (missing && sum_run_dir(pg->dir, NULL, err))
		return -1;
	if (load_table(pg, "models.csv", &pg->models, NULL, err) ||
	    load_table(pg, "tasks.csv", &pg->tasks, NULL, err) ||
	    load_table(pg, "slots.csv", &pg->slots, NULL, err) ||
	    load_table(pg, "pairs.csv", &pg->pairs, NULL, err) ||
	    load_table(pg, "swaps.csv", &pg->swaps, NULL, err) ||
	    load_table(pg, "sweep.csv", &pg->sweep, &pg->have_sweep, err) ||
	    load_table(pg, "pareto.csv", &pg->pareto, &pg->have_pareto, err) ||
	    load_table(pg, "pairwise.csv", &pg->pairwise, &pg->have_pairwise, err) ||
	    load_table(pg, "agreement.csv", &pg->agreement, &pg->have_agreement, err) ||
	    load_json(pg, "manifest.json", &pg->man, err) ||
	    load_json(pg, "recommended.json", &pg->rec, err) || check_manifest(pg, err) ||
	    check_recommended(pg, err))
		return -1;

	struct buf *b = &pg->b;
	const char *name = pg->man ? jsonr_str(pg->man, "eval") : NULL;
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>shadoweval report: ");
	rep_esc(b, name ? name : "run");
	buf_printf(b, "</title>\n<style>\n%s</style></head>\n<body><main>\n", css);
	section_header(pg);
	if (section_glance(pg, err) || section_models(pg, err) || section_pairs(pg, err) ||
	    ((pg->have_pairwise || pg->have_agreement) &&
	     rep_section_pairwise(b, pg->have_pairwise ? &pg->pairwise : NULL,
				  pg->have_agreement ? &pg->agreement : NULL, err)) ||
	    section_swaps(pg, err) || section_disagree(pg, err) || section_tasks(pg, err) ||
	    section_routing(pg, err))
		return -1;
	if (pg->have_pareto && section_sweep(pg, err))
		return -1;
	section_method(pg);
	buf_puts(b, "<p class=\"note\">Written by shadoweval " SE_VERSION
		    " <code>report</code> from the run folder's summaries and manifest.</p>\n"
		    "</main></body></html>\n");
	return 0;
}

int rep_write(const char *dir, const char *out, struct se_err *err)
{
	struct page pg;
	memset(&pg, 0, sizeof(pg));
	pg.dir = dir;
	buf_init(&pg.b);
	char *path = out ? xstrdup(out) : fio_join(dir, "report.html");
	int rc = build(&pg, err);
	const struct rep_table *tables[] = {&pg.models, &pg.sweep,    &pg.tasks,
					    &pg.slots,	&pg.pairs,    &pg.swaps,
					    &pg.pareto, &pg.pairwise, &pg.agreement};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && !rc; i++)
		rc = rep_table_check(tables[i], err);
	if (!rc)
		rc = fio_write_atomic(path, pg.b.data, pg.b.len, err);
	free(path);
	buf_free(&pg.b);
	rep_table_free(&pg.models);
	rep_table_free(&pg.tasks);
	rep_table_free(&pg.slots);
	rep_table_free(&pg.pairs);
	rep_table_free(&pg.swaps);
	rep_table_free(&pg.sweep);
	rep_table_free(&pg.pareto);
	rep_table_free(&pg.pairwise);
	rep_table_free(&pg.agreement);
	cJSON_Delete(pg.man);
	cJSON_Delete(pg.rec);
	return rc;
}
