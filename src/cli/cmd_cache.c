/* cmd_cache.c: `shadoweval cache stats|export|import|merge`, the response
 * cache's command line: flags, then the cache's library calls
 * (engine/cache.h for the database, engine/cache_bundle.h for bundles),
 * and what they did on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/outpath.h"
#include "engine/cache.h"
#include "engine/cache_bundle.h"

static const char cache_usage[] =
    "usage: shadoweval cache stats  [--cache-dir DIR]\n"
    "       shadoweval cache export [--cache-dir DIR] -o BUNDLE\n"
    "       shadoweval cache import [--cache-dir DIR] BUNDLE...\n"
    "       shadoweval cache merge  -o BUNDLE BUNDLE...\n"
    "\n"
    "The response cache of run --cache (one SQLite file, DIR/cache.sqlite) and\n"
    "its bundles (zstd-compressed JSON lines: a CI artifact, a file to commit).\n"
    "  stats    entries, size on disk and per model, and SQLite's quick_check\n"
    "  export   every entry into one bundle (no key or header: none is cached)\n"
    "  import   bundles into the cache; a key already there keeps its entry (a\n"
    "           different answer is a conflict, reported); importing twice\n"
    "           changes nothing\n"
    "  merge    bundles into one bundle; the first one holding a key gives it\n"
    "\n"
    "options:\n"
    "  --cache-dir DIR   the cache folder (default .shadoweval-cache)\n"
    "  -o, --out BUNDLE  the bundle to write (export and merge: required)\n"
    "  -h, --help        this help\n"
    "\n"
    "example:\n"
    "  shadoweval cache export -o cache.jsonl.zst    # on the machine that ran\n"
    "  shadoweval cache import cache.jsonl.zst       # on another, then --cache replay\n"
    "\n"
    "exit: 0 done (conflicts included), 2 bad input or a damaged cache\n";

struct cache_args {
	const char *dir;
	const char *out;
	int first; /* argv index of the first operand */
};

static const struct option cache_opts[] = {
    {"cache-dir", required_argument, NULL, 'd'},
    {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int take_cache_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct cache_args *a = ctx;
	(void)err;
	if (c == 'd')
		a->dir = arg;
	else if (c == 'o')
		a->out = arg;
	else
		return 1;
	return 0;
}

static void print_stats(const struct eng_cache *c, const struct eng_cache_stats *s)
{
	printf("cache           %s\n", eng_cache_db_path(c));
	printf("entries         %lld\n", s->entries);
	printf("response bytes  %lld\n", s->bytes);
	printf("file bytes      %lld", s->file_bytes);
	if (s->bytes > 0)
		printf(" (%.2f times the response bytes)",
		       (double)s->file_bytes / (double)s->bytes);
	printf("\nquick_check     %s\n", s->check);
	if (!s->n_sources)
		return;
	printf("\n%-40s %10s %14s  %s\n", "model", "entries", "bytes", "url");
	for (size_t i = 0; i < s->n_sources; i++) {
		const struct eng_cache_source_stats *o = &s->sources[i];
		/* entries moved from the old layout did not keep them */
		printf("%-40s %10lld %14lld  %s\n", o->model[0] ? o->model : "(unknown: migrated)",
		       o->entries, o->bytes, o->url[0] ? o->url : "(unknown: migrated)");
	}
}

static int do_stats(struct eng_cache *c, struct se_err *err)
{
	struct eng_cache_stats s;
	int rc = eng_cache_stats(c, &s, err);
	if (!rc) {
		print_stats(c, &s);
		if (strcmp(s.check, "ok"))
			rc = se_fail(err, SE_INPUT, eng_cache_db_path(c),
				     "the response cache is damaged (quick_check: %s); rebuild it: "
				     "shadoweval cache export -o BUNDLE may still read most of it, "
				     "else remove the file and run with --cache use",
				     s.check);
	}
	eng_cache_stats_free(&s);
	return rc;
}

static void print_counts(const char *what, const struct eng_bundle_counts *n)
{
	printf("%s: %lld added, %lld unchanged, %lld conflicts (the entry already there kept)\n",
	       what, n->added, n->same, n->conflicts);
}

int cmd_cache(int argc, char **argv, struct se_err *err)
{
	struct cache_args a = {ENG_CACHE_DIR_DEFAULT, NULL, 0};
	int p = flag_scan(argc, argv, ":o:h", cache_opts, cache_usage, take_cache_flag, &a, err);
	if (p)
		return p > 0 ? 0 : -1;
	a.first = optind;
	/* getopt has moved the operands last: the subcommand, then bundles */
	if (a.first >= argc)
		return se_fail(err, SE_USAGE, NULL,
			       "expected a subcommand: stats, export, import or merge");
	const char *sub = argv[a.first];
	char **ops = argv + a.first + 1;
	int n_ops = argc - a.first - 1;
	bool is_stats = !strcmp(sub, "stats"), is_export = !strcmp(sub, "export"),
	     is_import = !strcmp(sub, "import"), is_merge = !strcmp(sub, "merge");
	if (!is_stats && !is_export && !is_import && !is_merge)
		return se_fail(
		    err, SE_USAGE, sub,
		    "unknown cache subcommand (expected stats, export, import or merge)");
	if ((is_stats || is_export) && n_ops)
		return se_fail(err, SE_USAGE, ops[0], "%s takes no operand", sub);
	if ((is_import || is_merge) && !n_ops)
		return se_fail(err, SE_USAGE, NULL, "%s: expected one or more BUNDLE files", sub);
	if ((is_export || is_merge) && !a.out)
		return se_fail(err, SE_USAGE, NULL, "%s: missing -o BUNDLE (the file to write)",
			       sub);
	if ((is_stats || is_import) && a.out)
		return se_fail(err, SE_USAGE, "-o", "%s writes no bundle", sub);
	if (a.out && out_path_check("-o", a.out, (const char *const *)ops, (size_t)n_ops, err))
		return -1;
	struct eng_bundle_counts n = {0};
	if (is_merge) {
		if (eng_bundle_merge(a.out, ops, (size_t)n_ops, &n, stderr, err))
			return -1;
		char what[600];
		snprintf(what, sizeof(what), "merged %d bundles into %s", n_ops, a.out);
		print_counts(what, &n);
		return 0;
	}
	struct eng_cache *c;
	if (is_import ? eng_cache_open(&c, a.dir, true, stderr, err)
		      : eng_cache_open_readonly(&c, a.dir, stderr, err))
		return -1;
	int rc = 0;
	if (is_stats) {
		rc = do_stats(c, err);
	} else if (is_export) {
		long long count = 0;
		rc = eng_bundle_export(c, a.out, &count, err);
		struct stat sb;
		if (!rc && stat(a.out, &sb) == 0)
			printf("exported %lld entries to %s (%lld bytes)\n", count, a.out,
			       (long long)sb.st_size);
	} else {
		for (int i = 0; !rc && i < n_ops; i++) {
			struct eng_bundle_counts one = {0};
			rc = eng_bundle_import(c, ops[i], &one, stderr, err);
			if (!rc) {
				char what[600];
				snprintf(what, sizeof(what), "imported %s", ops[i]);
				print_counts(what, &one);
			}
		}
	}
	struct se_err cerr;
	if (eng_cache_close(c, rc ? &cerr : err))
		rc = -1;
	return rc;
}
