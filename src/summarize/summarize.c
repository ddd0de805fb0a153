/* summarize.c: sum_run_dir, every CSV of a run rebuilt from results.jsonl.
 *
 * Loads DIR/results.jsonl into the compact store (sum_store.c), writes the
 * tables (sum_tables.c, sum_pw.c, sum_judge.c), then prints the models,
 * overall pairs, swaps, pairwise and agreement tables: the CSVs' figures, rounded for reading. It
 * does not run anything, read the eval config or the manifest: results.jsonl alone decides, so a
 * crashed, resumed or merged run summarizes the same way.
 */
#include "summarize/summarize.h"

#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "summarize/sum_int.h"

static void set_right(struct sum_tab *t, const bool *right, size_t n)
{
	t->right = xmalloc(n * sizeof(*right));
	memcpy(t->right, right, n * sizeof(*right));
}

/* The pairwise and agreement tables, when the run has them. */
static void print_judged(struct sum_ctx *x, FILE *out)
{
	static const bool right_pw[] = {false, true, true, true, true, false, true};
	static const bool right_agree[] = {false, false, true, true, true};
	if (x->pw_tab.n > 1) {
		set_right(&x->pw_tab, right_pw, sizeof(right_pw) / sizeof(right_pw[0]));
		fprintf(out, "\npairwise: the judge's verdicts, each shadow vs its reference "
			     "(win rate over decided items, exact sign test, alpha 0.05)\n");
		sum_tab_print(&x->pw_tab, out);
	}
	if (x->agree_tab.n > 1) {
		set_right(&x->agree_tab, right_agree, sizeof(right_agree) / sizeof(right_agree[0]));
		fprintf(out, "\nagreement: each judge check vs the text checks on the same "
			     "lines\n");
		sum_tab_print(&x->agree_tab, out);
	}
}

static void print_tables(struct sum_ctx *x, FILE *out)
{
	static const bool right_models[] = {false, true, true, true, true, true, true, true};
	static const bool right_pairs[] = {false, true, true, true, true, false, true, true};
	static const bool right_swaps[] = {false, false, true, true, true, false, true};
	const char *corr = stats_correction_name(x->correction);
	set_right(&x->models_tab, right_models, sizeof(right_models) / sizeof(right_models[0]));
	set_right(&x->pairs_tab, right_pairs, sizeof(right_pairs) / sizeof(right_pairs[0]));
	set_right(&x->swaps_tab, right_swaps, sizeof(right_swaps) / sizeof(right_swaps[0]));
	fprintf(out, "models (errors count as failures)\n");
	sum_tab_print(&x->models_tab, out);
	fprintf(out,
		"\npairs: each shadow vs the routed primary on the same items "
		"(McNemar exact, alpha 0.05; p adj: %s over the %zu shadows)\n",
		corr, x->pairs_family);
	if (x->pairs_tab.n > 1)
		sum_tab_print(&x->pairs_tab, out);
	else
		fprintf(out, "(no shadow results)\n");
	fprintf(out,
		"\nswaps: the whole policy with one slot's model replaced (verdicts: %s over the "
		"%zu swaps)\n",
		corr, x->swaps_family);
	if (x->swaps_tab.n > 1)
		sum_tab_print(&x->swaps_tab, out);
	else
		fprintf(out, "(no candidate ran on a slot's items)\n");
	print_judged(x, out);
	if (x->torn)
		fprintf(out, "\n(a torn last line of results.jsonl was skipped)\n");
}

int sum_run_dir(const char *dir, FILE *table, struct se_err *err)
{
	return sum_run_dir_corr(dir, table, STATS_HOLM, err);
}

int sum_write_all(struct sum_ctx *x, FILE *table, struct se_err *err)
{
	sum_tab_init(&x->models_tab);
	sum_tab_init(&x->pairs_tab);
	sum_tab_init(&x->swaps_tab);
	sum_tab_init(&x->pw_tab);
	sum_tab_init(&x->agree_tab);
	struct sum_line *h = sum_tab_row(&x->agree_tab);
	static const char *const ah[] = {"judge check", "judge", "n", "agreement", "kappa"};
	for (size_t i = 0; i < sizeof(ah) / sizeof(ah[0]); i++)
		sum_line_str(h, ah[i]);
	if (x->judges)
		sum_judges_sort(x->judges);
	/* slots first: pairs and swaps name each slot's model from it */
	int rc = sum_write_slots(x, err);
	if (!rc)
		rc = sum_write_models(x, err);
	if (!rc)
		rc = sum_write_tasks(x, err);
	if (!rc)
		rc = sum_write_pairs(x, err);
	if (!rc)
		rc = sum_write_swaps(x, err);
	if (!rc)
		rc = sum_write_pairwise(x, err);
	if (!rc)
		rc = sum_write_agreement(x, err);
	if (!rc && table)
		print_tables(x, table);
	if (x->slot_models)
		for (size_t i = 0; i < x->names.nslots; i++)
			free(x->slot_models[i]);
	free(x->slot_models);
	x->slot_models = NULL;
	sum_tab_free(&x->models_tab);
	sum_tab_free(&x->pairs_tab);
	sum_tab_free(&x->swaps_tab);
	sum_tab_free(&x->pw_tab);
	sum_tab_free(&x->agree_tab);
	return rc;
}

int sum_run_dir_corr(const char *dir, FILE *table, enum stats_correction c, struct se_err *err)
{
	char *path = fio_join(dir, "results.jsonl");
	struct sum_store s;
	sum_store_init(&s);
	struct sum_agg a;
	memset(&a, 0, sizeof(a));
	struct sum_judges judges;
	sum_judges_init(&judges, false);
	s.judges = &judges;
	int rc = sum_store_load(&s, path, err);
	if (!rc)
		rc = sum_store_finish(&s, path, err);
	if (!rc) {
		/* exact: every latency kept; items in canonical order */
		sum_agg_init(&a, false, s.nmodels, s.ntasks, s.nslots);
		struct sum_view v;
		sum_view_init(&v, &s);
		for (size_t r = 0; r < s.nitems; r++) {
			sum_view_load(&v, &s, r);
			sum_agg_item(&a, &v);
		}
		sum_view_free(&v);
		struct sum_ctx x = {
		    .a = &a, .dir = dir, .correction = c, .torn = s.torn, .judges = &judges};
		x.names = (struct sum_names){s.model_name, s.task_name, s.slot_name,
					     s.nmodels,	   s.ntasks,	s.nslots};
		rc = sum_write_all(&x, table, err);
		if (!rc)
			rc = sum_write_samples(dir, path, table, err);
	}
	sum_agg_free(&a);
	sum_judges_free(&judges);
	sum_store_free(&s);
	free(path);
	return rc;
}
