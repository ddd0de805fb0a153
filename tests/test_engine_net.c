/* test_engine_net.c: the engine's network lanes (engine/net.h) against a
 * real server on 127.0.0.1: every transfer comes back once with libcurl's
 * result, the transfers are shared between the lanes, a transfer's write
 * callback runs on its own lane's thread (lane 0 on the caller's), and a
 * transfer still running when the lanes stop is let go without a crash or
 * a leak (ASan). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
