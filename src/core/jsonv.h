/* jsonv.h: checking a parsed cJSON value against what its reader expects,
 * and naming the JSON path of the first thing that is wrong.
 *
 * The config loader, the wire parsers, the checks compiler and shadowsim's
 * profile and request readers all need the same pieces: the name of a value's
 * type ("a string", "an object"), paths (`routing.rules[2].slot`), the
 * location "<file>: <path>" of an error, the scan for an unknown key, and the
 * test of a number against a range. They live here once. The wording of each
 * message stays with its caller: every reader has its own, and the bad-input
 * fixtures pin them.
 *
 * Nothing here allocates except jsonv_known (into the caller's buf) and
 * nothing keeps a pointer to its arguments.
 */
#ifndef SE_JSONV_H
#define SE_JSONV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cJSON;

/* Room for a JSON path; longer paths are cut (never overflow). */
#define JSONV_PATH 512

/* Where errors go: every location is "<file>: <path>", or the path alone
 * when file is NULL or "". */
struct jsonv {
	const char *file;
	struct se_err *err;
};

/* Kinds of JSON values, or-ed into masks. */
enum {
	JSONV_NULL = 1u << 0,
	JSONV_BOOL = 1u << 1,
	JSONV_NUMBER = 1u << 2,
	JSONV_STRING = 1u << 3,
	JSONV_ARRAY = 1u << 4,
	JSONV_OBJECT = 1u << 5,
};

/* The kind of v (0 when v is NULL). */
unsigned jsonv_kind(const struct cJSON *v);
/* v is present and of one of the kinds in mask. */
bool jsonv_is(const struct cJSON *v, unsigned mask);
/* "a string", "a number", "a boolean", "null", "an array", "an object", or
 * "an invalid value" (v NULL or not a JSON value). */
const char *jsonv_type(const struct cJSON *v);

/* out = parent.key (key alone when parent is ""), out = parent[i]. */
void jsonv_key(char out[JSONV_PATH], const char *parent, const char *key);
void jsonv_idx(char out[JSONV_PATH], const char *parent, size_t i);

/* out = "<file>: <path>" ("(root)" when path is NULL or ""), cut to size. */
void jsonv_where(const struct jsonv *c, const char *path, char *out, size_t size);
/* Fails (kind SE_INPUT) at jsonv_where(path) and returns -1. */
int jsonv_fail(const struct jsonv *c, const char *path, const char *fmt, ...) SE_PRINTF(3, 4);
int jsonv_vfail(const struct jsonv *c, const char *path, const char *fmt, va_list ap)
    SE_PRINTF(3, 0);
/* The same for a caller without a struct jsonv: fails at "<file>: <path>". */
int jsonv_fail_in(struct se_err *err, const char *file, const char *path, const char *fmt, ...)
    SE_PRINTF(4, 5);

/* The first key given twice in one object anywhere in v, or NULL; path is
 * v's own path, and at holds the object's. cJSON keeps both copies, and
 * which one a lookup returns is nothing an input file should decide. */
const char *jsonv_duplicate_key(const struct cJSON *v, const char *path, char at[JSONV_PATH]);

/* s is one of the names in list (NULL-terminated). */
bool jsonv_in(const char *const *list, const char *s);
/* The first key of obj that is not in known (NULL-terminated), or NULL. */
const char *jsonv_unknown_key(const struct cJSON *obj, const char *const *known);
/* Appends the known names as "a, b, c". */
void jsonv_known(struct buf *b, const char *const *known);

/* v is a finite number within [lo, hi]. */
bool jsonv_number_in(const struct cJSON *v, double lo, double hi);
/* The same, and a whole number. */
bool jsonv_integer_in(const struct cJSON *v, double lo, double hi);

#endif
