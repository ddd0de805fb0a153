/* cmd_route.c: `shadoweval route EVAL.json [--csv] [--limit N]`, the routing
 * policy applied to every item, with the reason, sending nothing; and
 * `route EVAL.json --diff [OTHER.json]`, which items another policy (OTHER's,
 * or EVAL's with --set/--routing) sends to another slot or model, counted
 * per (old slot -> new slot) pair, before anything is spent. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/evalflags.h"
#include "cli/walk.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/csvw.h"
#include "core/esc.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "route/route.h"

static const char route_usage[] =
    "usage: shadoweval route EVAL.json [--csv] [--limit N] [--set PATH=JSON]...\n"
    "                       [--routing FILE]\n"
    "       shadoweval route EVAL.json --diff [OTHER.json] [--items] [--set ...]\n"
    "  prints, per item, the slot and model the routing policy picks and why;\n"
    "  with --diff, how many items another policy routes differently\n"
    "  --csv          machine-readable: id,task,est_tokens,slot,model,rule; with\n"
    "                 --diff old_slot,old_model,new_slot,new_model,items, and with\n"
    "                 --items id,task,old_slot,old_model,new_slot,new_model,new_rule\n"
    "  --limit N      only the first N items (default: all)\n" CLI_EVALFLAGS_HELP CLI_CACHEFLAG_HELP
    "  --diff         compare EVAL.json's policy (old) with OTHER.json's, or with\n"
    "                 EVAL.json's after --set/--routing (new); the items are\n"
    "                 EVAL.json's dataset; prints counts per (old slot -> new slot)\n"
    "  --items        with --diff, also list each item that changes slot or model\n"
    "example:\n"
    "  shadoweval route evals/demo.json --limit 10\n"
    "  shadoweval route evals/demo.json --diff --set 'routing.default=\"fast\"'\n";

static void csv_field(FILE *out, const char *s, int last)
{
	csvw_fcell(out, s, CSVW_FIRST | CSVW_QUOTE); /* neutralised against formulas */
	fputc(last ? '\n' : ',', out);
}

struct route_print {
	const struct cfg *cfg;
	int as_csv;
	long items; /* printed */
};

static int print_item(void *ctx, const struct ds_item *item, long est,
		      const struct route_decision *d)
{
	struct route_print *p = ctx;
	p->items++;
	const char *slot = p->cfg->slots[d->slot].name;
	const char *model = p->cfg->models[d->model].id;
	if (p->as_csv) {
		char num[32];
		snprintf(num, sizeof(num), "%ld", est);
		csv_field(stdout, item->id, 0);
		csv_field(stdout, item->task, 0);
		csv_field(stdout, num, 0);
		csv_field(stdout, slot, 0);
		csv_field(stdout, model, 0);
		csv_field(stdout, d->why, 1);
	} else {
		/* an id or a task from the dataset shows its control bytes */
		printf("%-24s %-10s %8ld  %-10s %-36s %s\n", esc_term_str(item->id, 0),
		       esc_term_str(item->task, 1), est, slot, model, d->why);
	}
	return 0;
}

/* ---- --diff --------------------------------------------------------------- */

struct move {
	int old_slot, new_slot; /* slot indices in the old and the new config */
	long n;
};

struct route_diff {
	const struct cfg *old, *neu;
	bool items, as_csv;
	struct buf messages;
	struct move *moves;
	size_t n_moves, cap_moves;
	long total, changed;
	struct se_err *err;
};

static bool moved(const struct route_diff *x, int old_slot, int new_slot)
{
	const struct cfg *o = x->old, *n = x->neu;
	return strcmp(o->slots[old_slot].name, n->slots[new_slot].name) ||
	       strcmp(o->models[o->slots[old_slot].model].id,
		      n->models[n->slots[new_slot].model].id);
}

static int diff_item(void *ctx, const struct ds_item *item, long est,
		     const struct route_decision *d)
{
	struct route_diff *x = ctx;
	(void)est;
	long est_new;
	buf_reset(&x->messages);
	if (prompt_render(x->neu, item, &x->messages, &est_new, x->err))
		return -1;
	struct route_decision nd;
	route_pick(x->neu, item, est_new, &nd);
	x->total++;
	size_t i = 0;
	while (i < x->n_moves &&
	       (x->moves[i].old_slot != d->slot || x->moves[i].new_slot != nd.slot))
		i++;
	if (i == x->n_moves) {
		x->moves = xgrow(x->moves, &x->cap_moves, x->n_moves + 1, sizeof(*x->moves));
		x->moves[x->n_moves++] = (struct move){d->slot, nd.slot, 0};
	}
	x->moves[i].n++;
	if (!moved(x, d->slot, nd.slot))
		return 0;
	x->changed++;
	if (!x->items)
		return 0;
	const char *os = x->old->slots[d->slot].name, *ns = x->neu->slots[nd.slot].name;
	const char *om = x->old->models[d->model].id, *nm = x->neu->models[nd.model].id;
	if (x->as_csv) {
		csv_field(stdout, item->id, 0);
		csv_field(stdout, item->task, 0);
		csv_field(stdout, os, 0);
		csv_field(stdout, om, 0);
		csv_field(stdout, ns, 0);
		csv_field(stdout, nm, 0);
		csv_field(stdout, nd.why, 1);
	} else {
		printf("  %-24s %-10s %s (%s) -> %s (%s)   %s\n", item->id, item->task, os, om, ns,
		       nm, nd.why);
	}
	return 0;
}

/* The counts per (old slot -> new slot): a table, or CSV rows with --csv
 * (the "N of M" line then goes to stderr, so stdout stays one CSV). */
static void print_moves(const struct route_diff *x)
{
	FILE *head = x->as_csv ? stderr : stdout;
	fprintf(head, "%s%ld of %ld items change slot or model\n",
		x->items && !x->as_csv ? "\n" : "", x->changed, x->total);
	if (x->items && x->as_csv)
		return;
	if (x->as_csv)
		fputs("old_slot,old_model,new_slot,new_model,items\n", stdout);
	else
		printf("  %-12s    %-12s %8s   %s\n", "old slot", "new slot", "items", "model");
	for (size_t i = 0; i < x->n_moves; i++) {
		const struct move *m = &x->moves[i];
		const struct cfg *o = x->old, *n = x->neu;
		const char *os = o->slots[m->old_slot].name, *ns = n->slots[m->new_slot].name;
		const char *om = o->models[o->slots[m->old_slot].model].id;
		const char *nm = n->models[n->slots[m->new_slot].model].id;
		if (x->as_csv) {
			char num[32];
			snprintf(num, sizeof(num), "%ld", m->n);
			csv_field(stdout, os, 0);
			csv_field(stdout, om, 0);
			csv_field(stdout, ns, 0);
			csv_field(stdout, nm, 0);
			csv_field(stdout, num, 1);
			continue;
		}
		printf("  %-12s -> %-12s %8ld   %s%s%s\n", os, ns, m->n, om,
		       strcmp(om, nm) ? " -> " : "", strcmp(om, nm) ? nm : " (unchanged)");
	}
}

static int run_diff(const struct cfg *old, const struct cfg *neu, long limit, bool items,
		    bool as_csv, struct se_err *err)
{
	struct route_diff x = {
	    .old = old, .neu = neu, .items = items, .as_csv = as_csv, .err = err};
	buf_init(&x.messages);
	fprintf(as_csv ? stderr : stdout, "route diff: %s -> %s%s\n", old->path, neu->path,
		neu->n_overrides ? " (with overrides)" : "");
	if (items)
		fputs(as_csv ? "id,task,old_slot,old_model,new_slot,new_model,new_rule\n"
			     : "items that change:\n",
		      stdout);
	int rc = cli_walk_items(old, limit, diff_item, &x, err);
	if (rc == 0)
		print_moves(&x);
	buf_free(&x.messages);
	free(x.moves);
	return rc;
}

enum { O_DIFF = 300, O_ITEMS };
static const struct option route_opts[] = {
    {"csv", no_argument, NULL, 'c'},
    {"limit", required_argument, NULL, 'l'},
    {"diff", no_argument, NULL, O_DIFF},
    {"items", no_argument, NULL, O_ITEMS},
    CLI_EVALFLAGS_OPTIONS,
    CLI_CACHEFLAG_OPTION,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct route_args {
	bool as_csv, diff, items;
	long limit;
	int positional;		 /* operands: EVAL.json [OTHER.json] */
	struct cli_evalflags ef; /* --set, --routing, --cache */
};

static int take_route_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct route_args *a = ctx;
	switch (c) {
	case 'c':
		a->as_csv = true;
		return 0;
	case 'l':
		return flag_parse_long("--limit", arg, 1, 1L << 40, &a->limit, err);
	case O_DIFF:
		a->diff = true;
		return 0;
	case O_ITEMS:
		a->items = true;
		return 0;
	}
	return cli_evalflags_scan_take(&a->ef, c, arg, err);
}

/* The flags, then the operands and the rules between them. Returns 1 when
 * --help was printed, 0 to go on, -1 on a usage error. */
static int parse_route_args(int argc, char **argv, struct route_args *a, struct se_err *err)
{
	int rc = flag_scan(argc, argv, ":h", route_opts, route_usage, take_route_flag, a, err);
	if (rc)
		return rc;
	if (a->items && !a->diff)
		return se_fail(err, SE_USAGE, "--items", "lists the items of a --diff; add --diff");
	a->positional = argc - optind;
	if (a->positional < 1 || a->positional > (a->diff ? 2 : 1))
		return se_fail(err, SE_USAGE, NULL,
			       a->diff ? "expected EVAL.json and at most one OTHER.json"
				       : "expected one EVAL.json");
	if (a->diff && a->positional == 1 && !cli_evalflags_any(&a->ef))
		return se_fail(err, SE_USAGE, "--diff",
			       "nothing to compare: give OTHER.json, or --set / --routing");
	return 0;
}

/* route --diff: EVAL.json's policy (old) against OTHER.json's, or against
 * EVAL.json's after --set/--routing (new). */
static int route_diff(struct route_args *a, const char *eval, const char *other, struct se_err *err)
{
	struct cfg *old, *neu = NULL;
	if (cfg_load(eval, &old, err))
		return -1;
	int rc = -1;
	if (!cli_evalflags_load(&a->ef, other, &neu, err) &&
	    !cli_check_keys(old, a->ef.cache, err) && !cli_check_keys(neu, a->ef.cache, err))
		rc = run_diff(old, neu, a->limit, a->items, a->as_csv, err);
	cfg_free(neu);
	cfg_free(old);
	return rc;
}

/* route: the policy's pick and reason for every item. */
static int route_print(struct route_args *a, const char *eval, struct se_err *err)
{
	struct cfg *cfg = NULL;
	if (cli_evalflags_load(&a->ef, eval, &cfg, err) || cli_check_keys(cfg, a->ef.cache, err)) {
		cfg_free(cfg);
		return -1;
	}
	if (a->as_csv)
		fputs("id,task,est_tokens,slot,model,rule\n", stdout);
	else
		printf("%-24s %-10s %8s  %-10s %-36s %s\n", "id", "task", "est_tok", "slot",
		       "model", "rule");
	struct route_print ctx = {cfg, a->as_csv, 0};
	int rc = cli_walk_items(cfg, a->limit, print_item, &ctx, err);
	if (rc == 0 && ctx.items == 0) /* as validate and run */
		rc = se_fail(err, SE_INPUT, cfg->dataset.path,
			     "the dataset has no items: nothing to route");
	cfg_free(cfg);
	return rc;
}

int cmd_route(int argc, char **argv, struct se_err *err)
{
	struct route_args a = {.limit = -1};
	cli_evalflags_init(&a.ef, argc);
	int rc = parse_route_args(argc, argv, &a, err);
	if (rc == 0) {
		if (a.diff)
			rc = route_diff(&a, argv[optind], argv[optind + a.positional - 1], err);
		else
			rc = route_print(&a, argv[optind], err);
		if (fflush(stdout) != 0 && rc == 0)
			rc = se_fail_errno(err, "stdout", "write failed");
	}
	cli_evalflags_free(&a.ef);
	return rc > 0 ? 0 : rc;
}
