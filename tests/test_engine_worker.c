/* test_engine_worker.c: scoring off the network loop. The worker's queue
 * alone (FIFO, a push never waits for scoring), then the engine against a
 * real shadowsim with scoring held back: the loop must still finish every
 * transfer (and take its timings) while no result has been scored. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fileio.h"
#include "engine/engine.h"
#include "engine/worker.h"
#include "results/results.h"
#include "support/files.h"
#include "support/simproc.h"

/* ---- the queue alone ---- */

struct node {
	struct eng_wnode n; /* first */
	int seq;
};

struct order {
	int gate[2]; /* the first node waits for a byte here */
	int seen[64];
	int n;
};

static void record(void *ctx, struct eng_wnode *wn)
{
	struct order *o = ctx;
	if (o->n == 0) {
		char c;
		cr_assert_eq(read(o->gate[0], &c, 1), 1);
	}
	o->seen[o->n++] = ((struct node *)wn)->seq;
}

Test(engine_worker, a_push_never_waits_for_scoring_and_order_is_kept, .timeout = 30)
{
	struct order o = {.n = 0};
	cr_assert_eq(pipe(o.gate), 0);
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start(&w, record, &o, &err), 0);
	struct node nodes[40];
	/* scoring of the first node is held: every push must still return */
	for (int i = 0; i < 40; i++) {
		nodes[i].seq = i;
		eng_worker_push(&w, &nodes[i].n);
	}
	cr_assert_eq(eng_worker_queued(&w), 40);
	cr_assert_null(eng_worker_done(&w), "nothing is scored while the first node waits");
	cr_assert_eq(write(o.gate[1], "x", 1), 1);
	int got = 0, expect = 0;
	while (got < 40) {
		/* the completion fd says when to look: no sleep */
		struct pollfd p = {.fd = eng_worker_fd(&w), .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 20000), 1, "no completion came");
		for (struct eng_wnode *n = eng_worker_done(&w); n; n = n->next) {
			cr_assert_eq(((struct node *)n)->seq, expect, "completions out of order");
			expect++;
			got++;
		}
	}
	cr_assert_eq(eng_worker_queued(&w), 0);
	eng_worker_stop(&w);
	eng_worker_free(&w);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(o.seen[i], i, "scored out of push order");
	close(o.gate[0]);
	close(o.gate[1]);
}

Test(engine_worker, stop_scores_what_is_still_queued)
{
	struct order o = {.n = 0};
	cr_assert_eq(pipe(o.gate), 0);
	cr_assert_eq(write(o.gate[1], "x", 1), 1);
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start(&w, record, &o, &err), 0);
	struct node nodes[10];
	for (int i = 0; i < 10; i++) {
		nodes[i].seq = i;
		eng_worker_push(&w, &nodes[i].n);
	}
	eng_worker_stop(&w);
	cr_assert_eq(o.n, 10);
	int n = 0;
	for (struct eng_wnode *p = eng_worker_done(&w); p; p = p->next)
		n++;
	cr_assert_eq(n, 10);
	eng_worker_free(&w);
	close(o.gate[0]);
	close(o.gate[1]);
}

/* The worker yields the cores to the network lanes: its nice value is
 * ENG_WORKER_NICE above the caller's (Linux keeps one per thread), and the
 * caller's own is left as it was. */
static void note_nice(void *ctx, struct eng_wnode *wn)
{
	(void)wn;
	errno = 0;
	*(int *)ctx = getpriority(PRIO_PROCESS, 0);
	cr_assert_eq(errno, 0);
}

Test(engine_worker, the_worker_runs_below_the_network_lanes, .timeout = 30)
{
	errno = 0;
	int before = getpriority(PRIO_PROCESS, 0);
	cr_assert_eq(errno, 0);
	int seen = -100;
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start(&w, note_nice, &seen, &err), 0);
	struct node one = {.seq = 0};
	eng_worker_push(&w, &one.n);
	eng_worker_stop(&w);
	int want = before + ENG_WORKER_NICE > 19 ? 19 : before + ENG_WORKER_NICE;
	cr_assert_eq(seen, want, "the worker's nice value: %d, want %d", seen, want);
	cr_assert_eq(getpriority(PRIO_PROCESS, 0), before, "the caller's nice value moved");
	eng_worker_free(&w);
}

/* Deferred (the engine's mode): pushes stay on the loop's side until the
 * kick, which hands them over in push order; stop kicks what is left. */
Test(engine_worker, deferred_pushes_wait_for_the_kick_and_keep_their_order, .timeout = 30)
{
	struct order o = {.n = 0};
	cr_assert_eq(pipe(o.gate), 0);
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start(&w, record, &o, &err), 0);
	eng_worker_defer(&w);
	struct node nodes[13];
	for (int i = 0; i < 13; i++)
		nodes[i].seq = i;
	for (int i = 0; i < 10; i++)
		eng_worker_push(&w, &nodes[i].n);
	cr_assert_eq(eng_worker_queued(&w), 10, "a staged node counts as queued");
	/* the first node scored would hold the worker at the gate with the
	 * rest in its queue: an empty queue means nothing was handed over */
	pthread_mutex_lock(&w.mu);
	bool handed = w.in_head != NULL;
	pthread_mutex_unlock(&w.mu);
	cr_assert_not(handed, "a deferred push reached the worker before the kick");
	cr_assert_eq(write(o.gate[1], "x", 1), 1);
	eng_worker_kick(&w);
	int got = 0;
	struct pollfd p = {.fd = eng_worker_fd(&w), .events = POLLIN};
	while (got < 10) {
		cr_assert_eq(poll(&p, 1, 20000), 1, "no completion came after the kick");
		for (struct eng_wnode *n = eng_worker_done(&w); n; n = n->next)
			cr_assert_eq(((struct node *)n)->seq, got++, "completions out of order");
	}
	for (int i = 10; i < 13; i++)
		eng_worker_push(&w, &nodes[i].n);
	eng_worker_stop(&w);
	cr_assert_eq(o.n, 13, "stop left staged nodes unscored");
	for (int i = 0; i < 13; i++)
		cr_assert_eq(o.seen[i], i, "scored out of push order");
	eng_worker_free(&w);
	close(o.gate[0]);
	close(o.gate[1]);
}

/* A batch: scored while the queue had more, flushed once, then handed back
 * (flushed before the loop sees it) with one wake-up. */
struct batched {
	struct order o;
	int flushes;
	int flushed[64]; /* in flush order */
	int n_flushed;
	bool back[64]; /* set by the loop thread when a node came back */
};

static void flush_batch(void *ctx, struct eng_wnode *batch)
{
	struct batched *b = ctx;
	b->flushes++;
	for (struct eng_wnode *n = batch; n; n = n->next) {
		int seq = ((struct node *)n)->seq;
		cr_assert_not(b->back[seq], "node %d came back before its flush", seq);
		b->flushed[b->n_flushed++] = seq;
	}
}

static void record_batched(void *ctx, struct eng_wnode *wn)
{
	record(&((struct batched *)ctx)->o, wn);
}

/* Pushes nodes[0..n) with their seq, then releases the first's scoring. */
static void push_held(struct eng_worker *w, struct batched *b, struct node *nodes, int n)
{
	for (int i = 0; i < n; i++) {
		nodes[i].seq = i;
		eng_worker_push(w, &nodes[i].n);
	}
	cr_assert_eq(write(b->o.gate[1], "x", 1), 1);
}

/* Waits for completions and takes them back, checking they come in push
 * order after got and were flushed first; returns the new count. */
static int take_back(struct eng_worker *w, struct batched *b, int got)
{
	struct pollfd p = {.fd = eng_worker_fd(w), .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 20000), 1, "no completion came");
	for (struct eng_wnode *n = eng_worker_done(w); n; n = n->next) {
		int seq = ((struct node *)n)->seq;
		cr_assert_eq(seq, got, "completions out of order");
		b->back[seq] = true;
		got++;
	}
	return got;
}

Test(engine_worker, a_queued_batch_is_flushed_once_then_handed_back_in_order, .timeout = 30)
{
	struct batched b = {.flushes = 0};
	cr_assert_eq(pipe(b.o.gate), 0);
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start_batched(&w, record_batched, flush_batch, &b, &err), 0);
	struct node nodes[40];
	/* all 40 are queued while the first is held: one batch */
	push_held(&w, &b, nodes, 40);
	int got = take_back(&w, &b, 0);
	cr_assert_eq(got, 40, "the batch came back in pieces");
	cr_assert_eq(b.flushes, 1);
	cr_assert_eq(b.n_flushed, 40);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(b.flushed[i], i, "flushed out of push order");
	/* a node pushed on an idle worker is its own batch */
	nodes[0].seq = 0;
	b.back[0] = false;
	eng_worker_push(&w, &nodes[0].n);
	struct pollfd p = {.fd = eng_worker_fd(&w), .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 20000), 1, "no completion came");
	struct eng_wnode *n = eng_worker_done(&w);
	cr_assert_not_null(n);
	cr_assert_null(n->next);
	cr_assert_eq(b.flushes, 2);
	eng_worker_stop(&w);
	eng_worker_free(&w);
	close(b.o.gate[0]);
	close(b.o.gate[1]);
}

/* Each node after the first takes twice the hold: a backlog must come
 * back in batches of at most two (the first node, scored, then one more
 * whose scoring took longer than the hold), in order, each flushed before
 * it came back, never the whole backlog at once. */
static void record_slow(void *ctx, struct eng_wnode *wn)
{
	struct batched *b = ctx;
	bool first = b->o.n == 0;
	record(&b->o, wn);
	if (!first)
		usleep((useconds_t)(ENG_WORKER_HOLD_MS * 2000.0)); /* the slow check itself */
}

static void flush_slow(void *ctx, struct eng_wnode *batch)
{
	int in_batch = 0;
	for (struct eng_wnode *n = batch; n; n = n->next)
		in_batch++;
	cr_assert_leq(in_batch, 2, "a slow backlog was held back %d nodes at a time", in_batch);
	flush_batch(ctx, batch);
}

Test(engine_worker, slow_scoring_hands_nodes_back_without_waiting_for_the_backlog, .timeout = 30)
{
	struct batched b = {.flushes = 0};
	cr_assert_eq(pipe(b.o.gate), 0);
	struct eng_worker w;
	struct se_err err;
	cr_assert_eq(eng_worker_start_batched(&w, record_slow, flush_slow, &b, &err), 0);
	enum { N = 10 };
	struct node nodes[N];
	push_held(&w, &b, nodes, N);
	int got = 0;
	while (got < N)
		got = take_back(&w, &b, got);
	cr_assert_eq(b.n_flushed, N);
	cr_assert_geq(b.flushes, N / 2, "%d flushes for %d slow nodes", b.flushes, N);
	eng_worker_stop(&w);
	eng_worker_free(&w);
	close(b.o.gate[0]);
	close(b.o.gate[1]);
}

/* ---- the engine with scoring held back ---- */

#define ITEMS 8
#define JOBS (ITEMS * 2) /* a primary and one shadow per item */

struct hold {
	size_t release_at; /* queued jobs that release the held one */
	int gate[2];
	bool held;	   /* worker thread only */
	size_t max_queued; /* loop thread only */
	bool released;	   /* loop thread only */
};

static void hold_first(void *ctx)
{
	struct hold *h = ctx;
	if (h->held)
		return;
	h->held = true;
	/* the release is a byte on the gate; past 60 s the loop has stopped
	 * finishing transfers, and run_held's check of `released` says so */
	struct pollfd p = {.fd = h->gate[0], .events = POLLIN};
	char c;
	if (poll(&p, 1, 60000) == 1)
		cr_assert_eq(read(h->gate[0], &c, 1), 1);
}

static void on_queued(void *ctx, size_t queued)
{
	struct hold *h = ctx;
	if (queued > h->max_queued)
		h->max_queued = queued;
	/* every transfer finished while the first result was still unscored:
	 * the loop never waited for scoring */
	if (queued == h->release_at && !h->released) {
		h->released = true;
		cr_assert_eq(write(h->gate[1], "x", 1), 1);
	}
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = fio_join(dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Runs ITEMS items (a primary and a shadow each) at the given concurrency
 * with the first result's scoring held until release_at jobs are queued;
 * checks every line is written, and returns the most jobs queued at once. */
static size_t run_held(int concurrency, size_t release_at)
{
	char *dir = test_mkdtemp("engworker");
	char *profiles =
	    write_file(dir, "profiles.json",
		       "{\"seed\": 7, \"models\": {"
		       "\"sim/fast\": {\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "
		       "\"accuracy\": {\"default\": 1.0}}, "
		       "\"sim/cand\": {\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "
		       "\"accuracy\": {\"default\": 1.0}}}}\n");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles, NULL, NULL), 0, "%s", sp.error);
	char items[2048] = "";
	for (int i = 0; i < ITEMS; i++) {
		size_t l = strlen(items);
		snprintf(items + l, sizeof(items) - l,
			 "{\"id\": \"q%d\", \"prompt\": \"What is %d plus 1?\", \"expected\": "
			 "\"%d\"}\n",
			 i, i, i + 1);
	}
	char *ds = write_file(dir, "items.jsonl", items);
	char eval[2048];
	snprintf(eval, sizeof(eval),
		 "{\"name\": \"held\", \"dataset\": {\"path\": \"%s\"},\n"
		 " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"}},\n"
		 " \"slots\": {\"fast\": \"sim/fast\"}, \"routing\": {\"default\": \"fast\"},\n"
		 " \"shadow\": [\"sim/cand\"],\n"
		 " \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
		 "[\"trim\"]}],\n"
		 " \"params\": {\"max_tokens\": 16}, \"timeout_s\": 30}\n",
		 ds, sp.base_url);
	char *evalp = write_file(dir, "eval.json", eval);
	struct cfg *cfg = NULL;
	struct se_err err;
	cr_assert_eq(cfg_load(evalp, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);

	struct hold h = {.held = false, .release_at = release_at};
	cr_assert_eq(pipe(h.gate), 0);
	struct eng_opts o = {
	    .cfg = cfg,
	    .run_dir = dir,
	    .limit = -1,
	    .concurrency = concurrency,
	    .cache_mode = ENG_CACHE_OFF,
	    .max_cost = -1,
	    .quiet = true,
	    .seed = 1,
	    .on_queued = on_queued,
	    .before_score = hold_first,
	    .test_ctx = &h,
	};
	struct eng_stats st;
	cr_assert_eq(eng_run(&o, &st, &err), 0, "%s", err.msg);
	cr_assert(h.released, "the loop stopped finishing transfers while scoring was held");
	cr_assert_eq(st.results_written, JOBS);
	cr_assert_eq(st.by_status[RES_OK], JOBS);

	/* every line is there, once per (item, model), with its own timing */
	char *rpath = fio_join(dir, "results.jsonl");
	size_t len;
	char *text = test_read_file(rpath, &len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	cr_assert_eq(lines, JOBS);
	cr_assert_not_null(strstr(text, "\"latency_ms\":"));
	cr_assert_null(strstr(text, "\"latency_ms\":null"));
	free(text);
	free(rpath);

	curl_global_cleanup();
	cfg_free(cfg);
	close(h.gate[0]);
	close(h.gate[1]);
	simproc_stop(&sp);
	free(evalp);
	free(ds);
	free(profiles);
	test_rmdir(dir);
	return h.max_queued;
}

Test(engine_worker, the_loop_finishes_every_transfer_while_scoring_is_held, .timeout = 180)
{
	cr_assert_eq(run_held(JOBS, JOBS), JOBS);
}

/* A job waiting to be scored keeps its --concurrency slot: with the first
 * result held, the loop stops admitting once --concurrency jobs wait (the
 * queue never holds more), and finishes the run once scoring resumes. */
Test(engine_worker, jobs_waiting_for_scoring_hold_their_concurrency_slot, .timeout = 180)
{
	cr_assert_eq(run_held(4, 4), 4, "more jobs than --concurrency 4 waited for scoring");
}
