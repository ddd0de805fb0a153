/* curl-floor.c: the libcurl floor of bench/cpu.sh (issue 11 goal 3), a bare load client.
 *
 * It sends N POST requests (the body and Content-Type of cpu.sh's wrk script)
 * to one URL with C in flight, in shadoweval's network structure and no
 * shadoweval logic: two lanes (threads: the main one and one more, as in
 * src/engine/net.c), each with its own multi handle driven by epoll and
 * curl_multi_socket_action (CURLMOPT_SOCKETFUNCTION and TIMERFUNCTION), C/2
 * transfers in flight on each. An easy handle that finishes is removed and
 * added again (options and the lane's connections kept) while requests are
 * left: the lanes draw them from one shared count, so the faster lane sends
 * more, as shadoweval's least-loaded lane gets the next transfer. The
 * write callback only counts bytes; a transfer fails when libcurl fails it
 * or its HTTP status is not 200.
 *
 * Its per-transfer options are the same as those of job_start in
 * src/engine/engine.c over plain http (POSTFIELDS, HTTPHEADER with
 * "Content-Type: application/json" and "Expect:", TIMEOUT_MS, CONNECTTIMEOUT_MS,
 * NOSIGNAL, HTTP_VERSION 2TLS, PIPEWAIT 0, TCP_KEEPALIVE, ACCEPT_ENCODING ""),
 * and so are the multi options of eng_net_open (PIPELINING multiplex,
 * MAXCONNECTS C + 16). They are set once per handle rather than on every
 * start, and the X-Shadoweval-Attempt header is not sent.
 *
 * usage: curl-floor URL N C
 * prints: requests N failures F wall_s S bytes B (exit 1 when F > 0 or
 * fewer than N were done)
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LANES 2
#define EPOLL_BATCH 256
#define TIMEOUT_MS 60000L /* bench_eval's timeout_s: 60 */
#define MAX_REPORTED 5	  /* failures printed per lane */

static const char BODY[] = "{\"model\":\"bench/model\",\"messages\":[{\"role\":\"user\","
			   "\"content\":\"What is 7 plus 1?\"}],\"max_tokens\":16}";

static atomic_long next_request; /* requests claimed by the lanes so far */
static long n_requests;

struct lane {
	CURLM *multi;
	int epfd;
	double deadline; /* ms on the monotonic clock; -1: no timer */
	long done;
	long failures;
	long in_flight;
	int conc;
	uint64_t bytes;
	const char *url;
	struct curl_slist *headers;
	CURL **easy;
	int err; /* set when the lane could not start */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
	(void)data;
	struct lane *l = userp;
	l->bytes += size * n;
	return size * n;
}

/* libcurl says which sockets it waits on, and for what (as net.c's on_socket;
 * socketp is `void *` by libcurl's signature, only read here). */
/* cppcheck-suppress constParameter */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	struct lane *l = userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	struct epoll_event ev = {.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
					   ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u),
				 .data.fd = s};
	int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, s, &ev) != 0)
		epoll_ctl(l->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
	if (!socketp)
		curl_multi_assign(l->multi, s, l);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct lane *l = userp;
	l->deadline = timeout_ms < 0 ? -1 : now_ms() + (double)timeout_ms;
	return 0;
}

static CURL *easy_new(struct lane *l)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, l->url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, BODY);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(sizeof(BODY) - 1));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, l);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, 0L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	return h;
}

/* The next request on h, when one is left. */
static void start_one(struct lane *l, CURL *h)
{
	if (atomic_fetch_add(&next_request, 1) >= n_requests)
		return;
	if (curl_multi_add_handle(l->multi, h) != CURLM_OK) {
		if (l->failures++ < MAX_REPORTED)
			fprintf(stderr, "curl-floor: curl_multi_add_handle failed\n");
		l->done++;
		return;
	}
	l->in_flight++;
}

/* Finished transfers: counted, checked, and their handles added again. */
static void collect(struct lane *l)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(l->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *h = m->easy_handle;
		CURLcode rc = m->data.result;
		long code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_multi_remove_handle(l->multi, h);
		l->in_flight--;
		l->done++;
		if (rc != CURLE_OK || code != 200) {
			if (l->failures++ < MAX_REPORTED)
				fprintf(stderr, "curl-floor: request failed: %s, HTTP %ld\n",
					curl_easy_strerror(rc), code);
		}
		start_one(l, h);
	}
}

static void *lane_run(void *arg)
{
	struct lane *l = arg;
	for (int i = 0; i < l->conc; i++)
		start_one(l, l->easy[i]);
	struct epoll_event ev[EPOLL_BATCH];
	while (l->in_flight > 0) {
		int wait = 1000;
		if (l->deadline >= 0) {
			double d = l->deadline - now_ms();
			wait = d <= 0 ? 0 : d < wait ? (int)d + 1 : wait;
		}
		int n = epoll_wait(l->epfd, ev, EPOLL_BATCH, wait);
		if (n < 0 && errno != EINTR) {
			perror("curl-floor: epoll_wait");
			l->err = 1;
			break;
		}
		int running = 0;
		for (int i = 0; i < n; i++) {
			uint32_t e = ev[i].events;
			int mask = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) |
				   ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
				   ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
			curl_multi_socket_action(l->multi, ev[i].data.fd, mask, &running);
		}
		if (l->deadline >= 0 && now_ms() >= l->deadline) {
			l->deadline = -1;
			curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		collect(l);
	}
	return NULL;
}

static int lane_open(struct lane *l, const char *url, struct curl_slist *headers, int conc,
		     int all_conc)
{
	memset(l, 0, sizeof(*l));
	l->url = url;
	l->headers = headers;
	l->conc = conc;
	l->deadline = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->multi = curl_multi_init();
	l->easy = calloc(conc > 0 ? (size_t)conc : 1, sizeof(*l->easy));
	if (l->epfd < 0 || !l->multi || !l->easy)
		return -1;
	curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)all_conc + 16);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	for (int i = 0; i < conc; i++)
		if (!(l->easy[i] = easy_new(l)))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: curl-floor URL N C\n");
		return 2;
	}
	const char *url = argv[1];
	long n = strtol(argv[2], NULL, 10);
	long c = strtol(argv[3], NULL, 10);
	if (n < 1 || c < LANES || c > 100000) {
		fprintf(stderr, "curl-floor: N is at least 1, C from %d to 100000\n", LANES);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "curl-floor: curl_global_init failed\n");
		return 1;
	}
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	struct lane lanes[LANES];
	n_requests = n;
	atomic_init(&next_request, 0);
	for (int i = 0; i < LANES; i++) {
		int conc = (int)(c / LANES + (i == 0 ? c % LANES : 0)); /* lane 0: C's odd one */
		if (lane_open(&lanes[i], url, headers, conc, (int)c)) {
			fprintf(stderr, "curl-floor: cannot set up lane %d\n", i);
			return 1;
		}
	}
	double t0 = now_ms();
	pthread_t th[LANES];
	for (int i = 1; i < LANES; i++) {
		int pe = pthread_create(&th[i], NULL, lane_run, &lanes[i]);
		if (pe) {
			fprintf(stderr, "curl-floor: pthread_create: %s\n", strerror(pe));
			return 1;
		}
	}
	lane_run(&lanes[0]); /* the main thread runs lane 0, as shadoweval's loop does */
	for (int i = 1; i < LANES; i++)
		pthread_join(th[i], NULL);
	double wall = (now_ms() - t0) / 1e3;
	long done = 0, failures = 0;
	uint64_t bytes = 0;
	int err = 0;
	for (int i = 0; i < LANES; i++) {
		struct lane *l = &lanes[i];
		done += l->done;
		failures += l->failures;
		bytes += l->bytes;
		err |= l->err;
		for (int k = 0; k < l->conc; k++) {
			curl_multi_remove_handle(l->multi, l->easy[k]);
			curl_easy_cleanup(l->easy[k]);
		}
		free(l->easy);
		curl_multi_cleanup(l->multi);
		close(l->epfd);
	}
	curl_slist_free_all(headers);
	curl_global_cleanup();
	printf("requests %ld failures %ld wall_s %.3f bytes %llu\n", done, failures, wall,
	       (unsigned long long)bytes);
	return failures > 0 || err || done != n ? 1 : 0;
}
