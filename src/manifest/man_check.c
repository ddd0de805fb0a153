/* man_check.c: the one set of rules every reader of a manifest.json applies
 * (merge, report, gate, diff, run --resume), so a manifest that one command
 * refuses is refused by all of them, naming the file and the JSON path.
 *
 * Decisions:
 * - a field may be absent (older manifests lack some); a field that is
 *   present must be what man_write writes: counts whole numbers from 0 to
 *   2^53 (beyond, a double no longer counts by one), money finite from 0 to
 *   2^53 USD, strings where strings are written, the status one of the
 *   documented names, a shard "K/N" with 1 <= K <= N;
 * - the message names what was found (the number, the string cut to 40
 *   bytes, or the JSON type), never only that something is wrong.
 *
 * Not here: whether two manifests belong to one run (merge, --resume).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "core/jsonv.h"
#include "manifest/manifest.h"
#include "shard/shard.h"

const char *const man_statuses[] = {"running",		 "complete", "interrupted",
				    "stopped_by_budget", "failed",   "stopped_when_decided",
				    "incomplete",	 NULL};

/* What v is, for a message: 2.5, "x" (cut), or its JSON type. */
static void found(const cJSON *v, char *out, size_t size)
{
	if (cJSON_IsNumber(v))
		snprintf(out, size, "%.17g", v->valuedouble);
	else if (cJSON_IsString(v))
		snprintf(out, size, "\"%.40s%s\"", v->valuestring,
			 strlen(v->valuestring) > 40 ? "..." : "");
	else
		snprintf(out, size, "%s", jsonv_type(v));
}

static int bad(const char *path, const char *at, const char *want, const cJSON *v,
	       struct se_err *err)
{
	char f[96];
	found(v, f, sizeof(f));
	return jsonv_fail_in(err, path, at, "expected %s, got %s", want, f);
}

#define COUNT_WANT "a whole number from 0 to 2^53"
#define MONEY_WANT "a finite amount of USD from 0 to 2^53"

static int man_check_count(const cJSON *v, const char *path, const char *at, struct se_err *err)
{
	if (!jsonv_integer_in(v, 0, MAN_COUNT_MAX))
		return bad(path, at, COUNT_WANT, v, err);
	return 0;
}

/* o[key], when present, passes the test; at is parent.key. */
static int opt_count(const cJSON *o, const char *parent, const char *key, const char *path,
		     struct se_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char at[JSONV_PATH];
	jsonv_key(at, parent, key);
	return v ? man_check_count(v, path, at, err) : 0;
}

static int opt_str(const cJSON *o, const char *key, bool null_ok, const char *path,
		   struct se_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsString(v) || (null_ok && cJSON_IsNull(v)))
		return 0;
	return bad(path, key, null_ok ? "a string or null" : "a string", v, err);
}

/* An object whose every value is a string (endpoints, slots), or an array
 * of strings (merged_from, overrides, shadows). */
static int strings_in(const cJSON *o, const char *key, bool object, const char *path,
		      struct se_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (object ? !cJSON_IsObject(v) : !cJSON_IsArray(v))
		return bad(path, key, object ? "an object of strings" : "an array of strings", v,
			   err);
	const cJSON *e;
	size_t i = 0;
	cJSON_ArrayForEach(e, v)
	{
		char at[JSONV_PATH];
		if (object)
			jsonv_key(at, key, e->string ? e->string : "");
		else
			jsonv_idx(at, key, i);
		if (!cJSON_IsString(e))
			return bad(path, at, "a string", e, err);
		i++;
	}
	return 0;
}

static int check_identity(const cJSON *o, const char *path, struct se_err *err)
{
	static const char *const strs[] = {"tool",    "version",	"eval",
					   "config",  "config_sha256",	"config_file_sha256",
					   "dataset", "dataset_sha256", "started_at",
					   "cache",   "missing_shards", NULL};
	for (size_t i = 0; strs[i]; i++)
		if (opt_str(o, strs[i], true, path, err))
			return -1;
	if (opt_str(o, "ended_at", true, path, err))
		return -1;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	if (st && !(cJSON_IsString(st) && jsonv_in(man_statuses, st->valuestring))) {
		char f[96];
		found(st, f, sizeof(f));
		return jsonv_fail_in(err, path, "status",
				     "expected one of running, complete, interrupted, "
				     "stopped_by_budget, stopped_when_decided, failed, incomplete; "
				     "got %s",
				     f);
	}
	return 0;
}

static int check_scope(const cJSON *o, const char *path, struct se_err *err)
{
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shard");
	long k, n;
	if (sh && !cJSON_IsNull(sh) &&
	    !(cJSON_IsString(sh) && shd_parse(sh->valuestring, &k, &n) == 0))
		return bad(path, "shard", "\"K/N\" with 1 <= K <= N, or null", sh, err);
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "shard_by");
	enum shd_scheme scheme;
	if (by && !cJSON_IsNull(by) &&
	    !(cJSON_IsString(by) && shd_scheme_parse(by->valuestring, &scheme) == 0))
		return bad(path, "shard_by", "\"hash\" or \"index\"", by, err);
	const cJSON *sl = cJSON_GetObjectItemCaseSensitive(o, "shard_limits");
	enum shd_limits lim;
	if (sl && !cJSON_IsNull(sl) &&
	    !(cJSON_IsString(sl) && shd_limits_parse(sl->valuestring, &lim) == 0))
		return bad(path, "shard_limits", "\"split\" or \"whole\"", sl, err);
	const cJSON *el = cJSON_GetObjectItemCaseSensitive(o, "endpoint_limits"), *e;
	if (el && !cJSON_IsObject(el))
		return bad(path, "endpoint_limits", "an object", el, err);
	cJSON_ArrayForEach(e, el)
	{
		char at[JSONV_PATH];
		jsonv_key(at, "endpoint_limits", e->string ? e->string : "");
		if (!cJSON_IsObject(e))
			return bad(path, at, "an object", e, err);
		if (opt_count(e, at, "rpm", path, err) ||
		    opt_count(e, at, "max_concurrency", path, err))
			return -1;
	}
	const cJSON *lm = cJSON_GetObjectItemCaseSensitive(o, "limit");
	if (lm && !cJSON_IsNull(lm) && !jsonv_integer_in(lm, 0, MAN_COUNT_MAX))
		return bad(path, "limit", COUNT_WANT " or null", lm, err);
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(o, "concurrency");
	if (cc && !jsonv_integer_in(cc, 0, 1e9))
		return bad(path, "concurrency", "a whole number from 0 to 10^9", cc, err);
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(o, "allow_partial");
	if (ap && !cJSON_IsBool(ap))
		return bad(path, "allow_partial", "true or false", ap, err);
	const cJSON *stop = cJSON_GetObjectItemCaseSensitive(o, "stopping");
	if (stop && !cJSON_IsObject(stop) && !cJSON_IsNull(stop))
		return bad(path, "stopping", "an object", stop, err);
	if (opt_count(o, "", "missing_items", path, err) ||
	    strings_in(o, "merged_from", false, path, err) ||
	    strings_in(o, "overrides", false, path, err) ||
	    strings_in(o, "endpoints", true, path, err) || strings_in(o, "slots", true, path, err))
		return -1;
	const cJSON *shadows = cJSON_GetObjectItemCaseSensitive(o, "shadows");
	if (cJSON_IsString(shadows)) {
		if (strcmp(shadows->valuestring, "all-slots"))
			return bad(path, "shadows", "\"all-slots\" or an array of strings", shadows,
				   err);
	} else if (shadows && !cJSON_IsArray(shadows)) {
		return bad(path, "shadows", "\"all-slots\" or an array of strings", shadows, err);
	} else if (strings_in(o, "shadows", false, path, err)) {
		return -1;
	}
	return 0;
}

static int check_counts(const cJSON *o, const char *path, struct se_err *err)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "counts");
	if (!c)
		return 0;
	if (!cJSON_IsObject(c))
		return bad(path, "counts", "an object", c, err);
	static const char *const counts[] = {"items", "items_not_run", "requests",
					     "results_written", NULL};
	for (size_t i = 0; counts[i]; i++)
		if (opt_count(c, "counts", counts[i], path, err))
			return -1;
	const cJSON *bs = cJSON_GetObjectItemCaseSensitive(c, "by_status"), *e;
	if (bs && !cJSON_IsObject(bs))
		return bad(path, "counts.by_status", "an object", bs, err);
	cJSON_ArrayForEach(e, bs)
	{
		char at[JSONV_PATH];
		jsonv_key(at, "counts.by_status", e->string ? e->string : "");
		if (man_check_count(e, path, at, err))
			return -1;
	}
	const cJSON *usd = cJSON_GetObjectItemCaseSensitive(c, "spent_usd");
	if (usd && !jsonv_number_in(usd, 0, MAN_COUNT_MAX))
		return bad(path, "counts.spent_usd", MONEY_WANT, usd, err);
	return 0;
}

int man_check(const cJSON *o, const char *path, struct se_err *err)
{
	if (!cJSON_IsObject(o))
		return se_fail(err, SE_INPUT, path,
			       "not a shadoweval manifest (not a JSON object)");
	char at[JSONV_PATH];
	const char *dup = jsonv_duplicate_key(o, "", at);
	if (dup)
		return jsonv_fail_in(err, path, at[0] ? at : NULL, "key \"%s\" given twice", dup);
	if (check_identity(o, path, err) || check_scope(o, path, err) || check_counts(o, path, err))
		return -1;
	return 0;
}

cJSON *man_load(const char *dir, struct se_err *err)
{
	char *path = fio_join(dir, "manifest.json");
	char *data = NULL;
	size_t len = 0;
	cJSON *o = NULL;
	if (fio_read_all(path, &data, &len, err) == 0) {
		o = cJSON_ParseWithLength(data, len);
		const char *at = o ? NULL : cJSON_GetErrorPtr(); /* global: read at once */
		if (!o)
			se_fail(err, SE_INPUT, path,
				"not a shadoweval manifest: invalid JSON at byte %zu of %zu",
				at && at >= data && at <= data + len ? (size_t)(at - data) : len,
				len);
		else if (man_check(o, path, err)) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	free(data);
	free(path);
	return o;
}
