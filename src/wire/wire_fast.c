/* wire_fast.c: the reply parse without a tree, the fast path of
 * wire_apply_chunk and wire_parse_completion; see wire_fast.h.
 *
 * The network loop parses every stream event and every whole reply; through
 * cJSON that was a tree of mallocs per ~600-byte event. Here one strict
 * RFC 8259 scan validates the whole text (strings and their escapes, UTF-8,
 * numbers, literals, nesting) and records where the few values the wire
 * room reads are: id, error, model, choices[0].{finish_reason, error,
 * delta.content, message.content} and usage.{prompt_tokens,
 * completion_tokens, prompt_tokens_details.cached_tokens, cost}, each the
 * FIRST occurrence of its key, as cJSON_GetObjectItemCaseSensitive finds
 * it. Only when the reply is one the cJSON path accepts, with every read
 * value of the type that path takes, is r written, through the helpers the
 * two paths share (wire_int.h).
 *
 * Anything else it leaves, r untouched, to the cJSON path, whose result and
 * error messages then stand: JSON that is invalid or only leniently valid
 * (other whitespace, a BOM, "01", raw control bytes, invalid UTF-8),
 * \u0000 and lone surrogates, a key written with escapes, nesting past
 * FJ_DEPTH, a number longer than cJSON reads, an error object anywhere, a
 * wrong type at a read path, a cost string with escapes. Real replies
 * (tests/fixtures/wire/) take the fast path but for the mid-stream error
 * chunk.
 */
#include "wire/wire_fast.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

/* Deeper nesting goes to the cJSON path (real replies nest 6 levels). */
#define FJ_DEPTH 32
/* cJSON reads at most this many characters of a number (its buffer is 64
 * bytes): a longer one makes it fail, so it goes to the cJSON path. */
#define FJ_NUM_MAX 63

enum fj_type { FJ_ABSENT, FJ_NULL, FJ_BOOL, FJ_NUM, FJ_STR, FJ_ARR, FJ_OBJ };

/* A value found at a read path. */
struct fj_val {
	const char *p; /* string: the bytes between the quotes; number: its text */
	size_t n;
	unsigned char type; /* enum fj_type */
	bool esc;	    /* a string holding escapes */
};

/* The read paths: where each recorded value sits. */
enum fj_slot {
	F_ID,
	F_ERROR,
	F_MODEL,
	F_CHOICES,
	F_USAGE,
	F_C0, /* choices[0] */
	F_FINISH,
	F_CERROR,
	F_DELTA,
	F_MESSAGE,
	F_DCONTENT, /* choices[0].delta.content */
	F_MCONTENT, /* choices[0].message.content */
	F_PROMPT,
	F_COMPLETION,
	F_DETAILS,
	F_COST,
	F_CACHED,
	F_NSLOTS
};

/* What a container is: which of its members (or, for choices, elements)
 * are read paths. */
enum fj_role { R_NONE, R_ROOT, R_CHOICES, R_C0, R_DELTA, R_MESSAGE, R_USAGE, R_DETAILS, R_N };

struct fj_key {
	const char *name;
	size_t len;
	enum fj_slot slot;
	enum fj_role role; /* of the value, when it is a container */
};

#define FJ_KEY(name, slot, role)                                                                   \
	{                                                                                          \
		name, sizeof(name) - 1, slot, role                                                 \
	}
static const struct fj_key root_keys[] = {
    FJ_KEY("id", F_ID, R_NONE),	       FJ_KEY("error", F_ERROR, R_NONE),
    FJ_KEY("model", F_MODEL, R_NONE),  FJ_KEY("choices", F_CHOICES, R_CHOICES),
    FJ_KEY("usage", F_USAGE, R_USAGE), {NULL, 0, F_NSLOTS, R_NONE}};
static const struct fj_key choice_keys[] = {FJ_KEY("finish_reason", F_FINISH, R_NONE),
					    FJ_KEY("error", F_CERROR, R_NONE),
					    FJ_KEY("delta", F_DELTA, R_DELTA),
					    FJ_KEY("message", F_MESSAGE, R_MESSAGE),
					    {NULL, 0, F_NSLOTS, R_NONE}};
static const struct fj_key delta_keys[] = {FJ_KEY("content", F_DCONTENT, R_NONE),
					   {NULL, 0, F_NSLOTS, R_NONE}};
static const struct fj_key message_keys[] = {FJ_KEY("content", F_MCONTENT, R_NONE),
					     {NULL, 0, F_NSLOTS, R_NONE}};
static const struct fj_key usage_keys[] = {FJ_KEY("prompt_tokens", F_PROMPT, R_NONE),
					   FJ_KEY("completion_tokens", F_COMPLETION, R_NONE),
					   FJ_KEY("prompt_tokens_details", F_DETAILS, R_DETAILS),
					   FJ_KEY("cost", F_COST, R_NONE),
					   {NULL, 0, F_NSLOTS, R_NONE}};
static const struct fj_key details_keys[] = {FJ_KEY("cached_tokens", F_CACHED, R_NONE),
					     {NULL, 0, F_NSLOTS, R_NONE}};

/* The keys read in an object of each role (NULL: none; R_CHOICES is an
 * array's role). */
static const struct fj_key *const role_keys[R_N] = {
    [R_ROOT] = root_keys,	[R_C0] = choice_keys,	[R_DELTA] = delta_keys,
    [R_MESSAGE] = message_keys, [R_USAGE] = usage_keys, [R_DETAILS] = details_keys};

struct fj {
	const unsigned char *s; /* the next byte */
	const unsigned char *end;
	int depth;
	struct fj_val v[F_NSLOTS];
};

/* ---- the scan: false for anything it leaves to the cJSON path ---- */

static bool scan_value(struct fj *j, enum fj_role role, struct fj_val *out);

static void skip_ws(struct fj *j)
{
	while (j->s < j->end && *j->s <= ' ' &&
	       (*j->s == ' ' || *j->s == '\n' || *j->s == '\r' || *j->s == '\t'))
		j->s++;
}

/* The four hex digits at s (the caller checked they are there), or -1. */
static long hex4(const unsigned char *s)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i], lower = c | 0x20;
		if (c >= '0' && c <= '9')
			v = v << 4 | (c - '0');
		else if (lower >= 'a' && lower <= 'f')
			v = v << 4 | (lower - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* The length of the \u escape at s (6, or 12 for a surrogate pair), or 0:
 * \u0000 (the cJSON path refuses it with its located message), a lone or
 * reversed surrogate, a bad hex digit (cJSON reads those as 0). */
static size_t escape_u_len(const unsigned char *s, const unsigned char *end)
{
	if (end - s < 6)
		return 0;
	long hi = hex4(s + 2);
	if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return 0;
	if (hi < 0xD800 || hi > 0xDBFF)
		return 6;
	if (end - s < 12 || s[6] != '\\' || s[7] != 'u')
		return 0;
	long lo = hex4(s + 8);
	return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 0;
}

/* The length of the well-formed UTF-8 character at s (RFC 3629: no
 * overlong forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

#define FJ_ONES 0x0101010101010101ULL

/* Whether the 8 bytes at s are all plain string bytes: ASCII, no control
 * byte, quote or backslash. With every high bit clear, a subtraction below
 * borrows into a high bit only at such a byte (the lowest one gets no
 * borrow from below, so any will show). */
static bool plain8(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof(w));
	uint64_t special = (w - FJ_ONES * 0x20) | ((w ^ (FJ_ONES * '"')) - FJ_ONES) |
			   ((w ^ (FJ_ONES * '\\')) - FJ_ONES);
	return ((w | special) & (FJ_ONES * 0x80)) == 0;
}

/* 1 for a plain string byte (ASCII, not a control byte, '"' or '\\'). */
static const unsigned char fj_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The string whose opening quote is at j->s. */
static bool scan_string(struct fj *j, struct fj_val *out)
{
	const unsigned char *s = j->s + 1, *end = j->end, *start = s;
	bool esc = false;
	for (;;) {
		while (end - s >= 8 && plain8(s))
			s += 8;
		while (s < end && fj_plain[*s])
			s++;
		if (s >= end || *s < 0x20)
			return false; /* unterminated, or a raw control byte */
		if (*s == '"')
			break;
		size_t n;
		if (*s == '\\') {
			esc = true;
			if (end - s < 2)
				return false;
			if (s[1] == 'u')
				n = escape_u_len(s, end);
			else
				n = s[1] && strchr("\"\\/bfnrt", s[1]) ? 2 : 0;
		} else {
			n = utf8_len(s, end);
		}
		if (!n)
			return false;
		s += n;
	}
	out->type = FJ_STR;
	out->p = (const char *)start;
	out->n = (size_t)(s - start);
	out->esc = esc;
	j->s = s + 1;
	return true;
}

static bool is_digit(const unsigned char *s, const unsigned char *end)
{
	return s < end && *s >= '0' && *s <= '9';
}

static const unsigned char *digits(const unsigned char *s, const unsigned char *end)
{
	while (is_digit(s, end))
		s++;
	return s;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct fj *j, struct fj_val *out)
{
	const unsigned char *s = j->s, *end = j->end, *start = s;
	if (s < end && *s == '-')
		s++;
	if (!is_digit(s, end))
		return false;
	s = *s == '0' ? s + 1 : digits(s, end);
	if (s < end && *s == '.') {
		if (!is_digit(++s, end))
			return false;
		s = digits(s, end);
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			s++;
		if (!is_digit(s, end))
			return false;
		s = digits(s, end);
	}
	if (s - start > FJ_NUM_MAX)
		return false;
	out->type = FJ_NUM;
	out->p = (const char *)start;
	out->n = (size_t)(s - start);
	j->s = s;
	return true;
}

static bool scan_literal(struct fj *j, const char *lit, size_t n, enum fj_type type,
			 struct fj_val *out)
{
	if ((size_t)(j->end - j->s) < n || memcmp(j->s, lit, n) != 0)
		return false;
	j->s += n;
	out->type = (unsigned char)type;
	return true;
}

/* After an element: true with *more set at a ',', true at the closing
 * byte, false for anything else. */
static bool next_element(struct fj *j, unsigned char close, bool *more)
{
	skip_ws(j);
	if (j->s >= j->end)
		return false;
	*more = *j->s == ',';
	if (!*more && *j->s != close)
		return false;
	j->s++;
	if (*more)
		skip_ws(j);
	else
		j->depth--;
	return true;
}

/* The key that names a read path in an object of this role, if it is one
 * and its value was not met before (the first occurrence counts). */
static const struct fj_key *find_key(const struct fj *j, enum fj_role role,
				     const struct fj_val *key)
{
	const struct fj_key *k = role_keys[role];
	for (; k && k->name; k++)
		if (k->len == key->n && memcmp(k->name, key->p, key->n) == 0)
			return j->v[k->slot].type == FJ_ABSENT ? k : NULL;
	return NULL;
}

/* Enters the array or object at j->s, of the given type: false past
 * FJ_DEPTH, else *more says whether it has elements (an empty one is
 * left already). */
static bool open_container(struct fj *j, enum fj_type type, struct fj_val *out, bool *more)
{
	out->type = (unsigned char)type;
	if (++j->depth > FJ_DEPTH)
		return false;
	j->s++;
	skip_ws(j);
	*more = !(j->s < j->end && *j->s == (type == FJ_OBJ ? '}' : ']'));
	if (!*more) {
		j->s++;
		j->depth--;
	}
	return true;
}

static bool scan_object(struct fj *j, enum fj_role role, struct fj_val *out)
{
	bool more;
	if (!open_container(j, FJ_OBJ, out, &more))
		return false;
	while (more) {
		struct fj_val key, other;
		if (j->s >= j->end || *j->s != '"' || !scan_string(j, &key) || key.esc)
			return false; /* an escaped key might spell a read path */
		skip_ws(j);
		if (j->s >= j->end || *j->s != ':')
			return false;
		j->s++;
		skip_ws(j);
		const struct fj_key *k = find_key(j, role, &key);
		if (!scan_value(j, k ? k->role : R_NONE, k ? &j->v[k->slot] : &other) ||
		    !next_element(j, '}', &more))
			return false;
	}
	return true;
}

static bool scan_array(struct fj *j, enum fj_role role, struct fj_val *out)
{
	bool more;
	if (!open_container(j, FJ_ARR, out, &more))
		return false;
	for (bool first = role == R_CHOICES; more; first = false) {
		struct fj_val other;
		if (!scan_value(j, first ? R_C0 : R_NONE, first ? &j->v[F_C0] : &other) ||
		    !next_element(j, ']', &more))
			return false;
	}
	return true;
}

static bool scan_value(struct fj *j, enum fj_role role, struct fj_val *out)
{
	if (j->s >= j->end)
		return false;
	switch (*j->s) {
	case '{':
		return scan_object(j, role, out);
	case '[':
		return scan_array(j, role, out);
	case '"':
		return scan_string(j, out);
	case 't':
		return scan_literal(j, "true", 4, FJ_BOOL, out);
	case 'f':
		return scan_literal(j, "false", 5, FJ_BOOL, out);
	case 'n':
		return scan_literal(j, "null", 4, FJ_NULL, out);
	default:
		return scan_number(j, out);
	}
}

/* The whole text: one object, JSON whitespace around it. */
static bool scan(struct fj *j, const char *text, size_t len)
{
	memset(j, 0, sizeof(*j));
	if (!text)
		return false;
	j->s = (const unsigned char *)text;
	j->end = j->s + len;
	skip_ws(j);
	struct fj_val root;
	if (j->s >= j->end || *j->s != '{' || !scan_value(j, R_ROOT, &root))
		return false;
	skip_ws(j);
	return j->s == j->end;
}

/* ---- reading the recorded values ---- */

static bool absent(const struct fj_val *v)
{
	return v->type == FJ_ABSENT || v->type == FJ_NULL;
}

/* What take_string and take_content accept without an error. */
static bool str_or_absent(const struct fj_val *v)
{
	return absent(v) || v->type == FJ_STR;
}

/* Writes the UTF-8 form of code point cp (at most U+10FFFF) to u. */
static size_t utf8_put(unsigned long cp, char *u)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
	for (size_t i = n - 1; i > 0; i--) {
		u[i] = (char)(0x80 | (cp & 0x3F));
		cp >>= 6;
	}
	u[0] = (char)(lead[n] | cp);
	return n;
}

/* Decodes a scanned string's bytes into out[0..cap), as cJSON does;
 * returns the bytes written (cap when the decoded string is cap or
 * longer). The decoded string is never longer than the raw one. */
static size_t decode(const char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	while (i < n && o < cap) {
		const char *bs = memchr(p + i, '\\', n - i);
		size_t run = bs ? (size_t)(bs - (p + i)) : n - i;
		if (run > cap - o)
			run = cap - o;
		memcpy(out + o, p + i, run);
		i += run;
		o += run;
		if (i >= n || o >= cap || p[i] != '\\')
			continue;
		char u[4];
		size_t un = 1;
		switch (p[i + 1]) {
		case 'b':
			u[0] = '\b';
			break;
		case 'f':
			u[0] = '\f';
			break;
		case 'n':
			u[0] = '\n';
			break;
		case 'r':
			u[0] = '\r';
			break;
		case 't':
			u[0] = '\t';
			break;
		case 'u': {
			const unsigned char *h = (const unsigned char *)p + i + 2;
			unsigned long cp = (unsigned long)hex4(h);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				cp = 0x10000 +
				     ((cp & 0x3FF) << 10 | ((unsigned long)hex4(h + 6) & 0x3FF));
				i += 6;
			}
			un = utf8_put(cp, u);
			i += 4; /* with the 2 below: the 6 bytes of \uXXXX */
			break;
		}
		default: /* \" \\ \/ */
			u[0] = p[i + 1];
		}
		i += 2;
		for (size_t k = 0; k < un && o < cap; k++)
			out[o++] = u[k];
	}
	return o;
}

/* put_str's buffer holds the decoded head of any field it fills. */
#define FJ_STR_MAX 256
_Static_assert(sizeof(((struct wire_reply *)0)->model) <= FJ_STR_MAX &&
		   sizeof(((struct wire_reply *)0)->finish_reason) <= FJ_STR_MAX,
	       "put_str decodes at most FJ_STR_MAX bytes");

/* take_string's copy of a string (or nothing) into dst[size]. */
static void put_str(char *dst, size_t size, const struct fj_val *v)
{
	char tmp[FJ_STR_MAX];
	if (absent(v))
		return;
	if (!v->esc)
		wire_copy_strn(dst, size, v->p, v->n);
	else
		wire_copy_strn(dst, size, tmp, decode(v->p, v->n, tmp, size));
}

/* take_id: the first id that is a string and fits. */
static void put_id(struct wire_reply *r, const struct fj_val *v)
{
	char tmp[sizeof(r->id)];
	if (r->id[0] || v->type != FJ_STR)
		return;
	const char *s = v->p;
	size_t n = v->n;
	if (v->esc) {
		n = decode(v->p, v->n, tmp, sizeof(tmp));
		s = tmp;
	}
	if (n >= sizeof(r->id))
		return;
	memcpy(r->id, s, n);
	r->id[n] = '\0';
}

/* take_content: a string (or nothing) appended. */
static void put_content(struct buf *b, const struct fj_val *v)
{
	if (absent(v))
		return;
	if (!v->esc) {
		buf_append(b, v->p, v->n);
		return;
	}
	buf_reserve(b, v->n);
	b->len += decode(v->p, v->n, b->data + b->len, v->n);
	b->data[b->len] = '\0';
}

/* A number's value, read by strtod as cJSON reads it (the program never
 * calls setlocale, so '.' is the decimal point for both). */
static double num(const struct fj_val *v)
{
	char t[FJ_NUM_MAX + 1];
	memcpy(t, v->p, v->n);
	t[v->n] = '\0';
	return strtod(t, NULL);
}

/* get_count */
static long count(const struct fj_val *v)
{
	return absent(v) ? 0 : wire_count(v->type == FJ_NUM ? num(v) : -1);
}

/* Whether the fast path reads usage.cost as the cJSON path does: any
 * value but a string it would have to decode, or too long to copy. */
static bool cost_decided(const struct fj_val *v)
{
	return v->type != FJ_STR || (!v->esc && v->n <= FJ_NUM_MAX);
}

/* parse_usage: only an object replaces r's usage. */
static void put_usage(const struct fj *j, struct wire_usage *us)
{
	const struct fj_val *v = j->v;
	if (v[F_USAGE].type != FJ_OBJ)
		return;
	struct wire_usage n = {.present = true};
	n.prompt_tokens = count(&v[F_PROMPT]);
	n.completion_tokens = count(&v[F_COMPLETION]);
	if (v[F_DETAILS].type == FJ_OBJ)
		n.cached_tokens = count(&v[F_CACHED]);
	else if (!absent(&v[F_DETAILS]))
		n.cached_tokens = -1;
	const struct fj_val *cost = &v[F_COST];
	if (!absent(cost)) {
		double c = 0;
		bool ok = false;
		if (cost->type == FJ_NUM) {
			c = num(cost);
			ok = isfinite(c);
		} else if (cost->type == FJ_STR) {
			char t[FJ_NUM_MAX + 1];
			memcpy(t, cost->p, cost->n);
			t[cost->n] = '\0';
			ok = wire_parse_decimal(t, &c);
		}
		wire_set_cost(&n, ok, c);
	}
	*us = n;
}

/* top_fields, which cannot fail here: id and model (an error object went
 * to the cJSON path). */
static void put_top(const struct fj *j, struct wire_reply *r)
{
	put_id(r, &j->v[F_ID]);
	put_str(r->model, sizeof(r->model), &j->v[F_MODEL]);
}

/* What every reply needs for the fast path: no error object at the top
 * or in choices[0], a string or nothing as model, a cost it can read. */
static bool top_decided(const struct fj *j)
{
	const struct fj_val *v = j->v;
	return absent(&v[F_ERROR]) && absent(&v[F_CERROR]) && str_or_absent(&v[F_MODEL]) &&
	       cost_decided(&v[F_COST]);
}

/* ---- the two entry points ---- */

bool wire_fast_chunk(const char *data, size_t len, struct wire_reply *r)
{
	struct fj j;
	if (!scan(&j, data, len) || !top_decided(&j))
		return false;
	const struct fj_val *v = j.v;
	bool choice = false; /* choices[0] is there: chunk_fields reads it */
	if (!absent(&v[F_CHOICES])) {
		if (v[F_CHOICES].type != FJ_ARR)
			return false;
		choice = v[F_C0].type != FJ_ABSENT;
	}
	if (choice && (v[F_C0].type != FJ_OBJ || !str_or_absent(&v[F_FINISH]) ||
		       (!absent(&v[F_DELTA]) &&
			(v[F_DELTA].type != FJ_OBJ || !str_or_absent(&v[F_DCONTENT])))))
		return false;
	r->n_chunks++;
	put_top(&j, r);
	if (choice) {
		put_str(r->finish_reason, sizeof(r->finish_reason), &v[F_FINISH]);
		put_content(&r->content, &v[F_DCONTENT]);
	}
	put_usage(&j, &r->usage);
	return true;
}

bool wire_fast_completion(const char *body, size_t len, struct wire_reply *r)
{
	struct fj j;
	/* A reply already marked as an error changes what completion_fields
	 * accepts: left to it. */
	if (r->error || !scan(&j, body, len) || !top_decided(&j))
		return false;
	const struct fj_val *v = j.v;
	/* choices must hold an object with a message object: anything else is
	 * an error without an error object */
	if (v[F_CHOICES].type != FJ_ARR || v[F_C0].type != FJ_OBJ || !str_or_absent(&v[F_FINISH]) ||
	    v[F_MESSAGE].type != FJ_OBJ || !str_or_absent(&v[F_MCONTENT]))
		return false;
	put_top(&j, r);
	put_str(r->finish_reason, sizeof(r->finish_reason), &v[F_FINISH]);
	put_content(&r->content, &v[F_MCONTENT]);
	put_usage(&j, &r->usage);
	return true;
}

/* ---- comparing the two paths ---- */

/* The same double, -0 told from 0 (a NaN never gets here: costs are finite). */
static bool same_double(double a, double b)
{
	return a == b && signbit(a) == signbit(b);
}

const char *wire_reply_diff(const struct wire_reply *a, const struct wire_reply *b)
{
	const struct wire_usage *x = &a->usage, *y = &b->usage;
	if (a->content.len != b->content.len ||
	    memcmp(a->content.data, b->content.data, a->content.len) != 0)
		return "content";
	if (strcmp(a->model, b->model))
		return "model";
	if (strcmp(a->finish_reason, b->finish_reason))
		return "finish_reason";
	if (x->present != y->present)
		return "usage.present";
	if (x->prompt_tokens != y->prompt_tokens)
		return "usage.prompt_tokens";
	if (x->completion_tokens != y->completion_tokens)
		return "usage.completion_tokens";
	if (x->cached_tokens != y->cached_tokens)
		return "usage.cached_tokens";
	if (x->has_cost != y->has_cost || x->bad_cost != y->bad_cost)
		return "usage.has_cost";
	if (!same_double(x->cost, y->cost))
		return "usage.cost";
	if (a->error != b->error)
		return "error";
	if (strcmp(a->error_code, b->error_code))
		return "error_code";
	if (strcmp(a->error_message, b->error_message))
		return "error_message";
	if (a->n_chunks != b->n_chunks)
		return "n_chunks";
	if (a->done != b->done)
		return "done";
	if (strcmp(a->id, b->id))
		return "id";
	if (a->has_gen_cost != b->has_gen_cost || !same_double(a->gen_cost, b->gen_cost))
		return "gen_cost";
	return NULL;
}
