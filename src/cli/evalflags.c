/* evalflags.c: --set, --routing and the API-key rule of validate, route and
 * run; see evalflags.h. */
#include "cli/evalflags.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void cli_evalflags_init(struct cli_evalflags *f, int argc)
{
	memset(f, 0, sizeof(*f));
	f->sets = xcalloc((size_t)argc + 1, sizeof(*f->sets));
	f->ov.sets = f->sets;
	f->cache = ENG_CACHE_OFF;
}

void cli_evalflags_free(struct cli_evalflags *f)
{
	free(f->sets);
	f->sets = NULL;
}

int cli_evalflags_take(struct cli_evalflags *f, int c, const char *arg, struct se_err *err)
{
	switch (c) {
	case CLI_O_SET:
		if (!strchr(arg, '=') || arg[0] == '=')
			return se_fail(err, SE_USAGE, "--set", "expected PATH=JSON, got \"%s\"",
				       arg);
		f->sets[f->ov.n_sets++] = arg;
		return 1;
	case CLI_O_ROUTING:
		if (f->ov.routing)
			return se_fail(err, SE_USAGE, "--routing", "given twice");
		f->ov.routing = arg;
		return 1;
	case CLI_O_CACHE:
		if (eng_cache_mode_parse(arg, &f->cache))
			return se_fail(err, SE_USAGE, "--cache",
				       "expected use, off, refresh or replay, got \"%s\"", arg);
		return 1;
	default:
		return 0;
	}
}

int cli_evalflags_scan_take(void *ctx, int c, const char *arg, struct se_err *err)
{
	int took = cli_evalflags_take(ctx, c, arg, err);
	return took == 1 ? 0 : took == 0 ? 1 : -1;
}

bool cli_evalflags_any(const struct cli_evalflags *f)
{
	return f->ov.routing || f->ov.n_sets;
}

int cli_evalflags_load(const struct cli_evalflags *f, const char *path, struct cfg **out,
		       struct se_err *err)
{
	return cfg_load_with(path, &f->ov, out, err);
}

int cli_check_keys(const struct cfg *cfg, enum eng_cache_mode cache, struct se_err *err)
{
	return cache == ENG_CACHE_REPLAY ? 0 : eng_check_keys(cfg, err);
}
