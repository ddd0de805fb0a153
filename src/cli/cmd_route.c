/* cmd_route.c: `shadoweval route EVAL.json [--csv] [--limit N]`, the routing
 * policy applied to every item, with the reason, sending nothing. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/walk.h"
#include "config/config.h"
#include "core/csvw.h"
#include "dataset/dataset.h"
#include "route/route.h"

static const char route_usage[] =
    "usage: shadoweval route EVAL.json [--csv] [--limit N]\n"
    "  prints, per item, the slot and model the routing policy picks and why\n"
    "  --csv      machine-readable: id,task,est_tokens,slot,model,rule\n"
    "  --limit N  only the first N items (default: all)\n"
    "example:\n"
    "  shadoweval route evals/demo.json --limit 10\n";

static void csv_field(FILE *out, const char *s, int last)
{
	csvw_fcell(out, s, CSVW_FIRST | CSVW_QUOTE); /* neutralised against formulas */
	fputc(last ? '\n' : ',', out);
}

struct route_print {
	const struct cfg *cfg;
	int as_csv;
};

static int print_item(void *ctx, const struct ds_item *item, long est,
		      const struct route_decision *d)
{
	const struct route_print *p = ctx;
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
		printf("%-24s %-10s %8ld  %-10s %-36s %s\n", item->id, item->task, est, slot, model,
		       d->why);
	}
	return 0;
}

int cmd_route(int argc, char **argv, struct se_err *err)
{
	static const struct option opts[] = {
	    {"csv", no_argument, NULL, 'c'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int as_csv = 0, c;
	long limit = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			as_csv = 1;
			break;
		case 'l':
			if (flag_parse_long("--limit", optarg, 0, 1L << 40, &limit, err))
				return -1;
			break;
		case 'h':
			fputs(route_usage, stdout);
			return 0;
		default:
			return flag_bad_option(c, argv, opts, err);
		}
	}
	if (optind != argc - 1)
		return se_fail(err, SE_USAGE, NULL, "expected one EVAL.json");

	struct cfg *cfg;
	if (cfg_load(argv[optind], &cfg, err))
		return -1;
	if (as_csv)
		fputs("id,task,est_tokens,slot,model,rule\n", stdout);
	else
		printf("%-24s %-10s %8s  %-10s %-36s %s\n", "id", "task", "est_tok", "slot",
		       "model", "rule");
	struct route_print ctx = {cfg, as_csv};
	int rc = cli_walk_items(cfg, limit, print_item, &ctx, err);
	if (fflush(stdout) != 0 && rc == 0)
		rc = se_fail_errno(err, "stdout", "write failed");
	cfg_free(cfg);
	return rc;
}
