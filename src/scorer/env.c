/* env.c: the environment a scorer process gets (see scorer.h): a small safe
 * set and the names its check lists, nothing else, so API keys stay in
 * shadoweval unless the config hands one over by name. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "scorer/scorer.h"

const char *const scr_safe_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", NULL};

static bool listed(char *const *env, size_t n, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

/* Adds NAME=value when NAME is set here and not already in env. */
static void add(char **env, size_t *n, const char *name)
{
	const char *v = getenv(name);
	if (!v || listed(env, *n, name))
		return;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s=%s", name, v);
	env[(*n)++] = buf_detach(&b, NULL);
}

char **scr_env_build(const char *const *names, size_t n_names)
{
	size_t cap = sizeof scr_safe_env / sizeof scr_safe_env[0] + n_names;
	char **env = xcalloc(cap, sizeof *env); /* room for the NULL: the safe list's */
	size_t n = 0;
	for (size_t i = 0; scr_safe_env[i]; i++)
		add(env, &n, scr_safe_env[i]);
	for (size_t i = 0; i < n_names; i++)
		add(env, &n, names[i]);
	env[n] = NULL;
	return env;
}

void scr_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
