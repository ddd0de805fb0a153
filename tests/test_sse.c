/* test_sse.c: the sse room's suite: the incremental SSE parser (src/sse/).
 *
 * The recorded stream tests/fixtures/wire/stream_ok.sse is cut at every byte
 * offset and with every line-end style: the events must not depend on where
 * the network cut the bytes. Not tested here: what the events mean (wire/).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "sse/sse.h"

#define STREAM_OK "tests/fixtures/wire/stream_ok.sse"

struct events {
	char **data;
	size_t *len;
	size_t n;
	size_t cap;
	size_t cap_len;
	int stop_after; /* return 7 from the callback after this many, 0: never */
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct events *e = ctx;
	e->data = xgrow(e->data, &e->cap, e->n + 1, sizeof(*e->data));
	e->len = xgrow(e->len, &e->cap_len, e->n + 1, sizeof(*e->len));
	e->data[e->n] = xmalloc(len + 1);
	memcpy(e->data[e->n], data, len);
	e->data[e->n][len] = '\0';
	e->len[e->n] = len;
	e->n++;
	if (e->stop_after && (int)e->n == e->stop_after)
		return 7;
	return 0;
}

static void events_free(struct events *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->data[i]);
	free(e->data);
	free(e->len);
	memset(e, 0, sizeof(*e));
}

static void assert_same_events(const struct events *a, const struct events *b, const char *what,
			       size_t at)
{
	cr_assert_eq(a->n, b->n, "%s split at %zu: %zu events, expected %zu", what, at, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_eq(a->len[i], b->len[i], "%s split at %zu: event %zu length", what, at,
			     i);
		cr_assert(memcmp(a->data[i], b->data[i], a->len[i]) == 0,
			  "%s split at %zu: event %zu differs: %s", what, at, i, a->data[i]);
	}
}

/* Feeds chunks[0..n) and finishes; returns the first non-zero rc or 0. */
static int feed_all(const char *const *chunks, const size_t *lens, size_t n, struct events *out)
{
	struct sse_parser p;
	sse_init(&p);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = sse_feed(&p, chunks[i], lens[i], collect, out);
	if (rc == 0)
		rc = sse_finish(&p, collect, out);
	sse_free(&p);
	return rc;
}

static int feed_str(const char *s, struct events *out)
{
	size_t len = strlen(s);
	return feed_all(&s, &len, 1, out);
}

static int feed_split(const char *s, size_t len, size_t at, struct events *out)
{
	const char *chunks[2] = {s, s + at};
	size_t lens[2] = {at, len - at};
	return feed_all(chunks, lens, 2, out);
}

static char *read_fixture(const char *path, size_t *len)
{
	char *data;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_read_all(path, &data, len, &err), 0, "%s: %s", err.where, err.msg);
	return data;
}

/* Rewrites every "\n" of s as `eol`. */
static char *with_line_ends(const char *s, size_t len, const char *eol, size_t *out_len)
{
	size_t el = strlen(eol);
	char *o = xmalloc(len * el + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			memcpy(o + k, eol, el);
			k += el;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	*out_len = k;
	return o;
}

static size_t count_data_lines(const char *s)
{
	size_t n = 0;
	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, "data: ", 6) == 0)
			n++;
	return n;
}

Test(sse, whole_fixture_gives_one_event_per_data_line)
{
	size_t len;
	char *s = read_fixture(STREAM_OK, &len);
	struct events e = {0};
	cr_assert_eq(feed_all((const char *const *)&s, &len, 1, &e), 0);
	cr_assert_eq(e.n, count_data_lines(s));
	cr_assert(strncmp(e.data[0], "{\"id\":\"gen-1754321311-", 22) == 0, "first: %s", e.data[0]);
	cr_assert_str_eq(e.data[e.n - 1], "[DONE]");
	for (size_t i = 0; i < e.n; i++)
		cr_assert_null(strstr(e.data[i], "OPENROUTER PROCESSING"), "comment leaked: %s",
			       e.data[i]);
	events_free(&e);
	free(s);
}

Test(sse, events_do_not_depend_on_where_the_stream_is_cut)
{
	size_t len;
	char *s = read_fixture(STREAM_OK, &len);
	struct events ref = {0};
	cr_assert_eq(feed_all((const char *const *)&s, &len, 1, &ref), 0);
	cr_assert_gt(ref.n, 10);
	for (size_t at = 0; at <= len; at++) {
		struct events e = {0};
		cr_assert_eq(feed_split(s, len, at, &e), 0);
		assert_same_events(&e, &ref, "lf", at);
		events_free(&e);
	}
	events_free(&ref);
	free(s);
}

Test(sse, byte_by_byte_feed_gives_the_same_events)
{
	size_t len;
	char *s = read_fixture(STREAM_OK, &len);
	struct events ref = {0}, e = {0};
	cr_assert_eq(feed_all((const char *const *)&s, &len, 1, &ref), 0);
	struct sse_parser p;
	sse_init(&p);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(sse_feed(&p, s + i, 1, collect, &e), 0);
	cr_assert_eq(sse_finish(&p, collect, &e), 0);
	sse_free(&p);
	assert_same_events(&e, &ref, "bytewise", 0);
	events_free(&e);
	events_free(&ref);
	free(s);
}

Test(sse, crlf_and_cr_line_ends_give_the_same_events_at_every_cut)
{
	size_t len;
	char *s = read_fixture(STREAM_OK, &len);
	struct events ref = {0};
	cr_assert_eq(feed_all((const char *const *)&s, &len, 1, &ref), 0);
	const char *eols[] = {"\r\n", "\r"};
	for (size_t k = 0; k < 2; k++) {
		size_t n;
		char *t = with_line_ends(s, len, eols[k], &n);
		for (size_t at = 0; at <= n; at++) {
			struct events e = {0};
			cr_assert_eq(feed_split(t, n, at, &e), 0);
			assert_same_events(&e, &ref, k ? "cr" : "crlf", at);
			events_free(&e);
		}
		free(t);
	}
	events_free(&ref);
	free(s);
}

Test(sse, cr_at_chunk_end_and_lf_at_next_start_are_one_line_end)
{
	/* Read as two line ends, "\r" + "\n" would be a blank line that
	 * dispatches "a" alone. */
	const char *chunks[] = {"data: a\r", "\ndata: b\r", "\n\r", "\n"};
	size_t lens[] = {8, 9, 2, 1};
	struct events e = {0};
	cr_assert_eq(feed_all(chunks, lens, 4, &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "a\nb");
	events_free(&e);
}

Test(sse, multibyte_utf8_split_across_chunks_is_kept_whole)
{
	const char *chunks[] = {"data: caf\xc3", "\xa9 \xe2\x82", "\xac\n\n"};
	size_t lens[] = {10, 4, 3};
	struct events e = {0};
	cr_assert_eq(feed_all(chunks, lens, 3, &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "caf\xc3\xa9 \xe2\x82\xac");
	events_free(&e);
}

Test(sse, comment_lines_are_skipped)
{
	struct events e = {0};
	cr_assert_eq(
	    feed_str(": OPENROUTER PROCESSING\n\n:data: no\n\ndata: x\n: mid\ndata: y\n\n", &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "x\ny");
	events_free(&e);
}

Test(sse, multi_line_data_is_joined_with_newlines)
{
	struct events e = {0};
	cr_assert_eq(feed_str("data: one\ndata:two\ndata:  three\ndata\n\n", &e), 0);
	cr_assert_eq(e.n, 1);
	/* one optional space is dropped, a second one is data; a bare "data"
	 * line adds an empty line */
	cr_assert_str_eq(e.data[0], "one\ntwo\n three\n");
	events_free(&e);
}

Test(sse, other_fields_are_ignored)
{
	struct events e = {0};
	cr_assert_eq(feed_str("event: chunk\nid: 7\nretry: 100\ndatum: no\ndata: x\n\n", &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "x");
	events_free(&e);
}

Test(sse, blank_lines_without_data_dispatch_nothing)
{
	struct events e = {0};
	cr_assert_eq(feed_str("\n\n\r\n\revent: x\n\nid: 3\n\n", &e), 0);
	cr_assert_eq(e.n, 0);
	events_free(&e);
}

Test(sse, empty_data_line_dispatches_an_empty_event)
{
	struct events e = {0};
	cr_assert_eq(feed_str("data:\n\n", &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_eq(e.len[0], 0);
	events_free(&e);
}

Test(sse, oversize_event_fails)
{
	struct sse_parser p;
	struct events e = {0};
	sse_init(&p);
	char *big = xmalloc(1 << 20);
	memset(big, 'a', 1 << 20);
	int rc = sse_feed(&p, "data: ", 6, collect, &e);
	for (unsigned i = 0; rc == 0 && i <= SSE_MAX_EVENT / (1 << 20); i++)
		rc = sse_feed(&p, big, 1 << 20, collect, &e);
	cr_assert_eq(rc, -1);
	cr_assert_eq(e.n, 0);
	free(big);
	sse_free(&p);
	events_free(&e);
}

Test(sse, oversize_event_of_many_lines_fails)
{
	struct sse_parser p;
	struct events e = {0};
	sse_init(&p);
	size_t line = 1 << 16;
	char *big = xmalloc(line + 8);
	memcpy(big, "data: ", 6);
	memset(big + 6, 'b', line);
	big[6 + line] = '\n';
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i <= SSE_MAX_EVENT / line; i++)
		rc = sse_feed(&p, big, line + 7, collect, &e);
	cr_assert_eq(rc, -1);
	cr_assert_eq(e.n, 0);
	free(big);
	sse_free(&p);
	events_free(&e);
}

Test(sse, event_of_exactly_the_limit_is_accepted)
{
	struct sse_parser p;
	struct events e = {0};
	sse_init(&p);
	char *big = xmalloc(SSE_MAX_EVENT);
	memset(big, 'c', SSE_MAX_EVENT);
	cr_assert_eq(sse_feed(&p, "data: ", 6, collect, &e), 0);
	cr_assert_eq(sse_feed(&p, big, SSE_MAX_EVENT, collect, &e), 0);
	cr_assert_eq(sse_feed(&p, "\n\n", 2, collect, &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_eq(e.len[0], SSE_MAX_EVENT);
	free(big);
	sse_free(&p);
	events_free(&e);
}

Test(sse, finish_dispatches_a_trailing_event)
{
	struct events e = {0};
	cr_assert_eq(feed_str("data: a\n\ndata: tail", &e), 0);
	cr_assert_eq(e.n, 2);
	cr_assert_str_eq(e.data[1], "tail");
	events_free(&e);

	cr_assert_eq(feed_str("data: x\ndata: y\n", &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "x\ny");
	events_free(&e);
}

Test(sse, finish_without_pending_data_dispatches_nothing)
{
	struct events e = {0};
	cr_assert_eq(feed_str("data: a\n\n: trailing comment", &e), 0);
	cr_assert_eq(e.n, 1);
	events_free(&e);
}

Test(sse, callback_returning_non_zero_stops_the_feed)
{
	struct events e = {.stop_after = 1};
	struct sse_parser p;
	sse_init(&p);
	const char *s = "data: a\n\ndata: b\n\n";
	cr_assert_eq(sse_feed(&p, s, strlen(s), collect, &e), 7);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "a");
	sse_free(&p);
	events_free(&e);
}

Test(sse, reset_drops_a_partial_event)
{
	struct events e = {0};
	struct sse_parser p;
	sse_init(&p);
	const char *a = "data: stale\ndata: par";
	const char *b = "data: fresh\n\n";
	cr_assert_eq(sse_feed(&p, a, strlen(a), collect, &e), 0);
	sse_reset(&p);
	cr_assert_eq(sse_feed(&p, b, strlen(b), collect, &e), 0);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.data[0], "fresh");
	sse_free(&p);
	events_free(&e);
}
