/* net.h: the engine's network lanes, each running transfers on its own
 * libcurl multi handle.
 *
 * The engine's loop decides what to send and what a reply means; the lanes
 * only move bytes. A lane adds the handles it is given, drives them through
 * libcurl's multi_socket API (its sockets in an epoll set, its one timer),
 * and hands each finished transfer back, already removed from its multi
 * handle, with libcurl's result code.
 * Lane 0 runs on the loop's own thread, inside eng_net_wait (the loop's
 * only wait); every other lane has a thread of its own. The write callbacks
 * a handle carries run on its lane's thread: they may touch only the
 * transfer's own state (and what is read-only during the loop) until it is
 * handed back, and the hand-over's mutex orders those writes before the
 * loop's reads.
 *
 * Why two: at zero model latency, one thread doing libcurl's per-transfer
 * work, the socket system calls and the engine's own work ran a core at
 * 100% (bench/cpu.sh), and when a wave of C replies comes in together one
 * thread stamps them one after the other. A second lane puts half the
 * transfers on the other core, as wrk -t2 does. Lane 0 stays on the loop's
 * thread: a hand-over to a thread costs more than the transfer's own work
 * (a run with the loop handing every transfer to one lane thread used 40%
 * more CPU than the loop alone).
 *
 * Why sockets: curl_multi_perform visits every transfer of the multi handle
 * and polls each one's socket, on every turn. At C = 64 and zero latency a
 * turn finds tens of replies, and the two cost the same CPU per request
 * (bench/cpu.sh); at C = 4096 with L = 1 s the replies of a wave trickle in
 * and each turn paid for 2,048 transfers: the same run took 4.4 s of CPU
 * with curl_multi_perform and 3.2 s with sockets.
 *
 * Batched both ways, as the scoring worker (worker.h): eng_net_add only
 * stages a transfer on the loop's side, eng_net_kick hands each lane its
 * staged ones under one lock with one eventfd write; a lane hands a
 * turn's finished transfers back under one lock, with one eventfd write
 * when the list was empty.
 *
 * A keep-alive connection stays in its lane's epoll set between requests:
 * libcurl removes its socket when a reply ends and adds it back for the
 * next request, two epoll_ctl calls a request (37,000 for 20,000 requests
 * at C = 64); the lane opens and closes libcurl's connections itself
 * (CURLOPT_OPENSOCKETFUNCTION, CLOSESOCKETFUNCTION), so it knows when an fd
 * leaves the set, and keeps a removed socket registered, marked idle (132
 * calls for the same run). An idle socket that becomes readable (the server
 * closed it) is taken out of the set; libcurl finds it dead at its next use.
 *
 * Never allocates after eng_net_open: transfers are intrusive nodes.
 * Bounded by the caller: a node is a live transfer of the engine's.
 *
 * A server may send the whole reply and then hold the body open (a stream's
 * data: [DONE] without the last chunk): the write callback says when the
 * reply ended (eng_net_reply_ended), and a body still open a grace time later
 * is ended by the lane. libcurl's multi_socket API would call a progress
 * callback of an idle transfer only at its own timers (the overall timeout,
 * or once a second with a low-speed limit), so the lane keeps the ended
 * transfers in a list of its own, in deadline order: its wait is bounded by
 * the first one's deadline, and a turn looks at the list's head only.
 *
 * Thread-safety: every function is called from the loop's thread only, but
 * eng_net_reply_ended (from a transfer's callback, on its lane).
 */
#ifndef SE_ENGINE_NET_H
#define SE_ENGINE_NET_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define ENG_NET_MAX_LANES 2
#define ENG_NET_MAX_EXTRA 4 /* the caller's own fds eng_net_wait polls */

/* How long a body may stay open after its reply ended (eng_net_reply_ended)
 * before the lane ends the transfer itself. A healthy server sends the end
 * of the body (HTTP/1.1's last chunk, HTTP/2's END_STREAM) in the same write
 * as a stream's data: [DONE], and a transfer that ends on its own keeps its
 * connection for the next request; one the lane ends loses it (HTTP/1.1).
 * 500 ms covers the end arriving one TCP retransmission late (Linux's
 * minimum RTO is 200 ms, plus the round trip of a distant server), so only a
 * server that really holds the body open loses its connection, and it holds
 * the request's concurrency slot half a second at most; the reply's latency
 * is the time its end came, not this. */
#define ENG_NET_END_GRACE_MS 500.0

/* One transfer, embedded in the caller's job. */
struct eng_xfer {
	struct eng_xfer *next;
	CURL *easy;
	CURLcode result; /* set by the lane when the transfer is over */
	int lane;
	/* its lane's: the reply ended and the body did not (oldest first) */
	struct eng_xfer *ended_prev, *ended_next;
	double ended_at; /* clock_now_ms when the reply ended */
	bool ended;	 /* in its lane's ended list */
	/* set by the lane when it ended the transfer, ENG_NET_END_GRACE_MS
	 * after its reply ended (result CURLE_OK): libcurl's times stop there */
	bool cut;
};

struct eng_lane {
	pthread_t th;
	bool started;
	CURLM *multi;
	pthread_mutex_t mu;
	struct eng_xfer *in_head, *in_tail; /* handed over, not yet added (mu) */
	bool closing;			    /* (mu) */
	bool capped;			    /* the lane's own: the HTTP/2 cap is set */
	/* libcurl's sockets in an epoll set */
	int epfd;
	int wake;			/* an eventfd in the set: a kick or a stop (lanes >= 1) */
	double deadline;		/* libcurl's timer (clock_now_ms), -1 when none */
	int own[ENG_NET_MAX_EXTRA + 1]; /* the loop's fds in lane 0's set */
	unsigned char *fd_state;	/* per fd: in the set, for what (net.c) */
	size_t n_fd_state;
	unsigned n_own;
	/* transfers whose reply ended and whose body has not, oldest first (the
	 * grace is the same for all, so appending keeps them in deadline order) */
	struct eng_xfer *ended_head, *ended_tail;
	/* the loop's own */
	struct eng_xfer *st_head, *st_tail; /* staged, not kicked */
	size_t load;			    /* transfers given, not yet taken back */
	struct eng_net *net;
};

struct eng_net {
	struct eng_lane lanes[ENG_NET_MAX_LANES];
	size_t n;
	pthread_mutex_t mu;
	struct eng_xfer *out_head, *out_tail; /* finished, not yet taken (mu) */
	int efd;			      /* readable when out_head is set */
	atomic_bool h2_lifted;		      /* a reply came over HTTP/1.x: no cap */
	struct eng_xfer *own_head, *own_tail; /* lane 0's finished (the loop's) */
	bool open;
};

/* Opens n lanes (1 to ENG_NET_MAX_LANES), each with a multi handle that
 * keeps up to maxconnects idle connections and multiplexes HTTP/2. When
 * h2_host_cap > 0, each lane opens at most that many connections per host
 * until a reply comes over HTTP/1.x (engine.c, h2_cap). */
int eng_net_open(struct eng_net *net, size_t n, long maxconnects, long h2_host_cap,
		 struct se_err *err);
/* Stages a transfer on the least loaded lane; it starts at the next kick.
 * x->easy must be set; CURLOPT_PRIVATE is the lane's. */
void eng_net_add(struct eng_net *net, struct eng_xfer *x);
/* From a transfer's write callback (so on its lane's thread): its reply is
 * complete (a stream's data: [DONE] came), only the end of the body may be
 * missing. If the transfer is still running ENG_NET_END_GRACE_MS later, its
 * lane takes it off the multi handle (the connection is closed, or its
 * HTTP/2 stream reset) and hands it back with CURLE_OK and x->cut set. At
 * most once per transfer. */
void eng_net_reply_ended(struct eng_net *net, struct eng_xfer *x);
/* Hands every lane its staged transfers and wakes it. */
void eng_net_kick(struct eng_net *net);
/* The loop's wait: runs lane 0's transfers on the calling thread and waits
 * until one of them, another lane, or one of the caller's extra fds (their
 * revents set; the same fds on every call, at most ENG_NET_MAX_EXTRA) has
 * something, or timeout_ms passed. */
int eng_net_wait(struct eng_net *net, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms,
		 struct se_err *err);
/* Takes every finished transfer (linked by next, in the order the lanes
 * gave them back), NULL when none. */
struct eng_xfer *eng_net_take(struct eng_net *net);
/* Stops the lanes and waits for them (idempotent): no callback runs after
 * it, and transfers still running stay on their multi handles. */
void eng_net_stop(struct eng_net *net);
/* After eng_net_stop: takes a transfer that never came back off its lane. */
void eng_net_forget(struct eng_net *net, struct eng_xfer *x);
/* Stops the lanes and frees them. */
void eng_net_free(struct eng_net *net);

#endif
