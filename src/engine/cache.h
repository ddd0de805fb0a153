/* cache.h: the response cache, one SQLite database per cache folder.
 *
 * DIR/cache.sqlite (WAL mode, so DIR/cache.sqlite-wal and -shm beside it
 * while it is open) holds one row per key:
 *   key    (req, sample): req is eng_cache_key's SHA-256 over (endpoint URL,
 *          model, request body), sample the request's sample index (0 unless
 *          an item is asked several times); the URL and model are kept beside
 *          it (table sources) for `cache stats` and bundles
 *   value  stream flag, latency_ms, ttft_ms, the raw response text (the JSON
 *          body, or the whole SSE text of a stream; zstd-compressed, with its
 *          length in zsize, when that is smaller) and a checksum of the text
 *          (the first 64 bits of its SHA-256), verified on every load.
 * Only ok responses are stored. Headers never enter a key or a value, so no
 * API key can reach the database (the engine redacts echoed ones first).
 *
 * Writes are batched: stores go to an in-memory batch (visible to this
 * handle's loads at once) that is written in one transaction when it holds
 * ENG_CACHE_BATCH entries or ENG_CACHE_BATCH_BYTES bytes, when its oldest
 * entry is ENG_CACHE_BATCH_MS old (checked on each store and on
 * eng_cache_tick), and on eng_cache_flush / eng_cache_close. A write
 * transaction lasts only as long as writing one batch, so several processes
 * (the shards of one job) share a folder: readers never wait (WAL), writers
 * wait for each other up to ENG_CACHE_BUSY_MS. Loads share one read
 * transaction for up to 1024 loads or ENG_CACHE_BATCH_MS (one lock, not two
 * per load), so a load sees another process's writes at most that late;
 * eng_cache_flush ends it at once.
 *
 * Crash contract: a process killed without eng_cache_close loses at most its
 * unwritten batch; a transaction is whole or absent, never torn, and SQLite
 * recovers the database on the next open. A damaged database (a failed read,
 * SQLITE_CORRUPT / SQLITE_NOTADB) or entry (checksum mismatch) is reported,
 * never served: see eng_cache_load.
 *
 * Threading contract: a handle may be used from any thread, and from several
 * at once (the engine's loop loads, a worker thread may store): every call
 * takes the handle's mutex. One handle per process and folder is enough;
 * after fork(), a child opens its own handle (never one inherited).
 *
 * Ownership: eng_cache_open returns a handle that eng_cache_close frees;
 * store copies what it is given.
 *
 * Folders in the old layout (one DIR/<2 hex>/<key>.json file per key) are
 * read once by eng_cache_open, moved into the database and removed; entries
 * that cannot be read stay where they are, and the note says so.
 */
#ifndef SE_ENGINE_CACHE_H
#define SE_ENGINE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

#define ENG_CACHE_FILE "cache.sqlite"
#define ENG_CACHE_DIR_DEFAULT ".shadoweval-cache" /* --cache-dir's default */
#define ENG_CACHE_BATCH 256
#define ENG_CACHE_BATCH_BYTES (8u << 20)
#define ENG_CACHE_BATCH_MS 1000.0
#define ENG_CACHE_BUSY_MS 30000

struct eng_cache;

struct eng_cache_key {
	const char *url;   /* the endpoint's base URL ("" when unknown) */
	const char *model; /* the model id asked ("" when unknown) */
	const char *req;   /* 64 hex digits: eng_cache_key(url, model, body) */
	long sample;	   /* 0..; the n-th answer to the same request */
};

struct eng_cache_entry {
	bool stream;
	double latency_ms; /* NAN when unknown */
	double ttft_ms;	   /* NAN when unknown */
};

/* A latency or time to first token the cache takes: NAN (unknown), or a
 * number from 0 to RES_MAX_MS (results/results.h: the range results.jsonl
 * accepts). Every reader of cache entries (a database row, a bundle line,
 * an old-layout file) treats anything else as damage. */
bool eng_cache_ms_ok(double v);

/* eng_cache_load's results */
enum {
	ENG_CACHE_FAILED = -2,	  /* the database failed (damaged, locked, I/O): err says */
	ENG_CACHE_BAD_ENTRY = -1, /* the entry is there but damaged: err says */
	ENG_CACHE_MISS = 0,
	ENG_CACHE_HIT = 1,
};

/* Opens (create: creating when absent, folder included) DIR's database and
 * migrates an old-layout folder, writing one line about it to note (when
 * not NULL). Without create, a folder without a database is SE_INPUT. A
 * damaged or foreign file is SE_INPUT naming it and how to rebuild it; so
 * is DIR/cache.sqlite, -wal or -shm that is not a regular file (a FIFO, a
 * device, a folder), refused before SQLite opens it. */
int eng_cache_open(struct eng_cache **out, const char *dir, bool create, FILE *note,
		   struct se_err *err);
/* The same without create, for the commands that only read (stats,
 * export): the file is opened read-only (SQLITE_OPEN_READONLY) and never
 * written: a file without a schema (an empty one) is an empty cache, a
 * version 1 schema is read as it is. Only an old-layout folder to move in
 * makes it a writer, as eng_cache_open. Stores on such a handle fail. */
int eng_cache_open_readonly(struct eng_cache **out, const char *dir, FILE *note,
			    struct se_err *err);
/* Writes what is batched and frees the handle (NULL is fine). -1 when the
 * batch could not be written; the handle is freed either way. */
int eng_cache_close(struct eng_cache *c, struct se_err *err);
/* DIR/cache.sqlite: for messages. */
const char *eng_cache_db_path(const struct eng_cache *c);

/* ENG_CACHE_HIT with the raw text appended to body, ENG_CACHE_MISS, or
 * ENG_CACHE_BAD_ENTRY / ENG_CACHE_FAILED with err filled. */
int eng_cache_load(struct eng_cache *c, const struct eng_cache_key *k, struct eng_cache_entry *e,
		   struct buf *body, struct se_err *err);
/* Adds or replaces the entry (batched, see above). -1 when a batch write
 * failed. */
int eng_cache_store(struct eng_cache *c, const struct eng_cache_key *k,
		    const struct eng_cache_entry *e, const char *body, size_t len,
		    struct se_err *err);
/* Writes the batch when its time bound has passed (call it now and then). */
int eng_cache_tick(struct eng_cache *c, struct se_err *err);
/* Writes the batch now, and ends the read transaction: the next load sees
 * every write committed so far, by any process. */
int eng_cache_flush(struct eng_cache *c, struct se_err *err);

/* eng_cache_add's results */
enum { ENG_CACHE_ADDED = 1, ENG_CACHE_SAME = 0, ENG_CACHE_CONFLICT = 2 };
/* For bundles: stores the entry unless the key is there already; then
 * ENG_CACHE_SAME (same text) or ENG_CACHE_CONFLICT (another text, kept). -1
 * on a failure (a damaged existing entry included). */
int eng_cache_add(struct eng_cache *c, const struct eng_cache_key *k,
		  const struct eng_cache_entry *e, const char *body, size_t len,
		  struct se_err *err);

/* Every entry in key order, checksums verified (a damaged one is an error
 * naming it). fn returns nonzero to stop (that value is returned). */
typedef int (*eng_cache_each_fn)(void *ctx, const struct eng_cache_key *k,
				 const struct eng_cache_entry *e, const char *body, size_t len,
				 struct se_err *err);
int eng_cache_each(struct eng_cache *c, eng_cache_each_fn fn, void *ctx, struct se_err *err);

struct eng_cache_source_stats {
	char *url;
	char *model;
	long long entries;
	long long bytes; /* response text */
};
struct eng_cache_stats {
	long long entries;
	long long bytes;      /* response text, all entries */
	long long file_bytes; /* the database, its WAL and shared-memory files */
	struct eng_cache_source_stats *sources;
	size_t n_sources;
	char check[256]; /* "ok", or what SQLite's quick_check found */
};
/* Counts per (URL, model), and runs SQLite's quick_check (reads every page). */
int eng_cache_stats(struct eng_cache *c, struct eng_cache_stats *st, struct se_err *err);
void eng_cache_stats_free(struct eng_cache_stats *st);

/* cache_legacy.c, for eng_cache_open: whether DIR holds old-layout
 * folders (DIR/<2 hex>/), and moving their entries into the database. */
bool eng_cache_legacy_present(const char *dir);
int eng_cache_migrate(struct eng_cache *c, const char *dir, FILE *note, struct se_err *err);

#endif
