/* manifest.c: writing and reading manifest.json (see manifest.h). Built by
 * hand with jsonw (one small object), read back with cJSON. */
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

int man_write(const char *dir, const struct man_info *m, struct se_err *err)
{
	const struct cfg *cfg = m->cfg;
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	key(&b, "tool", true);
	jsonw_str(&b, "shadoweval");
	key(&b, "version", false);
	jsonw_str(&b, SE_VERSION);
	key(&b, "eval", false);
	jsonw_str(&b, cfg->name);
	key(&b, "config", false);
	jsonw_str(&b, cfg->path);
	key(&b, "config_sha256", false);
	jsonw_str(&b, cfg->sha256);
	key(&b, "dataset", false);
	jsonw_str(&b, m->dataset_path);
	key(&b, "dataset_sha256", false);
	jsonw_str(&b, m->dataset_sha256);
	key(&b, "status", false);
	jsonw_str(&b, m->status);
	key(&b, "started_at", false);
	jsonw_str(&b, m->started_at);
	key(&b, "ended_at", false);
	jsonw_str(&b, m->ended_at[0] ? m->ended_at : NULL);
	key(&b, "shard", false);
	jsonw_str(&b, m->shard);
	key(&b, "limit", false);
	if (m->limit >= 0)
		jsonw_long(&b, m->limit);
	else
		buf_puts(&b, "null");
	key(&b, "concurrency", false);
	jsonw_long(&b, m->concurrency);
	key(&b, "cache", false);
	jsonw_str(&b, m->cache_mode);
	if (m->n_merged_from) {
		key(&b, "merged_from", false);
		buf_putc(&b, '[');
		for (size_t i = 0; i < m->n_merged_from; i++) {
			if (i)
				buf_puts(&b, ", ");
			jsonw_str(&b, m->merged_from[i]);
		}
		buf_putc(&b, ']');
	}
	if (m->missing_shards) {
		key(&b, "missing_shards", false);
		jsonw_str(&b, m->missing_shards);
	}

	key(&b, "slots", false);
	buf_putc(&b, '{');
	for (size_t i = 0; i < cfg->n_slots; i++) {
		if (i)
			buf_puts(&b, ", ");
		jsonw_str(&b, cfg->slots[i].name);
		buf_putc(&b, ':');
		jsonw_str(&b, cfg->models[cfg->slots[i].model].id);
	}
	buf_putc(&b, '}');
	key(&b, "shadows", false);
	if (cfg->shadow_all_slots) {
		jsonw_str(&b, "all-slots");
	} else {
		buf_putc(&b, '[');
		for (size_t i = 0; i < cfg->n_shadows; i++) {
			if (i)
				buf_puts(&b, ", ");
			jsonw_str(&b, cfg->models[cfg->shadows[i]].id);
		}
		buf_putc(&b, ']');
	}

	key(&b, "counts", false);
	buf_putc(&b, '{');
	jsonw_key(&b, "items");
	jsonw_long(&b, (long long)m->items);
	buf_putc(&b, ',');
	jsonw_key(&b, "items_not_run");
	jsonw_long(&b, (long long)m->items_not_run);
	buf_putc(&b, ',');
	jsonw_key(&b, "requests");
	jsonw_long(&b, (long long)m->requests);
	buf_putc(&b, ',');
	jsonw_key(&b, "results_written");
	jsonw_long(&b, (long long)m->results_written);
	buf_putc(&b, ',');
	jsonw_key(&b, "by_status");
	buf_putc(&b, '{');
	for (size_t i = 0; i < m->n_status; i++) {
		if (i)
			buf_putc(&b, ',');
		jsonw_str(&b, m->by_status[i].name);
		buf_putc(&b, ':');
		jsonw_long(&b, (long long)m->by_status[i].n);
	}
	buf_puts(&b, "},");
	jsonw_key(&b, "spent_usd");
	jsonw_double(&b, m->spent_usd);
	buf_puts(&b, "}\n}\n");

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

int man_read(const char *dir, struct man_read *out, struct se_err *err)
{
	memset(out, 0, sizeof(*out));
	char *path = fio_join(dir, "manifest.json");
	char *data = NULL;
	size_t len = 0;
	if (fio_read_all(path, &data, &len, err)) {
		free(path);
		return -1;
	}
	cJSON *o = cJSON_ParseWithLength(data, len);
	free(data);
	int rc = 0;
	if (!cJSON_IsObject(o) || copy_str(o, "config_sha256", out->config_sha256, 65) ||
	    copy_str(o, "dataset_sha256", out->dataset_sha256, 65))
		rc = se_fail(err, SE_INPUT, path,
			     "not a shadoweval manifest (config_sha256 or dataset_sha256 missing)");
	copy_str(o, "started_at", out->started_at, sizeof(out->started_at));
	cJSON_Delete(o);
	free(path);
	return rc;
}
