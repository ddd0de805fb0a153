/* door.c: shadowsim's front door: it accepts every connection itself, waits
 * (MSG_PEEK: nothing is consumed) until the request line is whole, and hands
 * a well-formed one to libmicrohttpd with MHD_add_connection. A malformed one
 * gets OpenRouter's error shape (400, or 505 for an HTTP version other than
 * 1.0 and 1.1) and is closed.
 *
 * Why: libmicrohttpd 0.9.75 closes a connection whose request line has no
 * space ("GARBAGE\r\n\r\n") without a word, and answers other malformed lines
 * with an HTML page; it has no option for either (MHD_OPTION_STRICT_FOR_CLIENT
 * only tunes header parsing; the client-discipline levels came later). A real
 * gateway answers 400, so the simulator must.
 *
 * Limits:
 * - only the first request line of a connection passes the door; the later
 *   requests of a kept-alive connection are read by libmicrohttpd alone;
 * - a connection must complete its request line within the header timeout
 *   of opening (else it is closed); the server's own timer then bounds the
 *   rest of the request from the same opening time (sim_door_opened_at);
 * - at most `limit` connections are open at once (waiting here plus handed
 *   over): past it the door stops accepting and new connections wait in the
 *   kernel's accept queue, first in, first out, as they did with
 *   libmicrohttpd's own listener.
 *
 * One thread, one epoll set: the listening socket, the connections waiting
 * for their request line, and an eventfd that wakes it for a freed slot or a
 * stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/wakefd.h"
#include "core/xalloc.h"
#include "sim/sim.h"

#define DOOR_LINE_MAX 8192     /* a longer request line is refused */
#define DOOR_RETRY_MS 100      /* after EMFILE, try accepting again this soon */
#define DOOR_OPENED_FDS 65536u /* opening times kept for fds below this */

/* A connection waiting for its request line, in deadline order. */
struct pend {
	struct pend *prev, *next;
	int fd;
	double deadline;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct sim_door {
	struct sim_door_opts o;
	int ep, wake;
	pthread_t th;
	bool started;
	struct pend *head, *tail;
	unsigned pending;	/* waiting here (door thread only) */
	unsigned handed;	/* handed to MHD and not yet closed (atomic) */
	bool listening;		/* the listening socket is in the epoll set */
	double retry_at;	/* accept again after EMFILE (0: not waiting) */
	double *opened;		/* monotonic ms each fd was accepted */
	volatile bool stopping; /* atomic */
};

/* ---- the request line ---- */

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int sim_request_line_check(const char *buf, size_t n, const char **why)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;
	*why = NULL;
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (i < n && (s[i] == '\r' || s[i] == '\n'))
		i++;
	const unsigned char *lf = i < n ? memchr(s + i, '\n', n - i) : NULL;
	if (!lf) {
		if (n - i >= DOOR_LINE_MAX) {
			*why = "Request line too long";
			return 400;
		}
		return 0;
	}
	size_t end = (size_t)(lf - s);
	if (end > i && s[end - 1] == '\r')
		end--;
	size_t m = i;
	while (m < end && tchar(s[m]))
		m++;
	if (m == i || m >= end || s[m] != ' ') {
		*why = "Malformed request line: expected METHOD SP TARGET SP HTTP-VERSION";
		return 400;
	}
	size_t t = m + 1, te = t;
	while (te < end && s[te] > ' ' && s[te] != 0x7f)
		te++;
	if (te == t || te >= end || s[te] != ' ') {
		*why = "Malformed request line: expected METHOD SP TARGET SP HTTP-VERSION";
		return 400;
	}
	const unsigned char *v = s + te + 1;
	size_t vl = end - (te + 1);
	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9') {
		*why = "Malformed request line: bad HTTP version";
		return 400;
	}
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
		*why = "HTTP version not supported";
		return 505;
	}
	return 1;
}

/* ---- connections ---- */

static void pend_unlink(struct sim_door *dr, struct pend *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		dr->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		dr->tail = p->prev;
	dr->pending--;
}

/* Removes p from the set and frees it, closing its socket unless kept. */
static void pend_drop(struct sim_door *dr, struct pend *p, bool close_fd)
{
	epoll_ctl(dr->ep, EPOLL_CTL_DEL, p->fd, NULL);
	pend_unlink(dr, p);
	if (close_fd)
		close(p->fd);
	free(p);
}

static unsigned open_count(struct sim_door *dr)
{
	return dr->pending + __atomic_load_n(&dr->handed, __ATOMIC_ACQUIRE);
}

/* Answers a malformed request line and closes the connection. */
static void refuse(struct sim_door *dr, struct pend *p, int status, const char *why)
{
	struct buf body, out;
	buf_init(&body);
	buf_init(&out);
	sim_error_body(&body, status, why, "invalid_request");
	buf_printf(&out,
		   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		   "Connection: close\r\n\r\n",
		   status, status == 505 ? "HTTP Version Not Supported" : "Bad Request", body.len);
	buf_append(&out, body.data, body.len);
	if (dr->o.verbose)
		fprintf(stderr, "shadowsim: refusing a request: %d %s\n", status, why);
	/* what the client sent is read first: closing with unread bytes would
	 * reset the connection and could lose the reply */
	char sink[4096];
	while (recv(p->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	ssize_t w = send(p->fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w; /* a small reply into an empty socket buffer; a gone client is fine */
	shutdown(p->fd, SHUT_WR);
	buf_free(&body);
	buf_free(&out);
	pend_drop(dr, p, true);
}

/* The request line of p may have arrived: hand p over, refuse it, or wait. */
static void examine(struct sim_door *dr, struct pend *p)
{
	char head[DOOR_LINE_MAX + 8];
	ssize_t n = recv(p->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) { /* the client left, or the socket failed */
		pend_drop(dr, p, true);
		return;
	}
	const char *why;
	int st = sim_request_line_check(head, (size_t)n, &why);
	if (st == 0)
		return;
	if (st != 1) {
		refuse(dr, p, st, why);
		return;
	}
	int fd = p->fd;
	struct sockaddr_storage addr = p->addr;
	socklen_t alen = p->addrlen;
	pend_drop(dr, p, false);
	__atomic_add_fetch(&dr->handed, 1, __ATOMIC_ACQ_REL);
	/* MHD closes fd itself when it cannot take it */
	if (MHD_add_connection(dr->o.d, fd, (struct sockaddr *)&addr, alen) != MHD_YES)
		__atomic_sub_fetch(&dr->handed, 1, __ATOMIC_ACQ_REL);
}

static void set_listening(struct sim_door *dr, bool on)
{
	if (on == dr->listening)
		return;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(dr->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, dr->o.listen_fd, &ev);
	dr->listening = on;
}

static void accept_all(struct sim_door *dr, double now)
{
	while (open_count(dr) < dr->o.limit) {
		struct pend *p = xcalloc(1, sizeof(*p));
		p->addrlen = sizeof(p->addr);
		p->fd = accept4(dr->o.listen_fd, (struct sockaddr *)&p->addr, &p->addrlen,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (p->fd < 0) {
			int e = errno;
			free(p);
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
				set_listening(dr, false); /* until a descriptor is free */
				dr->retry_at = now + DOOR_RETRY_MS;
			}
			return;
		}
		if ((unsigned)p->fd < DOOR_OPENED_FDS)
			__atomic_store(&dr->opened[p->fd], &now, __ATOMIC_RELEASE);
		p->deadline = now + (double)dr->o.header_timeout_s * 1000.0;
		p->prev = dr->tail;
		if (dr->tail)
			dr->tail->next = p;
		else
			dr->head = p;
		dr->tail = p;
		dr->pending++;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = p};
		epoll_ctl(dr->ep, EPOLL_CTL_ADD, p->fd, &ev);
		examine(dr, p); /* the request may be there already */
	}
	set_listening(dr, false); /* at the limit: the kernel queue holds the rest */
}

static void expire(struct sim_door *dr, double now)
{
	while (dr->head && dr->head->deadline <= now) {
		if (dr->o.verbose)
			fprintf(stderr,
				"shadowsim: closing a connection: no request line within %u s\n",
				dr->o.header_timeout_s);
		pend_drop(dr, dr->head, true);
	}
}

static void *door_main(void *arg)
{
	struct sim_door *dr = arg;
	struct epoll_event evs[64];
	while (!__atomic_load_n(&dr->stopping, __ATOMIC_ACQUIRE)) {
		double now = clock_now_ms();
		expire(dr, now);
		if (dr->retry_at && now >= dr->retry_at)
			dr->retry_at = 0;
		if (!dr->retry_at)
			set_listening(dr, open_count(dr) < dr->o.limit);
		double next = dr->head ? dr->head->deadline : -1;
		if (dr->retry_at && (next < 0 || dr->retry_at < next))
			next = dr->retry_at;
		int timeout = next < 0 ? -1 : (int)(next - now) + 1;
		int n = epoll_wait(dr->ep, evs, 64, timeout);
		now = clock_now_ms();
		for (int i = 0; i < n; i++) {
			struct pend *p = evs[i].data.ptr;
			if (p == NULL)
				accept_all(dr, now);
			else if (p != (struct pend *)dr) /* not the eventfd */
				examine(dr, p);
			else
				wakefd_drain(dr->wake);
		}
	}
	return NULL;
}

/* ---- start and stop ---- */

int sim_door_start(struct sim_door **out, const struct sim_door_opts *o, struct se_err *err)
{
	*out = NULL;
	struct sim_door *dr = xcalloc(1, sizeof(*dr));
	dr->o = *o;
	dr->opened = xcalloc(DOOR_OPENED_FDS, sizeof(*dr->opened));
	dr->ep = dr->wake = -1;
	dr->ep = epoll_create1(EPOLL_CLOEXEC);
	dr->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dr->ep < 0 || dr->wake < 0) {
		int e = errno;
		sim_door_stop(dr);
		errno = e;
		return se_fail_errno(err, NULL, "cannot set up the connection door");
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = dr};
	epoll_ctl(dr->ep, EPOLL_CTL_ADD, dr->wake, &ev);
	/* *out is set before the first connection can reach MHD's callbacks */
	*out = dr;
	if (pthread_create(&dr->th, NULL, door_main, dr) != 0) {
		*out = NULL;
		sim_door_stop(dr);
		return se_fail(err, SE_IO, NULL, "cannot start the connection door thread");
	}
	dr->started = true;
	return 0;
}

static void wake(struct sim_door *dr)
{
	wakefd_signal(dr->wake);
}

void sim_door_closed(struct sim_door *dr)
{
	if (!dr)
		return;
	__atomic_sub_fetch(&dr->handed, 1, __ATOMIC_ACQ_REL);
	wake(dr); /* a slot is free: the door may be waiting for one */
}

double sim_door_opened_at(const struct sim_door *dr, int fd)
{
	if (!dr || fd < 0 || (unsigned)fd >= DOOR_OPENED_FDS)
		return clock_now_ms();
	double t;
	__atomic_load(&dr->opened[fd], &t, __ATOMIC_ACQUIRE);
	return t > 0 ? t : clock_now_ms();
}

void sim_door_stop(struct sim_door *dr)
{
	if (!dr)
		return;
	__atomic_store_n(&dr->stopping, true, __ATOMIC_RELEASE);
	if (dr->started) {
		wake(dr);
		pthread_join(dr->th, NULL);
	}
	while (dr->head)
		pend_drop(dr, dr->head, true);
	if (dr->ep >= 0)
		close(dr->ep);
	if (dr->wake >= 0)
		close(dr->wake);
	free(dr->opened);
	free(dr);
}
