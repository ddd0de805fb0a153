/* cmd_merge.c: `shadoweval merge DIR... -o OUT [--quiet]`, the merge's
 * command line: flags, then mg_merge (merge/merge.c, whose opening comment
 * lists the rules), and the closing line on stderr.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runlock.h"
#include "core/fileio.h"
#include "merge/merge.h"

static const char merge_usage[] =
    "usage: shadoweval merge DIR... -o OUT [--allow-partial] [--quiet]\n"
    "\n"
    "Joins the run folders of one eval run made in shards (run --shard K/N) or in\n"
    "parts into one run folder OUT: every results line once, a manifest, and the\n"
    "summaries (models.csv, tasks.csv, ...). All inputs must come from the same\n"
    "config and dataset; each (item, model) pair may appear in one input only\n"
    "(byte-identical copies are collapsed). Shards must share N and --shard-by,\n"
    "hold each K at most once and no item twice. Missing shards, and the\n"
    "dataset items no shard holds, are an error that lists them (by K/N, items\n"
    "by id), unless --allow-partial: then they are warnings, the merged\n"
    "manifest's status is \"incomplete\" and it records \"allow_partial\": true.\n"
    "\n"
    "options:\n"
    "  -o, --out OUT   the merged run folder, which must not exist or be empty\n"
    "                  (required)\n"
    "      --allow-partial\n"
    "                  merge an incomplete shard set (default: off, exit 2)\n"
    "  -q, --quiet     no tables, no closing line\n"
    "  -h, --help      this help\n"
    "\n"
    "\n"
    "exit: 0 merged, 2 bad input\n"
    "example:\n"
    "  shadoweval merge runs/shard-1 runs/shard-2 -o runs/all\n"
    "  shadoweval merge runs/shard-1 runs/shard-3 -o runs/some --allow-partial\n";

static const struct option merge_opts[] = {
    {"out", required_argument, NULL, 'o'},
    {"allow-partial", no_argument, NULL, 'P'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct merge_args {
	const char *out;
	bool quiet, partial;
};

static int take_merge_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct merge_args *a = ctx;
	(void)err;
	if (c == 'o')
		a->out = arg;
	else if (c == 'q')
		a->quiet = true;
	else if (c == 'P')
		a->partial = true;
	else
		return 1;
	return 0;
}

/* OUT's lock, and what was there before it, to leave no trace of a merge
 * that failed. */
struct out_lock {
	int fd;
	bool made_dir, made_file;
};

/* After a failed merge, the lock file and folder it made are removed
 * (mg_merge has removed what it wrote). */
static void unlock_out(const char *out, const struct out_lock *ol, bool failed)
{
	if (failed && ol->made_file) {
		char *lp = fio_join(out, "run.lock");
		if (ol->fd >= 0)
			unlink(lp);
		free(lp);
	}
	run_lock_release(ol->fd);
	if (failed && ol->made_dir)
		rmdir(out);
}

/* OUT is made (when missing) and locked as a run folder is, so that no
 * run, summarize or other merge writes into it meanwhile. An OUT that is
 * not a folder is left to mg_merge, which says so. */
static int lock_out(const char *out, struct out_lock *ol, struct se_err *err)
{
	struct stat st;
	ol->fd = -1;
	ol->made_dir = stat(out, &st) != 0;
	if (!ol->made_dir && !S_ISDIR(st.st_mode)) {
		ol->made_file = false;
		return 0;
	}
	if (ol->made_dir && fio_mkdirs(out, err))
		return -1;
	char *lp = fio_join(out, "run.lock");
	ol->made_file = access(lp, F_OK) != 0;
	free(lp);
	if (run_lock_take(out, "merge", 0, &ol->fd, err)) {
		unlock_out(out, ol, true);
		return -1;
	}
	return 0;
}

int cmd_merge(int argc, char **argv, struct se_err *err)
{
	struct merge_args a = {NULL, false, false};
	int rc = flag_scan(argc, argv, ":o:qh", merge_opts, merge_usage, take_merge_flag, &a, err);
	if (rc)
		return rc > 0 ? 0 : -1;
	const char *out = a.out;
	bool quiet = a.quiet;
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "expected one or more run folders DIR");
	if (!out)
		return se_fail(err, SE_USAGE, NULL, "missing -o OUT (the merged run folder)");
	struct mg_opts o = {quiet ? NULL : stdout, stderr, a.partial};
	struct mg_report rep;
	struct out_lock ol;
	if (lock_out(out, &ol, err))
		return -1;
	rc = mg_merge((const char *const *)argv + optind, (size_t)(argc - optind), out, &o, &rep,
		      err);
	unlock_out(out, &ol, rc != 0);
	if (rc)
		return -1;
	if (!quiet)
		fprintf(stderr,
			"merged %zu results from %zu folder%s into %s (%zu identical duplicates "
			"dropped, %zu torn lines skipped)%s\n",
			rep.lines, rep.inputs, rep.inputs == 1 ? "" : "s", out, rep.identical,
			rep.torn, rep.complete ? "" : ", status incomplete");
	return 0;
}
