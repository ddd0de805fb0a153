/* worker.h: the engine's scoring thread, fed by the network loop.
 *
 * The loop only does I/O and timing; a finished transfer is pushed here as
 * an intrusive node, scored, formatted and written by one worker thread (in
 * FIFO order, so results.jsonl keeps the order the loop finished them in),
 * then handed back through a completion list whose eventfd sits in
 * the loop's wait (eng_net_wait): the loop frees what it owns (the job, the
 * item) only when the node comes back.
 *
 * Batched: the worker scores nodes until its queue is empty,
 * ENG_WORKER_BATCH are scored or ENG_WORKER_HOLD_MS have passed since the
 * batch's first node was scored, calls the flush function once on that batch
 * (the engine writes the batch's results.jsonl lines in one write), and only
 * then hands the batch back, with one eventfd write when the completion list
 * was empty. So a node that comes back has had its flush, and a busy run
 * costs a write and a wake-up per batch, not per request.
 *
 * Deferred (the engine's mode, eng_worker_defer): a push only links the
 * node onto a list of the loop's own, and eng_worker_kick hands that list
 * over under one lock with one wake-up, once per loop turn. A push that
 * took the lock and signalled the condition variable cost a futex wake-up
 * of the idle worker per request: 3.5% of a zero-latency run's samples
 * (bench/cpu.sh), on the network loop's thread.
 *
 * Bounded: eng_worker_push never blocks and never allocates. The bound is
 * the caller's invariant: a node is a live request (it still counts against
 * the concurrency until it comes back), so the queue never holds more than
 * the requests the loop admitted (engine.c, can_admit).
 *
 * Ownership: a pushed node belongs to the worker until eng_worker_done
 * returns it; the worker owns nothing else. Thread-safety: push, kick,
 * done, queued and stop are called from the loop's thread only.
 */
#ifndef SE_ENGINE_WORKER_H
#define SE_ENGINE_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct eng_wnode {
	struct eng_wnode *next;
};

/* Runs on the worker thread, once per node, in push order. */
typedef void (*eng_work_fn)(void *ctx, struct eng_wnode *n);
/* Runs on the worker thread after a batch is scored, before it is handed
 * back: the batch's nodes in push order, linked by next. */
typedef void (*eng_flush_fn)(void *ctx, struct eng_wnode *batch);

#define ENG_WORKER_BATCH 256 /* nodes scored before a flush, at most */
/* A batch is flushed and handed back once this long has passed since its
 * first node was scored, even with more nodes waiting: each node that
 * comes back frees a concurrency slot, and a slow check that held a whole
 * backlog back would free the slots all at once, a burst of new requests
 * whose latency is then the server's queue (bench/latency.sh: a 6 ms
 * check held 64 nodes for 400 ms, the next 64 requests went out together
 * and came back 2 to 7 ms late by tcpdump's clock). With slow checks a
 * batch is two nodes; at zero latency it is still about a hundred. */
#define ENG_WORKER_HOLD_MS 1.0
/* The worker's nice value over the process's: when the cores are short, a
 * CPU-heavy check (or a command check's process, which inherits it when
 * the worker restarts one) waits, not the timing of replies. */
#define ENG_WORKER_NICE 5

struct eng_worker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct eng_wnode *in_head, *in_tail;   /* waiting to be scored */
	struct eng_wnode *out_head, *out_tail; /* scored, not yet taken back */
	struct eng_wnode *st_head, *st_tail;   /* deferred: pushed, not kicked (loop only) */
	size_t n_staged;		       /* nodes on st_head (loop only) */
	bool defer;			       /* eng_worker_defer */
	size_t queued;			       /* handed over and not yet taken back */
	int efd;			       /* written when out_head turns non-empty */
	bool closing;
	bool started;
	eng_work_fn fn;
	eng_flush_fn flush; /* NULL: none */
	void *ctx;
};

/* A worker that is not started: stop, done and free are safe on it. */
void eng_worker_init(struct eng_worker *w);
/* Starts the thread; -1 with err when it cannot (no thread, no eventfd). */
int eng_worker_start(struct eng_worker *w, eng_work_fn fn, void *ctx, struct se_err *err);
/* The same, with flush called on each batch (see above). */
int eng_worker_start_batched(struct eng_worker *w, eng_work_fn fn, eng_flush_fn flush, void *ctx,
			     struct se_err *err);
/* From now on a push waits on the loop's side for eng_worker_kick (see
 * above); call after start, before the first push. */
void eng_worker_defer(struct eng_worker *w);
void eng_worker_push(struct eng_worker *w, struct eng_wnode *n);
/* Deferred mode: hands every node pushed since the last kick over to the
 * worker, in push order, with at most one wake-up. The loop kicks before
 * each wait, so no pushed node waits longer than the turn that pushed it.
 * A no-op when nothing is staged. */
void eng_worker_kick(struct eng_worker *w);
/* Takes every finished node back, oldest first (NULL when none). */
struct eng_wnode *eng_worker_done(struct eng_worker *w);
/* Pushed and not yet taken back by eng_worker_done. */
size_t eng_worker_queued(struct eng_worker *w);
/* The completion fd, for the loop's wait (eng_net_wait). */
int eng_worker_fd(const struct eng_worker *w);
/* Kicks, scores whatever is still queued, then joins the thread; finished nodes
 * stay for eng_worker_done. Safe on a worker that never started. */
void eng_worker_stop(struct eng_worker *w);
/* Frees the fd; call after stop and a last eng_worker_done. */
void eng_worker_free(struct eng_worker *w);

#endif
