/* outpath.c: a named output never replaces what a command reads nor a run
 * or cache folder's own file (see outpath.h). */
#include "cli/outpath.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/esc.h"
#include "core/fileio.h"
#include "core/xalloc.h"

/* A kind of folder: the file that marks one, and the files it owns. */
struct owned {
	const char *what;
	const char *const *markers;
	const char *const *files;
};

static const char *const run_markers[] = {"manifest.json", "results.jsonl", NULL};
static const char *const run_files[] = {"manifest.json",
					"results.jsonl",
					"run.lock",
					"models.csv",
					"tasks.csv",
					"slots.csv",
					"pairs.csv",
					"swaps.csv",
					"pairwise.csv",
					"agreement.csv",
					"samples.csv",
					"stopping.csv",
					"report.html",
					"recommended.json",
					"sweep.csv",
					"pareto.csv",
					NULL};
static const char *const cache_markers[] = {"cache.sqlite", NULL};
static const char *const cache_files[] = {"cache.sqlite", "cache.sqlite-wal", "cache.sqlite-shm",
					  "cache.sqlite-journal", NULL};
static const struct owned kinds[] = {
    {"run folder", run_markers, run_files},
    {"response cache", cache_markers, cache_files},
};

static bool listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return true;
	return false;
}

static bool holds_any(const char *dir, const char *const *names)
{
	bool found = false;
	for (; *names && !found; names++) {
		char *p = fio_join(dir, *names);
		struct stat st;
		found = stat(p, &st) == 0;
		free(p);
	}
	return found;
}

int out_path_check(const char *flag, const char *out, const char *const *reads, size_t n,
		   struct se_err *err)
{
	struct stat o;
	if (stat(out, &o) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct stat r;
			if (reads[i] && stat(reads[i], &r) == 0 && r.st_dev == o.st_dev &&
			    r.st_ino == o.st_ino)
				return se_fail(err, SE_USAGE, flag,
					       "\"%s\" is %s, which this command reads; write "
					       "elsewhere",
					       esc_term_str(out, 0), esc_term_str(reads[i], 1));
		}
	}
	const char *slash = strrchr(out, '/');
	const char *name = slash ? slash + 1 : out;
	char *dir = slash ? xstrndup(out, (size_t)(slash - out) + (slash == out)) : xstrdup(".");
	int rc = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !rc; k++)
		if (listed(kinds[k].files, name) && holds_any(dir, kinds[k].markers))
			rc = se_fail(err, SE_USAGE, flag,
				     "\"%s\" would replace the %s's own %s in %s; write elsewhere",
				     esc_term_str(out, 0), kinds[k].what, name,
				     esc_term_str(dir, 1));
	free(dir);
	return rc;
}
