/* test_net.c: `shadoweval run` against hostile servers that shadowsim has no
 * fault mode for: a scripted raw TCP server (tests/support/rawsrv.h) on
 * 127.0.0.1 answers each connection with canned bytes (and, for the timing of a
 * slow connection set-up, a SOCKS5 proxy that is its own origin). Each test runs the real
 * binary with a time bound (a hang is a failure, never a wait) and checks the
 * results.jsonl lines it wrote. Nothing here asserts speed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../support/files.h"
#include "../support/rawsrv.h"

#define KEY_ENV "SE_NET_TEST_KEY"
#define RUN_BOUND_S 100 /* a run still going after this is hung (ASan, loaded CI) */

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
	int items; /* dataset size (default 1) */
	bool stream;
	int max_attempts;	    /* default 2 */
	int max_ms;		    /* retry.max_ms, default 200 */
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
		fprintf(
		    f, "{\"id\":\"q%02d\",\"prompt\":\"What is %d plus 1?\",\"expected\":\"%d\"}\n",
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
 * nofile > 0 sets the child's RLIMIT_NOFILE (soft nofile, hard nofile_hard or
 * the same). A run still going after RUN_BOUND_S dies by SIGALRM. */
static struct proc_out run_se_lim(const char *const *args, const char *key, long nofile,
				  long nofile_hard)
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
			struct rlimit rl = {(rlim_t)nofile,
					    (rlim_t)(nofile_hard ? nofile_hard : nofile)};
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

static struct proc_out run_se_env(const char *const *args, const char *key, long nofile)
{
	return run_se_lim(args, key, nofile, 0);
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

Test(net, an_endless_stream_is_cut_at_the_reply_cap_without_cache, .init = setup, .fini = teardown,
     .timeout = 150)
{
	struct rows r;
	struct proc_out p = run_one(endless_stream, NULL,
				    (struct evalopt){.stream = true, .max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "bad_response");
	cr_assert(strstr(str_of(r.v[0], "error"), "larger than"), "%s", str_of(r.v[0], "error"));
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

#define JSON_HEAD(status, extra)                                                                   \
	"HTTP/1.1 " status "\r\nContent-Type: application/json\r\n" extra                          \
	"Connection: close\r\n\r\n"
#define SSE_HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
#define OK_BODY                                                                                    \
	"{\"id\":\"gen-1\",\"object\":\"chat.completion\",\"model\":\"raw/m\",\"choices\":[{"      \
	"\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"1\"},\"finish_reason\":"    \
	"\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"cost\":0.00001}}"
#define CHUNK(content, finish)                                                                     \
	"data: {\"model\":\"raw/m\",\"choices\":[{\"delta\":{\"content\":\"" content               \
	"\"},\"finish_reason\":" finish "}]}\n\n"

/* ---- 18: nothing after [DONE] is read ---------------------------------- */

Test(net, stream_events_after_done_are_not_read, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {SSE_HEAD CHUNK("1", "null")
						  CHUNK("", "\"stop\"") "data: [DONE]\n\n" CHUNK(
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

/* A chunked stream whose connection closes after [DONE], before the body's
 * last chunk: the reply is whole at [DONE] (as a body held open after it,
 * which the lane ends), not a stream error. */
Test(net, a_stream_cut_after_done_is_ok, .init = setup, .fini = teardown)
{
#define EVENTS CHUNK("1", "null") CHUNK("", "\"stop\"") "data: [DONE]\n\n"
	char reply[1024];
	snprintf(reply, sizeof(reply),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n",
		 strlen(EVENTS), EVENTS);
#undef EVENTS
	const char *const replies[] = {reply, NULL};
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

Test(net, a_json_completion_in_streaming_mode_is_parsed_as_json, .init = setup, .fini = teardown)
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

Test(net, a_json_error_object_in_streaming_mode_keeps_its_message, .init = setup, .fini = teardown)
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

Test(net, retry_after_seconds_beyond_max_ms_ends_as_rate_limited, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD(
		"429 Too Many Requests",
		"Retry-After: 999999\r\n") "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, retry_after_http_date_beyond_max_ms_ends_as_rate_limited, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD(
		"429 Too Many Requests",
		"Retry-After: Wed, 21 Oct 2099 07:28:00 GMT\r\n") "{\"error\":{\"code\":429,"
								  "\"message\":\"slow down\"}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, retry_after_in_the_error_body_beyond_max_ms_ends_as_rate_limited, .init = setup,
     .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests",
		      "") "{\"error\":{\"code\":429,\"message\":\"slow down\","
			  "\"metadata\":{\"retry_after\":999999}}}",
	    NULL};
	check_gives_up(replies);
}

/* A count of seconds past 64 bits (libcurl then reports no Retry-After at
 * all) and 1e308 s in the body were retried at once, as if no wait was
 * asked: both are waits past any retry.max_ms. */
Test(net, retry_after_too_long_for_64_bits_ends_as_rate_limited, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests",
		      "Retry-After: 99999999999999999999999\r\n") "{\"error\":{\"code\":429,"
								  "\"message\":\"slow down\"}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, retry_after_of_1e308_s_in_the_body_ends_as_rate_limited, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests",
		      "") "{\"error\":{\"code\":429,\"message\":\"slow down\","
			  "\"metadata\":{\"retry_after\":1e308}}}",
	    NULL};
	check_gives_up(replies);
}

Test(net, a_short_retry_after_is_still_honoured, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("429 Too Many Requests",
		      "Retry-After: 0\r\n") "{\"error\":{\"code\":429,\"message\":\"slow down\"}}",
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

/* ---- 14: an echoed key is never stored ---------------------------------- */

#define CANARY "sk-or-v1-CANARY-5f4e3d2c1b0a99887766554433221100"
#define HDR_SECRET "hdr-canary-secret-987654"

/* s as the inside of a JSON string */
static void json_esc(char *out, size_t size, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Echoes the request (headers included) into every field a reply has,
 * chosen by the item ("What is N plus 1?"): an answer (content, model,
 * finish_reason), an HTTP error, an error object in a 200, a redirect, and
 * for streams the same as events. */
static void echo_everything(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)conn, (void)ctx;
	const char *q = strstr(req, "What is ");
	int item = q ? atoi(q + 8) : 0;
	bool stream = strstr(req, "\"stream\":true") != NULL;
	static char esc[16384], body[40000];
	json_esc(esc, sizeof(esc), req, len);
	/* the key alone, as a server that picks the header out would send it */
	const char *auth = strstr(req, "Bearer ");
	char key[128] = "";
	if (auth)
		sscanf(auth + 7, "%127[^\r\n]", key);
	if (stream && (item == 0 || item == 2)) {
		if (item == 0)
			snprintf(body, sizeof(body),
				 SSE_HEAD
				 "data: {\"model\":\"%s\",\"choices\":[{\"delta\":{"
				 "\"content\":\"%s\"},\"finish_reason\":null}]}\n\n"
				 "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"%s\"}]}"
				 "\n\ndata: [DONE]\n\n",
				 key, esc, key);
		else
			snprintf(body, sizeof(body),
				 SSE_HEAD
				 "data: {\"choices\":[{\"delta\":{\"content\":\"%s\"}}]}\n\n"
				 "data: {\"error\":{\"code\":\"%s\",\"message\":\"%s\"},"
				 "\"choices\":[{\"delta\":{},\"finish_reason\":\"error\"}]}\n\n",
				 esc, key, esc);
		rawsrv_write(fd, body, strlen(body));
		return;
	}
	switch (item) {
	case 0:
		snprintf(body, sizeof(body),
			 "{\"model\":\"%s %s\",\"choices\":[{\"message\":{\"content\":\"%s\"},"
			 "\"finish_reason\":\"%s\"}],\"usage\":{\"prompt_tokens\":1,"
			 "\"completion_tokens\":1}}",
			 key, esc, esc, key);
		rawsrv_reply(fd, 200, "Content-Type: application/json\r\n", body, strlen(body));
		break;
	case 1:
		snprintf(body, sizeof(body), "{\"error\":{\"code\":400,\"message\":\"%s\"}}", esc);
		rawsrv_reply(fd, 400, "Content-Type: application/json\r\n", body, strlen(body));
		break;
	case 2:
		snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			 key, esc);
		rawsrv_reply(fd, 200, "Content-Type: application/json\r\n", body, strlen(body));
		break;
	default: {
		char hdr[400];
		snprintf(hdr, sizeof(hdr),
			 "Location: http://127.0.0.1:1/v1/%s?h=" HDR_SECRET "\r\n", key);
		rawsrv_reply(fd, 301, hdr, "", 0);
		break;
	}
	}
}

static const char *grep_secret;
static char grep_hit[600];

static int grep_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	/* the config is where the user wrote the header value */
	if (!strcmp(grep_secret, HDR_SECRET) && strstr(path, "eval.json"))
		return 0;
	size_t len = 0;
	char *s = test_read_file(path, &len);
	bool hit = memmem(s, len, grep_secret, strlen(grep_secret)) != NULL;
	free(s);
	if (hit) {
		snprintf(grep_hit, sizeof(grep_hit), "%s", path);
		return 1;
	}
	return 0;
}

static void assert_nowhere(const char *secret)
{
	grep_secret = secret;
	grep_hit[0] = '\0';
	nftw(tmpdir, grep_one, 16, FTW_PHYS);
	cr_assert_eq(grep_hit[0], '\0', "%s found in %s", secret, grep_hit);
}

Test(net, an_echoed_key_reaches_no_file_written, .init = setup, .fini = teardown, .timeout = 300)
{
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, echo_everything, NULL, RUN_BOUND_S * 3), 0);
	const char *cache = tpath("cache");
	struct evalopt o = {.items = 4,
			    .max_attempts = 1,
			    .extra_endpoint = "\"headers\":{\"X-Api-Key\":\"" HDR_SECRET "\"}"};
	const char *eval = write_eval(srv.base_url, o);
	const char *use[] = {"run", eval,	   "-o",  tpath("run1"), "--cache",
			     "use", "--cache-dir", cache, NULL};
	struct proc_out p1 = run_se_env(use, CANARY, 0);
	cr_assert_lt(p1.status, 128, "%s", p1.err);
	/* a replay copies the cached answer into a new run */
	const char *replay[] = {"run",	   eval, "-o",		tpath("run2"), "--cache", "replay",
				"--limit", "1",	 "--cache-dir", cache,	       NULL};
	struct proc_out p2 = run_se_env(replay, CANARY, 0);
	cr_assert_eq(p2.status, 0, "%s", p2.err);
	o.stream = true;
	eval = write_eval(srv.base_url, o);
	const char *streamed[] = {"run", eval,		"-o",  tpath("run3"), "--cache",
				  "use", "--cache-dir", cache, NULL};
	struct proc_out p3 = run_se_env(streamed, CANARY, 0);
	cr_assert_lt(p3.status, 128, "%s", p3.err);
	rawsrv_stop(&srv);

	/* the echo happened, and was redacted, in each field */
	struct rows r;
	load_rows(tpath("run1"), &r);
	cr_assert_eq(r.n, 4);
	int seen = 0;
	for (size_t i = 0; i < r.n; i++) {
		const char *id = str_of(r.v[i], "item_id");
		if (!strcmp(id, "q00")) {
			cr_assert(strstr(str_of(r.v[i], "output"), "Bearer [REDACTED]"), "%s",
				  str_of(r.v[i], "output"));
			cr_assert(strstr(str_of(r.v[i], "served_model"), "[REDACTED]"));
			seen++;
		} else if (!strcmp(id, "q03")) {
			const char *e = str_of(r.v[i], "error");
			cr_assert(e && strstr(e, "redirect to http://127.0.0.1:1/v1/[REDACTED]"),
				  "%s", e);
			seen++;
		} else {
			const char *e = str_of(r.v[i], "error");
			cr_assert(e && strstr(e, "Bearer [REDACTED]"), "%s", e);
			seen++;
		}
	}
	cr_assert_eq(seen, 4);
	rows_free(&r);
	load_rows(tpath("run2"), &r);
	cr_assert_eq(r.n, 1);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.v[0], "cached")));
	rows_free(&r);
	load_rows(tpath("run3"), &r);
	cr_assert_eq(r.n, 4);
	rows_free(&r);

	/* nor the cache's bundle (its lines, uncompressed, are grepped too) */
	char cdir[512];
	snprintf(cdir, sizeof(cdir), "%s/cache", tmpdir); /* tpath's buffers have turned */
	const char *exp[] = {"cache", "export", "--cache-dir", cdir, "-o", tpath("b.zst"), NULL};
	struct proc_out p4 = run_se_env(exp, CANARY, 0);
	cr_assert_eq(p4.status, 0, "%s", p4.err);
	size_t zlen;
	char *z = test_read_file(tpath("b.zst"), &zlen);
	unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
	cr_assert(n != ZSTD_CONTENTSIZE_ERROR && (n == ZSTD_CONTENTSIZE_UNKNOWN || n < (1u << 24)),
		  "%llu", n);
	size_t cap = n == ZSTD_CONTENTSIZE_UNKNOWN ? 1u << 24 : (size_t)n;
	char *lines = malloc(cap);
	size_t got = ZSTD_decompress(lines, cap, z, zlen);
	cr_assert(!ZSTD_isError(got), "%s", ZSTD_getErrorName(got));
	FILE *f = fopen(tpath("bundle.jsonl"), "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(lines, 1, got, f), got);
	cr_assert_eq(fclose(f), 0);
	cr_assert(strstr(lines, "[REDACTED]"), "the bundle holds no redacted answer");
	free(lines);
	free(z);
	proc_out_free(&p4);
	assert_nowhere(CANARY);
	assert_nowhere(HDR_SECRET);
	proc_out_free(&p1);
	proc_out_free(&p2);
	proc_out_free(&p3);
}

/* ---- 16: --concurrency above the open-file limit ------------------------ */

static void answer_ok(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req, (void)len, (void)conn, (void)ctx;
	/* slow enough that the client holds many connections at once */
	struct timespec ts = {0, 20 * 1000000L};
	nanosleep(&ts, NULL);
	rawsrv_reply(fd, 200, "Content-Type: application/json\r\n", OK_BODY, strlen(OK_BODY));
}

static void run_under_limit(long soft, long hard, bool expect_warning)
{
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, answer_ok, NULL, RUN_BOUND_S + 10), 0);
	const char *eval =
	    write_eval(srv.base_url, (struct evalopt){.items = 60, .max_attempts = 1});
	const char *args[] = {"run",	       eval,  "-o", tpath("run"), "--quiet",
			      "--concurrency", "200", NULL};
	struct proc_out p = run_se_lim(args, "sk-test-net-key", soft, hard);
	rawsrv_stop(&srv);
	cr_assert_lt(p.status, 128, "%d: %s", p.status, p.err);
	struct rows r;
	load_rows(tpath("run"), &r);
	cr_assert_eq(r.n, 60, "%s", p.err);
	for (size_t i = 0; i < r.n; i++)
		cr_assert_str_eq(str_of(r.v[i], "status"), "ok", "%s: %s (stderr: %s)",
				 str_of(r.v[i], "item_id"), str_of(r.v[i], "error"), p.err);
	if (expect_warning)
		cr_assert(strstr(p.err, "--concurrency 200 needs about"), "%s", p.err);
	else
		cr_assert_null(strstr(p.err, "warning"), "%s", p.err);
	rows_free(&r);
	proc_out_free(&p);
}

Test(net, concurrency_over_a_hard_file_limit_is_clamped_not_blamed_on_the_model, .init = setup,
     .fini = teardown, .timeout = 120)
{
	run_under_limit(64, 64, true);
}

Test(net, a_low_soft_file_limit_is_raised_when_the_hard_one_allows, .init = setup, .fini = teardown,
     .timeout = 120)
{
	run_under_limit(64, 4096, false);
}

/* ---- 26: messages keep their cause -------------------------------------- */

static const char *error_of_one(const char *const *replies, const char *status)
{
	static char copy[700];
	struct rows r;
	struct proc_out p =
	    run_one(canned, (void *)replies, (struct evalopt){.max_attempts = 1}, &r, NULL);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), status);
	const char *e = str_of(r.v[0], "error");
	snprintf(copy, sizeof(copy), "%s", e ? e : "(null)");
	rows_free(&r);
	proc_out_free(&p);
	return copy;
}

Test(net, an_error_that_is_a_string_is_reported_as_such, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("200 OK", "") "{\"error\":\"just a string\"}", NULL};
	const char *e = error_of_one(replies, "bad_response");
	cr_assert(strstr(e, "just a string"), "%s", e);
	cr_assert_null(strstr(e, "choices"), "%s", e);
}

Test(net, an_error_code_that_is_not_a_string_is_shown, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {
	    JSON_HEAD("200 OK", "") "{\"error\":{\"code\":{\"n\":7},\"message\":\"quota\"}}", NULL};
	const char *e = error_of_one(replies, "bad_response");
	cr_assert(strstr(e, "{\"n\":7}") && strstr(e, "quota"), "%s", e);
}

Test(net, a_temporary_redirect_names_its_location, .init = setup, .fini = teardown)
{
	static const char *const replies[] = {"HTTP/1.1 307 Temporary Redirect\r\nLocation: "
					      "https://elsewhere.example/v1/chat/completions\r\n"
					      "Content-Length: 0\r\nConnection: close\r\n\r\n",
					      NULL};
	const char *e = error_of_one(replies, "bad_response");
	cr_assert(strstr(e, "HTTP 307") &&
		      strstr(e, "https://elsewhere.example/v1/chat/completions"),
		  "%s", e);
}

/* ---- latency leaves out the connection's set-up --------------------------- */

#define SETUP_DELAY_MS 1000

/* Reads exactly n bytes; -1 when the peer is gone first. */
static int read_full(int fd, void *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* A one-connection SOCKS5 proxy that is its own origin server: it answers
 * the SOCKS handshake only after SETUP_DELAY_MS (a slow connection set-up,
 * like a TLS handshake on a loaded gateway), then reads the HTTP request
 * and answers it at once. Runs in a child bounded by alarm(). */
static void socks_origin(int lfd)
{
	alarm(60);
	int fd = accept(lfd, NULL, NULL);
	unsigned char b[300];
	if (fd < 0 || read_full(fd, b, 2) || b[0] != 5 || read_full(fd, b + 2, b[1]))
		_exit(1);
	struct timespec ts = {SETUP_DELAY_MS / 1000, (SETUP_DELAY_MS % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* the delay under test, not a wait for an event */
	/* no authentication; then CONNECT to an IPv4 address, a name or IPv6 */
	if (rawsrv_write(fd, "\x05\x00", 2) || read_full(fd, b, 4))
		_exit(1);
	size_t rest = b[3] == 1 ? 6 : b[3] == 4 ? 18 : 0;
	if (b[3] == 3 && read_full(fd, b + 4, 1) == 0)
		rest = (size_t)b[4] + 2;
	if (!rest || read_full(fd, b, rest) ||
	    rawsrv_write(fd, "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10))
		_exit(1);
	/* the HTTP request: headers, then its Content-Length body */
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			_exit(1);
		n += (size_t)r;
		req[n] = '\0';
		char *end = strstr(req, "\r\n\r\n");
		const char *cl = strcasestr(req, "content-length:");
		if (end && cl && n >= (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10))
			break;
	}
	rawsrv_reply(fd, 200, "Content-Type: application/json\r\n", OK_BODY, strlen(OK_BODY));
	close(fd);
	_exit(0);
}

Test(net, latency_is_timed_from_the_request_not_from_the_connection_set_up, .init = setup,
     .fini = teardown, .timeout = 150)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		socks_origin(lfd);
	close(lfd);
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "socks5://127.0.0.1:%d", ntohs(a.sin_port));
	/* libcurl takes the proxy from the environment, as for any user */
	setenv("ALL_PROXY", proxy, 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	const char *eval = write_eval("http://127.0.0.1:9/v1", (struct evalopt){.max_attempts = 1});
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct proc_out p = run_eval(eval, tpath("run"), NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("ALL_PROXY");
	int st = 0;
	waitpid(pid, &st, 0);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the proxy failed (%d)", st);
	double wall_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_assert_geq(wall_ms, SETUP_DELAY_MS, "the set-up was not slow: %.0f ms", wall_ms);
	struct rows r;
	load_rows(tpath("run"), &r);
	cr_assert_eq(r.n, 1, "%s", p.err);
	cr_assert_str_eq(str_of(r.v[0], "status"), "ok", "%s", str_of(r.v[0], "error"));
	/* the reply came at once once the request was sent: the slow set-up is
	 * not the model's latency (with it, latency_ms >= SETUP_DELAY_MS) */
	double lat = num_of(r.v[0], "latency_ms");
	cr_assert(lat >= 0 && lat < SETUP_DELAY_MS / 2, "latency_ms %.1f", lat);
	rows_free(&r);
	proc_out_free(&p);
}
