/* dataset.h: reading eval items from JSONL or CSV as a stream.
 *
 * One item at a time: memory follows the longest line (bounded by
 * DS_MAX_LINE), never the file's size. The file is read in fread chunks and
 * split into lines in one reused buffer (getline, but with the length limit
 * checked before the memory is taken). JSONL: one item per line, blank lines
 * skipped. CSV (RFC 4180 with a header row, quoted newlines, CRLF or LF, a
 * UTF-8 BOM) is fed to libcsv one physical line at a time, so errors know
 * their line (and column, for a stray quote).
 *
 * Each item is a JSON object (a cJSON tree): for JSONL the line itself, for
 * CSV the header's columns as string fields (a column named "metadata" or
 * "messages" holding JSON text is parsed; columns "metadata.KEY" fill the
 * metadata object; empty id, task, metadata, messages and expected cells are
 * absent; an expected cell holding a JSON array of strings is a list). Known
 * fields: id (a string, or a number rendered as text; else the 1-based line
 * number for JSONL, the 1-based record number for CSV), task (else ""),
 * prompt or messages (one of them required, unless a template builds the
 * prompt: see ds_open_cfg), expected (string, number or list of them; read
 * from cfg_dataset.expected_field, default "expected", and when
 * expected_regex is set, capture group 1 of its match is the one answer; a
 * missing field means no expected answers), metadata (an object).
 *
 * Errors name "file:line" (and ":col" for CSV where known) and what is wrong:
 * invalid JSON, not an object, missing prompt and messages, duplicate id,
 * undecodable UTF-8, a line longer than DS_MAX_LINE.
 *
 * Duplicate ids are found in the one streaming pass with 64-bit fingerprints
 * of the ids (ds_ids.h: about 8 bytes per item, the only per-item memory the
 * reader keeps); a fingerprint seen before is re-checked exactly by reading
 * the file again up to that line, which also finds the first line to name.
 *
 * Ownership: the reader owns its buffers (ds_close); an item owns its object,
 * id and expected strings until the next ds_next or ds_item_clear. An item
 * must start zeroed (struct ds_item it = {0}).
 */
#ifndef SE_DATASET_H
#define SE_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cJSON;
struct cfg;
struct cfg_dataset;

#define DS_MAX_LINE (16u << 20) /* 16 MiB */

struct ds_item {
	size_t line;	       /* 1-based line (JSONL) or first line of the record (CSV) */
	size_t index;	       /* 0-based position in the dataset */
	const char *id;	       /* owned by obj or by the item */
	const char *task;      /* "" when absent */
	struct cJSON *obj;     /* the whole item */
	const char **expected; /* n_expected strings (owned by the item) */
	size_t n_expected;
	/* private */
	char *id_buf;
	char **expected_buf;
};

struct ds_reader;

/* Opens the dataset described by ds (path, format, expected field/regex).
 * format NULL: "csv" for a .csv path, else "jsonl". A CSV header is read
 * here. A missing file is SE_IO, anything else SE_INPUT. Items must have a
 * prompt or messages. */
int ds_open(struct ds_reader **out, const struct cfg_dataset *ds, struct se_err *err);
/* ds_open for an eval: with a prompt template configured, items need no
 * prompt or messages field (the template builds the prompt). */
int ds_open_cfg(struct ds_reader **out, const struct cfg *cfg, struct se_err *err);
/* Whether items must have a prompt or messages (true after ds_open). */
void ds_set_require_prompt(struct ds_reader *r, bool require);
/* Reads the next item into *item (clearing what it held). Returns 1 for an
 * item, 0 at the end, -1 on error (err says file:line). */
int ds_next(struct ds_reader *r, struct ds_item *item, struct se_err *err);
void ds_item_clear(struct ds_item *item);
void ds_close(struct ds_reader *r);

/* How much of the file the items returned so far cover, 0..1 (by bytes),
 * or -1 when the size is unknown (not a regular file). For progress
 * estimates only. */
double ds_fraction_read(const struct ds_reader *r);

/* SHA-256 of the bytes read from the file so far (read ahead in chunks): the
 * whole file's once ds_next has returned 0. Reading may go on afterwards. */
void ds_sha256_hex(struct ds_reader *r, char hex[65]);
/* Stops hashing, right after ds_open, for a reader whose caller hashed the
 * file already (`run`): ds_sha256_hex is then not to be called. */
void ds_no_hash(struct ds_reader *r);

/* Field lookup for templates and metadata rules: "name" looks in the item,
 * then in item.metadata; "metadata.key" looks in metadata. Strings are
 * returned as is, numbers and booleans rendered into *tmp; NULL when absent. */
const char *ds_field(const struct ds_item *item, const char *name, char *tmp, size_t tmp_size);

#endif
