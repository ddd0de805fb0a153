/* dif_arr.c: the index's large arrays (a cell per results line, the item
 * table, the id hash table, the grouping, the selections; see diff.h): past
 * 1 MiB on anonymous memory that asks for transparent huge pages and grows
 * in place with mremap; smaller ones on malloc.
 *
 * Why: filling 16 bytes a line for a million lines on malloc'd memory takes
 * thousands of page faults (a fault costs microseconds, more in a VM) plus a
 * copy at each doubling; with 2 MiB pages it takes a few dozen and growing
 * copies nothing. Small runs (and so most tests, under AddressSanitizer)
 * stay on malloc.
 *
 * Not here: what the arrays hold (dif_index.c).
 */
#include "diff/diff.h"

#include <string.h>

#include "core/xalloc.h"

#if !defined(__linux__)
#define ARR_MALLOC 1
#else
#include <sys/mman.h>
#endif

#define PAGE2M ((size_t)2 << 20)
#define SMALL ((size_t)1 << 20) /* below: malloc, as a huge page would be mostly empty */

/* Whether an array of cap elements of size bytes is on malloc. */
static bool on_malloc(size_t cap, size_t size)
{
#ifdef ARR_MALLOC
	(void)cap;
	(void)size;
	return true;
#else
	return cap * size < SMALL;
#endif
}

static void *grow_malloc(void *p, size_t *cap, size_t c, size_t size)
{
	p = xrealloc(p, c * size);
	memset((char *)p + *cap * size, 0, (c - *cap) * size);
	*cap = c;
	return p;
}

#ifndef ARR_MALLOC
static size_t whole_pages(size_t n)
{
	return (n + PAGE2M - 1) & ~(PAGE2M - 1);
}

/* From malloc or a smaller mapping to a mapping of at least c elements. */
static void *grow_mapped(void *p, size_t *cap, size_t c, size_t size)
{
	size_t bytes = whole_pages(c * size);
	bool mapped = p && !on_malloc(*cap, size);
	void *q =
	    mapped ? mremap(p, whole_pages(*cap * size), bytes, MREMAP_MAYMOVE)
		   : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED) {
		fprintf(stderr, "shadoweval: out of memory (%zu bytes)\n", bytes);
		abort();
	}
	(void)madvise(q, bytes, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
	if (p && !mapped) {
		memcpy(q, p, *cap * size);
		free(p);
	}
	*cap = bytes / size;
	return q;
}
#endif

void *dif_arr_grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	if (need > SIZE_MAX / 4 / size) {
		fprintf(stderr, "shadoweval: out of memory (%zu elements)\n", need);
		abort();
	}
	size_t c = *cap ? *cap : 8;
	while (c < need)
		c *= 2;
	if (on_malloc(c, size))
		return grow_malloc(p, cap, c, size);
#ifdef ARR_MALLOC
	return NULL; /* not reached: everything is on malloc */
#else
	return grow_mapped(p, cap, c, size);
#endif
}

void dif_arr_free(void *p, size_t cap, size_t size)
{
	if (!p)
		return;
	if (on_malloc(cap, size))
		free(p);
#ifndef ARR_MALLOC
	else
		munmap(p, whole_pages(cap * size));
#endif
}
