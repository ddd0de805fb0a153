/* rawsrv.h: a scripted raw TCP server on 127.0.0.1 for tests that need a
 * server to misbehave in ways shadowsim has no fault mode for (an endless
 * stream, a huge Retry-After, echoed request headers, JSON where SSE was
 * asked for).
 *
 * rawsrv_start binds 127.0.0.1:0 in the test process (so the port is known at
 * once, no start-up race), then forks the server. The server accepts
 * connections and forks one handler per connection; a handler reads one
 * request (its headers and a Content-Length body), calls fn with it, then
 * closes the connection. fn writes whatever bytes it likes to fd (write
 * errors, e.g. the client hung up, are fn's to notice: SIGPIPE is ignored).
 * conn is the 0-based number of the connection, in accept order.
 *
 * Bounded in time: every server process gets alarm(max_s) and SIGTERM when
 * its parent dies (PR_SET_PDEATHSIG), so a crashed test or a hung handler
 * leaves nothing behind. rawsrv_stop kills the server and its handlers and
 * reaps the server; it is safe to call twice or after a failed start.
 */
#ifndef SE_TEST_RAWSRV_H
#define SE_TEST_RAWSRV_H

#include <stddef.h>
#include <sys/types.h>

typedef void (*rawsrv_fn)(int fd, const char *req, size_t req_len, int conn, void *ctx);

struct rawsrv {
	pid_t pid; /* 0 when not running */
	int port;
	char base_url[64]; /* "http://127.0.0.1:PORT/v1" */
};

/* Returns 0, or -1 when the socket or the fork failed. */
int rawsrv_start(struct rawsrv *s, rawsrv_fn fn, void *ctx, int max_s);
void rawsrv_stop(struct rawsrv *s);

/* Writes all of s (n bytes) to fd; -1 when the peer is gone. */
int rawsrv_write(int fd, const char *s, size_t n);
/* Writes a whole HTTP/1.1 response: status line, the extra header lines
 * (each ending in "\r\n", may be ""), Content-Length and Connection: close,
 * then body. */
int rawsrv_reply(int fd, int status, const char *headers, const char *body, size_t body_len);

#endif
