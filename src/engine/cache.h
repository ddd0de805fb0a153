/* cache.h: the engine's response cache on disk (private to src/engine/).
 *
 * One file per key, DIR/<first 2 hex>/<sha256>.json, written atomically,
 * holding {"status":200,"stream":bool,"latency_ms":..,"ttft_ms":..,"body":..}
 * where body is the raw response text (the JSON body, or the whole SSE text
 * of a stream). Only ok responses are stored. Keys come from eng_cache_key,
 * which hashes (URL, model, body) and never headers, so no API key can reach
 * a cache file.
 */
#ifndef SE_ENGINE_CACHE_H
#define SE_ENGINE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct eng_cache_entry {
	bool stream;
	double latency_ms; /* NAN when unknown */
	double ttft_ms;	   /* NAN when unknown */
};

/* Returns 1 on a hit (the raw body appended to body), 0 on a miss (no
 * file), -1 for a file that is there but corrupt (unreadable, not JSON, not
 * an ok entry): the caller says so rather than "miss". */
int eng_cache_load(const char *dir, const char key[65], struct eng_cache_entry *e,
		   struct buf *body);
/* DIR/<first 2 hex>/<key>.json, malloc'd: for messages. */
char *eng_cache_path(const char *dir, const char key[65]);
int eng_cache_store(const char *dir, const char key[65], const struct eng_cache_entry *e,
		    const char *body, size_t len, struct se_err *err);

#endif
