/* xalloc.h: allocation that never returns NULL.
 *
 * Out of memory is not a condition shadoweval can recover from, so these print
 * one line and abort instead of threading ENOMEM through every caller (git's
 * xmalloc does the same). Everything else about ownership is the caller's.
 */
#ifndef SE_XALLOC_H
#define SE_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of `size`-byte elements to hold at least `need`, doubling. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
