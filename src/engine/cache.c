/* cache.c: the response cache's SQLite database (see cache.h for the layout,
 * the batching, the crash and the threading contracts). It decides nothing
 * about when to use the cache: the engine does, per --cache mode. The old
 * one-file-per-key layout is read by cache_legacy.c, bundles by
 * cache_bundle.c. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zstd.h>

#include "core/clock.h"
#include "core/fileio.h"
#include "core/sha256.h"
#include "core/xalloc.h"
#include "engine/cache.h"
#include "results/results.h"

#define APP_ID 0x53455643 /* "SEVC" */
#define SCHEMA_VERSION 2  /* 2: zsize (version 1 had none, so every text was raw) */
#define ZLEVEL 1	  /* per-entry compression: the fastest level, about 2.5x on JSON */
#define READ_LOADS 1024	  /* loads per read transaction, at most */

static const char schema[] =
    "CREATE TABLE sources(id INTEGER PRIMARY KEY, url TEXT NOT NULL, model TEXT NOT NULL,"
    " UNIQUE(url, model));"
    "CREATE TABLE responses(req BLOB NOT NULL, sample INTEGER NOT NULL,"
    " source INTEGER NOT NULL REFERENCES sources(id), stream INTEGER NOT NULL,"
    " latency_ms REAL, ttft_ms REAL, sum INTEGER NOT NULL, body BLOB NOT NULL,"
    " zsize INTEGER, PRIMARY KEY(req, sample));"
    "PRAGMA application_id = 1397052995;" /* APP_ID */
    "PRAGMA user_version = 2;";
/* zsize: NULL when body is the text itself, else the length of the text
 * that body (a zstd frame) holds; a text is compressed only when that makes
 * it smaller. */
static const char upgrade_1_2[] = "ALTER TABLE responses ADD COLUMN zsize INTEGER;"
				  "PRAGMA user_version = 2;";

/* a store not yet written */
struct pend {
	unsigned char req[32];
	long sample;
	char *url;
	char *model;
	struct eng_cache_entry e;
	int64_t sum;
	char *body; /* the text, for loads while it is batched */
	size_t len;
	char *z; /* its zstd frame, or NULL when that is not smaller */
	size_t zlen;
};

/* a (URL, model) row id known to be committed */
struct source {
	char *url;
	char *model;
	int64_t id;
};

struct eng_cache {
	pthread_mutex_t mu;
	sqlite3 *db;
	char *dir;
	char *path;
	sqlite3_stmt *get, *put, *src_get, *src_put;
	pthread_mutex_t zmu; /* cz only: stores compress outside mu */
	ZSTD_CCtx *cz;
	ZSTD_DCtx *dz;
	struct buf zbuf; /* a text uncompressed by read_row */
	struct pend *pend;
	size_t n_pend, cap_pend, pend_bytes;
	double pend_t0;
	struct source *src;
	size_t n_src, cap_src;
	bool ro;      /* opened read-only (stats, export): nothing is written */
	bool empty;   /* ro, and the file has no schema yet: an empty cache */
	bool v1;      /* ro, and the schema is version 1 (no zsize column) */
	bool reading; /* a read transaction is open (see read_begin) */
	double read_t0;
	size_t read_n;
};

/* ---- small helpers ------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool req_bytes(const char *hex, unsigned char out[32])
{
	for (int i = 0; i < 32; i++) {
		int h = hexval(hex[2 * i]), l = h < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (l < 0)
			return false;
		out[i] = (unsigned char)(h << 4 | l);
	}
	return hex[64] == '\0';
}

static void req_hex(const unsigned char b[32], char hex[65])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = d[b[i] >> 4];
		hex[2 * i + 1] = d[b[i] & 15];
	}
	hex[64] = '\0';
}

/* the first 64 bits of the text's SHA-256 */
static int64_t body_sum(const char *body, size_t len)
{
	char hex[65];
	sha256_hex(body, len, hex);
	uint64_t v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 4 | (uint64_t)hexval(hex[i]);
	return (int64_t)v;
}

/* SQLite's failure as an se_err: a damaged file says how to rebuild it. */
static int db_fail(struct eng_cache *c, struct se_err *err, int rc, const char *doing)
{
	const char *msg = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return se_fail(err, SE_INPUT, c->path,
			       "the response cache is damaged (%s, %s); rebuild it: rm -f "
			       "'%s' '%s-wal' '%s-shm', then run with --cache use (or shadoweval "
			       "cache import BUNDLE --cache-dir '%s')",
			       doing, msg, c->path, c->path, c->path, c->dir);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		/* the machine's state, not the input's: exit 3 (se_is_environment) */
		se_fail(err, SE_IO, c->path,
			"%s: the response cache stayed locked by another process for %d s", doing,
			ENG_CACHE_BUSY_MS / 1000);
		if (err)
			err->sys_errno = EBUSY;
		return -1;
	default:
		break;
	}
	se_fail(err, SE_IO, c->path, "%s: %s", doing, msg);
	if (err && (rc & 0xff) == SQLITE_FULL)
		err->sys_errno = ENOSPC;
	else if (err && (rc & 0xff) == SQLITE_IOERR)
		err->sys_errno = EIO;
	else if (err && (rc & 0xff) == SQLITE_READONLY)
		err->sys_errno = EROFS;
	return -1;
}

static int exec(struct eng_cache *c, const char *sql, const char *doing, struct se_err *err)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(c, err, rc, doing);
}

static int pragma_int(struct eng_cache *c, const char *sql, long long *v, struct se_err *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : db_fail(c, err, rc, "reading the database header");
}

/* ---- open and close ----------------------------------------------------- */

/* Writers only: a version 1 schema upgraded, none made. */
static int make_or_upgrade(struct eng_cache *c, long long *ver_out, struct se_err *err)
{
	long long app = 0, ver = *ver_out, objs = 0;
	if (ver == 1 && !pragma_int(c, "PRAGMA application_id", &app, err) && app == APP_ID) {
		if (exec(c, "BEGIN IMMEDIATE", "upgrading the database", err))
			return -1;
		int rc = pragma_int(c, "PRAGMA user_version", &ver, err);
		if (!rc && ver == 1)
			rc = exec(c, upgrade_1_2, "upgrading the database", err);
		if (rc || exec(c, "COMMIT", "upgrading the database", err)) {
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (pragma_int(c, "PRAGMA user_version", &ver, err))
			return -1;
	}
	if (ver == 0) {
		if (exec(c, "BEGIN IMMEDIATE", "creating the database", err))
			return -1;
		int rc = pragma_int(c, "PRAGMA user_version", &ver, err);
		if (!rc && ver == 0)
			rc = pragma_int(c, "SELECT count(*) FROM sqlite_master", &objs, err);
		if (!rc && ver == 0 && objs == 0)
			rc = exec(c, schema, "creating the database", err);
		if (rc) {
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (exec(c, "COMMIT", "creating the database", err))
			return -1;
		if (pragma_int(c, "PRAGMA user_version", &ver, err))
			return -1;
	}
	*ver_out = ver;
	return 0;
}

/* The database in WAL mode, as every opener asks. Converting a new file
 * to WAL takes an exclusive lock and, to avoid a deadlock, SQLite answers
 * SQLITE_BUSY at once instead of calling the busy handler: with several
 * processes opening one new cache (tests/test_cache.c, 8 at once), 1 run
 * in 8 had one fail ("stayed locked for 30 s" after 0.02 s), and the
 * others then met its -wal file deleted as it closed (SQLITE_IOERR_FSTAT).
 * It is asked again until the busy timeout has passed: none in 260 runs. */
static int set_wal(struct eng_cache *c, struct se_err *err)
{
	double give_up = clock_now_ms() + ENG_CACHE_BUSY_MS;
	for (;;) {
		int rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || clock_now_ms() >= give_up)
			return db_fail(c, err, rc, "opening the database");
		usleep(1000);
	}
}

/* The schema is made once, by whichever process gets the write lock first. */
static int ensure_schema(struct eng_cache *c, struct se_err *err)
{
	long long app = 0, ver = 0, objs = 0;
	if (pragma_int(c, "PRAGMA user_version", &ver, err))
		return -1;
	/* read-only: none at all (an empty file) is an empty cache, an older
	 * schema is read as it is; nothing is created or upgraded */
	if (c->ro && ver == 0) {
		if (pragma_int(c, "SELECT count(*) FROM sqlite_master", &objs, err))
			return -1;
		if (objs == 0) {
			c->empty = true;
			return 0;
		}
	}
	if (c->ro && ver == 1 && !pragma_int(c, "PRAGMA application_id", &app, err) &&
	    app == APP_ID) {
		c->v1 = true;
		return 0;
	}
	if (!c->ro && make_or_upgrade(c, &ver, err))
		return -1;
	if (pragma_int(c, "PRAGMA application_id", &app, err))
		return -1;
	if (app != APP_ID || ver != SCHEMA_VERSION)
		return se_fail(err, SE_INPUT, c->path,
			       "not a shadoweval response cache of this version (application_id "
			       "%lld, user_version %lld; expected %d and %d)",
			       app, ver, APP_ID, SCHEMA_VERSION);
	return 0;
}

static int prepare(struct eng_cache *c, sqlite3_stmt **st, const char *sql, struct se_err *err)
{
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(c, err, rc, "reading the database");
}

static void cache_free(struct eng_cache *c)
{
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_finalize(c->src_get);
	sqlite3_finalize(c->src_put);
	ZSTD_freeCCtx(c->cz);
	ZSTD_freeDCtx(c->dz);
	buf_free(&c->zbuf);
	if (c->db)
		sqlite3_close(c->db);
	for (size_t i = 0; i < c->n_pend; i++) {
		free(c->pend[i].url);
		free(c->pend[i].model);
		free(c->pend[i].body);
		free(c->pend[i].z);
	}
	free(c->pend);
	for (size_t i = 0; i < c->n_src; i++) {
		free(c->src[i].url);
		free(c->src[i].model);
	}
	free(c->src);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->zmu);
	free(c->dir);
	free(c->path);
	free(c);
}

static int open_cache(struct eng_cache **out, const char *dir, bool create, bool ro, FILE *note,
		      struct se_err *err)
{
	*out = NULL;
	bool legacy = eng_cache_legacy_present(dir);
	struct eng_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->zmu, NULL);
	c->cz = ZSTD_createCCtx();
	c->dz = ZSTD_createDCtx();
	if (!c->cz || !c->dz) { /* only out of memory, as xalloc.h does */
		fputs("shadoweval: out of memory (zstd contexts)\n", stderr);
		abort();
	}
	ZSTD_CCtx_setParameter(c->cz, ZSTD_c_compressionLevel, ZLEVEL);
	buf_init(&c->zbuf);
	c->dir = xstrdup(dir);
	c->path = fio_join(dir, ENG_CACHE_FILE);
	/* SQLite would open a FIFO or a device and fail later as an I/O error
	 * (exit 3), or block: the database and its WAL and shared-memory files
	 * are regular files, or absent */
	static const char *const sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s%s", c->path, sfx[i]);
		if (fio_regular_or_absent(p, "a response-cache file", err)) {
			cache_free(c);
			return -1;
		}
	}
	/* the commands that only read (stats, export) never write the file,
	 * except to move an old-layout folder into it */
	c->ro = ro && !legacy;
	struct stat sb;
	if (!create && !legacy && stat(c->path, &sb) != 0) {
		se_fail(err, SE_INPUT, c->path,
			"no response cache here (fill one with shadoweval run --cache use, or "
			"shadoweval cache import)");
		cache_free(c);
		return -1;
	}
	if (!c->ro && fio_mkdirs(dir, err)) {
		cache_free(c);
		return -1;
	}
	int rc = sqlite3_open_v2(
	    c->path, &c->db,
	    c->ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		db_fail(c, err, rc, "opening the database");
		cache_free(c);
		return -1;
	}
	sqlite3_busy_timeout(c->db, ENG_CACHE_BUSY_MS);
	/* WAL: readers never wait for a writer; NORMAL: a crash may lose the
	 * last transactions, never the database's consistency */
	if ((!c->ro && (set_wal(c, err) ||
			exec(c, "PRAGMA synchronous=NORMAL", "opening the database", err))) ||
	    ensure_schema(c, err)) {
		cache_free(c);
		return -1;
	}
	if (c->empty) { /* read-only, no schema: nothing to read */
		*out = c;
		return 0;
	}
	if (prepare(c, &c->get,
		    c->v1 ? "SELECT stream, latency_ms, ttft_ms, sum, body, NULL FROM responses "
			    "WHERE req = ?1 AND sample = ?2"
			  : "SELECT stream, latency_ms, ttft_ms, sum, body, zsize FROM responses "
			    "WHERE req = ?1 AND sample = ?2",
		    err)) {
		cache_free(c);
		return -1;
	}
	if (c->ro) {
		*out = c;
		return 0;
	}
	if (prepare(c, &c->put,
		    "INSERT OR REPLACE INTO responses(req, sample, source, stream, latency_ms, "
		    "ttft_ms, sum, body, zsize) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		    err) ||
	    prepare(c, &c->src_get, "SELECT id FROM sources WHERE url = ?1 AND model = ?2", err) ||
	    prepare(c, &c->src_put, "INSERT INTO sources(url, model) VALUES(?1, ?2)", err)) {
		cache_free(c);
		return -1;
	}
	if (legacy && eng_cache_migrate(c, dir, note, err)) {
		cache_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int eng_cache_open(struct eng_cache **out, const char *dir, bool create, FILE *note,
		   struct se_err *err)
{
	return open_cache(out, dir, create, false, note, err);
}

int eng_cache_open_readonly(struct eng_cache **out, const char *dir, FILE *note, struct se_err *err)
{
	return open_cache(out, dir, false, true, note, err);
}

const char *eng_cache_db_path(const struct eng_cache *c)
{
	return c->path;
}

/* ---- the batch ---------------------------------------------------------- */

static int source_id(struct eng_cache *c, const char *url, const char *model, int64_t *id,
		     struct se_err *err)
{
	for (size_t i = 0; i < c->n_src; i++)
		if (!strcmp(c->src[i].url, url) && !strcmp(c->src[i].model, model)) {
			*id = c->src[i].id;
			return 0;
		}
	sqlite3_reset(c->src_get);
	sqlite3_bind_text(c->src_get, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->src_get, 2, model, -1, SQLITE_STATIC);
	int rc = sqlite3_step(c->src_get);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(c->src_get, 0);
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(c->src_put);
		sqlite3_bind_text(c->src_put, 1, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(c->src_put, 2, model, -1, SQLITE_STATIC);
		rc = sqlite3_step(c->src_put);
		if (rc != SQLITE_DONE)
			return db_fail(c, err, rc, "writing the cache");
		*id = sqlite3_last_insert_rowid(c->db);
	} else {
		return db_fail(c, err, rc, "writing the cache");
	}
	sqlite3_reset(c->src_get);
	sqlite3_reset(c->src_put);
	return 0;
}

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int put_one(struct eng_cache *c, const struct pend *p, struct se_err *err)
{
	int64_t src;
	if (source_id(c, p->url, p->model, &src, err))
		return -1;
	sqlite3_stmt *st = c->put;
	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, p->req, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->sample);
	sqlite3_bind_int64(st, 3, src);
	sqlite3_bind_int(st, 4, p->e.stream);
	bind_num(st, 5, p->e.latency_ms);
	bind_num(st, 6, p->e.ttft_ms);
	sqlite3_bind_int64(st, 7, p->sum);
	if (p->z) {
		sqlite3_bind_blob64(st, 8, p->z, p->zlen, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)p->len);
	} else {
		sqlite3_bind_blob64(st, 8, p->body, p->len, SQLITE_STATIC);
		sqlite3_bind_null(st, 9);
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c, err, rc, "writing the cache");
}

static void pend_clear(struct eng_cache *c)
{
	for (size_t i = 0; i < c->n_pend; i++) {
		free(c->pend[i].url);
		free(c->pend[i].model);
		free(c->pend[i].body);
		free(c->pend[i].z);
	}
	c->n_pend = 0;
	c->pend_bytes = 0;
}

/* Loads share one read transaction: one shared lock for up to READ_LOADS
 * loads or ENG_CACHE_BATCH_MS, instead of a lock and an unlock (two fcntl
 * calls) per load. It ends before every write and on tick, so a load sees
 * another process's writes at most that late, and never holds back a
 * checkpoint for long. */
static void read_end(struct eng_cache *c)
{
	if (!c->reading)
		return;
	sqlite3_reset(c->get);
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	c->reading = false;
}

static void read_begin(struct eng_cache *c)
{
	double now = clock_now_ms();
	if (c->reading && (c->read_n >= READ_LOADS || now - c->read_t0 >= ENG_CACHE_BATCH_MS))
		read_end(c);
	if (!c->reading && sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		c->reading = true;
		c->read_t0 = now;
		c->read_n = 0;
	}
	c->read_n++;
}

/* Writes the batch in one transaction; the batch is gone either way (it is
 * a cache: a failed write ends the run, the entries are asked again). */
static int flush_locked(struct eng_cache *c, struct se_err *err)
{
	if (c->n_pend == 0)
		return 0;
	read_end(c);
	int rc = exec(c, "BEGIN IMMEDIATE", "writing the cache", err);
	for (size_t i = 0; !rc && i < c->n_pend; i++)
		rc = put_one(c, &c->pend[i], err);
	if (!rc)
		rc = exec(c, "COMMIT", "writing the cache", err);
	if (rc) {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		/* a source row made in the rolled-back transaction is gone too */
		for (size_t i = 0; i < c->n_src; i++) {
			free(c->src[i].url);
			free(c->src[i].model);
		}
		c->n_src = 0;
	}
	for (size_t i = 0; !rc && i < c->n_pend; i++) {
		const struct pend *p = &c->pend[i];
		bool known = false;
		for (size_t k = 0; k < c->n_src && !known; k++)
			known =
			    !strcmp(c->src[k].url, p->url) && !strcmp(c->src[k].model, p->model);
		if (known)
			continue;
		int64_t id;
		if (source_id(c, p->url, p->model, &id, err)) {
			rc = -1;
			break;
		}
		if (c->n_src == c->cap_src) {
			c->cap_src = c->cap_src ? 2 * c->cap_src : 8;
			c->src = xrealloc(c->src, c->cap_src * sizeof(*c->src));
		}
		c->src[c->n_src++] = (struct source){xstrdup(p->url), xstrdup(p->model), id};
	}
	pend_clear(c);
	return rc;
}

int eng_cache_flush(struct eng_cache *c, struct se_err *err)
{
	pthread_mutex_lock(&c->mu);
	read_end(c);
	int rc = flush_locked(c, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int eng_cache_tick(struct eng_cache *c, struct se_err *err)
{
	pthread_mutex_lock(&c->mu);
	int rc = 0;
	double now = clock_now_ms();
	if (c->reading && now - c->read_t0 >= ENG_CACHE_BATCH_MS)
		read_end(c);
	if (c->n_pend && now - c->pend_t0 >= ENG_CACHE_BATCH_MS)
		rc = flush_locked(c, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int eng_cache_close(struct eng_cache *c, struct se_err *err)
{
	if (!c)
		return 0;
	pthread_mutex_lock(&c->mu);
	read_end(c);
	int rc = flush_locked(c, err);
	pthread_mutex_unlock(&c->mu);
	cache_free(c);
	return rc;
}

static int bad_key(struct eng_cache *c, const struct eng_cache_key *k, struct se_err *err)
{
	return se_fail(err, SE_INPUT, c->path,
		       "a cache key must be 64 lowercase hex digits and a sample index from 0, "
		       "got \"%.70s\", %ld",
		       k->req, k->sample);
}

/* A store's costly parts, done before the handle's mutex is taken (a load
 * on the loop's thread never waits for them): the text's checksum and its
 * zstd frame (kept only when smaller). */
struct packed {
	int64_t sum;
	char *z;
	size_t zlen;
};

static void pack(struct eng_cache *c, const char *body, size_t len, struct packed *pk)
{
	pk->sum = body_sum(body, len);
	size_t bound = ZSTD_compressBound(len);
	pk->z = xmalloc(bound);
	pthread_mutex_lock(&c->zmu);
	size_t z = ZSTD_compress2(c->cz, pk->z, bound, body, len);
	pthread_mutex_unlock(&c->zmu);
	if (ZSTD_isError(z) || z >= len) {
		free(pk->z);
		pk->z = NULL;
		z = 0;
	}
	pk->zlen = z;
}

/* Takes pk's frame (freed here on a failure). */
static int store_locked(struct eng_cache *c, const struct eng_cache_key *k,
			const struct eng_cache_entry *e, const char *body, size_t len,
			struct packed *pk, struct se_err *err)
{
	struct pend p = {
	    .sample = k->sample, .e = *e, .sum = pk->sum, .len = len, .z = pk->z, .zlen = pk->zlen};
	pk->z = NULL;
	if (c->ro) {
		free(p.z);
		return se_fail(err, SE_INPUT, c->path, "the cache was opened read-only");
	}
	if (!req_bytes(k->req, p.req) || k->sample < 0) {
		free(p.z);
		return bad_key(c, k, err);
	}
	p.url = xstrdup(k->url ? k->url : "");
	p.model = xstrdup(k->model ? k->model : "");
	p.body = xmalloc(len ? len : 1);
	memcpy(p.body, body, len);
	if (c->n_pend == c->cap_pend) {
		c->cap_pend = c->cap_pend ? 2 * c->cap_pend : 16;
		c->pend = xrealloc(c->pend, c->cap_pend * sizeof(*c->pend));
	}
	if (c->n_pend == 0)
		c->pend_t0 = clock_now_ms();
	c->pend[c->n_pend++] = p;
	c->pend_bytes += len;
	if (c->n_pend >= ENG_CACHE_BATCH || c->pend_bytes >= ENG_CACHE_BATCH_BYTES ||
	    clock_now_ms() - c->pend_t0 >= ENG_CACHE_BATCH_MS)
		return flush_locked(c, err);
	return 0;
}

int eng_cache_store(struct eng_cache *c, const struct eng_cache_key *k,
		    const struct eng_cache_entry *e, const char *body, size_t len,
		    struct se_err *err)
{
	struct packed pk;
	pack(c, body, len, &pk); /* outside the lock: the costly part */
	pthread_mutex_lock(&c->mu);
	int rc = store_locked(c, k, e, body, len, &pk, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

bool eng_cache_ms_ok(double v)
{
	return isnan(v) || (v >= 0 && v <= RES_MAX_MS);
}

/* A REAL column that may be NULL: false when it holds text or a blob. */
static bool col_num(sqlite3_stmt *st, int i, double *v)
{
	int t = sqlite3_column_type(st, i);
	*v = t == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
	return t == SQLITE_NULL || t == SQLITE_FLOAT || t == SQLITE_INTEGER;
}

static int damaged_entry(struct eng_cache *c, const struct eng_cache_key *k, const char *what,
			 struct se_err *err)
{
	se_fail(err, SE_INPUT, c->path,
		"damaged cache entry (request %.16s..., sample %ld, model \"%s\"): %s; run with "
		"--cache refresh to replace it",
		k->req, k->sample, k->model ? k->model : "", what);
	return ENG_CACHE_BAD_ENTRY;
}

/* A row of get or of an each query, columns from `at`: stream, latency,
 * ttft, sum, body, zsize; the text (uncompressed into zbuf when zsize says
 * so) is checked against its sum. */
static int read_row(struct eng_cache *c, sqlite3_stmt *st, int at, const struct eng_cache_key *k,
		    struct eng_cache_entry *e, const char **body, size_t *len, struct se_err *err)
{
	int stream = sqlite3_column_int(st, at);
	int bt = sqlite3_column_type(st, at + 4);
	double lat, ttft;
	if (sqlite3_column_type(st, at) != SQLITE_INTEGER || (stream != 0 && stream != 1) ||
	    (bt != SQLITE_BLOB && bt != SQLITE_TEXT) || !col_num(st, at + 1, &lat) ||
	    !col_num(st, at + 2, &ttft))
		return damaged_entry(c, k, "its fields have the wrong types", err);
	if (!eng_cache_ms_ok(lat) || !eng_cache_ms_ok(ttft)) {
		char what[160];
		snprintf(what, sizeof(what),
			 "%s %g is out of range (expected a number from 0 to %.0f, or null)",
			 eng_cache_ms_ok(lat) ? "ttft_ms" : "latency_ms",
			 eng_cache_ms_ok(lat) ? ttft : lat, RES_MAX_MS);
		return damaged_entry(c, k, what, err);
	}
	const void *b = sqlite3_column_blob(st, at + 4);
	size_t n = (size_t)sqlite3_column_bytes(st, at + 4);
	if (!b && n > 0) /* out of memory while reading it */
		return db_fail(c, err, SQLITE_NOMEM, "reading the cache"), ENG_CACHE_FAILED;
	if (!b)
		b = "";
	if (sqlite3_column_type(st, at + 5) != SQLITE_NULL) {
		sqlite3_int64 size = sqlite3_column_int64(st, at + 5);
		if (size < 0 || size > (sqlite3_int64)FIO_MAX_CACHE_ENTRY)
			return damaged_entry(c, k, "its text size is out of range", err);
		buf_reset(&c->zbuf);
		buf_reserve(&c->zbuf, (size_t)size + 1);
		size_t got = ZSTD_decompressDCtx(c->dz, c->zbuf.data, (size_t)size, b, n);
		if (ZSTD_isError(got) || got != (size_t)size)
			return damaged_entry(c, k, "its compressed text cannot be read", err);
		b = c->zbuf.data;
		n = got;
	}
	if (body_sum(b, n) != sqlite3_column_int64(st, at + 3))
		return damaged_entry(c, k, "its checksum does not match its text", err);
	e->stream = stream == 1;
	e->latency_ms = lat;
	e->ttft_ms = ttft;
	*body = b;
	*len = n;
	return ENG_CACHE_HIT;
}

/* The newest batched store of the key, or NULL. */
static const struct pend *pend_find(const struct eng_cache *c, const unsigned char req[32],
				    long sample)
{
	for (size_t i = c->n_pend; i-- > 0;)
		if (c->pend[i].sample == sample && !memcmp(c->pend[i].req, req, 32))
			return &c->pend[i];
	return NULL;
}

/* Like eng_cache_load, with the text handed out (valid until the next call
 * on the handle) instead of copied. */
static int load_locked(struct eng_cache *c, const struct eng_cache_key *k,
		       struct eng_cache_entry *e, const char **body, size_t *len,
		       struct se_err *err)
{
	unsigned char req[32];
	if (!req_bytes(k->req, req) || k->sample < 0) {
		bad_key(c, k, err);
		return ENG_CACHE_FAILED;
	}
	if (c->empty)
		return ENG_CACHE_MISS;
	const struct pend *p = pend_find(c, req, k->sample);
	if (p) {
		*e = p->e;
		*body = p->body;
		*len = p->len;
		return ENG_CACHE_HIT;
	}
	read_begin(c);
	sqlite3_stmt *st = c->get;
	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, req, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, k->sample);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return ENG_CACHE_MISS;
	}
	if (rc != SQLITE_ROW) {
		db_fail(c, err, rc, "reading the cache");
		sqlite3_reset(st);
		return ENG_CACHE_FAILED;
	}
	return read_row(c, st, 0, k, e, body, len, err);
}

int eng_cache_load(struct eng_cache *c, const struct eng_cache_key *k, struct eng_cache_entry *e,
		   struct buf *body, struct se_err *err)
{
	pthread_mutex_lock(&c->mu);
	const char *b = NULL;
	size_t n = 0;
	int r = load_locked(c, k, e, &b, &n, err);
	if (r == ENG_CACHE_HIT)
		buf_append(body, b, n);
	sqlite3_reset(c->get);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int eng_cache_add(struct eng_cache *c, const struct eng_cache_key *k,
		  const struct eng_cache_entry *e, const char *body, size_t len, struct se_err *err)
{
	struct packed pk;
	pack(c, body, len, &pk);
	pthread_mutex_lock(&c->mu);
	struct eng_cache_entry old;
	const char *b = NULL;
	size_t n = 0;
	int r = load_locked(c, k, &old, &b, &n, err);
	if (r == ENG_CACHE_HIT)
		r = n == len && !memcmp(b, body, len) && old.stream == e->stream
			? ENG_CACHE_SAME
			: ENG_CACHE_CONFLICT;
	else if (r == ENG_CACHE_MISS)
		r = store_locked(c, k, e, body, len, &pk, err) ? -1 : ENG_CACHE_ADDED;
	else
		r = -1;
	free(pk.z); /* not stored */
	sqlite3_reset(c->get);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* A query over the whole cache (each, stats), one call of row per row:
 * the pending writes are flushed first, so that it sees them. Stops at the
 * first row that returns nonzero, and returns that. Called with the lock
 * held. */
static int scan_rows(struct eng_cache *c, const char *sql,
		     int (*row)(struct eng_cache *c, sqlite3_stmt *st, void *ctx,
				struct se_err *err),
		     void *ctx, struct se_err *err)
{
	read_end(c);
	if (flush_locked(c, err))
		return -1;
	if (c->empty)
		return 0;
	sqlite3_stmt *st = NULL;
	int rc = prepare(c, &st, sql, err);
	while (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW)
			rc = db_fail(c, err, s, "reading the cache");
		else
			rc = row(c, st, ctx, err);
	}
	sqlite3_finalize(st);
	return rc;
}

struct each_ctx {
	eng_cache_each_fn fn;
	void *ctx;
};

static int each_row(struct eng_cache *c, sqlite3_stmt *st, void *ctx, struct se_err *err)
{
	const struct each_ctx *x = ctx;
	char hex[65] = "";
	if (sqlite3_column_bytes(st, 0) == 32)
		req_hex(sqlite3_column_blob(st, 0), hex);
	struct eng_cache_key k = {(const char *)sqlite3_column_text(st, 2),
				  (const char *)sqlite3_column_text(st, 3), hex,
				  (long)sqlite3_column_int64(st, 1)};
	if (!hex[0] || !k.url || !k.model)
		return damaged_entry(c, &k, "its key has the wrong type", err);
	struct eng_cache_entry e;
	const char *b;
	size_t n;
	if (read_row(c, st, 4, &k, &e, &b, &n, err) != ENG_CACHE_HIT)
		return -1;
	return x->fn(x->ctx, &k, &e, b, n, err);
}

int eng_cache_each(struct eng_cache *c, eng_cache_each_fn fn, void *ctx, struct se_err *err)
{
	struct each_ctx x = {fn, ctx};
	pthread_mutex_lock(&c->mu);
	int rc =
	    scan_rows(c,
		      c->v1 ? "SELECT r.req, r.sample, s.url, s.model, r.stream, r.latency_ms, "
			      "r.ttft_ms, r.sum, r.body, NULL FROM responses r JOIN sources s "
			      "ON s.id = r.source ORDER BY r.req, r.sample"
			    : "SELECT r.req, r.sample, s.url, s.model, r.stream, r.latency_ms, "
			      "r.ttft_ms, r.sum, r.body, r.zsize FROM responses r JOIN sources "
			      "s ON s.id = r.source ORDER BY r.req, r.sample",
		      each_row, &x, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* ---- stats -------------------------------------------------------------- */

static long long file_size(const char *path, const char *suffix)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	struct stat sb;
	return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

struct stats_ctx {
	struct eng_cache_stats *s;
	size_t cap;
};

/* One row per source: its entries and their bytes. */
static int stats_row(struct eng_cache *c, sqlite3_stmt *st, void *ctx, struct se_err *err)
{
	(void)c;
	(void)err;
	struct stats_ctx *x = ctx;
	struct eng_cache_stats *s = x->s;
	if (s->n_sources == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		s->sources = xrealloc(s->sources, x->cap * sizeof(*s->sources));
	}
	const char *url = (const char *)sqlite3_column_text(st, 0);
	const char *model = (const char *)sqlite3_column_text(st, 1);
	struct eng_cache_source_stats *o = &s->sources[s->n_sources++];
	o->url = xstrdup(url ? url : "");
	o->model = xstrdup(model ? model : "");
	o->entries = sqlite3_column_int64(st, 2);
	o->bytes = sqlite3_column_int64(st, 3);
	s->entries += o->entries;
	s->bytes += o->bytes;
	return 0;
}

int eng_cache_stats(struct eng_cache *c, struct eng_cache_stats *s, struct se_err *err)
{
	memset(s, 0, sizeof(*s));
	struct stats_ctx x = {s, 0};
	pthread_mutex_lock(&c->mu);
	int rc =
	    scan_rows(c,
		      c->v1 ? "SELECT s.url, s.model, count(*), sum(length(r.body)) FROM "
			      "responses r JOIN sources s ON s.id = r.source GROUP BY r.source "
			      "ORDER BY s.model, s.url"
			    : "SELECT s.url, s.model, count(*), sum(coalesce(r.zsize, "
			      "length(r.body))) FROM responses r JOIN sources s ON s.id = "
			      "r.source GROUP BY r.source ORDER BY s.model, s.url",
		      stats_row, &x, err);
	sqlite3_stmt *st = NULL;
	if (!rc)
		rc = prepare(c, &st, "PRAGMA quick_check", err);
	if (!rc) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			snprintf(s->check, sizeof(s->check), "%s",
				 (const char *)sqlite3_column_text(st, 0));
		else
			rc = db_fail(c, err, r, "checking the cache");
	}
	sqlite3_finalize(st);
	s->file_bytes =
	    file_size(c->path, "") + file_size(c->path, "-wal") + file_size(c->path, "-shm");
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void eng_cache_stats_free(struct eng_cache_stats *s)
{
	for (size_t i = 0; i < s->n_sources; i++) {
		free(s->sources[i].url);
		free(s->sources[i].model);
	}
	free(s->sources);
	s->sources = NULL;
	s->n_sources = 0;
}
