/* test_wire.c: the wire room's suite: request bodies and reply parsing
 * (src/wire/), against the OpenRouter fixtures in tests/fixtures/wire/.
 *
 * Expected values are the ones written in the fixture files (see their
 * README.md); malformed replies are a table of (body, JSON path, message).
 * Every prefix and many one-byte mutations of each fixture go through every
 * parser: whatever a server sends must end in 0 or a clean -1, never a crash
 * (ASan/UBSan make an overread fatal). Not tested here: SSE framing (sse/).
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "sse/sse.h"
#include "wire/wire.h"

#define FIX "tests/fixtures/wire/"

static char *read_fixture(const char *path, size_t *len)
{
	char *data;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_read_all(path, &data, len, &err), 0, "%s: %s", err.where, err.msg);
	return data;
}

static int parse_str(const char *body, struct wire_reply *r, struct se_err *err)
{
	return wire_parse_completion(body, strlen(body), r, err);
}

struct stream_ctx {
	struct wire_reply *r;
	struct se_err *err;
};

static int on_event(void *ctx, const char *data, size_t len)
{
	struct stream_ctx *s = ctx;
	return wire_apply_chunk(data, len, s->r, s->err);
}

/* Runs a whole .sse fixture through sse/ and wire_apply_chunk. */
static int run_stream(const char *path, struct wire_reply *r, struct se_err *err)
{
	size_t len;
	char *s = read_fixture(path, &len);
	struct sse_parser p;
	struct stream_ctx ctx = {r, err};
	sse_init(&p);
	int rc = sse_feed(&p, s, len, on_event, &ctx);
	if (rc == 0)
		rc = sse_finish(&p, on_event, &ctx);
	sse_free(&p);
	free(s);
	return rc;
}

/* ---- non-streaming ---- */

Test(wire, parses_chat_completion_fixture)
{
	size_t len;
	char *body = read_fixture(FIX "chat_completion.json", &len);
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(wire_parse_completion(body, len, &r, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_str_eq(r.content.data, "The capital of France is Paris.");
	cr_assert_str_eq(r.model, "anthropic/claude-sonnet-4");
	cr_assert_str_eq(r.finish_reason, "stop");
	cr_assert(r.usage.present);
	cr_assert_eq(r.usage.prompt_tokens, 1500);
	cr_assert_eq(r.usage.completion_tokens, 120);
	cr_assert_eq(r.usage.cached_tokens, 1024);
	cr_assert(r.usage.has_cost);
	cr_assert_float_eq(r.usage.cost, 0.0035352, 1e-12);
	cr_assert_not(r.error);
	cr_assert_not(r.done);
	wire_reply_free(&r);
	free(body);
}

Test(wire, leading_blank_lines_before_the_body_are_skipped)
{
	size_t len;
	char *body = read_fixture(FIX "chat_completion.json", &len);
	char *padded = xmalloc(len + 8);
	memcpy(padded, "\n\n\n \r\n", 6);
	memcpy(padded + 6, body, len);
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(wire_parse_completion(padded, len + 6, &r, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_assert_str_eq(r.content.data, "The capital of France is Paris.");
	cr_assert_eq(r.usage.cached_tokens, 1024);
	wire_reply_free(&r);
	free(padded);
	free(body);
}

Test(wire, null_content_is_empty_and_missing_usage_is_not_present)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(
	    parse_str("{\"model\":\"m/x\",\"choices\":[{\"message\":{\"role\":\"assistant\","
		      "\"content\":null,\"tool_calls\":[]},\"finish_reason\":\"tool_calls\"}]}",
		      &r, &err),
	    0, "%s: %s", err.where, err.msg);
	cr_assert_eq(r.content.len, 0);
	cr_assert_str_eq(r.finish_reason, "tool_calls");
	cr_assert_not(r.usage.present);
	cr_assert_not(r.usage.has_cost);
	wire_reply_free(&r);
}

Test(wire, cost_as_numeric_string_and_in_exponent_form)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(parse_str("{\"choices\":[{\"message\":{\"content\":\"a\"}}],"
			       "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,"
			       "\"cost\":\"0.0012\"}}",
			       &r, &err),
		     0, "%s: %s", err.where, err.msg);
	cr_assert(r.usage.has_cost);
	cr_assert_float_eq(r.usage.cost, 0.0012, 1e-15);
	cr_assert_eq(r.usage.cached_tokens, 0);
	wire_reply_reset(&r);
	cr_assert_eq(parse_str("{\"choices\":[{\"message\":{\"content\":\"a\"}}],"
			       "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,"
			       "\"cost\":2.376e-05}}",
			       &r, &err),
		     0, "%s: %s", err.where, err.msg);
	cr_assert_float_eq(r.usage.cost, 2.376e-05, 1e-15);
	wire_reply_free(&r);
}

Test(wire, embedded_choice_error_keeps_partial_content)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(
	    parse_str("{\"model\":\"m/x\",\"choices\":[{\"finish_reason\":\"error\","
		      "\"error\":{\"code\":\"server_error\",\"message\":\"upstream died\"},"
		      "\"message\":{\"content\":\"partial\"}}]}",
		      &r, &err),
	    0, "%s: %s", err.where, err.msg);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_code, "server_error");
	cr_assert_str_eq(r.error_message, "upstream died");
	cr_assert_str_eq(r.finish_reason, "error");
	cr_assert_str_eq(r.content.data, "partial");
	wire_reply_free(&r);
}

Test(wire, top_level_error_in_a_completion_body_is_an_error_reply)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(parse_str("{\"error\":{\"code\":502,\"message\":\"Provider returned error\"}}",
			       &r, &err),
		     0, "%s: %s", err.where, err.msg);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_code, "502");
	cr_assert_str_eq(r.error_message, "Provider returned error");
	cr_assert_str_eq(r.finish_reason, "error");
	wire_reply_free(&r);
}

struct bad_case {
	const char *body;
	const char *where;
	const char *msg; /* substring of err.msg */
};

static const struct bad_case bad_completions[] = {
    {"", "body", "empty body"},
    {"  \n", "body", "empty body"},
    {"{\"choices\":", "body", "invalid JSON"},
    {"{\"choices\":[]} trailing", "body", "unexpected data after the JSON value"},
    {"[1,2]", "(root)", "expected an object, got an array"},
    {"\"hello\"", "(root)", "expected an object, got a string"},
    {"{}", "choices", "missing"},
    {"{\"choices\":{}}", "choices", "expected an array, got an object"},
    {"{\"choices\":[]}", "choices", "expected at least one choice"},
    {"{\"choices\":[3]}", "choices[0]", "expected an object, got a number"},
    {"{\"choices\":[{}]}", "choices[0].message", "missing"},
    {"{\"choices\":[{\"message\":\"hi\"}]}", "choices[0].message",
     "expected an object, got a string"},
    {"{\"choices\":[{\"message\":{\"content\":5}}]}", "choices[0].message.content",
     "expected a string or null, got a number"},
    {"{\"choices\":[{\"message\":{\"content\":[\"a\"]}}]}", "choices[0].message.content",
     "expected a string or null, got an array"},
    {"{\"choices\":[{\"message\":{\"content\":\"x\"},\"finish_reason\":1}]}",
     "choices[0].finish_reason", "expected a string or null, got a number"},
    {"{\"model\":7,\"choices\":[{\"message\":{\"content\":\"x\"}}]}", "model",
     "expected a string or null, got a number"},
};

/* Issue 9.19: usage is accounting, not the answer. These bodies used to be
 * refused (and so retried and paid again); now the answer is kept and each
 * unusable number is unknown: -1 for a count, bad_cost for a cost. */
Test(wire, unusable_usage_numbers_are_unknown_and_keep_the_answer)
{
	static const struct {
		const char *usage;
		long prompt, completion, cached;
		bool has_cost, bad_cost;
	} cases[] = {
	    {"[]", 0, 0, 0, false, false},
	    {"\"lots\"", 0, 0, 0, false, false},
	    {"{\"prompt_tokens\":\"12\",\"completion_tokens\":3}", -1, 3, 0, false, false},
	    {"{\"prompt_tokens\":5,\"completion_tokens\":-4}", 5, -1, 0, false, false},
	    {"{\"prompt_tokens\":1e300,\"completion_tokens\":2.5}", -1, -1, 0, false, false},
	    {"{\"prompt_tokens_details\":{\"cached_tokens\":true}}", 0, 0, -1, false, false},
	    {"{\"prompt_tokens_details\":7}", 0, 0, -1, false, false},
	    {"{\"prompt_tokens\":2,\"cost\":\"cheap\"}", 2, 0, 0, false, true},
	    {"{\"cost\":-1}", 0, 0, 0, false, true},
	    {"{\"cost\":1e308}", 0, 0, 0, false, true},
	    {"{\"cost\":\"-0.5\"}", 0, 0, 0, false, true},
	    {"{\"cost\":0.25}", 0, 0, 0, true, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[512];
		snprintf(body, sizeof(body),
			 "{\"choices\":[{\"message\":{\"content\":\"42\"},\"finish_reason\":"
			 "\"stop\"}],\"usage\":%s}",
			 cases[i].usage);
		struct wire_reply r;
		struct se_err err;
		se_clear(&err);
		wire_reply_init(&r);
		cr_assert_eq(parse_str(body, &r, &err), 0, "%s: %s: %s", body, err.where, err.msg);
		cr_assert_str_eq(r.content.data, "42", "%s", body);
		cr_assert_eq(r.usage.prompt_tokens, cases[i].prompt, "%s", body);
		cr_assert_eq(r.usage.completion_tokens, cases[i].completion, "%s", body);
		cr_assert_eq(r.usage.cached_tokens, cases[i].cached, "%s", body);
		cr_assert_eq(r.usage.has_cost, cases[i].has_cost, "%s", body);
		cr_assert_eq(r.usage.bad_cost, cases[i].bad_cost, "%s", body);
		wire_reply_free(&r);
	}
	/* the same in a stream's usage chunk */
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *c = "{\"choices\":[],\"usage\":{\"prompt_tokens\":1e300}}";
	cr_assert_eq(wire_apply_chunk(c, strlen(c), &r, &err), 0);
	cr_assert_eq(r.usage.prompt_tokens, -1);
	wire_reply_free(&r);
}

Test(wire, malformed_completions_fail_with_the_json_path)
{
	for (size_t i = 0; i < sizeof(bad_completions) / sizeof(bad_completions[0]); i++) {
		const struct bad_case *c = &bad_completions[i];
		struct wire_reply r;
		struct se_err err;
		se_clear(&err);
		wire_reply_init(&r);
		cr_assert_eq(parse_str(c->body, &r, &err), -1, "accepted: %s", c->body);
		cr_assert_eq(err.kind, SE_INPUT, "%s", c->body);
		cr_assert_str_eq(err.where, c->where, "%s: where %s", c->body, err.where);
		cr_assert(strstr(err.msg, c->msg), "%s: message \"%s\", expected \"%s\"", c->body,
			  err.msg, c->msg);
		wire_reply_free(&r);
	}
}

/* A whole reply and a stream chunk each holding content that cJSON would
 * read cut at a NUL: each is refused, naming the field, nothing kept. */
static void expect_content_refused(const char *content)
{
	char body[300], chunk[300];
	snprintf(body, sizeof(body),
		 "{\"model\":\"m\",\"choices\":[{\"message\":{\"role\":\"assistant\","
		 "\"content\":\"%s\"},\"finish_reason\":\"stop\"}]}",
		 content);
	snprintf(chunk, sizeof(chunk),
		 "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"}}]}", content);
	struct wire_reply r;
	struct se_err err;
	se_clear(&err);
	wire_reply_init(&r);
	cr_assert_eq(parse_str(body, &r, &err), -1, "content \"%s\" was accepted", content);
	cr_expect_str_eq(err.where, "choices[0].message.content");
	cr_expect(strstr(err.msg, "NUL"), "%s", err.msg);
	wire_reply_free(&r);

	se_clear(&err);
	wire_reply_init(&r);
	cr_assert_eq(wire_apply_chunk(chunk, strlen(chunk), &r, &err), -1);
	cr_expect_str_eq(err.where, "choices[0].delta.content");
	cr_expect_eq(r.content.len, 0, "nothing of the chunk was kept");
	wire_reply_free(&r);
}

/* Issue 9 item 17: "#### 4\u0000hidden" must not read as "#### 4" (cJSON's
 * strings end at the NUL) and be scored: the reply is refused, naming the
 * field, and the engine records it as bad_response. */
Test(wire, nul_in_content_is_refused_not_cut)
{
	expect_content_refused("#### 4\\u0000hidden");
}

/* The same class through cJSON's lenient \u escapes: a non-hex digit makes
 * the escape read as NUL ("4\uZZZZhidden" would be "4"). */
Test(wire, a_non_hex_unicode_escape_is_refused_not_cut)
{
	expect_content_refused("#### 4\\uZZZZhidden");
	expect_content_refused("4\\u00G0x");
}

/* ---- streaming ---- */

Test(wire, stream_fixture_accumulates_content_usage_and_done)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(run_stream(FIX "stream_ok.sse", &r, &err), 0, "%s: %s", err.where, err.msg);
	/* the deltas of stream_ok.sse: "", "Hello", "!", " How", " can", " I",
	 * " help", " you", " today", "?", "" */
	cr_assert_str_eq(r.content.data, "Hello! How can I help you today?");
	cr_assert_str_eq(r.model, "openai/gpt-4o-mini");
	cr_assert_str_eq(r.finish_reason, "stop");
	cr_assert(r.usage.present);
	cr_assert_eq(r.usage.prompt_tokens, 14);
	cr_assert_eq(r.usage.completion_tokens, 9);
	cr_assert_eq(r.usage.cached_tokens, 0);
	cr_assert(r.usage.has_cost);
	cr_assert_float_eq(r.usage.cost, 7.5e-06, 1e-15);
	cr_assert_eq(r.n_chunks, 12);
	cr_assert(r.done);
	cr_assert_not(r.error);
	wire_reply_free(&r);
}

Test(wire, usage_chunk_with_empty_choices)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *c = "{\"model\":\"a/b\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
			"\"completion_tokens\":4,\"cost\":2.376e-05,"
			"\"prompt_tokens_details\":{\"cached_tokens\":6}}}";
	cr_assert_eq(wire_apply_chunk(c, strlen(c), &r, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert(r.usage.present);
	cr_assert_eq(r.usage.prompt_tokens, 10);
	cr_assert_eq(r.usage.completion_tokens, 4);
	cr_assert_eq(r.usage.cached_tokens, 6);
	cr_assert_float_eq(r.usage.cost, 2.376e-05, 1e-15);
	cr_assert_eq(r.content.len, 0);
	cr_assert_eq(r.finish_reason[0], '\0');
	wire_reply_free(&r);
}

Test(wire, usage_chunk_with_one_empty_choice_keeps_the_finish_reason)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *a = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},"
			"\"finish_reason\":\"length\"}]}";
	const char *b = "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":null}],"
			"\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}";
	cr_assert_eq(wire_apply_chunk(a, strlen(a), &r, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_eq(wire_apply_chunk(b, strlen(b), &r, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_str_eq(r.content.data, "hi");
	cr_assert_str_eq(r.finish_reason, "length");
	cr_assert(r.usage.present);
	cr_assert_eq(r.usage.prompt_tokens, 5);
	cr_assert_not(r.usage.has_cost);
	cr_assert_eq(r.n_chunks, 2);
	wire_reply_free(&r);
}

Test(wire, midstream_error_fixture_sets_error_code_and_message)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(run_stream(FIX "stream_midstream_error.sse", &r, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_code, "502");
	cr_assert_str_eq(r.error_message, "Provider disconnected unexpectedly");
	cr_assert_str_eq(r.finish_reason, "error");
	cr_assert_str_eq(r.content.data, "Once upon a time");
	cr_assert_str_eq(r.model, "anthropic/claude-sonnet-4");
	cr_assert_not(r.done);
	cr_assert_not(r.usage.present);
	wire_reply_free(&r);
}

Test(wire, midstream_error_with_string_code_and_no_choices)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *c = "{\"error\":{\"code\":\"server_error\",\"message\":\"Provider error\"}}";
	cr_assert_eq(wire_apply_chunk(c, strlen(c), &r, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_code, "server_error");
	cr_assert_str_eq(r.error_message, "Provider error");
	cr_assert_str_eq(r.finish_reason, "error");
	wire_reply_free(&r);
}

Test(wire, done_marker_sets_done_and_is_not_a_chunk)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	cr_assert_eq(wire_apply_chunk("[DONE]", 6, &r, &err), 0);
	cr_assert(r.done);
	cr_assert_eq(r.n_chunks, 0);
	wire_reply_free(&r);
}

static const struct bad_case bad_chunks[] = {
    {"not json", "body", "invalid JSON"},
    {"[DONE", "body", "invalid JSON"},
    {"42", "(root)", "expected an object, got a number"},
    {"{\"choices\":\"x\"}", "choices", "expected an array, got a string"},
    {"{\"choices\":[null]}", "choices[0]", "expected an object, got null"},
    {"{\"choices\":[{\"delta\":5}]}", "choices[0].delta", "expected an object, got a number"},
    {"{\"choices\":[{\"delta\":{\"content\":[1]}}]}", "choices[0].delta.content",
     "expected a string or null, got an array"},
    {"{\"choices\":[{\"delta\":{},\"finish_reason\":{}}]}", "choices[0].finish_reason",
     "expected a string or null, got an object"},
};

Test(wire, malformed_chunks_fail_with_the_json_path)
{
	for (size_t i = 0; i < sizeof(bad_chunks) / sizeof(bad_chunks[0]); i++) {
		const struct bad_case *c = &bad_chunks[i];
		struct wire_reply r;
		struct se_err err;
		se_clear(&err);
		wire_reply_init(&r);
		cr_assert_eq(wire_apply_chunk(c->body, strlen(c->body), &r, &err), -1,
			     "accepted: %s", c->body);
		cr_assert_eq(err.kind, SE_INPUT, "%s", c->body);
		cr_assert_str_eq(err.where, c->where, "%s: where %s", c->body, err.where);
		cr_assert(strstr(err.msg, c->msg), "%s: message \"%s\", expected \"%s\"", c->body,
			  err.msg, c->msg);
		wire_reply_free(&r);
	}
}

/* ---- error bodies ---- */

struct error_case {
	const char *file;
	int code;
	const char *message;
	double retry_after;
};

static const struct error_case error_fixtures[] = {
    {"error_400.json", 400, "openai/gpt-4o-mini: max_tokens must be a positive integer", -1},
    {"error_401.json", 401, "No auth credentials found", -1},
    {"error_402.json", 402, "Insufficient credits. Add more using https://openrouter.ai/credits",
     -1},
    {"error_403.json", 403,
     "openai/gpt-4o-mini requires moderation on OpenAI. Your input was flagged for "
     "\"harassment\".",
     -1},
    {"error_408.json", 408, "Operation timed out. Please try again later.", -1},
    {"error_429.json", 429, "Rate limit exceeded", -1},
    {"error_429_capacity.json", 0,
     "All providers for anthropic/claude-sonnet-4 are at capacity. Retry after 40 seconds.", 40},
    {"error_502.json", 502, "Provider returned error", -1},
    {"error_503.json", 503, "Service temporarily unavailable", -1},
};

Test(wire, every_error_fixture_gives_code_message_and_retry_after)
{
	for (size_t i = 0; i < sizeof(error_fixtures) / sizeof(error_fixtures[0]); i++) {
		const struct error_case *c = &error_fixtures[i];
		char path[256];
		snprintf(path, sizeof(path), FIX "%s", c->file);
		size_t len;
		char *body = read_fixture(path, &len);
		int code = -7;
		char msg[512];
		double ra = -7;
		cr_assert_eq(wire_parse_error(body, len, &code, msg, sizeof(msg), &ra), 0, "%s",
			     c->file);
		cr_assert_eq(code, c->code, "%s: code %d", c->file, code);
		cr_assert_str_eq(msg, c->message, "%s", c->file);
		cr_assert_float_eq(ra, c->retry_after, 1e-9, "%s: retry_after %g", c->file, ra);
		free(body);
	}
}

Test(wire, error_code_as_numeric_string_and_metadata_retry_after)
{
	const char *b = "{\"error\":{\"code\":\"429\",\"message\":\"slow down\","
			"\"metadata\":{\"retry_after\":\"2.5\"}}}";
	int code;
	char msg[64];
	double ra;
	cr_assert_eq(wire_parse_error(b, strlen(b), &code, msg, sizeof(msg), &ra), 0);
	cr_assert_eq(code, 429);
	cr_assert_str_eq(msg, "slow down");
	cr_assert_float_eq(ra, 2.5, 1e-12);
}

Test(wire, error_code_that_is_not_numeric_is_zero)
{
	const char *b = "{\"error\":{\"code\":\"server_error\",\"message\":\"m\"}}";
	int code = 9;
	char msg[64];
	cr_assert_eq(wire_parse_error(b, strlen(b), &code, msg, sizeof(msg), NULL), 0);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(msg, "m");
}

Test(wire, error_message_is_truncated_to_the_buffer)
{
	const char *b = "{\"error\":{\"code\":400,\"message\":\"abcdefghij\"}}";
	int code;
	char msg[5];
	cr_assert_eq(wire_parse_error(b, strlen(b), &code, msg, sizeof(msg), NULL), 0);
	cr_assert_str_eq(msg, "abcd");
	/* never cut inside a UTF-8 character */
	const char *u = "{\"error\":{\"message\":\"abc\u00e9\"}}";
	cr_assert_eq(wire_parse_error(u, strlen(u), &code, msg, sizeof(msg), NULL), 0);
	cr_assert_str_eq(msg, "abc");
}

Test(wire, bodies_that_are_not_error_objects_are_rejected)
{
	const char *bodies[] = {"",
				"<html>502 Bad Gateway</html>",
				"[]",
				"{\"error\":\"boom\"}",
				"{\"message\":\"no error key\"}",
				"{\"error\":{\"code\":1}",
				"{\"error\":{}} x"};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int code = 5;
		char msg[16] = "stale";
		double ra = 5;
		cr_assert_eq(
		    wire_parse_error(bodies[i], strlen(bodies[i]), &code, msg, sizeof(msg), &ra),
		    -1, "accepted: %s", bodies[i]);
		cr_assert_eq(code, 0);
		cr_assert_str_eq(msg, "");
		cr_assert_float_eq(ra, -1, 1e-12);
	}
	size_t len;
	char *body = read_fixture(FIX "chat_completion.json", &len);
	cr_assert_eq(wire_parse_error(body, len, NULL, NULL, 0, NULL), -1);
	free(body);
}

/* ---- request bodies ---- */

static cJSON *parse_request(const struct buf *b)
{
	cJSON *j = cJSON_ParseWithLength(b->data, b->len);
	cr_assert_not_null(j, "request is not JSON: %s", b->data);
	return j;
}

static const char *MESSAGES = "[{\"role\":\"system\",\"content\":\"Answer briefly.\"},"
			      "{\"role\":\"user\",\"content\":\"say \\\"hi\\\" \\u00e9\"}]";

Test(wire, build_request_streaming_with_params_and_extra)
{
	struct cfg_params params = {
	    .has_temperature = true, .temperature = 0.25, .max_tokens = 512, .stream = true};
	params.extra =
	    cJSON_Parse("{\"top_p\":0.9,\"seed\":42,\"provider\":{\"order\":[\"a\",\"b\"]},"
			"\"stop\":[\"\\n\\n\"]}");
	cr_assert_not_null(params.extra);
	struct buf b;
	buf_init(&b);
	wire_build_request(&b, "openai/gpt-4o-mini", MESSAGES, strlen(MESSAGES), &params);
	cJSON *j = parse_request(&b);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, "openai/gpt-4o-mini");
	cJSON *msgs = cJSON_GetObjectItem(j, "messages");
	cr_assert_eq(cJSON_GetArraySize(msgs), 2);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content")->valuestring,
			 "say \"hi\" \xc3\xa9");
	cr_assert_float_eq(cJSON_GetObjectItem(j, "temperature")->valuedouble, 0.25, 1e-12);
	cr_assert_eq(cJSON_GetObjectItem(j, "max_tokens")->valueint, 512);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "stream")));
	cJSON *so = cJSON_GetObjectItem(j, "stream_options");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(so, "include_usage")));
	cr_assert_float_eq(cJSON_GetObjectItem(j, "top_p")->valuedouble, 0.9, 1e-12);
	cr_assert_eq(cJSON_GetObjectItem(j, "seed")->valueint, 42);
	cJSON *order = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provider"), "order");
	cr_assert_str_eq(cJSON_GetArrayItem(order, 1)->valuestring, "b");
	cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "stop"), 0)->valuestring,
			 "\n\n");
	cr_assert_eq(cJSON_GetArraySize(j), 10); /* no other and no duplicate keys */
	cJSON_Delete(j);
	cJSON_Delete(params.extra);
	buf_free(&b);
}

Test(wire, build_request_without_stream_leaves_unset_params_out)
{
	struct cfg_params params = {.stream = false};
	struct buf b;
	buf_init(&b);
	wire_build_request(&b, "a/\"quoted\"", MESSAGES, strlen(MESSAGES), &params);
	cJSON *j = parse_request(&b);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, "a/\"quoted\"");
	cr_assert_null(cJSON_GetObjectItem(j, "stream"));
	cr_assert_null(cJSON_GetObjectItem(j, "stream_options"));
	cr_assert_null(cJSON_GetObjectItem(j, "temperature"));
	cr_assert_null(cJSON_GetObjectItem(j, "max_tokens"));
	cr_assert_eq(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	buf_free(&b);
}

Test(wire, build_request_temperature_zero_is_sent)
{
	struct cfg_params params = {.has_temperature = true, .temperature = 0};
	struct buf b;
	buf_init(&b);
	wire_build_request(&b, "m", MESSAGES, strlen(MESSAGES), &params);
	cJSON *j = parse_request(&b);
	cJSON *t = cJSON_GetObjectItem(j, "temperature");
	cr_assert(cJSON_IsNumber(t));
	cr_assert_float_eq(t->valuedouble, 0, 1e-12);
	cJSON_Delete(j);
	buf_free(&b);
}

Test(wire, build_request_extra_stream_options_replaces_the_default)
{
	struct cfg_params params = {.stream = true, .max_tokens = 16};
	params.extra = cJSON_Parse("{\"stream_options\":{\"include_usage\":false},"
				   "\"max_tokens\":99,\"user\":\"u1\"}");
	struct buf b;
	buf_init(&b);
	wire_build_request(&b, "m", MESSAGES, strlen(MESSAGES), &params);
	cJSON *j = parse_request(&b);
	cJSON *so = cJSON_GetObjectItem(j, "stream_options");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(so, "include_usage")));
	cr_assert_eq(cJSON_GetObjectItem(j, "max_tokens")->valueint, 16);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "user")->valuestring, "u1");
	/* model, messages, max_tokens, stream, stream_options, user: once each */
	cr_assert_eq(cJSON_GetArraySize(j), 6, "%s", b.data);
	cJSON_Delete(j);
	cJSON_Delete(params.extra);
	buf_free(&b);
}

Test(wire, build_request_appends_to_what_the_buffer_holds)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "prefix:");
	wire_build_request(&b, "m", "[]", 2, NULL);
	cr_assert_str_eq(b.data, "prefix:{\"model\":\"m\",\"messages\":[]}");
	buf_free(&b);
}

/* ---- robustness ---- */

static const char *const all_fixtures[] = {
    "chat_completion.json",
    "error_400.json",
    "error_401.json",
    "error_402.json",
    "error_403.json",
    "error_408.json",
    "error_429.json",
    "error_429_capacity.json",
    "error_502.json",
    "error_503.json",
    "models.json",
    "stream_ok.sse",
    "stream_midstream_error.sse",
};

static int count_model(void *ctx, const struct wire_model_price *m)
{
	(void)m;
	(*(int *)ctx)++;
	return 0;
}

/* Runs every parser on body[0..len), copied to a heap block of exactly len
 * bytes (no NUL after it) so that an overread is fatal under ASan. */
static void every_parser(const char *src, size_t len)
{
	char *body = xmalloc(len ? len : 1);
	memcpy(body, src, len);
	struct wire_reply r;
	struct se_err err;
	int code, n = 0;
	char msg[64];
	double ra;
	int rc;
	wire_reply_init(&r);

	se_clear(&err);
	rc = wire_parse_completion(body, len, &r, &err);
	cr_assert(rc == 0 || (rc == -1 && err.kind == SE_INPUT && err.where[0] && err.msg[0]));
	wire_reply_reset(&r);
	se_clear(&err);
	rc = wire_apply_chunk(body, len, &r, &err);
	cr_assert(rc == 0 || (rc == -1 && err.kind == SE_INPUT && err.where[0] && err.msg[0]));
	rc = wire_parse_error(body, len, &code, msg, sizeof(msg), &ra);
	cr_assert(rc == 0 || rc == -1);
	se_clear(&err);
	rc = wire_parse_models(body, len, "models.json", count_model, &n, &err);
	cr_assert(rc == 0 || (rc == -1 && err.kind == SE_INPUT && err.where[0] && err.msg[0]));

	/* and as a stream, through sse/ */
	struct sse_parser p;
	struct stream_ctx ctx = {&r, &err};
	wire_reply_reset(&r);
	sse_init(&p);
	rc = sse_feed(&p, body, len, on_event, &ctx);
	if (rc == 0)
		rc = sse_finish(&p, on_event, &ctx);
	cr_assert(rc == 0 || rc == -1);
	sse_free(&p);
	wire_reply_free(&r);
	free(body);
}

Test(wire, every_prefix_of_every_fixture_parses_or_fails_cleanly)
{
	for (size_t f = 0; f < sizeof(all_fixtures) / sizeof(all_fixtures[0]); f++) {
		char path[256];
		snprintf(path, sizeof(path), FIX "%s", all_fixtures[f]);
		size_t len;
		char *s = read_fixture(path, &len);
		for (size_t k = 0; k <= len; k++)
			every_parser(s, k);
		free(s);
	}
}

Test(wire, truncated_completion_is_rejected_until_its_last_brace)
{
	size_t len;
	char *s = read_fixture(FIX "chat_completion.json", &len);
	size_t last = len;
	while (last > 0 && s[last - 1] != '}')
		last--;
	cr_assert_gt(last, 0);
	for (size_t k = 0; k <= len; k++) {
		char *body = xmalloc(k ? k : 1);
		memcpy(body, s, k);
		struct wire_reply r;
		struct se_err err;
		wire_reply_init(&r);
		int rc = wire_parse_completion(body, k, &r, &err);
		cr_assert_eq(rc, k >= last ? 0 : -1, "prefix of %zu bytes", k);
		if (rc)
			cr_assert_str_eq(err.where, "body", "prefix of %zu bytes", k);
		wire_reply_free(&r);
		free(body);
	}
	free(s);
}

Test(wire, one_byte_mutations_parse_or_fail_cleanly)
{
	static const char subst[] = {'"', '{', '}',  '[',  ']',	       ',', ':', '0',
				     '-', 'n', '\\', '\0', (char)0xff, 'e', ' '};
	const char *files[] = {"chat_completion.json", "error_429_capacity.json",
			       "stream_midstream_error.sse"};
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[256];
		snprintf(path, sizeof(path), FIX "%s", files[f]);
		size_t len;
		char *s = read_fixture(path, &len);
		for (size_t i = 0; i < len; i++) {
			char keep = s[i];
			for (size_t k = 0; k < sizeof(subst); k++) {
				s[i] = subst[k];
				every_parser(s, len);
			}
			s[i] = keep;
		}
		free(s);
	}
}

/* ---- issue 9.18, 9.26: causes are kept --------------------------------- */

Test(wire, events_after_done_are_ignored)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *c =
	    "{\"choices\":[{\"delta\":{\"content\":\"4\"},\"finish_reason\":\"stop\"}]}";
	cr_assert_eq(wire_apply_chunk(c, strlen(c), &r, &err), 0);
	cr_assert_eq(wire_apply_chunk("[DONE]", 6, &r, &err), 0);
	const char *late = "{\"choices\":[{\"delta\":{\"content\":\"hidden\"}}]}";
	cr_assert_eq(wire_apply_chunk(late, strlen(late), &r, &err), 0);
	cr_assert_eq(wire_apply_chunk("{not json", 9, &r, &err), 0);
	cr_assert_str_eq(r.content.data, "4");
	cr_assert_eq(r.n_chunks, 1);
	wire_reply_free(&r);
}

Test(wire, an_error_that_is_a_string_is_the_message_not_a_missing_choice)
{
	struct wire_reply r;
	struct se_err err;
	se_clear(&err);
	wire_reply_init(&r);
	cr_assert_eq(parse_str("{\"error\":\"just a string\"}", &r, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_message, "just a string");
	cr_assert_str_eq(r.error_code, "");
	wire_reply_free(&r);
	wire_reply_init(&r);
	cr_assert_eq(parse_str("{\"error\":[1,2]}", &r, &err), 0);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_message, "[1,2]");
	wire_reply_free(&r);
}

Test(wire, an_error_code_that_is_not_a_string_or_number_is_shown)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	const char *b = "{\"error\":{\"code\":{\"kind\":\"quota\"},\"message\":{\"text\":\"m\"}}}";
	cr_assert_eq(parse_str(b, &r, &err), 0);
	cr_assert(r.error);
	cr_assert_str_eq(r.error_code, "{\"kind\":\"quota\"}");
	cr_assert_str_eq(r.error_message, "{\"text\":\"m\"}");
	wire_reply_free(&r);
	wire_reply_init(&r);
	cr_assert_eq(parse_str("{\"error\":{\"code\":true}}", &r, &err), 0);
	cr_assert_str_eq(r.error_code, "true");
	wire_reply_free(&r);
}

Test(wire, too_deep_json_names_the_nesting_limit)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"choices\":");
	for (int i = 0; i < 1200; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 1200; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	struct wire_reply r;
	struct se_err err;
	se_clear(&err);
	wire_reply_init(&r);
	cr_assert_eq(wire_parse_completion(b.data, b.len, &r, &err), -1);
	cr_assert(strstr(err.msg, "nested deeper than 1000 levels"), "%s", err.msg);
	/* a plain syntax error still says where */
	se_clear(&err);
	cr_assert_eq(parse_str("{\"choices\":[[[}", &r, &err), -1);
	cr_assert_null(strstr(err.msg, "nested"), "%s", err.msg);
	wire_reply_free(&r);
	buf_free(&b);
}

Test(wire, a_context_length_over_range_states_the_bound)
{
	const char *b = "{\"data\":[{\"id\":\"a/b\",\"context_length\":1e20}]}";
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(wire_parse_models(b, strlen(b), "models.json", NULL, NULL, &err), -1);
	cr_assert(strstr(err.msg, "from 0 to 1000000000000000"), "%s", err.msg);
}

/* ---- the generation id and OpenRouter's generation lookup ---- */

Test(wire, the_generation_id_is_kept_from_a_completion_and_a_stream)
{
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	size_t len;
	char *body = read_fixture(FIX "chat_completion.json", &len);
	cr_assert_eq(wire_parse_completion(body, len, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.id, "gen-1754321098-kQ3vT8xLpZ2mNa7RcE1w");
	free(body);
	wire_reply_reset(&r);
	cr_assert_eq(run_stream(FIX "stream_midstream_error.sse", &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.id, "gen-1754321377-Hq8sYc2LnVw5RtB0kJf6");
	/* an id that is not a string is accounting, not the answer: ignored */
	wire_reply_reset(&r);
	const char *c = "{\"id\":7,\"choices\":[{\"delta\":{\"content\":\"a\"}}]}";
	cr_assert_eq(wire_apply_chunk(c, strlen(c), &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.id, "");
	cr_expect_str_eq(r.content.data, "a");
	wire_reply_free(&r);
}

Test(wire, parses_the_generation_lookup_and_names_what_is_wrong)
{
	/* OpenRouter's documented reply (GET /api/v1/generation?id=) */
	static const char ok[] =
	    "{\"data\":{\"id\":\"gen-3bhGkxlo4XFrqiabUM7NDtwDzWwG\",\"total_cost\":0.0015,"
	    "\"cache_discount\":0.0002,\"upstream_inference_cost\":0.0012,\"created_at\":"
	    "\"2024-07-15T23:33:19.433273+00:00\",\"model\":\"sao10k/l3-stheno-8b\",\"streamed\":"
	    "true,\"cancelled\":false,\"tokens_prompt\":10,\"tokens_completion\":25,"
	    "\"usage\":0.0015,\"is_byok\":false}}";
	double cost = -1;
	struct se_err err;
	cr_assert_eq(wire_parse_generation(ok, strlen(ok), &cost, &err), 0, "%s", err.msg);
	cr_expect_float_eq(cost, 0.0015, 1e-18);
	static const char str[] = "{\"data\":{\"total_cost\":\"2.5e-05\"}}";
	cr_assert_eq(wire_parse_generation(str, strlen(str), &cost, &err), 0, "%s", err.msg);
	cr_expect_float_eq(cost, 2.5e-05, 1e-18);
	static const struct {
		const char *body, *where, *msg;
	} bad[] = {
	    {"{\"data\":{\"total_cost\":-1}}", "data.total_cost", "got a number"},
	    {"{\"data\":{\"total_cost\":\"free\"}}", "data.total_cost", "got a string"},
	    {"{\"data\":{\"id\":\"x\"}}", "data.total_cost", "got nothing"},
	    {"{\"data\":null}", "data", "expected an object"},
	    {"{\"error\":{\"code\":404,\"message\":\"Not found\"}}", "data", "got nothing"},
	    {"{\"data\":", "body", "invalid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cost = 9;
		cr_expect_eq(wire_parse_generation(bad[i].body, strlen(bad[i].body), &cost, &err),
			     -1, "%s", bad[i].body);
		cr_expect_str_eq(err.where, bad[i].where, "%s", bad[i].body);
		cr_expect(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].body, err.msg);
		cr_expect_eq(cost, 9, "%s", bad[i].body);
	}
}
