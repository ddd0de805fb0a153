/* res_int.h: inside src/results/ only: the field table of a results line,
 * shared by the full parse (results.c) and the fast path (res_fast.c), so
 * both check the same fields with the same kinds and ranges. */
#ifndef SE_RES_INT_H
#define SE_RES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "results/results.h"

/* How a field is checked. Absent and null mean "unknown" (the default)
 * except for F_REQ fields. */
enum fkind { F_STR, F_REQ, F_INT, F_NUM, F_BOOL, F_OBJ, F_ROLE, F_STATUS, F_COST, F_PAIRWISE };

struct res_field {
	const char *key;
	enum fkind kind;
	double lo, hi; /* F_INT, F_NUM: the range, inclusive */
	size_t off;    /* into struct res_rec */
};

/* In the writer's order (res_format), so a line of ours matches at the
 * cursor and costs one comparison per field. */
extern const struct res_field res_field_table[];
extern const size_t res_nfields; /* at most 32: one bit each in a uint32_t */

/* Stores a checked number of an F_INT or F_NUM field into r. */
void res_field_store(const struct res_field *f, struct res_rec *r, double d);

/* The keys as a line of ours writes them ("item_id":), matched at the
 * cursor in one comparison. */
struct res_keys {
	char pat[32][32];
	unsigned char len[32]; /* 0: not matched this way */
	uint32_t required;     /* the fields a line must have, one bit each */
};
void res_keys_init(struct res_keys *k);

/* The fast path for one line (without its newline): 0 when it read the
 * whole line and filled rec exactly as the full parse would (every field
 * checked; strings: item_id, model and the wanted ones, copied with a NUL
 * into scratch, which must have room for len + res_nfields bytes); 1 when
 * the line needs the full parse (anything unusual, and every bad line, so
 * that the full parse words each error). */
int res_fast_line(const struct res_keys *keys, const char *line, size_t len, unsigned want,
		  struct res_rec *rec, char *scratch);

#endif
