/* cmd_summarize.c: `shadoweval summarize DIR [--correction holm|bh|none]`,
 * every CSV rebuilt from DIR/results.jsonl (see summarize/). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runlock.h"
#include "summarize/summarize.h"

int cli_parse_correction(const char *s, enum stats_correction *out, struct se_err *err)
{
	if (stats_correction_parse(s, out))
		return se_fail(err, SE_USAGE, "--correction",
			       "expected holm, bh or none, got \"%s\"", s);
	return 0;
}

static const char summarize_usage[] =
    "usage: shadoweval summarize DIR [--correction holm|bh|none]\n"
    "  rebuilds models.csv, tasks.csv, slots.csv, pairs.csv and swaps.csv\n"
    "  from DIR/results.jsonl and prints the models and pairs tables\n"
    "  --correction C   how each family of verdicts is adjusted (default holm)\n"
    "example:\n"
    "  shadoweval summarize runs/demo --correction bh\n";

static const struct option summarize_opts[] = {
    {"correction", required_argument, NULL, 'C'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int take_correction(void *ctx, int c, const char *arg, struct se_err *err)
{
	if (c != 'C')
		return 1;
	return cli_parse_correction(arg, ctx, err);
}

int cmd_summarize(int argc, char **argv, struct se_err *err)
{
	enum stats_correction corr = STATS_HOLM;
	int rc = flag_scan(argc, argv, ":h", summarize_opts, summarize_usage, take_correction,
			   &corr, err);
	if (rc)
		return rc > 0 ? 0 : -1;
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "expected one run folder DIR");
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL, "expected one run folder DIR, got \"%s\"",
			       argv[optind + 1]);
	int lock;
	if (run_lock_existing(argv[optind], "summarize", &lock, err))
		return -1;
	rc = sum_run_dir_corr(argv[optind], stdout, corr, err);
	run_lock_release(lock);
	return rc;
}
