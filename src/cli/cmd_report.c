/* cmd_report.c: `shadoweval report DIR [-o FILE]`, the report page's command
 * line: flags only; the page is rep_write's (report/report.c). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/outpath.h"
#include "cli/runlock.h"
#include "core/fileio.h"
#include "report/report.h"
#include "summarize/summarize.h"

static const char usage_text[] =
    "usage: shadoweval report DIR [-o FILE] [--correction holm|bh|none]\n"
    "  writes one self-contained HTML page (inline CSS and SVG charts, nothing\n"
    "  fetched) from the run folder's summaries and manifest; missing summaries\n"
    "  are rebuilt from DIR/results.jsonl first\n"
    "  -o, --output FILE  where to write it (default DIR/report.html)\n"
    "  --correction C     first rebuild the summaries with this adjustment of each\n"
    "                     family of verdicts (default: show them as summarized)\n"
    "example:\n"
    "  shadoweval report runs/demo -o demo.html\n";

static const struct option report_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"correction", required_argument, NULL, 'C'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct report_args {
	const char *out;
	enum stats_correction corr;
	bool recorrect;
};

static int take_report_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct report_args *a = ctx;
	switch (c) {
	case 'o':
		if (a->out)
			return se_fail(err, SE_USAGE, "--output", "given twice");
		a->out = arg;
		return 0;
	case 'C':
		a->recorrect = true;
		return cli_parse_correction(arg, &a->corr, err);
	}
	return 1;
}

/* -o DIR/report.html names the page report writes by default. */
static bool is_own_page(const char *dir, const char *out)
{
	char *page = fio_join(dir, "report.html");
	struct stat a, b;
	bool same = strcmp(page, out) == 0 || (stat(page, &a) == 0 && stat(out, &b) == 0 &&
					       a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	free(page);
	return same;
}

int cmd_report(int argc, char **argv, struct se_err *err)
{
	struct report_args a = {NULL, STATS_HOLM, false};
	int rc = flag_scan(argc, argv, ":o:h", report_opts, usage_text, take_report_flag, &a, err);
	if (rc)
		return rc > 0 ? 0 : -1;
	const char *dir = NULL, *out = a.out;
	enum stats_correction corr = a.corr;
	bool recorrect = a.recorrect;
	if (optind < argc)
		dir = argv[optind];
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL,
			       "expected one run folder DIR, got \"%s\" and \"%s\"", dir,
			       argv[optind + 1]);
	if (!dir)
		return se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
	if (out && !*out)
		return se_fail(err, SE_USAGE, "-o", "expects a file name");
	if (out && !is_own_page(dir, out) && out_path_check("-o", out, NULL, 0, err))
		return -1;
	/* under DIR's lock, even with -o elsewhere: report writes DIR's
	 * summaries when one is missing (rep_write), and re-corrects them */
	int lock = -1;
	if (run_lock_existing(dir, "report", &lock, err))
		return -1;
	rc = (recorrect && sum_run_dir_corr(dir, NULL, corr, err)) || rep_write(dir, out, err);
	run_lock_release(lock);
	if (rc)
		return -1;
	if (out)
		printf("wrote %s\n", out);
	else {
		char *p = fio_join(dir, "report.html");
		printf("wrote %s\n", p);
		free(p);
	}
	return 0;
}
