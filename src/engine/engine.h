/* engine.h: the `run` engine: one libcurl multi event loop that sends every
 * admitted item to its primary and its shadows, retries and falls back, and
 * one scoring thread that scores and appends one results.jsonl line per
 * (item, model).
 *
 * What it does not do: parse flags, write the manifest or the summaries
 * (cli/cmd_run.c does), or parse the wire format (wire/, sse/ do).
 *
 * Two threads (worker.h). The network loop does I/O and timing only: latency
 * and TTFT come from libcurl's per-transfer clocks (CURLINFO_TOTAL_TIME_T,
 * CURLINFO_STARTTRANSFER_TIME_T plus the write callback's own stamp of the
 * first content delta), so a busy turn does not add to them. The wire parse
 * stays on the loop: it decides the status class, and so retry on
 * bad_response / stream_error (SSE is parsed incrementally as bytes come
 * anyway), and the reply's cost, which the budget needs before the next
 * admission or fallback. A finished request (status, timings, parsed reply,
 * raw body for the cache) is then pushed, whole, to one worker thread that
 * redacts, runs the checks, builds the row (reply_row.h), stores the cache
 * entry and appends the line, in the order the loop finished them: the
 * file's order is the loop's, as before. The job comes back through a
 * completion eventfd among the loop's fds (net.h, eng_net_wait); until then
 * it is live
 * (it holds its item and a place in the concurrency), so the queue is
 * bounded by the concurrency and SIGINT never drops a finished line. A write
 * error on the worker ends the run as before (the loop sees it when the job
 * comes back). The engine's other state is the loop's alone.
 *
 * The loop (STYLE.md "One event loop"): one thread decides; the transfers
 * run on two network lanes, each a CURLM (net.h). Each turn admits
 * work while in-flight < concurrency and the per-endpoint limits and rpm token
 * buckets allow, pulling items lazily from ds_next, so memory follows the
 * concurrency, never the dataset. Backoff and Retry-After are deadlines in a
 * min-heap, never sleeps. SIGINT sets a flag and writes a self-pipe that sits
 * among the loop's fds.
 *
 * The small parts (backoff, timer heap, token bucket, status classes, cache
 * key, the resume set) are exposed here so tests can check them alone.
 *
 * Ownership: eng_run borrows everything in struct eng_opts; it owns and frees
 * all it allocates before returning. API keys are read from the environment
 * once, kept only inside curl header lists, and never formatted into text.
 */
#ifndef SE_ENGINE_H
#define SE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "results/vocab.h"
#include "shard/shard.h"

struct cfg;
struct cfg_retry;
struct eng_stop;
struct pricing;
struct sum_live;

/* Transient server faults are retried; client errors (400/401/402/403/404/422
 * ...) and budget never are. */
bool eng_status_retryable(enum res_status s);
/* Classifies a finished transfer from its CURLcode and HTTP status (0 when no
 * response): RES_OK means "2xx, now parse the body". */
enum res_status eng_classify(int curl_code, long http_status);

/* --cache modes; off is the default for `run` (a user expects fresh answers). */
enum eng_cache_mode { ENG_CACHE_OFF = 0, ENG_CACHE_USE, ENG_CACHE_REFRESH, ENG_CACHE_REPLAY };
const char *eng_cache_mode_name(enum eng_cache_mode m);
/* Returns -1 for an unknown name. */
int eng_cache_mode_parse(const char *s, enum eng_cache_mode *out);

/* The run's PRNG (splitmix64): seeded per run, so jitter never touches rand(). */
uint64_t eng_rand(uint64_t *state);
/* Uniform double in [0, 1). */
double eng_rand01(uint64_t *state);

/* Full-jitter backoff before attempt `attempt`+1, after `attempt` failures:
 * uniform(0, min(max_ms, base_ms * 2^(attempt-1))), but at least
 * retry_after_ms when the server sent one (>= 0; -1 when it did not). */
double eng_backoff_ms(const struct cfg_retry *r, int attempt, double retry_after_ms, uint64_t *rng);

/* A token bucket for requests per minute: holds up to one second's worth of
 * requests (at least one), refilled continuously. rpm 0 means unlimited. */
struct eng_bucket {
	double tokens;
	double cap;
	double per_ms;
	double last_ms;
	bool unlimited;
};
void eng_bucket_init(struct eng_bucket *b, int rpm, double now_ms);
/* Takes one token when available. */
bool eng_bucket_take(struct eng_bucket *b, double now_ms);
/* Milliseconds until a token is available (0 when one is). */
double eng_bucket_wait_ms(struct eng_bucket *b, double now_ms);

/* The response-cache key: sha256 over (endpoint URL, model, request body),
 * each NUL-separated. Headers (and so keys) never enter it. */
void eng_cache_key(const char *url, const char *model, const char *body, size_t body_len,
		   char hex[65]);

/* The --resume set of (item_id, model) pairs already in results.jsonl, with
 * whether that line was ok (decides whether a failed primary's fallback
 * chain still has to run). 64-bit hashes in an open-addressing table. */
struct eng_doneset {
	uint64_t *keys; /* 0: empty slot */
	unsigned char *ok;
	size_t n;
	size_t cap;
};
void eng_doneset_init(struct eng_doneset *d);
void eng_doneset_free(struct eng_doneset *d);
void eng_doneset_add(struct eng_doneset *d, const char *item_id, const char *model, bool ok);
/* 0: absent, 1: present and not ok, 2: present and ok. */
int eng_doneset_get(const struct eng_doneset *d, const char *item_id, const char *model);
/* The same per sample (run --repeats); sample 0 is the pair above. */
void eng_doneset_add_sample(struct eng_doneset *d, const char *item_id, const char *model,
			    int sample, bool ok);
int eng_doneset_get_sample(const struct eng_doneset *d, const char *item_id, const char *model,
			   int sample);

struct eng_opts {
	const struct cfg *cfg;
	const struct pricing *pricing; /* NULL: no pricing file */
	const char *run_dir;
	long shard_k; /* 1-based; shard_n 0 means no sharding */
	long shard_n;
	enum shd_scheme shard_by; /* how items are assigned (shard/shard.h) */
	long limit;		  /* -1: all */
	int concurrency;
	enum eng_cache_mode cache_mode;
	const char *cache_dir;
	double max_cost;		/* < 0: no budget */
	bool progress;			/* a \r progress line on stderr */
	bool quiet;			/* no final one-line summary */
	const struct eng_doneset *done; /* --resume: pairs to skip, or NULL */
	struct eng_stop *stop;		/* --stop-when-decided (engine/stop.h), or NULL */
	int repeats;			/* samples per (item, model); <= 1: one, no sample field */
	uint64_t seed;
	/* The run's summaries, fed by the worker thread with every line it
	 * writes (and told when an item has no line to come), or NULL. The
	 * caller writes them once eng_run has returned. */
	struct sum_live *live;
	/* Tests only, NULL otherwise. on_queued runs on the loop's thread each
	 * time a finished request joins the scoring queue, with the queue's
	 * length; before_score runs on the worker thread before each result
	 * is scored, and may block (a test holds scoring back with it). */
	void (*on_queued)(void *test_ctx, size_t queued);
	void (*before_score)(void *test_ctx);
	void *test_ctx;
};

struct eng_stats {
	size_t items;	      /* items in scope (after shard and limit) seen */
	size_t items_total;   /* all items in scope, when the dataset was read to its end */
	size_t items_not_run; /* not admitted (budget stop or interrupt) */
	size_t requests;      /* HTTP attempts made */
	size_t results_written;
	size_t by_status[RES_N_STATUS];
	size_t cached;
	double spent_usd;
	double elapsed_ms;
	bool interrupted;
	bool budget_stopped;
};

/* The one check of the API keys, run before anything is written: every
 * endpoint's api_key_env is set, not empty, and free of line breaks and
 * other control characters (which would inject request headers): SE_INPUT
 * naming the endpoint and the variable, never a value. Endpoints without
 * api_key_env need nothing. eng_run trusts what this checked. */
int eng_check_keys(const struct cfg *cfg, struct se_err *err);

/* Runs the eval into o->run_dir/results.jsonl (appending); the caller has
 * run eng_check_keys. Every key, and every config header value that carries
 * a credential, is redacted from what the servers send before it is written
 * to a line or the cache (engine/redact.h). Returns 0 when the
 * loop ended normally, by budget or by SIGINT (see st); -1 with err on a
 * failure that stops the run (bad dataset line, write error, cache miss in
 * replay mode). Lines already written stay. */
int eng_run(const struct eng_opts *o, struct eng_stats *st, struct se_err *err);

#endif
