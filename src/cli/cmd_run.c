/* cmd_run.c: `shadoweval run EVAL.json`: flags, the run folder, --resume
 * checks, the manifest, then the engine, then the summaries.
 *
 * It does not send requests or write results lines itself: src/engine/ does.
 * Decisions made here (see README "run"):
 * - the default --cache is off: a user running an eval expects fresh answers;
 *   `use` reads hits and stores misses, `replay` never touches the network;
 * - the default run folder is runs/<eval name>; a folder that already holds
 *   results needs --resume (or another -o);
 * - the progress line shows "done/?" until the dataset has been read to its
 *   end (the dataset is streamed, never counted up front).
 */
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
#include "config/config.h"
#include "core/clock.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "engine/engine.h"
#include "manifest/manifest.h"
#include "pricing/pricing.h"
#include "results/results.h"
#include "summarize/summarize.h"

#define DEFAULT_CONCURRENCY 32
#define DEFAULT_CACHE_DIR ".shadoweval-cache"

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
    "      --limit N          only the first N items (after --shard)\n"
    "      --shard K/N        only items whose 0-based index % N == K-1\n"
    "      --concurrency N    requests in flight at most (default 32)\n"
    "      --cache MODE       off (default) | use | refresh | replay\n"
    "      --cache-dir DIR    response cache folder (default .shadoweval-cache)\n"
    "      --max-cost USD     stop sending new requests before spending more\n"
    "      --endpoint NAME=URL  override an endpoint's base_url (repeatable)\n"
    "      --correction C     holm (default) | bh | none: how the summary adjusts\n"
    "                         each family of verdicts\n"
    "  -q, --quiet            no progress, no tables, no closing line\n"
    "  -h, --help             this help\n"
    "\n"
    "exit: 0 done, 1 stopped by --max-cost, 2 bad input, 130 interrupted\n"
    "(--resume continues a stopped or interrupted run)\n";

struct run_args {
	const char *eval;
	const char *out;
	bool resume;
	long limit;
	long shard_k, shard_n;
	long concurrency;
	enum eng_cache_mode cache;
	const char *cache_dir;
	double max_cost;
	bool quiet;
	enum stats_correction correction;
	char **endpoints;
	size_t n_endpoints;
};

static int parse_shard(const char *s, long *k, long *n, struct se_err *err)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '/')
		goto bad;
	const char *p = end + 1;
	long b = strtol(p, &end, 10);
	if (end == p || *end || b < 1 || a < 1 || a > b)
		goto bad;
	*k = a;
	*n = b;
	return 0;
bad:
	return se_fail(err, SE_USAGE, "--shard", "expected K/N with 1 <= K <= N, got \"%s\"", s);
}

/* Returns 1 when --help was printed, 0 to run, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct run_args *a, struct se_err *err)
{
	enum {
		O_RESUME = 256,
		O_LIMIT,
		O_SHARD,
		O_CONC,
		O_CACHE,
		O_CACHE_DIR,
		O_MAX_COST,
		O_ENDPOINT,
		O_CORRECTION
	};
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"resume", no_argument, NULL, O_RESUME},
	    {"limit", required_argument, NULL, O_LIMIT},
	    {"shard", required_argument, NULL, O_SHARD},
	    {"concurrency", required_argument, NULL, O_CONC},
	    {"cache", required_argument, NULL, O_CACHE},
	    {"cache-dir", required_argument, NULL, O_CACHE_DIR},
	    {"max-cost", required_argument, NULL, O_MAX_COST},
	    {"endpoint", required_argument, NULL, O_ENDPOINT},
	    {"correction", required_argument, NULL, O_CORRECTION},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof(*a));
	a->limit = -1;
	a->concurrency = DEFAULT_CONCURRENCY;
	a->cache = ENG_CACHE_OFF;
	a->cache_dir = DEFAULT_CACHE_DIR;
	a->max_cost = -1;
	a->correction = STATS_HOLM;
	a->endpoints = xcalloc((size_t)argc + 1, sizeof(char *));
	optind = 0; /* glibc: a full re-scan, whatever ran getopt before */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out = optarg;
			break;
		case O_RESUME:
			a->resume = true;
			break;
		case O_LIMIT:
			if (flag_parse_long("--limit", optarg, 0, 1L << 62, &a->limit, err))
				return -1;
			break;
		case O_SHARD:
			if (parse_shard(optarg, &a->shard_k, &a->shard_n, err))
				return -1;
			break;
		case O_CONC:
			if (flag_parse_long("--concurrency", optarg, 1, 100000, &a->concurrency,
					    err))
				return -1;
			break;
		case O_CACHE:
			if (eng_cache_mode_parse(optarg, &a->cache))
				return se_fail(err, SE_USAGE, "--cache",
					       "expected use, off, refresh or replay, got \"%s\"",
					       optarg);
			break;
		case O_CACHE_DIR:
			a->cache_dir = optarg;
			break;
		case O_MAX_COST:
			if (flag_parse_double("--max-cost", optarg, 0, &a->max_cost, err))
				return -1;
			break;
		case O_ENDPOINT:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return se_fail(err, SE_USAGE, "--endpoint",
					       "expected NAME=URL, got \"%s\"", optarg);
			a->endpoints[a->n_endpoints++] = optarg;
			break;
		case O_CORRECTION:
			if (cli_parse_correction(optarg, &a->correction, err))
				return -1;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 1;
		default:
			return flag_bad_option(c, argv, err);
		}
	}
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "missing EVAL.json");
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL, "unexpected argument \"%s\"", argv[optind + 1]);
	a->eval = argv[optind];
	return 0;
}

static bool file_nonempty(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

static int on_done_row(void *ctx, const struct res_rec *row)
{
	eng_doneset_add(ctx, row->item_id, row->model, row->status == RES_OK);
	return 0;
}

/* --resume: the manifest must match this config and dataset; the torn tail
 * goes; the pairs already written become the skip set. */
static int resume_prepare(const char *dir, const struct cfg *cfg, const char *ds_sha,
			  struct eng_doneset *done, char started_at[32], struct se_err *err)
{
	struct man_read m;
	char *mpath = fio_join(dir, "manifest.json");
	int rc = -1;
	char *rp0 = fio_join(dir, "results.jsonl");
	bool fresh = access(mpath, F_OK) != 0 && !file_nonempty(rp0);
	free(rp0);
	if (fresh) {
		/* killed before anything was written: nothing to continue */
		rc = 0;
		goto out;
	}
	if (man_read(dir, &m, err))
		goto out;
	if (strcmp(m.config_sha256, cfg->sha256)) {
		se_fail(
		    err, SE_INPUT, mpath,
		    "config changed since the run started (sha256 %.12s... now %.12s...); start "
		    "a new run folder",
		    m.config_sha256, cfg->sha256);
		goto out;
	}
	if (strcmp(m.dataset_sha256, ds_sha)) {
		se_fail(
		    err, SE_INPUT, mpath,
		    "dataset changed since the run started (sha256 %.12s... now %.12s...); start "
		    "a new run folder",
		    m.dataset_sha256, ds_sha);
		goto out;
	}
	if (m.started_at[0])
		snprintf(started_at, 32, "%s", m.started_at);
	char *rpath = fio_join(dir, "results.jsonl");
	int dropped = 0;
	struct res_scan_stats stats;
	if (access(rpath, F_OK) == 0 && res_drop_torn_tail(rpath, &dropped, err)) {
		free(rpath);
		goto out;
	}
	if (dropped)
		fprintf(stderr, "shadoweval run: %s: dropped a torn last line\n", rpath);
	rc = res_scan(rpath, true, on_done_row, done, &stats, err);
	free(rpath);
out:
	free(mpath);
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

static void fill_manifest(struct man_info *mi, const struct eng_stats *st,
			  struct man_status_count *counts)
{
	mi->items = st->items;
	mi->items_not_run = st->items_not_run;
	mi->requests = st->requests;
	mi->results_written = st->results_written;
	for (int i = 0; i < RES_N_STATUS; i++) {
		counts[i].name = res_status_name((enum res_status)i);
		counts[i].n = st->by_status[i];
	}
	mi->by_status = counts;
	mi->n_status = RES_N_STATUS;
	mi->spent_usd = st->spent_usd;
}

int cmd_run(int argc, char **argv, struct se_err *err)
{
	struct run_args a;
	struct cfg *cfg = NULL;
	struct pricing *prices = NULL;
	struct eng_doneset done;
	char *dir = NULL, *rpath = NULL;
	bool curl_up = false;
	int rc = -1;
	eng_doneset_init(&done);

	int p = parse_args(argc, argv, &a, err);
	if (p) {
		rc = p > 0 ? 0 : -1;
		goto out;
	}
	if (cfg_load(a.eval, &cfg, err))
		goto out;
	for (size_t i = 0; i < a.n_endpoints; i++) {
		char *name = xstrdup(a.endpoints[i]);
		char *eq = strchr(name, '=');
		*eq = '\0';
		int r = cfg_override_endpoint(cfg, name, eq + 1, err);
		free(name);
		if (r)
			goto out;
	}
	if (eng_check_keys(cfg, err))
		goto out;
	if (cfg->pricing_path && pricing_load(cfg->pricing_path, &prices, err))
		goto out;

	if (a.out) {
		dir = xstrdup(a.out);
	} else {
		dir = fio_join("runs", cfg->name);
	}
	rpath = fio_join(dir, "results.jsonl");
	if (!a.resume && file_nonempty(rpath)) {
		se_fail(err, SE_USAGE, NULL,
			"run folder %s already has results (use --resume to continue, or -o for a "
			"new folder)",
			dir);
		goto out;
	}
	char ds_sha[65];
	if (fio_sha256_file(cfg->dataset.path, ds_sha, err))
		goto out;
	struct man_info mi = {0};
	mi.cfg = cfg;
	mi.dataset_path = cfg->dataset.path;
	mi.dataset_sha256 = ds_sha;
	mi.limit = a.limit;
	mi.concurrency = (int)a.concurrency;
	mi.cache_mode = eng_cache_mode_name(a.cache);
	char shard[48];
	if (a.shard_n) {
		snprintf(shard, sizeof(shard), "%ld/%ld", a.shard_k, a.shard_n);
		mi.shard = shard;
	}
	clock_iso8601(mi.started_at, sizeof(mi.started_at));
	if (a.resume && resume_prepare(dir, cfg, ds_sha, &done, mi.started_at, err))
		goto out;
	if (fio_mkdirs(dir, err))
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		se_fail(err, SE_IO, NULL, "curl_global_init failed");
		goto out;
	}
	curl_up = true;
	raise_fd_limit(a.concurrency);
	mi.status = "running";
	struct man_status_count counts[RES_N_STATUS];
	struct eng_stats st;
	memset(&st, 0, sizeof(st));
	fill_manifest(&mi, &st, counts);
	if (man_write(dir, &mi, err))
		goto out;

	struct eng_opts o = {
	    .cfg = cfg,
	    .pricing = prices,
	    .run_dir = dir,
	    .shard_k = a.shard_k,
	    .shard_n = a.shard_n,
	    .limit = a.limit,
	    .concurrency = (int)a.concurrency,
	    .cache_mode = a.cache,
	    .cache_dir = a.cache_dir,
	    .max_cost = a.max_cost,
	    .progress = !a.quiet && isatty(2),
	    .quiet = a.quiet,
	    .done = a.resume ? &done : NULL,
	    .seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)clock_now_ms(),
	};
	struct se_err run_err;
	se_clear(&run_err);
	int erc = eng_run(&o, &st, &run_err);
	/* The manifest names the dataset by the hash taken before the run; the
	 * reader hashed what it actually read. Different: the file was changed
	 * while the run read it, and the results mix two datasets. */
	if (st.dataset_sha256[0] && strcmp(st.dataset_sha256, ds_sha))
		fprintf(stderr,
			"shadoweval run: warning: %s changed during the run (sha256 %.12s at the "
			"start, %.12s read); the results may mix two versions of it\n",
			cfg->dataset.path, ds_sha, st.dataset_sha256);

	fill_manifest(&mi, &st, counts);
	clock_iso8601(mi.ended_at, sizeof(mi.ended_at));
	mi.status = erc			? "failed"
		    : st.interrupted	? "interrupted"
		    : st.budget_stopped ? "stopped_by_budget"
					: "complete";
	struct se_err man_err;
	int mrc = man_write(dir, &mi, &man_err);
	if (!a.quiet) {
		double secs = st.elapsed_ms / 1000.0;
		size_t errors = st.results_written - st.by_status[RES_OK];
		/* results, then HTTP attempts: the difference is retries (cache hits
		 * make no request) */
		fprintf(stderr,
			"%zu results (%zu cached, %zu errors) from %zu requests in %.1f s "
			"(%.0f req/s), $%.4f spent, results in %s\n",
			st.results_written, st.cached, errors, st.requests, secs,
			secs > 0 ? st.requests / secs : 0.0, st.spent_usd, dir);
	}
	if (erc) {
		*err = run_err;
		goto out;
	}
	if (mrc) {
		*err = man_err;
		goto out;
	}
	if (sum_run_dir_corr(dir, a.quiet ? NULL : stdout, a.correction, err))
		goto out;
	if (st.interrupted) {
		se_fail(err, SE_INTERRUPT, NULL,
			"interrupted: %zu results in %s (--resume continues)", st.results_written,
			dir);
		goto out;
	}
	if (st.budget_stopped) {
		se_fail(err, SE_FINDING, NULL,
			"stopped by --max-cost after $%.2f: %zu of %zu items not run (--resume "
			"continues)",
			st.spent_usd, st.items_not_run, st.items_total ? st.items_total : st.items);
		goto out;
	}
	rc = 0;
out:
	if (curl_up)
		curl_global_cleanup();
	eng_doneset_free(&done);
	pricing_free(prices);
	cfg_free(cfg);
	free(a.endpoints);
	free(dir);
	free(rpath);
	return rc;
}
