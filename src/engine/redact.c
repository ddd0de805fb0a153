/* redact.c: replacing secrets in server-provided text (see redact.h). */
#include "engine/redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

void eng_redact_init(struct eng_redact *r)
{
	memset(r, 0, sizeof(*r));
}

void eng_redact_free(struct eng_redact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		memset(r->secrets[i], 0, strlen(r->secrets[i]));
		free(r->secrets[i]);
	}
	free(r->secrets);
	memset(r, 0, sizeof(*r));
}

void eng_redact_add(struct eng_redact *r, const char *secret)
{
	if (!secret || strlen(secret) < ENG_REDACT_MIN)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->secrets[i], secret))
			return;
	r->secrets = xgrow(r->secrets, &r->cap, r->n + 1, sizeof(*r->secrets));
	r->secrets[r->n++] = xstrdup(secret);
}

bool eng_redact_header_is_secret(const char *name)
{
	static const char *const parts[] = {"authorization", "api-key", "api_key", "apikey",
					    "token",	     "secret",	"cookie",  NULL};
	size_t n = strlen(name);
	for (size_t k = 0; parts[k]; k++) {
		size_t m = strlen(parts[k]);
		for (size_t i = 0; i + m <= n; i++)
			if (!strncasecmp(name + i, parts[k], m))
				return true;
	}
	return false;
}

static const char *find(const char *s, size_t n, const char *needle, size_t m)
{
	if (m == 0 || m > n)
		return NULL;
	return memmem(s, n, needle, m);
}

size_t eng_redact_buf(const struct eng_redact *r, struct buf *b)
{
	if (!r || !b->len)
		return 0;
	size_t count = 0;
	for (size_t k = 0; k < r->n; k++) {
		const char *sec = r->secrets[k];
		size_t m = strlen(sec);
		if (!find(b->data, b->len, sec, m))
			continue;
		struct buf out;
		buf_init(&out);
		size_t i = 0;
		const char *hit;
		while ((hit = find(b->data + i, b->len - i, sec, m))) {
			buf_append(&out, b->data + i, (size_t)(hit - (b->data + i)));
			buf_puts(&out, ENG_REDACTED);
			i = (size_t)(hit - b->data) + m;
			count++;
		}
		buf_append(&out, b->data + i, b->len - i);
		memset(b->data, 0, b->len);
		buf_reset(b);
		buf_append(b, out.data, out.len);
		buf_free(&out);
	}
	return count;
}

bool eng_redact_has(const struct eng_redact *r, const char *s, size_t len)
{
	for (size_t k = 0; r && k < r->n; k++)
		if (find(s, len, r->secrets[k], strlen(r->secrets[k])))
			return true;
	return false;
}

/* A tail of b that is the first bytes of a secret: replaced. */
static size_t redact_cut_tail(const struct eng_redact *r, struct buf *b)
{
	for (size_t k = 0; k < r->n; k++) {
		size_t m = strlen(r->secrets[k]);
		for (size_t t = m - 1; t >= ENG_REDACT_MIN; t--) {
			if (t > b->len || memcmp(b->data + b->len - t, r->secrets[k], t))
				continue;
			b->len -= t;
			buf_puts(b, ENG_REDACTED);
			return 1;
		}
	}
	return 0;
}

size_t eng_redact_str(const struct eng_redact *r, char *s, size_t size)
{
	if (!r || !size || !s[0])
		return 0;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, s);
	size_t count = eng_redact_buf(r, &b);
	if (strlen(s) == size - 1)
		count += redact_cut_tail(r, &b);
	if (count) {
		size_t n = b.len < size - 1 ? b.len : size - 1;
		memcpy(s, b.data, n);
		s[n] = '\0';
	}
	buf_free(&b);
	return count;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool eng_redact_escaped(const struct eng_redact *r, const char *text, size_t len)
{
	if (!r || !r->n || !memchr(text, '\\', len))
		return false;
	/* decode every escape, wherever it is: a false alarm only costs a
	 * cache entry */
	struct buf d;
	buf_init(&d);
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\\' && i + 1 < len) {
			char e = text[++i];
			if (e == 'u' && i + 4 < len) {
				int v = 0, ok = 1;
				for (int k = 1; k <= 4 && ok; k++) {
					int h = hexval(text[i + (size_t)k]);
					ok = h >= 0;
					v = v * 16 + h;
				}
				if (ok && v > 0 && v < 0x80) {
					buf_putc(&d, (char)v);
					i += 4;
					continue;
				}
			}
			c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
		}
		buf_putc(&d, c);
	}
	bool found = false;
	for (size_t k = 0; k < r->n && !found; k++)
		found = find(d.data, d.len, r->secrets[k], strlen(r->secrets[k])) != NULL;
	buf_free(&d);
	return found;
}
