/* worker.c: the scoring thread and its two queues (see worker.h). */
#include "engine/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/wakefd.h"

/* Hands a batch back to the loop: one eventfd write when the completion
 * list was empty (the loop takes the whole list on each wake-up, so a
 * non-empty list already has a wake-up pending). Called with mu held. */
static void hand_back(struct eng_worker *w, struct eng_wnode *head, struct eng_wnode *tail)
{
	bool was_empty = !w->out_head;
	if (w->out_tail)
		w->out_tail->next = head;
	else
		w->out_head = head;
	w->out_tail = tail;
	if (was_empty)
		wakefd_signal(w->efd);
}

static void *worker_main(void *arg)
{
	struct eng_worker *w = arg;
	/* stop signals (SIGINT...) go to the loop's thread, which handles them;
	 * the worker's writes are never interrupted by one */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* below the network lanes: a CPU-heavy check competes with the threads
	 * that time the replies for the cores, and yields to them (the nice
	 * value is a thread's own on Linux; an error leaves it as it was) */
	errno = 0;
	int nice_now = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, 0, nice_now + ENG_WORKER_NICE);
	struct eng_wnode *held = NULL, *held_tail = NULL; /* scored, not flushed */
	size_t n_held = 0;
	double held_since = 0; /* when the first held node was scored */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->in_head && !w->closing)
			pthread_cond_wait(&w->cv, &w->mu);
		struct eng_wnode *n = w->in_head;
		if (!n)
			break; /* closing and nothing left (nothing held either) */
		w->in_head = n->next;
		if (!w->in_head)
			w->in_tail = NULL;
		pthread_mutex_unlock(&w->mu);
		n->next = NULL;
		w->fn(w->ctx, n);
		double now = clock_now_ms();
		if (n_held == 0)
			held_since = now;
		if (held_tail)
			held_tail->next = n;
		else
			held = n;
		held_tail = n;
		n_held++;
		pthread_mutex_lock(&w->mu);
		if (w->in_head && n_held < ENG_WORKER_BATCH &&
		    now - held_since < ENG_WORKER_HOLD_MS)
			continue;
		/* the queue is empty, the batch full or old: flush, hand back */
		pthread_mutex_unlock(&w->mu);
		if (w->flush)
			w->flush(w->ctx, held);
		pthread_mutex_lock(&w->mu);
		hand_back(w, held, held_tail);
		held = held_tail = NULL;
		n_held = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void eng_worker_init(struct eng_worker *w)
{
	memset(w, 0, sizeof(*w));
	w->efd = -1;
}

int eng_worker_start(struct eng_worker *w, eng_work_fn fn, void *ctx, struct se_err *err)
{
	return eng_worker_start_batched(w, fn, NULL, ctx, err);
}

int eng_worker_start_batched(struct eng_worker *w, eng_work_fn fn, eng_flush_fn flush, void *ctx,
			     struct se_err *err)
{
	eng_worker_init(w);
	w->fn = fn;
	w->flush = flush;
	w->ctx = ctx;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return se_fail_errno(err, NULL, "cannot create the scoring thread's eventfd");
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int rc = pthread_create(&w->th, NULL, worker_main, w);
	if (rc) {
		errno = rc;
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		close(w->efd);
		w->efd = -1;
		return se_fail_errno(err, NULL, "cannot start the scoring thread");
	}
	w->started = true;
	return 0;
}

void eng_worker_defer(struct eng_worker *w)
{
	w->defer = true;
}

/* Appends the list head..tail of n nodes to the worker's queue and wakes
 * it: one lock, one signal. */
static void hand_over(struct eng_worker *w, struct eng_wnode *head, struct eng_wnode *tail,
		      size_t n)
{
	pthread_mutex_lock(&w->mu);
	if (w->in_tail)
		w->in_tail->next = head;
	else
		w->in_head = head;
	w->in_tail = tail;
	w->queued += n;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void eng_worker_push(struct eng_worker *w, struct eng_wnode *n)
{
	n->next = NULL;
	if (!w->defer) {
		hand_over(w, n, n, 1);
		return;
	}
	if (w->st_tail)
		w->st_tail->next = n;
	else
		w->st_head = n;
	w->st_tail = n;
	w->n_staged++;
}

void eng_worker_kick(struct eng_worker *w)
{
	if (!w->st_head)
		return;
	hand_over(w, w->st_head, w->st_tail, w->n_staged);
	w->st_head = w->st_tail = NULL;
	w->n_staged = 0;
}

struct eng_wnode *eng_worker_done(struct eng_worker *w)
{
	if (w->efd < 0)
		return NULL;
	wakefd_drain(w->efd);
	pthread_mutex_lock(&w->mu);
	struct eng_wnode *n = w->out_head;
	w->out_head = w->out_tail = NULL;
	for (struct eng_wnode *p = n; p; p = p->next)
		w->queued--;
	pthread_mutex_unlock(&w->mu);
	return n;
}

size_t eng_worker_queued(struct eng_worker *w)
{
	if (w->efd < 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	size_t q = w->queued;
	pthread_mutex_unlock(&w->mu);
	return q + w->n_staged;
}

int eng_worker_fd(const struct eng_worker *w)
{
	return w->efd;
}

void eng_worker_stop(struct eng_worker *w)
{
	if (!w->started)
		return;
	eng_worker_kick(w);
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->started = false;
}

void eng_worker_free(struct eng_worker *w)
{
	if (w->efd >= 0) {
		close(w->efd);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	w->efd = -1;
}
