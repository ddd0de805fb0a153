/* test_engine_net.c: the engine's network lanes (engine/net.h) against a
 * real server on 127.0.0.1: every transfer comes back once with libcurl's
 * result, the transfers are shared between the lanes, a transfer's write
 * callback runs on its own lane's thread (lane 0 on the caller's), and a
 * transfer still running when the lanes stop is let go without a crash or
 * a leak (ASan). A reply that ended (eng_net_reply_ended) while its body
 * stays open comes back cut after the grace; one whose body ends at once
 * comes back from libcurl and leaves its connection for the next. A
 * keep-alive socket stays in its lane's epoll set between requests, and
 * leaves it when the server closes it. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "engine/net.h"
#include "support/rawsrv.h"

#define N_XFERS 40

struct xfer {
	struct eng_xfer x; /* handed to the lanes */
	int back;	   /* times it came back */
	pthread_t writer;  /* the thread its write callback ran on */
	bool wrote;
	char body[32];
	size_t len;
	struct eng_net *net; /* set: data: [DONE] ends the reply (on_sse) */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *t = ud;
	size_t n = size * nmemb;
	t->writer = pthread_self();
	t->wrote = true;
	size_t room = sizeof(t->body) - 1 - t->len;
	memcpy(t->body + t->len, p, n < room ? n : room);
	t->len += n < room ? n : room;
	return n;
}

static void answer(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)ctx;
	char body[32];
	int n = snprintf(body, sizeof(body), "conn %d", conn);
	rawsrv_reply(fd, 200, "Content-Type: text/plain\r\n", body, (size_t)n);
}

static CURL *easy_to(const char *url, struct xfer *t)
{
	CURL *h = curl_easy_init();
	cr_assert_not_null(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	t->x.easy = h;
	return h;
}

Test(engine_net, every_transfer_comes_back_once_from_the_lane_that_ran_it, .timeout = 60)
{
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, answer, NULL, 50), 0);
	struct eng_net net;
	struct se_err err;
	cr_assert_eq(eng_net_open(&net, 2, 64, 0, &err), 0, "%s", err.msg);
	static struct xfer t[N_XFERS];
	memset(t, 0, sizeof(t));
	for (int i = 0; i < N_XFERS; i++) {
		easy_to(srv.base_url, &t[i]);
		eng_net_add(&net, &t[i].x);
	}
	eng_net_kick(&net);
	int back = 0;
	while (back < N_XFERS) {
		struct curl_waitfd none[1];
		cr_assert_eq(eng_net_wait(&net, none, 0, 1000, &err), 0, "%s", err.msg);
		for (struct eng_xfer *x = eng_net_take(&net); x; x = x->next) {
			struct xfer *tx = (struct xfer *)x;
			tx->back++;
			back++;
		}
	}
	int on_lane[2] = {0, 0};
	for (int i = 0; i < N_XFERS; i++) {
		cr_assert_eq(t[i].back, 1, "transfer %d came back %d times", i, t[i].back);
		cr_assert_eq(t[i].x.result, CURLE_OK, "transfer %d: %s", i,
			     curl_easy_strerror(t[i].x.result));
		long http = 0;
		curl_easy_getinfo(t[i].x.easy, CURLINFO_RESPONSE_CODE, &http);
		cr_assert_eq(http, 200);
		t[i].body[t[i].len] = '\0';
		cr_assert(strncmp(t[i].body, "conn ", 5) == 0, "transfer %d read \"%s\"", i,
			  t[i].body);
		cr_assert(t[i].x.lane == 0 || t[i].x.lane == 1);
		on_lane[t[i].x.lane]++;
		/* lane 0 runs inside eng_net_wait, on this thread; lane 1 has its own */
		cr_assert(t[i].wrote);
		if (t[i].x.lane == 0)
			cr_assert(pthread_equal(t[i].writer, pthread_self()),
				  "lane 0's callback ran on another thread");
		else
			cr_assert(!pthread_equal(t[i].writer, pthread_self()),
				  "lane 1's callback ran on the caller's thread");
	}
	/* added together, the transfers are split evenly */
	cr_assert_eq(on_lane[0], N_XFERS / 2);
	cr_assert_eq(on_lane[1], N_XFERS / 2);
	eng_net_free(&net);
	for (int i = 0; i < N_XFERS; i++)
		curl_easy_cleanup(t[i].x.easy);
	rawsrv_stop(&srv);
	curl_global_cleanup();
}

/* The server tells the test it has the request (one byte on a pipe), then
 * never answers (rawsrv's alarm ends it). */
static void hold(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)fd, (void)req, (void)len, (void)conn;
	int *pipe_w = ctx;
	if (write(*pipe_w, "r", 1) == 1)
		pause();
}

Test(engine_net, a_transfer_running_when_the_lanes_stop_is_let_go, .timeout = 60)
{
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	int got[2];
	cr_assert_eq(pipe(got), 0);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, hold, &got[1], 30), 0);
	struct eng_net net;
	struct se_err err;
	cr_assert_eq(eng_net_open(&net, 2, 8, 0, &err), 0, "%s", err.msg);
	static struct xfer t[2];
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 2; i++) {
		easy_to(srv.base_url, &t[i]);
		eng_net_add(&net, &t[i].x);
	}
	eng_net_kick(&net);
	/* lane 0 runs only inside eng_net_wait: turn it until the server has
	 * both requests */
	int have = 0;
	while (have < 2) {
		struct curl_waitfd fds[1] = {{.fd = got[0], .events = CURL_WAIT_POLLIN}};
		cr_assert_eq(eng_net_wait(&net, fds, 1, 1000, &err), 0, "%s", err.msg);
		char c;
		if (fds[0].revents && read(got[0], &c, 1) == 1)
			have++;
	}
	cr_assert_null(eng_net_take(&net), "nothing was answered");
	eng_net_stop(&net);
	eng_net_stop(&net); /* idempotent */
	cr_assert_null(eng_net_take(&net), "a stopped lane hands nothing back");
	for (int i = 0; i < 2; i++) {
		eng_net_forget(&net, &t[i].x);
		curl_easy_cleanup(t[i].x.easy);
	}
	eng_net_free(&net);
	rawsrv_stop(&srv);
	close(got[0]);
	close(got[1]);
	curl_global_cleanup();
}

/* ---- a reply that ended while its body stays open ------------------------ */

#define SSE_HEAD                                                                                   \
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
#define DONE_CHUNK "e\r\ndata: [DONE]\n\n\r\n" /* 14 bytes of body */
#define LAST_CHUNK "0\r\n\r\n"

/* on_body, and the reply ends when its [DONE] came, as engine.c's on_write */
static size_t on_sse(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *t = ud;
	size_t n = on_body(p, size, nmemb, ud);
	t->body[t->len] = '\0';
	if (strstr(t->body, "[DONE]"))
		eng_net_reply_ended(t->net, &t->x);
	return n;
}

/* The whole reply, then the body held open (rawsrv's alarm ends it). */
static void done_then_hold(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)conn, (void)ctx;
	if (rawsrv_write(fd, SSE_HEAD DONE_CHUNK, strlen(SSE_HEAD DONE_CHUNK)) == 0)
		pause();
}

/* The whole reply and the body's end, then the next request on the same
 * connection (keep-alive), until the client closes it. */
static void done_keepalive(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)conn, (void)ctx;
	static const char reply[] = SSE_HEAD DONE_CHUNK LAST_CHUNK;
	for (int k = 0; k < 8; k++) {
		if (rawsrv_write(fd, reply, strlen(reply)))
			return;
		char head[4096];
		size_t got = 0;
		while (got < sizeof(head) - 1) { /* the next GET: headers only */
			ssize_t r = read(fd, head + got, sizeof(head) - 1 - got);
			if (r <= 0)
				return;
			got += (size_t)r;
			head[got] = '\0';
			if (strstr(head, "\r\n\r\n"))
				break;
		}
	}
}

static void sse_to(const char *url, struct xfer *t, struct eng_net *net)
{
	CURL *h = easy_to(url, t);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_sse);
	t->net = net;
}

/* Turns the lanes until n transfers came back; each comes back once. */
static void take_back(struct eng_net *net, int n)
{
	struct se_err err;
	int back = 0;
	while (back < n) {
		struct curl_waitfd none[1];
		cr_assert_eq(eng_net_wait(net, none, 0, 1000, &err), 0, "%s", err.msg);
		for (struct eng_xfer *x = eng_net_take(net); x; x = x->next) {
			struct xfer *tx = (struct xfer *)x;
			tx->back++;
			back++;
		}
	}
}

Test(engine_net, a_body_held_open_after_the_reply_ended_is_cut_after_the_grace, .timeout = 60)
{
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, done_then_hold, NULL, 50), 0);
	struct eng_net net;
	struct se_err err;
	cr_assert_eq(eng_net_open(&net, 2, 8, 0, &err), 0, "%s", err.msg);
	static struct xfer t[2]; /* one on each lane */
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 2; i++) {
		sse_to(srv.base_url, &t[i], &net);
		eng_net_add(&net, &t[i].x);
	}
	eng_net_kick(&net);
	take_back(&net, 2);
	double now = clock_now_ms();
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(t[i].back, 1);
		cr_assert_eq(t[i].x.lane, i);
		/* not libcurl's timeout (20 s): the lane's cut, a complete reply */
		cr_assert(t[i].x.cut, "transfer %d was not cut", i);
		cr_assert_eq(t[i].x.result, CURLE_OK, "%s", curl_easy_strerror(t[i].x.result));
		cr_assert(strstr(t[i].body, "data: [DONE]"), "read \"%s\"", t[i].body);
		/* never before the grace (the lower bound is the lane's rule) */
		cr_assert_geq(now - t[i].x.ended_at, ENG_NET_END_GRACE_MS);
	}
	eng_net_free(&net);
	for (int i = 0; i < 2; i++)
		curl_easy_cleanup(t[i].x.easy);
	rawsrv_stop(&srv);
	curl_global_cleanup();
}

Test(engine_net, a_body_that_ends_with_its_reply_keeps_the_connection, .timeout = 60)
{
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, done_keepalive, NULL, 50), 0);
	struct eng_net net;
	struct se_err err;
	cr_assert_eq(eng_net_open(&net, 1, 8, 0, &err), 0, "%s", err.msg);
	static struct xfer t[3];
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 3; i++) { /* one after the other, on one multi handle */
		sse_to(srv.base_url, &t[i], &net);
		eng_net_add(&net, &t[i].x);
		eng_net_kick(&net);
		take_back(&net, 1);
		cr_assert_eq(t[i].back, 1);
		cr_assert_not(t[i].x.cut, "transfer %d was cut", i);
		cr_assert_not(t[i].x.ended, "transfer %d is still in the ended list", i);
		cr_assert_eq(t[i].x.result, CURLE_OK, "%s", curl_easy_strerror(t[i].x.result));
		cr_assert(strstr(t[i].body, "data: [DONE]"), "read \"%s\"", t[i].body);
		long opened = -1;
		curl_easy_getinfo(t[i].x.easy, CURLINFO_NUM_CONNECTS, &opened);
		cr_assert_eq(opened, i == 0 ? 1 : 0, "transfer %d opened %ld connections", i,
			     opened);
	}
	eng_net_free(&net);
	for (int i = 0; i < 3; i++)
		curl_easy_cleanup(t[i].x.easy);
	rawsrv_stop(&srv);
	curl_global_cleanup();
}

/* A keep-alive reply (no "Connection: close"), then the connection closed
 * by the server while the client keeps it in its pool. */
static void answer_then_close(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)conn, (void)ctx;
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				    "Content-Length: 2\r\n\r\nok";
	rawsrv_write(fd, reply, strlen(reply));
}

Test(engine_net, an_idle_socket_stays_watched_until_the_server_closes_it, .timeout = 60)
{
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, answer_then_close, NULL, 50), 0);
	struct eng_net net;
	struct se_err err;
	cr_assert_eq(eng_net_open(&net, 1, 8, 0, &err), 0, "%s", err.msg);
	const struct eng_lane *l = &net.lanes[0];
	static struct xfer t[2];
	memset(t, 0, sizeof(t));
	easy_to(srv.base_url, &t[0]);
	eng_net_add(&net, &t[0].x);
	eng_net_kick(&net);
	take_back(&net, 1);
	cr_assert_eq(t[0].x.result, CURLE_OK, "%s", curl_easy_strerror(t[0].x.result));
	/* back in libcurl's pool, the one connection stays in the lane's set,
	 * idle (0x40), its own (0x20): no epoll_ctl for the next request on it */
	size_t s = l->n_fd_state, n_idle = 0;
	for (size_t fd = 0; fd < l->n_fd_state; fd++)
		if (l->fd_state[fd] & 0x40) {
			s = fd;
			n_idle++;
		}
	cr_assert_eq(n_idle, 1, "%zu idle sockets", n_idle);
	cr_assert_eq(l->fd_state[s] & 0xe0, 0xe0, "state %#x", l->fd_state[s]);
	/* the server closes it: the lane takes it out of its set (the event
	 * is the close; bounded to 10 s of turns) */
	for (int k = 0; k < 100 && (l->fd_state[s] & 0x80); k++) {
		struct curl_waitfd none[1];
		cr_assert_eq(eng_net_wait(&net, none, 0, 100, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(l->fd_state[s] & 0x80, 0, "the closed idle socket is still watched");
	/* and the next request gets a new connection */
	easy_to(srv.base_url, &t[1]);
	eng_net_add(&net, &t[1].x);
	eng_net_kick(&net);
	take_back(&net, 1);
	cr_assert_eq(t[1].x.result, CURLE_OK, "%s", curl_easy_strerror(t[1].x.result));
	long opened = -1;
	curl_easy_getinfo(t[1].x.easy, CURLINFO_NUM_CONNECTS, &opened);
	cr_assert_eq(opened, 1);
	eng_net_free(&net);
	for (int i = 0; i < 2; i++)
		curl_easy_cleanup(t[i].x.easy);
	rawsrv_stop(&srv);
	curl_global_cleanup();
}
