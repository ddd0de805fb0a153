/* dataset.h: reading eval items from JSONL or CSV as a stream.
 *
 * One item at a time: memory follows the longest line (bounded by
 * DS_MAX_LINE), never the file's size. JSONL is read with getline into one
 * reused buffer; CSV (RFC 4180 with a header row, quoted newlines, CRLF, a
 * UTF-8 BOM) is fed to libcsv in fread chunks.
 *
 * Each item is a JSON object (a cJSON tree): for JSONL the line itself, for
 * CSV the header's columns as string fields (a column named "metadata" or
 * "messages" holding JSON text is parsed; columns "metadata.KEY" fill the
 * metadata object). Known fields: id (else the 1-based line or record number,
 * as a string), task (else ""), prompt or messages, expected (string or list
 * of strings; or taken from the field and regex of cfg_dataset), metadata.
 *
 * Errors name "file:line" (and ":col" for CSV where known) and what is wrong:
 * invalid JSON, not an object, missing prompt and messages, duplicate id,
 * undecodable UTF-8, a line longer than DS_MAX_LINE.
 *
 * Duplicate ids are found with a set of 64-bit id hashes: 8 bytes per item,
 * the only per-item memory the reader keeps.
 */
#ifndef SE_DATASET_H
#define SE_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cJSON;
struct cfg_dataset;

#define DS_MAX_LINE (16u << 20) /* 16 MiB */

struct ds_item {
	size_t line;        /* 1-based line (JSONL) or first line of the record (CSV) */
	size_t index;       /* 0-based position in the dataset */
	const char *id;     /* owned by obj or by the item */
	const char *task;   /* "" when absent */
	struct cJSON *obj;  /* the whole item */
	const char **expected; /* n_expected strings (owned by the item) */
	size_t n_expected;
	/* private */
	char *id_buf;
	char **expected_buf;
};

struct ds_reader;

/* Opens the dataset described by ds (path, format, expected field/regex). */
int ds_open(struct ds_reader **out, const struct cfg_dataset *ds, struct se_err *err);
/* Reads the next item into *item (clearing what it held). Returns 1 for an
 * item, 0 at the end, -1 on error (err says file:line). */
int ds_next(struct ds_reader *r, struct ds_item *item, struct se_err *err);
void ds_item_clear(struct ds_item *item);
void ds_close(struct ds_reader *r);

/* Feeds the bytes read so far into a running SHA-256 (for the manifest). */
void ds_sha256_hex(struct ds_reader *r, char hex[65]);

/* Field lookup for templates and metadata rules: "name" looks in the item,
 * then in item.metadata; "metadata.key" looks in metadata. Strings are
 * returned as is, numbers and booleans rendered into *tmp; NULL when absent. */
const char *ds_field(const struct ds_item *item, const char *name, char *tmp, size_t tmp_size);

#endif
