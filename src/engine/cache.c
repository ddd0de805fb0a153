/* cache.c: reading and writing response-cache entries (see cache.h). It
 * decides nothing about when to use the cache: the engine does, per
 * --cache mode. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "core/xalloc.h"
#include "engine/cache.h"

static char *entry_path(const char *dir, const char key[65], bool folder_only)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s/%.2s", dir, key);
	if (!folder_only)
		buf_printf(&b, "/%s.json", key);
	return buf_detach(&b, NULL);
}

int eng_cache_load(const char *dir, const char key[65], struct eng_cache_entry *e, struct buf *body)
{
	char *path = entry_path(dir, key, false);
	struct stat sb;
	if (stat(path, &sb) != 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	char *data = NULL;
	size_t len = 0;
	struct se_err ignored;
	int rc = fio_read_all_max(path, FIO_MAX_CACHE_ENTRY, &data, &len, &ignored);
	free(path);
	if (rc)
		return -1;
	cJSON *o = cJSON_ParseWithLength(data, len);
	free(data);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "body");
	int hit = -1;
	if (cJSON_IsNumber(st) && st->valueint == 200 && cJSON_IsString(b)) {
		e->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stream"));
		e->latency_ms = jsonr_num(o, "latency_ms", NAN);
		e->ttft_ms = jsonr_num(o, "ttft_ms", NAN);
		buf_puts(body, b->valuestring);
		hit = 1;
	}
	cJSON_Delete(o);
	return hit;
}

char *eng_cache_path(const char *dir, const char key[65])
{
	return entry_path(dir, key, false);
}

int eng_cache_store(const char *dir, const char key[65], const struct eng_cache_entry *e,
		    const char *body, size_t len, struct se_err *err)
{
	char *folder = entry_path(dir, key, true);
	int rc = fio_mkdirs(folder, err);
	free(folder);
	if (rc)
		return -1;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{");
	jsonw_key(&b, "status");
	jsonw_long(&b, 200);
	buf_putc(&b, ',');
	jsonw_key(&b, "stream");
	jsonw_bool(&b, e->stream);
	buf_putc(&b, ',');
	jsonw_key(&b, "latency_ms");
	jsonw_double(&b, e->latency_ms);
	buf_putc(&b, ',');
	jsonw_key(&b, "ttft_ms");
	jsonw_double(&b, e->ttft_ms);
	buf_putc(&b, ',');
	jsonw_key(&b, "body");
	jsonw_strn(&b, body, len);
	buf_puts(&b, "}\n");
	char *path = entry_path(dir, key, false);
	rc = fio_write_atomic(path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	return rc;
}
