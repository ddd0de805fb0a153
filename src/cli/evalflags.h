/* evalflags.h: the flags validate, route and run share to change an eval
 * for one invocation without editing its file: --set PATH=JSON (repeatable)
 * and --routing FILE (config/override.c applies them), and the API-key rule
 * all three follow (a configured api_key_env must be set, unless --cache
 * replay: a replay never sends a request).
 *
 * Each command keeps its own getopt_long table: it includes
 * CLI_EVALFLAGS_OPTIONS and hands any option it does not know to
 * cli_evalflags_take. Ownership: struct cli_evalflags holds pointers into
 * argv only; cli_evalflags_free releases its array.
 */
#ifndef SE_CLI_EVALFLAGS_H
#define SE_CLI_EVALFLAGS_H

#include <stdbool.h>

#include "config/config.h"
#include "core/err.h"
#include "engine/engine.h"

enum { CLI_O_SET = 400, CLI_O_ROUTING, CLI_O_CACHE };

#define CLI_EVALFLAGS_OPTIONS                                                                      \
	{"set", required_argument, NULL, CLI_O_SET},                                               \
	{                                                                                          \
		"routing", required_argument, NULL, CLI_O_ROUTING                                  \
	}
/* validate and route: --cache MODE, only to say a run would replay (run has its own). */
#define CLI_CACHEFLAG_OPTION                                                                       \
	{                                                                                          \
		"cache", required_argument, NULL, CLI_O_CACHE                                      \
	}

#define CLI_EVALFLAGS_HELP                                                                         \
	"  --set PATH=JSON  override one config value (repeatable; default: none),\n"              \
	"                 e.g. 'routing.rules[2].complexity.thresholds=[400,1800]'\n"              \
	"  --routing FILE   use FILE's routing block instead (default: the config's)\n"
#define CLI_CACHEFLAG_HELP                                                                         \
	"  --cache MODE     the run's cache mode: with replay no API key is needed\n"              \
	"                 (default off: every configured api_key_env must be set)\n"

struct cli_evalflags {
	struct cfg_overrides ov;
	const char **sets; /* room for argc entries */
	enum eng_cache_mode cache;
};

void cli_evalflags_init(struct cli_evalflags *f, int argc);
void cli_evalflags_free(struct cli_evalflags *f);
/* For an option getopt_long returned: 1 when it was one of ours (taken),
 * 0 when not, -1 with err on a bad value. */
int cli_evalflags_take(struct cli_evalflags *f, int c, const char *arg, struct se_err *err);
/* The same as a flag_take_fn (core/flags.h) with ctx a struct
 * cli_evalflags: 0 taken, 1 not ours, -1 on a bad value. */
int cli_evalflags_scan_take(void *ctx, int c, const char *arg, struct se_err *err);
/* Whether any --set or --routing was given. */
bool cli_evalflags_any(const struct cli_evalflags *f);
/* cfg_load_with the overrides. */
int cli_evalflags_load(const struct cli_evalflags *f, const char *path, struct cfg **out,
		       struct se_err *err);
/* The API-key rule: eng_check_keys unless the cache mode is replay. */
int cli_check_keys(const struct cfg *cfg, enum eng_cache_mode cache, struct se_err *err);

#endif
