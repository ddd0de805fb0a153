/* res_fast.c: the fast path of the results reader: one line checked field
 * by field with the rules of the full parse (the same table, res_int.h), but
 * without building a parse tree; see res_int.h for the contract.
 *
 * It accepts only what cJSON parses into the same record: plain JSON
 * whitespace, escapes cJSON decodes (no surrogate halves: those go to the
 * full parse), numbers of the strict JSON grammar no longer than cJSON reads
 * (63 characters), nesting up to MAX_DEPTH, nothing after the object.
 * Numbers of at most 15 digits without an exponent are exact (a 15-digit
 * integer and a power of ten up to 1e15 are both exact doubles, so one
 * division rounds as strtod does); others go through strtod. Every value
 * that breaks a rule makes the line go to the full parse, which words the
 * error, so this file never writes a message.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonnul.h"
#include "results/res_int.h"
#include "results/vocab.h"

#define MAX_DEPTH 32 /* nesting followed here; deeper values: the full parse */
#define NUM_MAX 62   /* cJSON reads at most 63 characters of a number */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What may follow a value inside the line. */
static bool is_end(char c)
{
	return is_ws(c) || c == ',' || c == '}' || c == ']';
}

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && is_ws(*p))
		p++;
	return p;
}

/* p at a backslash: past its escape, or NULL (unknown, cut short, or half of
 * a surrogate pair: the full parse decides those). */
static const char *escape_end(const char *p, const char *e)
{
	if (e - p < 2)
		return NULL;
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return p + 2;
	case 'u':
		if (e - p < 6)
			return NULL;
		for (int i = 2; i < 6; i++)
			if (!isxdigit((unsigned char)p[i]))
				return NULL;
		if ((p[2] == 'd' || p[2] == 'D') && (p[3] < '0' || p[3] > '7'))
			return NULL; /* \uD800 to \uDFFF: half of a surrogate pair */
		return p + 6;
	default:
		return NULL;
	}
}

#define STR_ESC 1u /* the string holds escapes */
#define STR_NUL 2u /* it may hold a raw NUL (strlen tells) */
#define ONES 0x0101010101010101ULL

/* The bytes of w that are 0 have their high bit set; above the lowest
 * such byte a borrow may set more, so only the lowest is exact. */
static uint64_t zero_bytes(uint64_t w)
{
	return (w - ONES) & ~w & (ONES * 0x80);
}

/* p just past an opening quote: the closing quote, or NULL; *fl: STR_ESC,
 * STR_NUL. Short strings (keys, ids, names) eight bytes at a time, looking
 * for a quote, a backslash and a NUL at once; the rest of a long one with
 * memchr (and then a NUL is not looked for: STR_NUL). */
static const char *str_close(const char *p, const char *e, unsigned *fl)
{
	*fl = 0;
	const char *stop = e - p > 32 ? p + 32 : e;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (stop - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t m = zero_bytes(w ^ (ONES * '"')) | zero_bytes(w ^ (ONES * '\\'));
		uint64_t z = zero_bytes(w);
		if (z && (!m || __builtin_ctzll(z) < __builtin_ctzll(m)))
			*fl |= STR_NUL;
		if (!m) {
			p += 8;
			continue;
		}
		p += __builtin_ctzll(m) / 8;
		if (*p == '"')
			return p;
		*fl |= STR_ESC;
		if (!(p = escape_end(p, e)))
			return NULL;
	}
#endif
	for (; p < stop; p++) {
		if (*p == '"')
			return p;
		if (*p == '\\') {
			*fl |= STR_ESC;
			if (!(p = escape_end(p, e)))
				return NULL;
			p--;
		} else if (!*p) {
			*fl |= STR_NUL;
		}
	}
	if (p >= e)
		return NULL;
	*fl |= STR_NUL;
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(e - p));
		if (!q)
			return NULL;
		const char *b = memchr(p, '\\', (size_t)(q - p));
		while (b) {
			*fl |= STR_ESC;
			p = escape_end(b, e);
			if (!p)
				return NULL;
			if (p > q)
				break; /* the quote at q was escaped: look further */
			b = memchr(p, '\\', (size_t)(q - p));
		}
		if (!b)
			return q;
	}
}

static const char *literal(const char *p, const char *e, const char *word, size_t n)
{
	if ((size_t)(e - p) < n || memcmp(p, word, n))
		return NULL;
	p += n;
	return p == e || is_end(*p) ? p : NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *digits(const char *p, const char *e)
{
	while (p < e && is_digit(*p))
		p++;
	return p;
}

/* The end of a number of the strict JSON grammar (leading zeros allowed, as
 * cJSON allows them), or NULL. */
static const char *number_end(const char *p, const char *e)
{
	const char *s = p, *d;
	if (p < e && *p == '-')
		p++;
	d = p;
	if ((p = digits(p, e)) == d)
		return NULL;
	if (p < e && *p == '.') {
		d = ++p;
		if ((p = digits(p, e)) == d)
			return NULL;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		d = p;
		if ((p = digits(p, e)) == d)
			return NULL;
	}
	if (p - s > NUM_MAX || (p < e && !is_end(*p)))
		return NULL;
	return p;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2,  1e3,	 1e4,  1e5,  1e6,  1e7,
				   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/* Digits from p on, added to *m (which wraps past 19 digits: then unused). */
static const char *digits_into(const char *p, const char *e, uint64_t *m)
{
	uint64_t v = *m;
	for (; p < e && is_digit(*p); p++)
		v = v * 10 + (uint64_t)(*p - '0');
	*m = v;
	return p;
}

/* A number's value as strtod gives it, checked by the grammar in the same
 * pass; *whole, when whole is not NULL (a division: integer fields only):
 * it is an integer. The end, or NULL. With at most 15 digits and no
 * exponent the digits are the exact integer m and the value m / 10^k is one
 * correctly rounded division, an integer exactly when 10^k divides m (a
 * fraction of at least 10^-k cannot round away below 10^15). */
static const char *number(const char *p, const char *e, double *out, bool *whole)
{
	const char *s = p + (p < e && *p == '-'), *d = s;
	uint64_t m = 0;
	if ((s = digits_into(s, e, &m)) == d)
		return NULL;
	size_t nd = (size_t)(s - d), frac = 0;
	if (s < e && *s == '.') {
		d = ++s;
		if ((s = digits_into(s, e, &m)) == d)
			return NULL;
		frac = (size_t)(s - d);
		nd += frac;
	}
	bool expo = s < e && (*s == 'e' || *s == 'E');
	if (expo) {
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		d = s;
		if ((s = digits(s, e)) == d)
			return NULL;
	}
	if (s - p > NUM_MAX || (s < e && !is_end(*s)))
		return NULL;
	if (!expo && nd <= 15) {
		double v = (double)m;
		if (frac)
			v /= pow10_tab[frac];
		*out = *p == '-' ? -v : v;
		if (whole)
			*whole = frac == 0 || m % (uint64_t)pow10_tab[frac] == 0;
	} else {
		char tmp[NUM_MAX + 2];
		memcpy(tmp, p, (size_t)(s - p));
		tmp[s - p] = '\0';
		*out = strtod(tmp, NULL);
		if (whole)
			*whole = *out == floor(*out);
	}
	return s;
}

/* Any JSON value, checked and skipped. */
static const char *skip_value(const char *p, const char *e, int depth)
{
	if (p >= e)
		return NULL;
	unsigned fl;
	switch (*p) {
	case '"':
		p = str_close(p + 1, e, &fl);
		return p ? p + 1 : NULL;
	case 't':
		return literal(p, e, "true", 4);
	case 'f':
		return literal(p, e, "false", 5);
	case 'n':
		return literal(p, e, "null", 4);
	case '{':
	case '[':
		break;
	default:
		return number_end(p, e);
	}
	if (depth >= MAX_DEPTH)
		return NULL;
	bool obj = *p == '{';
	char close = obj ? '}' : ']';
	p = skip_ws(p + 1, e);
	if (p < e && *p == close)
		return p + 1;
	for (;;) {
		if (obj) {
			if (p >= e || *p != '"' || !(p = str_close(p + 1, e, &fl)))
				return NULL;
			p = skip_ws(p + 1, e);
			if (p >= e || *p != ':')
				return NULL;
			p = skip_ws(p + 1, e);
		}
		if (!(p = skip_value(p, e, depth + 1)))
			return NULL;
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p = skip_ws(p + 1, e);
			continue;
		}
		return p < e && *p == close ? p + 1 : NULL;
	}
}

/* Whether the NUL-terminated key equals the n bytes at k. */
static bool key_is(const char *key, const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!key[i] || key[i] != k[i])
			return false;
	return key[n] == '\0';
}

static unsigned want_bit(const struct res_field *f)
{
	switch (f->off) {
	case offsetof(struct res_rec, task):
		return RES_WANT_TASK;
	case offsetof(struct res_rec, slot):
		return RES_WANT_SLOT;
	case offsetof(struct res_rec, served_model):
		return RES_WANT_SERVED_MODEL;
	case offsetof(struct res_rec, finish_reason):
		return RES_WANT_FINISH_REASON;
	case offsetof(struct res_rec, error):
		return RES_WANT_ERROR;
	default:
		return RES_WANT_OUTPUT;
	}
}

/* A string field's value at p (just past its opening quote). */
static const char *string_field(const struct res_field *f, const char *p, const char *e,
				unsigned want, struct res_rec *r, char **scratch)
{
	unsigned fl;
	const char *q = str_close(p, e, &fl);
	bool esc = fl & STR_ESC;
	if (!q)
		return NULL;
	size_t n = (size_t)(q - p);
	int v = 0;
	switch (f->kind) {
	case F_ROLE:
		if (esc || (v = res_role_parse(p, n)) < 0)
			return NULL;
		r->role = (enum res_role)v;
		return q + 1;
	case F_STATUS:
		if (esc || (v = res_status_parse(p, n)) < 0)
			return NULL;
		r->status = (enum res_status)v;
		return q + 1;
	case F_COST:
		if (esc || (v = res_cost_source_parse(p, n)) < 0)
			return NULL;
		r->cost_source = (enum res_cost_source)v;
		return q + 1;
	default:
		break;
	}
	if (f->kind == F_STR && !(want & want_bit(f)))
		return q + 1;
	if (esc)
		return NULL; /* decoding is the full parse's */
	char *d = *scratch;
	memcpy(d, p, n);
	d[n] = '\0';
	*scratch += n + 1;
	*(const char **)((char *)r + f->off) = d;
	size_t dn = fl & STR_NUL ? strlen(d) : n; /* a raw NUL ends it, as in cJSON */
	if (f->kind == F_REQ) {
		if (!dn)
			return NULL;
		if (f->off == offsetof(struct res_rec, item_id))
			r->item_id_len = dn;
		else
			r->model_len = dn;
	} else if (f->off == offsetof(struct res_rec, output)) {
		r->output_len = dn;
	}
	return q + 1;
}

/* One known field's value at p: the end, or NULL. */
static const char *field_value(const struct res_field *f, const char *p, const char *e,
			       unsigned want, struct res_rec *r, char **scratch)
{
	if (p >= e)
		return NULL;
	if (*p == 'n') {
		const char *q = literal(p, e, "null", 4);
		bool nullable = f->kind != F_REQ && f->kind != F_BOOL && f->kind != F_ROLE &&
				f->kind != F_STATUS;
		return nullable ? q : NULL;
	}
	switch (f->kind) {
	case F_INT:
	case F_NUM: {
		double d;
		bool whole = true;
		const char *q = number(p, e, &d, f->kind == F_INT ? &whole : NULL);
		if (!q || !isfinite(d) || d < f->lo || d > f->hi || (f->kind == F_INT && !whole))
			return NULL;
		res_field_store(f, r, d);
		return q;
	}
	case F_BOOL: {
		const char *q = literal(p, e, "true", 4);
		bool v = q != NULL;
		if (!q && !(q = literal(p, e, "false", 5)))
			return NULL;
		*(bool *)((char *)r + f->off) = v;
		return q;
	}
	case F_OBJ:
		return *p == '{' ? skip_value(p, e, 0) : NULL;
	case F_PAIRWISE:
		return NULL; /* a comparison: the full parse checks it */
	default:
		return *p == '"' ? string_field(f, p + 1, e, want, r, scratch) : NULL;
	}
}

/* The field named by the n bytes at k, looked for at the cursor first (a
 * line of ours has them in the table's order); res_nfields when unknown. */
static size_t field_at(const char *k, size_t n, size_t cur)
{
	if (cur < res_nfields && key_is(res_field_table[cur].key, k, n))
		return cur;
	for (size_t i = 0; i < res_nfields; i++)
		if (key_is(res_field_table[i].key, k, n))
			return i;
	return res_nfields;
}

void res_keys_init(struct res_keys *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < res_nfields; i++) {
		int n = snprintf(k->pat[i], sizeof(k->pat[i]), "\"%s\":", res_field_table[i].key);
		k->len[i] = n > 0 && (size_t)n < sizeof(k->pat[i]) ? (unsigned char)n : 0;
		enum fkind kd = res_field_table[i].kind;
		if (kd == F_REQ || kd == F_ROLE || kd == F_STATUS)
			k->required |= 1u << i;
	}
}

/* Whether the kl bytes at p (4 <= kl <= 32, all in the line) equal the
 * pattern: a few overlapping word compares, no call. */
static bool pat_eq(const char *p, const char *pat, size_t kl)
{
	uint64_t a, b;
	if (kl < 8) {
		uint32_t c, d, f, g;
		memcpy(&c, p, 4);
		memcpy(&d, pat, 4);
		memcpy(&f, p + kl - 4, 4);
		memcpy(&g, pat + kl - 4, 4);
		return ((c ^ d) | (f ^ g)) == 0;
	}
	for (size_t i = 0; i + 8 < kl; i += 8) {
		memcpy(&a, p + i, 8);
		memcpy(&b, pat + i, 8);
		if (a != b)
			return false;
	}
	memcpy(&a, p + kl - 8, 8);
	memcpy(&b, pat + kl - 8, 8);
	return a == b;
}

/* p at a key: past its colon, with the field's number in *i (res_nfields:
 * unknown), or NULL. A line of ours has its keys in the table's order with
 * some optional ones left out, so the keys from the cursor on are tried
 * first, each with its quotes and colon in one comparison. */
static const char *key_at(const struct res_keys *keys, const char *p, const char *e, size_t cur,
			  size_t *i)
{
	for (size_t j = cur; j < res_nfields; j++) {
		size_t kl = keys->len[j];
		if (kl >= 4 && (size_t)(e - p) >= kl && pat_eq(p, keys->pat[j], kl)) {
			*i = j;
			return p + kl;
		}
	}
	unsigned fl;
	const char *k = p + 1, *ke;
	if (p >= e || *p != '"' || !(ke = str_close(k, e, &fl)) || (fl & STR_ESC))
		return NULL;
	size_t n = (size_t)(ke - k);
	*i = field_at(k, n, cur);
	if (*i == res_nfields && memchr(k, '\0', n))
		return NULL; /* cJSON would cut the key at its NUL */
	p = skip_ws(ke + 1, e);
	if (p >= e || *p != ':')
		return NULL;
	return p + 1;
}

int res_fast_line(const struct res_keys *keys, const char *line, size_t len, unsigned want,
		  struct res_rec *r, char *scratch)
{
	const char *p = line, *e = line + len;
	res_rec_init(r);
	if (jsonnul_maybe(line, len))
		return 1; /* a NUL, raw or escaped, is the full parse's error */
	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return 1;
	p = skip_ws(p + 1, e);
	uint32_t seen = 0;
	size_t cur = 0;
	for (;;) {
		size_t i;
		if (!(p = key_at(keys, p, e, cur, &i)))
			return 1;
		p = skip_ws(p, e);
		if (i == res_nfields) {
			p = skip_value(p, e, 0);
		} else {
			if (seen & (1u << i))
				return 1;
			seen |= 1u << i;
			cur = i + 1;
			p = field_value(&res_field_table[i], p, e, want, r, &scratch);
		}
		if (!p)
			return 1;
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p = skip_ws(p + 1, e);
			continue;
		}
		if (p >= e || *p != '}' || skip_ws(p + 1, e) != e)
			return 1;
		break;
	}
	return (seen & keys->required) == keys->required ? 0 : 1;
}
