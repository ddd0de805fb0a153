/* net.c: the engine's network threads and their two hand-overs (see net.h). */
#include "engine/net.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "core/wakefd.h"

/* In a lane's epoll set, an fd of ours (the wake-up eventfd, the loop's
 * own fds) is tagged; libcurl's sockets are not. */
#define OWN_FD (UINT64_C(1) << 32)
#define EPOLL_BATCH 256
#define FD_STATE_MAX ((size_t)1 << 20) /* fds a lane keeps a byte for */

/* A lane's finished transfers go back to the loop in one piece: one
 * eventfd write when the list was empty (the loop takes the whole list on
 * each wake-up, so a non-empty list has a wake-up pending already). */
static void hand_back(struct eng_net *net, struct eng_xfer *head, struct eng_xfer *tail)
{
	pthread_mutex_lock(&net->mu);
	bool was_empty = !net->out_head;
	if (net->out_tail)
		net->out_tail->next = head;
	else
		net->out_head = head;
	net->out_tail = tail;
	if (was_empty)
		wakefd_signal(net->efd);
	pthread_mutex_unlock(&net->mu);
}

/* The first reply over HTTP/1.x lifts the HTTP/2 connection cap on every
 * lane (one request per connection there). */
static void cap_follow(struct eng_lane *l, CURL *done)
{
	long v = 0;
	if (done && curl_easy_getinfo(done, CURLINFO_HTTP_VERSION, &v) == CURLE_OK &&
	    v != CURL_HTTP_VERSION_2_0 && v != 0)
		atomic_store(&l->net->h2_lifted, true);
	if (atomic_load(&l->net->h2_lifted)) {
		curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
		l->capped = false;
	}
}

/* Appends x to a list of finished transfers. */
static void done_append(struct eng_xfer *x, struct eng_xfer **done, struct eng_xfer **done_tail)
{
	x->next = NULL;
	if (*done_tail)
		(*done_tail)->next = x;
	else
		*done = x;
	*done_tail = x;
}

/* Takes x off its lane's list of ended replies. */
static void ended_unlink(struct eng_lane *l, struct eng_xfer *x)
{
	if (x->ended_prev)
		x->ended_prev->ended_next = x->ended_next;
	else
		l->ended_head = x->ended_next;
	if (x->ended_next)
		x->ended_next->ended_prev = x->ended_prev;
	else
		l->ended_tail = x->ended_prev;
	x->ended_prev = x->ended_next = NULL;
	x->ended = false;
}

/* One turn's transfers handed over by the loop join the multi handle; one
 * that cannot is handed back at once as failed (the engine retries it). */
static void add_given(struct eng_lane *l, struct eng_xfer *x, struct eng_xfer **done,
		      struct eng_xfer **done_tail)
{
	while (x) {
		struct eng_xfer *nx = x->next;
		x->next = NULL;
		if (curl_multi_add_handle(l->multi, x->easy) != CURLM_OK) {
			x->result = CURLE_FAILED_INIT;
			done_append(x, done, done_tail);
		}
		x = nx;
	}
}

/* Every finished transfer of the lane, taken off its multi handle and
 * appended to done. */
static void lane_collect(struct eng_lane *l, struct eng_xfer **done, struct eng_xfer **done_tail)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(l->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *h = m->easy_handle;
		CURLcode rc = m->data.result; /* m is invalid once h is removed */
		struct eng_xfer *x = NULL;
		curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
		if (l->capped)
			cap_follow(l, h);
		curl_multi_remove_handle(l->multi, h);
		if (!x)
			continue;
		if (x->ended) /* the body ended within the grace */
			ended_unlink(l, x);
		x->result = rc;
		done_append(x, done, done_tail);
	}
}

/* The deadline of the lane's first ended reply, -1 when none. */
static double ended_due(const struct eng_lane *l)
{
	return l->ended_head ? l->ended_head->ended_at + ENG_NET_END_GRACE_MS : -1;
}

/* Every transfer whose reply ended ENG_NET_END_GRACE_MS ago and whose body
 * is still open: taken off the multi handle (libcurl closes its HTTP/1.1
 * connection, resets its HTTP/2 stream) and appended to done as complete.
 * Only the list's head is looked at while it is due. */
static void lane_cut_ended(struct eng_lane *l, struct eng_xfer **done, struct eng_xfer **done_tail)
{
	if (!l->ended_head)
		return;
	double now = clock_now_ms();
	while (l->ended_head && ended_due(l) <= now) {
		struct eng_xfer *x = l->ended_head;
		ended_unlink(l, x);
		if (l->capped)
			cap_follow(l, x->easy);
		curl_multi_remove_handle(l->multi, x->easy);
		x->result = CURLE_OK;
		x->cut = true;
		done_append(x, done, done_tail);
	}
}

/* ---- libcurl's sockets in a lane's epoll set (its multi_socket API) ---- */

/* A lane's record of an fd, one byte (fd_state): */
#define FD_IN 0x01     /* registered for reading */
#define FD_OUT 0x02    /* registered for writing */
#define FD_IN_SET 0x80 /* in the epoll set */
#define FD_IDLE 0x40   /* in the set, but libcurl said CURL_POLL_REMOVE */
#define FD_OURS 0x20   /* opened by on_open: its close comes to on_close */
#define FD_WANT (FD_IN | FD_OUT)

/* Every connection libcurl opens on a lane is made here, so that its
 * close (on_close) is seen: the lane then knows the fd left the epoll set. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)purpose;
	struct eng_lane *l = clientp;
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (s >= 0 && (size_t)s < l->n_fd_state)
		l->fd_state[s] = FD_OURS; /* a new file: in no epoll set */
	return s < 0 ? CURL_SOCKET_BAD : s;
}

static int on_close(void *clientp, curl_socket_t s)
{
	struct eng_lane *l = clientp;
	if (s >= 0 && (size_t)s < l->n_fd_state)
		l->fd_state[s] = 0; /* the kernel takes a closed file out of the set */
	return close(s);
}

static int epoll_set(struct eng_lane *l, curl_socket_t s, int op, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(uint32_t)s};
	if (epoll_ctl(l->epfd, op, s, &ev) == 0)
		return 0;
	op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	return epoll_ctl(l->epfd, op, s, &ev);
}

/* libcurl says which sockets it waits on, and for what. A keep-alive
 * connection goes back to libcurl's pool after each reply (REMOVE) and is
 * watched again for the next request on it: a socket of ours (its close
 * seen by on_close) stays in the epoll set in between, marked idle, and
 * the next request that wants what it is registered for costs no system
 * call (two epoll_ctl a request before: 37,000 for 20,000 requests). An
 * idle socket that becomes readable (the server closed it) leaves the set
 * in lane_wait_sockets; libcurl finds it dead at its next use. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	struct eng_lane *l = userp;
	bool known = s >= 0 && (size_t)s < l->n_fd_state;
	unsigned char st = known ? l->fd_state[s] : 0;
	if (what == CURL_POLL_REMOVE) {
		if ((st & FD_OURS) && (st & FD_IN_SET) && !(st & FD_OUT)) {
			l->fd_state[s] = st | FD_IDLE;
			return 0;
		}
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
		if (known)
			l->fd_state[s] = st & FD_OURS;
		return 0;
	}
	unsigned char want =
	    ((what & CURL_POLL_IN) ? FD_IN : 0) | ((what & CURL_POLL_OUT) ? FD_OUT : 0);
	if (!socketp)
		curl_multi_assign(l->multi, s, l); /* known from now on */
	if ((st & FD_OURS) && (st & FD_IN_SET) && (st & FD_WANT) == want) {
		l->fd_state[s] = st & (unsigned char)~FD_IDLE;
		return 0;
	}
	/* not ours (a resolver's pipe): its close is not seen, so the set is
	 * asked, MOD falling back to ADD */
	int op = (st & FD_IN_SET) || socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	uint32_t events = ((want & FD_IN) ? EPOLLIN : 0u) | ((want & FD_OUT) ? EPOLLOUT : 0u);
	if (epoll_set(l, s, op, events) == 0 && known)
		l->fd_state[s] = (st & FD_OURS) | FD_IN_SET | want;
	return 0;
}

/* libcurl's one timer: when it must be called with CURL_SOCKET_TIMEOUT. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct eng_lane *l = userp;
	l->deadline = timeout_ms < 0 ? -1 : clock_now_ms() + (double)timeout_ms;
	return 0;
}

static int own_fd_add(struct eng_lane *l, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = OWN_FD | (uint32_t)fd};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* One wait of the lane: the sockets that are ready and libcurl's timer
 * drive libcurl; the lane's own fds that are ready get their revents (the
 * wake-up eventfd is drained). */
static void lane_wait_sockets(struct eng_lane *l, int max_ms, struct curl_waitfd *own,
			      unsigned n_own)
{
	int wait = max_ms;
	double due = ended_due(l);
	if (l->deadline >= 0 && (due < 0 || l->deadline < due))
		due = l->deadline;
	if (due >= 0) {
		double d = ceil(due - clock_now_ms());
		wait = d <= 0 ? 0 : d < wait ? (int)d : wait;
	}
	struct epoll_event ev[EPOLL_BATCH];
	int n = epoll_wait(l->epfd, ev, EPOLL_BATCH, wait);
	int running = 0;
	for (int i = 0; i < n; i++) {
		uint64_t u = ev[i].data.u64;
		int fd = (int)(uint32_t)u;
		if (u & OWN_FD) {
			if (fd == l->wake)
				wakefd_drain(fd);
			for (unsigned k = 0; k < n_own; k++)
				if (own[k].fd == fd)
					own[k].revents |= CURL_WAIT_POLLIN;
			continue;
		}
		if ((size_t)fd < l->n_fd_state && (l->fd_state[fd] & FD_IDLE)) {
			/* no transfer waits on it: the server closed it, or sent
			 * what no request asked for */
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->fd_state[fd] &= FD_OURS;
			continue;
		}
		int mask = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			   ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			   ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(l->multi, fd, mask, &running);
	}
	if (l->deadline >= 0 && clock_now_ms() >= l->deadline) {
		l->deadline = -1; /* on_timer sets the next one */
		curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

static void *lane_main(void *arg)
{
	struct eng_lane *l = arg;
	/* stop signals (SIGINT...) go to the loop's thread, which handles them */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&l->mu);
		struct eng_xfer *given = l->in_head;
		l->in_head = l->in_tail = NULL;
		bool closing = l->closing;
		pthread_mutex_unlock(&l->mu);
		if (closing)
			break; /* what was given and not added is forgotten by the loop */
		struct eng_xfer *done = NULL, *done_tail = NULL;
		add_given(l, given, &done, &done_tail);
		if (l->capped)
			cap_follow(l, NULL);
		/* libcurl's own timeouts bound the wait; a kick or a stop wakes it */
		lane_wait_sockets(l, 1000, NULL, 0);
		lane_collect(l, &done, &done_tail);
		lane_cut_ended(l, &done, &done_tail);
		if (done)
			hand_back(l->net, done, done_tail);
	}
	return NULL;
}

/* A wake-up for the lane's thread: a kick or a stop. */
static void lane_wake(struct eng_lane *l)
{
	wakefd_signal(l->wake);
}

/* A lane's epoll set, libcurl's socket and timer callbacks, and (for a lane
 * with a thread of its own) a wake-up eventfd in the set. */
static int lane_sockets(struct eng_lane *l, bool own_thread, struct se_err *err)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return se_fail_errno(err, NULL, "cannot create a network lane's epoll set");
	/* one byte an fd the process may open (an fd past it, after a later
	 * rise of the limit, is asked of the set each time) */
	struct rlimit rl;
	rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	l->n_fd_state = n == RLIM_INFINITY || n > FD_STATE_MAX ? FD_STATE_MAX : (size_t)n;
	l->fd_state = xcalloc(l->n_fd_state, 1);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	if (!own_thread)
		return 0;
	l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake < 0 || own_fd_add(l, l->wake))
		return se_fail_errno(err, NULL, "cannot create a network lane's wake-up");
	return 0;
}

int eng_net_open(struct eng_net *net, size_t n, long maxconnects, long h2_host_cap,
		 struct se_err *err)
{
	memset(net, 0, sizeof(*net));
	net->efd = -1;
	if (n < 1)
		n = 1;
	if (n > ENG_NET_MAX_LANES)
		n = ENG_NET_MAX_LANES;
	pthread_mutex_init(&net->mu, NULL);
	atomic_init(&net->h2_lifted, false);
	net->open = true;
	net->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (net->efd < 0)
		return se_fail_errno(err, NULL, "cannot create the network threads' eventfd");
	for (size_t i = 0; i < n; i++) {
		struct eng_lane *l = &net->lanes[i];
		l->net = net;
		l->epfd = l->wake = -1;
		l->deadline = -1;
		pthread_mutex_init(&l->mu, NULL);
		net->n++;
		l->multi = curl_multi_init();
		if (!l->multi)
			return se_fail(err, SE_IO, NULL, "curl_multi_init failed");
		curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
		curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, maxconnects);
		if (h2_host_cap > 0) {
			curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h2_host_cap);
			l->capped = true;
		}
		if (lane_sockets(l, i > 0, err))
			return -1;
		if (i == 0)
			continue; /* the loop's own thread runs lane 0 (eng_net_wait) */
		int pe = pthread_create(&l->th, NULL, lane_main, l);
		if (pe)
			return se_fail(err, SE_IO, NULL, "cannot start a network thread: %s",
				       strerror(pe));
		l->started = true;
	}
	return 0;
}

void eng_net_add(struct eng_net *net, struct eng_xfer *x)
{
	size_t best = 0;
	for (size_t i = 1; i < net->n; i++)
		if (net->lanes[i].load < net->lanes[best].load)
			best = i;
	struct eng_lane *l = &net->lanes[best];
	x->lane = (int)best;
	x->next = NULL;
	x->result = CURLE_OK;
	x->ended_prev = x->ended_next = NULL;
	x->ended = x->cut = false;
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	/* a connection keeps the callbacks of the transfer that opened it, so
	 * its close reaches the lane whose pool holds it */
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, l);
	curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETDATA, l);
	if (l->st_tail)
		l->st_tail->next = x;
	else
		l->st_head = x;
	l->st_tail = x;
	l->load++;
}

void eng_net_reply_ended(struct eng_net *net, struct eng_xfer *x)
{
	if (x->ended || x->lane < 0 || (size_t)x->lane >= net->n)
		return;
	struct eng_lane *l = &net->lanes[x->lane];
	x->ended_at = clock_now_ms();
	x->ended = true;
	x->ended_next = NULL;
	x->ended_prev = l->ended_tail;
	if (l->ended_tail)
		l->ended_tail->ended_next = x;
	else
		l->ended_head = x;
	l->ended_tail = x;
}

void eng_net_kick(struct eng_net *net)
{
	for (size_t i = 0; i < net->n; i++) {
		struct eng_lane *l = &net->lanes[i];
		if (!l->st_head)
			continue;
		if (i == 0) {
			add_given(l, l->st_head, &net->own_head, &net->own_tail);
			l->st_head = l->st_tail = NULL;
			continue;
		}
		pthread_mutex_lock(&l->mu);
		if (l->in_tail)
			l->in_tail->next = l->st_head;
		else
			l->in_head = l->st_head;
		l->in_tail = l->st_tail;
		pthread_mutex_unlock(&l->mu);
		l->st_head = l->st_tail = NULL;
		lane_wake(l);
	}
}

int eng_net_wait(struct eng_net *net, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms,
		 struct se_err *err)
{
	struct eng_lane *l = &net->lanes[0];
	struct curl_waitfd fds[ENG_NET_MAX_EXTRA + 1];
	if (n_extra > ENG_NET_MAX_EXTRA)
		n_extra = ENG_NET_MAX_EXTRA;
	memcpy(fds, extra, n_extra * sizeof(*fds));
	fds[n_extra] = (struct curl_waitfd){.fd = net->efd, .events = CURL_WAIT_POLLIN};
	for (unsigned i = 0; i <= n_extra; i++)
		fds[i].revents = 0;
	if (net->own_head)
		timeout_ms = 0;			  /* a kick failed some: they are due now */
	for (unsigned i = 0; i <= n_extra; i++) { /* the loop's fds join the set once */
		bool known = false;
		for (unsigned k = 0; k < l->n_own && !known; k++)
			known = l->own[k] == fds[i].fd;
		if (known || l->n_own == ENG_NET_MAX_EXTRA + 1)
			continue;
		if (own_fd_add(l, fds[i].fd))
			return se_fail_errno(err, NULL, "cannot watch fd %d", fds[i].fd);
		l->own[l->n_own++] = fds[i].fd;
	}
	if (l->capped)
		cap_follow(l, NULL);
	lane_wait_sockets(l, timeout_ms, fds, n_extra + 1);
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = fds[i].revents;
	lane_collect(l, &net->own_head, &net->own_tail);
	lane_cut_ended(l, &net->own_head, &net->own_tail);
	return 0;
}

struct eng_xfer *eng_net_take(struct eng_net *net)
{
	struct eng_xfer *x = net->own_head, *tail = net->own_tail;
	net->own_head = net->own_tail = NULL;
	if (net->n > 1) {
		wakefd_drain(net->efd); /* the list may be set without a wake-up */
		pthread_mutex_lock(&net->mu);
		if (tail)
			tail->next = net->out_head;
		else
			x = net->out_head;
		net->out_head = net->out_tail = NULL;
		pthread_mutex_unlock(&net->mu);
	}
	for (struct eng_xfer *p = x; p; p = p->next)
		net->lanes[p->lane].load--;
	return x;
}

void eng_net_stop(struct eng_net *net)
{
	for (size_t i = 0; i < net->n; i++) {
		struct eng_lane *l = &net->lanes[i];
		if (!l->started)
			continue;
		pthread_mutex_lock(&l->mu);
		l->closing = true;
		pthread_mutex_unlock(&l->mu);
		lane_wake(l);
		pthread_join(l->th, NULL);
		l->started = false;
	}
}

void eng_net_forget(struct eng_net *net, struct eng_xfer *x)
{
	/* one never added (the lane stopped first) is on no multi handle:
	 * libcurl then leaves it alone */
	if (x->lane >= 0 && (size_t)x->lane < net->n && net->lanes[x->lane].multi) {
		if (x->ended)
			ended_unlink(&net->lanes[x->lane], x);
		curl_multi_remove_handle(net->lanes[x->lane].multi, x->easy);
	}
}

void eng_net_free(struct eng_net *net)
{
	if (!net->open)
		return;
	eng_net_stop(net);
	for (size_t i = 0; i < net->n; i++) {
		struct eng_lane *l = &net->lanes[i];
		if (l->multi)
			curl_multi_cleanup(l->multi); /* closes its connections: on_close */
		free(l->fd_state);
		l->fd_state = NULL;
		l->n_fd_state = 0;
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wake >= 0)
			close(l->wake);
		pthread_mutex_destroy(&l->mu);
	}
	if (net->efd >= 0)
		close(net->efd);
	pthread_mutex_destroy(&net->mu);
	net->open = false;
}
