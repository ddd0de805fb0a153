/* test_sim.c: end-to-end tests of shadowsim, the model simulator.
 *
 * Every test starts a real shadowsim on 127.0.0.1 with --port 0 (through
 * tests/support/simproc) and talks to it with libcurl: every endpoint,
 * streaming and not, each fault, bad requests, the eval-aware answers, the
 * determinism property, and a conformance check that parses shadowsim's
 * replies with the harness's own parsers (src/wire, src/sse) next to the
 * OpenRouter fixtures in tests/fixtures/wire/. Profiles and evals are in
 * tests/fixtures/sim/. No timed assertions: latency only decides ordering.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/simproc.h"
#include "checks/checks.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "core/jsonw.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "sse/sse.h"
#include "wire/wire.h"

#define FIX "tests/fixtures/sim/"
#define WIRE_FIX "tests/fixtures/wire/"

/* ---- a small libcurl client ---- */

struct reply {
	CURLcode rc;
	long status;
	struct buf body;
	char retry_after[32];
	char content_type[128];
	long connects;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return;
	const char *v = line + k + 1;
	const char *end = line + n;
	while (v < end && *v == ' ')
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	snprintf(out, size, "%.*s", (int)(end - v), v);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	header_value(p, size * n, "Retry-After", r->retry_after, sizeof(r->retry_after));
	header_value(p, size * n, "Content-Type", r->content_type, sizeof(r->content_type));
	return size * n;
}

static void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
}

/* Prepares h for one request: body NULL means GET. */
static struct curl_slist *prepare(CURL *h, const char *url, const char *body, int attempt,
				  const char *auth, long timeout_ms, struct reply *r)
{
	struct curl_slist *hl = NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 20000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		hl = curl_slist_append(hl, "Content-Type: application/json");
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	if (attempt > 0) {
		char line[64];
		snprintf(line, sizeof(line), "X-Shadoweval-Attempt: %d", attempt);
		hl = curl_slist_append(hl, line);
	}
	if (auth)
		hl = curl_slist_append(hl, auth);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	return hl;
}

static void finish(CURL *h, struct reply *r)
{
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
}

/* One request on handle h (a fresh one when NULL). */
static void request_on(CURL *h, const struct simproc *sp, const char *path, const char *body,
		       int attempt, const char *auth, long timeout_ms, struct reply *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", sp->base_url, path);
	bool own = !h;
	if (own)
		h = curl_easy_init();
	cr_assert(h);
	struct curl_slist *hl = prepare(h, url, body, attempt, auth, timeout_ms, r);
	r->rc = curl_easy_perform(h);
	finish(h, r);
	curl_slist_free_all(hl);
	if (own)
		curl_easy_cleanup(h);
}

static void request(const struct simproc *sp, const char *path, const char *body, int attempt,
		    long timeout_ms, struct reply *r)
{
	request_on(NULL, sp, path, body, attempt, NULL, timeout_ms, r);
}

/* {"model":M,"messages":[{"role":"user","content":U}],"stream":S} (malloc'd). */
static char *chat_body(const char *model, const char *user, bool stream)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"model\":");
	jsonw_str(&b, model);
	buf_puts(&b, ",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
		     "{\"role\":\"user\",\"content\":");
	jsonw_str(&b, user);
	buf_puts(&b, "}],\"stream\":");
	jsonw_bool(&b, stream);
	buf_putc(&b, '}');
	return buf_detach(&b, NULL);
}

static void chat(const struct simproc *sp, const char *model, const char *user, bool stream,
		 int attempt, struct reply *r)
{
	char *body = chat_body(model, user, stream);
	request(sp, "/chat/completions", body, attempt, 0, r);
	free(body);
}

/* ---- parsing with the harness's parsers ---- */

struct parsed {
	struct wire_reply w;
	int errors; /* chunks or bodies the parser rejected */
};

static int on_event(void *ctx, const char *data, size_t len)
{
	struct parsed *p = ctx;
	struct se_err err;
	if (wire_apply_chunk(data, len, &p->w, &err))
		p->errors++;
	return 0;
}

/* Feeds a stream to the SSE parser in small cuts, as the network would. */
static void parse_stream(const char *data, size_t len, struct parsed *p)
{
	wire_reply_init(&p->w);
	p->errors = 0;
	struct sse_parser sse;
	sse_init(&sse);
	for (size_t off = 0; off < len; off += 7) {
		size_t n = len - off < 7 ? len - off : 7;
		if (sse_feed(&sse, data + off, n, on_event, p) < 0)
			p->errors++;
	}
	sse_finish(&sse, on_event, p);
	sse_free(&sse);
}

static void parse_completion(const char *data, size_t len, struct parsed *p)
{
	struct se_err err;
	wire_reply_init(&p->w);
	p->errors = wire_parse_completion(data, len, &p->w, &err) ? 1 : 0;
}

static void parse_reply(const struct reply *r, bool stream, struct parsed *p)
{
	if (stream)
		parse_stream(r->body.data, r->body.len, p);
	else
		parse_completion(r->body.data, r->body.len, p);
}

static int error_code(const struct buf *body)
{
	int code = -1;
	char msg[512];
	double ra;
	if (wire_parse_error(body->data, body->len, &code, msg, sizeof(msg), &ra))
		return -1;
	return code;
}

/* ---- the default server ---- */

static struct simproc sp;

static void start_default(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_eq(simproc_start(&sp, FIX "profiles.json", NULL, NULL), 0, "%s", sp.error);
}

static void stop_default(void)
{
	simproc_stop(&sp);
	curl_global_cleanup();
}

TestSuite(sim, .init = start_default, .fini = stop_default, .timeout = 30);

struct price_seen {
	int n;
	bool found;
	struct wire_model_price fast;
};

static int on_model(void *ctx, const struct wire_model_price *m)
{
	struct price_seen *s = ctx;
	s->n++;
	if (strcmp(m->id, "sim/fast") == 0) {
		s->found = true;
		s->fast = *m;
		s->fast.id = NULL;
	}
	return 0;
}

Test(sim, models_lists_every_profile_with_its_prices)
{
	const char *paths[] = {"/models", NULL};
	for (size_t i = 0; paths[i]; i++) {
		struct reply r;
		reply_init(&r);
		request(&sp, paths[i], NULL, 0, 0, &r);
		cr_assert_eq(r.rc, CURLE_OK);
		cr_assert_eq(r.status, 200);
		cr_assert_str_eq(r.content_type, "application/json");
		struct price_seen s = {0};
		struct se_err err;
		cr_assert_eq(
		    wire_parse_models(r.body.data, r.body.len, "models", on_model, &s, &err), 0,
		    "%s: %s", err.where, err.msg);
		cr_assert_eq(s.n, 16);
		cr_assert(s.found);
		cr_assert_eq(s.fast.prompt, 0.000001);
		cr_assert_eq(s.fast.completion, 0.000004);
		cr_assert_eq(s.fast.request, 0.0001);
		cr_assert_eq(s.fast.context_length, 100000);
		/* OpenRouter writes prices as decimal strings, never exponents. */
		cr_assert(strstr(r.body.data, "\"prompt\":\"0.000001\""));
		buf_free(&r.body);
	}
}

Test(sim, models_is_also_served_under_api_v1)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/models", sp.port);
	CURL *h = curl_easy_init();
	struct reply r;
	reply_init(&r);
	struct curl_slist *hl = prepare(h, url, NULL, 0, NULL, 0, &r);
	r.rc = curl_easy_perform(h);
	finish(h, &r);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body.data, "\"sim/slow\""));
	buf_free(&r.body);
}

Test(sim, completion_reports_model_usage_and_cost)
{
	struct reply r;
	reply_init(&r);
	/* "Be brief." (9) + 25 chars = 34 code points: 8 prompt tokens. */
	chat(&sp, "sim/fast", "hello world, how are you?", false, 0, &r);
	cr_assert_eq(r.rc, CURLE_OK);
	cr_assert_eq(r.status, 200);
	struct parsed p;
	parse_completion(r.body.data, r.body.len, &p);
	cr_assert_eq(p.errors, 0);
	cr_assert_str_eq(p.w.model, "sim/fast");
	cr_assert_str_eq(p.w.finish_reason, "stop");
	cr_assert_gt(p.w.content.len, 0);
	cr_assert(p.w.usage.present);
	cr_assert_eq(p.w.usage.prompt_tokens, 8);
	long ct = (long)utf8_count(p.w.content.data, p.w.content.len) / 4;
	cr_assert_eq(p.w.usage.completion_tokens, ct);
	cr_assert(p.w.usage.has_cost);
	double want = 8 * 0.000001 + (double)ct * 0.000004 + 0.0001;
	cr_assert(fabs(p.w.usage.cost - want) < 1e-15, "cost %g, want %g", p.w.usage.cost, want);
	wire_reply_free(&p.w);
	buf_free(&r.body);
}

Test(sim, stream_sends_chunks_usage_and_done_with_the_same_answer)
{
	const char *models[] = {"sim/fast", "sim/slow"};
	for (size_t i = 0; i < 2; i++) {
		struct reply whole, str;
		reply_init(&whole);
		reply_init(&str);
		chat(&sp, models[i], "tell me a story", false, 0, &whole);
		chat(&sp, models[i], "tell me a story", true, 0, &str);
		cr_assert_eq(str.rc, CURLE_OK);
		cr_assert_eq(str.status, 200);
		cr_assert_str_eq(str.content_type, "text/event-stream");
		cr_assert(strstr(str.body.data, ": OPENROUTER PROCESSING\n\n"));
		cr_assert(strstr(str.body.data, "data: [DONE]\n\n"));
		struct parsed a, b;
		parse_completion(whole.body.data, whole.body.len, &a);
		parse_stream(str.body.data, str.body.len, &b);
		cr_assert_eq(a.errors + b.errors, 0);
		cr_assert(b.w.done);
		cr_assert_gt(b.w.n_chunks, 5);
		cr_assert_str_eq(b.w.finish_reason, "stop");
		cr_assert_str_eq(b.w.model, models[i]);
		cr_assert(b.w.usage.present && b.w.usage.has_cost);
		cr_assert_eq(b.w.usage.completion_tokens, a.w.usage.completion_tokens);
		cr_assert_eq(b.w.content.len, a.w.content.len);
		cr_assert_arr_eq(b.w.content.data, a.w.content.data, a.w.content.len);
		wire_reply_free(&a.w);
		wire_reply_free(&b.w);
		buf_free(&whole.body);
		buf_free(&str.body);
	}
}

Test(sim, keep_alive_reuses_one_connection)
{
	CURL *h = curl_easy_init();
	char *body = chat_body("sim/fast", "ping", false);
	long connects[3];
	for (int i = 0; i < 3; i++) {
		struct reply r;
		reply_init(&r);
		request_on(h, &sp, "/chat/completions", body, 0, NULL, 0, &r);
		cr_assert_eq(r.status, 200);
		connects[i] = r.connects;
		buf_free(&r.body);
	}
	cr_assert_eq(connects[0], 1);
	cr_assert_eq(connects[1], 0);
	cr_assert_eq(connects[2], 0);
	free(body);
	curl_easy_cleanup(h);
}

Test(sim, rate_limit_fault_sends_429_with_retry_after)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/rate_limit", "hi", stream, 0, &r);
		cr_assert_eq(r.rc, CURLE_OK);
		cr_assert_eq(r.status, 429);
		cr_assert_str_eq(r.retry_after, "3");
		cr_assert_eq(error_code(&r.body), 429);
		buf_free(&r.body);
	}
}

Test(sim, server_error_faults_send_their_status_in_openrouter_shape)
{
	const char *models[] = {"fault/http_500", "fault/http_502", "fault/http_503"};
	const int codes[] = {500, 502, 503};
	for (size_t i = 0; i < 3; i++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, models[i], "hi", i == 1, 0, &r);
		cr_assert_eq(r.status, codes[i]);
		cr_assert_eq(error_code(&r.body), codes[i]);
		buf_free(&r.body);
	}
}

Test(sim, stall_fault_outlasts_the_client_timeout)
{
	for (int stream = 0; stream < 2; stream++) {
		char *body = chat_body("fault/stall", "hi", stream);
		struct reply r;
		reply_init(&r);
		request(&sp, "/chat/completions", body, 0, 500, &r);
		cr_assert_eq(r.rc, CURLE_OPERATION_TIMEDOUT, "got %s", curl_easy_strerror(r.rc));
		cr_assert_eq(r.body.len, 0);
		free(body);
		buf_free(&r.body);
	}
}

Test(sim, drop_fault_closes_the_connection_without_a_response)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/drop", "hi", stream, 0, &r);
		cr_assert_eq(r.rc, CURLE_GOT_NOTHING, "got %s", curl_easy_strerror(r.rc));
		cr_assert_eq(r.status, 0);
		buf_free(&r.body);
	}
}

Test(sim, malformed_fault_sends_200_that_does_not_parse)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/malformed", "hi", stream, 0, &r);
		cr_assert_eq(r.rc, CURLE_OK);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_gt(p.errors, 0, "stream=%d: the malformed reply parsed", stream);
		cr_assert_not(p.w.done);
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
}

Test(sim, truncate_fault_cuts_body_and_stream)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/truncate", "hi", stream, 0, &r);
		/* the server closes the connection: not a clean end, not a
		 * client timeout */
		cr_assert_eq(r.rc, CURLE_PARTIAL_FILE, "stream=%d: got %s", stream,
			     curl_easy_strerror(r.rc));
		cr_assert_eq(r.status, 200);
		cr_assert_gt(r.body.len, 0);
		struct parsed p;
		parse_reply(&r, stream, &p);
		if (stream) {
			cr_assert_eq(p.errors, 0);
			cr_assert_gt(p.w.content.len, 0);
			cr_assert_str_eq(p.w.finish_reason, "");
			cr_assert_not(p.w.done);
		} else {
			cr_assert_eq(p.errors, 1);
		}
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
}

Test(sim, midstream_error_fault_ends_with_an_error_chunk)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/midstream_error", "hi", stream, 0, &r);
		cr_assert_eq(r.rc, CURLE_OK);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_eq(p.errors, 0);
		cr_assert(p.w.error);
		cr_assert_str_eq(p.w.finish_reason, "error");
		cr_assert_str_eq(p.w.error_code, "502");
		cr_assert_gt(p.w.content.len, 0);
		cr_assert_not(p.w.done);
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
}

Test(sim, empty_fault_returns_empty_content)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/empty", "hi", stream, 0, &r);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_eq(p.errors, 0);
		cr_assert_eq(p.w.content.len, 0);
		cr_assert_str_eq(p.w.finish_reason, "stop");
		cr_assert_not(p.w.error);
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
}

Test(sim, first_attempts_fail_then_the_retry_succeeds)
{
	const long want[] = {502, 502, 200, 200};
	for (int attempt = 1; attempt <= 4; attempt++) {
		struct reply r;
		reply_init(&r);
		chat(&sp, "fault/flaky", "hi", false, attempt, &r);
		cr_assert_eq(r.status, want[attempt - 1], "attempt %d: %ld", attempt, r.status);
		buf_free(&r.body);
	}
}

Test(sim, fallback_list_is_served_by_the_next_model)
{
	struct reply r;
	reply_init(&r);
	request(&sp, "/chat/completions",
		"{\"model\":\"fault/http_503\",\"models\":[\"sim/fast\"],"
		"\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
		0, 0, &r);
	cr_assert_eq(r.status, 200);
	struct parsed p;
	parse_completion(r.body.data, r.body.len, &p);
	cr_assert_str_eq(p.w.model, "sim/fast");
	wire_reply_free(&p.w);
	buf_free(&r.body);
}

Test(sim, bad_requests_get_400_in_openrouter_shape)
{
	static const char *const bodies[] = {
	    "{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}",
	    "not json at all",
	    "[1,2,3]",
	    "{\"model\":\"nobody/none\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    "{\"model\":\"sim/fast\"}",
	    "{\"model\":\"sim/fast\",\"messages\":\"hi\"}",
	    "{\"model\":\"sim/fast\",\"messages\":[{\"content\":\"hi\"}]}",
	    "{\"model\":\"sim/"
	    "fast\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    "",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct reply r;
		reply_init(&r);
		request(&sp, "/chat/completions", bodies[i], 0, 0, &r);
		cr_assert_eq(r.status, 400, "body %zu: status %ld", i, r.status);
		cr_assert_eq(error_code(&r.body), 400, "body %zu: %s", i, r.body.data);
		if (i == 3)
			cr_assert(strstr(r.body.data, "nobody/none is not a valid model ID"));
		buf_free(&r.body);
	}
}

Test(sim, over_long_prompt_gets_the_context_length_error)
{
	struct reply r;
	reply_init(&r);
	chat(&sp, "sim/small_ctx", "this prompt is longer than forty characters, so it overflows",
	     false, 0, &r);
	cr_assert_eq(r.status, 400);
	cr_assert_eq(error_code(&r.body), 400);
	cr_assert(strstr(r.body.data, "maximum context length is 10 tokens"), "%s", r.body.data);
	cr_assert(strstr(r.body.data, "context_length_exceeded"));
	buf_free(&r.body);
}

Test(sim, unknown_path_is_404_and_wrong_method_405)
{
	struct reply r;
	reply_init(&r);
	request(&sp, "/nothing/here", NULL, 0, 0, &r);
	cr_assert_eq(r.status, 404);
	cr_assert_eq(error_code(&r.body), 404);
	buf_free(&r.body);
	reply_init(&r);
	request(&sp, "/chat/completions", NULL, 0, 0, &r);
	cr_assert_eq(r.status, 405);
	buf_free(&r.body);
}

Test(sim, max_tokens_cuts_the_answer_with_finish_reason_length)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		char body[256];
		snprintf(body, sizeof(body),
			 "{\"model\":\"sim/fast\",\"max_tokens\":3,\"stream\":%s,"
			 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
			 stream ? "true" : "false");
		request(&sp, "/chat/completions", body, 0, 0, &r);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_eq(p.errors, 0);
		cr_assert_str_eq(p.w.finish_reason, "length");
		cr_assert_leq(p.w.usage.completion_tokens, 3);
		cr_assert_leq(p.w.content.len, 12);
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
}

/* ---- conformance: shadowsim and the fixtures through the same parsers ---- */

static void parse_file(const char *name, bool stream, struct parsed *p, struct buf *keep)
{
	char path[256], *data;
	size_t len;
	struct se_err err;
	snprintf(path, sizeof(path), WIRE_FIX "%s", name);
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0, "%s", err.msg);
	if (stream)
		parse_stream(data, len, p);
	else
		parse_completion(data, len, p);
	if (keep) {
		buf_init(keep);
		buf_append(keep, data, len);
	}
	free(data);
}

/* The fields a harness relies on are present in both, or absent in both. */
static void assert_same_shape(const struct parsed *fix, const struct parsed *sim)
{
	cr_assert_eq(fix->errors, 0);
	cr_assert_eq(sim->errors, 0);
	cr_assert_eq(fix->w.model[0] != 0, sim->w.model[0] != 0);
	cr_assert_str_eq(fix->w.finish_reason, sim->w.finish_reason);
	cr_assert_eq(fix->w.usage.present, sim->w.usage.present);
	cr_assert_eq(fix->w.usage.has_cost, sim->w.usage.has_cost);
	cr_assert_eq(fix->w.usage.prompt_tokens > 0, sim->w.usage.prompt_tokens > 0);
	cr_assert_eq(fix->w.usage.completion_tokens > 0, sim->w.usage.completion_tokens > 0);
	cr_assert_eq(fix->w.error, sim->w.error);
	cr_assert_str_eq(fix->w.error_code, sim->w.error_code);
	cr_assert_eq(fix->w.done, sim->w.done);
	cr_assert_eq(fix->w.content.len > 0, sim->w.content.len > 0);
	cr_assert_eq(fix->w.n_chunks > 0, sim->w.n_chunks > 0);
}

Test(sim, conformance_completion_parses_like_the_fixture)
{
	struct parsed fix, sim;
	parse_file("chat_completion.json", false, &fix, NULL);
	struct reply r;
	reply_init(&r);
	chat(&sp, "sim/fast", "what is the capital of France?", false, 0, &r);
	parse_completion(r.body.data, r.body.len, &sim);
	assert_same_shape(&fix, &sim);
	wire_reply_free(&fix.w);
	wire_reply_free(&sim.w);
	buf_free(&r.body);
}

Test(sim, conformance_stream_parses_like_the_fixture)
{
	struct parsed fix, sim;
	struct buf raw;
	parse_file("stream_ok.sse", true, &fix, &raw);
	struct reply r;
	reply_init(&r);
	chat(&sp, "sim/slow", "say hello", true, 0, &r);
	parse_stream(r.body.data, r.body.len, &sim);
	assert_same_shape(&fix, &sim);
	/* Both open with a keep-alive comment and end with [DONE]. */
	cr_assert_eq(strncmp(raw.data, ": OPENROUTER PROCESSING\n\n", 25), 0);
	cr_assert_eq(strncmp(r.body.data, ": OPENROUTER PROCESSING\n\n", 25), 0);
	const char *tail = "data: [DONE]\n\n";
	cr_assert_str_eq(r.body.data + r.body.len - strlen(tail), tail);
	wire_reply_free(&fix.w);
	wire_reply_free(&sim.w);
	buf_free(&raw);
	buf_free(&r.body);
}

Test(sim, conformance_midstream_error_parses_like_the_fixture)
{
	struct parsed fix, sim;
	parse_file("stream_midstream_error.sse", true, &fix, NULL);
	struct reply r;
	reply_init(&r);
	chat(&sp, "fault/midstream_error", "once upon a time", true, 0, &r);
	parse_stream(r.body.data, r.body.len, &sim);
	assert_same_shape(&fix, &sim);
	wire_reply_free(&fix.w);
	wire_reply_free(&sim.w);
	buf_free(&r.body);
}

Test(sim, conformance_errors_parse_like_the_fixtures)
{
	static const struct {
		const char *fixture;
		const char *model;
		int code;
	} cases[] = {
	    {"error_429.json", "fault/rate_limit", 429},
	    {"error_502.json", "fault/http_502", 502},
	    {"error_503.json", "fault/http_503", 503},
	    {"error_400.json", "nobody/none", 400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256], *data, fmsg[512], smsg[512];
		size_t len;
		struct se_err err;
		int fcode, scode;
		double fra, sra;
		snprintf(path, sizeof(path), WIRE_FIX "%s", cases[i].fixture);
		cr_assert_eq(fio_read_all(path, &data, &len, &err), 0);
		cr_assert_eq(wire_parse_error(data, len, &fcode, fmsg, sizeof(fmsg), &fra), 0);
		free(data);
		struct reply r;
		reply_init(&r);
		chat(&sp, cases[i].model, "hi", false, 0, &r);
		cr_assert_eq(r.status, cases[i].code);
		cr_assert_eq(
		    wire_parse_error(r.body.data, r.body.len, &scode, smsg, sizeof(smsg), &sra), 0);
		cr_assert_eq(fcode, cases[i].code);
		cr_assert_eq(scode, fcode);
		cr_assert_eq(fmsg[0] != 0, smsg[0] != 0);
		buf_free(&r.body);
	}
}

struct model_count {
	int n;
	int priced;
};

static int count_model(void *ctx, const struct wire_model_price *m)
{
	struct model_count *c = ctx;
	c->n++;
	if (m->prompt >= 0 && m->completion >= 0 && m->context_length > 0)
		c->priced++;
	return 0;
}

Test(sim, conformance_models_parse_like_the_fixture)
{
	char *data;
	size_t len;
	struct se_err err;
	cr_assert_eq(fio_read_all(WIRE_FIX "models.json", &data, &len, &err), 0);
	struct model_count fix = {0}, sim = {0};
	cr_assert_eq(wire_parse_models(data, len, "models.json", count_model, &fix, &err), 0);
	free(data);
	struct reply r;
	reply_init(&r);
	request(&sp, "/models", NULL, 0, 0, &r);
	cr_assert_eq(wire_parse_models(r.body.data, r.body.len, "sim", count_model, &sim, &err), 0);
	cr_assert_gt(fix.n, 0);
	cr_assert_eq(fix.priced, fix.n);
	cr_assert_eq(sim.n, 16);
	cr_assert_eq(sim.priced, sim.n);
	buf_free(&r.body);
}

/* ---- tests that start their own servers ---- */

static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void fini_curl(void)
{
	curl_global_cleanup();
}

TestSuite(simproc, .init = init_curl, .fini = fini_curl, .timeout = 30);

/* The requests an eval would send: each item of cfg rendered, for a model. */
struct item_req {
	char *body;
	char *expected[4];
	size_t n_expected;
	int attempt;
	bool stream;
	struct reply r;
};

static size_t eval_requests(const char *eval, const char *model, struct item_req *out, size_t cap,
			    struct cfg **cfg_out)
{
	struct cfg *cfg;
	struct se_err err;
	cr_assert_eq(cfg_load(eval, &cfg, &err), 0, "%s: %s", err.where, err.msg);
	struct ds_reader *rd;
	cr_assert_eq(ds_open(&rd, &cfg->dataset, &err), 0, "%s", err.msg);
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	size_t n = 0;
	while (n < cap && ds_next(rd, &it, &err) == 1) {
		struct buf msgs, body;
		buf_init(&msgs);
		buf_init(&body);
		long est;
		cr_assert_eq(prompt_render(cfg, &it, &msgs, &est, &err), 0, "%s", err.msg);
		wire_build_request(&body, model, msgs.data, msgs.len, &cfg->params);
		memset(&out[n], 0, sizeof(out[n]));
		out[n].body = buf_detach(&body, NULL);
		for (size_t k = 0; k < it.n_expected && k < 4; k++)
			out[n].expected[out[n].n_expected++] = strdup(it.expected[k]);
		out[n].attempt = 1;
		buf_free(&msgs);
		n++;
	}
	ds_item_clear(&it);
	ds_close(rd);
	*cfg_out = cfg;
	return n;
}

static void item_reqs_free(struct item_req *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].body);
		for (size_t k = 0; k < v[i].n_expected; k++)
			free(v[i].expected[k]);
		buf_free(&v[i].r.body);
	}
}

static bool answer_passes(const struct cfg *cfg, const struct item_req *q)
{
	struct parsed p;
	parse_completion(q->r.body.data, q->r.body.len, &p);
	cr_assert_eq(p.errors, 0, "%s", q->r.body.data);
	struct chk_outcome o;
	memset(&o, 0, sizeof(o));
	struct chk_item it = {.expected = (const char *const *)q->expected,
			      .n_expected = q->n_expected};
	chk_eval(&cfg->checks, &it, p.w.content.data, p.w.content.len, &o);
	bool pass = o.pass;
	chk_outcome_free(&o);
	wire_reply_free(&p.w);
	return pass;
}

static void check_eval_answers(const char *eval)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles_eval.json", eval, NULL), 0, "%s", s.error);
	const char *models[] = {"sim/right", "sim/wrong"};
	for (size_t m = 0; m < 2; m++) {
		struct item_req q[16];
		struct cfg *cfg;
		size_t n = eval_requests(eval, models[m], q, 16, &cfg);
		cr_assert_eq(n, 8);
		for (size_t i = 0; i < n; i++) {
			reply_init(&q[i].r);
			request(&s, "/chat/completions", q[i].body, 1, 0, &q[i].r);
			cr_assert_eq(q[i].r.status, 200);
			bool pass = answer_passes(cfg, &q[i]);
			cr_assert_eq(pass, m == 0, "%s item %zu: %s", models[m], i,
				     q[i].r.body.data);
		}
		item_reqs_free(q, n);
		cfg_free(cfg);
	}
	cr_assert_eq(simproc_stop(&s), 0);
}

Test(simproc, eval_answers_pass_or_fail_the_eval_checks)
{
	check_eval_answers(FIX "eval.json");
}

Test(simproc, eval_answers_fit_exact_match_checks_too)
{
	check_eval_answers(FIX "eval_exact.json");
}

/* Runs every request with at most `parallel` in flight, in order or reversed. */
static void run_parallel(const struct simproc *s, struct item_req *q, size_t n, size_t parallel,
			 bool reverse)
{
	CURLM *multi = curl_multi_init();
	CURL *handles[64] = {0};
	struct curl_slist *lists[64] = {0};
	size_t next = 0, running = 0;
	char url[256];
	snprintf(url, sizeof(url), "%s/chat/completions", s->base_url);
	cr_assert_leq(n, 64);
	for (;;) {
		while (running < parallel && next < n) {
			size_t i = reverse ? n - 1 - next : next;
			handles[i] = curl_easy_init();
			reply_init(&q[i].r);
			lists[i] =
			    prepare(handles[i], url, q[i].body, q[i].attempt, NULL, 20000, &q[i].r);
			curl_easy_setopt(handles[i], CURLOPT_PRIVATE, (char *)&q[i]);
			curl_multi_add_handle(multi, handles[i]);
			next++;
			running++;
		}
		int still = 0;
		curl_multi_perform(multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct item_req *qq;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&qq);
			qq->r.rc = msg->data.result;
			finish(msg->easy_handle, &qq->r);
			curl_multi_remove_handle(multi, msg->easy_handle);
			running--;
		}
		if (running == 0 && next == n)
			break;
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		curl_easy_cleanup(handles[i]);
		curl_slist_free_all(lists[i]);
	}
	curl_multi_cleanup(multi);
}

/* What a client sees of a reply, as one comparable string. */
static void outcome(const struct item_req *q, struct buf *out)
{
	struct parsed p;
	buf_printf(out, "rc=%d status=%ld ", (int)q->r.rc, q->r.status);
	if (q->r.status != 200) {
		buf_append(out, q->r.body.data, q->r.body.len);
		return;
	}
	parse_reply(&q->r, q->stream, &p);
	buf_printf(out, "errors=%d finish=%s error=%d tokens=%ld content=", p.errors,
		   p.w.finish_reason, p.w.error, p.w.usage.completion_tokens);
	buf_append(out, p.w.content.data, p.w.content.len);
	wire_reply_free(&p.w);
}

/* 8 items x attempts 1..3 x {plain, stream} against sim/coin. */
static size_t coin_requests(struct item_req *q)
{
	size_t n = 0;
	for (int attempt = 1; attempt <= 3; attempt++) {
		for (int stream = 0; stream < 2; stream++) {
			struct cfg *cfg;
			size_t k = eval_requests(FIX "eval.json", "sim/coin", q + n, 8, &cfg);
			for (size_t i = 0; i < k; i++) {
				q[n + i].attempt = attempt;
				q[n + i].stream = stream;
				if (stream) {
					/* wire_build_request sets stream from params */
					char *b = q[n + i].body;
					size_t len = strlen(b);
					b[len - 1] = '\0';
					struct buf nb;
					buf_init(&nb);
					buf_printf(&nb, "%s,\"stream\":true}", b);
					free(b);
					q[n + i].body = buf_detach(&nb, NULL);
				}
			}
			n += k;
			cfg_free(cfg);
		}
	}
	return n;
}

static void run_coin(const char *const *args, size_t parallel, bool reverse, struct buf *out)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles_eval.json", FIX "eval.json", args), 0, "%s",
		     s.error);
	struct item_req q[48];
	size_t n = coin_requests(q);
	cr_assert_eq(n, 48);
	run_parallel(&s, q, n, parallel, reverse);
	for (size_t i = 0; i < n; i++) {
		outcome(&q[i], out);
		buf_putc(out, '\n');
	}
	item_reqs_free(q, n);
	cr_assert_eq(simproc_stop(&s), 0);
}

Test(simproc, same_seed_gives_identical_replies_whatever_the_concurrency)
{
	const char *seed1[] = {"--seed", "1234", NULL};
	const char *seed2[] = {"--seed", "999", NULL};
	struct buf a, b, c;
	buf_init(&a);
	buf_init(&b);
	buf_init(&c);
	run_coin(seed1, 1, false, &a);
	run_coin(seed1, 16, true, &b);
	run_coin(seed2, 16, false, &c);
	cr_assert_eq(a.len, b.len);
	cr_assert_str_eq(a.data, b.data);
	/* The draws really vary: faults and both kinds of answers occur, and
	 * another seed draws differently. */
	cr_assert(strstr(a.data, "status=429"));
	cr_assert(strstr(a.data, "status=200"));
	cr_assert(strstr(a.data, "finish=error"));
	cr_assert_str_neq(a.data, c.data);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

Test(simproc, require_key_rejects_a_request_without_bearer)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles_key.json", NULL, NULL), 0, "%s", s.error);
	char *body = chat_body("sim/fast", "hi", false);
	const char *auths[] = {NULL, "Authorization: Basic abc", "Authorization: Bearer ",
			       "Authorization: Bearer sk-or-v1-test"};
	const long want[] = {401, 401, 401, 200};
	for (size_t i = 0; i < 4; i++) {
		struct reply r;
		reply_init(&r);
		request_on(NULL, &s, "/chat/completions", body, 0, auths[i], 0, &r);
		cr_assert_eq(r.status, want[i], "case %zu: %ld", i, r.status);
		if (want[i] == 401)
			cr_assert_eq(error_code(&r.body), 401);
		buf_free(&r.body);
	}
	free(body);
	cr_assert_eq(simproc_stop(&s), 0);
}

/* Runs shadowsim with args, returns its exit status; its stderr into out. */
static int run_sim(const char *args, struct buf *out)
{
	const char *dir = getenv("SE_BIN_DIR");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s/shadowsim %s 2>&1 >/dev/null </dev/null",
		 dir && *dir ? dir : "build/asan/bin", args);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char chunk[512];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(out, chunk, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(simproc, bad_profiles_exit_2_naming_the_file_and_path)
{
	static const struct {
		const char *args;
		const char *message;
	} cases[] = {
	    {"--port 0 --profiles " FIX "bad_unknown_key.json",
	     FIX "bad_unknown_key.json: models[\"sim/a\"].latency.ttft: unknown key"},
	    {"--port 0 --profiles " FIX "bad_rates.json",
	     FIX "bad_rates.json: models[\"sim/a\"].faults: fault rates add up to more than 1"},
	    {"--port 0 --profiles " FIX "bad_json.json", FIX "bad_json.json:1:"},
	    {"--port 0 --profiles " FIX "missing.json", FIX "missing.json"},
	    {"--profiles " FIX "profiles.json", "--port is required"},
	    {"--port 0 --profiles " FIX "profiles.json --bogus", "unknown option \"--bogus\""},
	    {"--port 0 --profiles " FIX "profiles.json --eval " FIX "missing-eval.json",
	     "missing-eval.json"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out;
		buf_init(&out);
		int st = run_sim(cases[i].args, &out);
		cr_assert_eq(st, 2, "case %zu: exit %d: %s", i, st, out.data);
		cr_assert(strstr(out.data, cases[i].message), "case %zu: %s", i, out.data);
		buf_free(&out);
	}
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "bad_rates.json", NULL, NULL), -1);
	cr_assert_eq(s.status, 2);
}

Test(simproc, profile_errors_name_the_path_type_and_bound)
{
	static const struct {
		const char *file;
		const char *message;
	} cases[] = {
	    {"bad_range.json",
	     "bad_range.json: models[\"sim/a\"].accuracy.default: out of range (expected 0..1)"},
	    {"bad_type.json",
	     "bad_type.json: models[\"sim/a\"].latency.ttft_ms: expected a number"},
	    {"bad_root_key.json", "bad_root_key.json: modles: unknown key \"modles\""},
	    {"bad_tps.json", "bad_tps.json: models[\"m/inf\"].latency.tokens_per_s: out of range "
			     "(expected 0 for instant, or 0.01..1e+09)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[256];
		snprintf(args, sizeof(args), "--port 0 --profiles " FIX "%s", cases[i].file);
		struct buf out;
		buf_init(&out);
		int st = run_sim(args, &out);
		cr_assert_eq(st, 2, "case %zu: exit %d: %s", i, st, out.data);
		cr_assert(strstr(out.data, cases[i].message), "case %zu: %s", i, out.data);
		buf_free(&out);
	}
}

Test(simproc, sigterm_stops_cleanly_with_requests_in_flight)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles.json", NULL, NULL), 0, "%s", s.error);
	/* Slow streams parked between tokens and stalled requests parked
	 * before their reply: the server must wake and close them all. */
	struct item_req q[12];
	memset(q, 0, sizeof(q));
	for (size_t i = 0; i < 12; i++) {
		q[i].stream = i % 2 == 0;
		q[i].body =
		    chat_body(i % 2 ? "fault/stall" : "sim/crawl", "a long story", q[i].stream);
		q[i].attempt = 1;
	}
	CURLM *multi = curl_multi_init();
	CURL *h[12];
	struct curl_slist *hl[12];
	char url[256];
	snprintf(url, sizeof(url), "%s/chat/completions", s.base_url);
	for (size_t i = 0; i < 12; i++) {
		h[i] = curl_easy_init();
		reply_init(&q[i].r);
		hl[i] = prepare(h[i], url, q[i].body, 1, NULL, 20000, &q[i].r);
		curl_multi_add_handle(multi, h[i]);
	}
	/* Until every stream has sent its first bytes. */
	for (int round = 0; round < 400; round++) {
		int still;
		curl_multi_perform(multi, &still);
		size_t started = 0;
		for (size_t i = 0; i < 12; i += 2)
			started += q[i].r.body.len > 0;
		if (started == 6)
			break;
		curl_multi_poll(multi, NULL, 0, 50, NULL);
	}
	for (size_t i = 0; i < 12; i += 2)
		cr_assert_gt(q[i].r.body.len, 0);
	cr_assert_eq(simproc_stop(&s), 0);
	for (size_t i = 0; i < 12; i++) {
		curl_multi_remove_handle(multi, h[i]);
		curl_easy_cleanup(h[i]);
		curl_slist_free_all(hl[i]);
	}
	curl_multi_cleanup(multi);
	item_reqs_free(q, 12);
}

/* ---- the truncate fault closes its connection, and only that one ---- */

#define CUT_FIX FIX "profiles_truncate.json"
#define CUT_TIMEOUT_MS 8000L

/* cut/zero, ok/zero, cut/paced, ok/paced, in turn. */
static const char *mixed_model(size_t i)
{
	static const char *const models[] = {"cut/zero", "ok/zero", "cut/paced", "ok/paced"};
	return models[i % 4];
}

/* What a reply must look like: a cut one ends with the connection closed
 * under it (CURLE_PARTIAL_FILE, never a client timeout), a healthy one is
 * complete (200, parses, has a finish_reason, and [DONE] for a stream). */
static void assert_outcome(const char *model, bool stream, const struct reply *r, const char *ctx)
{
	if (strncmp(model, "cut/", 4) == 0) {
		cr_assert_eq(r->rc, CURLE_PARTIAL_FILE, "%s %s stream=%d: got %s", ctx, model,
			     stream, curl_easy_strerror(r->rc));
		cr_assert_eq(r->status, 200);
		cr_assert_gt(r->body.len, 0);
		return;
	}
	cr_assert_eq(r->rc, CURLE_OK, "%s %s stream=%d: got %s", ctx, model, stream,
		     curl_easy_strerror(r->rc));
	cr_assert_eq(r->status, 200, "%s %s stream=%d: status %ld", ctx, model, stream, r->status);
	struct parsed p;
	parse_reply(r, stream, &p);
	cr_assert_eq(p.errors, 0, "%s %s stream=%d: the reply does not parse", ctx, model, stream);
	cr_assert_gt(p.w.content.len, 0);
	cr_assert_str_neq(p.w.finish_reason, "", "%s %s stream=%d: no finish_reason", ctx, model,
			  stream);
	if (stream)
		cr_assert(p.w.done, "%s %s: the stream has no [DONE]", ctx, model);
	wire_reply_free(&p.w);
}

Test(simproc, truncated_replies_end_with_the_connection_closed)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, CUT_FIX, NULL, NULL), 0, "%s", s.error);
	/* One handle, so a healthy request follows each cut one the way a
	 * keep-alive client sends it. */
	CURL *h = curl_easy_init();
	for (size_t i = 0; i < 8; i++) {
		bool stream = i / 4 == 1;
		const char *model = mixed_model(i);
		char *body = chat_body(model, "tell me a story", stream);
		struct reply r;
		reply_init(&r);
		request_on(h, &s, "/chat/completions", body, 1, NULL, CUT_TIMEOUT_MS, &r);
		assert_outcome(model, stream, &r, "sequential");
		buf_free(&r.body);
		free(body);
	}
	curl_easy_cleanup(h);
	cr_assert_eq(simproc_stop(&s), 0);
}

/* All n requests at once on one multi handle; with pipewait, as shadoweval
 * sets it, transfers may wait for a busy connection instead of opening
 * their own, so a cut reply that is not closed holds them up too. */
static void run_mixed(const struct simproc *s, struct item_req *q, size_t n, bool pipewait)
{
	CURLM *multi = curl_multi_init();
	CURL *h[32];
	struct curl_slist *hl[32];
	char url[256];
	snprintf(url, sizeof(url), "%s/chat/completions", s->base_url);
	cr_assert_leq(n, 32);
	for (size_t i = 0; i < n; i++) {
		h[i] = curl_easy_init();
		reply_init(&q[i].r);
		hl[i] = prepare(h[i], url, q[i].body, 1, NULL, CUT_TIMEOUT_MS, &q[i].r);
		curl_easy_setopt(h[i], CURLOPT_PRIVATE, (char *)&q[i]);
		curl_easy_setopt(h[i], CURLOPT_PIPEWAIT, pipewait ? 1L : 0L);
		curl_multi_add_handle(multi, h[i]);
	}
	size_t running = n;
	while (running > 0) {
		int still = 0;
		curl_multi_perform(multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct item_req *qq;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&qq);
			qq->r.rc = msg->data.result;
			finish(msg->easy_handle, &qq->r);
			curl_multi_remove_handle(multi, msg->easy_handle);
			running--;
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		curl_easy_cleanup(h[i]);
		curl_slist_free_all(hl[i]);
	}
	curl_multi_cleanup(multi);
}

Test(simproc, healthy_requests_beside_truncated_ones_succeed_at_once)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, CUT_FIX, NULL, NULL), 0, "%s", s.error);
	struct item_req q[2][24];
	memset(q, 0, sizeof(q));
	for (int pipewait = 0; pipewait < 2; pipewait++) {
		for (size_t i = 0; i < 24; i++) {
			char user[32];
			snprintf(user, sizeof(user), "question %zu", i);
			q[pipewait][i].stream = (i / 4) % 2 == 0;
			q[pipewait][i].body =
			    chat_body(mixed_model(i), user, q[pipewait][i].stream);
		}
		run_mixed(&s, q[pipewait], 24, pipewait);
	}
	cr_assert_eq(simproc_stop(&s), 0);
	/* the healthy ones first: they are what this test is about */
	for (int cut = 0; cut < 2; cut++)
		for (int pipewait = 0; pipewait < 2; pipewait++)
			for (size_t i = 0; i < 24; i++)
				if ((strncmp(mixed_model(i), "cut/", 4) == 0) == cut)
					assert_outcome(mixed_model(i), q[pipewait][i].stream,
						       &q[pipewait][i].r,
						       pipewait ? "pipewait" : "parallel");
	item_reqs_free(q[0], 24);
	item_reqs_free(q[1], 24);
}

/* Optional: the official `openai` npm client, when node and the package are
 * installed (never downloaded here). Resolution follows node's rules from
 * tests/fixtures/sim/ upwards, plus NODE_PATH. */
Test(simproc, openai_npm_client_understands_both_modes)
{
	if (system("command -v node >/dev/null 2>&1") != 0)
		cr_skip_test("node is not installed");
	if (system("node -e 'require.resolve(\"openai\", {paths: [\"" FIX "\"]})' "
		   ">/dev/null 2>&1") != 0)
		cr_skip_test("the openai npm package is not installed");
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles.json", NULL, NULL), 0, "%s", s.error);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "node " FIX "openai_client.js %s sim/slow", s.base_url);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	struct buf out;
	buf_init(&out);
	char chunk[512];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(&out, chunk, n);
	int st = pclose(p);
	cr_assert_eq(simproc_stop(&s), 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node failed: %s", out.data);
	cJSON *j = cJSON_Parse(out.data);
	cr_assert(j, "not JSON: %s", out.data);
	const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
	const char *content = cJSON_GetStringValue(cJSON_GetObjectItem(j, "content"));
	const char *streamed = cJSON_GetStringValue(cJSON_GetObjectItem(j, "stream_content"));
	const char *finish = cJSON_GetStringValue(cJSON_GetObjectItem(j, "stream_finish"));
	cr_assert_str_eq(model, "sim/slow");
	cr_assert_gt(strlen(content), 0);
	cr_assert_str_eq(streamed, content);
	cr_assert_str_eq(finish, "stop");
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "stream_cost")));
	cr_assert_gt(cJSON_GetObjectItem(j, "stream_chunks")->valueint, 5);
	cJSON_Delete(j);
	buf_free(&out);
}

/* ---- slow clients cannot hold every connection slot ---- */

#define DRIPS 40
#define DRIP_FD_LIMIT 64 /* shadowsim then accepts 64 - 32 = 32 connections */
#define DRIP_HEADER_TIMEOUT "2"

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A plain TCP connection to 127.0.0.1:port. */
static int drip_open_plain(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

/* A connection to 127.0.0.1:port that has sent the start of a request and
 * never finishes it. */
static int drip_open(int port)
{
	int fd = drip_open_plain(port);
	static const char head[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				   "X-Drip: ";
	cr_assert_eq(send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
	return fd;
}

/* True when the server has closed fd (EOF or reset), without blocking. */
static bool drip_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

Test(simproc, slow_drip_clients_do_not_starve_a_real_request_under_a_low_fd_limit)
{
	/* The limit is inherited by shadowsim, which cannot raise it past the
	 * hard limit; this test runs in its own process. */
	struct rlimit rl = {DRIP_FD_LIMIT, DRIP_FD_LIMIT};
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	const char *args[] = {"--threads", "2", "--header-timeout", DRIP_HEADER_TIMEOUT, NULL};
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles.json", NULL, args), 0, "%s", s.error);
	/* Every slot is taken by a dripping client before the real request
	 * connects: the accept queue is first in, first out, so the real one
	 * waits behind them until slots are freed (with the old 300 s
	 * inactivity timeout alone, it timed out). */
	int drip[DRIPS];
	for (size_t i = 0; i < DRIPS; i++)
		drip[i] = drip_open(s.port);

	char *body = chat_body("sim/fast", "are you there?", false);
	char url[256];
	snprintf(url, sizeof(url), "%s/chat/completions", s.base_url);
	CURLM *multi = curl_multi_init();
	CURL *h = curl_easy_init();
	struct reply r;
	reply_init(&r);
	/* The bound: a few header timeouts. */
	struct curl_slist *hl = prepare(h, url, body, 1, NULL, 20000, &r);
	curl_multi_add_handle(multi, h);
	double next_drip = mono_ms() + 500;
	for (;;) {
		int still = 0;
		curl_multi_perform(multi, &still);
		CURLMsg *msg;
		int left;
		bool done = false;
		while ((msg = curl_multi_info_read(multi, &left)))
			if (msg->msg == CURLMSG_DONE) {
				r.rc = msg->data.result;
				done = true;
			}
		if (done)
			break;
		/* One header byte every 500 ms from every client still open:
		 * never idle long enough for an inactivity timeout. */
		if (mono_ms() >= next_drip) {
			for (size_t i = 0; i < DRIPS; i++) {
				if (drip[i] < 0)
					continue;
				if (drip_closed(drip[i]) ||
				    send(drip[i], "a", 1, MSG_NOSIGNAL) != 1) {
					close(drip[i]);
					drip[i] = -1;
				}
			}
			next_drip += 500;
		}
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	finish(h, &r);
	cr_assert_eq(r.rc, CURLE_OK, "the real request: %s", curl_easy_strerror(r.rc));
	cr_assert_eq(r.status, 200);
	/* Every dripping client is closed by the server in the end. */
	for (size_t i = 0; i < DRIPS; i++) {
		if (drip[i] < 0)
			continue;
		struct pollfd p = {.fd = drip[i], .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 20000), 1, "client %zu is still open", i);
		cr_assert(drip_closed(drip[i]), "client %zu got data, not a close", i);
		close(drip[i]);
	}
	curl_multi_remove_handle(multi, h);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	curl_multi_cleanup(multi);
	free(body);
	buf_free(&r.body);
	cr_assert_eq(simproc_stop(&s), 0);
}

/* ---- hostile fault modes (profiles_hostile.json) ---- */

static struct simproc hs;

static void start_hostile(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_eq(simproc_start(&hs, FIX "profiles_hostile.json", NULL, NULL), 0, "%s",
		     hs.error);
}

static void stop_hostile(void)
{
	cr_assert_eq(simproc_stop(&hs), 0);
	curl_global_cleanup();
}

TestSuite(hostile, .init = start_hostile, .fini = stop_hostile, .timeout = 30);

#define CANARY "sk-or-v1-canary-5f0e1d"

Test(hostile, echo_headers_puts_the_authorization_header_in_content_and_model)
{
	for (int stream = 0; stream < 2; stream++) {
		char *body = chat_body("hostile/echo", "hi", stream);
		struct reply r;
		reply_init(&r);
		request_on(NULL, &hs, "/chat/completions", body, 1, "Authorization: Bearer " CANARY,
			   0, &r);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_eq(p.errors, 0, "stream=%d: %s", stream, r.body.data);
		cr_assert(strstr(p.w.content.data, "Authorization: Bearer " CANARY),
			  "stream=%d: content %s", stream, p.w.content.data);
		cr_assert(strstr(p.w.model, CANARY), "stream=%d: model %s", stream, p.w.model);
		cr_assert_str_eq(p.w.finish_reason, "stop");
		cr_assert_not(p.w.error);
		wire_reply_free(&p.w);
		buf_free(&r.body);
		free(body);
	}
}

Test(hostile, echo_headers_error_also_puts_them_in_the_error_message)
{
	for (int stream = 0; stream < 2; stream++) {
		char *body = chat_body("hostile/echo_error", "hi", stream);
		struct reply r;
		reply_init(&r);
		request_on(NULL, &hs, "/chat/completions", body, 1, "Authorization: Bearer " CANARY,
			   0, &r);
		cr_assert_eq(r.status, 200);
		struct parsed p;
		parse_reply(&r, stream, &p);
		cr_assert_eq(p.errors, 0, "stream=%d: %s", stream, r.body.data);
		cr_assert(p.w.error);
		cr_assert(strstr(p.w.content.data, CANARY), "stream=%d", stream);
		cr_assert(strstr(p.w.model, CANARY), "stream=%d", stream);
		cr_assert(strstr(p.w.error_message, CANARY), "stream=%d: %s", stream,
			  p.w.error_message);
		wire_reply_free(&p.w);
		buf_free(&r.body);
		free(body);
	}
}

#define ENDLESS_CAP (2u << 20)

static size_t on_body_capped(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	if (b->len >= ENDLESS_CAP)
		return 0; /* enough: abort the transfer */
	buf_append(b, p, size * n);
	return size * n;
}

Test(hostile, endless_fault_never_ends_a_stream_or_a_body)
{
	for (int stream = 0; stream < 2; stream++) {
		char url[256];
		snprintf(url, sizeof(url), "%s/chat/completions", hs.base_url);
		char *body = chat_body("hostile/endless", "hi", stream);
		CURL *h = curl_easy_init();
		struct reply r;
		reply_init(&r);
		struct curl_slist *hl = prepare(h, url, body, 1, NULL, 20000, &r);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_capped);
		r.rc = curl_easy_perform(h);
		finish(h, &r);
		/* Only the client's cap ends it. */
		cr_assert_eq(r.rc, CURLE_WRITE_ERROR, "stream=%d: %s", stream,
			     curl_easy_strerror(r.rc));
		cr_assert_eq(r.status, 200);
		cr_assert_geq(r.body.len, ENDLESS_CAP);
		if (stream) {
			cr_assert_null(strstr(r.body.data, "[DONE]"));
			cr_assert_null(strstr(r.body.data, "\"finish_reason\":\"stop\""));
			/* The cap cut the last event: parse the whole ones. */
			size_t whole = r.body.len;
			while (whole > 2 && memcmp(r.body.data + whole - 2, "\n\n", 2) != 0)
				whole--;
			struct parsed p;
			parse_stream(r.body.data, whole, &p);
			cr_assert_eq(p.errors, 0);
			cr_assert_gt(p.w.n_chunks, 1000);
			wire_reply_free(&p.w);
		} else {
			cr_assert_eq(strncmp(r.body.data, "{\"id\":", 6), 0);
			cr_assert_null(strchr(r.body.data + r.body.len - 100, '}'));
		}
		curl_slist_free_all(hl);
		curl_easy_cleanup(h);
		buf_free(&r.body);
		free(body);
	}
}

Test(hostile, after_done_fault_sends_events_after_done)
{
	struct reply r;
	reply_init(&r);
	chat(&hs, "hostile/after_done", "hi", true, 1, &r);
	cr_assert_eq(r.rc, CURLE_OK);
	cr_assert_eq(r.status, 200);
	const char *done = strstr(r.body.data, "data: [DONE]\n\n");
	cr_assert(done);
	/* Everything up to [DONE] is a complete, valid answer. */
	struct parsed p;
	parse_stream(r.body.data, (size_t)(done - r.body.data) + 14, &p);
	cr_assert_eq(p.errors, 0);
	cr_assert(p.w.done);
	cr_assert_str_eq(p.w.finish_reason, "stop");
	wire_reply_free(&p.w);
	/* Then a content chunk and an invalid event. */
	const char *after = done + 14;
	cr_assert(strstr(after, "data: {\"id\""), "%s", after);
	parse_stream(after, strlen(after), &p);
	cr_assert_gt(p.w.content.len, 0);
	cr_assert_gt(p.errors, 0);
	wire_reply_free(&p.w);
	buf_free(&r.body);
	/* Without streaming there is nothing after: a normal answer. */
	reply_init(&r);
	chat(&hs, "hostile/after_done", "hi", false, 1, &r);
	parse_completion(r.body.data, r.body.len, &p);
	cr_assert_eq(p.errors, 0);
	cr_assert_str_eq(p.w.finish_reason, "stop");
	wire_reply_free(&p.w);
	buf_free(&r.body);
}

/* The whole answer and [DONE], then the body stays open for stall_ms: a
 * client that waits for the body's end meets its own timeout first (1 s
 * against the default 60 s); with stall_ms 300 the body does end. */
Test(hostile, done_hang_fault_holds_the_body_open_after_done)
{
	for (int hang = 1; hang >= 0; hang--) {
		char *body =
		    chat_body(hang ? "hostile/done_hang" : "hostile/done_hang_short", "hi", true);
		struct reply r;
		reply_init(&r);
		request(&hs, "/chat/completions", body, 1, hang ? 1000 : 0, &r);
		free(body);
		cr_assert_eq(r.rc, hang ? CURLE_OPERATION_TIMEDOUT : CURLE_OK, "hang=%d: %s", hang,
			     curl_easy_strerror(r.rc));
		cr_assert_eq(r.status, 200);
		/* [DONE] is the last thing sent, after a complete answer */
		cr_assert_geq(r.body.len, 14);
		cr_assert_eq(memcmp(r.body.data + r.body.len - 14, "data: [DONE]\n\n", 14), 0, "%s",
			     r.body.data);
		struct parsed p;
		parse_stream(r.body.data, r.body.len, &p);
		cr_assert_eq(p.errors, 0);
		cr_assert(p.w.done);
		cr_assert_str_eq(p.w.finish_reason, "stop");
		cr_assert_gt(p.w.content.len, 0);
		wire_reply_free(&p.w);
		buf_free(&r.body);
	}
	/* Without streaming: a normal answer. */
	struct reply r;
	reply_init(&r);
	chat(&hs, "hostile/done_hang", "hi", false, 1, &r);
	cr_assert_eq(r.rc, CURLE_OK);
	struct parsed p;
	parse_completion(r.body.data, r.body.len, &p);
	cr_assert_eq(p.errors, 0);
	cr_assert_str_eq(p.w.finish_reason, "stop");
	wire_reply_free(&p.w);
	buf_free(&r.body);
}

Test(hostile, json_when_stream_fault_answers_a_stream_with_a_plain_completion)
{
	struct reply r;
	reply_init(&r);
	chat(&hs, "hostile/json_stream", "hi", true, 1, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "application/json");
	struct parsed p;
	parse_completion(r.body.data, r.body.len, &p);
	cr_assert_eq(p.errors, 0, "%s", r.body.data);
	cr_assert_gt(p.w.content.len, 0);
	cr_assert_str_eq(p.w.finish_reason, "stop");
	cr_assert(p.w.usage.present);
	wire_reply_free(&p.w);
	buf_free(&r.body);
}

Test(hostile, error_200_fault_sends_an_error_object_with_status_200)
{
	for (int stream = 0; stream < 2; stream++) {
		struct reply r;
		reply_init(&r);
		chat(&hs, "hostile/error_200", "hi", stream, 1, &r);
		cr_assert_eq(r.status, 200);
		cr_assert_str_eq(r.content_type, "application/json");
		cr_assert_eq(error_code(&r.body), 502, "stream=%d: %s", stream, r.body.data);
		buf_free(&r.body);
	}
}

/* The usage object of a reply (the usage chunk of a stream). */
static cJSON *usage_of(const struct reply *r, bool stream, cJSON **root)
{
	const char *json = r->body.data;
	if (stream) {
		json = strstr(r->body.data, "\"choices\":[],");
		cr_assert(json, "no usage chunk: %s", r->body.data);
		while (json > r->body.data && strncmp(json, "data: ", 6) != 0)
			json--;
		json += 6;
	}
	const char *end = NULL;
	*root = cJSON_ParseWithOpts(json, &end, 0);
	cr_assert(*root, "%s", json);
	return cJSON_GetObjectItem(*root, "usage");
}

Test(hostile, usage_faults_send_unusable_numbers_next_to_a_valid_answer)
{
	static const char *const models[] = {"hostile/usage_negative", "hostile/usage_string",
					     "hostile/usage_huge"};
	for (size_t i = 0; i < 3; i++) {
		for (int stream = 0; stream < 2; stream++) {
			struct reply r;
			reply_init(&r);
			chat(&hs, models[i], "hi", stream, 1, &r);
			cr_assert_eq(r.status, 200);
			cJSON *root;
			cJSON *u = usage_of(&r, stream, &root);
			cr_assert(u, "%s stream=%d: no usage", models[i], stream);
			const cJSON *fields[] = {cJSON_GetObjectItem(u, "cost"),
						 cJSON_GetObjectItem(u, "prompt_tokens"),
						 cJSON_GetObjectItem(u, "completion_tokens")};
			for (size_t f = 0; f < 3; f++) {
				const cJSON *v = fields[f];
				cr_assert(v);
				if (i == 0)
					cr_assert(cJSON_IsNumber(v) && v->valuedouble < 0);
				else if (i == 1)
					cr_assert(cJSON_IsString(v));
				else
					cr_assert(cJSON_IsNumber(v) && v->valuedouble > 1e300);
			}
			cJSON_Delete(root);
			/* The answer itself is fine. */
			if (!stream) {
				root = cJSON_Parse(r.body.data);
				const cJSON *ch =
				    cJSON_GetArrayItem(cJSON_GetObjectItem(root, "choices"), 0);
				const cJSON *msg = cJSON_GetObjectItem(ch, "message");
				cr_assert(cJSON_IsString(cJSON_GetObjectItem(msg, "content")));
				cr_assert_gt(
				    strlen(cJSON_GetObjectItem(msg, "content")->valuestring), 0);
				cr_assert_str_eq(
				    cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "stop");
				cJSON_Delete(root);
			} else {
				cr_assert(strstr(r.body.data, "\"finish_reason\":\"stop\""));
				cr_assert(strstr(r.body.data, "data: [DONE]\n\n"));
			}
			buf_free(&r.body);
		}
	}
}

Test(hostile, rate_limit_can_ask_for_a_huge_retry_after_in_seconds_and_in_the_body)
{
	struct reply r;
	reply_init(&r);
	chat(&hs, "hostile/retry_huge", "hi", false, 1, &r);
	cr_assert_eq(r.status, 429);
	cr_assert_str_eq(r.retry_after, "999999");
	int code;
	char msg[128];
	double ra;
	cr_assert_eq(wire_parse_error(r.body.data, r.body.len, &code, msg, sizeof(msg), &ra), 0);
	cr_assert_eq(code, 429);
	cr_assert_eq(ra, 999999);
	buf_free(&r.body);
}

Test(hostile, rate_limit_can_ask_for_retry_after_as_a_far_http_date)
{
	struct reply r;
	reply_init(&r);
	chat(&hs, "hostile/retry_date", "hi", true, 1, &r);
	cr_assert_eq(r.status, 429);
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(r.retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	cr_assert(end && *end == '\0', "not an HTTP-date: \"%s\"", r.retry_after);
	cr_assert_gt(tm.tm_year + 1900, 2099, "%s", r.retry_after);
	buf_free(&r.body);
}

/* ---- malformed requests: 400 in OpenRouter's shape, naming what is wrong ---- */

Test(sim, malformed_requests_get_400_naming_the_field)
{
	static const struct {
		const char *body;
		const char *message;
	} cases[] = {
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"user\",\"content\":42}]}",
	     "messages[0].content: expected a string or an array of content parts, got 42"},
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"user\",\"content\":{\"a\":1}}]}",
	     "messages[0].content: expected a string or an array of content parts, got an "
	     "object"},
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	     "\"text\",\"text\":7}]}]}",
	     "messages[0].content[0].text: expected a string, got 7"},
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"system\",\"content\":\"hi\"}]}",
	     "messages: expected at least one message with role \\\"user\\\""},
	    {"{\"model\":\"sim/"
	     "fa\\u0000st\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	     "NUL character"},
	    {"{\"model\":\"sim/"
	     "fast\",\"messages\":[{\"role\":\"user\",\"content\":\"4\\uZZZZx\"}]}",
	     "NUL character"},
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"robot\",\"content\":\"hi\"}]}",
	     "messages[0].role: expected one of system, developer, user, assistant, tool, got "
	     "\\\"robot\\\""},
	    {"{\"model\":\"sim/fast\",\"messages\":[{\"role\":1,\"content\":\"hi\"}]}",
	     "messages[0].role: expected one of system, developer, user, assistant, tool, got 1"},
	    {"{\"model\":\"sim/fast\",\"messages\":[\"hi\"]}",
	     "messages[0]: expected a message object, got a string"},
	    {"{\"model\":\"sim/fast\",\"messages\":[]}",
	     "messages: expected a non-empty array of messages, got an array"},
	    {"{\"model\":\"sim/fast\",\"temperature\":\"hot\",\"messages\":[{\"role\":\"user\","
	     "\"content\":\"hi\"}]}",
	     "temperature: expected a number from 0 to 2, got a string"},
	    {"{\"model\":\"sim/fast\",\"top_p\":2,\"messages\":[{\"role\":\"user\",\"content\":"
	     "\"hi\"}]}",
	     "top_p: expected a number from 0 to 1, got 2"},
	    {"{\"model\":\"sim/fast\",\"stop\":[\"a\",3],\"messages\":[{\"role\":\"user\","
	     "\"content\":\"hi\"}]}",
	     "stop[1]: expected a string, got 3"},
	    {"{\"model\":\"sim/fast\",\"models\":[\"sim/slow\",false],\"messages\":[{\"role\":"
	     "\"user\",\"content\":\"hi\"}]}",
	     "models[1]: expected a model ID string, got a boolean"},
	    {"{\"model\":\"sim/fast\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\","
	     "\"content\":\"hi\"}]}",
	     "stream: expected a boolean, got a string"},
	    {"{\"model\":\"sim/fast\",\"tools\":{},\"messages\":[{\"role\":\"user\",\"content\":"
	     "\"hi\"}]}",
	     "tools: expected an array, got an object"},
	    {"{\"model\":\"sim/fast\",\"max_tokens\":\"9\",\"messages\":[{\"role\":\"user\","
	     "\"content\":\"hi\"}]}",
	     "sim/fast: max_tokens must be a positive integer"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r;
		reply_init(&r);
		request(&sp, "/chat/completions", cases[i].body, 0, 0, &r);
		cr_assert_eq(r.status, 400, "case %zu: status %ld: %s", i, r.status, r.body.data);
		cr_assert_eq(error_code(&r.body), 400, "case %zu: %s", i, r.body.data);
		cr_assert(strstr(r.body.data, cases[i].message), "case %zu: %s", i, r.body.data);
		cr_assert(strstr(r.body.data, "\"error_type\":\"invalid_request\""), "case %zu", i);
		buf_free(&r.body);
	}
}

Test(sim, well_formed_variants_of_the_request_shape_are_served)
{
	static const char *const bodies[] = {
	    /* content parts, an assistant turn that only calls tools, a tool reply */
	    "{\"model\":\"sim/fast\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"hi\"}]},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
	    "[]},{\"role\":\"tool\",\"tool_call_id\":\"t1\",\"content\":\"42\"},{\"role\":"
	    "\"user\",\"content\":\"and?\"}]}",
	    /* nulls for optional fields, unknown parameters, OpenRouter extras */
	    "{\"model\":\"sim/fast\",\"temperature\":null,\"stop\":\"x\",\"seed\":-3,"
	    "\"some_future_param\":{\"a\":1},\"provider\":{\"order\":[\"x\"]},\"transforms\":[],"
	    "\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},{\"role\":\"user\","
	    "\"content\":\"hi\",\"name\":\"bob\"}]}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct reply r;
		reply_init(&r);
		request(&sp, "/chat/completions", bodies[i], 0, 0, &r);
		cr_assert_eq(r.status, 200, "body %zu: %ld %s", i, r.status, r.body.data);
		buf_free(&r.body);
	}
}

/* ---- malformed request lines get OpenRouter's error shape ---- */

/* Sends `req` (n bytes) on a new connection to 127.0.0.1:port
 * and returns everything the server sent until it closed (malloc'd). */
static char *raw_exchange(int port, const char *req, size_t n)
{
	int fd = drip_open_plain(port);
	cr_assert_eq(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
	struct buf got;
	buf_init(&got);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 20000), 1, "no reply and no close in 20 s to: %.*s",
			     (int)n, req);
		char tmp[4096];
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		if (r <= 0)
			break;
		buf_append(&got, tmp, (size_t)r);
	}
	close(fd);
	return buf_detach(&got, NULL);
}

Test(simproc, a_malformed_request_line_gets_a_json_400_not_silence)
{
	struct simproc s;
	cr_assert_eq(simproc_start(&s, FIX "profiles.json", NULL, NULL), 0, "%s", s.error);
	static const struct {
		const char *req;
		const char *status;
	} cases[] = {
	    {"GARBAGE\r\n\r\n", "HTTP/1.1 400 "},
	    {"GET\r\n\r\n", "HTTP/1.1 400 "},
	    {"GARBAGE X\r\n\r\n", "HTTP/1.1 400 "},
	    {"GET /v1/models\r\n\r\n", "HTTP/1.1 400 "},
	    {"G\x01T /v1/models HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
	    {"GET /v1/models HTTP/9.9\r\n\r\n", "HTTP/1.1 505 "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = raw_exchange(s.port, cases[i].req, strlen(cases[i].req));
		cr_assert_eq(strncmp(r, cases[i].status, strlen(cases[i].status)), 0,
			     "case %zu: %s", i, r);
		const char *body = strstr(r, "\r\n\r\n");
		cr_assert_not_null(body, "case %zu: %s", i, r);
		cJSON *j = cJSON_Parse(body + 4);
		cr_assert_not_null(j, "case %zu: not JSON: %s", i, body + 4);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "code")), "%s", r);
		cr_assert_eq(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint,
			     atoi(cases[i].status + 9));
		cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
		cJSON_Delete(j);
		free(r);
	}
	/* a good request line still goes through, after empty lines too */
	static const char ok[] =
	    "\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char *r = raw_exchange(s.port, ok, sizeof(ok) - 1);
	cr_assert_eq(strncmp(r, "HTTP/1.1 200 ", 13), 0, "%s", r);
	free(r);
	cr_assert_eq(simproc_stop(&s), 0);
}

/* OpenRouter's generation lookup: a reply's id gives what it was billed. */
static cJSON *lookup(const char *base, const char *id, long *status)
{
	char url[400];
	snprintf(url, sizeof(url), "%s/generation?id=%s", base, id);
	CURL *h = curl_easy_init();
	cr_assert(h);
	struct reply r;
	reply_init(&r);
	struct curl_slist *hl = prepare(h, url, NULL, 0, NULL, 0, &r);
	r.rc = curl_easy_perform(h);
	finish(h, &r);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	cr_assert_eq(r.rc, CURLE_OK, "%s", curl_easy_strerror(r.rc));
	*status = r.status;
	cJSON *j = cJSON_ParseWithLength(r.body.data, r.body.len);
	cr_assert(j, "%.*s", (int)r.body.len, r.body.data);
	buf_free(&r.body);
	return j;
}

Test(sim, generation_lookup_tells_what_a_reply_was_billed_even_when_cut)
{
	/* a whole reply: the lookup's total_cost is its usage.cost */
	struct reply r;
	reply_init(&r);
	chat(&sp, "sim/fast", "What is 2+2?", false, 0, &r);
	struct parsed p;
	parse_reply(&r, false, &p);
	cr_assert(p.w.usage.has_cost && p.w.id[0], "%.*s", (int)r.body.len, r.body.data);
	long status = 0;
	cJSON *g = lookup(sp.base_url, p.w.id, &status);
	cr_expect_eq(status, 200);
	char *text = cJSON_PrintUnformatted(g);
	double cost = -1;
	struct se_err err;
	cr_expect_eq(wire_parse_generation(text, strlen(text), &cost, &err), 0, "%s", err.msg);
	cr_expect_eq(cost, p.w.usage.cost, "lookup %.17g, usage %.17g", cost, p.w.usage.cost);
	free(text);
	cJSON_Delete(g);
	wire_reply_free(&p.w);
	buf_free(&r.body);

	/* a stream cut before its usage chunk: billed for the whole answer,
	 * also under /api/v1 as OpenRouter serves it */
	reply_init(&r);
	chat(&sp, "fault/truncate", "hi", true, 0, &r);
	parse_reply(&r, true, &p);
	cr_assert(!p.w.usage.present && p.w.id[0]);
	char api[128];
	snprintf(api, sizeof(api), "http://127.0.0.1:%d/api/v1", sp.port);
	g = lookup(api, p.w.id, &status);
	cr_expect_eq(status, 200);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(g, "data");
	cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(d, "id")->valuestring, p.w.id);
	cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "total_cost")));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "streamed")));
	/* the whole answer was billed: more tokens than the cut stream carried */
	double billed = cJSON_GetObjectItemCaseSensitive(d, "tokens_completion")->valuedouble;
	cr_expect_gt(billed, (double)p.w.content.len / 4.0, "%g tokens billed", billed);
	cJSON_Delete(g);
	wire_reply_free(&p.w);
	buf_free(&r.body);

	/* an id it never produced, and none */
	g = lookup(sp.base_url, "gen-0-nothing", &status);
	cr_expect_eq(status, 404);
	cJSON_Delete(g);
	g = lookup(sp.base_url, "", &status);
	cr_expect_eq(status, 400);
	cJSON_Delete(g);
}
