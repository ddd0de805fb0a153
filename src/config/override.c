/* override.c: `--routing FILE` and `--set PATH=JSON` for validate, route and
 * run: edits of the config's parsed JSON made before the loader checks it,
 * so an overridden value is checked exactly as one written in the file. The
 * paths are those of the loader's errors (`routing.rules[2].slot`), with
 * `["key"]` for a key holding a dot (a model string). Not here: the checks
 * themselves (config.c) or recording the overrides (the manifest). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/xalloc.h"

enum { SEG_MAX = 32, KEY_MAX = 256 };

struct seg {
	bool is_index;
	size_t index;
	char key[KEY_MAX];
};

/* Splits "a.b[2][\"c.d\"]" into segments; -1 with err naming the override. */
static int split_path(const char *flag, const char *path, struct seg *segs, size_t *n,
		      struct se_err *err)
{
	const char *p = path;
	*n = 0;
	while (*p) {
		if (*n == SEG_MAX)
			return se_fail(err, SE_USAGE, flag, "a path of at most %d parts", SEG_MAX);
		struct seg *s = &segs[(*n)++];
		memset(s, 0, sizeof(*s));
		size_t len;
		if (p[0] == '[' && p[1] == '"') {
			const char *end = strstr(p + 2, "\"]");
			if (!end)
				return se_fail(err, SE_USAGE, flag,
					       "expected \"] to close [\" in the path");
			len = (size_t)(end - p - 2);
			if (len >= KEY_MAX)
				return se_fail(err, SE_USAGE, flag,
					       "a key of the path is too long");
			memcpy(s->key, p + 2, len);
			p = end + 2;
		} else if (p[0] == '[') {
			char *end;
			if (p[1] < '0' || p[1] > '9')
				return se_fail(err, SE_USAGE, flag,
					       "expected an index in [ ] of the path");
			s->index = strtoul(p + 1, &end, 10);
			if (*end != ']')
				return se_fail(err, SE_USAGE, flag,
					       "expected ] after the index in the path");
			s->is_index = true;
			p = end + 1;
		} else {
			len = strcspn(p, ".[");
			if (len == 0 || len >= KEY_MAX)
				return se_fail(err, SE_USAGE, flag,
					       "expected a key name in the path, got \"%s\"", p);
			memcpy(s->key, p, len);
			p += len;
		}
		if (*p == '.') {
			p++;
			if (!*p || *p == '.' || *p == '[')
				return se_fail(err, SE_USAGE, flag,
					       "expected a key name after '.' in the path");
		} else if (*p && *p != '[') {
			return se_fail(err, SE_USAGE, flag,
				       "expected '.' or '[' in the path at \"%s\"", p);
		}
	}
	if (*n == 0)
		return se_fail(err, SE_USAGE, flag, "expected PATH=JSON, got an empty path");
	return 0;
}

/* Puts value (consumed) at path in root. A missing object key on the way is
 * created as an object; an index may be one past the end (appends); null
 * removes an object key. */
static int put(cJSON *root, const char *flag, const char *path, const struct seg *segs, size_t n,
	       cJSON *value, struct se_err *err)
{
	cJSON *cur = root;
	for (size_t i = 0; i < n; i++) {
		const struct seg *s = &segs[i];
		bool last = i + 1 == n;
		if (s->is_index) {
			if (!cJSON_IsArray(cur))
				goto not_container;
			size_t size = (size_t)cJSON_GetArraySize(cur);
			if (s->index > size || (s->index == size && !last))
				goto out_of_range;
			if (last) {
				if (s->index == size)
					cJSON_AddItemToArray(cur, value);
				else
					cJSON_ReplaceItemInArray(cur, (int)s->index, value);
				return 0;
			}
			cur = cJSON_GetArrayItem(cur, (int)s->index);
			continue;
		}
		if (!cJSON_IsObject(cur))
			goto not_container;
		cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, s->key);
		if (last) {
			if (cJSON_IsNull(value)) {
				cJSON_Delete(value);
				cJSON_DeleteItemFromObjectCaseSensitive(cur, s->key);
			} else if (child) {
				cJSON_ReplaceItemInObjectCaseSensitive(cur, s->key, value);
			} else {
				cJSON_AddItemToObject(cur, s->key, value);
			}
			return 0;
		}
		if (!child) {
			if (segs[i + 1].is_index) {
				cJSON_Delete(value);
				return se_fail(err, SE_USAGE, flag,
					       "%s: the config has no \"%s\" here", path, s->key);
			}
			child = cJSON_AddObjectToObject(cur, s->key);
		}
		cur = child;
		continue;
	not_container:
		cJSON_Delete(value);
		return se_fail(err, SE_USAGE, flag,
			       "%s: part %zu of the path expects %s, the config has %s", path,
			       i + 1, s->is_index ? "an array" : "an object",
			       cJSON_IsArray(cur)    ? "an array"
			       : cJSON_IsObject(cur) ? "an object"
						     : "a plain value");
	out_of_range:
		cJSON_Delete(value);
		return se_fail(err, SE_USAGE, flag,
			       "%s: index %zu is out of range (the array has %d)", path, s->index,
			       cJSON_GetArraySize(cur));
	}
	cJSON_Delete(value);
	return 0;
}

/* The config file's rules for JSON text (config.c parse_json and
 * no_duplicate_keys) applied to an override's: valid UTF-8, no NUL in a
 * string (cJSON would cut it there: "m/b\u0000zzz" read as "m/b"), no key
 * given twice. path is where the value goes ("" for a whole file), for the
 * message; kind and where as the caller's other errors. */
static int check_text(enum se_kind kind, const char *where, const char *path, const char *text,
		      size_t len, const cJSON *value, struct se_err *err)
{
	const char *sep = *path ? ": " : "";
	if (!utf8_valid(text, len))
		return se_fail(err, kind, where, "%s%sinvalid JSON: not valid UTF-8", path, sep);
	char rel[JSONV_PATH], full[2 * JSONV_PATH];
	if (jsonnul_find(text, len, rel, sizeof(rel))) {
		if (!strcmp(rel, "(root)"))
			snprintf(full, sizeof(full), "%s", *path ? path : rel);
		else
			snprintf(full, sizeof(full), "%s%s%s", path,
				 *path && rel[0] != '[' ? "." : "", rel);
		return se_fail(err, kind, where, "%s: %s", full, JSONNUL_MSG);
	}
	char at[JSONV_PATH];
	const char *dup = jsonv_duplicate_key(value, path, at);
	if (dup)
		return se_fail(err, kind, where, "%s: duplicate key \"%s\"", *at ? at : "(root)",
			       dup);
	return 0;
}

static int apply_set(cJSON *root, const char *arg, struct se_err *err)
{
	const char *flag = "--set";
	const char *eq = strchr(arg, '=');
	if (!eq)
		return se_fail(err, SE_USAGE, "--set", "expected PATH=JSON, got \"%s\"", arg);
	char *path = xstrndup(arg, (size_t)(eq - arg));
	struct seg segs[SEG_MAX];
	size_t n;
	int rc = -1;
	if (split_path(flag, path, segs, &n, err))
		goto out;
	cJSON *value = cJSON_ParseWithOpts(eq + 1, NULL, true);
	if (!value) {
		se_fail(err, SE_USAGE, "--set",
			"%s: the value is not JSON (a string needs quotes: --set '%s=\"text\"')",
			path, path);
		goto out;
	}
	if (check_text(SE_USAGE, flag, path, eq + 1, strlen(eq + 1), value, err)) {
		cJSON_Delete(value);
		goto out;
	}
	rc = put(root, flag, path, segs, n, value, err);
out:
	free(path);
	return rc;
}

/* The 1-based line and column of offset off in data. */
static void line_col(const char *data, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

static int apply_routing(cJSON *root, const char *file, struct se_err *err)
{
	char *data;
	size_t len;
	if (fio_read_all(file, &data, &len, err))
		return -1;
	const char *end = NULL;
	if (memchr(data, '\0', len)) {
		free(data);
		return se_fail(err, SE_INPUT, file, "invalid JSON: the file contains a NUL byte");
	}
	cJSON *j = cJSON_ParseWithOpts(data, &end, true);
	if (!j) {
		size_t line, col;
		size_t off = end && end >= data && end <= data + len ? (size_t)(end - data) : len;
		line_col(data, off, &line, &col);
		free(data);
		char where[600];
		snprintf(where, sizeof(where), "%s:%zu:%zu", file, line, col);
		return se_fail(err, SE_INPUT, where,
			       "invalid JSON (--routing expects a routing block)");
	}
	int bad = check_text(SE_INPUT, file, "", data, len, j, err);
	free(data);
	if (bad) {
		cJSON_Delete(j);
		return -1;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return se_fail(err, SE_INPUT, file,
			       "expected an object: a routing block, or a config holding one");
	}
	/* a whole config (or {"routing": {...}}) lends its routing block */
	cJSON *block = cJSON_DetachItemFromObjectCaseSensitive(j, "routing");
	if (block) {
		cJSON_Delete(j);
		j = block;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "routing"))
		cJSON_ReplaceItemInObjectCaseSensitive(root, "routing", j);
	else
		cJSON_AddItemToObject(root, "routing", j);
	return 0;
}

int cfg_overrides_apply(struct cJSON *root, const struct cfg_overrides *ov, struct se_err *err)
{
	if (ov->routing && apply_routing(root, ov->routing, err))
		return -1;
	for (size_t i = 0; i < ov->n_sets; i++)
		if (apply_set(root, ov->sets[i], err))
			return -1;
	return 0;
}

/* jpath lies under prefix: equal, or followed by '.' or '['. */
static bool under(const char *jpath, const char *prefix, size_t n)
{
	return !strncmp(jpath, prefix, n) && (!jpath[n] || jpath[n] == '.' || jpath[n] == '[');
}

const char *cfg_overrides_source(const struct cfg_overrides *ov, const char *jpath, char *out,
				 size_t size)
{
	for (size_t i = ov->n_sets; i-- > 0;) {
		const char *eq = strchr(ov->sets[i], '=');
		size_t n = eq ? (size_t)(eq - ov->sets[i]) : 0;
		char set[KEY_MAX * 2];
		if (n == 0 || n >= sizeof(set))
			continue;
		memcpy(set, ov->sets[i], n);
		set[n] = '\0';
		/* a value set at routing.rules[2] explains an error at
		 * routing.rules[2].slot, and one set at ...slot an error at its
		 * parent rule too */
		if (under(jpath, set, n) || under(set, jpath, strlen(jpath))) {
			snprintf(out, size, "--set %s", set);
			return out;
		}
	}
	if (ov->routing && under(jpath, "routing", 7)) {
		snprintf(out, size, "--routing %s", ov->routing);
		return out;
	}
	return NULL;
}
