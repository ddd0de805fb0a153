/* server.c: shadowsim's HTTP server on libmicrohttpd (see sim.h).
 *
 * Threads: MHD's internal polling threads (a pool of one poll() loop per core)
 * run every handler; one timer thread here wakes connections up. Nothing ever
 * sleeps in a handler: a connection that must wait (latency, a stall, the next
 * token of a stream) is suspended with MHD_suspend_connection and a
 * (deadline, connection) entry goes into a min-heap; the timer thread sleeps
 * on a condition variable until the earliest deadline and calls
 * MHD_resume_connection, after which MHD calls us again:
 *   - non-streaming: the access handler is suspended after planning; when
 *     resumed, MHD calls the handler again and the prepared reply is queued;
 *   - streaming: the headers go out at once with a callback response; the
 *     content reader emits every SSE event whose time has come and, when the
 *     next one is not due, suspends the connection, schedules the wake-up and
 *     returns 0. microhttpd.h (0.9.75) documents exactly this: returning 0
 *     "should only be used in conjunction with MHD_suspend_connection() to
 *     avoid busy waiting", and the content reader is one of the two places
 *     where suspending is allowed. A waiting stream costs a heap entry and
 *     its connection, no thread and no polling.
 * Suspend and heap push happen under the heap lock after checking `stopping`,
 * so a shutdown that drains the heap cannot miss a connection: stop sets the
 * flag, resumes everything in the heap, joins the timer thread, then stops
 * MHD (which must never see a suspended connection). Resumed requests see the
 * flag and close.
 *
 * With zero latency nothing is suspended: the reply is queued in the first
 * handler call (the fast path the wrk benchmark measures).
 *
 * Slow clients: a connection must deliver a whole request (line, headers and
 * body) within header_timeout_s of opening or of its previous reply, else the
 * timer thread shuts its socket down and MHD closes it. MHD's own
 * MHD_OPTION_CONNECTION_TIMEOUT (idle_timeout_s) only measures inactivity, so
 * a client sending one byte every second would hold a connection slot for
 * ever; with a low descriptor limit a few dozen such clients would starve
 * every real request. Connections waiting for a request sit in a list in
 * deadline order (the timeout is the same for all, so appending keeps it
 * sorted). MHD notifies the close of a connection before it closes its
 * socket, and the entry leaves the list under the lock then, so the timer
 * never shuts down a descriptor that was reused.
 *
 * Connections come in through the door (door.c), which owns the listening
 * socket, refuses malformed request lines in OpenRouter's error shape and
 * hands the rest over with MHD_add_connection; MHD listens on nothing. The
 * door counts open connections against the descriptor limit, so MHD's close
 * notice tells it (sim_door_closed) when a slot is free.
 *
 * Shared state (profiles, items, options) is read-only; the heap and the
 * waiting list are the only mutable shared structures.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/heap.h"
#include "core/xalloc.h"
#include "sim/sim.h"

#define SIM_MAX_BODY (16u << 20)
#define SIM_STREAM_BLOCK 4096
/* Per-connection pool for headers and I/O buffers (MHD's default is 32 KiB);
 * bodies are copied out as they arrive, so 16 KiB is plenty and halves the
 * memory of thousands of idle or streaming connections. */
#define SIM_CONN_MEMORY (16u << 10)
#define SIM_KEEPALIVE ": OPENROUTER PROCESSING\n\n"

/* A connection, from MHD's start notice to its close notice; while it waits
 * for a complete request it is linked in the server's waiting list. */
struct sim_conn {
	struct sim_conn *prev, *next;
	int fd;
	double deadline; /* monotonic ms */
	bool linked;
};

struct sim_server {
	struct MHD_Daemon *d;
	struct sim_door *door; /* accepts, checks request lines (door.c) */
	int lfd;	       /* the listening socket */
	const struct sim_profiles *p;
	const struct sim_items *items;
	struct sim_server_opts o;
	int port;
	struct MHD_Response *models;
	struct sim_gens *gens; /* what each generation cost (gens.c) */

	pthread_t timer;
	bool timer_started;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;
	struct heap heap;			/* (deadline, suspended connection) */
	struct sim_conn *wait_head, *wait_tail; /* waiting for a request, oldest first */
	bool stopping;
};

enum req_state { REQ_BODY = 0, REQ_WAITING };

/* One request, from its first handler call to MHD's completion notice. */
struct sim_req {
	struct buf body;
	bool too_big;
	enum req_state state;
	struct sim_plan plan;
};

/* A streaming reply, owned by its MHD response (freed by stream_free). */
struct sim_stream {
	struct sim_server *s;
	struct MHD_Connection *conn;
	struct sim_plan plan;
	double t0;
	size_t step;	  /* next event */
	size_t n_content; /* content pieces to send before the tail */
	struct buf out;
	size_t off;
	int end; /* 0 running, 1 end of stream, 2 end with error */
};

/* A non-streaming body that stops half-way (the truncate fault). */
struct sim_cut {
	struct buf body;
	size_t limit;
};

static bool is_stopping(struct sim_server *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

/* Suspends c until `at` (monotonic ms). Only from MHD's callbacks. Returns
 * -1 (and does not suspend) when the server is stopping. */
static int park(struct sim_server *s, struct MHD_Connection *c, double at)
{
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	MHD_suspend_connection(c);
	heap_push(&s->heap, at, c);
	if (s->heap.v[0].data == c)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Under s->mu. */
static void conn_unlink(struct sim_server *s, struct sim_conn *sc)
{
	if (!sc->linked)
		return;
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		s->wait_head = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	else
		s->wait_tail = sc->prev;
	sc->prev = sc->next = NULL;
	sc->linked = false;
}

/* Starts (or restarts) sc's wait for a complete request, from `since`
 * (monotonic ms: its opening, or the end of its previous reply). */
static void conn_wait(struct sim_server *s, struct sim_conn *sc, double since)
{
	pthread_mutex_lock(&s->mu);
	conn_unlink(s, sc);
	sc->deadline = since + (double)s->o.header_timeout_s * 1000.0;
	sc->prev = s->wait_tail;
	if (s->wait_tail)
		s->wait_tail->next = sc;
	else
		s->wait_head = sc;
	s->wait_tail = sc;
	sc->linked = true;
	if (s->wait_head == sc)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void conn_done_waiting(struct sim_server *s, struct sim_conn *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&s->mu);
	conn_unlink(s, sc);
	pthread_mutex_unlock(&s->mu);
}

static struct sim_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Under s->mu: shuts down every connection whose request is overdue. */
static void expire_waiting(struct sim_server *s, double now)
{
	while (s->wait_head && s->wait_head->deadline <= now) {
		struct sim_conn *sc = s->wait_head;
		conn_unlink(s, sc);
		if (s->o.verbose)
			fprintf(stderr,
				"shadowsim: closing a connection: no complete request "
				"within %u s\n",
				s->o.header_timeout_s);
		shutdown(sc->fd, SHUT_RDWR);
	}
}

static void *timer_main(void *arg)
{
	struct sim_server *s = arg;
	struct MHD_Connection *due[256];
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		double now = clock_now_ms();
		expire_waiting(s, now);
		if (s->heap.n == 0 && !s->wait_head) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		double next = s->heap.n ? s->heap.v[0].at : s->wait_head->deadline;
		if (s->wait_head && s->wait_head->deadline < next)
			next = s->wait_head->deadline;
		if (next > now) {
			/* at most a day ahead (and never inf or NaN): the
			 * conversion to a timespec must not overflow; a later
			 * due time only costs one more turn of this loop */
			double at = next < now + SIM_MAX_DELAY_MS ? next : now + SIM_MAX_DELAY_MS;
			struct timespec ts;
			ts.tv_sec = (time_t)(at / 1000.0);
			ts.tv_nsec = (long)((at - (double)ts.tv_sec * 1000.0) * 1e6);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		size_t n = 0;
		struct heap_entry w;
		while (n < sizeof(due) / sizeof(due[0]) && s->heap.n && s->heap.v[0].at <= now &&
		       heap_pop(&s->heap, &w))
			due[n++] = w.data;
		pthread_mutex_unlock(&s->mu);
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(due[i]);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- replies ---- */

static void add_common_headers(struct MHD_Response *r, const char *type, const char *gen_id)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (gen_id && *gen_id)
		MHD_add_response_header(r, "X-Generation-Id", gen_id);
}

/* A model that reports cost as LiteLLM's proxy does: in a response header,
 * known before the body since the plan fixes the tokens. */
static void add_cost_header(struct MHD_Response *r, const struct sim_plan *pl)
{
	if (!pl->model->litellm_cost)
		return;
	char v[64];
	snprintf(v, sizeof(v), "%.17g", pl->cost);
	MHD_add_response_header(r, "x-litellm-response-cost", v);
}

static enum MHD_Result queue_json(struct MHD_Connection *c, unsigned status, struct buf *body,
				  const struct sim_plan *pl, const char *retry_after)
{
	size_t len;
	char *data = buf_detach(body, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	add_common_headers(r, "application/json", pl ? pl->gen_id : NULL);
	if (pl)
		add_cost_header(r, pl);
	if (retry_after)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, unsigned status, const char *msg,
				   const char *type)
{
	struct buf b;
	buf_init(&b);
	sim_error_body(&b, (int)status, msg, type);
	return queue_json(c, status, &b, NULL, NULL);
}

static ssize_t cut_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sim_cut *cut = cls;
	if (pos >= cut->limit)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = cut->limit - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(out, cut->body.data + pos, n);
	return (ssize_t)n;
}

static void cut_free(void *cls)
{
	struct sim_cut *cut = cls;
	buf_free(&cut->body);
	free(cut);
}

/* The due time (ms after t0) of event `step`, and whether one exists. Events:
 * 0 keep-alive comment, 1 role chunk, 2.. content pieces, then the tail
 * (finish, usage, [DONE] at step n_content + 4, and for done_hang the end
 * of the body, stall_ms after [DONE]). */
static double event_due(const struct sim_stream *st, size_t step)
{
	const struct sim_plan *pl = &st->plan;
	if (step == 0)
		return 0;
	if (pl->fault == SIM_FAULT_DONE_HANG && step > st->n_content + 4)
		return event_due(st, st->n_content + 4) + (double)pl->model->stall_ms;
	if (step == 1 || pl->n_pieces == 0)
		return pl->ttft_ms;
	size_t k = step - 1; /* piece k-1 is the k-th piece */
	if (k > st->n_content && pl->fault != SIM_FAULT_ENDLESS)
		k = st->n_content;
	return pl->ttft_ms + pl->gen_ms * (double)k / (double)pl->n_pieces;
}

/* Appends event `step` to st->out (or sets st->end). */
static void event_emit(struct sim_stream *st)
{
	const struct sim_plan *pl = &st->plan;
	size_t step = st->step++;
	if (step == 0) {
		buf_puts(&st->out, SIM_KEEPALIVE);
		return;
	}
	if (step == 1) {
		sim_stream_role(&st->out, pl);
		return;
	}
	size_t k = step - 2;
	if (pl->fault == SIM_FAULT_ENDLESS && pl->n_pieces > 0) {
		sim_stream_piece(&st->out, pl, k % pl->n_pieces);
		return;
	}
	if (k < st->n_content) {
		if (k == st->n_content / 2 && k > 0)
			buf_puts(&st->out, SIM_KEEPALIVE);
		sim_stream_piece(&st->out, pl, k);
		return;
	}
	size_t tail = k - st->n_content;
	switch (pl->fault) {
	case SIM_FAULT_TRUNCATE:
		st->end = 2;
		return;
	case SIM_FAULT_MIDSTREAM:
	case SIM_FAULT_ECHO_HEADERS_ERROR:
		sim_stream_error(&st->out, pl);
		st->end = 1;
		return;
	case SIM_FAULT_MALFORMED:
		sim_stream_malformed(&st->out, pl);
		st->end = 1;
		return;
	default:
		break;
	}
	if (tail == 0) {
		sim_stream_finish(&st->out, pl);
	} else if (tail == 1) {
		sim_stream_usage(&st->out, pl);
	} else if (tail == 2) {
		buf_puts(&st->out, "data: [DONE]\n\n");
		st->end = pl->fault != SIM_FAULT_AFTER_DONE && pl->fault != SIM_FAULT_DONE_HANG;
	} else if (pl->fault == SIM_FAULT_DONE_HANG) {
		/* done_hang: nothing more, the body ends (stall_ms after [DONE]) */
		st->end = 1;
	} else {
		/* after_done: one more content chunk, then an invalid event */
		if (pl->n_pieces > 0)
			sim_stream_piece(&st->out, pl, 0);
		sim_stream_malformed(&st->out, pl);
		st->end = 1;
	}
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sim_stream *st = cls;
	(void)pos;
	if (is_stopping(st->s))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	double now = clock_now_ms() - st->t0;
	while (!st->end && st->out.len - st->off < max && event_due(st, st->step) <= now)
		event_emit(st);
	size_t avail = st->out.len - st->off;
	if (avail > 0) {
		size_t n = avail < max ? avail : max;
		memcpy(out, st->out.data + st->off, n);
		st->off += n;
		if (st->off == st->out.len) {
			buf_reset(&st->out);
			st->off = 0;
		}
		return (ssize_t)n;
	}
	if (st->end)
		return st->end == 1 ? MHD_CONTENT_READER_END_OF_STREAM
				    : MHD_CONTENT_READER_END_WITH_ERROR;
	if (park(st->s, st->conn, st->t0 + event_due(st, st->step)))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return 0;
}

/* The endless fault's non-streaming body: a JSON head, then content for ever. */
struct sim_endless {
	struct sim_server *s;
	struct buf head;
};

static ssize_t endless_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	static const char filler[] = "and so on, ";
	struct sim_endless *e = cls;
	if (is_stopping(e->s))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = 0;
	for (; n < max && pos + n < e->head.len; n++)
		out[n] = e->head.data[pos + n];
	for (; n < max; n++)
		out[n] = filler[(pos + n - e->head.len) % (sizeof(filler) - 1)];
	return (ssize_t)n;
}

static void endless_free(void *cls)
{
	struct sim_endless *e = cls;
	buf_free(&e->head);
	free(e);
}

static void stream_free(void *cls)
{
	struct sim_stream *st = cls;
	sim_plan_free(&st->plan);
	buf_free(&st->out);
	free(st);
}

static void log_request(const struct sim_server *s, const struct sim_plan *pl, unsigned status)
{
	if (!s->o.verbose)
		return;
	fprintf(stderr,
		"shadowsim: POST chat/completions model=%s item=%s attempt=%d stream=%d "
		"status=%u fault=%s correct=%d tokens=%ld+%ld wait_ms=%.0f\n",
		pl->model ? pl->model->id : "-", pl->item ? pl->item->id : "-", pl->attempt,
		pl->stream, status, sim_fault_name(pl->fault), pl->correct, pl->prompt_tokens,
		pl->completion_tokens, pl->ttft_ms + pl->gen_ms);
}

static enum MHD_Result queue_200(struct MHD_Connection *c, struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* The endless fault, not streamed: a JSON head, then content for ever. */
static enum MHD_Result send_endless(struct sim_server *s, struct MHD_Connection *c,
				    const struct sim_plan *pl)
{
	struct sim_endless *e = xcalloc(1, sizeof(*e));
	e->s = s;
	buf_init(&e->head);
	sim_endless_head(&e->head, pl);
	struct MHD_Response *r = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, SIM_STREAM_BLOCK, endless_reader, e, endless_free);
	if (!r) {
		endless_free(e);
		return MHD_NO;
	}
	add_common_headers(r, "application/json", pl->gen_id);
	return queue_200(c, r);
}

/* A whole completion, or with the truncate fault its first half. */
static enum MHD_Result send_completion(struct MHD_Connection *c, const struct sim_plan *pl)
{
	struct buf b;
	buf_init(&b);
	sim_completion_body(&b, pl);
	if (pl->fault != SIM_FAULT_TRUNCATE)
		return queue_json(c, 200, &b, pl, NULL);
	struct sim_cut *cut = xcalloc(1, sizeof(*cut));
	cut->body = b;
	cut->limit = b.len / 2;
	struct MHD_Response *r =
	    MHD_create_response_from_callback(b.len, SIM_STREAM_BLOCK, cut_reader, cut, cut_free);
	if (!r) {
		cut_free(cut);
		return MHD_NO;
	}
	add_common_headers(r, "application/json", pl->gen_id);
	add_cost_header(r, pl);
	return queue_200(c, r);
}

/* A server-sent event stream, paced by stream_reader; it takes the plan
 * over. The stream faults cut its content short. */
static enum MHD_Result send_stream(struct sim_server *s, struct MHD_Connection *c,
				   struct sim_plan *pl)
{
	struct sim_stream *st = xcalloc(1, sizeof(*st));
	st->s = s;
	st->conn = c;
	st->plan = *pl;
	sim_plan_init(pl);
	st->t0 = clock_now_ms();
	buf_init(&st->out);
	switch (st->plan.fault) {
	case SIM_FAULT_TRUNCATE:
	case SIM_FAULT_MIDSTREAM:
		st->n_content = st->plan.n_pieces / 2;
		break;
	case SIM_FAULT_MALFORMED:
		st->n_content = st->plan.n_pieces ? 1 : 0;
		break;
	default:
		st->n_content = st->plan.n_pieces;
		break;
	}
	struct MHD_Response *r = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, SIM_STREAM_BLOCK, stream_reader, st, stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	add_common_headers(r, "text/event-stream", st->plan.gen_id);
	add_cost_header(r, &st->plan);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return queue_200(c, r);
}

/* Sends the reply of a planned request (after any waiting). */
static enum MHD_Result send_planned(struct sim_server *s, struct MHD_Connection *c,
				    struct sim_req *rq)
{
	struct sim_plan *pl = &rq->plan;
	int status = sim_fault_status(pl->fault);
	if (status) {
		log_request(s, pl, (unsigned)status);
		struct buf b;
		buf_init(&b);
		sim_fault_body(&b, pl);
		char ra[64];
		if (pl->fault == SIM_FAULT_RATE_LIMIT)
			sim_retry_after(pl->model, ra, sizeof(ra));
		return queue_json(c, (unsigned)status, &b, NULL,
				  pl->fault == SIM_FAULT_RATE_LIMIT ? ra : NULL);
	}
	log_request(s, pl, 200);
	if (pl->fault != SIM_FAULT_ERROR_200)
		sim_gens_put(s->gens, pl); /* billed, even when the reply is cut */
	if (pl->fault == SIM_FAULT_ERROR_200) {
		struct buf b;
		buf_init(&b);
		sim_fault_body(&b, pl);
		return queue_json(c, 200, &b, NULL, NULL);
	}
	if (!pl->stream && pl->fault == SIM_FAULT_ENDLESS)
		return send_endless(s, c, pl);
	if (!pl->stream)
		return send_completion(c, pl);
	return send_stream(s, c, pl);
}

static bool authorized(const struct sim_server *s, struct MHD_Connection *c)
{
	if (!s->p->require_key)
		return true;
	const char *h =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	for (h += 7; *h == ' '; h++)
		;
	return *h != '\0';
}

static int attempt_of(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Shadoweval-Attempt");
	if (!h)
		return 1;
	char *end;
	long v = strtol(h, &end, 10);
	return (end != h && *end == '\0' && v >= 1 && v <= 1000000) ? (int)v : 1;
}

/* run --repeats: the sample index of the request, 0 when absent or bad. */
static int sample_of(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Shadoweval-Sample");
	if (!h)
		return 0;
	char *end;
	long v = strtol(h, &end, 10);
	return (end != h && *end == '\0' && v >= 0 && v <= 1000000) ? (int)v : 0;
}

static enum MHD_Result add_header_line(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	(void)kind;
	buf_printf(cls, "%s: %s\n", key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result handle_chat(struct sim_server *s, struct MHD_Connection *c,
				   struct sim_req *rq)
{
	if (!authorized(s, c))
		return queue_error(c, 401, "No auth credentials found", NULL);
	if (rq->too_big)
		return queue_error(c, 413, "Request body too large", "invalid_request");
	struct sim_request_ctx ctx = {.profiles = s->p,
				      .items = s->items,
				      .seed = s->o.seed,
				      .attempt = attempt_of(c),
				      .sample = sample_of(c)};
	struct buf err;
	buf_init(&err);
	int status = sim_plan_request(&ctx, rq->body.data, rq->body.len, &rq->plan, &err);
	buf_free(&rq->body);
	if (status) {
		if (s->o.verbose)
			fprintf(stderr, "shadowsim: POST chat/completions status=%d\n", status);
		return queue_json(c, (unsigned)status, &err, NULL, NULL);
	}
	buf_free(&err);
	struct sim_plan *pl = &rq->plan;
	if (pl->fault == SIM_FAULT_ECHO_HEADERS || pl->fault == SIM_FAULT_ECHO_HEADERS_ERROR) {
		struct buf h;
		buf_init(&h);
		MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_line, &h);
		sim_plan_echo(pl, h.data, h.len);
		buf_free(&h);
	}
	if (pl->fault == SIM_FAULT_DROP) {
		log_request(s, pl, 0);
		return MHD_NO; /* MHD closes the connection: no status line at all */
	}
	double wait = 0;
	if (pl->fault == SIM_FAULT_STALL)
		wait = (double)pl->model->stall_ms;
	else if (sim_fault_status(pl->fault))
		wait = pl->ttft_ms;
	else if (!pl->stream)
		wait = pl->ttft_ms + pl->gen_ms;
	if (wait > 0) {
		rq->state = REQ_WAITING;
		if (park(s, c, clock_now_ms() + wait))
			return MHD_NO;
		return MHD_YES;
	}
	return send_planned(s, c, rq);
}

/* GET .../generation?id=: OpenRouter's lookup of what a generation cost. */
static enum MHD_Result handle_generation(struct sim_server *s, struct MHD_Connection *c)
{
	if (!authorized(s, c))
		return queue_error(c, 401, "No auth credentials found", NULL);
	const char *id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
	struct buf b;
	buf_init(&b);
	int status = sim_gens_reply(s->gens, id, &b);
	if (s->o.verbose)
		fprintf(stderr, "shadowsim: GET generation status=%d\n", status);
	return queue_json(c, (unsigned)status, &b, NULL, NULL);
}

static bool path_is(const char *url, const char *tail)
{
	/* Accept ".../v1/<tail>" and ".../api/v1/<tail>". */
	if (strncmp(url, "/api", 4) == 0)
		url += 4;
	return strncmp(url, "/v1/", 4) == 0 && strcmp(url + 4, tail) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct sim_server *s = cls;
	struct sim_req *rq = *con_cls;
	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof(*rq));
		buf_init(&rq->body);
		sim_plan_init(&rq->plan);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > SIM_MAX_BODY)
			rq->too_big = true;
		else
			buf_append(&rq->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->state == REQ_WAITING) {
		if (is_stopping(s))
			return MHD_NO;
		return send_planned(s, c, rq);
	}
	conn_done_waiting(s, conn_of(c)); /* the whole request is here */
	if (path_is(url, "chat/completions")) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return queue_error(c, 405, "Method not allowed", "invalid_request");
		return handle_chat(s, c, rq);
	}
	if (path_is(url, "generation")) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return queue_error(c, 405, "Method not allowed", "invalid_request");
		return handle_generation(s, c);
	}
	if (path_is(url, "models")) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return queue_error(c, 405, "Method not allowed", "invalid_request");
		return MHD_queue_response(c, 200, s->models);
	}
	return queue_error(c, 404, "Not Found", "invalid_request");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sim_server *s = cls;
	struct sim_req *rq = *con_cls;
	/* A kept-alive connection now waits for its next request. */
	struct sim_conn *sc = conn_of(c);
	if (sc && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_wait(s, sc, clock_now_ms());
	if (!rq)
		return;
	buf_free(&rq->body);
	sim_plan_free(&rq->plan);
	free(rq);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct sim_server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			return;
		struct sim_conn *sc = xcalloc(1, sizeof(*sc));
		sc->fd = ci->connect_fd;
		*socket_context = sc;
		/* the whole first request counts from the door's accept */
		conn_wait(s, sc, sim_door_opened_at(s->door, sc->fd));
		return;
	}
	sim_door_closed(s->door);
	struct sim_conn *sc = *socket_context;
	if (!sc)
		return;
	conn_done_waiting(s, sc); /* before MHD closes the socket */
	free(sc);
	*socket_context = NULL;
}

/* ---- start and stop ---- */

static unsigned connection_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 10000;
	return rl.rlim_cur > 64 ? (unsigned)(rl.rlim_cur - 32) : 32;
}

/* A listening socket (non-blocking, backlog 4096) on addr; its port in
 * *port. Returns the descriptor, or -1 with errno set. */
static int listen_on(const struct sockaddr *addr, socklen_t len, int *port)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage got;
	socklen_t glen = sizeof(got);
	if (bind(fd, addr, len) != 0 || listen(fd, 4096) != 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &glen) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
					  : ntohs(((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

/* The address to listen on: host (an IPv4 or IPv6 literal) and port. */
static int parse_listen_addr(const char *host, int port, struct sockaddr_storage *ss,
			     socklen_t *len, struct se_err *err)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
	} else {
		return se_fail(err, SE_USAGE, NULL, "--host: \"%s\" is not an IPv4 or IPv6 address",
			       host);
	}
	return 0;
}

/* Starts libmicrohttpd behind the door: it listens on nothing (the door
 * owns the listening socket and hands checked connections over), and its
 * connection limit is above the door's, so that it never drops one the door
 * handed over. */
static struct MHD_Daemon *start_daemon(struct sim_server *s, unsigned limit)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	/* Not MHD_USE_TURBO: under it, libmicrohttpd (0.9.75) skips the
	 * shutdown(SHUT_WR) of a connection it closes, and a connection that a
	 * content reader closes (MHD_CONTENT_READER_END_WITH_ERROR: the
	 * truncate fault, a stream cut by a stop) goes to the "cleanup" event
	 * state and leaves the ready list without being cleaned up, so its
	 * socket stays open until some later event on it (the client giving
	 * up). A truncated stream must end at once, as a dropped connection. */
	/* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop drains events
	 * by calling epoll_wait again, with the blocking timeout, whenever one
	 * call returned a full batch (128), and only then takes the
	 * connections the door added (MHD_add_connection). When the wake-up of
	 * the last add was consumed in that full batch, the second wait
	 * sleeps with them pending: after a burst of new connections (a wrk
	 * run at C = 256, then one of shadoweval's), 1 run in 8 had 78 to 256
	 * requests unread, answered by no reply and a close when the header
	 * timeout (10 s) came. MHD_USE_POLL waits once a turn and takes added
	 * connections after it: no stall in 24 such runs, and the same
	 * requests/s against wrk (bench/sim-bench.sh). */
	if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
		flags |= MHD_USE_POLL;
	else
		flags |= MHD_USE_AUTO;
	if (s->o.verbose)
		flags |= MHD_USE_ERROR_LOG;
	unsigned threads = s->o.threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_THREAD_POOL_SIZE,
				threads > 1 ? threads : 0u, MHD_OPTION_CONNECTION_LIMIT, limit + 64,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SIM_CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_timeout_s,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
}

/* A server with its options, lock, condition, and the models reply; no
 * thread and no socket yet. NULL when the models reply cannot be built. */
static struct sim_server *server_new(const struct sim_profiles *p, const struct sim_items *items,
				     const struct sim_server_opts *o)
{
	struct sim_server *s = xcalloc(1, sizeof(*s));
	s->lfd = -1;
	s->p = p;
	s->items = items;
	s->o = *o;
	if (s->o.header_timeout_s == 0)
		s->o.header_timeout_s = SIM_HEADER_TIMEOUT_S;
	if (s->o.idle_timeout_s == 0)
		s->o.idle_timeout_s = SIM_IDLE_TIMEOUT_S;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	struct buf models;
	buf_init(&models);
	sim_models_body(&models, p);
	s->gens = sim_gens_new();
	s->models = MHD_create_response_from_buffer(models.len, models.data, MHD_RESPMEM_MUST_COPY);
	buf_free(&models);
	if (!s->models) {
		sim_server_stop(s);
		return NULL;
	}
	add_common_headers(s->models, "application/json", NULL);
	return s;
}

int sim_server_start(struct sim_server **out, const struct sim_profiles *p,
		     const struct sim_items *items, const struct sim_server_opts *o,
		     struct se_err *err)
{
	*out = NULL;
	const char *host = o->host ? o->host : "127.0.0.1";
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	if (parse_listen_addr(host, o->port, &ss, &sslen, err))
		return -1;
	struct sim_server *s = server_new(p, items, o);
	if (!s)
		return se_fail(err, SE_IO, NULL, "cannot create the models response");
	if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
		sim_server_stop(s);
		return se_fail(err, SE_IO, NULL, "cannot start the timer thread");
	}
	s->timer_started = true;
	s->lfd = listen_on((struct sockaddr *)&ss, sslen, &s->port);
	if (s->lfd < 0) {
		int e = errno;
		sim_server_stop(s);
		errno = e;
		return se_fail_errno(err, NULL, "cannot listen on %s port %d", host, o->port);
	}
	unsigned limit = connection_limit();
	s->d = start_daemon(s, limit);
	if (!s->d) {
		int e = errno;
		sim_server_stop(s);
		errno = e;
		return se_fail_errno(err, NULL, "cannot start the HTTP server");
	}
	struct sim_door_opts dopt = {.listen_fd = s->lfd,
				     .d = s->d,
				     .header_timeout_s = s->o.header_timeout_s,
				     .limit = limit,
				     .verbose = s->o.verbose};
	if (sim_door_start(&s->door, &dopt, err)) {
		sim_server_stop(s);
		return -1;
	}
	*out = s;
	return 0;
}

int sim_server_port(const struct sim_server *s)
{
	return s->port;
}

void sim_server_stop(struct sim_server *s)
{
	if (!s)
		return;
	sim_door_stop(s->door); /* no new connection reaches MHD after this */
	s->door = NULL;
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
	struct heap all = s->heap;
	heap_init(&s->heap);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->timer_started)
		pthread_join(s->timer, NULL);
	/* Every suspended connection is in the heap: wake them all, they see
	 * `stopping` and close. MHD must not be stopped with one suspended. */
	for (size_t i = 0; i < all.n; i++)
		MHD_resume_connection(all.v[i].data);
	heap_free(&all);
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->models)
		MHD_destroy_response(s->models);
	sim_gens_free(s->gens);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
