/* strtab.c: interned strings; see strtab.h. */
#include "core/strtab.h"

#include <string.h>

#include "core/xalloc.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
}

void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->name[i]);
	free(t->name);
	free(t->table);
	memset(t, 0, sizeof(*t));
}

static void rehash(struct strtab *t, size_t size)
{
	free(t->table);
	t->table = xcalloc(size, sizeof(*t->table));
	t->table_size = size;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = hash_str(t->name[i]) & (size - 1);
		while (t->table[h])
			h = (h + 1) & (size - 1);
		t->table[h] = (uint32_t)(i + 1);
	}
}

long strtab_find(const struct strtab *t, const char *s)
{
	if (!t->table_size)
		return -1;
	size_t mask = t->table_size - 1, h = hash_str(s) & mask;
	for (; t->table[h]; h = (h + 1) & mask)
		if (!strcmp(t->name[t->table[h] - 1], s))
			return (long)t->table[h] - 1;
	return -1;
}

size_t strtab_intern(struct strtab *t, const char *s, bool *added)
{
	if ((t->n + 1) * 2 > t->table_size)
		rehash(t, t->table_size ? t->table_size * 2 : 64);
	size_t mask = t->table_size - 1, h = hash_str(s) & mask;
	while (t->table[h]) {
		size_t i = t->table[h] - 1;
		if (!strcmp(t->name[i], s)) {
			if (added)
				*added = false;
			return i;
		}
		h = (h + 1) & mask;
	}
	t->name = xgrow(t->name, &t->cap, t->n + 1, sizeof(*t->name));
	t->name[t->n] = xstrdup(s);
	t->table[h] = (uint32_t)(t->n + 1);
	if (added)
		*added = true;
	return t->n++;
}
