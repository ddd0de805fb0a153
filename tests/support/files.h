/* files.h: temporary run folders and whole-file reads for the unit suites.
 *
 * Each helper asserts (Criterion) instead of returning errors: a test that
 * cannot make its folder has nothing to test.
 */
#ifndef SE_TEST_FILES_H
#define SE_TEST_FILES_H

#include <stddef.h>

/* A new empty folder under $TMPDIR (else /tmp), named se-<tag>-XXXXXX;
 * malloc'd path. */
char *test_mkdtemp(const char *tag);
/* Removes dir's files and dir, then frees dir. Expects no "*.tmp" file: every
 * file the program writes is renamed into place, so a leftover means a write
 * that was not atomic. */
void test_rmdir(char *dir);
/* A whole file, NUL-terminated (caller frees); len may be NULL. */
char *test_read_file(const char *path, size_t *len);

#endif
