/* test_net.c: `shadoweval run` against hostile servers that shadowsim has no
 * fault mode for: a scripted raw TCP server (tests/support/rawsrv.h) on
 * 127.0.0.1 answers each connection with canned bytes. Each test runs the real
 * binary with a time bound (a hang is a failure, never a wait) and checks the
 * results.jsonl lines it wrote. Nothing here asserts speed.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/rawsrv.h"

#define KEY_ENV "SE_NET_TEST_KEY"
#define RUN_BOUND_S 30 /* a run that takes longer than this is hung */

/* ---- helpers ------------------------------------------------------------ */

static char *tmpdir;

static void setup(void)
{
	tmpdir = test_mkdtemp("e2e-net");
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

static char *tpath(const char *name)
{
	static char bufs[8][512];
	static int k;
	char *p = bufs[k++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

struct evalopt {
	int items;	  /* dataset size (default 1) */
	bool stream;
	int max_attempts; /* default 2 */
	int max_ms;	  /* retry.max_ms, default 200 */
	const char *extra_endpoint; /* extra endpoint JSON members, e.g. headers */
};

/* Writes eval.json (one endpoint "raw" at url, one slot "main" -> raw/m, an
 * exact check) and items.jsonl; returns the eval's path. */
static const char *write_eval(const char *url, struct evalopt o)
{
	if (!o.items)
		o.items = 1;
	if (!o.max_attempts)
		o.max_attempts = 2;
	if (!o.max_ms)
		o.max_ms = 200;
	FILE *f = fopen(tpath("items.jsonl"), "w");
	cr_assert_not_null(f);
	for (int i = 0; i < o.items; i++)
		fprintf(f, "{\"id\":\"q%02d\",\"prompt\":\"What is %d plus 1?\",\"expected\":\"%d\"}\n",
			i, i, i + 1);
	cr_assert_eq(fclose(f), 0);
	const char *path = tpath("eval.json");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"name\":\"net\",\"dataset\":{\"path\":\"items.jsonl\"},"
		"\"endpoints\":{\"raw\":{\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\"%s%s}},"
		"\"slots\":{\"main\":\"raw/m\"},"
		"\"checks\":[{\"name\":\"answer\",\"type\":\"exact\",\"normalize\":[\"trim\"]}],"
		"\"params\":{\"max_tokens\":16,\"stream\":%s},"
		"\"retry\":{\"max_attempts\":%d,\"base_ms\":5,\"max_ms\":%d},"
		"\"timeout_s\":20}\n",
		url, o.extra_endpoint ? "," : "", o.extra_endpoint ? o.extra_endpoint : "",
		o.stream ? "true" : "false", o.max_attempts, o.max_ms);
	cr_assert_eq(fclose(f), 0);
	return path;
}

struct proc_out {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
};

static void proc_out_free(struct proc_out *p)
{
	free(p->out);
	free(p->err);
}

static const char *se_bin(void)
{
	static char path[512];
	const char *d = getenv("SE_BIN_DIR");
	snprintf(path, sizeof(path), "%s/shadoweval", d && *d ? d : "build/asan/bin");
	return path;
}

/* Runs shadoweval with args (NULL-terminated) and the key in its environment;
 * nofile > 0 sets the child's RLIMIT_NOFILE (soft and hard). A run still
 * going after RUN_BOUND_S is killed (status 128+9). */
static struct proc_out run_se_env(const char *const *args, const char *key, long nofile)
{
	static int seq;
	char outp[512], errp[512];
	snprintf(outp, sizeof(outp), "%s/stdout.%d", tmpdir, seq);
	snprintf(errp, sizeof(errp), "%s/stderr.%d", tmpdir, seq++);
	const char *argv[64];
	int n = 0;
	argv[n++] = se_bin();
	for (int i = 0; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(o, 1);
		dup2(e, 2);
		if (key)
			setenv(KEY_ENV, key, 1);
		else
			unsetenv(KEY_ENV);
		if (nofile > 0) {
			struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
			if (setrlimit(RLIMIT_NOFILE, &rl))
				_exit(126);
		}
		alarm(RUN_BOUND_S); /* survives exec: a hung run dies by SIGALRM */
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	struct proc_out r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = test_read_file(outp, NULL);
	r.err = test_read_file(errp, NULL);
	return r;
}

/* `run EVAL -o DIR --quiet [extra...]` with the default key. */
static struct proc_out run_eval(const char *eval, const char *dir, const char *const *extra)
{
	const char *args[32] = {"run", eval, "-o", dir, "--quiet"};
	int n = 5;
	for (int i = 0; extra && extra[i] && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return run_se_env(args, "sk-test-net-key", 0);
}

/* results.jsonl parsed: one cJSON object per line. */
struct rows {
	cJSON *v[256];
	size_t n;
};

static void load_rows(const char *dir, struct rows *r)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	size_t len = 0;
	char *s = test_read_file(path, &len);
	r->n = 0;
	cr_assert(len == 0 || s[len - 1] == '\n', "results.jsonl does not end with a newline");
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		cr_assert_not_null(o, "a line is not JSON: %.200s", line);
		cr_assert_lt(r->n, 256);
		r->v[r->n++] = o;
	}
	free(s);
}

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i]);
	r->n = 0;
}

static const char *str_of(const cJSON *row, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *row, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static bool is_null(const cJSON *row, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, key));
}

/* Runs the one-item eval against fn and loads its one line into *row. */
static struct proc_out run_one(rawsrv_fn fn, void *ctx, struct evalopt o, struct rows *r,
			       const char *const *extra)
{
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, fn, ctx, RUN_BOUND_S + 10), 0);
	const char *eval = write_eval(srv.base_url, o);
	struct proc_out p = run_eval(eval, tpath("run"), extra);
	rawsrv_stop(&srv);
	cr_assert_neq(p.status, 128 + SIGALRM, "the run hung: %s", p.err);
	cr_assert_lt(p.status, 128, "the run crashed (%d): %s", p.status, p.err);
	load_rows(tpath("run"), r);
	return p;
}

/* ---- 1: an endless stream is capped ----------------------------------- */

/* SSE headers, then 1 MiB content deltas until the client hangs up (or a
 * bound far above the cap is reached; then it closes without [DONE]). */
static void endless_stream(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)conn, (void)ctx;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
			   "Connection: close\r\n\r\n";
	if (rawsrv_write(fd, head, strlen(head)))
		return;
	size_t n = 1u << 20;
	char *ev = malloc(n + 200);
	int k = sprintf(ev, "data: {\"model\":\"raw/m\",\"choices\":[{\"delta\":{\"content\":\"");
	memset(ev + k, 'a', n);
	k += (int)n;
	k += sprintf(ev + k, "\"}}]}\n\n");
	for (int i = 0; i < 200; i++)
		if (rawsrv_write(fd, ev, (size_t)k))
			break;
	free(ev);
}

Test(net, an_endless_stream_is_cut_at_the_reply_cap_without_cache, .init = setup,
     .fini = teardown, .timeout = 120)
{
	struct rows r;
	struct proc_out p =
	    run_one(endless_stream, NULL, (struct evalopt){.stream = true, .max_attempts = 1}, &r,
		    NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "bad_response");
	cr_assert(strstr(str_of(r.v[0], "error"), "larger than"), "%s",
		  str_of(r.v[0], "error"));
	/* the partial output is not kept: the line stays small */
	const char *out = str_of(r.v[0], "output");
	cr_assert(!out || strlen(out) < (1u << 20));
	rows_free(&r);
	proc_out_free(&p);
}

/* ---- canned replies ------------------------------------------------------ */

/* ctx: a NULL-terminated list of raw responses, one per connection in order;
 * the last one answers every later connection. */
static void canned(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len;
	const char *const *list = ctx;
	int n = 0;
	while (list[n + 1] && n < conn)
		n++;
	rawsrv_write(fd, list[n], strlen(list[n]));
}

#define JSON_HEAD(status, extra)                                                               \
	"HTTP/1.1 " status "\r\nContent-Type: application/json\r\n" extra                       \
	"Connection: close\r\n\r\n"
#define SSE_HEAD                                                                               \
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
#define OK_BODY                                                                                \
	"{\"id\":\"gen-1\",\"object\":\"chat.completion\",\"model\":\"raw/m\",\"choices\":[{"  \
	"\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"1\"},\"finish_reason\":" \
	"\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"cost\":0.00001}}"
#define CHUNK(content, finish)                                                                 \
	"data: {\"model\":\"raw/m\",\"choices\":[{\"delta\":{\"content\":\"" content            \
	"\"},\"finish_reason\":" finish "}]}\n\n"

/* ---- 18: nothing after [DONE] is read ---------------------------------- */

Test(net, stream_events_after_done_are_not_read, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    SSE_HEAD CHUNK("1", "null") CHUNK("", "\"stop\"") "data: [DONE]\n\n" CHUNK(
		"hidden", "null") "data: {not json\n\n",
	    NULL};
	struct rows r;
	struct proc_out p = run_one(canned, (void *)replies,
				    (struct evalopt){.stream = true, .max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "ok", "%s", str_of(r.v[0], "error"));
	cr_assert_str_eq(str_of(r.v[0], "output"), "1");
	rows_free(&r);
	proc_out_free(&p);
}

/* ---- 22: a JSON body in streaming mode ---------------------------------- */

Test(net, a_json_completion_in_streaming_mode_is_parsed_as_json, .init = setup,
     .fini = teardown)
{
	static const char *const replies[] = {JSON_HEAD("200 OK", "") OK_BODY, NULL};
	struct rows r;
	struct proc_out p = run_one(canned, (void *)replies,
				    (struct evalopt){.stream = true, .max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "ok", "%s", str_of(r.v[0], "error"));
	cr_assert_str_eq(str_of(r.v[0], "output"), "1");
	cr_assert_eq(num_of(r.v[0], "completion_tokens"), 1);
	rows_free(&r);
	proc_out_free(&p);
}

Test(net, a_json_error_object_in_streaming_mode_keeps_its_message, .init = setup,
     .fini = teardown)
{
	/* no content type at all: the body itself says it is JSON */
	static const char *const replies[] = {
	    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	    "{\"error\":{\"code\":502,\"message\":\"Provider returned error\"}}",
	    NULL};
	struct rows r;
	struct proc_out p = run_one(canned, (void *)replies,
				    (struct evalopt){.stream = true, .max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "bad_response");
	const char *e = str_of(r.v[0], "error");
	cr_assert(e && strstr(e, "502") && strstr(e, "Provider returned error"), "%s", e);
	rows_free(&r);
	proc_out_free(&p);
}

Test(net, a_stream_that_is_not_sse_names_its_content_type, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
	    "<html>maintenance</html>\n",
	    NULL};
	struct rows r;
	struct proc_out p = run_one(canned, (void *)replies,
				    (struct evalopt){.stream = true, .max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	const char *e = str_of(r.v[0], "error");
	cr_assert(e && strstr(e, "text/html"), "%s", e);
	rows_free(&r);
	proc_out_free(&p);
}

/* ---- 3: a Retry-After longer than retry.max_ms ends the pair ------------- */

static void check_gives_up(const char *const *replies)
{
	struct rows r;
	struct proc_out p =
	    run_one(canned, (void *)replies, (struct evalopt){.max_attempts = 3}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "rate_limited");
	cr_assert_eq(num_of(r.v[0], "attempts"), 1, "a retry was scheduled");
	const char *e = str_of(r.v[0], "error");
	cr_assert(e && strstr(e, "retry.max_ms"), "%s", e);
	rows_free(&r);
	proc_out_free(&p);
}

Test(net, retry_after_seconds_beyond_max_ms_ends_as_rate_limited, .init = setup,
     .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests", "Retry-After: 999999\r\n")
	    "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, retry_after_http_date_beyond_max_ms_ends_as_rate_limited, .init = setup,
     .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests", "Retry-After: Wed, 21 Oct 2099 07:28:00 GMT\r\n")
	    "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, retry_after_in_the_error_body_beyond_max_ms_ends_as_rate_limited, .init = setup,
     .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests", "")
	    "{\"error\":{\"code\":429,\"message\":\"slow down\","
	    "\"metadata\":{\"retry_after\":999999}}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, a_short_retry_after_is_still_honoured, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests", "Retry-After: 0\r\n")
	    "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
	    JSON_HEAD("200 OK", "") OK_BODY, NULL};
	struct rows r;
	struct proc_out p =
	    run_one(canned, (void *)replies, (struct evalopt){.max_attempts = 3}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "ok", "%s", str_of(r.v[0], "error"));
	cr_assert_eq(num_of(r.v[0], "attempts"), 2);
	cr_assert(is_null(r.v[0], "ttft_ms"));
	rows_free(&r);
	proc_out_free(&p);
}
