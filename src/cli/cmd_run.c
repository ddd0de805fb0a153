/* cmd_run.c: `shadoweval run EVAL.json` in three steps: run_prepare (flags,
 * config, the run folder and its lock, --resume checks, the "running"
 * manifest), run_send (the engine) and run_finish (the final manifest, the
 * summaries, the exit status).
 *
 * It does not send requests or write results lines itself: src/engine/ does.
 * Decisions made here (see README "run"):
 * - the default --cache is off: a user running an eval expects fresh answers;
 *   `use` reads hits and stores misses, `replay` never touches the network;
 * - the default run folder is runs/<eval name>; a folder that already holds
 *   results needs --resume (or another -o);
 * - the progress line shows "done/?" until the dataset has been read to its
 *   end (the dataset is streamed, never counted up front);
 * - one run at a time per folder: DIR/run.lock (cli/runlock.h) is held from before
 *   the folder is touched until the process ends, so a second run or
 *   --resume is refused, naming the holder's pid, instead of sending every
 *   request twice into one results.jsonl;
 * - SIGINT, SIGTERM and SIGHUP are caught from the moment the manifest first
 *   says "running" until the process ends (core/stopsig.h): whenever one
 *   comes, the run ends "interrupted" with its manifest and summaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/evalflags.h"
#include "cli/runlock.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/esc.h"
#include "core/fileio.h"
#include "core/stopsig.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "dataset/ds_ids.h"
#include "engine/engine.h"
#include "engine/stop.h"
#include "manifest/manifest.h"
#include "pricing/pricing.h"
#include "results/results.h"
#include "shard/scope.h"
#include "shard/shard.h"
#include "summarize/summarize.h"

#define DEFAULT_CONCURRENCY 32
#define DEFAULT_MIN_ITEMS 50
#define DEFAULT_MARGIN_PTS 2.0
#define DEFAULT_CACHE_DIR ".shadoweval-cache"
#define LOCK_RESERVE (64 << 10) /* bytes run.lock holds for the final manifest */

static const char run_usage[] =
    "usage: shadoweval run EVAL.json [options]\n"
    "\n"
    "Sends every dataset item to the model its routing policy picks (the primary)\n"
    "and, in parallel, to every shadow model; scores each output with the eval's\n"
    "checks; appends one line per (item, model) to DIR/results.jsonl; writes the\n"
    "summaries (models.csv, tasks.csv, ...) and manifest.json at the end.\n"
    "\n"
    "options:\n"
    "  -o, --out DIR          run folder (default runs/<eval name>)\n"
    "      --resume           continue the run in DIR: skip (item, model) pairs\n"
    "                         already written\n"
    "      --limit N          only the first N items, after --shard (default: all)\n"
    "      --shard K/N        only the items of shard K of N (default 1/1: all)\n"
    "      --shard-by S       hash (default: by the item id, stable when items are\n"
    "                         added) | index (0-based index % N == K-1)\n"
    "      --shard-limits L   split (default: each endpoint's rpm and\n"
    "                         max_concurrency divided by N) | whole\n"
    "      --concurrency N    requests in flight at most (default 32)\n"
    "      --cache MODE       off (default) | use | refresh | replay\n"
    "      --cache-dir DIR    response cache folder (default .shadoweval-cache)\n"
    "      --max-cost USD     stop sending new requests before spending more\n"
    "                         (default: no limit)\n"
    "      --endpoint NAME=URL  override an endpoint's base_url (repeatable;\n"
    "                         default: the config's)\n"
    "      --correction C     holm (default) | bh | none: how the summary adjusts\n"
    "                         each family of verdicts\n"
    "      --set PATH=JSON    override one config value (repeatable; default: none),\n"
    "                         e.g. 'routing.rules[2].complexity.thresholds=[400,1800]'\n"
    "      --routing FILE     use FILE's routing block (default: the config's)\n"
    "      --max-error-rate R  exit 1 when at least this share of the results\n"
    "                         are errors (0 < R <= 1; default 1: all of them)\n"
    "      --stop-when-decided  stop sending to a shadow once its comparison with\n"
    "                         the primary is settled (better, worse, or equivalent\n"
    "                         within --margin; an anytime-valid test), and stop\n"
    "                         the run when all are; see DIR/stopping.csv\n"
    "      --min-items N      settle nothing before N compared items (default 50)\n"
    "      --margin PTS       equivalence margin in points of pass rate (default 2)\n"
    "      --repeats K        K samples per (item, model), each its own line with\n"
    "                         a sample index (default: the config's params.n, else 1)\n"
    "  -q, --quiet            no progress, no tables, no closing line\n"
    "  -h, --help             this help\n"
    "\n"
    "exit: 0 done, 1 stopped by --max-cost or over --max-error-rate, 2 bad input,\n"
    "3 environment failure (disk full, I/O error), 130 interrupted (SIGINT,\n"
    "SIGTERM, SIGHUP); --resume continues a stopped, failed or interrupted run\n"
    "with the same --shard, --shard-by, --limit, --endpoint, --set and --routing;\n"
    "with --cache replay no API key is needed (nothing is sent)\n"
    "\n"
    "example:\n"
    "  shadoweval run evals/demo.json -o runs/demo --cache use\n";

struct run_args {
	const char *eval;
	const char *out;
	bool resume;
	long limit;
	long shard_k, shard_n;
	enum shd_scheme shard_by;
	enum shd_limits shard_limits;
	long concurrency;
	enum eng_cache_mode cache;
	const char *cache_dir;
	double max_cost;
	double max_error_rate;
	bool quiet;
	enum stats_correction correction;
	bool stop_when_decided;
	long min_items;
	double margin_pts;
	bool stop_flags; /* --min-items or --margin given */
	long repeats;	 /* 0: the config's params.n */
	const char **endpoints;
	size_t n_endpoints;
	struct cli_evalflags ef; /* --set, --routing */
};

enum {
	O_RESUME = 256,
	O_LIMIT,
	O_SHARD,
	O_SHARD_BY,
	O_SHARD_LIMITS,
	O_CONC,
	O_CACHE,
	O_CACHE_DIR,
	O_MAX_COST,
	O_ENDPOINT,
	O_CORRECTION,
	O_MAX_ERR,
	O_STOP,
	O_MIN_ITEMS,
	O_MARGIN,
	O_REPEATS
};

static const struct option run_opts[] = {
    {"out", required_argument, NULL, 'o'},
    {"resume", no_argument, NULL, O_RESUME},
    {"limit", required_argument, NULL, O_LIMIT},
    {"shard", required_argument, NULL, O_SHARD},
    {"shard-by", required_argument, NULL, O_SHARD_BY},
    {"shard-limits", required_argument, NULL, O_SHARD_LIMITS},
    {"concurrency", required_argument, NULL, O_CONC},
    {"cache", required_argument, NULL, O_CACHE},
    {"cache-dir", required_argument, NULL, O_CACHE_DIR},
    {"max-cost", required_argument, NULL, O_MAX_COST},
    {"endpoint", required_argument, NULL, O_ENDPOINT},
    {"correction", required_argument, NULL, O_CORRECTION},
    {"max-error-rate", required_argument, NULL, O_MAX_ERR},
    {"stop-when-decided", no_argument, NULL, O_STOP},
    {"min-items", required_argument, NULL, O_MIN_ITEMS},
    {"margin", required_argument, NULL, O_MARGIN},
    CLI_EVALFLAGS_OPTIONS,
    {"repeats", required_argument, NULL, O_REPEATS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void run_args_defaults(struct run_args *a, int argc)
{
	memset(a, 0, sizeof(*a));
	a->limit = -1;
	a->concurrency = DEFAULT_CONCURRENCY;
	a->cache = ENG_CACHE_OFF;
	a->cache_dir = DEFAULT_CACHE_DIR;
	a->max_cost = -1;
	a->correction = STATS_HOLM;
	a->max_error_rate = 1.0;
	a->min_items = DEFAULT_MIN_ITEMS;
	a->margin_pts = DEFAULT_MARGIN_PTS;
	a->endpoints = xcalloc((size_t)argc + 1, sizeof(char *));
	cli_evalflags_init(&a->ef, argc);
}

/* The flags that choose what is sent, and where: items, shards, endpoints,
 * concurrency, the cache and the budget. 1 taken, 0 not one of them, -1. */
static int take_send_flag(struct run_args *a, int c, const char *arg, struct se_err *err)
{
	switch (c) {
	case O_LIMIT:
		return flag_parse_long("--limit", arg, 1, 1L << 62, &a->limit, err) ? -1 : 1;
	case O_SHARD:
		if (shd_parse(arg, &a->shard_k, &a->shard_n))
			return se_fail(err, SE_USAGE, "--shard",
				       "expected K/N with 1 <= K <= N <= %ld, got \"%s\"",
				       SHD_MAX_N, arg);
		return 1;
	case O_SHARD_BY:
		if (shd_scheme_parse(arg, &a->shard_by))
			return se_fail(err, SE_USAGE, "--shard-by",
				       "expected hash or index, got \"%s\"", arg);
		return 1;
	case O_SHARD_LIMITS:
		if (shd_limits_parse(arg, &a->shard_limits))
			return se_fail(err, SE_USAGE, "--shard-limits",
				       "expected split or whole, got \"%s\"", arg);
		return 1;
	case O_CONC:
		return flag_parse_long("--concurrency", arg, 1, 100000, &a->concurrency, err) ? -1
											      : 1;
	case O_CACHE:
		if (eng_cache_mode_parse(arg, &a->cache))
			return se_fail(err, SE_USAGE, "--cache",
				       "expected use, off, refresh or replay, got \"%s\"", arg);
		return 1;
	case O_CACHE_DIR:
		a->cache_dir = arg;
		return 1;
	case O_MAX_COST:
		return flag_parse_double("--max-cost", arg, 0, &a->max_cost, err) ? -1 : 1;
	case O_ENDPOINT:
		if (!strchr(arg, '=') || arg[0] == '=')
			return se_fail(err, SE_USAGE, "--endpoint", "expected NAME=URL, got \"%s\"",
				       arg);
		a->endpoints[a->n_endpoints++] = arg;
		return 1;
	}
	return 0;
}

/* The flags that judge the results and may end the run early: samples,
 * corrections, the error-rate gate and --stop-when-decided's test. 1 taken,
 * 0 not one of them, -1. */
static int take_verdict_flag(struct run_args *a, int c, const char *arg, struct se_err *err)
{
	switch (c) {
	case O_CORRECTION:
		return cli_parse_correction(arg, &a->correction, err) ? -1 : 1;
	case O_MAX_ERR:
		return flag_parse_in("--max-error-rate", arg, 0, 1, FLAG_LO_OPEN,
				     "a share from 0 (excluded) to 1", &a->max_error_rate, err)
			   ? -1
			   : 1;
	case O_STOP:
		a->stop_when_decided = true;
		return 1;
	case O_REPEATS:
		return flag_parse_long("--repeats", arg, 1, 1000, &a->repeats, err) ? -1 : 1;
	case O_MIN_ITEMS:
		if (flag_parse_long("--min-items", arg, 1, 1L << 40, &a->min_items, err))
			return -1;
		a->stop_flags = true;
		return 1;
	case O_MARGIN:
		if (flag_parse_in("--margin", arg, 0, 100, FLAG_LO_OPEN,
				  "points of pass rate, more than 0 and at most 100",
				  &a->margin_pts, err))
			return -1;
		a->stop_flags = true;
		return 1;
	}
	return 0;
}

/* The operand and the rules between flags, once all are read. */
static int check_run_args(struct run_args *a, int argc, char **argv, struct se_err *err)
{
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "missing EVAL.json");
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL, "unexpected argument \"%s\"", argv[optind + 1]);
	a->eval = argv[optind];
	if (a->stop_flags && !a->stop_when_decided)
		return se_fail(err, SE_USAGE, NULL,
			       "--min-items and --margin only apply with --stop-when-decided");
	/* a sequential test watches one run from its first item; the lines of
	 * an earlier process were never fed to it */
	if (a->stop_when_decided && a->resume)
		return se_fail(err, SE_USAGE, "--stop-when-decided",
			       "cannot continue a run (--resume): its sequential tests would "
			       "restart on part of the items; start a new run folder");
	return 0;
}

/* One option of run_opts: 0 taken, 1 not one of them, -1. */
static int take_run_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct run_args *a = ctx;
	switch (c) {
	case 'o':
		a->out = arg;
		return 0;
	case O_RESUME:
		a->resume = true;
		return 0;
	case 'q':
		a->quiet = true;
		return 0;
	}
	int took = take_send_flag(a, c, arg, err);
	if (took == 0)
		took = take_verdict_flag(a, c, arg, err);
	if (took == 0)
		took = cli_evalflags_take(&a->ef, c, arg, err);
	return took == 1 ? 0 : took == 0 ? 1 : -1;
}

/* Returns 1 when --help was printed, 0 to run, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct run_args *a, struct se_err *err)
{
	run_args_defaults(a, argc);
	int rc = flag_scan(argc, argv, ":o:qh", run_opts, run_usage, take_run_flag, a, err);
	return rc ? rc : check_run_args(a, argc, argv, err);
}

/* Everything one run holds between its three steps; run_free releases it. */
struct run {
	struct run_args a;
	struct cfg *cfg;
	struct pricing *prices;
	struct eng_doneset done;
	char *dir;
	char ds_sha[65];
	struct stat ds_st; /* the dataset at the start (--limit runs compare it) */
	char shard[48];
	struct man_info mi;
	struct man_status_count counts[RES_N_STATUS];
	struct eng_stats st;
	/* --resume: what the lines already written count and cost, added to
	 * this invocation's in the manifest (it describes the whole folder) */
	struct eng_stats prior;
	/* --resume: the manifest as it was, put back when the resume is
	 * refused before a request is sent (a refusal changes nothing) */
	char *prev_manifest;
	size_t prev_manifest_len;
	struct sum_live *live; /* the summaries, accumulated as lines are written */
	struct eng_stop stop;  /* --stop-when-decided */
	struct buf stop_json;
	int lock_fd;
	bool curl_up;
	bool sig_installed; /* core/stopsig, from the first manifest to the end */
};

static bool file_nonempty(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

/* --resume: the ids of the items in this run's scope, read by the
 * engine's rule (shard/scope.h: the shard's items, the first --limit), as
 * fingerprints (6 bytes an item, held only while the lines are read). */
static int scope_ids(const struct run *r, struct ds_ids *ids, struct se_err *err)
{
	struct ds_reader *rd = NULL;
	if (ds_open_cfg(&rd, r->cfg, err))
		return -1;
	ds_no_hash(rd);
	struct ds_item it = {0};
	struct shd_scope sc = shd_scope_make(r->a.shard_by, r->a.shard_k, r->a.shard_n, r->a.limit);
	int got;
	while ((got = shd_scope_next(&sc, rd, &it, err)) > 0)
		ds_ids_add(ids, ds_ids_fingerprint(it.id));
	ds_item_clear(&it);
	ds_close(rd);
	return got < 0 ? -1 : 0;
}

/* What on_done_row reads the earlier lines with. */
struct done_scan {
	struct run *r;
	const struct ds_ids *scope;
	const char *path;
	struct se_err *err;
};

/* --resume: an earlier line is skipped by the engine and counted in the
 * summaries, so the end of the run needs no second read of the file. A line
 * for an item outside the run's scope is not this run's (the dataset and
 * scope are the manifest's, so the file was added to by hand): it would be
 * counted as an item of the run. */
static int on_done_row(void *ctx, const struct res_rec *row)
{
	struct done_scan *ds = ctx;
	struct run *r = ds->r;
	if (!ds_ids_has(ds->scope, ds_ids_fingerprint(row->item_id))) {
		char where[600];
		snprintf(where, sizeof(where), "%s:%zu", ds->path, row->line);
		return se_fail(ds->err, SE_INPUT, where,
			       "item \"%s\" is not in the run's dataset%s (%s); this line is not "
			       "the run's: remove it, or start a new run folder",
			       esc_term_str(row->item_id, 0),
			       r->a.shard_n > 0 || r->a.limit >= 0 ? " or its --shard/--limit scope"
								   : "",
			       r->cfg->dataset.path);
	}
	eng_doneset_add_sample(&r->done, row->item_id, row->model, (int)row->sample,
			       row->status == RES_OK);
	r->prior.results_written++;
	r->prior.by_status[row->status]++;
	r->prior.requests += row->attempts > 0 ? (size_t)row->attempts : 0;
	if (row->cached)
		r->prior.cached++;
	if (isfinite(row->cost_usd))
		r->prior.spent_usd += row->cost_usd;
	if (isfinite(row->judge_cost_usd))
		r->prior.spent_usd += row->judge_cost_usd;
	if (row->sample == 0)
		sum_live_add(r->live, row);
	return 0;
}

static int on_any_row(void *ctx, const struct res_rec *row)
{
	(void)ctx;
	(void)row;
	return 0;
}

/* --resume edits results.jsonl in place (cuts a torn tail, appends): it
 * must be the run's own regular file, not a link to someone else's. The
 * identity is kept so the file cut later is the file checked here. */
static int check_results_file(const char *rpath, struct stat *id, bool *exists, struct se_err *err)
{
	*exists = false;
	int fd = open(rpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			return se_fail(
			    err, SE_INPUT, rpath,
			    "results file is a symbolic link; --resume edits it in place, "
			    "so it must be the run folder's own file");
		return se_fail_errno(err, rpath, "cannot open results");
	}
	int rc = 0;
	if (fstat(fd, id) != 0)
		rc = se_fail_errno(err, rpath, "cannot stat results");
	else if (!S_ISREG(id->st_mode))
		rc = se_fail(err, SE_INPUT, rpath, "results file is not a regular file");
	close(fd);
	*exists = rc == 0;
	return rc;
}

/* --resume: the manifest must match this config, dataset and run-shaping
 * flags; results.jsonl is validated whole before its torn tail (if any) is
 * cut; the pairs already written become the skip set. */
static int resume_prepare(struct run *r, struct se_err *err)
{
	struct man_read m;
	char *mpath = fio_join(r->dir, "manifest.json");
	char *rpath = fio_join(r->dir, "results.jsonl");
	int rc = -1;
	struct stat lst;
	bool fresh = access(mpath, F_OK) != 0 &&
		     (lstat(rpath, &lst) != 0 || (S_ISREG(lst.st_mode) && lst.st_size == 0));
	if (fresh) {
		/* killed before anything was written: nothing to continue */
		rc = 0;
		goto out;
	}
	if (man_read(r->dir, &m, err) ||
	    fio_read_all(mpath, &r->prev_manifest, &r->prev_manifest_len, err))
		goto out;
	/* the overrides first: another --set changes the config's hash too,
	 * and naming the flag is the better answer */
	if (man_check_same_overrides(r->dir, r->cfg, err))
		goto out;
	if (strcmp(m.config_sha256, r->cfg->sha256)) {
		se_fail(
		    err, SE_INPUT, mpath,
		    "config changed since the run started (sha256 %.12s... now %.12s...); start "
		    "a new run folder",
		    m.config_sha256, r->cfg->sha256);
		goto out;
	}
	if (strcmp(m.dataset_sha256, r->ds_sha)) {
		se_fail(
		    err, SE_INPUT, mpath,
		    "dataset changed since the run started (sha256 %.12s... now %.12s...); start "
		    "a new run folder",
		    m.dataset_sha256, r->ds_sha);
		goto out;
	}
	if (man_check_same_run(r->dir, &r->mi, err))
		goto out;
	if (m.started_at[0])
		snprintf(r->mi.started_at, sizeof(r->mi.started_at), "%s", m.started_at);
	struct stat id;
	bool exists;
	if (check_results_file(rpath, &id, &exists, err))
		goto out;
	if (exists) {
		struct res_scan_stats stats;
		if (res_scan_samples(rpath, false, on_any_row, NULL, &stats, err))
			goto out;
		if (lstat(rpath, &lst) != 0 || !S_ISREG(lst.st_mode) || lst.st_ino != id.st_ino ||
		    lst.st_dev != id.st_dev) {
			se_fail(err, SE_INPUT, rpath,
				"results file was replaced while --resume read it");
			goto out;
		}
		int dropped = 0;
		if (res_drop_torn_tail(rpath, &dropped, err))
			goto out;
		if (dropped)
			fprintf(stderr, "shadoweval run: %s: dropped a torn last line\n", rpath);
	}
	struct ds_ids scope;
	ds_ids_init(&scope);
	struct done_scan ds = {r, &scope, rpath, err};
	rc = scope_ids(r, &scope, err) ? -1
				       : res_scan_samples(rpath, true, on_done_row, &ds, NULL, err);
	ds_ids_free(&scope);
out:
	free(mpath);
	free(rpath);
	return rc;
}

/* One socket per request in flight (HTTP/1.1): lift the soft descriptor
 * limit (often 1024) toward the hard one when the concurrency needs it. */
static void raise_fd_limit(long concurrency)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)concurrency * 2 + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* The manifest's counts: this invocation's (st) and, after --resume, those
 * of the lines already in the folder (prior). */
static void fill_manifest(struct man_info *mi, const struct eng_stats *st,
			  const struct eng_stats *prior, struct man_status_count *counts)
{
	mi->items = st->items;
	mi->items_not_run = st->items_not_run;
	mi->requests = prior->requests + st->requests;
	mi->results_written = prior->results_written + st->results_written;
	for (int i = 0; i < RES_N_STATUS; i++) {
		counts[i].name = res_status_name((enum res_status)i);
		counts[i].n = prior->by_status[i] + st->by_status[i];
	}
	mi->by_status = counts;
	mi->n_status = RES_N_STATUS;
	mi->spent_usd = prior->spent_usd + st->spent_usd;
}

/* A dataset without a single item would make a run that "succeeds" having
 * measured nothing: refused up front (validate refuses it too). */
static int dataset_has_items(const struct cfg *cfg, struct se_err *err)
{
	struct ds_reader *ds = NULL;
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	if (ds_open_cfg(&ds, cfg, err))
		return -1;
	int r = ds_next(ds, &it, err);
	ds_item_clear(&it);
	ds_close(ds);
	if (r < 0)
		return -1;
	if (r == 0)
		return se_fail(err, SE_INPUT, cfg->dataset.path,
			       "the dataset has no items: nothing to run");
	return 0;
}

/* The run's summaries over the config's models and slots. */
static struct sum_live *summaries_new(const struct cfg *cfg, const char *dir)
{
	const char **models = xcalloc(cfg->n_models + 1, sizeof(*models));
	const char **slots = xcalloc(cfg->n_slots + 1, sizeof(*slots));
	for (size_t i = 0; i < cfg->n_models; i++)
		models[i] = cfg->models[i].id;
	for (size_t i = 0; i < cfg->n_slots; i++)
		slots[i] = cfg->slots[i].name;
	char *rpath = fio_join(dir, "results.jsonl");
	struct sum_live *l = sum_live_new(rpath, models, cfg->n_models, slots, cfg->n_slots);
	free(rpath);
	free(models);
	free(slots);
	return l;
}

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
	buf_init(&r->stop_json);
	eng_doneset_init(&r->done);
}

static void run_free(struct run *r)
{
	if (r->sig_installed)
		stopsig_restore();
	if (r->curl_up)
		curl_global_cleanup();
	run_lock_release(r->lock_fd);
	eng_doneset_free(&r->done);
	free(r->prev_manifest);
	sum_live_free(r->live);
	eng_stop_free(&r->stop);
	buf_free(&r->stop_json);
	pricing_free(r->prices);
	cfg_free(r->cfg);
	free(r->a.endpoints);
	cli_evalflags_free(&r->a.ef);
	free(r->dir);
}

/* Test-only (tests/e2e/test_runfolder.c): with SE_TEST_PREPARED_FDS="W,R",
 * once the first manifest is written, write one byte to descriptor W and
 * wait for a byte (or end of file) on descriptor R, so a test can send a
 * signal at exactly this point. Unset, it does nothing. */
static void test_hold_prepared(void)
{
	const char *v = getenv("SE_TEST_PREPARED_FDS");
	int w, rd;
	char c = 'p';
	if (!v || sscanf(v, "%d,%d", &w, &rd) != 2)
		return;
	if (write(w, &c, 1) == 1)
		while (read(rd, &c, 1) < 0 && errno == EINTR)
			;
}

/* --max-cost estimates an item's cost from the pricing file before it is
 * sent; a model without a price there counts only once its replies report
 * their cost, so up to --concurrency requests may go out past the budget.
 * Said once, naming the models (LiteLLM's budgets work so throughout). */
static void warn_unpriced(const struct run *r)
{
	if (r->a.max_cost < 0)
		return;
	struct buf names;
	buf_init(&names);
	size_t n = 0;
	for (size_t i = 0; i < r->cfg->n_models; i++) {
		if (pricing_find(r->prices, r->cfg->models[i].id))
			continue;
		if (n++ < 3)
			buf_printf(&names, "%s%s", n > 1 ? ", " : "",
				   esc_term_str(r->cfg->models[i].id, 0));
	}
	if (n)
		fprintf(stderr,
			"shadoweval run: warning: --max-cost: no price for %s%s%s: "
			"their cost counts once each reply reports it, so up to --concurrency "
			"requests may be sent past the budget (a pricing file estimates it "
			"before sending)\n",
			names.data, n > 3 ? " and others" : "",
			r->cfg->pricing_path ? " in the pricing file" : " (no pricing file)");
	buf_free(&names);
}

/* The config as this run sees it: --set and --routing, --endpoint, the
 * shard's share of the limits, the API keys and the prices. */
static int load_run_config(struct run *r, struct se_err *err)
{
	struct run_args *a = &r->a;
	if (cli_evalflags_load(&a->ef, a->eval, &r->cfg, err))
		return -1;
	for (size_t i = 0; i < a->n_endpoints; i++) {
		char *name = xstrdup(a->endpoints[i]);
		char *eq = strchr(name, '=');
		*eq = '\0';
		int rc = cfg_override_endpoint(r->cfg, name, eq + 1, err);
		free(name);
		if (rc)
			return -1;
	}
	if (a->shard_limits == SHD_SPLIT)
		shd_split_limits(r->cfg, a->shard_n);
	if (cli_check_keys(r->cfg, a->cache, err))
		return -1;
	if (r->cfg->pricing_path && pricing_load(r->cfg->pricing_path, &r->prices, err))
		return -1;
	warn_unpriced(r);
	return 0;
}

/* The dataset's identity (hash and stat, for --resume and the end-of-run
 * warning), and at least one item in it. */
static int check_dataset(struct run *r, struct se_err *err)
{
	const char *ds_path = r->cfg->dataset.path;
	if (fio_sha256_file(ds_path, r->ds_sha, err))
		return -1;
	if (stat(ds_path, &r->ds_st) != 0)
		return se_fail_errno(err, ds_path, "cannot stat dataset");
	return dataset_has_items(r->cfg, err);
}

/* --stop-when-decided's tests, and the samples per (item, model). */
static int setup_sampling(struct run *r, struct se_err *err)
{
	struct run_args *a = &r->a;
	if (a->stop_when_decided) {
		if (r->cfg->n_shadows == 0)
			return se_fail(err, SE_USAGE, "--stop-when-decided",
				       "the eval has no shadows: there is no comparison to decide");
		struct stats_seq_opts so = {.alpha = STATS_ALPHA,
					    .min_items = a->min_items,
					    .margin = a->margin_pts / 100.0};
		eng_stop_init(&r->stop, r->cfg, &so);
	}
	if (a->repeats == 0)
		a->repeats = r->cfg->params.n > 1 ? r->cfg->params.n : 1;
	r->stop.repeats = (int)a->repeats;
	return 0;
}

/* The run folder, created and locked; one that has results needs --resume. */
static int open_run_dir(struct run *r, struct se_err *err)
{
	r->dir = r->a.out ? xstrdup(r->a.out) : fio_join("runs", r->cfg->name);
	if (fio_mkdirs(r->dir, err) || run_lock_take(r->dir, "run", LOCK_RESERVE, &r->lock_fd, err))
		return -1;
	char *rpath = fio_join(r->dir, "results.jsonl");
	bool has_results = file_nonempty(rpath);
	free(rpath);
	if (!r->a.resume && has_results)
		return se_fail(err, SE_USAGE, NULL,
			       "run folder %s already has results (use --resume to continue, or -o "
			       "for a new folder)",
			       r->dir);
	return 0;
}

/* What the manifest says of the run from its start: inputs and flags. */
static void describe_run(struct run *r)
{
	const struct run_args *a = &r->a;
	struct man_info *mi = &r->mi;
	mi->cfg = r->cfg;
	mi->dataset_path = r->cfg->dataset.path;
	mi->dataset_sha256 = r->ds_sha;
	mi->limit = a->limit;
	mi->concurrency = (int)a->concurrency;
	mi->cache_mode = eng_cache_mode_name(a->cache);
	if (a->shard_n) {
		snprintf(r->shard, sizeof(r->shard), "%ld/%ld", a->shard_k, a->shard_n);
		mi->shard = r->shard;
		mi->shard_by = shd_scheme_name(a->shard_by);
		mi->shard_limits = shd_limits_name(a->shard_limits);
	}
	clock_iso8601(mi->started_at, sizeof(mi->started_at));
}

/* Step 1: everything that can fail before a request is sent. Returns 1 when
 * --help was printed, 0 to run, -1 on an error. Once it returns 0 the folder
 * is locked and its manifest says "running". */
static int run_prepare(struct run *r, int argc, char **argv, struct se_err *err)
{
	int p = parse_args(argc, argv, &r->a, err);
	if (p)
		return p;
	if (load_run_config(r, err) || check_dataset(r, err) || setup_sampling(r, err) ||
	    open_run_dir(r, err))
		return -1;
	describe_run(r);
	r->live = summaries_new(r->cfg, r->dir);
	if (r->a.resume && resume_prepare(r, err))
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return se_fail(err, SE_IO, NULL, "curl_global_init failed");
	r->curl_up = true;
	raise_fd_limit(r->a.concurrency);
	/* From the first "running" manifest on, a stop signal ends the run as
	 * interrupted (the engine stops at once), never kills it with the
	 * manifest left "running". Before this point a signal kills the
	 * process as usual: nothing of the run is written yet. */
	stopsig_install();
	r->sig_installed = true;
	r->mi.status = "running";
	fill_manifest(&r->mi, &r->st, &r->prior, r->counts);
	if (man_write(r->dir, &r->mi, err))
		return -1;
	test_hold_prepared();
	return 0;
}

/* Step 2: the engine sends every request and appends the results. */
static int run_send(struct run *r, struct se_err *err)
{
	const struct run_args *a = &r->a;
	struct eng_opts o = {
	    .cfg = r->cfg,
	    .pricing = r->prices,
	    .run_dir = r->dir,
	    .shard_k = a->shard_k,
	    .shard_n = a->shard_n,
	    .shard_by = a->shard_by,
	    .limit = a->limit,
	    .concurrency = (int)a->concurrency,
	    .cache_mode = a->cache,
	    .cache_dir = a->cache_dir,
	    .max_cost = a->max_cost,
	    .progress = !a->quiet && isatty(2),
	    .quiet = a->quiet,
	    .done = a->resume ? &r->done : NULL,
	    .live = r->live,
	    .stop = a->stop_when_decided ? &r->stop : NULL,
	    .repeats = (int)a->repeats,
	    .seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)clock_now_ms(),
	};
	return eng_run(&o, &r->st, err);
}

/* Warns when the dataset changed during the run. The file is hashed once,
 * before the run (the manifest's identity); a second hash of what the reader
 * read would cost a SHA-256 pass over every byte again, and a --limit run
 * reads only a prefix anyway. So every run compares the file's identity
 * (size, modification time with nanoseconds, inode) before and after: an
 * edit changes the modification time. */
static void warn_dataset_changed(const struct run *r)
{
	const char *path = r->cfg->dataset.path;
	struct stat now;
	if (stat(path, &now) != 0 || now.st_size != r->ds_st.st_size ||
	    now.st_ino != r->ds_st.st_ino || now.st_dev != r->ds_st.st_dev ||
	    now.st_mtim.tv_sec != r->ds_st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != r->ds_st.st_mtim.tv_nsec)
		fprintf(stderr,
			"shadoweval run: warning: %s changed during the run (its size or "
			"modification time); the results may mix two versions of it\n",
			path);
}

/* --stop-when-decided: DIR/stopping.csv, and one line per comparison. */
static int write_stopping(struct run *r, struct se_err *err)
{
	struct buf b;
	buf_init(&b);
	eng_stop_csv(&r->stop, &b);
	char *path = fio_join(r->dir, "stopping.csv");
	int rc = fio_write_atomic(path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	if (rc || r->a.quiet)
		return rc;
	const struct cfg *cfg = r->cfg;
	for (size_t k = 0; k < cfg->n_shadows; k++) {
		const struct stats_seq *q = &r->stop.cmp[k].seq;
		if (q->state == STATS_SEQ_OPEN)
			printf("stopping: %s: not settled after %ld items\n",
			       cfg->models[cfg->shadows[k]].id, q->n);
		else
			printf("stopping: %s: %s, settled at %ld items\n",
			       cfg->models[cfg->shadows[k]].id, stats_seq_state_name(q->state),
			       q->at);
	}
	if (r->stop.stopped_run)
		printf("stopping: every comparison settled; %zu items not run\n",
		       r->stop.items_not_run);
	return 0;
}

/* The disk is full: free run.lock's reserve (keeping its line), so that
 * the final manifest has room. */
static void free_lock_reserve(const struct run *r)
{
	if (run_lock_drop_reserve(r->lock_fd))
		fprintf(stderr, "shadoweval run: cannot free the reserve in run.lock\n");
}

/* The manifest's final status and counts; erc is what run_send returned. */
static void describe_end(struct run *r, int erc)
{
	const struct eng_stats *st = &r->st;
	struct man_info *mi = &r->mi;
	fill_manifest(mi, st, &r->prior, r->counts);
	clock_iso8601(mi->ended_at, sizeof(mi->ended_at));
	mi->status = erc		   ? "failed"
		     : st->interrupted	   ? "interrupted"
		     : st->budget_stopped  ? "stopped_by_budget"
		     : r->stop.stopped_run ? "stopped_when_decided"
					   : "complete";
	if (r->a.stop_when_decided) {
		buf_reset(&r->stop_json);
		eng_stop_json(&r->stop, &r->stop_json);
		mi->stopping_json = r->stop_json.data;
	}
}

/* The closing line on stderr: results, then HTTP attempts (the difference
 * is retries; cache hits make no request). */
static void print_closing_line(const struct run *r, size_t errors)
{
	const struct eng_stats *st = &r->st;
	double secs = st->elapsed_ms / 1000.0;
	fprintf(stderr,
		"%zu results (%zu cached, %zu errors) from %zu requests in %.1f s "
		"(%.0f req/s), $%.4f spent, results in %s\n",
		st->results_written, st->cached, errors, st->requests, secs,
		secs > 0 ? st->requests / secs : 0.0, st->spent_usd, r->dir);
}

/* A --resume that sent nothing and wrote nothing, and failed (the lines
 * already in the folder broke a rule, found before or after the engine
 * ran): the folder's manifest is put back as it was, so a refused resume
 * changes nothing. True when it was put back. */
static bool put_back_manifest(struct run *r, struct se_err *err)
{
	if (!r->prev_manifest || r->st.requests || r->st.results_written)
		return false;
	char *mpath = fio_join(r->dir, "manifest.json");
	int rc = fio_write_atomic(mpath, r->prev_manifest, r->prev_manifest_len, err);
	free(mpath);
	return rc == 0;
}

/* The summaries: from what the run accumulated (results.jsonl is not read
 * again), and with repeated samples the item-level table, which needs every
 * sample the bounded summaries do not keep, so only then is it read. */
static int write_summaries(struct run *r, struct se_err *err)
{
	FILE *out = r->a.quiet ? NULL : stdout;
	if (sum_live_write(r->live, r->dir, out, r->a.correction, err)) {
		/* the results are whole, the summaries are not: say so, so that a
		 * reader of the folder does not take it for a finished run */
		if (!put_back_manifest(r, NULL)) {
			r->mi.status = "failed";
			man_write(r->dir, &r->mi, NULL);
		}
		return -1;
	}
	if (r->a.repeats <= 1)
		return 0;
	char *rpath = fio_join(r->dir, "results.jsonl");
	int rc = sum_write_samples(r->dir, rpath, out, err);
	free(rpath);
	return rc;
}

/* Dollars as the budget message shows them: cents, or 3 significant
 * digits below a dollar ($0.00287 is not $0.00). */
static const char *usd_text(double v)
{
	static char s[32];
	snprintf(s, sizeof(s), v >= 1 || v == 0 ? "%.2f" : "%.3g", v);
	return s;
}

/* The exit status of a run that went to its end: interrupted (130), stopped
 * by the budget or over --max-error-rate (1), or 0. */
static int run_verdict(const struct run *r, size_t errors, struct se_err *err)
{
	const struct eng_stats *st = &r->st;
	if (st->interrupted)
		return se_fail(err, SE_INTERRUPT, NULL,
			       "interrupted: %zu results in %s (--resume continues)",
			       st->results_written, r->dir);
	if (st->budget_stopped)
		return se_fail(err, SE_FINDING, NULL,
			       "stopped by --max-cost after $%s: %zu of %zu items not run "
			       "(--resume continues)",
			       usd_text(st->spent_usd), st->items_not_run,
			       st->items_total ? st->items_total : st->items);
	double rate = st->results_written ? (double)errors / (double)st->results_written : 0;
	if (errors && rate >= r->a.max_error_rate)
		return se_fail(
		    err, SE_FINDING, NULL,
		    "%zu of %zu results are errors (%.1f%%), at or over --max-error-rate "
		    "%g; see the error column of models.csv",
		    errors, st->results_written, 100.0 * rate, r->a.max_error_rate);
	return 0;
}

/* Step 3: the final manifest, the summaries, and the exit status. erc and
 * run_err are what run_send returned. */
static int run_finish(struct run *r, int erc, const struct se_err *run_err, struct se_err *err)
{
	struct se_err scope_err;
	if (erc == 0 && r->st.items == 0 && !r->st.interrupted) {
		/* the dataset has items (checked first), but none in this run's
		 * scope: a run that measured nothing is no success */
		se_fail(&scope_err, SE_INPUT, NULL,
			"no item of the dataset is in this run's scope (--shard %s selects none)",
			r->shard[0] ? r->shard : "-");
		run_err = &scope_err;
		erc = -1;
	}
	if (erc == 0)
		warn_dataset_changed(r);
	if (erc && se_is_environment(run_err) && r->lock_fd >= 0)
		free_lock_reserve(r);
	describe_end(r, erc);
	struct se_err man_err;
	se_clear(&man_err);
	int mrc = erc && put_back_manifest(r, &man_err) ? 0 : man_write(r->dir, &r->mi, &man_err);
	size_t errors = r->st.results_written - r->st.by_status[RES_OK];
	if (!r->a.quiet)
		print_closing_line(r, errors);
	if (erc) {
		*err = *run_err;
		return -1;
	}
	if (mrc) {
		*err = man_err;
		return -1;
	}
	if (r->a.stop_when_decided && write_stopping(r, err))
		return -1;
	if (write_summaries(r, err))
		return -1;
	return run_verdict(r, errors, err);
}

int cmd_run(int argc, char **argv, struct se_err *err)
{
	struct run r;
	run_init(&r);
	int rc = run_prepare(&r, argc, argv, err);
	if (rc == 0) {
		struct se_err run_err;
		se_clear(&run_err);
		int erc = run_send(&r, &run_err);
		rc = run_finish(&r, erc, &run_err, err);
	}
	run_free(&r);
	return rc > 0 ? 0 : rc;
}
