/* config.h: the eval config (evals/NAME.json), loaded once, read-only after.
 *
 * cfg_load parses and validates the whole file with cJSON: every key is known
 * (an unknown key is an error), every reference resolves (slots, endpoints,
 * fallbacks), every regex compiles (via checks/). Errors name the file and the
 * JSON path, e.g.
 *   evals/x.json: routing.rules[2].slot: unknown slot "dep" (known: fast, balanced, deep, code)
 * with err->where = "evals/x.json: routing.rules[2].slot" and kind SE_INPUT.
 *
 * Models are interned: cfg->models holds each distinct (model string,
 * endpoint) once, and slots, shadows and fallbacks refer to it by index, so
 * the engine and the summaries compare models by index, not by string.
 *
 * Ownership: struct cfg owns everything reachable from it; cfg_free releases
 * it all (cfg_free(NULL) is safe). API keys are never stored here: only the
 * name of the environment variable that holds one.
 */
#ifndef SE_CONFIG_H
#define SE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/checks.h"
#include "core/err.h"

struct cJSON;

struct cfg_header {
	char *name;
	char *value;
};

struct cfg_endpoint {
	char *name;	   /* key in "endpoints" */
	char *base_url;	   /* ".../v1", no trailing slash */
	char *api_key_env; /* NULL: send no Authorization header */
	struct cfg_header *headers;
	size_t n_headers;
	int max_concurrency; /* 0: no per-endpoint limit */
	int rpm;	     /* requests per minute, 0: unlimited */
	char *ca_file;	     /* resolved PEM CA bundle for TLS; NULL: the system's */
	/* "generation_cost": look up a reply's cost by its generation id when it
	 * carried none (engine/gencost.h): 1 true, 0 false, -1 absent (then:
	 * when base_url's host is openrouter.ai) */
	int generation_cost;
};

struct cfg_model {
	char *id;     /* model string sent to the endpoint, "provider/name" */
	int endpoint; /* index into cfg.endpoints */
};

struct cfg_slot {
	char *name;
	int model;	/* index into cfg.models */
	int *fallbacks; /* model indices tried in order when the primary fails */
	size_t n_fallbacks;
};

/* A key/value condition of a metadata rule: item metadata[key] == value. */
struct cfg_match {
	char *key;
	char *value; /* compared with the field rendered as a string */
};

/* One routing rule. Conditions (tasks, metadata) are AND-ed; a rule with none
 * matches every item. The outcome is either a fixed slot or, for complexity
 * rules, a band chosen by the item's token estimate:
 *   estimate < thresholds[0] -> band_slots[0], ... , else band_slots[n_thresholds].
 */
struct cfg_rule {
	char **tasks; /* match when the item's task is one of these; NULL: any */
	size_t n_tasks;
	struct cfg_match *metadata;
	size_t n_metadata;
	int slot;	     /* fixed outcome; -1 when the rule is a complexity rule */
	long *thresholds;    /* strictly increasing */
	size_t n_thresholds; /* 0 unless a complexity rule */
	int *band_slots;     /* n_thresholds + 1 slot indices */
	char *label;	     /* "routing.rules[2]" : what `route` prints as the reason */
};

enum cfg_estimator { CFG_EST_CHARS_DIV_4 = 0 };

struct cfg_retry {
	int max_attempts; /* total attempts including the first; default 4 */
	int base_ms;	  /* default 500 */
	int max_ms;	  /* default 30000 */
};

struct cfg_params {
	bool has_temperature;
	double temperature;
	int max_tokens; /* 0: not sent */
	int n;		/* samples per (item, model) (run --repeats); 0: 1. Never sent */
	bool stream;
	struct cJSON *extra; /* any other request body fields (top_p, seed, ...), or NULL */
};

struct cfg_dataset {
	char *path;	      /* resolved against the config's folder */
	char *format;	      /* "jsonl" or "csv"; from the extension when not given */
	char *expected_field; /* field holding the expected answer; default "expected" */
	char *expected_regex; /* optional: capture group 1 of this on the field is the answer */
};

struct cfg_prompt {
	char *system;	/* NULL: no system message */
	char *template; /* NULL: the item's "prompt" (or its "messages") as is */
};

struct cfg {
	char *path; /* the config file as given */
	char *dir;  /* its folder: relative paths resolve against it */
	char *name;

	struct cfg_dataset dataset;
	struct cfg_prompt prompt;

	struct cfg_endpoint *endpoints;
	size_t n_endpoints;
	struct cfg_model *models;
	size_t n_models;
	struct cfg_slot *slots;
	size_t n_slots;

	struct cfg_rule *rules;
	size_t n_rules;
	int default_slot; /* routing.default, else the "balanced" slot, else the only slot */
	enum cfg_estimator estimator;

	bool shadow_all_slots; /* "shadow": "all-slots" */
	int *shadows;	       /* model indices (for all-slots: every slot's model) */
	size_t n_shadows;

	struct chk_set checks;
	struct cfg_params params;
	char *pricing_path; /* resolved; NULL when not configured */
	struct cfg_retry retry;
	double timeout_s; /* per request; default 120 */

	/* of the config file's bytes; with --set or --routing, of the effective
	 * config (its JSON after the overrides, printed compactly) */
	char sha256[65];
	char file_sha256[65]; /* of the config file's bytes, always */
	char **overrides;     /* "--routing FILE", "--set PATH=JSON", as applied */
	size_t n_overrides;
};

/* Overrides applied to the config's JSON before it is checked (override.c):
 * first --routing FILE (a routing block, or a file holding one under
 * "routing") replaces "routing", then each --set PATH=JSON in order puts a
 * value at a path of the loader's own paths (routing.rules[2].slot,
 * fallbacks["openai/gpt-4.1"]); a missing object on the way is created, an
 * index one past the end appends, null removes a key. */
struct cfg_overrides {
	const char *routing;	 /* NULL: none */
	const char *const *sets; /* "PATH=JSON" */
	size_t n_sets;
};

/* Loads and validates path. On failure *out is NULL and err names file and path. */
int cfg_load(const char *path, struct cfg **out, struct se_err *err);
/* Same, with the overrides (ov may be NULL). An error in an overridden value
 * names the path and the flag that set it; a bad override is SE_USAGE
 * naming the flag, a bad --routing file SE_INPUT naming the file. */
int cfg_load_with(const char *path, const struct cfg_overrides *ov, struct cfg **out,
		  struct se_err *err);
/* override.c: applies ov to root (the parsed config). */
int cfg_overrides_apply(struct cJSON *root, const struct cfg_overrides *ov, struct se_err *err);
/* The flag ("--set PATH" or "--routing FILE", into out) whose value the JSON
 * path jpath lies in or above, or NULL when jpath comes from the file. */
const char *cfg_overrides_source(const struct cfg_overrides *ov, const char *jpath, char *out,
				 size_t size);
void cfg_free(struct cfg *cfg);

/* Index of a slot by name, or -1. */
int cfg_slot_index(const struct cfg *cfg, const char *name);
/* Index of a model by model string (first endpoint that has it), or -1. */
int cfg_model_index(const struct cfg *cfg, const char *id);
/* Replaces an endpoint's base_url ("--endpoint NAME=URL"); error if no such endpoint. */
int cfg_override_endpoint(struct cfg *cfg, const char *name, const char *url, struct se_err *err);

#endif
