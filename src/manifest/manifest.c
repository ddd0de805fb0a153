/* manifest.c: writing and reading manifest.json (see manifest.h). Built by
 * hand with jsonw (one small object), read back with cJSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "core/jsonw.h"
#include "core/version.h"
#include "manifest/manifest.h"

static void key(struct buf *b, const char *k, bool first)
{
	if (!first)
		buf_putc(b, ',');
	buf_puts(b, "\n  ");
	jsonw_key(b, k);
	buf_putc(b, ' ');
}

/* {"name": {"rpm": R, "max_concurrency": C}, ...}, 0 meaning unlimited. */
static void write_limits(struct buf *b, const struct cfg *cfg)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		const struct cfg_endpoint *ep = &cfg->endpoints[i];
		if (i)
			buf_puts(b, ", ");
		jsonw_str(b, ep->name);
		buf_putc(b, ':');
		buf_putc(b, '{');
		jsonw_key(b, "rpm");
		jsonw_long(b, ep->rpm);
		buf_putc(b, ',');
		jsonw_key(b, "max_concurrency");
		jsonw_long(b, ep->max_concurrency);
		buf_putc(b, '}');
	}
	buf_putc(b, '}');
}

/* ["a", "b"] */
static void write_strings(struct buf *b, const char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ", ");
		jsonw_str(b, v[i]);
	}
	buf_putc(b, ']');
}

/* What was run on what: the tool, the config and dataset with their
 * hashes, and the run's status and times. */
static void write_identity(struct buf *b, const struct man_info *m)
{
	const struct cfg *cfg = m->cfg;
	key(b, "tool", true);
	jsonw_str(b, "shadoweval");
	key(b, "version", false);
	jsonw_str(b, SE_VERSION);
	key(b, "eval", false);
	jsonw_str(b, cfg->name);
	key(b, "config", false);
	jsonw_str(b, cfg->path);
	key(b, "config_sha256", false);
	jsonw_str(b, cfg->sha256);
	if (cfg->n_overrides) {
		/* config_sha256 is the effective config's: the file's is kept too */
		key(b, "config_file_sha256", false);
		jsonw_str(b, cfg->file_sha256);
		key(b, "overrides", false);
		write_strings(b, (const char *const *)cfg->overrides, cfg->n_overrides);
	}
	key(b, "dataset", false);
	jsonw_str(b, m->dataset_path);
	key(b, "dataset_sha256", false);
	jsonw_str(b, m->dataset_sha256);
	key(b, "status", false);
	jsonw_str(b, m->status);
	key(b, "started_at", false);
	jsonw_str(b, m->started_at);
	key(b, "ended_at", false);
	jsonw_str(b, m->ended_at[0] ? m->ended_at : NULL);
}

/* Which part of the dataset, and how: shard, limit, concurrency, cache, and
 * for a merged run its shards. */
static void write_scope(struct buf *b, const struct man_info *m)
{
	key(b, "shard", false);
	jsonw_str(b, m->shard);
	if (m->shard) {
		key(b, "shard_by", false);
		jsonw_str(b, m->shard_by);
		key(b, "shard_limits", false);
		jsonw_str(b, m->shard_limits);
		key(b, "endpoint_limits", false);
		write_limits(b, m->cfg);
	}
	key(b, "limit", false);
	if (m->limit >= 0)
		jsonw_long(b, m->limit);
	else
		buf_puts(b, "null");
	key(b, "concurrency", false);
	jsonw_long(b, m->concurrency);
	key(b, "cache", false);
	jsonw_str(b, m->cache_mode);
	if (m->n_merged_from) {
		key(b, "merged_from", false);
		write_strings(b, m->merged_from, m->n_merged_from);
	}
	if (m->missing_shards) {
		key(b, "missing_shards", false);
		jsonw_str(b, m->missing_shards);
	}
	if (m->missing_items > 0) {
		key(b, "missing_items", false);
		jsonw_long(b, m->missing_items);
	}
	if (m->allow_partial) {
		key(b, "allow_partial", false);
		buf_puts(b, "true");
	}
}

/* Where requests went: endpoints, slots and shadows. */
static void write_routing(struct buf *b, const struct cfg *cfg)
{
	key(b, "endpoints", false);
	buf_putc(b, '{');
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		if (i)
			buf_puts(b, ", ");
		jsonw_str(b, cfg->endpoints[i].name);
		buf_putc(b, ':');
		jsonw_str(b, cfg->endpoints[i].base_url);
	}
	buf_putc(b, '}');
	key(b, "slots", false);
	buf_putc(b, '{');
	for (size_t i = 0; i < cfg->n_slots; i++) {
		if (i)
			buf_puts(b, ", ");
		jsonw_str(b, cfg->slots[i].name);
		buf_putc(b, ':');
		jsonw_str(b, cfg->models[cfg->slots[i].model].id);
	}
	buf_putc(b, '}');
	key(b, "shadows", false);
	if (cfg->shadow_all_slots) {
		jsonw_str(b, "all-slots");
	} else {
		buf_putc(b, '[');
		for (size_t i = 0; i < cfg->n_shadows; i++) {
			if (i)
				buf_puts(b, ", ");
			jsonw_str(b, cfg->models[cfg->shadows[i]].id);
		}
		buf_putc(b, ']');
	}
}

/* What came of it: the counts by status and the money spent. */
static void write_counts(struct buf *b, const struct man_info *m)
{
	key(b, "counts", false);
	buf_putc(b, '{');
	jsonw_key(b, "items");
	jsonw_long(b, (long long)m->items);
	buf_putc(b, ',');
	jsonw_key(b, "items_not_run");
	jsonw_long(b, (long long)m->items_not_run);
	buf_putc(b, ',');
	jsonw_key(b, "requests");
	jsonw_long(b, (long long)m->requests);
	buf_putc(b, ',');
	jsonw_key(b, "results_written");
	jsonw_long(b, (long long)m->results_written);
	buf_putc(b, ',');
	jsonw_key(b, "by_status");
	buf_putc(b, '{');
	for (size_t i = 0; i < m->n_status; i++) {
		if (i)
			buf_putc(b, ',');
		jsonw_str(b, m->by_status[i].name);
		buf_putc(b, ':');
		jsonw_long(b, (long long)m->by_status[i].n);
	}
	buf_puts(b, "},");
	jsonw_key(b, "spent_usd");
	jsonw_double(b, m->spent_usd);
	buf_putc(b, '}');
}

int man_write(const char *dir, const struct man_info *m, struct se_err *err)
{
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	write_identity(&b, m);
	write_scope(&b, m);
	write_routing(&b, m->cfg);
	write_counts(&b, m);
	if (m->stopping_json) {
		key(&b, "stopping", false);
		buf_puts(&b, m->stopping_json);
	}
	buf_puts(&b, "\n}\n");

	char *path = fio_join(dir, "manifest.json");
	int rc = fio_write_atomic(path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	return rc;
}

static int copy_str(const cJSON *o, const char *k, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsString(v))
		return -1;
	snprintf(out, size, "%s", v->valuestring);
	return 0;
}

static cJSON *load(const char *dir, struct se_err *err)
{
	return man_load(dir, err);
}

int man_read(const char *dir, struct man_read *out, struct se_err *err)
{
	memset(out, 0, sizeof(*out));
	cJSON *o = load(dir, err);
	if (!o)
		return -1;
	char *path = fio_join(dir, "manifest.json");
	int rc = 0;
	if (copy_str(o, "config_sha256", out->config_sha256, 65) ||
	    copy_str(o, "dataset_sha256", out->dataset_sha256, 65))
		rc = se_fail(err, SE_INPUT, path,
			     "not a shadoweval manifest (config_sha256 or dataset_sha256 missing)");
	copy_str(o, "started_at", out->started_at, sizeof(out->started_at));
	cJSON_Delete(o);
	free(path);
	return rc;
}

static void limit_text(long limit, char *out, size_t size)
{
	if (limit < 0)
		snprintf(out, size, "none");
	else
		snprintf(out, size, "%ld", limit);
}

/* The recorded overrides (a manifest's array) as "--set a=1, --routing r.json",
 * or "no --set or --routing". */
static void recorded_text(struct buf *b, const cJSON *list)
{
	size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0;
	if (n == 0)
		buf_puts(b, "no --set or --routing");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", cJSON_GetArrayItem(list, (int)i)->valuestring);
}

/* The same for this run's. */
static void current_text(struct buf *b, const struct cfg *cfg)
{
	if (cfg->n_overrides == 0)
		buf_puts(b, "no --set or --routing");
	for (size_t i = 0; i < cfg->n_overrides; i++)
		buf_printf(b, "%s%s", i ? ", " : "", cfg->overrides[i]);
}

/* --resume: the overrides must be those the run was started with. */
static int same_overrides(const cJSON *o, const struct cfg *cfg, const char *path,
			  struct se_err *err)
{
	const cJSON *was = cJSON_GetObjectItemCaseSensitive(o, "overrides");
	if (was && !cJSON_IsArray(was))
		return se_fail(err, SE_INPUT, path, "overrides: expected an array of strings");
	size_t n = was ? (size_t)cJSON_GetArraySize(was) : 0;
	bool same = n == cfg->n_overrides;
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(was, (int)i);
		if (!cJSON_IsString(e))
			return se_fail(err, SE_INPUT, path, "overrides[%zu]: expected a string", i);
		if (same && strcmp(e->valuestring, cfg->overrides[i]))
			same = false;
	}
	if (same)
		return 0;
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	recorded_text(&a, was);
	current_text(&b, cfg);
	se_fail(err, SE_USAGE, "--resume",
		"the run being resumed used %s, this one %s; resume with the same flags, or start "
		"a new run folder",
		a.data, b.data);
	buf_free(&a);
	buf_free(&b);
	return -1;
}

int man_check_same_overrides(const char *dir, const struct cfg *cfg, struct se_err *err)
{
	cJSON *o = load(dir, err);
	if (!o)
		return -1;
	char *path = fio_join(dir, "manifest.json");
	int rc = same_overrides(o, cfg, path, err);
	free(path);
	cJSON_Delete(o);
	return rc;
}

int man_check_same_run(const char *dir, const struct man_info *now, struct se_err *err)
{
	cJSON *o = load(dir, err);
	if (!o)
		return -1;
	int rc = -1;
	char *path = fio_join(dir, "manifest.json");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shard");
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(o, "limit");
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(o, "endpoints");
	if (sh && !cJSON_IsNull(sh) && !cJSON_IsString(sh)) {
		se_fail(err, SE_INPUT, path, "shard: expected \"K/N\" or null");
		goto out;
	}
	if (lim && !cJSON_IsNull(lim) &&
	    !(cJSON_IsNumber(lim) && lim->valuedouble >= 0 && lim->valuedouble <= 4.6e18 &&
	      lim->valuedouble == floor(lim->valuedouble))) {
		se_fail(err, SE_INPUT, path, "limit: expected an integer ≥ 0 or null");
		goto out;
	}
	if (eps && !cJSON_IsObject(eps)) {
		se_fail(err, SE_INPUT, path, "endpoints: expected an object");
		goto out;
	}
	const char *was_shard = cJSON_IsString(sh) ? sh->valuestring : "";
	const char *shard = now->shard ? now->shard : "";
	if (strcmp(was_shard, shard)) {
		se_fail(err, SE_USAGE, "--shard",
			"the run being resumed used %s%s, this one %s%s; resume with the same "
			"flags, or start a new run folder",
			was_shard[0] ? "--shard " : "no --shard", was_shard,
			shard[0] ? "--shard " : "no --shard", shard);
		goto out;
	}
	/* a sharded manifest without shard_by predates hashing: index */
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "shard_by");
	const char *was_by = cJSON_IsString(by) ? by->valuestring : "index";
	if (shard[0] && now->shard_by && strcmp(was_by, now->shard_by)) {
		se_fail(err, SE_USAGE, "--shard-by",
			"the run being resumed used --shard-by %s, this one --shard-by %s; resume "
			"with the same flags, or start a new run folder",
			was_by, now->shard_by);
		goto out;
	}
	long was_limit = cJSON_IsNumber(lim) ? (long)lim->valuedouble : -1;
	if (was_limit != now->limit) {
		char a[32], b[32];
		limit_text(was_limit, a, sizeof(a));
		limit_text(now->limit, b, sizeof(b));
		se_fail(err, SE_USAGE, "--limit",
			"the run being resumed used --limit %s, this one --limit %s; resume with "
			"the same flags, or start a new run folder",
			a, b);
		goto out;
	}
	const struct cfg *cfg = now->cfg;
	for (size_t i = 0; eps && i < cfg->n_endpoints; i++) {
		const struct cfg_endpoint *ep = &cfg->endpoints[i];
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(eps, ep->name);
		const char *was = cJSON_IsString(u) ? u->valuestring : "(none)";
		if (strcmp(was, ep->base_url)) {
			se_fail(
			    err, SE_USAGE, "--endpoint",
			    "endpoint \"%s\": the run being resumed used %s, this one %s; resume "
			    "with the same --endpoint, or start a new run folder",
			    ep->name, was, ep->base_url);
			goto out;
		}
	}
	rc = 0;
out:
	free(path);
	cJSON_Delete(o);
	return rc;
}
