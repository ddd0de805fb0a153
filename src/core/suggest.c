/* suggest.c: the closest name to a mistyped one (optimal string alignment
 * distance, the restricted Damerau-Levenshtein distance git's help.c uses). */
#include <string.h>

#include "core/suggest.h"

enum { SUGGEST_MAX_LEN = 64 };

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Edit distance of a and b, both at most SUGGEST_MAX_LEN bytes. */
static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t lw = strlen(word);
	if (lw == 0 || lw > SUGGEST_MAX_LEN)
		return NULL;
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t lc = strlen(candidates[i]);
		if (lc > SUGGEST_MAX_LEN)
			continue;
		size_t dist = osa_distance(word, lw, candidates[i], lc);
		if (lc > lw && !strncmp(candidates[i], word, lw))
			dist = 1;
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	if (best_d > 2 || best_d * 2 > lw)
		return NULL;
	return best;
}
