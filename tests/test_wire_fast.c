/* test_wire_fast.c: the fast path of the reply parse (src/wire/wire_fast.c)
 * gives exactly what the cJSON path gives: the same return code, the same
 * error (JSON path and message) and the same whole wire_reply (content
 * bytes, model, finish_reason, usage, error fields, n_chunks, done, id),
 * for every event of the OpenRouter fixtures, every prefix and one-byte
 * mutation of them, and a table of edge cases (duplicate keys, escapes,
 * unicode, nulls, wrong types, truncation, trailing data, nesting, NUL,
 * lenient JSON), each on a fresh reply and on replies that earlier events
 * filled. It also checks which texts the fast path decides itself (real
 * replies but the error chunk), so the comparisons are not all fallbacks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sse/sse.h"
#include "wire/wire.h"
#include "wire/wire_fast.h"
#include "support/files.h"

#define FIX "tests/fixtures/wire/"

/* Earlier events a reply may have seen: none, an ordinary chunk, an error
 * chunk (which changes what a completion accepts), and [DONE]. */
static const char *const priors[] = {
    NULL,
    "{\"id\":\"gen-1\",\"model\":\"m0\",\"choices\":[{\"delta\":{\"content\":\"pre\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"cost\":0.5}}",
    "{\"error\":{\"code\":502,\"message\":\"upstream\"}}",
    "[DONE]",
};
#define N_PRIORS (sizeof(priors) / sizeof(priors[0]))

static void start(struct wire_reply *r, const char *prior)
{
	struct se_err err;
	wire_reply_init(r);
	if (prior)
		(void)wire_apply_chunk_json(prior, strlen(prior), r, &err);
}

typedef int (*parse_fn)(const char *, size_t, struct wire_reply *, struct se_err *);

/* One text through both paths from the same prior state: the same code,
 * error and reply. */
static void same_one(const char *what, const char *text, size_t len, const char *prior,
		     parse_fn fast, parse_fn json)
{
	struct wire_reply a, b;
	struct se_err ea, eb;
	start(&a, prior);
	start(&b, prior);
	se_clear(&ea);
	se_clear(&eb);
	int ra = fast(text, len, &a, &ea);
	int rb = json(text, len, &b, &eb);
	cr_assert_eq(ra, rb, "%s of %.*s (prior %s): rc %d, cJSON %d", what, (int)len, text,
		     prior ? prior : "none", ra, rb);
	if (ra) {
		cr_assert_str_eq(ea.where, eb.where, "%s of %.*s: where", what, (int)len, text);
		cr_assert_str_eq(ea.msg, eb.msg, "%s of %.*s: msg", what, (int)len, text);
	}
	const char *diff = wire_reply_diff(&a, &b);
	cr_assert_null(diff, "%s of %.*s (prior %s): %s differs", what, (int)len, text,
		       prior ? prior : "none", diff);
	wire_reply_free(&a);
	wire_reply_free(&b);
}

/* A text as a stream event and as a whole reply, after every prior. */
static void same(const char *text, size_t len)
{
	for (size_t i = 0; i < N_PRIORS; i++) {
		same_one("chunk", text, len, priors[i], wire_apply_chunk, wire_apply_chunk_json);
		same_one("completion", text, len, priors[i], wire_parse_completion,
			 wire_parse_completion_json);
	}
}

static bool fast_chunk(const char *text, size_t len)
{
	struct wire_reply r;
	wire_reply_init(&r);
	bool decided = wire_fast_chunk(text, len, &r);
	wire_reply_free(&r);
	return decided;
}

static bool fast_completion(const char *text, size_t len)
{
	struct wire_reply r;
	wire_reply_init(&r);
	bool decided = wire_fast_completion(text, len, &r);
	wire_reply_free(&r);
	return decided;
}

/* ---- the fixtures ---- */

struct events {
	char *data[64];
	size_t len[64];
	size_t n;
};

static int on_event(void *ctx, const char *data, size_t len)
{
	struct events *ev = ctx;
	cr_assert_lt(ev->n, 64);
	ev->data[ev->n] = malloc(len + 1);
	memcpy(ev->data[ev->n], data, len);
	ev->data[ev->n][len] = '\0';
	ev->len[ev->n++] = len;
	return 0;
}

/* The data of every event of an .sse fixture, as sse/ hands them out. */
static void read_events(const char *path, struct events *ev)
{
	size_t len;
	char *s = test_read_file(path, &len);
	struct sse_parser p;
	ev->n = 0;
	sse_init(&p);
	cr_assert_eq(sse_feed(&p, s, len, on_event, ev), 0);
	cr_assert_eq(sse_finish(&p, on_event, ev), 0);
	sse_free(&p);
	free(s);
	cr_assert_gt(ev->n, 2, "%s: no events", path);
}

static void free_events(struct events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->data[i]);
}

/* A whole stream through both paths, event after event, as the engine
 * feeds it: the same reply after each. Returns how many events the fast
 * path decided on its own. */
static size_t same_stream(const struct events *ev)
{
	struct wire_reply a, b;
	size_t decided = 0;
	wire_reply_init(&a);
	wire_reply_init(&b);
	for (size_t i = 0; i < ev->n; i++) {
		struct se_err ea, eb;
		struct wire_reply probe;
		start(&probe, NULL);
		decided += wire_fast_chunk(ev->data[i], ev->len[i], &probe);
		wire_reply_free(&probe);
		cr_assert_eq(wire_apply_chunk(ev->data[i], ev->len[i], &a, &ea), 0);
		cr_assert_eq(wire_apply_chunk_json(ev->data[i], ev->len[i], &b, &eb), 0);
		const char *diff = wire_reply_diff(&a, &b);
		cr_assert_null(diff, "event %zu (%s): %s differs", i, ev->data[i], diff);
	}
	wire_reply_free(&a);
	wire_reply_free(&b);
	return decided;
}

Test(wire_fast, ok_stream_is_parsed_by_the_fast_path_alike)
{
	struct events ev;
	read_events(FIX "stream_ok.sse", &ev);
	/* every event but [DONE] is decided by the fast path */
	cr_assert_eq(same_stream(&ev), ev.n - 1);
	for (size_t i = 0; i < ev.n; i++)
		same(ev.data[i], ev.len[i]);
	free_events(&ev);
}

Test(wire_fast, midstream_error_stream_falls_back_for_the_error_chunk_only)
{
	struct events ev;
	read_events(FIX "stream_midstream_error.sse", &ev);
	size_t errors = 0;
	for (size_t i = 0; i < ev.n; i++)
		errors += strstr(ev.data[i], "\"error\":{") != NULL;
	cr_assert_eq(errors, 1);
	size_t done = strcmp(ev.data[ev.n - 1], "[DONE]") == 0;
	cr_assert_eq(same_stream(&ev), ev.n - errors - done);
	for (size_t i = 0; i < ev.n; i++)
		same(ev.data[i], ev.len[i]);
	free_events(&ev);
}

Test(wire_fast, completion_fixture_is_parsed_by_the_fast_path_alike)
{
	size_t len;
	char *body = test_read_file(FIX "chat_completion.json", &len);
	cr_assert(fast_completion(body, len));
	same(body, len);
	free(body);
}

Test(wire_fast, error_bodies_go_to_the_cjson_path)
{
	static const char *const files[] = {
	    "error_400.json", "error_401.json", "error_402.json",	   "error_403.json",
	    "error_408.json", "error_429.json", "error_429_capacity.json", "error_502.json",
	    "error_503.json", "models.json"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[128];
		size_t len;
		snprintf(path, sizeof(path), FIX "%s", files[i]);
		char *body = test_read_file(path, &len);
		if (strstr(body, "\"error\""))
			cr_assert_not(fast_chunk(body, len), "%s", files[i]);
		same(body, len);
		free(body);
	}
}

/* One text of each kind a server sends: a content chunk, the finish chunk,
 * the usage chunk, the mid-stream error chunk, a whole reply. */
static void pick_kinds(struct events *out)
{
	static const char *const marks[] = {"\"content\":\"Hello\"", "\"finish_reason\":\"stop\"",
					    "\"usage\"", "\"error\":{"};
	struct events ok, bad;
	read_events(FIX "stream_ok.sse", &ok);
	read_events(FIX "stream_midstream_error.sse", &bad);
	out->n = 0;
	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
		const struct events *from = m == 3 ? &bad : &ok;
		size_t i = 0;
		while (i < from->n && !strstr(from->data[i], marks[m]))
			i++;
		cr_assert_lt(i, from->n, "no event with %s", marks[m]);
		out->data[out->n] = strdup(from->data[i]);
		out->len[out->n++] = from->len[i];
	}
	out->data[out->n] = test_read_file(FIX "chat_completion.json", &out->len[out->n]);
	out->n++;
	free_events(&ok);
	free_events(&bad);
}

/* A text as a chunk and as a reply, on a fresh reply (the other priors
 * are the edge cases' business: this keeps the test to seconds). */
static void same_fresh(const char *text, size_t len)
{
	same_one("chunk", text, len, NULL, wire_apply_chunk, wire_apply_chunk_json);
	same_one("completion", text, len, NULL, wire_parse_completion, wire_parse_completion_json);
}

/* Every prefix and every one-byte mutation of each kind of text: both
 * paths end alike (code, error, reply). */
Test(wire_fast, prefixes_and_mutations_of_the_fixtures_agree, .timeout = 120)
{
	static const char subst[] = {'"', '\\', '{', ']', ',', '0', 'u', '\v', '\0', '\xc3'};
	struct events ev;
	pick_kinds(&ev);
	size_t decided = 0, total = 0;
	for (size_t e = 0; e < ev.n; e++) {
		char *t = malloc(ev.len[e] + 1);
		for (size_t cut = 0; cut <= ev.len[e]; cut++) {
			memcpy(t, ev.data[e], cut);
			same_fresh(t, cut);
		}
		memcpy(t, ev.data[e], ev.len[e]);
		for (size_t at = 0; at < ev.len[e]; at++) {
			for (size_t k = 0; k < sizeof(subst); k++) {
				if (ev.data[e][at] == subst[k])
					continue;
				t[at] = subst[k];
				same_fresh(t, ev.len[e]);
				decided += fast_chunk(t, ev.len[e]);
				total++;
			}
			t[at] = ev.data[e][at];
		}
		free(t);
	}
	/* many mutants stay valid replies: the fast path decided those */
	cr_assert_gt(decided, total / 10, "%zu of %zu", decided, total);
	cr_assert_lt(decided, total, "%zu of %zu", decided, total);
	free_events(&ev);
}

/* ---- edge cases ---- */

struct edge {
	const char *text;
	size_t len;	 /* 0: strlen(text) */
	char chunk;	 /* 'F': the fast path decides it as a chunk, 'J': cJSON does */
	char completion; /* the same as a whole reply */
};

#define L(text) text, sizeof(text) - 1 /* a text holding a NUL */
#define C(body) "{\"choices\":[{\"delta\":{\"content\":" body "}}]}"
#define M(body) "{\"choices\":[{\"message\":{\"content\":" body "}}]}"

static const struct edge edges[] = {
    /* duplicate keys: the first one counts */
    {"{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"choices\":[{\"delta\":{\"content\":\"b\"}}]"
     "}",
     0, 'F', 'J'},
    {"{\"choices\":[{\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}", 0, 'F', 'J'},
    {"{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":5}}]}", 0, 'F', 'F'},
    {"{\"choices\":[{\"message\":{\"content\":5,\"content\":\"a\"}}]}", 0, 'F', 'J'},
    {"{\"model\":\"m1\",\"model\":\"m2\",\"id\":\"x\",\"id\":\"y\"}", 0, 'F', 'J'},
    {"{\"choices\":[],\"choices\":[{\"delta\":{\"content\":\"b\"}}]}", 0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":2}}", 0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":1,\"prompt_tokens\":2,\"cost\":1,\"cost\":\"x\"}}", 0, 'F',
     'J'},
    {"{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":4,\"cached_tokens\":5}}}", 0, 'F',
     'J'},
    {"{\"error\":null,\"error\":{\"message\":\"second\"}}", 0, 'F', 'J'},
    {"{\"choices\":[{\"finish_reason\":\"stop\",\"finish_reason\":7}]}", 0, 'F', 'J'},
    /* escapes and unicode */
    {C("\"a\\nb\\t\\\"q\\\"\\\\\\/\\b\\f\\r\""), 0, 'F', 'J'},
    {M("\"a\\nb\\t\\\"q\\\"\\\\\\/\\b\\f\\r\""), 0, 'F', 'F'},
    {M("\"\\u00e9\\u4E2D\\ud83d\\ude00 \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\""), 0, 'F', 'F'},
    {M("\"\\u0001\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\udbff\\udfff\""), 0, 'F', 'F'},
    {M("\"\\uD83D\""), 0, 'J', 'J'},
    {M("\"\\uDE00x\""), 0, 'J', 'J'},
    {M("\"\\uD83D\\u0041\""), 0, 'J', 'J'},
    {M("\"\\uD83Dabcdef\""), 0, 'J', 'J'},
    {M("\"a\\u0000b\""), 0, 'J', 'J'},
    {M("\"a\\uZZZZb\""), 0, 'J', 'J'},
    {M("\"a\\u12\""), 0, 'J', 'J'},
    {M("\"a\\xb\""), 0, 'J', 'J'},
    {M("\"a\\'b\""), 0, 'J', 'J'},
    {M("\"a\x01z\""), 0, 'J', 'J'},
    {M("\"a\x7f\""), 0, 'F', 'F'},
    {L("{\"choices\":[{\"message\":{\"content\":\"a\0b\"}}]}"), 'J', 'J'},
    {L("{\"choices\":[{\"message\":{\"content\":\"ab\"}}]}\0"), 'J', 'J'},
    {"{\"x\":\"\\u0000\",\"choices\":[{\"message\":{\"content\":\"ab\"}}]}", 0, 'J', 'J'},
    {M("\"\xff\""), 0, 'J', 'J'},
    {M("\"\xc0\xaf\""), 0, 'J', 'J'},
    {M("\"\xed\xa0\x80\""), 0, 'J', 'J'},
    {M("\"\xf4\x8f\xbf\xbf\""), 0, 'F', 'F'},
    {M("\"\xf4\x90\x80\x80\""), 0, 'J', 'J'},
    {M("\"\xe4\xb8\""), 0, 'J', 'J'},
    {M("\"\""), 0, 'F', 'F'},
    {"{\"mod\\u0065l\":\"x\",\"choices\":[{\"message\":{\"content\":\"a\"}}]}", 0, 'J', 'J'},
    {"{\"a\\\"b\":1,\"choices\":[{\"message\":{\"content\":\"a\"}}]}", 0, 'J', 'J'},
    {"{\"\xc3\xa9\":1,\"choices\":[{\"message\":{\"content\":\"a\"}}]}", 0, 'F', 'F'},
    /* nulls */
    {"{\"model\":null,\"id\":null,\"choices\":null,\"usage\":null,\"error\":null}", 0, 'F', 'J'},
    {"{\"choices\":[null]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"delta\":null,\"finish_reason\":null,\"error\":null}]}", 0, 'F', 'J'},
    {C("null"), 0, 'F', 'J'},
    {M("null"), 0, 'F', 'F'},
    {"{\"choices\":[{\"message\":null}]}", 0, 'F', 'J'},
    {"{\"choices\":[{}]}", 0, 'F', 'J'},
    {"{\"choices\":[{\"message\":{}}]}", 0, 'F', 'F'},
    {"{}", 0, 'F', 'J'},
    /* wrong types at the read paths */
    {"{\"model\":5}", 0, 'J', 'J'},
    {"{\"model\":[\"m\"]}", 0, 'J', 'J'},
    {"{\"choices\":{}}", 0, 'J', 'J'},
    {"{\"choices\":\"x\"}", 0, 'J', 'J'},
    {"{\"choices\":[5]}", 0, 'J', 'J'},
    {"{\"choices\":[[{\"delta\":{\"content\":\"a\"}}]]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"delta\":[]}]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"delta\":{\"content\":1}}]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"delta\":{\"content\":{\"text\":\"a\"}}}]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"finish_reason\":true}]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"message\":\"x\"}]}", 0, 'F', 'J'},
    {"{\"choices\":[{\"delta\":\"x\"}]}", 0, 'J', 'J'},
    {"{\"id\":5,\"choices\":[{\"message\":{\"content\":\"a\"}}]}", 0, 'F', 'F'},
    {"{\"choices\":[{\"delta\":{}}, 5, \"x\"]}", 0, 'F', 'J'},
    /* usage */
    {"{\"usage\":5}", 0, 'F', 'J'},
    {"{\"usage\":[{\"prompt_tokens\":1}]}", 0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":\"5\",\"completion_tokens\":1.5,"
     "\"prompt_tokens_details\":3}}",
     0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1e15,"
     "\"prompt_tokens_details\":{\"cached_tokens\":2e15}}}",
     0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":1E2,\"completion_tokens\":-0,"
     "\"prompt_tokens_details\":{\"cached_tokens\":1.0}}}",
     0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":1e400,\"completion_tokens\":1e-400,"
     "\"prompt_tokens_details\":null}}",
     0, 'F', 'J'},
    {"{\"usage\":{\"prompt_tokens\":true,\"completion_tokens\":null,"
     "\"prompt_tokens_details\":[]}}",
     0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"0.0001\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"2.376e-05\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"abc\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\" 1\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"1 \"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"inf\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"0x10\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"1e400\"}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":1e400}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":-1}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":-0}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":2e6}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":1000000}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":true}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":{}}}", 0, 'F', 'J'},
    {"{\"usage\":{\"cost\":\"\\u0030.5\"}}", 0, 'J', 'J'},
    /* error objects anywhere: the cJSON path */
    {"{\"error\":{\"code\":502,\"message\":\"x\"}}", 0, 'J', 'J'},
    {"{\"error\":\"just a string\"}", 0, 'J', 'J'},
    {"{\"error\":false,\"choices\":[{\"message\":{\"content\":\"a\"}}]}", 0, 'J', 'J'},
    {"{\"choices\":[{\"error\":{\"message\":\"x\"},\"finish_reason\":\"error\","
     "\"delta\":{\"content\":\"p\"},\"message\":{\"content\":\"p\"}}]}",
     0, 'J', 'J'},
    {"{\"choices\":[{\"delta\":{\"error\":{\"message\":\"x\"},\"content\":\"a\"}}]}", 0, 'F', 'J'},
    /* truncated */
    {"{\"choices\":[{\"delta\":{\"content\":\"ab", 0, 'J', 'J'},
    {"{\"a\":1", 0, 'J', 'J'},
    {"{", 0, 'J', 'J'},
    {"", 0, 'J', 'J'},
    {"   ", 0, 'J', 'J'},
    {"{\"a\":\"\\", 0, 'J', 'J'},
    {"{\"a\":tru", 0, 'J', 'J'},
    /* trailing data, whitespace */
    {"{\"a\":1} x", 0, 'J', 'J'},
    {"{\"a\":1}{\"b\":2}", 0, 'J', 'J'},
    {"{\"a\":1},", 0, 'J', 'J'},
    {"{\"a\":1} \n\r\t", 0, 'F', 'J'},
    {"{\"a\":1}\v", 0, 'J', 'J'},
    {"\f{\"a\":1}", 0, 'J', 'J'},
    {" \n\t{ \"model\" : \"m\" , \"choices\" : [ { \"delta\" : { \"content\" : \"x\" } , "
     "\"message\" : { \"content\" : \"y\" } } ] , \"usage\" : { \"cost\" : 1 } } \r\n",
     0, 'F', 'F'},
    /* lenient JSON that cJSON may accept: its result stands */
    {"{\"a\":01}", 0, 'J', 'J'},
    {"{\"a\":+1}", 0, 'J', 'J'},
    {"{\"a\":1.}", 0, 'J', 'J'},
    {"{\"a\":.5}", 0, 'J', 'J'},
    {"{\"a\":-}", 0, 'J', 'J'},
    {"{\"a\":1e}", 0, 'J', 'J'},
    {"{\"a\":1e+}", 0, 'J', 'J'},
    {"{\"a\":1-2}", 0, 'J', 'J'},
    {"{\"a\":nulls}", 0, 'J', 'J'},
    {"{\"a\":[1,]}", 0, 'J', 'J'},
    {"{\"a\":1,}", 0, 'J', 'J'},
    {"{,}", 0, 'J', 'J'},
    {"\xef\xbb\xbf{\"a\":1}", 0, 'J', 'J'},
    {"\x01{\"a\":1}", 0, 'J', 'J'},
    {"{\"a\"\x01:1}", 0, 'J', 'J'},
    {"{'a':1}", 0, 'J', 'J'},
    {"{a:1}", 0, 'J', 'J'},
    {"{\"a\":NaN}", 0, 'J', 'J'},
    {"{\"a\":Infinity}", 0, 'J', 'J'},
    {"{\"a\":0x10}", 0, 'J', 'J'},
    /* the root is not an object */
    {"[1]", 0, 'J', 'J'},
    {"\"s\"", 0, 'J', 'J'},
    {"5", 0, 'J', 'J'},
    {"null", 0, 'J', 'J'},
    {"[DONE]", 0, 'J', 'J'},
    {" [DONE] ", 0, 'J', 'J'},
    /* other values nest anywhere */
    {"{\"x\":[true,false,null,-0.5e-3,{\"y\":[[],{}]}],\"choices\":[{\"message\":"
     "{\"content\":\"a\"},\"logprobs\":{\"content\":[{\"token\":\"a\"}]}}]}",
     0, 'F', 'F'},
};

/* Long strings at the fields with a size: cut at a character boundary,
 * over-long ids skipped, plain and escaped. */
static void long_fields(struct buf *b, bool escaped)
{
	const char *e_acute = escaped ? "\\u00e9" : "\xc3\xa9";
	buf_puts(b, "{\"id\":\"");
	for (int i = 0; i < 63; i++)
		buf_puts(b, e_acute); /* 126 bytes decoded: fits */
	buf_puts(b, "\",\"model\":\"mm");
	for (int i = 0; i < 200; i++)
		buf_puts(b, e_acute); /* 401 bytes: cut inside a character */
	buf_puts(b, "\",\"choices\":[{\"finish_reason\":\"s");
	for (int i = 0; i < 20; i++)
		buf_puts(b, e_acute);
	buf_puts(b, "\",\"delta\":{\"content\":\"c\"},\"message\":{\"content\":\"c\"}}]}");
}

Test(wire_fast, edge_cases_agree_and_take_the_expected_path)
{
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const struct edge *e = &edges[i];
		size_t len = e->len ? e->len : strlen(e->text);
		same(e->text, len);
		cr_assert_eq(fast_chunk(e->text, len) ? 'F' : 'J', e->chunk, "chunk: %s", e->text);
		cr_assert_eq(fast_completion(e->text, len) ? 'F' : 'J', e->completion,
			     "completion: %s", e->text);
	}
}

Test(wire_fast, long_fields_are_cut_alike_plain_and_escaped)
{
	for (int escaped = 0; escaped < 2; escaped++) {
		struct buf b;
		buf_init(&b);
		long_fields(&b, escaped);
		cr_assert(fast_chunk(b.data, b.len));
		cr_assert(fast_completion(b.data, b.len));
		same(b.data, b.len);
		/* one more character: the id no longer fits (128 bytes) */
		char *at = strstr(b.data, "\",\"model\"");
		size_t off = (size_t)(at - b.data);
		struct buf c;
		buf_init(&c);
		buf_append(&c, b.data, off);
		buf_puts(&c, escaped ? "\\u00e9" : "\xc3\xa9");
		buf_puts(&c, b.data + off);
		same(c.data, c.len);
		struct wire_reply r;
		struct se_err err;
		wire_reply_init(&r);
		cr_assert_eq(wire_apply_chunk(c.data, c.len, &r, &err), 0);
		cr_assert_str_eq(r.id, "");
		cr_assert_eq(strlen(r.model), 254, "cut before the split character");
		wire_reply_free(&r);
		buf_free(&b);
		buf_free(&c);
	}
}

/* Numbers and cost strings up to 63 characters (what cJSON reads of a
 * number) stay on the fast path; longer ones go to cJSON, which fails on a
 * long number (its rest is left unread) and reads a long cost string. */
Test(wire_fast, long_numbers_and_cost_strings_agree)
{
	static const char *const around[][2] = {{"{\"usage\":{\"prompt_tokens\":", "}}"},
						{"{\"usage\":{\"cost\":", "}}"},
						{"{\"usage\":{\"cost\":\"", "\"}}"},
						{"{\"other\":", "}"}};
	for (size_t f = 0; f < sizeof(around) / sizeof(around[0]); f++) {
		for (size_t n = 60; n <= 66; n++) {
			char num[80], text[160];
			for (int frac = 0; frac < 2; frac++) {
				/* 1234...: a count; 0.000...01: a small cost */
				for (size_t i = 0; i < n; i++)
					num[i] = frac ? (i == 1	      ? '.'
							 : i == n - 1 ? '1'
								      : '0')
						      : (char)('1' + i % 9);
				num[n] = '\0';
				snprintf(text, sizeof(text), "%s%s%s", around[f][0], num,
					 around[f][1]);
				same(text, strlen(text));
				cr_assert_eq(fast_chunk(text, strlen(text)), n <= 63, "%s", text);
			}
		}
	}
}

/* The string scan steps 8 bytes at a time: a quote, an escape, a control
 * byte, a NUL or a UTF-8 character at every position around each step of a
 * content string ends the same way on both paths. */
Test(wire_fast, special_bytes_at_every_offset_of_the_8_byte_step)
{
	static const struct {
		const char *text;
		bool fast; /* the fast path decides it */
	} specials[] = {{"\\\"", true},
			{"\\\\", true},
			{"\\n", true},
			{"\\u00e9", true},
			{"\\ud83d\\ude00", true},
			{"\xc3\xa9", true},
			{"\xf0\x9f\x98\x80", true},
			{"\x7f", true},
			{"\x01", false},
			{"\x1f", false},
			{"\xff", false},
			{"\xc3", false},
			{"\"", false},
			{"\\u0000", false},
			{"\\x", false}};
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		for (size_t at = 0; at < 26; at++) {
			struct buf b;
			buf_init(&b);
			buf_puts(&b, "{\"choices\":[{\"delta\":{\"content\":\"");
			for (size_t i = 0; i < at; i++)
				buf_putc(&b, (char)('a' + i % 26));
			buf_puts(&b, specials[k].text);
			buf_puts(&b, "tail-of-the-string\"}}]}");
			same(b.data, b.len);
			cr_assert_eq(fast_chunk(b.data, b.len), specials[k].fast, "%s", b.data);
			buf_free(&b);
		}
	}
}

/* Nesting: within the fast path's limit, past it, and past cJSON's. */
Test(wire_fast, deep_nesting_agrees)
{
	static const int depths[] = {8, 30, 31, 32, 33, 100, 999, 1000, 1001, 1500};
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "{\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"x\":");
		for (int d = 0; d < depths[i]; d++)
			buf_puts(&b, d % 2 ? "{\"k\":" : "[");
		buf_puts(&b, "1");
		for (int d = depths[i] - 1; d >= 0; d--)
			buf_puts(&b, d % 2 ? "}" : "]");
		buf_puts(&b, "}");
		same(b.data, b.len);
		/* the root object is one level: 31 more stay on the fast path */
		cr_assert_eq(fast_chunk(b.data, b.len), depths[i] <= 31, "depth %d", depths[i]);
		buf_free(&b);
	}
}

/* A stream whose chunks repeat and change fields: the accumulated reply
 * (content, the first id, the last finish_reason and usage) agrees. */
Test(wire_fast, accumulated_stream_agrees)
{
	static const char *const events[] = {
	    "{\"id\":\"gen-a\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}",
	    "{\"id\":\"gen-b\",\"model\":\"m2\",\"choices\":[{\"delta\":{\"content\":\"lo\\n\"},"
	    "\"finish_reason\":\"\"}]}",
	    "{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}",
	    "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"cost\":"
	    "\"2e-05\"}}",
	    "{\"usage\":null}",
	    "[DONE]",
	    "{\"choices\":[{\"delta\":{\"content\":\"after done\"}}]}",
	};
	struct wire_reply a, b;
	wire_reply_init(&a);
	wire_reply_init(&b);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct se_err ea, eb;
		size_t len = strlen(events[i]);
		cr_assert_eq(wire_apply_chunk(events[i], len, &a, &ea),
			     wire_apply_chunk_json(events[i], len, &b, &eb));
		cr_assert_null(wire_reply_diff(&a, &b), "after %s", events[i]);
	}
	cr_assert_str_eq(a.content.data, "Hello\n");
	cr_assert_str_eq(a.id, "gen-a");
	cr_assert_str_eq(a.finish_reason, "stop");
	cr_assert_eq(a.usage.completion_tokens, 2);
	cr_assert_eq(a.n_chunks, 5);
	wire_reply_free(&a);
	wire_reply_free(&b);
}

/* The comparison itself sees every field: a test of the tests. */
Test(wire_fast, reply_diff_names_each_differing_field)
{
	struct wire_reply a, b;
	wire_reply_init(&a);
	wire_reply_init(&b);
	cr_assert_null(wire_reply_diff(&a, &b));
	buf_puts(&b.content, "x");
	cr_assert_str_eq(wire_reply_diff(&a, &b), "content");
	buf_puts(&a.content, "x");
	b.usage.cost = -0.0;
	cr_assert_str_eq(wire_reply_diff(&a, &b), "usage.cost");
	b.usage.cost = 0;
	b.id[0] = 'g';
	cr_assert_str_eq(wire_reply_diff(&a, &b), "id");
	b.id[0] = '\0';
	b.n_chunks = 1;
	cr_assert_str_eq(wire_reply_diff(&a, &b), "n_chunks");
	b.n_chunks = 0;
	b.usage.cached_tokens = -1;
	cr_assert_str_eq(wire_reply_diff(&a, &b), "usage.cached_tokens");
	wire_reply_free(&a);
	wire_reply_free(&b);
}
