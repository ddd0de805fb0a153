/* pool.c: one scorer process per command check, for a whole run (see
 * scorer.h): sending a request, waiting for its reply under the check's
 * timeout, and the restart budget. The grading callback it hands to the
 * checks (chk_runner) is the only way in during a run. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/checks.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "scorer/scorer.h"

/* A reply longer than this without a newline is garbage, not a reply. */
#define SCR_MAX_LINE (4u << 20)
/* How long a scorer may take to exit once its stdin is closed. */
#define SCR_GRACE_MS 2000

struct scr_one {
	size_t check;
	const char *name;
	const struct chk_cmd *cmd;
	char **env;
	char where[600]; /* "file: checks[i]" */
	struct scr_proc proc;
	long next_id;
	int restarts;
	char why[200];	/* the last failure, for the run's error */
	struct buf in;	/* bytes read and not yet a whole line */
	struct buf req; /* the request being sent */
};

struct scr_pool {
	struct scr_one *v;
	size_t n;
	struct chk_runner runner;
	bool failed;
	struct se_err err;
};

/* ---- one request, one reply ---------------------------------------------- */

/* An error verdict: prefix and why as its detail (cut to fit). */
static void fail_result(struct chk_result *r, const char *prefix, const char *why)
{
	r->pass = false;
	r->error = true;
	r->score = NAN;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s%s", prefix, why);
	chk_result_detail(r, b.data);
	buf_free(&b);
}

/* Sends b whole before end_ms: 0, or -1 (closed: EPIPE; or too slow, -2). */
static int send_all(int fd, const struct buf *b, double end_ms)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t w = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		double left = end_ms - clock_now_ms();
		struct pollfd q = {.fd = fd, .events = POLLOUT};
		if (left <= 0 || (poll(&q, 1, (int)left + 1) == 0 && clock_now_ms() >= end_ms))
			return -2;
	}
	return 0;
}

/* Reads until one->in holds a line (its length without '\n' in *len):
 * 0; -1 when the process closed its end; -2 at end_ms; -3 a line too long. */
static int read_line(struct scr_one *one, double end_ms, size_t *len)
{
	for (;;) {
		char *nl = one->in.len ? memchr(one->in.data, '\n', one->in.len) : NULL;
		if (nl) {
			*len = (size_t)(nl - one->in.data);
			return 0;
		}
		if (one->in.len > SCR_MAX_LINE)
			return -3;
		double left = end_ms - clock_now_ms();
		if (left <= 0)
			return -2;
		struct pollfd q = {.fd = one->proc.fd, .events = POLLIN};
		int pr = poll(&q, 1, (int)left + 1);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr <= 0)
			continue;
		char chunk[16384];
		ssize_t got = recv(one->proc.fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
			return -1;
		if (got > 0)
			buf_append(&one->in, chunk, (size_t)got);
	}
}

/* The process is gone or out of step: it is stopped here and started again
 * (counted) before the next request. */
static void drop(struct scr_one *one, bool reap)
{
	if (reap)
		scr_reap(&one->proc, one->why, sizeof one->why);
	else
		scr_kill(&one->proc);
	buf_reset(&one->in);
}

static void drop_line(struct scr_one *one, size_t len)
{
	size_t rest = one->in.len - len - 1;
	memmove(one->in.data, one->in.data + len + 1, rest);
	one->in.len = rest;
	one->in.data[rest] = '\0';
}

/* Starts the process again when it is not running; -1 (the pool failed)
 * when that would be one restart more than max_restarts. */
static int ensure_running(struct scr_pool *pool, struct scr_one *one)
{
	if (one->proc.pid > 0)
		return 0;
	if (one->restarts >= one->cmd->max_restarts) {
		pool->failed = true;
		return se_fail(&pool->err, SE_INPUT, one->where,
			       "command check \"%s\": the scorer failed %d time%s, more than "
			       "max_restarts (%d); last: %s",
			       one->name, one->restarts + 1, one->restarts ? "s" : "",
			       one->cmd->max_restarts, one->why);
	}
	one->restarts++;
	if (scr_spawn(&one->proc, one->cmd->argv, one->cmd->dir, one->env, one->where, &pool->err) <
	    0) {
		pool->failed = true;
		return -1;
	}
	return 0;
}

static void ask(struct scr_one *one, const struct chk_item *item, const char *output, size_t n,
		struct chk_result *r)
{
	long id = ++one->next_id;
	double end = clock_now_ms() + one->cmd->timeout_s * 1000.0;
	buf_reset(&one->req);
	scr_request(&one->req, id, one->name, item, output, n);
	int rc = send_all(one->proc.fd, &one->req, end);
	size_t len = 0;
	if (rc == 0)
		rc = read_line(one, end, &len);
	if (rc == -1) {
		drop(one, true);
		fail_result(r, "scorer ", one->why);
		return;
	}
	if (rc == -2) {
		snprintf(one->why, sizeof one->why, "no reply within %g s", one->cmd->timeout_s);
		drop(one, false);
		fail_result(r, "scorer timed out: ", one->why);
		return;
	}
	if (rc == -3) {
		snprintf(one->why, sizeof one->why, "a reply line over %u bytes", SCR_MAX_LINE);
		drop(one, false);
		fail_result(r, "scorer wrote ", one->why);
		return;
	}
	enum scr_reply pr = scr_parse_reply(one->in.data, len, id, r);
	drop_line(one, len);
	if (pr == SCR_REPLY_GARBAGE || pr == SCR_REPLY_WRONG_ID) {
		snprintf(one->why, sizeof one->why, "%.180s", r->detail);
		drop(one, false);
	}
}

/* chk_runner's callback: check is the check's index in the set. */
static void grade(void *ctx, size_t check, const struct chk_item *item, const char *output,
		  size_t n, struct chk_result *r)
{
	struct scr_pool *pool = ctx;
	struct scr_one *one = NULL;
	for (size_t i = 0; i < pool->n && !one; i++)
		if (pool->v[i].check == check)
			one = &pool->v[i];
	if (!one) {
		fail_result(r, "no scorer for this check", "");
		return;
	}
	if (pool->failed || ensure_running(pool, one) < 0) {
		fail_result(r, "scorer stopped: ", one->why);
		return;
	}
	ask(one, item, output, n, r);
}

/* ---- the pool ------------------------------------------------------------- */

int scr_pool_start(struct scr_pool **out, const struct chk_set *set, const char *file,
		   struct se_err *err)
{
	*out = NULL;
	size_t n = 0;
	for (size_t i = 0; set && i < set->n; i++)
		n += chk_command(set, i, NULL) != NULL;
	if (!n)
		return 0;
	struct scr_pool *pool = xcalloc(1, sizeof *pool);
	pool->v = xcalloc(n, sizeof *pool->v);
	pool->runner.grade = grade;
	pool->runner.ctx = pool;
	for (size_t i = 0; i < set->n; i++) {
		const char *name = NULL;
		const struct chk_cmd *cmd = chk_command(set, i, &name);
		if (!cmd)
			continue;
		struct scr_one *one = &pool->v[pool->n++];
		one->check = i;
		one->name = name;
		one->cmd = cmd;
		one->env = scr_env_build((const char *const *)cmd->env, cmd->n_env);
		snprintf(one->where, sizeof one->where, "%s: checks[%zu]", file ? file : "config",
			 i);
		buf_init(&one->in);
		buf_init(&one->req);
		if (scr_spawn(&one->proc, cmd->argv, cmd->dir, one->env, one->where, err) < 0) {
			scr_pool_stop(pool);
			return -1;
		}
	}
	*out = pool;
	return 0;
}

const struct chk_runner *scr_pool_runner(const struct scr_pool *pool)
{
	return pool ? &pool->runner : NULL;
}

bool scr_pool_failed(const struct scr_pool *pool, struct se_err *err)
{
	if (!pool || !pool->failed)
		return false;
	if (err)
		*err = pool->err;
	return true;
}

void scr_pool_stop(struct scr_pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->n; i++) {
		struct scr_one *one = &pool->v[i];
		scr_close(&one->proc, SCR_GRACE_MS);
		scr_env_free(one->env);
		buf_free(&one->in);
		buf_free(&one->req);
	}
	free(pool->v);
	free(pool);
}
