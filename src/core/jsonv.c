/* jsonv.c: type names, JSON paths, locations, key and range checks for the
 * readers of JSON input (see jsonv.h). It words no message of its own
 * except the location. */
#include "core/jsonv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

unsigned jsonv_kind(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return JSONV_NULL;
	if (cJSON_IsBool(v))
		return JSONV_BOOL;
	if (cJSON_IsNumber(v))
		return JSONV_NUMBER;
	if (cJSON_IsString(v))
		return JSONV_STRING;
	if (cJSON_IsArray(v))
		return JSONV_ARRAY;
	if (cJSON_IsObject(v))
		return JSONV_OBJECT;
	return 0;
}

bool jsonv_is(const cJSON *v, unsigned mask)
{
	return (jsonv_kind(v) & mask) != 0;
}

const char *jsonv_type(const cJSON *v)
{
	switch (jsonv_kind(v)) {
	case JSONV_NULL:
		return "null";
	case JSONV_BOOL:
		return "a boolean";
	case JSONV_NUMBER:
		return "a number";
	case JSONV_STRING:
		return "a string";
	case JSONV_ARRAY:
		return "an array";
	case JSONV_OBJECT:
		return "an object";
	default:
		return "an invalid value";
	}
}

/* out = a + b + c, cut to JSONV_PATH - 1 bytes (snprintf would be flagged by
 * -Wformat-truncation at every caller). */
static void cat3(char out[JSONV_PATH], const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	size_t o = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(parts[i]);
		if (n > JSONV_PATH - 1 - o)
			n = JSONV_PATH - 1 - o;
		memmove(out + o, parts[i], n);
		o += n;
	}
	out[o] = '\0';
}

void jsonv_key(char out[JSONV_PATH], const char *parent, const char *key)
{
	cat3(out, parent, *parent ? "." : "", key);
}

void jsonv_idx(char out[JSONV_PATH], const char *parent, size_t i)
{
	char idx[32];
	snprintf(idx, sizeof(idx), "[%zu]", i);
	cat3(out, parent, idx, "");
}

const char *jsonv_duplicate_key(const struct cJSON *v, const char *path, char at[JSONV_PATH])
{
	char child[JSONV_PATH];
	size_t i = 0;
	for (const cJSON *k = v ? v->child : NULL; k; k = k->next, i++) {
		if (cJSON_IsObject(v)) {
			for (const cJSON *prev = v->child; prev != k; prev = prev->next)
				if (!strcmp(prev->string, k->string)) {
					snprintf(at, JSONV_PATH, "%s", path);
					return k->string;
				}
			jsonv_key(child, path, k->string);
		} else {
			jsonv_idx(child, path, i);
		}
		const char *dup = cJSON_IsObject(k) || cJSON_IsArray(k)
				      ? jsonv_duplicate_key(k, child, at)
				      : NULL;
		if (dup)
			return dup;
	}
	return NULL;
}

void jsonv_where(const struct jsonv *c, const char *path, char *out, size_t size)
{
	const char *p = path && *path ? path : "(root)";
	if (c->file && *c->file)
		snprintf(out, size, "%s: %s", c->file, p);
	else
		snprintf(out, size, "%s", p);
}

int jsonv_vfail(const struct jsonv *c, const char *path, const char *fmt, va_list ap)
{
	char where[sizeof(c->err->where)];
	char msg[sizeof(c->err->msg)];
	jsonv_where(c, path, where, sizeof(where));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return se_fail(c->err, SE_INPUT, where, "%s", msg);
}

int jsonv_fail(const struct jsonv *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = jsonv_vfail(c, path, fmt, ap);
	va_end(ap);
	return rc;
}

int jsonv_fail_in(struct se_err *err, const char *file, const char *path, const char *fmt, ...)
{
	struct jsonv jv = {.file = file, .err = err};
	va_list ap;
	va_start(ap, fmt);
	int rc = jsonv_vfail(&jv, path, fmt, ap);
	va_end(ap);
	return rc;
}

bool jsonv_in(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

const char *jsonv_unknown_key(const cJSON *obj, const char *const *known)
{
	for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next)
		if (!jsonv_in(known, it->string ? it->string : ""))
			return it->string ? it->string : "";
	return NULL;
}

void jsonv_known(struct buf *b, const char *const *known)
{
	for (size_t i = 0; known[i]; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, known[i]);
	}
}

bool jsonv_number_in(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo &&
	       v->valuedouble <= hi;
}

bool jsonv_integer_in(const cJSON *v, double lo, double hi)
{
	return jsonv_number_in(v, lo, hi) && v->valuedouble == floor(v->valuedouble);
}
