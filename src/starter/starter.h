/* starter.h: the starter files of `shadoweval init` (see starter.c). */
#ifndef SE_STARTER_H
#define SE_STARTER_H

#include <stdbool.h>

#include "core/err.h"

struct starter_file {
	const char *name; /* relative to the init folder */
	const char *text; /* the whole file */
};

/* The files, in the order written, ended by {NULL, NULL}. */
extern const struct starter_file starter_files[];

/* Creates dir (and parents) and writes every starter file into it, each
 * atomically. Without force, an existing file is an SE_INPUT error naming it,
 * checked before anything is written. */
int starter_write(const char *dir, bool force, struct se_err *err);

#endif
