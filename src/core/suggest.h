/* suggest.h: "did you mean ...?" for a mistyped command or option name.
 * Not here: printing the hint (the caller words it). */
#ifndef SE_SUGGEST_H
#define SE_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance (insertions, deletions,
 * substitutions and swaps of two adjacent characters), or NULL when even the
 * closest is too far to be a typo: more than 2 edits, or more than half of
 * word's length. A candidate that word is a prefix of counts as 1 edit. */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

#endif
