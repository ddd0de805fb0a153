/* command.c: a `command` check's keys (see command.h): the scorer's argv,
 * reply timeout, restart budget and the variables it may inherit. argv[0]
 * is checked here, at load time, so `validate` and `run` refuse a scorer
 * that cannot start with an error naming the JSON path. */
#include "checks/command.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/jsonv.h"
#include "core/xalloc.h"

const char *const chk_cmd_keys[] = {"argv", "timeout_s", "max_restarts", "env", NULL};

struct cmdctx {
	struct jsonv jv;
	const char *path;
};

static int fail(const struct cmdctx *c, const char *key, long idx, const char *fmt, ...)
    SE_PRINTF(4, 5);
static int fail(const struct cmdctx *c, const char *key, long idx, const char *fmt, ...)
{
	char p[JSONV_PATH], q[JSONV_PATH];
	jsonv_key(p, c->path, key);
	if (idx >= 0)
		jsonv_idx(q, p, (size_t)idx);
	va_list ap;
	va_start(ap, fmt);
	int rc = jsonv_vfail(&c->jv, idx >= 0 ? q : p, fmt, ap);
	va_end(ap);
	return rc;
}

static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* argv[0] without a '/': the first executable of that name in PATH. */
static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	bool found = false;
	char *copy = xstrdup(path), *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *full = fio_join(*d ? d : ".", name);
		found = executable(full);
		free(full);
	}
	free(copy);
	return found;
}

/* A non-empty array of strings into a NULL-terminated copy. */
static int strings(const struct cmdctx *c, const cJSON *v, const char *key, bool names, char ***out,
		   size_t *n)
{
	if (!cJSON_IsArray(v) || (!names && !v->child))
		return fail(c, key, -1, "\"%s\" must be %s", key,
			    names ? "an array of variable names"
				  : "a non-empty array of strings (the program and its "
				    "arguments, no shell)");
	*out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
	for (const cJSON *e = v->child; e; e = e->next) {
		bool ok = cJSON_IsString(e) && (!names || e->valuestring[0]);
		for (const char *s = ok && names ? e->valuestring : ""; *s && ok; s++)
			ok = *s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			     (s != e->valuestring && *s >= '0' && *s <= '9');
		if (!ok)
			return fail(c, key, (long)*n, "%s",
				    names ? "a variable name: letters, digits and _, not first a "
					    "digit"
					  : "an argument must be a string");
		(*out)[(*n)++] = xstrdup(e->valuestring);
	}
	return 0;
}

static int check_program(const struct cmdctx *c, const struct chk_cmd *k)
{
	const char *prog = k->argv[0];
	if (!*prog)
		return fail(c, "argv", 0, "the program is empty");
	if (!strchr(prog, '/')) {
		if (!in_path(prog))
			return fail(c, "argv", 0, "\"%s\" is not an executable in PATH", prog);
		return 0;
	}
	char *full = fio_join(k->dir, prog);
	bool ok = executable(full);
	free(full);
	if (!ok)
		return fail(c, "argv", 0,
			    "\"%s\" is not an executable file (relative to the config's folder)",
			    prog);
	return 0;
}

static int parse_numbers(const struct cmdctx *c, const cJSON *obj, struct chk_cmd *k)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "timeout_s");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "max_restarts");
	k->timeout_s = 10;
	k->max_restarts = 3;
	if (t && !jsonv_number_in(t, 0.001, 86400))
		return fail(c, "timeout_s", -1,
			    "\"timeout_s\" must be a number from 0.001 to 86400");
	if (t)
		k->timeout_s = t->valuedouble;
	if (m && (!jsonv_number_in(m, 0, 1000) || m->valuedouble != (double)(int)m->valuedouble))
		return fail(c, "max_restarts", -1,
			    "\"max_restarts\" must be an integer from 0 to 1000");
	if (m)
		k->max_restarts = (int)m->valuedouble;
	return 0;
}

int chk_cmd_parse(const cJSON *obj, const char *file, const char *path, struct chk_cmd **out,
		  struct se_err *err)
{
	struct cmdctx c = {.jv = {.file = file, .err = err}, .path = path};
	struct chk_cmd *k = xcalloc(1, sizeof *k);
	*out = k;
	k->dir = file ? fio_dirname(file) : xstrdup(".");
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(obj, "argv");
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(obj, "env");
	if (!argv)
		return jsonv_fail(&c.jv, path,
				  "missing \"argv\" (required for type \"command\": the scorer "
				  "program and its arguments)");
	if (strings(&c, argv, "argv", false, &k->argv, &k->argc) < 0 || check_program(&c, k) < 0)
		return -1;
	if (env && strings(&c, env, "env", true, &k->env, &k->n_env) < 0)
		return -1;
	return parse_numbers(&c, obj, k);
}

void chk_cmd_free(struct chk_cmd *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->argc; i++)
		free(k->argv[i]);
	free(k->argv);
	for (size_t i = 0; i < k->n_env; i++)
		free(k->env[i]);
	free(k->env);
	free(k->dir);
	free(k);
}
