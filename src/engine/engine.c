/* engine.c: the `run` event loop (see engine.h for the design).
 *
 * Life of a request: an item is admitted whole (all its jobs: the primary
 * and each shadow model that differs from it) when in-flight work is below
 * the concurrency; each job waits in the pending queue until its endpoint's
 * max_concurrency and rpm bucket allow it, runs as one easy handle on the
 * multi handle, and when it ends is either retried (a deadline in the heap),
 * or finished: scored, written as one results.jsonl line, and, for a failed
 * primary or fallback, followed by the slot's next fallback. The item's
 * state (refcounted by its jobs) is freed when its last line is written.
 * With a pairwise check (pairing.h), an ok line of the item waits in the
 * loop: a shadow's for its reference's answer and then its two judge
 * requests, the reference's until every shadow line is written.
 *
 * Not here: flag parsing, the manifest and the summaries (cli/cmd_run.c),
 * wire-format and SSE parsing (wire/, sse/), the cache database (cache.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "checks/checks.h"
#include "checks/judge.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/fileio.h"
#include "core/heap.h"
#include "core/stopsig.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "engine/cache.h"
#include "engine/engine.h"
#include "engine/gencost.h"
#include "engine/judging.h"
#include "engine/net.h"
#include "engine/pairing.h"
#include "engine/redact.h"
#include "engine/reply_row.h"
#include "engine/stop.h"
#include "engine/worker.h"
#include "pricing/pricing.h"
#include "prompt/prompt.h"
#include "results/results.h"
#include "route/route.h"
#include "scorer/scorer.h"
#include "shard/scope.h"
#include "summarize/summarize.h"
#include "sse/sse.h"
#include "wire/wire.h"

#define MAX_BODY (64u << 20)   /* a reply larger than this is a bad_response */
#define DRAIN_MS 2000.0	       /* SIGINT: how long in-flight requests may finish */
#define PROGRESS_MS 250.0      /* at most 4 progress updates a second */
#define DEFAULT_MAX_TOKENS 256 /* budget estimate when params.max_tokens is unset */
/* Open files: a transfer holds a socket, and a name lookup a pipe pair for
 * a moment; the rest (stdio, results, dataset, self-pipe, curl's wakeup pair,
 * cache and manifest files, sanitizer runtimes) fits in the reserve. */
#define FDS_PER_TRANSFER 2
#define FD_RESERVE 32
#define LOCAL_RETRY_MS 50.0 /* a transfer refused locally (EMFILE) waits this long */
#define LOCAL_FAIL_MAX 20   /* ... at most this many times in a row, then the run fails */
#define H2_STREAMS 100	    /* libcurl's streams per HTTP/2 connection (its default) */

/* JOB_SCORING: finished by the loop, on the worker thread until it comes
 * back; the loop touches nothing of it but its live-list links. */
/* JOB_JUDGING: a graded job whose judge requests run; its line waits for
 * the last of them. JOB_HELD: a paired job back from the worker whose line
 * waits (a shadow for its reference, a reference for its shadows). */
enum job_state {
	JOB_PENDING,
	JOB_RUNNING,
	JOB_WAITING,
	JOB_SCORING,
	JOB_JUDGING,
	JOB_HELD,
	JOB_DONE
};

struct item {
	int refs; /* live jobs */
	int open; /* jobs whose outcome is not decided yet (job_new .. job_finish) */
	char *id;
	char *task;
	long index;
	int slot;
	int primary_model;
	long est_tokens;
	char **expected;
	size_t n_expected;
	char *messages;
	size_t messages_len;
	signed char *pass;	/* --stop-when-decided: engine/stop.h */
	cJSON *fields;		/* the item object, when a check grades with it */
	char *input;		/* its last user message, likewise */
	struct eng_pair *pairs; /* per sample, when the pairwise check applies; else NULL */
	int n_pairs;
};

struct engine;

struct job {
	struct engine *e;
	struct eng_wnode wnode; /* first: the worker's queue node */
	struct job *next;	/* pending queue or free list */
	struct job *live_prev;	/* every live job, to drop them on SIGINT */
	struct job *live_next;
	struct item *item;
	enum job_state state;
	enum res_role role;
	int model;
	int endpoint;
	size_t fb_next; /* the next fallback index to consider after this job */
	int attempts;
	double est_cost;
	/* the transfer on its network lane (net.h); xfer.easy is NULL when
	 * none runs */
	struct eng_xfer xfer;
	struct buf body; /* the request body, the same for every attempt */
	struct buf resp; /* raw reply: JSON body, error body, or SSE text to cache */
	struct sse_parser sse;
	struct wire_reply reply;
	bool hit; /* served from the cache */
	struct eng_cache_entry entry;
	char key[65];
	char attempt_hdr[48];
	struct curl_slist attempt_node; /* heads the endpoint's shared header list */
	int sample;			/* run --repeats: 0..K-1 */
	char sample_hdr[40];
	struct curl_slist sample_node; /* after attempt_node when sample > 0 */
	char curl_err[CURL_ERROR_SIZE];
	double t_start;
	double t_first_write; /* own clock at the first body byte, -1 before */
	double t_content;     /* own clock at the first content delta, -1 before */
	double ttft;
	long http;
	bool code_checked;
	bool stream_active;
	bool parse_failed;
	bool too_big;
	size_t rx;	/* reply bytes received this attempt, whatever is kept */
	char ctype[64]; /* the reply's Content-Type ("" when none) */
	char parse_err[256];
	/* the outcome the loop hands the worker (job_finish -> score_job) */
	enum res_status status;
	double latency;
	bool has_error;
	char error[700];
	bool item_last; /* no other line of the item is to come */
	bool written;	/* set by the worker: the line is in results.jsonl */
	bool failed;	/* set by the worker: writing it failed (see wk_err) */
	bool pass;	/* set by the worker: the line's pass and cost_usd */
	double cost;
	double header_cost; /* LiteLLM's x-litellm-response-cost, NaN when absent */
	struct eng_gen gen; /* OpenRouter's generation lookup (gencost.h) */
	bool stream;	    /* the request streams (params.stream; never a judge's) */
	/* Judging (issue 12). A judge request's parent is the graded job it
	 * grades, jcheck its check; write_parent: the parent's last, so the
	 * worker writes the parent's line after reading it. A graded job that
	 * is judged (judging) has its judge bodies rendered by the worker,
	 * then waits in JOB_JUDGING; judges_left is the loop's count, grades
	 * the worker's (one per check, e->cfg->checks.n). */
	struct job *parent;
	size_t jcheck;
	bool write_parent;
	bool judging;
	int judges_left;
	struct eng_grade *grades;
	struct buf *jbodies;
	/* Pairwise (pairing.h). paired: an ok job of a paired item whose line
	 * the loop writes later (write_now: this worker pass writes it);
	 * pw_render: this pass renders pwmsgs from its answer and ref's;
	 * compared: its line gets the pairwise object from pw. A judge
	 * request's pw_order is 0 (A/B) or 1 (B/A), -1 for a judge check;
	 * parent_ready: the last judge of a paired parent, which then goes on
	 * (pair_next) once this is back. */
	bool paired;
	bool write_now;
	bool pw_render;
	bool compared;
	bool parent_ready;
	int pw_order;
	struct job *ref;
	struct buf pwmsgs[2];
	struct eng_pw_order pw[2];
};

static struct job *job_of(struct eng_wnode *n)
{
	return (struct job *)((char *)n - offsetof(struct job, wnode));
}

/* One request an item needs, while admit_one assembles them. */
struct admit {
	int model;
	enum res_role role;
	size_t fb_next;
	struct job *job;
	int shadow; /* index into cfg->shadows, -1 for the primary and a fallback */
	int sample;
};

struct endpoint {
	char *url;
	struct curl_slist *headers; /* holds the Authorization line: memory only */
	bool tls;		    /* https: HTTP/2 can be negotiated */
	char *cainfo; /* endpoints.NAME.ca_file, else libcurl's default (handles are shared) */
	int in_flight;
	struct eng_bucket bucket;
};

struct engine {
	const struct eng_opts *o;
	struct shd_scope scope; /* the items admitted: shard and --limit */
	const struct cfg *cfg;
	struct eng_stats *st;
	struct se_err *err;
	struct eng_net net; /* the network threads */
	struct endpoint *eps;
	struct ds_reader *ds;
	struct ds_item dsi;
	bool ds_done;
	struct job *pend_head;
	struct job *pend_tail;
	struct job *free_jobs;
	struct job *live;
	CURL **pool;
	size_t n_pool;
	size_t cap_pool;
	struct heap timers;
	size_t live_jobs;
	size_t in_flight;
	size_t jobs_total; /* jobs created, for the progress line */
	double inflight_est;
	struct eng_redact redact; /* every secret sent: read-only once the loop starts */
	struct eng_cache *cache;  /* NULL with --cache off; thread-safe (cache.h) */
	struct buf msgs;
	/* The worker thread's own: only score_job touches these while it runs. */
	struct eng_worker wk;
	struct res_writer w;
	struct buf checks;
	struct buf errtext;   /* the line's error, redacted */
	bool wk_failed;	      /* a write failed: nothing more is written */
	bool wk_lost;	      /* a write of results.jsonl failed: the batch is lost */
	struct se_err wk_err; /* why; read by the loop once a failed job is back */
	/* command checks' processes (NULL when none); score_job grades with them */
	struct scr_pool *scorers;
	/* admit_one's scratch: an item's models are distinct (the primary, each
	 * other shadow, at most one fallback), so n_models entries per sample
	 * suffice */
	struct admit *adm;
	uint64_t rng;
	int conc;	     /* --concurrency, fitted to the open-file limit */
	int local_fails;     /* transfers refused locally in a row */
	size_t local_errors; /* all of them */
	char local_why[96];  /* the last one's cause */
	int pipe[2];
	bool stop_admit;
	double drain_deadline;
	double t0;
	double last_progress;
	bool progress_shown;
	int max_tokens;
	int reps;	  /* samples per (item, model), >= 1 */
	size_t item_jobs; /* the most jobs admit_one makes of one item */
	size_t n_judges;  /* judge checks in the config */
	/* the pairwise check (NULL when none), its index and name */
	const struct jdg_check *pw;
	size_t pw_index;
	const char *pw_name;
	struct buf pwdetail; /* the worker's: a line's pairwise detail */
	struct eng_pair_ops pair_ops;
	bool sig_installed;
	bool loop_over; /* the loop has returned: no new request starts */
};

/* ---- small helpers ---------------------------------------------------- */

/* The job's cache key: the request and its sample index (run --repeats;
 * sample 0 is a run without repeats). */
static struct eng_cache_key job_cache_key(const struct engine *e, const struct job *j)
{
	return (struct eng_cache_key){e->cfg->endpoints[j->endpoint].base_url,
				      e->cfg->models[j->model].id, j->key, j->sample};
}

static bool model_in_item(const struct engine *e, const struct item *it, int model)
{
	if (model == it->primary_model)
		return true;
	for (size_t i = 0; i < e->cfg->n_shadows; i++)
		if (e->cfg->shadows[i] == model)
			return true;
	return false;
}

static double job_estimate(const struct engine *e, const struct item *it, int model)
{
	const struct price *p = pricing_find(e->o->pricing, e->cfg->models[model].id);
	if (!p)
		return 0;
	return it->est_tokens * p->prompt + e->max_tokens * p->completion + p->request;
}

static bool over_budget(const struct engine *e, double extra)
{
	return e->o->max_cost >= 0 && e->st->spent_usd + e->inflight_est + extra > e->o->max_cost;
}

static void item_free(struct item *it)
{
	if (!it)
		return;
	free(it->id);
	free(it->task);
	for (size_t i = 0; i < it->n_expected; i++)
		free(it->expected[i]);
	free(it->expected);
	free(it->messages);
	free(it->pass);
	cJSON_Delete(it->fields);
	free(it->input);
	for (int s = 0; s < it->n_pairs; s++)
		eng_pair_free(&it->pairs[s]);
	free(it->pairs);
	free(it);
}

static CURL *pool_get(struct engine *e)
{
	if (e->n_pool)
		return e->pool[--e->n_pool];
	return curl_easy_init();
}

/* A handle goes back with its options: job_start sets every option it uses
 * on every start, so no reset (which frees and re-makes the handle's
 * settings, default CA path included) is needed between transfers. */
static void pool_put(struct engine *e, CURL *h)
{
	e->pool = xgrow(e->pool, &e->cap_pool, e->n_pool + 1, sizeof(*e->pool));
	e->pool[e->n_pool++] = h;
}

/* A job from the free list (buffers kept) or a new one. */
static struct job *job_alloc(struct engine *e)
{
	struct job *j = e->free_jobs;
	if (j) {
		e->free_jobs = j->next;
		return j;
	}
	j = xcalloc(1, sizeof(*j));
	buf_init(&j->body);
	buf_init(&j->resp);
	sse_init(&j->sse);
	wire_reply_init(&j->reply);
	eng_gen_init(&j->gen);
	buf_init(&j->pwmsgs[0]);
	buf_init(&j->pwmsgs[1]);
	if (e->n_judges) {
		size_t n = e->cfg->checks.n;
		j->grades = xcalloc(n, sizeof(*j->grades));
		j->jbodies = xcalloc(n, sizeof(*j->jbodies));
		for (size_t i = 0; i < n; i++)
			buf_init(&j->jbodies[i]);
	}
	return j;
}

/* The job's cache key, when the cache is read or written. */
static void job_key(struct engine *e, struct job *j)
{
	/* a SHA-256 per request only when the cache is read or written */
	if (e->o->cache_mode != ENG_CACHE_OFF)
		eng_cache_key(e->cfg->endpoints[j->endpoint].base_url, e->cfg->models[j->model].id,
			      j->body.data, j->body.len, j->key);
	else
		j->key[0] = '\0';
}

/* A job's fields for a new request of item `it` to `model`; it takes a
 * ref on the item. */
static void job_init(struct engine *e, struct job *j, struct item *it, int model,
		     enum res_role role, int sample)
{
	j->e = e;
	j->next = NULL;
	j->item = it;
	it->refs++;
	j->state = JOB_PENDING;
	j->role = role;
	j->model = model;
	j->endpoint = e->cfg->models[model].endpoint;
	j->fb_next = 0;
	j->attempts = 0;
	j->hit = false;
	j->header_cost = NAN;
	eng_gen_reset(&j->gen);
	j->xfer.easy = NULL;
	j->stream = e->cfg->params.stream;
	j->parent = NULL;
	j->write_parent = j->judging = false;
	j->paired = j->write_now = j->pw_render = j->compared = j->parent_ready = false;
	j->pw_order = -1;
	j->ref = NULL;
	j->judges_left = 0;
	j->sample = sample;
}

/* The job joins the live list (every job, until job_release). */
static void job_link(struct engine *e, struct job *j)
{
	j->live_prev = NULL;
	j->live_next = e->live;
	if (e->live)
		e->live->live_prev = j;
	e->live = j;
	e->live_jobs++;
	e->jobs_total++;
}

/* A new job of the item, open until its outcome is decided. Its cost
 * estimate joins the in-flight estimate once, when it is launched
 * (admit_one, start_fallback, launch_judges), and leaves it once, in
 * job_release. */
static struct job *job_new(struct engine *e, struct item *it, int model, enum res_role role,
			   int sample)
{
	struct job *j = job_alloc(e);
	job_init(e, j, it, model, role, sample);
	it->open++;
	j->est_cost = job_estimate(e, it, model);
	buf_reset(&j->body);
	wire_build_request(&j->body, e->cfg->models[model].id, it->messages, it->messages_len,
			   &e->cfg->params);
	job_key(e, j);
	job_link(e, j);
	return j;
}

/* Ends a job's life (its line written, or dropped): back to the free list. */
static void job_release(struct engine *e, struct job *j)
{
	if (j->xfer.easy) { /* still on its lane: the lanes are stopped (drop_all) */
		eng_net_forget(&e->net, &j->xfer);
		pool_put(e, j->xfer.easy);
		j->xfer.easy = NULL;
		e->eps[j->endpoint].in_flight--;
		e->in_flight--;
	}
	if (j->live_prev)
		j->live_prev->live_next = j->live_next;
	else
		e->live = j->live_next;
	if (j->live_next)
		j->live_next->live_prev = j->live_prev;
	e->live_jobs--;
	e->inflight_est -= j->est_cost;
	if (e->live_jobs == 0)
		e->inflight_est = 0; /* no float drift across millions of jobs */
	if (--j->item->refs == 0)
		item_free(j->item);
	j->item = NULL;
	j->state = JOB_DONE;
	if (j->body.cap > (1u << 20)) {
		buf_free(&j->body);
		buf_init(&j->body);
	}
	if (j->resp.cap > (1u << 20)) {
		buf_free(&j->resp);
		buf_init(&j->resp);
	}
	for (size_t i = 0; j->grades && i < e->cfg->checks.n; i++)
		eng_grade_free(&j->grades[i]);
	eng_pw_order_free(&j->pw[0]);
	eng_pw_order_free(&j->pw[1]);
	j->next = e->free_jobs;
	e->free_jobs = j;
}

static void pending_push(struct engine *e, struct job *j)
{
	j->state = JOB_PENDING;
	j->next = NULL;
	if (e->pend_tail)
		e->pend_tail->next = j;
	else
		e->pend_head = j;
	e->pend_tail = j;
}

/* ---- transfer callbacks ------------------------------------------------ */

/* Returns 1 to stop the feed: after a parse failure, or once [DONE] came
 * (nothing a server sends after it is read). */
static int on_sse_event(void *ctx, const char *data, size_t len)
{
	struct job *j = ctx;
	if (j->reply.done)
		return 1;
	struct engine *e = j->e;
	/* runs on the job's network lane: a redacted copy is the event's own */
	struct buf redacted;
	buf_init(&redacted);
	if (eng_redact_has(&e->redact, data, len)) {
		/* before parsing, so no field is cut inside an echoed key */
		buf_append(&redacted, data, len);
		eng_redact_buf(&e->redact, &redacted);
		data = redacted.data;
		len = redacted.len;
	}
	size_t before = j->reply.content.len;
	struct se_err perr;
	int bad = wire_apply_chunk(data, len, &j->reply, &perr);
	buf_free(&redacted);
	if (bad) {
		j->parse_failed = true;
		snprintf(j->parse_err, sizeof(j->parse_err), "%.100s%s%.140s", perr.where,
			 perr.where[0] ? ": " : "", perr.msg);
		return 1;
	}
	/* TTFT: the first chunk with non-empty delta content; the own clock
	 * is turned into libcurl's per-transfer time in attempt_done */
	if (j->t_content < 0 && j->reply.content.len > before)
		j->t_content = clock_now_ms();
	return j->reply.done ? 1 : 0;
}

/* Whether a 2xx reply to a streaming request is an event stream. A JSON
 * body (a completion, or an error object some gateways send instead of a
 * stream) is parsed as JSON: its content type says so, or, when it has none
 * or a generic one, its first byte is '{'. */
static bool reply_is_sse(const struct job *j, const char *ptr, size_t n)
{
	if (strncasecmp(j->ctype, "text/event-stream", 17) == 0)
		return true;
	if (strstr(j->ctype, "json"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (ptr[i] != ' ' && ptr[i] != '\t' && ptr[i] != '\r' && ptr[i] != '\n')
			return ptr[i] != '{';
	return true;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct job *j = userdata;
	size_t n = size * nmemb;
	if (!j->code_checked) {
		j->t_first_write = clock_now_ms();
		curl_easy_getinfo(j->xfer.easy, CURLINFO_RESPONSE_CODE, &j->http);
		char *ct = NULL;
		curl_easy_getinfo(j->xfer.easy, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(j->ctype, sizeof(j->ctype), "%s", ct ? ct : "");
		j->stream_active = j->stream && j->http / 100 == 2 && reply_is_sse(j, ptr, n);
		j->code_checked = true;
	}
	/* the cap counts every byte received, kept or not: the content of an
	 * endless stream grows in reply.content even when the raw text is not
	 * kept for the cache */
	if (n > MAX_BODY - j->rx) {
		j->too_big = true;
		return 0;
	}
	j->rx += n;
	if (!j->stream_active) {
		buf_append(&j->resp, ptr, n);
		return n;
	}
	if (j->reply.done)
		return n; /* after [DONE]: received (and capped), never read */
	/* the raw SSE text is only kept when it will be stored in the cache */
	if (j->e->o->cache_mode == ENG_CACHE_USE || j->e->o->cache_mode == ENG_CACHE_REFRESH)
		buf_append(&j->resp, ptr, n);
	if (!j->parse_failed && sse_feed(&j->sse, ptr, n, on_sse_event, j) < 0) {
		j->parse_failed = true;
		snprintf(j->parse_err, sizeof(j->parse_err), "stream event larger than %u bytes",
			 SSE_MAX_EVENT);
	}
	/* the reply is whole: a body the server then holds open is ended by
	 * the lane after a grace (net.h), and the reply is complete */
	if (j->reply.done)
		eng_net_reply_ended(&j->e->net, &j->xfer);
	return n;
}

static void attempt_reset(struct job *j, bool keep_resp)
{
	if (!keep_resp)
		buf_reset(&j->resp);
	sse_reset(&j->sse);
	wire_reply_reset(&j->reply);
	j->curl_err[0] = '\0';
	j->ttft = -1;
	j->t_first_write = -1;
	j->t_content = -1;
	j->http = 0;
	j->code_checked = false;
	j->stream_active = false;
	j->parse_failed = false;
	j->too_big = false;
	j->rx = 0;
	j->ctype[0] = '\0';
	j->parse_err[0] = '\0';
}

/* Starts the job's next attempt when its endpoint allows; false when blocked. */
static bool job_start(struct engine *e, struct job *j, double now)
{
	struct endpoint *ep = &e->eps[j->endpoint];
	const struct cfg_endpoint *ce = &e->cfg->endpoints[j->endpoint];
	if (ce->max_concurrency > 0 && ep->in_flight >= ce->max_concurrency)
		return false;
	if (!eng_bucket_take(&ep->bucket, now))
		return false;
	CURL *h = pool_get(e);
	if (!h)
		return false;
	attempt_reset(j, false);
	j->attempts++;
	e->st->requests++;
	/* shadowsim reads the attempt number from this header to replay faults */
	snprintf(j->attempt_hdr, sizeof(j->attempt_hdr), "X-Shadoweval-Attempt: %d", j->attempts);
	j->attempt_node.data = j->attempt_hdr;
	j->attempt_node.next = ep->headers;
	if (j->sample > 0) {
		/* and the sample index, so that it draws a new answer when the
		 * request is sampled (temperature > 0) */
		snprintf(j->sample_hdr, sizeof(j->sample_hdr), "X-Shadoweval-Sample: %d",
			 j->sample);
		j->sample_node.data = j->sample_hdr;
		j->sample_node.next = ep->headers;
		j->attempt_node.next = &j->sample_node;
	}
	j->xfer.easy = h;
	curl_easy_setopt(h, CURLOPT_URL, ep->url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body.data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body.len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, &j->attempt_node);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(e->cfg->timeout_s * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Over TLS, wait for an h2 connection to multiplex on rather than open
	 * another. Never over plain http: h2 is not negotiated there, and waiting
	 * for a connection that will stay HTTP/1.1 serializes the first burst
	 * behind one request. */
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, ep->tls ? 1L : 0L);
	if (ep->tls) /* verification stays on; only the trusted CA is chosen */
		curl_easy_setopt(h, CURLOPT_CAINFO, ep->cainfo);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	j->t_start = now;
	j->state = JOB_RUNNING;
	eng_net_add(&e->net, &j->xfer);
	ep->in_flight++;
	e->in_flight++;
	return true;
}

static void start_pending(struct engine *e, double now)
{
	struct job **pp = &e->pend_head, *prev = NULL;
	while (*pp && e->in_flight < (size_t)e->conc) {
		struct job *j = *pp;
		if (job_start(e, j, now)) {
			*pp = j->next;
			if (e->pend_tail == j)
				e->pend_tail = prev;
			j->next = NULL;
		} else {
			prev = j;
			pp = &j->next;
		}
	}
}

/* ---- finishing a job ---------------------------------------------------- */

static int job_finish(struct engine *e, struct job *j, enum res_status status, double latency,
		      const char *error);
static int judge_finish(struct engine *e, struct job *j);
static int job_launch(struct engine *e, struct job *j);
static struct job *judge_job_new(struct engine *e, struct job *p, size_t i, int model,
				 const struct buf *msgs, int order);
static void worker_push(struct engine *e, struct job *j);
static bool pair_defers(const struct job *j);
static void pair_settled(struct engine *e, struct job *j, bool fb_follows);
static void pair_next(struct engine *e, struct job *j);
static int judge_launch(struct engine *e, struct job *j);
static int judge_next_fallback(const struct engine *e, const struct job *j);
static size_t judges_for(const struct engine *e, const char *task);

/* Starts the next fallback of a failed primary or fallback, if any. */
static int start_fallback(struct engine *e, struct item *it, size_t from, int sample);
static int next_fallback(const struct engine *e, const struct item *it, const char *id, size_t from,
			 int sample, size_t *k);

static void copy_error(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* "<what> <code>: <message>", leaving out what the server did not send. */
static void reply_error_text(char *out, size_t size, const char *what, const struct wire_reply *r)
{
	snprintf(out, size, "%s%s%s: %s", what, r->error_code[0] ? " " : "", r->error_code,
		 r->error_message[0] ? r->error_message : "(no message)");
}

/* Interprets a completed (or cached) reply whose transport was fine. */
static enum res_status parse_reply(struct job *j, bool stream, char *error, size_t esize)
{
	struct se_err perr;
	if (j->too_big) {
		/* a partial answer of up to the cap is not an output worth a line */
		buf_reset(&j->reply.content);
		snprintf(error, esize, "reply larger than %u bytes", MAX_BODY);
		return RES_BAD_RESPONSE;
	}
	if (stream) {
		if (!j->parse_failed && sse_finish(&j->sse, on_sse_event, j) < 0)
			j->parse_failed = true;
		if (j->parse_failed) {
			copy_error(error, esize, j->parse_err[0] ? j->parse_err : "bad stream");
			return RES_BAD_RESPONSE;
		}
		if (j->reply.error) {
			reply_error_text(error, esize, "mid-stream error", &j->reply);
			return RES_STREAM_ERROR;
		}
		if (!j->reply.done && !j->reply.finish_reason[0]) {
			if (j->reply.n_chunks == 0 && j->ctype[0])
				snprintf(error, esize,
					 "stream ended without finish_reason or [DONE] (no event "
					 "came; the reply's content type was \"%.60s\")",
					 j->ctype);
			else
				copy_error(error, esize,
					   "stream ended without finish_reason or [DONE]");
			return RES_STREAM_ERROR;
		}
		return RES_OK;
	}
	if (wire_parse_completion(j->resp.data, j->resp.len, &j->reply, &perr)) {
		snprintf(error, esize, "%.200s%s%.400s", perr.where, perr.where[0] ? ": " : "",
			 perr.msg);
		return RES_BAD_RESPONSE;
	}
	if (j->reply.error) {
		reply_error_text(error, esize, "error in reply", &j->reply);
		return RES_BAD_RESPONSE;
	}
	return RES_OK;
}

/* A transfer that failed on this machine (no file descriptor, no memory),
 * not at the server: the model is not to blame, so it writes no line. The
 * attempt is not counted, the job waits LOCAL_RETRY_MS, and in-flight work is
 * capped at what was running. Returns -1 (the run stops) when it keeps
 * happening, or happens with nothing else in flight. */
static int local_failure(struct engine *e, struct job *j, CURLcode cc, long oserr, double now)
{
	pool_put(e, j->xfer.easy);
	j->xfer.easy = NULL;
	e->eps[j->endpoint].in_flight--;
	e->in_flight--;
	j->attempts--;
	e->st->requests--;
	e->local_errors++;
	snprintf(e->local_why, sizeof(e->local_why), "%s",
		 oserr ? strerror((int)oserr) : curl_easy_strerror(cc));
	int cap = e->in_flight > 0 ? (int)e->in_flight : 1;
	if (e->conc > cap) {
		e->conc = cap; /* what was running fits: wait for it to end */
		e->local_fails = 0;
	} else if (++e->local_fails > LOCAL_FAIL_MAX) {
		return se_fail(e->err, SE_IO, NULL,
			       "cannot open a connection on this machine: %s (%s), with %zu "
			       "transfers open; see ulimit -n",
			       e->local_why, curl_easy_strerror(cc), e->in_flight);
	}
	j->state = JOB_WAITING;
	heap_push(&e->timers, now + LOCAL_RETRY_MS, j);
	return 0;
}

static bool is_local_error(CURLcode cc, long oserr, CURL *easy)
{
	/* libcurl 7.88 fails a reply whose header passes its 100 KB limit as
	 * out of memory, with or without a message: once the request went out,
	 * that is the server's reply, recorded and retried like any bad one
	 * (our own allocations abort, xalloc.h) */
	long sent = 0;
	if (cc == CURLE_OUT_OF_MEMORY &&
	    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0)
		return false;
	if (cc == CURLE_OUT_OF_MEMORY || cc == CURLE_FAILED_INIT)
		return true;
	if (cc == CURLE_OK || cc == CURLE_OPERATION_TIMEDOUT)
		return false;
	return oserr == EMFILE || oserr == ENFILE || oserr == ENOBUFS || oserr == ENOMEM;
}

/* libcurl's time from the transfer's start to the request's first byte
 * sent: name lookup, TCP connect and TLS handshake of a new connection
 * (about 0 on a reused one). Microseconds, 0 when unknown. */
static curl_off_t setup_us(struct job *j)
{
	curl_off_t pre = 0;
	if (curl_easy_getinfo(j->xfer.easy, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK ||
	    pre < 0)
		return 0;
	return pre;
}

/* The transfer's time by libcurl's own clock, from the request's first
 * byte sent to the reply's last byte (as wrk times a request): the
 * connection's set-up is the harness's, not the model's, and a burst of
 * new connections (the run's first wave) would add the server's accept
 * queue to every latency in it. Not by when this loop got around to
 * noticing the end; the loop's clock only when libcurl has none.
 * Microseconds: plenty, and short lines. */
static double transfer_ms(struct job *j, double now)
{
	curl_off_t us = 0;
	if (curl_easy_getinfo(j->xfer.easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK && us > 0) {
		curl_off_t pre = setup_us(j);
		return (double)(pre < us ? us - pre : us) / 1000.0;
	}
	return round((now - j->t_start) * 1000.0) / 1000.0;
}

/* The time of a transfer the lane ended (its body held open after its
 * reply's end, net.h): libcurl's total time runs to the cut, so the reply's
 * time is libcurl's time to the first byte plus what the write callbacks
 * measured from the first body byte to the reply's end, as set_ttft. */
static double cut_ms(struct job *j)
{
	curl_off_t us = 0;
	double ms;
	if (j->t_first_write >= 0 &&
	    curl_easy_getinfo(j->xfer.easy, CURLINFO_STARTTRANSFER_TIME_T, &us) == CURLE_OK &&
	    us > 0) {
		curl_off_t pre = setup_us(j);
		ms = (double)(pre < us ? us - pre : us) / 1000.0 +
		     (j->xfer.ended_at - j->t_first_write);
	} else {
		ms = j->xfer.ended_at - j->t_start;
	}
	return round((ms < 0 ? 0 : ms) * 1000.0) / 1000.0;
}

/* TTFT on libcurl's clock too, from the same start: its time to the first
 * byte, plus what the write callbacks measured from the first body byte
 * to the first content delta (both stamps taken on the transfer's lane, as
 * the bytes came). Never past the transfer's end. */
static void set_ttft(struct job *j, double latency)
{
	if (j->t_content < 0)
		return;
	curl_off_t us = 0;
	double first = -1;
	if (j->t_first_write >= 0 &&
	    curl_easy_getinfo(j->xfer.easy, CURLINFO_STARTTRANSFER_TIME_T, &us) == CURLE_OK &&
	    us > 0) {
		curl_off_t pre = setup_us(j);
		first =
		    (double)(pre < us ? us - pre : us) / 1000.0 + (j->t_content - j->t_first_write);
	} else {
		first = j->t_content - j->t_start;
	}
	if (first > latency)
		first = latency;
	j->ttft = round((first < 0 ? 0 : first) * 1000.0) / 1000.0;
}

/* libcurl 7.88 opens a new connection for every transfer that finds the
 * HTTP/2 connections full while another is still in its handshake (PIPEWAIT
 * only waits for the first), so a burst of C transfers over TLS opened
 * about C/2 connections. When every endpoint is https, connections per host
 * are capped at what C streams need at libcurl's 100 per connection, plus
 * 2 (0: no cap); the first reply over HTTP/1.x lifts the cap (one request
 * per connection there; net.c). */
static long h2_cap(const struct engine *e)
{
	for (size_t i = 0; i < e->cfg->n_endpoints; i++)
		if (!e->eps[i].tls)
			return 0;
	return (long)(e->conc + H2_STREAMS - 1) / H2_STREAMS + 2;
}

/* The network threads: two, so that libcurl's per-transfer work and the
 * socket calls use both cores (net.h), except when every endpoint is
 * https: an HTTP/2 connection multiplexes the streams of one multi handle
 * only, and two would open their own connections to the gateway. */
static size_t net_lanes(const struct engine *e)
{
	return h2_cap(e) > 0 || e->conc < 2 ? 1 : ENG_NET_MAX_LANES;
}

/* ---- OpenRouter's generation lookup (gencost.h) ------------------------ */

/* The lookup phase ends: the job finishes with the looked-up cost or, when
 * no lookup gave it, an unknown one (a failed reply's error says why). */
static int gen_end(struct engine *e, struct job *j)
{
	struct eng_gen *g = &j->gen;
	g->active = false;
	char error[sizeof(j->error)];
	memcpy(error, j->has_error ? j->error : "", j->has_error ? sizeof(error) : 1);
	if (!isnan(g->cost)) {
		j->reply.has_gen_cost = true;
		j->reply.gen_cost = g->cost;
	} else if (j->status != RES_OK) {
		size_t l = strnlen(error, sizeof(error) - 1);
		snprintf(error + l, sizeof(error) - l, "%sgeneration cost lookup: %s (%d %s)",
			 l ? "; " : "", g->why[0] ? g->why : "interrupted", g->attempts,
			 g->attempts == 1 ? "try" : "tries");
	}
	return job_finish(e, j, j->status, j->latency, error[0] ? error : NULL);
}

/* Starts the next lookup of the job's reply; one that cannot start ends
 * the phase. */
static int gen_start(struct engine *e, struct job *j, double now)
{
	struct endpoint *ep = &e->eps[j->endpoint];
	CURL *h = stopsig_raised() ? NULL : pool_get(e);
	if (!h)
		return gen_end(e, j);
	if (eng_gen_setup(&j->gen, h, e->cfg->endpoints[j->endpoint].base_url, ep->headers,
			  ep->tls ? ep->cainfo : NULL, now)) {
		pool_put(e, h);
		return gen_end(e, j);
	}
	j->xfer.easy = h;
	eng_net_add(&e->net, &j->xfer);
	j->state = JOB_RUNNING;
	ep->in_flight++;
	e->in_flight++;
	return 0;
}

/* A lookup ended: the cost, another try later, or the end of the phase. */
static int gen_done(struct engine *e, struct job *j, CURLcode cc)
{
	double now = clock_now_ms(), at = now;
	enum eng_gen_next next = eng_gen_done(&j->gen, j->xfer.easy, cc, &e->cfg->retry, now, &at);
	pool_put(e, j->xfer.easy);
	j->xfer.easy = NULL;
	e->eps[j->endpoint].in_flight--;
	e->in_flight--;
	if (next == ENG_GEN_AGAIN && !stopsig_raised()) {
		j->state = JOB_WAITING;
		heap_push(&e->timers, at, j);
		return 0;
	}
	return gen_end(e, j);
}

/* attempt_done's last step: a reply without a cost of its own that its
 * endpoint can look up waits for the lookup (the job stays live: it keeps
 * its item and its place in the concurrency); any other is finished. */
static int finish_or_lookup(struct engine *e, struct job *j, enum res_status st, double latency,
			    const char *error)
{
	if (stopsig_raised() || !eng_gen_wanted(&j->gen, &e->cfg->endpoints[j->endpoint], &j->reply,
						j->header_cost, j->http))
		return job_finish(e, j, st, latency, error);
	j->status = st;
	j->latency = latency;
	j->has_error = error != NULL;
	snprintf(j->error, sizeof(j->error), "%s", error ? error : "");
	j->gen.active = true;
	return gen_start(e, j, clock_now_ms());
}

/* A deadline in the heap came: a retry joins the pending queue, a lookup
 * starts its next try. */
static int timer_due(struct engine *e, struct job *j, double now)
{
	if (j->gen.active)
		return gen_start(e, j, now);
	pending_push(e, j);
	return 0;
}

/* Longer than any retry.max_ms, short enough to print: the wait of a
 * Retry-After too large for libcurl's 64-bit count, or of 1e308 s. */
#define RETRY_AFTER_MAX_S 1e15

/* The server's Retry-After in ms, -1 when it gave none: libcurl's reading,
 * and for a count of seconds too long for it (libcurl then reports none, and
 * the request was retried at once) a wait past any retry.max_ms. */
static double retry_after_of(CURL *easy, long http)
{
	curl_off_t ra = -1;
	curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra);
	if (ra > 0)
		return (double)ra * 1000.0;
	if (http >= 200 && http < 300) /* the usual answer: no header lookup */
		return -1;
	struct curl_header *h = NULL;
	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return -1;
	const char *v = h->value + strspn(h->value, " \t");
	size_t digits = strspn(v, "0123456789");
	bool long_count = digits > 18 && !v[digits + strspn(v + digits, " \t")];
	return long_count ? RETRY_AFTER_MAX_S * 1000.0 : -1;
}

/* The error text of a non-2xx reply: its error object's message when it
 * has one (and its retry-after, when the header gave none), and where a
 * redirect pointed. */
static void http_error_text(struct engine *e, struct job *j, long http, double *retry_after_ms,
			    char *error, size_t size)
{
	int code = 0;
	char msg[512] = "";
	double ra_s = -1;
	if (wire_parse_error(j->resp.data, j->resp.len, &code, msg, sizeof(msg), &ra_s) == 0) {
		if (*retry_after_ms < 0 && ra_s >= 0) /* a wait past any max_ms stays finite */
			*retry_after_ms =
			    (ra_s < RETRY_AFTER_MAX_S ? ra_s : RETRY_AFTER_MAX_S) * 1000.0;
		snprintf(error, size, "HTTP %ld: %s", http, msg);
	} else {
		snprintf(error, size, "HTTP %ld", http);
	}
	char *loc = NULL;
	if (http >= 300 && http < 400 &&
	    curl_easy_getinfo(j->xfer.easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
		/* redirects are never followed (a key must not follow them to
		 * another host); the target is shown, an echoed key redacted */
		char where[400];
		snprintf(where, sizeof(where), "%s", loc);
		eng_redact_str(&e->redact, where, sizeof(where));
		size_t l = strlen(error);
		snprintf(error + l, size - l, "%sredirect to %s (not followed)", l ? ": " : "",
			 where);
	}
}

/* An attempt's outcome: a retry (a deadline in the heap) when its status
 * is retryable, attempts are left and the budget allows, else the job's
 * end. A server that asks for a longer wait than retry.max_ms (a
 * Retry-After of days, a date in 2099) is not retried: the pair ends with
 * its own status, rather than the run sleeping until it is killed. */
static int retry_or_finish(struct engine *e, struct job *j, enum res_status st, double latency,
			   double retry_after_ms, char *error, size_t size, double now)
{
	bool retry =
	    st != RES_OK && eng_status_retryable(st) && j->attempts < e->cfg->retry.max_attempts;
	if (retry && retry_after_ms > e->cfg->retry.max_ms) {
		size_t l = strlen(error);
		snprintf(error + l, size - l,
			 "%sthe server asked to wait %.0f s (Retry-After), more than retry.max_ms "
			 "(%d ms): not retried",
			 l ? "; " : "", retry_after_ms / 1000.0, e->cfg->retry.max_ms);
		retry = false;
	}
	if (retry) {
		if (stopsig_raised()) {
			/* interrupted: no line, --resume redoes the pair */
			job_release(e, j);
			return 0;
		}
		if (!over_budget(e, 0)) {
			double d =
			    eng_backoff_ms(&e->cfg->retry, j->attempts, retry_after_ms, &e->rng);
			j->state = JOB_WAITING;
			heap_push(&e->timers, now + d, j);
			return 0;
		}
		snprintf(error + strlen(error), size - strlen(error),
			 "%sa retry would pass --max-cost", error[0] ? "; " : "");
		st = RES_BUDGET;
	}
	return finish_or_lookup(e, j, st, latency, error[0] ? error : NULL);
}

/* A transfer ended: classify, then retry, or finish with a line. */
static int attempt_done(struct engine *e, struct job *j, CURLcode cc)
{
	if (j->gen.active)
		return gen_done(e, j, cc);
	double now = clock_now_ms();
	long oserr = 0;
	if (cc != CURLE_OK && !j->too_big) {
		curl_easy_getinfo(j->xfer.easy, CURLINFO_OS_ERRNO, &oserr);
		if (is_local_error(cc, oserr, j->xfer.easy))
			return local_failure(e, j, cc, oserr, now);
		if (cc == CURLE_OUT_OF_MEMORY && !j->curl_err[0])
			snprintf(j->curl_err, sizeof(j->curl_err),
				 "the reply's header is over libcurl's limit (100 KB)");
	}
	e->local_fails = 0;
	/* A certificate that does not verify fails every request alike: the
	 * run stops with the endpoint named rather than retrying each pair */
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		return se_fail(e->err, SE_INPUT, e->cfg->path,
			       "endpoint \"%s\": TLS certificate verification failed: %s%s%s "
			       "(name the CA that signed the server's certificate in "
			       "endpoints.%s.ca_file)",
			       e->cfg->endpoints[j->endpoint].name, curl_easy_strerror(cc),
			       j->curl_err[0] ? ": " : "", j->curl_err,
			       e->cfg->endpoints[j->endpoint].name);
	long http = 0;
	curl_easy_getinfo(j->xfer.easy, CURLINFO_RESPONSE_CODE, &http);
	struct curl_header *cost_h = NULL;
	j->header_cost = curl_easy_header(j->xfer.easy, "x-litellm-response-cost", 0, CURLH_HEADER,
					  -1, &cost_h) == CURLHE_OK
			     ? eng_header_cost(cost_h->value)
			     : NAN;
	eng_gen_note_header(&j->gen, j->xfer.easy);
	j->http = http;
	/* [DONE] came, then the connection broke before the body's end: the
	 * reply is whole, as when the lane ends a body held open after it */
	bool broke_after_done = j->stream_active && j->reply.done && http / 100 == 2 &&
				(cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR);
	if (broke_after_done)
		cc = CURLE_OK;
	double latency = j->xfer.cut || broke_after_done ? cut_ms(j) : transfer_ms(j, now);
	double retry_after_ms = retry_after_of(j->xfer.easy, http);
	char error[700] = "";
	if (j->too_big)
		cc = CURLE_OK; /* our own abort: the reply itself is the fault */
	/* an echoed key is replaced before anything is parsed out of the body,
	 * so no field is cut inside one */
	eng_redact_buf(&e->redact, &j->resp);
	enum res_status st = eng_classify(cc, http);
	/* a 2xx stream cut after some events (connection closed mid-stream)
	 * is a stream that ended without [DONE]: stream_error, not network */
	if (st == RES_NETWORK && j->stream_active && j->reply.n_chunks > 0 &&
	    (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR))
		st = RES_STREAM_ERROR;
	if (cc != CURLE_OK) {
		snprintf(error, sizeof(error), "%s%s%s", curl_easy_strerror(cc),
			 j->curl_err[0] ? ": " : "", j->curl_err);
	} else if (st == RES_OK) {
		/* an empty reply to a stream request is a stream without events */
		bool sse = j->stream_active || (j->stream && !j->code_checked);
		st = parse_reply(j, sse, error, sizeof(error));
	} else {
		http_error_text(e, j, http, &retry_after_ms, error, sizeof(error));
	}
	set_ttft(j, latency);
	/* the handle goes back to the pool now: a retry waits in the heap */
	pool_put(e, j->xfer.easy);
	j->xfer.easy = NULL;
	e->eps[j->endpoint].in_flight--;
	e->in_flight--;

	return retry_or_finish(e, j, st, latency, retry_after_ms, error, sizeof(error), now);
}

/* --stop-when-decided: a primary or shadow line of the item is scored. */
static void stop_note(struct engine *e, const struct job *j, bool pass, double cost)
{
	if (j->role == RES_PRIMARY)
		eng_stop_pass(e->o->stop, j->item->pass, -1, pass, cost);
	for (size_t k = 0; j->role == RES_SHADOW && k < e->cfg->n_shadows; k++)
		if (e->cfg->shadows[k] == j->model) {
			eng_stop_pass(e->o->stop, j->item->pass, (int)k, pass, cost);
			break;
		}
}

/* Worker thread: the line just written, to the run's summaries. */
static void feed_summary(struct sum_live *live, const struct res_row *row, const struct job *j)
{
	struct res_rec r;
	res_rec_init(&r);
	r.item_id = row->item_id;
	r.model = row->model;
	r.task = row->task;
	r.slot = row->slot;
	r.role = j->role;
	r.status = j->status;
	int src = row->cost_source
		      ? res_cost_source_parse(row->cost_source, strlen(row->cost_source))
		      : -1;
	r.cost_source = src >= 0 ? (enum res_cost_source)src : RES_COST_UNKNOWN;
	r.latency_ms = row->latency_ms;
	r.ttft_ms = row->ttft_ms;
	r.prompt_tokens = row->prompt_tokens;
	r.completion_tokens = row->completion_tokens;
	r.cost_usd = row->cost_usd;
	r.cached = row->cached;
	r.pass = row->pass;
	/* a judged line: the judge rows and the agreement table read its
	 * checks object, as summarize reads it from the file */
	cJSON *checks = NULL;
	if (row->judged) {
		r.judge_cost_usd = row->judge_cost_usd;
		r.judge_latency_ms = row->judge_latency_ms;
		if (row->checks_json)
			checks = cJSON_Parse(row->checks_json);
		r.checks = checks;
	}
	if (row->pairwise) {
		r.pw_ab = row->pairwise->ab;
		r.pw_ba = row->pairwise->ba;
		r.pairwise = res_pw_outcome_of(r.pw_ab, r.pw_ba);
		r.pw_judge_model = row->pairwise->judge_model;
	}
	/* sample 0 is the item's one answer for every summary; samples.csv
	 * (written from results.jsonl at the end) is where the rest count */
	if (row->sample <= 0)
		sum_live_add(live, &r);
	cJSON_Delete(checks);
	if (j->item_last)
		sum_live_item_done(live, row->item_id);
}

/* What the checks see of an item; command checks grade with the run's
 * scorer processes. */
static struct chk_item check_item(const struct engine *e, const struct item *it)
{
	return (struct chk_item){.id = it->id,
				 .task = it->task,
				 .fields = it->fields,
				 .input = it->input,
				 .expected = (const char *const *)it->expected,
				 .n_expected = it->n_expected,
				 .runner = scr_pool_runner(e->scorers)};
}

/* Worker thread: a finished request's reply into the cache (use, refresh;
 * never a cache hit), then every echoed key out of it. -1 when the cache
 * write failed (the run ends). */
static int store_reply(struct engine *e, struct job *j)
{
	if (j->status == RES_OK && !j->hit &&
	    (e->o->cache_mode == ENG_CACHE_USE || e->o->cache_mode == ENG_CACHE_REFRESH)) {
		/* stream: what the stored text is (a JSON body can answer a
		 * streaming request) */
		struct eng_cache_entry ce = {j->stream_active, j->latency,
					     j->ttft >= 0 ? j->ttft : NAN};
		/* an echoed key never reaches the cache; an escaped one (\u0073k-...)
		 * cannot be replaced in place, nor one a stream split across
		 * events (found only in the joined answer), so that reply is not
		 * stored */
		bool split =
		    eng_redact_has(&e->redact, j->reply.content.data, j->reply.content.len);
		eng_redact_buf(&e->redact, &j->resp);
		struct eng_cache_key k = job_cache_key(e, j);
		if (!split && !eng_redact_escaped(&e->redact, j->resp.data, j->resp.len) &&
		    eng_cache_store(e->cache, &k, &ce, j->resp.data, j->resp.len, &e->wk_err)) {
			e->wk_failed = j->failed = true;
			return -1;
		}
	}
	/* whatever the server sent may echo a key: redact before scoring, so
	 * check details (and judges) never see it either */
	struct wire_reply *rp = &j->reply;
	eng_redact_buf(&e->redact, &rp->content);
	eng_redact_str(&e->redact, rp->model, sizeof(rp->model));
	eng_redact_str(&e->redact, rp->finish_reason, sizeof(rp->finish_reason));
	return 0;
}

/* Worker thread: the judged line's sums over its judge requests (NAN, so
 * null, when one is unknown), and its pairwise object (into pw) when it was
 * compared. */
static void judge_sums(struct engine *e, const struct job *j, struct res_row *row,
		       struct res_pairwise *pw)
{
	row->judged = true;
	row->judge_cost_usd = row->judge_latency_ms = 0;
	if (j->compared) {
		eng_pw_row(j->pw, e->pw_name, e->cfg->models[j->ref->model].id, pw, &e->pwdetail,
			   &row->judge_cost_usd, &row->judge_latency_ms);
		row->pairwise = pw;
	}
	for (size_t i = 0; j->judging && i < e->cfg->checks.n; i++) {
		if (!chk_judge_of(&e->cfg->checks, i) ||
		    !chk_applies(&e->cfg->checks, i, j->item->task))
			continue;
		row->judge_cost_usd += j->grades[i].cost_usd;
		row->judge_latency_ms += j->grades[i].latency_ms;
	}
}

/* Worker thread: the job's results.jsonl line (its judge grades in, when
 * judged), and the run's summaries told. */
static void write_line(struct engine *e, struct job *j)
{
	const struct cfg *cfg = e->cfg;
	const struct item *it = j->item;
	const char *error = NULL;
	buf_reset(&e->errtext);
	if (j->has_error) {
		buf_puts(&e->errtext, j->error);
		eng_redact_buf(&e->redact, &e->errtext);
		error = e->errtext.data;
	}
	enum res_status status = j->status;
	struct res_row row;
	res_row_init(&row);
	row.item_id = it->id;
	row.item_index = it->index;
	row.task = it->task;
	row.slot = cfg->slots[it->slot].name;
	row.model = cfg->models[j->model].id;
	row.sample = e->reps > 1 ? j->sample : -1;
	row.role = res_role_name(j->role);
	row.status = res_status_name(status);
	row.http_status = (int)j->http;
	row.attempts = j->attempts;
	row.latency_ms = status == RES_BUDGET && j->attempts == 0 ? NAN : j->latency;
	row.ttft_ms = j->stream && j->ttft >= 0 ? j->ttft : NAN;
	row.est_tokens = it->est_tokens;
	row.cached = j->hit;
	if (j->hit) {
		row.original_latency_ms = j->entry.latency_ms;
		row.original_ttft_ms = j->entry.ttft_ms;
	}
	struct chk_item ci = check_item(e, it);
	eng_reply_row(&j->reply, status == RES_OK, e->o->pricing, &cfg->checks, &ci,
		      j->hit ? NAN : j->header_cost, j->judging ? j->grades : NULL, &row,
		      &e->checks);
	if (scr_pool_failed(e->scorers, &e->wk_err)) {
		/* a scorer is gone for good: this line's grade is not known */
		e->wk_failed = j->failed = true;
		return;
	}
	struct res_pairwise pw;
	if (j->judging || j->compared)
		judge_sums(e, j, &row, &pw);
	row.error = error;
	j->pass = row.pass; /* for the loop thread (--stop-when-decided) */
	j->cost = row.cost_usd;
	if (res_writer_append(&e->w, &row, &e->wk_err)) {
		e->wk_failed = e->wk_lost = j->failed = true;
		return;
	}
	j->written = true;
	if (e->o->live)
		feed_summary(e->o->live, &row, j);
}

/* What a judge prompt shows of item it (the answers are the caller's). */
static struct jdg_input judge_input(const struct item *it)
{
	return (struct jdg_input){.task = it->task,
				  .fields = it->fields,
				  .input = it->input ? it->input : "",
				  .expected = (const char *const *)it->expected,
				  .n_expected = it->n_expected};
}

/* Worker thread: a judged job's judge prompts (chat messages), one per
 * judge check, rendered from its (redacted) answer. */
static void render_judges(struct engine *e, struct job *j)
{
	const struct item *it = j->item;
	struct jdg_input in = judge_input(it);
	in.a = j->reply.content.data ? j->reply.content.data : "";
	in.a_len = j->reply.content.len;
	for (size_t i = 0; i < e->cfg->checks.n; i++) {
		const struct jdg_check *jc = chk_judge_of(&e->cfg->checks, i);
		if (jc && chk_applies(&e->cfg->checks, i, it->task))
			eng_judge_messages(jc, &in, &j->jbodies[i]);
	}
}

/* Worker thread: a compared shadow's two pairwise prompts, from its
 * answer and its reference's (both redacted by their first pass). */
static void render_pairwise(struct engine *e, struct job *j)
{
	struct jdg_input in = judge_input(j->item);
	const struct buf *ref = &j->ref->reply.content, *own = &j->reply.content;
	eng_pw_messages(e->pw, &in, ref->data ? ref->data : "", ref->len,
			own->data ? own->data : "", own->len, j->pwmsgs);
}

/* Worker thread: a judge request's reply read into its parent's grade;
 * the parent's line is written after its last one. */
static void judge_scored(struct engine *e, struct job *j)
{
	struct job *p = j->parent;
	const struct jdg_check *jc = chk_model_graded(&e->cfg->checks, j->jcheck);
	const char *id = e->cfg->models[j->model].id;
	bool ok = j->status == RES_OK;
	const char *why = j->has_error ? j->error : res_status_name(j->status);
	double cost =
	    eng_reply_cost(&j->reply, j->hit ? NAN : j->header_cost, e->o->pricing, id, NULL);
	double latency = j->status == RES_BUDGET && j->attempts == 0 ? NAN : j->latency;
	const char *reply = j->reply.content.data;
	size_t n = j->reply.content.len;
	if (j->pw_order >= 0) {
		struct eng_pw_order *o = &p->pw[j->pw_order];
		eng_pw_read(jc, j->pw_order, ok, why, reply, n, o);
		o->judge_model = id;
		o->cost_usd = cost;
		o->latency_ms = latency;
		o->cached = j->hit;
		return; /* a paired parent's line: the loop writes it (pair_next) */
	}
	struct eng_grade *g = &p->grades[j->jcheck];
	eng_judge_read(jc, ok, why, reply, n, g);
	g->judge_model = id;
	g->cost_usd = cost;
	g->latency_ms = latency;
	g->cached = j->hit;
	if (!j->write_parent)
		return;
	p->item_last = j->item_last;
	write_line(e, p);
	j->failed = p->failed;
}

/* Worker thread: one finished job's cache entry, then its line, or (judged)
 * its judge requests' bodies, or (a judge request) its grade. Touches the
 * job (and a judge request's parent), its item's fixed fields, the
 * read-only config, pricing and redaction set, and the worker's own fields
 * of the engine. */
static void score_job(void *ctx, struct eng_wnode *n)
{
	struct engine *e = ctx;
	struct job *j = job_of(n);
	if (e->o->before_score)
		e->o->before_score(e->o->test_ctx);
	if (e->wk_failed)
		return; /* a write failed: the run is ending, nothing more is written */
	if (j->write_now) {
		write_line(e, j);
		return;
	}
	if (j->pw_render) {
		render_pairwise(e, j);
		return;
	}
	if (store_reply(e, j))
		return;
	if (j->parent)
		judge_scored(e, j);
	else if (j->judging)
		render_judges(e, j);
	else if (!j->paired)
		write_line(e, j);
}

/* Loop thread: a job the worker is done with (its line written or not),
 * counted and released. */
static void job_done(struct engine *e, struct job *j)
{
	if (j->written) {
		e->st->results_written++;
		e->st->by_status[j->status]++;
		if (j->hit)
			e->st->cached++;
		if (j->item->pass && j->sample == 0 && j->status != RES_BUDGET)
			stop_note(e, j, j->pass, j->cost);
	}
	job_release(e, j);
}

static int launch_judges(struct engine *e, struct job *p);

/* Worker thread, after a batch is scored: its lines go to results.jsonl in
 * one write before the batch goes back to the loop (also after another
 * failure, a scorer's or the cache's: the lines scored before it are kept,
 * as they were when each line had its own write); when a write of the
 * batch failed, none of its lines counts as written. */
static void flush_scored(void *ctx, struct eng_wnode *batch)
{
	struct engine *e = ctx;
	if (!e->wk_lost) {
		struct se_err werr;
		if (res_writer_flush(&e->w, &werr) == 0)
			return;
		if (!e->wk_failed)
			e->wk_err = werr;
		e->wk_failed = e->wk_lost = true;
	}
	for (struct eng_wnode *n = batch; n; n = n->next) {
		struct job *j = job_of(n);
		/* a judge request's batch carries its parent's line */
		struct job *w = j->write_parent ? j->parent : j;
		if (w->written)
			w->written = false, w->failed = j->failed = true;
	}
}

static int launch_pairwise(struct engine *e, struct job *p);

/* Loop thread: job j is back from the worker. go: the run goes on (no
 * failure); new requests start only while the loop runs and no SIGINT
 * came. A judged job back with its judge bodies launches them, a rendered
 * shadow its two pairwise requests; a judge request back after its
 * parent's line releases the parent too, the last of a paired parent's
 * hands the parent on (pair_next); a paired job back from its first pass
 * goes on too. Anything else is done. */
static int job_back(struct engine *e, struct job *j, bool go)
{
	bool run = go && !j->failed && !e->wk_failed && !e->loop_over;
	bool more = run && !e->st->interrupted;
	if (j->parent) {
		struct job *p = j->parent;
		bool w = j->write_parent, ready = j->parent_ready;
		job_done(e, j);
		if (w)
			job_done(e, p);
		if (ready && run)
			pair_next(e, p);
		return 0;
	}
	if (j->write_now) {
		job_done(e, j);
		return 0;
	}
	if (j->pw_render) {
		j->pw_render = false;
		if (more)
			return launch_pairwise(e, j);
	} else if (j->judging) {
		if (more)
			return launch_judges(e, j);
	} else if (j->paired && run) {
		pair_next(e, j);
		return 0;
	}
	job_done(e, j);
	return 0;
}

/* Loop thread: takes back every job the worker is done with. Returns -1
 * (err set unless `failed` says it already is) when a write failed. */
static int take_scored(struct engine *e, bool failed)
{
	int rc = 0;
	struct eng_wnode *n = eng_worker_done(&e->wk);
	while (n) {
		struct eng_wnode *next = n->next;
		struct job *j = job_of(n);
		if (j->failed && rc == 0) {
			rc = -1;
			if (!failed)
				*e->err = e->wk_err;
		}
		if (job_back(e, j, rc == 0))
			rc = -1;
		n = next;
	}
	return rc;
}

/* Loop thread: a judge request's outcome is decided (its cost counted by
 * job_finish). A failed one hands over to its slot's next fallback, whose
 * grade then replaces its own. The last of its parent's closes the
 * parent's place in the item; the worker reads the grade and then writes
 * the parent's line. */
static int judge_finish(struct engine *e, struct job *j)
{
	struct job *p = j->parent;
	int fb = judge_next_fallback(e, j);
	size_t check = j->jcheck, fb_next = j->fb_next + 1;
	int order = j->pw_order;
	bool last = fb < 0 && --p->judges_left == 0;
	/* a paired parent goes on in the loop once this grade is read */
	j->write_parent = last && !p->paired;
	j->parent_ready = last && p->paired;
	j->item_last = false;
	if (j->write_parent) {
		p->item->open--;
		j->item_last = p->item->open == 0;
	}
	worker_push(e, j);
	/* after the push: the failed grade is read before its replacement's */
	if (fb < 0)
		return 0;
	struct job *nj = judge_job_new(e, p, check, fb,
				       order >= 0 ? &p->pwmsgs[order] : &p->jbodies[check], order);
	nj->fb_next = fb_next;
	return judge_launch(e, nj);
}

/* Loop thread: a job's outcome is decided. Its cost counts against the
 * budget now (the fallback below is admitted against it); scoring, the
 * cache entry and the line go to the worker, and the job stays live (it
 * holds its item and its place in the concurrency) until it comes back. */
static int job_finish(struct engine *e, struct job *j, enum res_status status, double latency,
		      const char *error)
{
	struct item *it = j->item;
	j->status = status;
	j->latency = latency;
	j->has_error = error != NULL;
	snprintf(j->error, sizeof(j->error), "%s", error ? error : "");
	j->written = j->failed = false;
	/* a cache hit costs nothing now: its cost is reported, not spent */
	if (!j->hit) {
		double cost = eng_reply_cost(&j->reply, j->header_cost, e->o->pricing,
					     e->cfg->models[j->model].id, NULL);
		if (isfinite(cost))
			e->st->spent_usd += cost;
	}
	if (j->parent)
		return judge_finish(e, j);
	enum res_role role = j->role;
	size_t fb_next = j->fb_next;
	bool fallback =
	    role != RES_SHADOW && status != RES_OK && status != RES_BUDGET && !stopsig_raised();
	size_t k;
	/* an ok answer with judge checks: its line waits for its judges (the
	 * item stays open until the last of them, judge_finish); one of a
	 * paired item, for its pairing (pair_next) */
	j->judging = status == RES_OK && judges_for(e, it->task) > 0;
	j->paired = status == RES_OK && pair_defers(j);
	bool later = j->judging || j->paired;
	/* the summaries reduce an item once its last line is in: none is
	 * when no other job is open and no fallback follows (next_fallback
	 * is what start_fallback will find) */
	int sample = j->sample;
	if (!later)
		it->open--;
	bool fb_follows = fallback && next_fallback(e, it, it->id, fb_next, sample, &k) >= 0;
	j->item_last = !later && it->open == 0 && !fb_follows;
	worker_push(e, j);
	if (!later)
		pair_settled(e, j, fb_follows);
	/* the item stays: this job holds a ref on it until it comes back */
	if (fallback)
		return start_fallback(e, it, fb_next, sample);
	return 0;
}

/* ---- the cache path ----------------------------------------------------- */

static int job_from_cache(struct engine *e, struct job *j)
{
	double now = clock_now_ms();
	attempt_reset(j, true);		      /* resp holds the cached body */
	eng_redact_buf(&e->redact, &j->resp); /* an entry from an older version */
	j->t_start = now;
	j->hit = true;
	j->http = 200;
	char error[700] = "";
	if (j->entry.stream) {
		j->stream_active = true;
		if (sse_feed(&j->sse, j->resp.data, j->resp.len, on_sse_event, j) < 0)
			j->parse_failed = true;
	}
	enum res_status st = parse_reply(j, j->entry.stream, error, sizeof(error));
	if (j->t_content >= 0)
		j->ttft = round((j->t_content - j->t_start) * 1000.0) / 1000.0;
	return job_finish(e, j, st, clock_now_ms() - now, error[0] ? error : NULL);
}

/* Looks the job up in the cache per --cache mode. 1: hit (the entry is
 * loaded, the caller finishes it), 0: go to the network, -1: replay miss. */
static int cache_lookup(struct engine *e, struct job *j)
{
	enum eng_cache_mode m = e->o->cache_mode;
	if (m != ENG_CACHE_USE && m != ENG_CACHE_REPLAY)
		return 0;
	buf_reset(&j->resp);
	struct eng_cache_key k = job_cache_key(e, j);
	struct se_err why;
	int got = eng_cache_load(e->cache, &k, &j->entry, &j->resp, &why);
	if (got == ENG_CACHE_FAILED) {
		*e->err = why;
		return -1;
	}
	if (got == ENG_CACHE_HIT) {
		/* a JSON entry can answer a streaming request (the server sent
		 * JSON), an SSE entry never answers a plain one */
		if (j->entry.stream && !j->stream) {
			buf_reset(&j->resp);
		} else {
			j->hit = true;
			return 1;
		}
	}
	if (got == ENG_CACHE_BAD_ENTRY && m == ENG_CACHE_REPLAY)
		/* use mode asks the server and overwrites it; replay cannot */
		return se_fail(e->err, SE_INPUT, why.where,
			       "corrupt cache entry for item \"%s\": %s", j->item->id, why.msg);
	if (m == ENG_CACHE_REPLAY)
		return se_fail(e->err, SE_INPUT, e->o->cache_dir,
			       "cache miss in replay mode for item \"%s\", model \"%s\" (run once "
			       "with --cache use to fill it)",
			       j->item->id, e->cfg->models[j->model].id);
	return 0;
}

/* Puts a new job on its way: a cache hit finishes at once. */
static int job_launch(struct engine *e, struct job *j)
{
	int r = cache_lookup(e, j);
	if (r < 0)
		return -1;
	if (r == 1)
		return job_from_cache(e, j);
	pending_push(e, j);
	return 0;
}

/* The item's next fallback at index `from` of its slot's chain or later that
 * still has to run: its model, *k its index; -1 when none is left or, on
 * --resume, one of them already answered ok. A model that already answers
 * the item as primary or shadow is not asked twice: one line per (item,
 * model). Serves both a failed primary (start_fallback) and an item resumed
 * after one (admit_one). */
static int next_fallback(const struct engine *e, const struct item *it, const char *id, size_t from,
			 int sample, size_t *k)
{
	const struct cfg_slot *slot = &e->cfg->slots[it->slot];
	for (size_t i = from; i < slot->n_fallbacks; i++) {
		int m = slot->fallbacks[i];
		if (model_in_item(e, it, m))
			continue;
		int done = eng_doneset_get_sample(e->o->done, id, e->cfg->models[m].id, sample);
		if (done == 2)
			return -1;
		if (done == 1)
			continue;
		*k = i;
		return m;
	}
	return -1;
}

static int start_fallback(struct engine *e, struct item *it, size_t from, int sample)
{
	size_t k;
	int m = next_fallback(e, it, it->id, from, sample, &k);
	if (m < 0)
		return 0;
	struct job *j = job_new(e, it, m, RES_FALLBACK, sample);
	j->fb_next = k + 1;
	if (over_budget(e, j->est_cost)) {
		j->est_cost = 0; /* never joined the in-flight estimate */
		return job_finish(e, j, RES_BUDGET, NAN, "a fallback would pass --max-cost");
	}
	e->inflight_est += j->est_cost;
	return job_launch(e, j);
}

/* ---- judge requests ------------------------------------------------------ */

/* A judge request of graded job p for check i to `model` (the judge's, or
 * one of its slot's fallbacks): the prompt the worker rendered (msgs; order
 * 0 or 1 for a pairwise one, else -1); it holds a
 * ref on the item but no place in its open count (its parent keeps that). */
static struct job *judge_job_new(struct engine *e, struct job *p, size_t i, int model,
				 const struct buf *msgs, int order)
{
	const struct jdg_check *jc = chk_model_graded(&e->cfg->checks, i);
	struct job *j = job_alloc(e);
	job_init(e, j, p->item, model, p->role, 0);
	j->stream = false;
	j->parent = p;
	j->jcheck = i;
	j->pw_order = order;
	eng_judge_body(jc, e->cfg->models[model].id, msgs, &j->body);
	const struct price *pr = pricing_find(e->o->pricing, e->cfg->models[model].id);
	j->est_cost = pr ? (double)j->body.len / 4.0 * pr->prompt +
			       jc->max_tokens * pr->completion + pr->request
			 : 0;
	job_key(e, j);
	job_link(e, j);
	return j;
}

/* A new judge request on its way: refused by --max-cost (a check error),
 * or through the cache and the pending queue like any other. */
static int judge_launch(struct engine *e, struct job *j)
{
	if (over_budget(e, j->est_cost)) {
		j->est_cost = 0; /* never joined the in-flight estimate */
		return job_finish(e, j, RES_BUDGET, NAN, "a judge request would pass --max-cost");
	}
	e->inflight_est += j->est_cost;
	return job_launch(e, j);
}

/* A failed judge request of a slot judge: the model of its slot's next
 * fallback, which asks instead; -1 when there is none. */
static int judge_next_fallback(const struct engine *e, const struct job *j)
{
	const struct jdg_check *jc = chk_model_graded(&e->cfg->checks, j->jcheck);
	if (j->status == RES_OK || j->status == RES_BUDGET || jc->slot < 0 || stopsig_raised())
		return -1;
	const struct cfg_slot *s = &e->cfg->slots[jc->slot];
	return j->fb_next < s->n_fallbacks ? s->fallbacks[j->fb_next] : -1;
}

/* Loop thread: graded job p is back from the worker with its judge bodies:
 * one request per judge check, each through the cache, the budget and the
 * pending queue like any other. p waits in JOB_JUDGING. */
static int launch_judges(struct engine *e, struct job *p)
{
	p->state = JOB_JUDGING;
	p->judges_left = (int)judges_for(e, p->item->task);
	for (size_t i = 0; i < e->cfg->checks.n; i++) {
		if (!chk_judge_of(&e->cfg->checks, i) ||
		    !chk_applies(&e->cfg->checks, i, p->item->task))
			continue;
		const struct jdg_check *jc = chk_judge_of(&e->cfg->checks, i);
		if (judge_launch(e, judge_job_new(e, p, i, jc->model, &p->jbodies[i], -1)))
			return -1;
	}
	return 0;
}

/* ---- pairwise (pairing.h) ------------------------------------------------ */

/* Loop thread: j goes to the worker (its first pass, a render or a write). */
static void worker_push(struct engine *e, struct job *j)
{
	j->state = JOB_SCORING;
	eng_worker_push(&e->wk, &j->wnode);
	if (e->o->on_queued)
		e->o->on_queued(e->o->test_ctx, eng_worker_queued(&e->wk));
}

/* The pairing of j's item and sample, or NULL when the item has none. */
static struct eng_pair *pair_of(const struct job *j)
{
	return j->item->pairs ? &j->item->pairs[j->sample] : NULL;
}

static bool pair_defers(const struct job *j)
{
	const struct eng_pair *p = pair_of(j);
	return p && eng_pair_waits(p, j->role == RES_SHADOW);
}

static const struct eng_pair_ops *pair_ops(struct engine *e);

/* eng_pair_ops.write: a paired job's line to the worker (which writes in
 * order, so a held reference's line, sent after its last shadow's, comes
 * after it in the file). */
static void pair_write(void *ctx, void *job)
{
	struct engine *e = ctx;
	struct job *j = job;
	struct item *it = j->item;
	it->open--;
	j->item_last = it->open == 0;
	j->write_now = true;
	worker_push(e, j);
	if (j->role == RES_SHADOW)
		eng_pair_shadow_line(pair_of(j), pair_ops(e));
}

/* eng_pair_ops.compare: the worker renders both prompts, then
 * launch_pairwise sends them. After SIGINT no request starts: the shadow
 * is dropped (--resume redoes it). */
static void pair_render(void *ctx, void *job)
{
	struct engine *e = ctx;
	struct job *j = job;
	if (e->st->interrupted) {
		job_release(e, j);
		return;
	}
	j->ref = pair_of(j)->ref;
	j->pw_render = true;
	worker_push(e, j);
}

/* eng_pair_ops.hold */
static void pair_hold(void *ctx, void *job)
{
	(void)ctx;
	((struct job *)job)->state = JOB_HELD;
}

/* The engine's side of its pairings (set up on first use). */
static const struct eng_pair_ops *pair_ops(struct engine *e)
{
	if (!e->pair_ops.ctx)
		e->pair_ops = (struct eng_pair_ops){pair_write, pair_render, pair_hold, e};
	return &e->pair_ops;
}

/* Loop thread: paired job j is ready (its own judges done, or none). */
static void pair_next(struct engine *e, struct job *j)
{
	if (j->role == RES_SHADOW)
		eng_pair_shadow_ready(pair_of(j), j, j->compared, pair_ops(e));
	else
		eng_pair_ref_ok(pair_of(j), j, pair_ops(e));
}

/* Loop thread: a line of a paired item written by its first pass (failed,
 * or nothing waits for it). A failed reference leaves the waiting shadows
 * not compared only when no fallback is to follow (after SIGINT they stay
 * unwritten: a fallback would have followed, and --resume runs it). */
static void pair_settled(struct engine *e, struct job *j, bool fb_follows)
{
	struct eng_pair *p = pair_of(j);
	if (!p)
		return;
	if (j->role == RES_SHADOW)
		eng_pair_shadow_line(p, pair_ops(e));
	else if (j->status == RES_OK || (!fb_follows && !stopsig_raised()))
		eng_pair_ref_line(p, j->status == RES_OK, pair_ops(e));
}

/* Loop thread: shadow p is back with its two prompts: the A/B and B/A
 * requests, through the cache, the budget and the pending queue like any
 * judge request; p waits in JOB_JUDGING. */
static int launch_pairwise(struct engine *e, struct job *p)
{
	p->state = JOB_JUDGING;
	p->compared = true;
	p->judges_left = 2;
	for (int k = 0; k < 2; k++)
		if (judge_launch(e,
				 judge_job_new(e, p, e->pw_index, e->pw->model, &p->pwmsgs[k], k)))
			return -1;
	return 0;
}

/* Admission: a pairing per sample when the pairwise check applies to the
 * item, from its n planned jobs (e->adm). */
static void pair_plan(struct engine *e, struct item *it, size_t n)
{
	if (!e->pw || !chk_applies(&e->cfg->checks, e->pw_index, it->task))
		return;
	it->n_pairs = e->reps;
	it->pairs = xcalloc((size_t)e->reps, sizeof(*it->pairs));
	for (int s = 0; s < e->reps; s++) {
		int shadows = 0;
		bool ref = false;
		for (size_t i = 0; i < n; i++) {
			if (e->adm[i].sample != s)
				continue;
			shadows += e->adm[i].role == RES_SHADOW;
			ref = ref || e->adm[i].role != RES_SHADOW;
		}
		eng_pair_init(&it->pairs[s], shadows, ref);
	}
}

/* ---- admission ----------------------------------------------------------- */

/* Next in-scope item (after --shard and --limit, shard/scope.h); 1, 0 at
 * the end, -1. */
static int next_in_scope(struct engine *e)
{
	int r = shd_scope_next(&e->scope, e->ds, &e->dsi, e->err);
	if (r == 1)
		e->st->items++;
	return r;
}

static struct item *item_make(struct engine *e, long est, const struct route_decision *d)
{
	struct item *it = xcalloc(1, sizeof(*it));
	it->id = xstrdup(e->dsi.id);
	it->task = xstrdup(e->dsi.task ? e->dsi.task : "");
	it->index = (long)e->dsi.index;
	it->slot = d->slot;
	it->primary_model = d->model;
	it->est_tokens = est;
	it->n_expected = e->dsi.n_expected;
	if (it->n_expected) {
		it->expected = xcalloc(it->n_expected, sizeof(char *));
		for (size_t i = 0; i < it->n_expected; i++)
			it->expected[i] = xstrdup(e->dsi.expected[i]);
	}
	it->messages = xstrndup(e->msgs.data, e->msgs.len);
	it->messages_len = e->msgs.len;
	if (chk_wants_item(&e->cfg->checks)) {
		/* dsi is overwritten by the next item: the checks get copies */
		it->fields = cJSON_Duplicate(e->dsi.obj, true);
		struct buf in;
		buf_init(&in);
		if (prompt_last_user(it->messages, it->messages_len, &in) == 0)
			it->input = xstrndup(in.data, in.len);
		buf_free(&in);
	}
	return it;
}

/* The jobs an item still needs, into e->adm: its primary (or, on
 * --resume, the rest of its fallback chain) and each shadow that differs
 * from the primary, per sample. Returns how many. */
static size_t plan_admits(struct engine *e, const struct route_decision *d)
{
	const struct cfg *cfg = e->cfg;
	struct admit *a = e->adm;
	size_t n = 0;
	const char *id = e->dsi.id;
	struct item probe = {.primary_model = d->model, .slot = d->slot};
	for (int s = 0; s < e->reps; s++) {
		int pstate = eng_doneset_get_sample(e->o->done, id, cfg->models[d->model].id, s);
		if (pstate == 0)
			a[n++] = (struct admit){d->model, RES_PRIMARY, 0, NULL, -1, s};
		if (pstate == 1) {
			size_t k;
			int m = next_fallback(e, &probe, id, 0, s, &k);
			if (m >= 0)
				a[n++] = (struct admit){m, RES_FALLBACK, k + 1, NULL, -1, s};
		}
	}
	for (size_t i = 0; i < cfg->n_shadows; i++) {
		int m = cfg->shadows[i];
		bool dup = m == d->model;
		for (size_t k = 0; k < i && !dup; k++)
			dup = cfg->shadows[k] == m;
		if (dup)
			continue;
		if (e->o->stop && !eng_stop_wants(e->o->stop, i))
			continue; /* settled: --stop-when-decided */
		for (int s = 0; s < e->reps; s++)
			if (!eng_doneset_get_sample(e->o->done, id, cfg->models[m].id, s))
				a[n++] = (struct admit){m, RES_SHADOW, 0, NULL, (int)i, s};
	}
	return n;
}

/* The item's n planned jobs, created and looked up in the cache; then,
 * against --max-cost (spent + in-flight estimate + this item's estimate),
 * either all started (a cache hit answered at once) or none. */
static int start_admits(struct engine *e, struct item *it, size_t n)
{
	struct admit *a = e->adm;
	double est_cost = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct job *j = a[i].job = job_new(e, it, a[i].model, a[i].role, a[i].sample);
		j->fb_next = a[i].fb_next;
		int r = cache_lookup(e, j);
		if (r < 0)
			rc = -1;
		if (r == 1)
			j->est_cost = 0; /* a cache hit is free */
		est_cost += j->est_cost;
	}
	bool over = rc == 0 && over_budget(e, est_cost);
	if (rc == 0 && !over) {
		for (size_t i = 0; i < n; i++)
			e->inflight_est += a[i].job->est_cost;
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (a[i].job->hit)
				rc = job_from_cache(e, a[i].job);
			else
				pending_push(e, a[i].job);
		}
		return rc;
	}
	if (over) {
		e->stop_admit = true;
		e->st->budget_stopped = true;
		e->st->items_not_run++;
		e->jobs_total -= n;
	}
	for (size_t i = 0; i < n; i++) {
		a[i].job->est_cost = 0;
		job_release(e, a[i].job);
	}
	return rc;
}

/* Admits one item whole: every job it still needs. */
static int admit_one(struct engine *e)
{
	int r = next_in_scope(e);
	if (r < 0)
		return -1;
	if (r == 0) {
		e->ds_done = true;
		e->st->items_total = e->st->items;
		return 0;
	}
	long est = 0;
	buf_reset(&e->msgs);
	if (prompt_render(e->cfg, &e->dsi, &e->msgs, &est, e->err))
		return -1;
	struct route_decision d;
	route_pick(e->cfg, &e->dsi, est, &d);
	size_t n = plan_admits(e, &d);
	if (n == 0)
		return 0; /* --resume: every pair of this item is already written */

	struct item *it = item_make(e, est, &d);
	pair_plan(e, it, n);
	it->refs = 1; /* held while the jobs are created */
	if (e->o->stop) {
		it->pass = eng_stop_item_new(e->o->stop);
		for (size_t i = 0; i < n; i++)
			if (e->adm[i].role != RES_FALLBACK && e->adm[i].sample == 0)
				it->pass[1 + e->adm[i].shadow] = -1;
	}
	int rc = start_admits(e, it, n);
	if (--it->refs == 0)
		item_free(it);
	return rc;
}

/* ---- set-up and the loop ------------------------------------------------- */

int eng_check_keys(const struct cfg *cfg, struct se_err *err)
{
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		const struct cfg_endpoint *ep = &cfg->endpoints[i];
		if (!ep->api_key_env)
			continue;
		const char *v = getenv(ep->api_key_env);
		if (!v || !*v)
			return se_fail(err, SE_INPUT, cfg->path,
				       "endpoint \"%s\": environment variable %s is not set (it "
				       "should hold the API key)",
				       ep->name, ep->api_key_env);
		/* a line break would end the Authorization header and start
		 * another: refused as in config headers; the value is never
		 * echoed */
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return se_fail(
				    err, SE_INPUT, cfg->path,
				    "endpoint \"%s\": environment variable %s holds a "
				    "line break or another control character (byte %zu); "
				    "an API key cannot contain one",
				    ep->name, ep->api_key_env, (size_t)(p - v) + 1);
	}
	return 0;
}

/* libcurl's built-in CA bundle (NULL when it has none), restored on handles
 * that an endpoint with its own ca_file used before. */
static char *default_cainfo(void)
{
	char *path = NULL, *copy = NULL;
	CURL *h = curl_easy_init();
	if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &path) == CURLE_OK && path)
		copy = xstrdup(path);
	curl_easy_cleanup(h);
	return copy;
}

static int endpoints_init(struct engine *e, double now)
{
	const struct cfg *cfg = e->cfg;
	e->eps = xcalloc(cfg->n_endpoints ? cfg->n_endpoints : 1, sizeof(*e->eps));
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		const struct cfg_endpoint *ce = &cfg->endpoints[i];
		struct endpoint *ep = &e->eps[i];
		buf_reset(&b);
		buf_printf(&b, "%s/chat/completions", ce->base_url);
		ep->url = xstrdup(b.data);
		ep->tls = strncasecmp(ce->base_url, "https://", 8) == 0;
		ep->cainfo = ce->ca_file ? xstrdup(ce->ca_file) : default_cainfo();
		eng_bucket_init(&ep->bucket, ce->rpm, now);
		struct curl_slist *l = NULL;
		l = curl_slist_append(l, "Content-Type: application/json");
		l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
		for (size_t k = 0; k < ce->n_headers; k++) {
			const struct cfg_header *h = &ce->headers[k];
			buf_reset(&b);
			buf_printf(&b, "%s: %s", h->name, h->value);
			l = curl_slist_append(l, b.data);
			if (eng_redact_header_is_secret(h->name)) {
				/* the whole value, and the credential after a scheme
				 * ("Bearer sk-...") */
				eng_redact_add(&e->redact, h->value);
				const char *sp = strrchr(h->value, ' ');
				if (sp)
					eng_redact_add(&e->redact, sp + 1);
			}
		}
		/* keys were checked once, by eng_check_keys (engine.h) */
		const char *key = ce->api_key_env ? getenv(ce->api_key_env) : NULL;
		if (key && *key) {
			eng_redact_add(&e->redact, key);
			buf_reset(&b);
			buf_printf(&b, "Authorization: Bearer %s", key);
			l = curl_slist_append(l, b.data);
			/* the key lived in b: wipe it before the buffer is reused */
			memset(b.data, 0, b.len);
		}
		ep->headers = l;
	}
	buf_free(&b);
	return 0;
}

static void drop_all(struct engine *e)
{
	while (e->live)
		job_release(e, e->live);
	e->pend_head = e->pend_tail = NULL;
	e->timers.n = 0;
}

static void fmt_usd(char *out, size_t size, double v)
{
	snprintf(out, size, v < 100 ? "$%.4f" : "$%.2f", v);
}

static void progress(struct engine *e, double now, bool force)
{
	if (!e->o->progress || (!force && now - e->last_progress < PROGRESS_MS))
		return;
	e->last_progress = now;
	double secs = (now - e->t0) / 1000.0;
	size_t done = e->st->results_written;
	double rate = secs > 0 ? e->st->requests / secs : 0;
	size_t errors = done - e->st->by_status[RES_OK];
	char total[32] = "?", eta[32] = "?", usd[32];
	/* The total is exact once the dataset has been read to its end; before
	 * that it is estimated ("~N") from --limit, or from how much of the file
	 * the items seen so far cover, at the jobs per item seen so far. */
	double est = -1;
	if (e->ds_done) {
		est = (double)e->jobs_total;
		snprintf(total, sizeof(total), "%zu", e->jobs_total);
	} else if (e->st->items > 0) {
		double per_item = (double)e->jobs_total / (double)e->st->items;
		double f = ds_fraction_read(e->ds);
		if (e->o->limit >= 0)
			est = per_item * (double)e->o->limit;
		else if (f > 0)
			est = per_item * (double)e->st->items / f;
		if (est >= 0)
			snprintf(total, sizeof(total), "~%.0f", est);
	}
	double lrate = secs > 0 ? done / secs : 0;
	if (est >= 0 && lrate > 0)
		snprintf(eta, sizeof(eta), "%.0fs", (est > done ? est - (double)done : 0) / lrate);
	fmt_usd(usd, sizeof(usd), e->st->spent_usd);
	fprintf(stderr, "\r%zu/%s requests  %.0f req/s  %zu errors  %s spent  ETA %s\033[K", done,
		total, rate, errors, usd, eta);
	e->progress_shown = true;
}

/* SIGINT: stop admitting; in-flight requests get DRAIN_MS to finish,
 * waiting and pending ones are dropped (--resume redoes them). A job being
 * scored is finished: its line is kept. A judged job waiting for its judges
 * stays (a judge request being scored points at it): its line is written
 * only if all of them finish, else --resume redoes it. So does a held
 * paired job (a shadow's render may point at a reference): no new pairwise
 * request starts (pair_render), so a reference whose shadows are not all
 * written stays unwritten and --resume redoes it. */
static int interrupt(struct engine *e, double now)
{
	e->st->interrupted = true;
	e->stop_admit = true;
	e->drain_deadline = now + DRAIN_MS;
	struct job *j = e->live;
	while (j) {
		struct job *nx = j->live_next;
		/* so is one waiting to look its cost up again */
		if (j->state == JOB_WAITING && j->gen.active) {
			if (gen_end(e, j))
				return -1;
		} else if (j->state != JOB_RUNNING && j->state != JOB_SCORING &&
			   j->state != JOB_JUDGING && j->state != JOB_HELD) {
			job_release(e, j);
		}
		j = nx;
	}
	e->pend_head = e->pend_tail = NULL;
	e->timers.n = 0;
	return 0;
}

/* Room to admit another item. A job holds its --concurrency slot until the
 * scoring thread hands it back, so a slow check or a stalled write slows
 * admission instead of piling finished jobs up: the loop then has fewer
 * sockets to serve and its timings stay exact (bench/latency.sh: letting
 * scored jobs leave their slot early tripled the p99 error at C = 1024 and
 * the CPU-heavy check's p99 shift, for no gain in requests per second). */
static bool can_admit(const struct engine *e)
{
	/* an item comes whole: admitted when all its jobs fit, so a queue of
	 * finished jobs never outgrows --concurrency (one item at a time when
	 * it alone has more jobs than that) */
	return e->live_jobs == 0 || e->live_jobs + e->item_jobs <= (size_t)e->conc;
}

static int loop(struct engine *e)
{
	/* the signal self-pipe, and the worker's completions */
	struct curl_waitfd wfd[2] = {{.fd = e->pipe[0], .events = CURL_WAIT_POLLIN},
				     {.fd = eng_worker_fd(&e->wk), .events = CURL_WAIT_POLLIN}};
	for (;;) {
		double now = clock_now_ms();
		if (stopsig_raised() && !e->st->interrupted && interrupt(e, now))
			return -1;
		struct heap_entry t;
		while (heap_peek(&e->timers, &t) && t.at <= now) {
			heap_pop(&e->timers, &t);
			if (timer_due(e, t.data, now))
				return -1;
		}
		start_pending(e, now);
		if (e->o->stop && !e->stop_admit && eng_stop_all_settled(e->o->stop))
			e->stop_admit = e->o->stop->stopped_run = true;
		while (!e->stop_admit && !e->ds_done && can_admit(e)) {
			if (admit_one(e))
				return -1;
			start_pending(e, now);
		}
		if (e->live_jobs == 0 && (e->ds_done || e->stop_admit))
			return 0;
		if (e->st->interrupted && now >= e->drain_deadline)
			return 0;

		double timeout = 1000;
		if (heap_peek(&e->timers, &t) && t.at - now < timeout)
			timeout = t.at - now;
		if (e->pend_head && e->in_flight < (size_t)e->conc) {
			/* blocked by an rpm bucket (wake when a token is due) or by a
			 * per-endpoint limit (a finishing transfer wakes the poll) */
			for (struct job *j = e->pend_head; j; j = j->next) {
				double w = eng_bucket_wait_ms(&e->eps[j->endpoint].bucket, now);
				if (w > 0 && w < timeout)
					timeout = w < 1 ? 1 : w;
			}
		}
		if (e->st->interrupted && e->drain_deadline - now < timeout)
			timeout = e->drain_deadline - now;
		if (e->o->progress && timeout > PROGRESS_MS)
			timeout = PROGRESS_MS;
		if (timeout < 0)
			timeout = 0;
		/* what this turn started goes to the lanes, and what it finished
		 * to the worker, each in one hand-over */
		eng_net_kick(&e->net);
		eng_worker_kick(&e->wk);
		if (eng_net_wait(&e->net, wfd, 2, (int)ceil(timeout), e->err))
			return -1;
		if (wfd[0].revents) {
			char junk[64];
			while (read(e->pipe[0], junk, sizeof(junk)) > 0)
				;
		}
		for (struct eng_xfer *x = eng_net_take(&e->net), *nx; x; x = nx) {
			nx = x->next;
			struct job *j = (struct job *)((char *)x - offsetof(struct job, xfer));
			if (attempt_done(e, j, x->result))
				return -1;
		}
		if (e->cache && eng_cache_tick(e->cache, e->err))
			return -1;
		if (take_scored(e, false))
			return -1;
		progress(e, clock_now_ms(), false);
	}
}

/* Fits --concurrency to the open-file limit: raises the soft limit toward
 * the hard one when that is needed and allowed, else lowers the concurrency
 * with a warning (each transfer beyond the limit would fail with EMFILE). */
static int fit_concurrency(int want)
{
	struct rlimit rl;
	if (want < 1)
		want = 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return want;
	rlim_t need = (rlim_t)want * FDS_PER_TRANSFER + FD_RESERVE;
	if (rl.rlim_cur < need) {
		struct rlimit up = rl;
		up.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		if (up.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur >= need)
		return want;
	long fit = rl.rlim_cur > FD_RESERVE + FDS_PER_TRANSFER
		       ? (long)((rl.rlim_cur - FD_RESERVE) / FDS_PER_TRANSFER)
		       : 1;
	fprintf(stderr,
		"shadoweval: warning: --concurrency %d needs about %llu open files, the limit is "
		"%llu (hard limit %llu): using --concurrency %ld\n",
		want, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		(unsigned long long)rl.rlim_max, fit);
	return (int)fit;
}

/* After a budget stop: how many in-scope items were never admitted. */
static int count_rest(struct engine *e)
{
	int r;
	while ((r = next_in_scope(e)) == 1)
		e->st->items_not_run++;
	if (r == 0)
		e->st->items_total = e->st->items;
	return r;
}

/* After every comparison settled: the items never admitted, and the
 * requests they would have made (each routed as admission would have). */
static int count_undecided_rest(struct engine *e)
{
	struct eng_stop *s = e->o->stop;
	int r;
	while ((r = next_in_scope(e)) == 1) {
		long est = 0;
		buf_reset(&e->msgs);
		if (prompt_render(e->cfg, &e->dsi, &e->msgs, &est, e->err))
			return -1;
		struct route_decision d;
		route_pick(e->cfg, &e->dsi, est, &d);
		s->items_not_run++;
		s->primary_not_run++;
		for (size_t k = 0; k < e->cfg->n_shadows; k++) {
			bool dup = e->cfg->shadows[k] == d.model;
			for (size_t i = 0; i < k && !dup; i++)
				dup = e->cfg->shadows[i] == e->cfg->shadows[k];
			if (!dup)
				s->cmp[k].not_run++;
		}
	}
	if (r == 0)
		e->st->items_total = e->st->items;
	return r < 0 ? -1 : 0;
}

/* The judge checks that apply to an item of `task` (their "tasks"). */
static size_t judges_for(const struct engine *e, const char *task)
{
	size_t n = 0;
	for (size_t i = 0; e->n_judges && i < e->cfg->checks.n; i++)
		if (chk_judge_of(&e->cfg->checks, i) && chk_applies(&e->cfg->checks, i, task))
			n++;
	return n;
}

static size_t count_judges(const struct chk_set *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++)
		if (chk_judge_of(set, i))
			n++;
	return n;
}

/* The free list's jobs, for good (the end of the run). */
static void jobs_free(struct engine *e)
{
	while (e->free_jobs) {
		struct job *j = e->free_jobs;
		e->free_jobs = j->next;
		buf_free(&j->body);
		buf_free(&j->resp);
		sse_free(&j->sse);
		wire_reply_free(&j->reply);
		eng_gen_free(&j->gen);
		buf_free(&j->pwmsgs[0]);
		buf_free(&j->pwmsgs[1]);
		for (size_t i = 0; j->jbodies && i < e->cfg->checks.n; i++)
			buf_free(&j->jbodies[i]);
		free(j->jbodies);
		free(j->grades);
		free(j);
	}
}

/* The distinct models among the shadows: with the primary (or its
 * fallback) the most models admit_one asks for one item. */
static size_t count_distinct_shadows(const struct cfg *cfg)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_shadows; i++) {
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = cfg->shadows[k] == cfg->shadows[i];
		n += !dup;
	}
	return n;
}

/* The engine's state before anything is opened. */
static void engine_init(struct engine *e, const struct eng_opts *o, struct eng_stats *st,
			struct se_err *err)
{
	memset(st, 0, sizeof(*st));
	e->o = o;
	e->cfg = o->cfg;
	e->st = st;
	e->err = err;
	e->pipe[0] = e->pipe[1] = -1;
	e->rng = o->seed ? o->seed : 0x5eed5eedull;
	e->conc = fit_concurrency(o->concurrency);
	e->max_tokens =
	    o->cfg->params.max_tokens > 0 ? o->cfg->params.max_tokens : DEFAULT_MAX_TOKENS;
	heap_init(&e->timers);
	buf_init(&e->msgs);
	e->reps = o->repeats > 1 ? o->repeats : 1;
	e->item_jobs = (size_t)e->reps * (1 + count_distinct_shadows(o->cfg));
	e->n_judges = count_judges(&o->cfg->checks);
	e->pw = chk_pairwise_of(&o->cfg->checks);
	for (size_t i = 0; e->pw && i < o->cfg->checks.n; i++)
		if (chk_model_graded(&o->cfg->checks, i) == e->pw)
			e->pw_index = i, e->pw_name = chk_name(&o->cfg->checks, i);
	buf_init(&e->pwdetail);
	e->adm = xcalloc((e->cfg->n_models + 1) * (size_t)e->reps, sizeof(*e->adm));
	buf_init(&e->checks);
	buf_init(&e->errtext);
	eng_redact_init(&e->redact);
	eng_worker_init(&e->wk);
	se_clear(&e->wk_err);
	e->w.fd = -1;
	e->t0 = clock_now_ms();
	e->last_progress = e->t0;
}

/* Opens what the run needs: endpoints, the cache, the multi handle,
 * results.jsonl, the dataset, the worker and the signal pipe. SIGINT,
 * SIGTERM (CI cancellation, docker stop) and SIGHUP (a closed terminal) end
 * the run: results kept, manifest and summaries written. `run` has
 * installed the handler already (core/stopsig.h); a signal that came
 * before the loop stops it at its first turn. */
static int engine_open(struct engine *e)
{
	const struct eng_opts *o = e->o;
	if (endpoints_init(e, e->t0))
		return -1;
	if (o->cache_mode != ENG_CACHE_OFF &&
	    eng_cache_open(&e->cache, o->cache_dir, true, stderr, e->err))
		return -1;
	if (eng_net_open(&e->net, net_lanes(e), (long)e->conc + 16, h2_cap(e), e->err))
		return -1;
	char *rpath = fio_join(o->run_dir, "results.jsonl");
	int wr = res_writer_open(&e->w, rpath, e->err);
	free(rpath);
	if (wr)
		return -1;
	e->w.batched = true; /* flush_scored writes each batch */
	e->scope = shd_scope_make(e->o->shard_by, e->o->shard_k, e->o->shard_n, e->o->limit);
	if (ds_open_cfg(&e->ds, e->cfg, e->err))
		return -1;
	ds_no_hash(e->ds); /* the caller hashed the file once, before the run */
	if (scr_pool_start(&e->scorers, &e->cfg->checks, e->cfg->path, e->err) ||
	    eng_worker_start_batched(&e->wk, score_job, flush_scored, e, e->err))
		return -1;
	eng_worker_defer(&e->wk); /* the loop kicks once per turn */
	if (pipe2(e->pipe, O_NONBLOCK | O_CLOEXEC))
		return se_fail_errno(e->err, NULL, "cannot create the signal pipe");
	stopsig_install();
	stopsig_set_wake_fd(e->pipe[1]);
	e->sig_installed = true;
	return 0;
}

/* Everything the engine holds, released (every way out of a run). */
static void engine_free(struct engine *e)
{
	if (e->pipe[0] >= 0)
		close(e->pipe[0]);
	if (e->pipe[1] >= 0)
		close(e->pipe[1]);
	ds_item_clear(&e->dsi);
	ds_close(e->ds);
	if (e->w.fd >= 0)
		res_writer_close(&e->w);
	eng_worker_free(&e->wk);
	jobs_free(e);
	for (size_t i = 0; i < e->n_pool; i++)
		curl_easy_cleanup(e->pool[i]);
	free(e->pool);
	eng_net_free(&e->net);
	if (e->eps) {
		for (size_t i = 0; i < e->cfg->n_endpoints; i++) {
			free(e->eps[i].url);
			free(e->eps[i].cainfo);
			curl_slist_free_all(e->eps[i].headers);
		}
		free(e->eps);
	}
	heap_free(&e->timers);
	buf_free(&e->msgs);
	free(e->adm);
	buf_free(&e->checks);
	buf_free(&e->errtext);
	buf_free(&e->pwdetail);
	eng_redact_free(&e->redact);
}

int eng_run(const struct eng_opts *o, struct eng_stats *st, struct se_err *err)
{
	struct engine eng = {0};
	struct engine *e = &eng;
	engine_init(e, o, st, err);
	int rc = -1;
	if (engine_open(e))
		goto out;
	rc = loop(e);
	e->loop_over = true;
	if (e->local_errors)
		fprintf(stderr,
			"shadoweval: warning: %zu transfers failed on this machine (%s) and were "
			"retried, not recorded; concurrency lowered from %d to %d\n",
			e->local_errors, e->local_why, o->concurrency, e->conc);
	if (rc == 0 && st->budget_stopped && !st->interrupted)
		rc = count_rest(e) < 0 ? -1 : 0;
	else if (rc == 0 && o->stop && o->stop->stopped_run && !st->interrupted)
		rc = count_undecided_rest(e);
out:
	/* no transfer moves from here on: one still running is dropped */
	eng_net_stop(&e->net);
	/* every line handed to the worker is written before the run ends */
	eng_worker_stop(&e->wk);
	if (take_scored(e, rc != 0))
		rc = -1;
	scr_pool_stop(e->scorers);
	drop_all(e);
	if (e->cache) {
		/* the last batch is written on every way out, SIGINT included */
		struct se_err cerr;
		if (eng_cache_close(e->cache, rc ? &cerr : err))
			rc = -1;
	}
	if (e->progress_shown) {
		progress(e, clock_now_ms(), true);
		fputc('\n', stderr);
	}
	if (e->sig_installed) {
		stopsig_set_wake_fd(-1);
		stopsig_restore();
	}
	st->interrupted = st->interrupted || stopsig_raised();
	st->elapsed_ms = clock_now_ms() - e->t0;
	engine_free(e);
	return rc;
}
