/* cache_legacy.c: the response cache's old layout, read once and moved into
 * the database (see cache.h). The old layout was one file per key,
 * DIR/<first 2 hex>/<64 hex>.json, holding {"status":200,"stream":bool,
 * "latency_ms":..,"ttft_ms":..,"body":"..."}; it did not keep the URL and the
 * model, so moved entries have them empty (their key still hashes both).
 * A file that is not such an entry (a latency or ttft_ms that is not null
 * or a number from 0 to RES_MAX_MS included: eng_cache_ms_ok) is left where
 * it is, and counted. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "engine/cache.h"

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* DIR/<2 hex> folders */
static bool prefix_folder(const char *dir, const char *name)
{
	if (strlen(name) != 2 || !is_hex(name, 2))
		return false;
	char *p = fio_join(dir, name);
	struct stat sb;
	bool yes = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	return yes;
}

bool eng_cache_legacy_present(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)))
		found = prefix_folder(dir, de->d_name);
	closedir(d);
	return found;
}

/* A timing field: absent or null is unknown (NAN); false when it is
 * anything else than a number the cache takes. */
static bool old_ms(const cJSON *o, const char *key, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	*v = cJSON_IsNumber(x) ? x->valuedouble : NAN;
	return (!x || cJSON_IsNull(x) || cJSON_IsNumber(x)) && eng_cache_ms_ok(*v);
}

/* 1: an ok entry (its text in body), 0: not one */
static int read_old(const char *path, struct eng_cache_entry *e, struct buf *body)
{
	char *data = NULL;
	size_t len = 0;
	struct se_err ignored;
	if (fio_read_all_max(path, FIO_MAX_CACHE_ENTRY, &data, &len, &ignored))
		return 0;
	cJSON *o = cJSON_ParseWithLength(data, len);
	free(data);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "body");
	int ok = 0;
	if (cJSON_IsNumber(st) && st->valueint == 200 && cJSON_IsString(b) &&
	    old_ms(o, "latency_ms", &e->latency_ms) && old_ms(o, "ttft_ms", &e->ttft_ms)) {
		e->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stream"));
		buf_puts(body, b->valuestring);
		ok = 1;
	}
	cJSON_Delete(o);
	return ok;
}

struct moved {
	char **paths;
	size_t n, cap;
	size_t bad;
	char bad_folder[8];
};

static int move_folder(struct eng_cache *c, const char *folder, const char *prefix, struct moved *m,
		       struct se_err *err)
{
	DIR *d = opendir(folder);
	if (!d)
		return 0;
	struct buf body;
	buf_init(&body);
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.')
			continue;
		char *path = fio_join(folder, n);
		struct eng_cache_entry e;
		buf_reset(&body);
		bool named = strlen(n) == 69 && !strcmp(n + 64, ".json") && is_hex(n, 64) &&
			     !strncmp(n, prefix, 2);
		if (!named || !read_old(path, &e, &body)) {
			m->bad++;
			snprintf(m->bad_folder, sizeof(m->bad_folder), "%s", prefix);
			free(path);
			continue;
		}
		char req[65];
		memcpy(req, n, 64);
		req[64] = '\0';
		struct eng_cache_key k = {"", "", req, 0};
		rc = eng_cache_store(c, &k, &e, body.data ? body.data : "", body.len, err);
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 64;
			m->paths = xrealloc(m->paths, m->cap * sizeof(*m->paths));
		}
		m->paths[m->n++] = path;
	}
	closedir(d);
	buf_free(&body);
	return rc;
}

int eng_cache_migrate(struct eng_cache *c, const char *dir, FILE *note, struct se_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct moved m = {0};
	char **folders = NULL;
	size_t n_folders = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (prefix_folder(dir, de->d_name)) {
			folders = xrealloc(folders, (n_folders + 1) * sizeof(*folders));
			folders[n_folders++] = xstrdup(de->d_name);
		}
	closedir(d);
	int rc = 0;
	for (size_t i = 0; !rc && i < n_folders; i++) {
		char *f = fio_join(dir, folders[i]);
		rc = move_folder(c, f, folders[i], &m, err);
		free(f);
	}
	/* the files go only once their entries are written */
	if (!rc)
		rc = eng_cache_flush(c, err);
	for (size_t i = 0; i < m.n; i++) {
		if (!rc && unlink(m.paths[i]) != 0 && errno != ENOENT)
			rc = se_fail_errno(err, m.paths[i], "cannot remove a moved cache entry");
		free(m.paths[i]);
	}
	free(m.paths);
	for (size_t i = 0; i < n_folders; i++) {
		char *f = fio_join(dir, folders[i]);
		if (!rc)
			rmdir(f); /* only when empty: what was not moved stays */
		free(f);
		free(folders[i]);
	}
	free(folders);
	if (!rc && note && (m.n || m.bad)) {
		fprintf(note,
			"shadoweval: moved %zu response-cache entries from the one-file-per-key "
			"layout of %s into %s",
			m.n, dir, eng_cache_db_path(c));
		if (m.bad)
			fprintf(note,
				"; %zu files there are not cache entries and were left in place "
				"(e.g. in %s/%s/): delete them",
				m.bad, dir, m.bad_folder);
		fputc('\n', note);
	}
	return rc;
}
