/* rawsrv.c: a scripted raw TCP server for tests (see rawsrv.h). */
#include "rawsrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQ (4u << 20)

int rawsrv_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int rawsrv_reply(int fd, int status, const char *headers, const char *body, size_t body_len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, headers ? headers : "", body_len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (rawsrv_write(fd, head, (size_t)n))
		return -1;
	return rawsrv_write(fd, body, body_len);
}

/* Reads one request: headers, then Content-Length bytes of body. */
static char *read_request(int fd, size_t *len)
{
	size_t cap = 65536, n = 0, want = 0;
	char *b = malloc(cap + 1);
	if (!b)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_REQ)
				break;
			cap *= 2;
			char *nb = realloc(b, cap + 1);
			if (!nb)
				break;
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		b[n] = '\0';
		char *end = strstr(b, "\r\n\r\n");
		if (!end)
			continue;
		if (!want) {
			size_t cl = 0;
			for (char *p = b; p && p < end;) {
				if (!strncasecmp(p, "Content-Length:", 15))
					cl = strtoul(p + 15, NULL, 10);
				p = strstr(p, "\r\n");
				if (p)
					p += 2;
			}
			want = (size_t)(end + 4 - b) + cl;
		}
		if (n >= want)
			break;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

static void die_with_parent(int max_s)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)max_s);
}

static void serve(int lfd, rawsrv_fn fn, void *ctx, int max_s)
{
	signal(SIGCHLD, SIG_IGN); /* handlers are reaped by the kernel */
	for (int conn = 0;; conn++) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		pid_t h = fork();
		if (h == 0) {
			close(lfd);
			die_with_parent(max_s);
			size_t len = 0;
			char *req = read_request(c, &len);
			if (req)
				fn(c, req, len, conn, ctx);
			free(req);
			shutdown(c, SHUT_WR);
			close(c);
			_exit(0);
		}
		close(c);
	}
}

int rawsrv_start(struct rawsrv *s, rawsrv_fn fn, void *ctx, int max_s)
{
	memset(s, 0, sizeof(*s));
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al)) {
		close(lfd);
		return -1;
	}
	s->port = ntohs(a.sin_port);
	snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d/v1", s->port);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(lfd);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0); /* its own group, so stop reaches the handlers too */
		die_with_parent(max_s);
		serve(lfd, fn, ctx, max_s);
		_exit(0);
	}
	setpgid(pid, pid);
	close(lfd);
	s->pid = pid;
	return 0;
}

void rawsrv_stop(struct rawsrv *s)
{
	if (s->pid <= 0)
		return;
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}
