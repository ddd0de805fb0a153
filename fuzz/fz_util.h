/* fz_util.h: what the libFuzzer targets in fuzz/ share.
 *
 * The readers under test take a path (config, datasets, results.jsonl), so a
 * target writes each input to a file in a private temporary folder made once
 * per process and removed at exit. Targets are built by `make fuzz` and run
 * briefly by `make fuzz-smoke` (see fuzz/README.md).
 */
#ifndef FZ_UTIL_H
#define FZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to <tmpdir>/name (replacing it) and returns the path, valid
 * until the next call with the same name. Aborts on an I/O error: a fuzz
 * run that cannot write its input must not look like a pass. */
const char *fz_write(const char *name, const uint8_t *data, size_t size);

/* A NUL-terminated malloc'd copy of data (the caller frees). */
char *fz_strndup(const uint8_t *data, size_t size);

#endif
