/* cache_bundle.h: response-cache bundles, the form a cache travels in (a CI
 * artifact, a file to commit): zstd-compressed JSON lines.
 *
 * Line 1: {"format":"shadoweval-cache-bundle","version":1}
 * Then one line per entry, in key order (so the same cache gives the same
 * bundle): {"url","model","req" (64 hex),"sample","stream","latency_ms",
 * "ttft_ms","sha256" (of the text),"body"} where body is the response text
 * as a JSON string; a text that is not valid UTF-8 or holds a NUL byte is
 * "body_hex" instead. Headers were never in the cache, so no API key is.
 *
 * Import never replaces: a key that is already there keeps its entry; the
 * same text counts as unchanged, another text as a conflict (reported, the
 * cache's entry kept). So importing twice changes nothing. A bundle line
 * that is not an entry, or whose text does not match its sha256, is SE_INPUT
 * naming BUNDLE:LINE; nothing after it is taken in (what came before is).
 */
#ifndef SE_ENGINE_CACHE_BUNDLE_H
#define SE_ENGINE_CACHE_BUNDLE_H

#include <stdio.h>

#include "core/err.h"
#include "engine/cache.h"

struct eng_bundle_counts {
	long long added;
	long long same;
	long long conflicts;
	long long bytes;   /* decompressed bytes read */
	long long scanned; /* of them, searched for a line end: each once (a
			    * linear read; tests hold it to that) */
};

/* Writes every entry of c to path (replaced atomically); *n: entries. */
int eng_bundle_export(struct eng_cache *c, const char *path, long long *n, struct se_err *err);
/* Takes the bundle at path into c, adding to *counts; the first conflicts
 * are described on note (when not NULL), one line each. */
int eng_bundle_import(struct eng_cache *c, const char *path, struct eng_bundle_counts *counts,
		      FILE *note, struct se_err *err);
/* Joins bundles into one at out (a temporary cache beside it, removed):
 * the first bundle holding a key gives its entry; conflicts as import. */
int eng_bundle_merge(const char *out, char *const *in, size_t n_in,
		     struct eng_bundle_counts *counts, FILE *note, struct se_err *err);

#endif
