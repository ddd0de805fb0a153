/* test_tls.c: `shadoweval run` over TLS and HTTP/2, as against the real
 * gateway. Each test makes a certificate authority and a server certificate
 * for 127.0.0.1 with the openssl CLI, starts shadowsim, and nghttpx in front
 * of it (TLS, HTTP/2 only, a known limit of concurrent streams per
 * connection) on a 127.0.0.1 port the test binds itself and hands over
 * (NGHTTPX_ACCEPT_1), so no port is guessed. nghttpx's access log records
 * per request the client port (one per connection) and the protocol.
 *
 * Verification is always on: the endpoint names the test CA in `ca_file`;
 * without it, or with a CA that did not sign the server's certificate, the
 * run stops at once with the certificate error (exit 2), no retries.
 * nghttpx and openssl come from scripts/install-deps.sh; a missing one is a
 * failure, not a skip. Nothing here asserts speed.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/simproc.h"

#define STREAMS 16     /* nghttpx's concurrent streams per HTTP/2 connection */
#define CONC 40	       /* --concurrency: needs ceil(40 / 16) = 3 connections */
#define ITEMS 120      /* requests of the successful run */
#define RUN_BOUND_S 90 /* a run still going after this is hung (ASan, loaded CI) */
#define START_MS 60000 /* nghttpx's start, a bound on an event, not a sleep */

static char *tmpdir;

#define tpath(name) test_path(tmpdir, name)

/* A CA ("ca.pem"), a server certificate for 127.0.0.1 signed by it
 * ("srv.pem", "srv.key"), and a second CA that signed nothing ("other.pem"). */
static void make_certs(void)
{
	struct buf out;
	buf_init(&out);
	int st = test_sh(
	    &out,
	    "cd '%s' && set -e && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout ca.key -out ca.pem -days 2 -subj '/CN=shadoweval test CA' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout other.key -out other.pem -days 2 -subj '/CN=shadoweval other CA' && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' && "
	    "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf && "
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out srv.pem -days 2 -extfile ext.cnf",
	    tmpdir);
	cr_assert_eq(st, 0,
		     "openssl could not make the test certificates (is it installed? "
		     "scripts/install-deps.sh): %s",
		     out.data);
	buf_free(&out);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct ngx {
	pid_t pid;
	int port;
};

/* Starts nghttpx on a port bound here, in front of 127.0.0.1:backend, and
 * waits for its worker's "Created worker thread" line in its error log. */
static void ngx_start(struct ngx *n, int backend)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* inherited: no CLOEXEC */
	cr_assert_geq(fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 512), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	n->port = ntohs(a.sin_port);
	char front[64], back[64], accept_env[32], streams[64], acc[600], errlog[600];
	snprintf(front, sizeof(front), "--frontend=127.0.0.1,%d", n->port);
	snprintf(back, sizeof(back), "--backend=127.0.0.1,%d", backend);
	snprintf(accept_env, sizeof(accept_env), "tcp,%d", fd);
	snprintf(streams, sizeof(streams), "--frontend-http2-max-concurrent-streams=%d", STREAMS);
	snprintf(acc, sizeof(acc), "--accesslog-file=%s", tpath("access.log"));
	snprintf(errlog, sizeof(errlog), "--errorlog-file=%s", tpath("nghttpx.log"));
	fflush(NULL);
	n->pid = fork();
	cr_assert_geq(n->pid, 0);
	if (n->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setpgid(0, 0); /* its worker process is stopped with it (ngx_stop) */
		/* not the test's stdout: a worker left behind would hold the
		 * runner's pipe open */
		int o = open(tpath("nghttpx.out"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
			_exit(126);
		setenv("NGHTTPX_ACCEPT_1", accept_env, 1);
		execlp("nghttpx", "nghttpx", "--conf=/dev/null", front, back, "--workers=1",
		       "--no-ocsp", "--npn-list=h2", streams, acc,
		       "--accesslog-format=$remote_port $alpn $status", errlog, tpath("srv.key"),
		       tpath("srv.pem"), (char *)NULL);
		fprintf(stderr, "cannot run nghttpx (scripts/install-deps.sh installs it): %s\n",
			strerror(errno));
		_exit(127);
	}
	close(fd);
	long deadline = now_ms() + START_MS;
	for (;;) {
		/* nghttpx creates its log once its configuration is read */
		char *log = access(tpath("nghttpx.log"), F_OK) == 0
				? test_read_file(tpath("nghttpx.log"), NULL)
				: NULL;
		bool ready = log && strstr(log, "Created worker thread");
		int st;
		if (!ready && waitpid(n->pid, &st, WNOHANG) == n->pid) {
			n->pid = 0;
			cr_assert_fail("nghttpx exited (status %d) before it was ready: %s",
				       WIFEXITED(st) ? WEXITSTATUS(st) : -1, log ? log : "");
		}
		free(log);
		if (ready)
			return;
		cr_assert_lt(now_ms(), deadline, "nghttpx was not ready within %d ms", START_MS);
		usleep(20000); /* polling for the line; the bound is the deadline */
	}
}

/* SIGTERM to nghttpx's process group (the main process and its worker);
 * SIGKILL when the main process is still there after 10 s. */
static void ngx_stop(struct ngx *n)
{
	if (n->pid <= 0)
		return;
	kill(-n->pid, SIGTERM);
	long deadline = now_ms() + 10000;
	int st;
	while (waitpid(n->pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(-n->pid, SIGKILL);
			waitpid(n->pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	kill(-n->pid, SIGKILL); /* a worker still shutting down */
	n->pid = 0;
}

/* The access log once it holds `want` lines: nghttpx writes a request's
 * line when its stream closes, which may come just after the client has
 * its reply. Bounded; the caller checks the count. */
static char *access_log_with(int want)
{
	long deadline = now_ms() + 20000;
	while (test_count_lines(tpath("access.log")) < (size_t)want && now_ms() < deadline)
		usleep(10000);
	return test_read_file(tpath("access.log"), NULL);
}

static struct simproc sim;
static struct ngx ngx;

static void setup(void)
{
	tmpdir = test_mkdtemp("e2e-tls");
	make_certs();
	FILE *f = fopen(tpath("profiles.json"), "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 3, \"models\": {\"sim/a\": {\"latency\": {\"ttft_ms\": 20, "
	      "\"tokens_per_s\": 0, \"jitter\": \"none\"}, \"accuracy\": {\"default\": 1.0}}}}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	f = fopen(tpath("items.jsonl"), "w");
	cr_assert_not_null(f);
	for (int i = 0; i < ITEMS; i++)
		fprintf(
		    f, "{\"id\":\"q%03d\",\"prompt\":\"What is %d plus 1?\",\"expected\":\"%d\"}\n",
		    i, i, i + 1);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(simproc_start(&sim, tpath("profiles.json"), NULL, NULL), 0, "shadowsim: %s",
		     sim.error);
	ngx_start(&ngx, sim.port);
}

static void teardown(void)
{
	ngx_stop(&ngx);
	simproc_stop(&sim);
	if (test_sh(NULL, "rm -rf '%s'", tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* eval.json: one https endpoint on nghttpx; ca_file_line is the endpoint's
 * extra member (",\"ca_file\": \"ca.pem\"") or "". */
static const char *write_eval(const char *name, const char *ca_member)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"name\": \"tls\", \"dataset\": {\"path\": \"items.jsonl\"},"
		" \"endpoints\": {\"gw\": {\"base_url\": \"https://127.0.0.1:%d/v1\"%s}},"
		" \"slots\": {\"main\": \"sim/a\"},"
		" \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
		"[\"trim\"]}],"
		" \"params\": {\"max_tokens\": 16},"
		" \"retry\": {\"max_attempts\": 4, \"base_ms\": 200, \"max_ms\": 2000},"
		" \"timeout_s\": 30}\n",
		ngx.port, ca_member);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Runs `shadoweval run EVAL -o DIR --quiet --concurrency CONC`, bounded. */
static int run(const char *eval, const char *dir, struct buf *out)
{
	return test_sh(out, "timeout %d '%s/shadoweval' run '%s' -o '%s' --quiet --concurrency %d",
		       RUN_BOUND_S, test_bin_dir(), eval, dir, CONC);
}

/* The manifest's counts.NAME. */
static double manifest_count(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *s = test_read_file(path, NULL);
	cJSON *m = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(m, "manifest.json is not JSON");
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "counts"), name);
	cr_assert(cJSON_IsNumber(v), "manifest.json has no counts.%s", name);
	double d = v->valuedouble;
	cJSON_Delete(m);
	return d;
}

TestSuite(tls, .init = setup, .fini = teardown);

Test(tls, runs_over_https_and_http2_on_few_connections_with_the_test_ca, .timeout = 180)
{
	const char *eval = write_eval("eval.json", ", \"ca_file\": \"ca.pem\"");
	struct buf out;
	buf_init(&out);
	int st = run(eval, tpath("run"), &out);
	cr_assert_eq(st, 0, "run exited %d: %s", st, out.data);
	buf_free(&out);

	/* every pair answered */
	char *res = test_read_file(tpath("run/results.jsonl"), NULL);
	size_t lines = 0, ok = 0;
	for (const char *p = res; (p = strstr(p, "\"status\":")); p++)
		ok += !strncmp(p, "\"status\":\"ok\"", 13);
	for (const char *p = res; *p; p++)
		lines += *p == '\n';
	free(res);
	cr_expect_eq(lines, ITEMS, "%zu result lines, want %d", lines, ITEMS);
	cr_expect_eq(ok, ITEMS, "%zu ok results, want %d", ok, ITEMS);

	/* nghttpx saw every request over h2, on few connections */
	char *log = access_log_with(ITEMS);
	int ports[ITEMS], n_ports = 0, reqs = 0, h2 = 0;
	char *save = NULL;
	for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int port = 0, status = 0;
		char alpn[32] = "";
		cr_assert_eq(sscanf(l, "%d %31s %d", &port, alpn, &status), 3,
			     "access log line: %s", l);
		reqs++;
		h2 += !strcmp(alpn, "h2");
		bool seen = false;
		for (int i = 0; i < n_ports; i++)
			seen = seen || ports[i] == port;
		if (!seen && n_ports < ITEMS)
			ports[n_ports++] = port;
	}
	free(log);
	cr_expect_eq(reqs, ITEMS, "nghttpx logged %d requests, want %d", reqs, ITEMS);
	cr_expect_eq(h2, reqs, "%d of %d requests over HTTP/2", h2, reqs);
	int most = (CONC + STREAMS - 1) / STREAMS + 2;
	cr_expect(n_ports >= 1 && n_ports <= most,
		  "%d connections for --concurrency %d at %d streams each, want at most %d",
		  n_ports, CONC, STREAMS, most);
}

/* Without ca_file the system's CAs are used, and they did not sign the
 * test certificate: the run stops with the certificate error and the
 * option to set, after one attempt per request in flight, none retried. */
static void expect_certificate_stop(const char *eval)
{
	struct buf out;
	buf_init(&out);
	int st = run(eval, tpath("run"), &out);
	cr_assert_eq(st, 2, "run exited %d, want 2: %s", st, out.data);
	cr_expect(strstr(out.data, "endpoint \"gw\": TLS certificate verification failed"),
		  "no certificate error: %s", out.data);
	cr_expect(strstr(out.data, "endpoints.gw.ca_file"), "the option is not named: %s",
		  out.data);
	buf_free(&out);
	cr_expect_eq(test_count_lines(tpath("run/results.jsonl")), 0,
		     "a certificate failure was written as results");
	double reqs = manifest_count(tpath("run"), "requests");
	cr_expect(reqs >= 1 && reqs <= CONC, "%g requests sent, want at most %d (no retries)", reqs,
		  CONC);
	ngx_stop(&ngx);
	cr_expect_eq(test_count_lines(tpath("access.log")), 0, "a request got past TLS");
}

Test(tls, without_ca_file_the_run_stops_on_the_certificate_error, .timeout = 180)
{
	expect_certificate_stop(write_eval("eval.json", ""));
}

Test(tls, a_ca_that_did_not_sign_the_server_is_refused, .timeout = 180)
{
	expect_certificate_stop(write_eval("eval.json", ", \"ca_file\": \"other.pem\""));
}
