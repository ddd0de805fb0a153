/* strtab.h: interned strings, each given a dense index in order of arrival.
 *
 * The summaries, the gate and the sweep turn item ids, model names, tasks and
 * slots into small integers once, and then index arrays with them. An
 * open-addressing table (FNV-1a, linear probing, at most half full) maps a
 * string to its index; name[i] gives it back. The table owns its copies.
 */
#ifndef SE_STRTAB_H
#define SE_STRTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strtab {
	char **name; /* name[i] for i < n */
	size_t n, cap;
	uint32_t *table; /* index + 1, 0 empty */
	size_t table_size;
};

void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
/* The index of s, or -1 when it was never interned. */
long strtab_find(const struct strtab *t, const char *s);
/* The index of s, added (copied) when new; *added says which, when not NULL. */
size_t strtab_intern(struct strtab *t, const char *s, bool *added);

#endif
