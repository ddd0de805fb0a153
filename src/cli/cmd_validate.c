/* cmd_validate.c: `shadoweval validate EVAL.json`: load the config, stream the
 * whole dataset through rendering and routing, and print what a run would do
 * (items, per-task and per-slot counts, models and roles, requests, estimated
 * cost) without sending anything. Memory: counters per task, slot and model;
 * nothing per item. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "checks/judge.h"
#include "cli/cli.h"
#include "cli/evalflags.h"
#include "cli/walk.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/esc.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "pricing/pricing.h"
#include "prompt/prompt.h"
#include "route/route.h"

/* Completion tokens assumed per request when params.max_tokens is not set. */
#define VALIDATE_DEFAULT_COMPLETION 256

struct task_count {
	char *task;
	long n;
};

struct model_plan {
	long as_primary;
	long as_shadow;
	long prompt_tokens; /* estimated, over every request to the model */
	/* as a judge: its requests (one per judged line and judge check, two
	 * per shadow line and pairwise check) and their estimated tokens */
	long as_judge;
	long judge_prompt_tokens;
	long judge_completion_tokens;
};

/* A judge prompt's own text (the rubric around the answers), in tokens. */
#define VALIDATE_JUDGE_FRAME_TOKENS 100

struct plan {
	const struct cfg *cfg;
	const char *needs_expected; /* the first check that compares with expected, or NULL */
	struct se_err *err;
	long items;
	struct task_count *tasks;
	size_t n_tasks, cap_tasks;
	long *per_slot;
	struct model_plan *models;
	struct route_lint *lint;
};

static void count_task(struct plan *p, const char *task)
{
	for (size_t i = 0; i < p->n_tasks; i++)
		if (!strcmp(p->tasks[i].task, task)) {
			p->tasks[i].n++;
			return;
		}
	p->tasks = xgrow(p->tasks, &p->cap_tasks, p->n_tasks + 1, sizeof(*p->tasks));
	p->tasks[p->n_tasks].task = xstrdup(task);
	p->tasks[p->n_tasks].n = 1;
	p->n_tasks++;
}

static int shadow_role(const struct cfg *cfg, int model)
{
	for (size_t i = 0; i < cfg->n_shadows; i++)
		if (cfg->shadows[i] == model)
			return 1;
	return 0;
}

/* The judge requests of an item of `task` with `lines` lines, `shadows` of
 * them shadow lines: each judge check that applies to the task grades every
 * line, a pairwise check
 * compares each shadow line with its reference in both orders. A prompt is
 * the item's prompt, the answers (the graded max_tokens each) and the
 * rubric's frame. */
static void plan_judges(struct plan *p, const char *task, long est, long lines, long shadows)
{
	const struct cfg *cfg = p->cfg;
	long answer =
	    cfg->params.max_tokens > 0 ? cfg->params.max_tokens : VALIDATE_DEFAULT_COMPLETION;
	for (size_t i = 0; i < cfg->checks.n; i++) {
		const struct jdg_check *jc = chk_model_graded(&cfg->checks, i);
		if (!jc || !chk_applies(&cfg->checks, i, task))
			continue;
		bool pw = jc->kind == JDG_PAIRWISE;
		long n = pw ? 2 * shadows : lines;
		struct model_plan *mp = &p->models[jc->model];
		mp->as_judge += n;
		mp->judge_prompt_tokens +=
		    n * (est + (pw ? 2 : 1) * answer + VALIDATE_JUDGE_FRAME_TOKENS);
		mp->judge_completion_tokens += n * jc->max_tokens;
	}
}

static int plan_item(void *ctx, const struct ds_item *item, long est,
		     const struct route_decision *d)
{
	struct plan *p = ctx;
	const struct cfg *cfg = p->cfg;
	if (p->needs_expected && item->n_expected == 0) {
		/* every run of this item would fail that check: say so now */
		char where[600];
		snprintf(where, sizeof(where), "%s:%zu", cfg->dataset.path, item->line);
		return se_fail(p->err, SE_INPUT, where,
			       "item \"%s\" has no expected answer (field \"%s\"%s), which check "
			       "\"%s\" needs",
			       item->id,
			       cfg->dataset.expected_field ? cfg->dataset.expected_field
							   : "expected",
			       cfg->dataset.expected_regex ? ", after dataset.expected.regex" : "",
			       p->needs_expected);
	}
	p->items++;
	route_lint_item(p->lint, item, d);
	count_task(p, item->task);
	p->per_slot[d->slot]++;
	p->models[d->model].as_primary++;
	p->models[d->model].prompt_tokens += est;
	long shadows = 0;
	for (size_t i = 0; i < cfg->n_shadows; i++) {
		int m = cfg->shadows[i];
		if (m == d->model)
			continue;
		p->models[m].as_shadow++;
		p->models[m].prompt_tokens += est;
		shadows++;
	}
	plan_judges(p, item->task, est, 1 + shadows, shadows);
	return 0;
}

static void print_plan(const struct cfg *cfg, const struct plan *p, const struct pricing *prices)
{
	long completion =
	    cfg->params.max_tokens > 0 ? cfg->params.max_tokens : VALIDATE_DEFAULT_COMPLETION;
	printf("eval       %s (%s)\n", cfg->name, cfg->path);
	printf("dataset    %s: %ld items\n", cfg->dataset.path, p->items);
	printf("tasks     ");
	for (size_t i = 0; i < p->n_tasks; i++)
		printf(" %s %ld%s",
		       p->tasks[i].task[0] ? esc_term_str(p->tasks[i].task, 0) : "(none)",
		       p->tasks[i].n, i + 1 < p->n_tasks ? "," : "\n");
	if (!p->n_tasks)
		printf(" (none)\n");
	printf("\nslots (share of items routed to each)\n");
	for (size_t s = 0; s < cfg->n_slots; s++)
		printf("  %-10s %-40s %6ld  %5.1f%%\n", cfg->slots[s].name,
		       cfg->models[cfg->slots[s].model].id, p->per_slot[s],
		       p->items ? 100.0 * (double)p->per_slot[s] / (double)p->items : 0.0);

	printf("\nmodels\n");
	long requests = 0, primary = 0, judge = 0;
	double total = 0;
	int unpriced = 0;
	for (size_t m = 0; m < cfg->n_models; m++) {
		const struct model_plan *mp = &p->models[m];
		long n = mp->as_primary + mp->as_shadow;
		char roles[256] = "";
		for (size_t s = 0; s < cfg->n_slots; s++)
			if (cfg->slots[s].model == (int)m)
				snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles),
					 "%sslot %s", roles[0] ? ", " : "", cfg->slots[s].name);
		if (shadow_role(cfg, (int)m))
			snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%sshadow",
				 roles[0] ? ", " : "");
		if (mp->as_judge)
			snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%sjudge",
				 roles[0] ? ", " : "");
		n += mp->as_judge;
		judge += mp->as_judge;
		if (!roles[0])
			snprintf(roles, sizeof(roles), "fallback only");
		requests += n;
		primary += mp->as_primary;
		const struct price *pr = prices ? pricing_find(prices, cfg->models[m].id) : NULL;
		char cost[48];
		if (!n) {
			snprintf(cost, sizeof(cost), "-");
		} else if (pr) {
			long own = n - mp->as_judge;
			double c = pricing_cost(pr, mp->prompt_tokens + mp->judge_prompt_tokens,
						completion * own + mp->judge_completion_tokens, 0);
			total += c;
			snprintf(cost, sizeof(cost), "$%.4f", c);
		} else {
			snprintf(cost, sizeof(cost), "unknown");
			unpriced++;
		}
		printf("  %-40s %-28s %7ld requests  est. %s\n", cfg->models[m].id, roles, n, cost);
	}
	if (judge)
		printf("\nrequests   %ld (%ld primary + %ld shadow + %ld judge)\n", requests,
		       primary, requests - primary - judge, judge);
	else
		printf("\nrequests   %ld (%ld primary + %ld shadow)\n", requests, primary,
		       requests - primary);
	if (!prices)
		printf("est. cost  unknown (no \"pricing\" file in the config)\n");
	else
		printf(
		    "est. cost  $%.4f upper bound (prompt chars/4, completion %ld tokens each)%s\n",
		    total, completion, unpriced ? "; models without a price not included" : "");
	printf("retry      up to %d attempts, timeout %gs; %zu check(s), combine %s\n",
	       cfg->retry.max_attempts, cfg->timeout_s, cfg->checks.n,
	       cfg->checks.combine == CHK_ANY	     ? "any"
	       : cfg->checks.combine == CHK_WEIGHTED ? "weighted"
						     : "all");
}

static const char validate_usage[] =
    "usage: shadoweval validate EVAL.json [--set PATH=JSON]... [--routing FILE]\n"
    "                           [--cache MODE]\n"
    "  loads config, dataset, checks and pricing, routes every item, and prints\n"
    "  what a run would send (items, slots, models, requests, estimated cost);\n"
    "  warns, by rule index, about a rule that matches no item, a rule an earlier\n"
    "  rule shadows, and metadata keys no item has; exit 2 for an unset API key\n"
    "  variable, an empty dataset, a bad endpoint URL\n" CLI_EVALFLAGS_HELP CLI_CACHEFLAG_HELP
    "example:\n"
    "  shadoweval validate evals/demo.json\n";

static void print_warning(void *ctx, const char *where, const char *msg)
{
	const struct cfg *cfg = ctx;
	fprintf(stderr, "shadoweval validate: warning: %s: %s: %s\n", cfg->path, where, msg);
}

int cmd_validate(int argc, char **argv, struct se_err *err)
{
	static const struct option opts[] = {
	    CLI_EVALFLAGS_OPTIONS,
	    CLI_CACHEFLAG_OPTION,
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_evalflags ef;
	cli_evalflags_init(&ef, argc);
	int rc = -1;
	struct cfg *cfg = NULL;
	struct pricing *prices = NULL;
	struct plan p = {0};
	int scanned =
	    flag_scan(argc, argv, ":h", opts, validate_usage, cli_evalflags_scan_take, &ef, err);
	if (scanned) {
		rc = scanned > 0 ? 0 : -1;
		goto out;
	}
	if (optind != argc - 1) {
		se_fail(err, SE_USAGE, NULL, "expected one EVAL.json");
		goto out;
	}
	if (cli_evalflags_load(&ef, argv[optind], &cfg, err) || cli_check_keys(cfg, ef.cache, err))
		goto out;
	if (cfg->pricing_path && pricing_load(cfg->pricing_path, &prices, err))
		goto out;
	p.cfg = cfg;
	p.needs_expected = chk_needs_expected(&cfg->checks);
	p.err = err;
	p.per_slot = xcalloc(cfg->n_slots, sizeof(*p.per_slot));
	p.models = xcalloc(cfg->n_models, sizeof(*p.models));
	p.lint = route_lint_new(cfg);
	rc = cli_walk_items(cfg, -1, plan_item, &p, err);
	if (rc == 0 && p.items == 0)
		rc = se_fail(err, SE_INPUT, cfg->dataset.path,
			     "the dataset has no items: nothing to run");
	if (rc == 0) {
		print_plan(cfg, &p, prices);
		size_t n = route_lint_report(p.lint, print_warning, cfg);
		if (n)
			printf("warnings   %zu (on stderr)\n", n);
	}
	if (rc == 0 && fflush(stdout) != 0)
		rc = se_fail_errno(err, "stdout", "write failed");
out:
	for (size_t i = 0; i < p.n_tasks; i++)
		free(p.tasks[i].task);
	free(p.tasks);
	free(p.per_slot);
	free(p.models);
	route_lint_free(p.lint);
	pricing_free(prices);
	cfg_free(cfg);
	cli_evalflags_free(&ef);
	return rc;
}
