/* normalize.c: the checks room's text normalizers (chk_normalize*).
 *
 * Every normalizer is byte-oriented and ASCII-only, so its effect never
 * depends on the locale and never breaks a UTF-8 sequence: bytes >= 0x80 are
 * always copied unchanged (lowercase leaves "É" as it is; strip_punctuation
 * removes only ASCII punctuation). This file does not match regexes or decide
 * a verdict: see checks.c.
 */
#include "checks/checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const norm_names[CHK_N_NORMALIZERS] = {
    "trim", "lowercase", "collapse_whitespace", "strip_punctuation", "strip_commas", "numeric",
};

const char *chk_normalizer_known(void)
{
	return "trim, lowercase, collapse_whitespace, strip_punctuation, strip_commas, numeric";
}

unsigned chk_normalizer_bit(const char *name)
{
	if (!name)
		return 0;
	for (unsigned i = 0; i < CHK_N_NORMALIZERS; i++)
		if (strcmp(name, norm_names[i]) == 0)
			return 1u << i;
	return 0;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_punct(unsigned char c)
{
	return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
	       (c >= 0x7B && c <= 0x7E);
}

/* Digits with optional thousands commas ("1,800": every group after the first
 * exactly three digits). Appends the digits to d; returns bytes consumed. */
static size_t scan_int_part(const char *s, size_t n, struct buf *d)
{
	size_t i = 0;
	while (i < n && is_digit((unsigned char)s[i]))
		buf_putc(d, s[i++]);
	if (i == 0 || i > 3)
		return i;
	while (i + 3 < n && s[i] == ',' && is_digit((unsigned char)s[i + 1]) &&
	       is_digit((unsigned char)s[i + 2]) && is_digit((unsigned char)s[i + 3]) &&
	       (i + 4 >= n || !is_digit((unsigned char)s[i + 4]))) {
		buf_append(d, s + i + 1, 3);
		i += 4;
	}
	return i;
}

/* Longest run of zeros written out before switching to an exponent, so that
 * "1e300" stays short while every integer of up to 64 digits reads as one. */
#define NUM_PLAIN_MAX 64

/* Writes the number sign * 0.digits... as the exact decimal digits[0..nd) x
 * 10^e: plainly ("100000000000000000001", "0.5", "-18.5") when that takes no
 * more than NUM_PLAIN_MAX zeros, else as d.ddd e+N. digits has no leading or
 * trailing zero and nd > 0. Each value has one spelling, so equal strings
 * mean equal numbers, with no rounding to a double on the way. */
static void put_exact(int neg, const char *digits, size_t nd, long long e, struct buf *out)
{
	if (neg)
		buf_putc(out, '-');
	long long point = (long long)nd + e; /* digits before the decimal point */
	if (e >= 0 && e <= NUM_PLAIN_MAX) {
		buf_append(out, digits, nd);
		for (long long i = 0; i < e; i++)
			buf_putc(out, '0');
	} else if (e < 0 && point > 0) {
		buf_append(out, digits, (size_t)point);
		buf_putc(out, '.');
		buf_append(out, digits + point, nd - (size_t)point);
	} else if (e < 0 && -point <= NUM_PLAIN_MAX) {
		buf_puts(out, "0.");
		for (long long i = 0; i < -point; i++)
			buf_putc(out, '0');
		buf_append(out, digits, nd);
	} else {
		buf_putc(out, digits[0]);
		if (nd > 1) {
			buf_putc(out, '.');
			buf_append(out, digits + 1, nd - 1);
		}
		buf_printf(out, "e%+lld", point - 1);
	}
}

/* The numeric normalizer: when all of s (surrounding ASCII whitespace aside)
 * is [sign][$]digits[,ddd...][.digits][e[sign]digits] (or $ before the sign)
 * and finite as a double, writes its exact value canonically (put_exact);
 * otherwise copies s unchanged. Digits are compared, never doubles: 10^20
 * and 10^20 + 1 stay apart. */
static void norm_numeric(const char *s, size_t n, struct buf *out)
{
	size_t a = 0, z = n;
	while (a < z && is_space((unsigned char)s[a]))
		a++;
	while (z > a && is_space((unsigned char)s[z - 1]))
		z--;
	struct buf d, m_digits;
	buf_init(&d);
	buf_init(&m_digits);
	const char *p = s + a;
	size_t m = z - a, i = 0, digits = 0, frac = 0;
	long long exp10 = 0;
	int ok = 0, neg = 0;
	if (i < m && p[i] == '$')
		i++;
	if (i < m && (p[i] == '-' || p[i] == '+')) {
		neg = p[i] == '-';
		buf_putc(&d, p[i++]);
	}
	if (i < m && p[i] == '$' && p[0] != '$')
		i++;
	size_t k = scan_int_part(p + i, m - i, &d);
	digits += d.len - (d.len && (d.data[0] == '-' || d.data[0] == '+'));
	buf_append(&m_digits, d.data + (d.len - digits), digits);
	i += k;
	if (i < m && p[i] == '.') {
		buf_putc(&d, p[i++]);
		while (i < m && is_digit((unsigned char)p[i])) {
			buf_putc(&m_digits, p[i]);
			buf_putc(&d, p[i++]);
			digits++;
			frac++;
		}
	}
	if (digits && i < m && (p[i] == 'e' || p[i] == 'E')) {
		size_t j = i + 1;
		int eneg = 0;
		if (j < m && (p[j] == '-' || p[j] == '+'))
			eneg = p[j++] == '-';
		if (j < m && is_digit((unsigned char)p[j])) {
			buf_append(&d, p + i, j - i);
			i = j;
			while (i < m && is_digit((unsigned char)p[i])) {
				if (exp10 < 1000000000LL) /* saturate: strtod says inf or 0 */
					exp10 = exp10 * 10 + (p[i] - '0');
				buf_putc(&d, p[i++]);
			}
			if (eneg)
				exp10 = -exp10;
		}
	}
	if (digits && i == m) {
		char *end = NULL;
		double v = strtod(d.data, &end);
		if (end && *end == '\0' && isfinite(v)) {
			const char *dg = m_digits.data;
			size_t nd = m_digits.len;
			long long e = exp10 - (long long)frac;
			while (nd && *dg == '0') {
				dg++;
				nd--;
			}
			while (nd && dg[nd - 1] == '0') {
				nd--;
				e++;
			}
			if (nd == 0)
				buf_putc(out, '0'); /* "-0" and "0.000" read as "0" */
			else
				put_exact(neg, dg, nd, e, out);
			ok = 1;
		}
	}
	buf_free(&d);
	buf_free(&m_digits);
	if (!ok)
		buf_append(out, s, n);
}

/* Applies the normalizer with index op to in[0..n), appending to out. */
static void norm_one(unsigned op, const char *in, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t a = 0, z = n;
	int in_space = 0;
	switch (op) {
	case CHK_NORM_TRIM:
		while (a < z && is_space(s[a]))
			a++;
		while (z > a && is_space(s[z - 1]))
			z--;
		buf_append(out, in + a, z - a);
		break;
	case CHK_NORM_LOWERCASE:
		buf_reserve(out, n);
		for (size_t i = 0; i < n; i++)
			buf_putc(out, (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]));
		break;
	case CHK_NORM_COLLAPSE_WS:
		for (size_t i = 0; i < n; i++) {
			if (is_space(s[i])) {
				if (!in_space)
					buf_putc(out, ' ');
				in_space = 1;
			} else {
				buf_putc(out, (char)s[i]);
				in_space = 0;
			}
		}
		break;
	case CHK_NORM_STRIP_PUNCT:
	case CHK_NORM_STRIP_COMMAS:
		for (size_t i = 0; i < n; i++) {
			int drop = op == CHK_NORM_STRIP_PUNCT ? is_punct(s[i]) : s[i] == ',';
			if (!drop)
				buf_putc(out, (char)s[i]);
		}
		break;
	case CHK_NORM_NUMERIC:
		norm_numeric(in, n, out);
		break;
	default:
		buf_append(out, in, n);
		break;
	}
}

void chk_normalize_seq(const unsigned char *ops, size_t n_ops, const char *s, size_t n,
		       struct buf *b)
{
	struct buf tmp;
	buf_reset(b);
	buf_append(b, s, n);
	if (!n_ops)
		return;
	buf_init(&tmp);
	for (size_t i = 0; i < n_ops; i++) {
		buf_reset(&tmp);
		norm_one(ops[i], b->data, b->len, &tmp);
		struct buf swap = *b;
		*b = tmp;
		tmp = swap;
	}
	buf_free(&tmp);
}

void chk_normalize(unsigned mask, const char *s, size_t n, struct buf *b)
{
	unsigned char ops[CHK_N_NORMALIZERS];
	size_t n_ops = 0;
	for (unsigned i = 0; i < CHK_N_NORMALIZERS; i++)
		if (mask & (1u << i))
			ops[n_ops++] = (unsigned char)i;
	chk_normalize_seq(ops, n_ops, s, n, b);
}
