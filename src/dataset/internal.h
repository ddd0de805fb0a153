/* internal.h: the dataset reader's state, shared by dataset.c (open, items,
 * JSONL, ids, expected answers) and csv.c (CSV records). Not a public header:
 * other rooms include dataset/dataset.h only.
 */
#ifndef SE_DATASET_INTERNAL_H
#define SE_DATASET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <csv.h>
#include <pcre2.h>

#include "core/buf.h"
#include "core/lines.h"
#include "core/sha256.h"
#include "dataset/dataset.h"
#include "dataset/ds_ids.h"

enum ds_format { DS_JSONL, DS_CSV };

struct ds_csv {
	struct csv_parser p;
	bool p_init;
	char **header; /* column names */
	size_t n_header;
	/* The record being assembled: fields NUL-separated in data. */
	struct buf data;
	size_t *off;
	size_t *len;
	size_t n, cap;
	bool done;	   /* a whole record is waiting in data */
	bool in_record;	   /* the parser is inside a record that spans lines */
	size_t start_line; /* first physical line of the record */
	size_t rec_bytes;  /* bytes fed since the record started */
	size_t records;	   /* data records seen (header not counted) */
	bool finished;	   /* csv_fini was called at the end of the file */
};

struct ds_reader {
	char *path; /* as given: errors name it */
	enum ds_format format;
	bool require_prompt;
	char *expected_field;
	char *expected_regex;
	pcre2_code *re;
	pcre2_match_data *md;

	FILE *fp;
	long long size;	   /* of the file at open, -1 when unknown (a pipe) */
	struct sha256 sha; /* of every byte read from fp, unless no_hash */
	bool no_hash;
	long long bytes;    /* read from fp */
	struct lines lines; /* lines.line: the current physical line, '\n' included */
	size_t lineno;	    /* 1-based number of the current line */
	size_t index;	    /* items returned so far */

	struct ds_ids ids; /* fingerprints of the ids seen (ds_ids.h) */
	bool no_ids;	   /* a re-check reader: no duplicate check */

	struct ds_csv csv;
};

/* Reads the next physical line into r->line (with its '\n', if any).
 * Returns 1, 0 at the end of the file, -1 on a read error or a line longer
 * than DS_MAX_LINE. */
int ds_read_line(struct ds_reader *r, struct se_err *err);
/* Fails with "invalid UTF-8 at byte N" (1-based within the line) when s is
 * not valid UTF-8; `col0` is added to N (bytes stripped before s). */
int ds_check_utf8(const struct ds_reader *r, const char *s, size_t n, size_t col0,
		  struct se_err *err);
/* Turns a parsed object into an item (takes obj): checks prompt/messages, id,
 * task, duplicate ids, and extracts the expected answers. */
int ds_item_from_obj(struct ds_reader *r, struct cJSON *obj, size_t line, size_t number,
		     struct ds_item *item, struct se_err *err);
/* Parses n bytes of JSON text (s[n] must be '\0'); NULL on failure with the
 * 1-based column of the error in *col. */
struct cJSON *ds_parse_json(const char *s, size_t n, size_t *col);

int ds_csv_open(struct ds_reader *r, struct se_err *err);
int ds_csv_next(struct ds_reader *r, struct ds_item *item, struct se_err *err);
void ds_csv_free(struct ds_reader *r);

#endif
