/* command.h: the checks room's own parser of a `command` check's keys
 * (argv, timeout_s, max_restarts, env); checks.c calls it. Internal to
 * src/checks/: the process itself is src/scorer/'s. */
#ifndef SE_CHECKS_COMMAND_H
#define SE_CHECKS_COMMAND_H

#include "checks/checks.h"
#include "core/err.h"

struct cJSON;

/* The keys only a command check has, NULL-terminated. */
extern const char *const chk_cmd_keys[];

/* Parses check object obj (at JSON path `path`, e.g. "checks[2]", of
 * config `file`) into a new *out: argv required (a non-empty array of
 * strings; argv[0] must be an executable file, found in PATH when it has no
 * '/', else relative to the config's folder), timeout_s (0.001..86400,
 * default 10), max_restarts (0..1000, default 3), env (variable names).
 * -1 with err naming the JSON path. */
int chk_cmd_parse(const struct cJSON *obj, const char *file, const char *path, struct chk_cmd **out,
		  struct se_err *err);
void chk_cmd_free(struct chk_cmd *c);

#endif
