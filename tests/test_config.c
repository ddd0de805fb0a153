/* test_config.c: the eval config loader (src/config/).
 *
 * Bad configs are data: tests/fixtures/config/bad/NAME.json, each with a
 * NAME.expect holding the exact error location ("where: FILE: json.path",
 * FILE standing for the fixture's path), a fragment of the message
 * ("msg: ..."), and optionally a text that must appear nowhere in the error
 * ("absent: ...", used for API keys). Good configs are in good/ and their
 * loaded structs are checked field by field. Checks themselves are tested by
 * test_checks.c; here only that the config hands them over.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/sha256.h"

#define BAD_DIR "tests/fixtures/config/bad"
#define GOOD_DIR "tests/fixtures/config/good"

static struct cfg *load_good(const char *name)
{
	char path[256];
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, name);
	int rc = cfg_load(path, &cfg, &err);
	cr_assert_eq(rc, 0, "%s should load, got %s: %s", path, err.where, err.msg);
	cr_assert_not_null(cfg);
	return cfg;
}

/* One line "key: value" of an .expect file, or "" when absent. */
static void expect_field(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':' || line[klen + 1] != ' ')
			continue;
		const char *v = line + klen + 2;
		size_t n = strcspn(v, "\n");
		if (n >= size)
			n = size - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return;
	}
}

/* Replaces a leading "FILE" by the fixture's path. */
static void expand_file(const char *pattern, const char *path, char *out, size_t size)
{
	if (!strncmp(pattern, "FILE", 4))
		snprintf(out, size, "%s%s", path, pattern + 4);
	else
		snprintf(out, size, "%s", pattern);
}

/* Runs one bad fixture; returns 1 when it behaved as its .expect says. */
static int check_bad_fixture(const char *name)
{
	char path[256], expect_path[300], want_where[800], raw_where[512], want_msg[1024],
	    absent[256];
	snprintf(path, sizeof(path), "%s/%s", BAD_DIR, name);
	snprintf(expect_path, sizeof(expect_path), "%.*s.expect", (int)(strlen(path) - 5), path);
	char *expect;
	size_t len;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_read_all(expect_path, &expect, &len, &err), 0, "%s has no .expect file",
		     path);
	expect_field(expect, "where", raw_where, sizeof(raw_where));
	expect_field(expect, "msg", want_msg, sizeof(want_msg));
	expect_field(expect, "absent", absent, sizeof(absent));
	free(expect);
	cr_assert(raw_where[0] && want_msg[0], "%s: .expect needs where: and msg:", expect_path);
	expand_file(raw_where, path, want_where, sizeof(want_where));

	struct cfg *cfg = (struct cfg *)1;
	int rc = cfg_load(path, &cfg, &err);
	int ok = 1;
	if (rc != -1 || cfg != NULL) {
		cr_log_error("%s: loaded, expected an error", name);
		cfg_free(rc == 0 ? cfg : NULL);
		return 0;
	}
	if (err.kind != SE_INPUT) {
		cr_log_error("%s: kind %d, expected SE_INPUT", name, (int)err.kind);
		ok = 0;
	}
	if (strcmp(err.where, want_where)) {
		cr_log_error("%s: where \"%s\", expected \"%s\"", name, err.where, want_where);
		ok = 0;
	}
	if (!strstr(err.msg, want_msg)) {
		cr_log_error("%s: msg \"%s\", expected it to contain \"%s\"", name, err.msg,
			     want_msg);
		ok = 0;
	}
	if (absent[0] && (strstr(err.msg, absent) || strstr(err.where, absent))) {
		cr_log_error("%s: the error repeats \"%s\"", name, absent);
		ok = 0;
	}
	return ok;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

Test(config, every_bad_fixture_fails_with_its_expected_error)
{
	DIR *d = opendir(BAD_DIR);
	cr_assert_not_null(d, "cannot open %s (tests run from the project root)", BAD_DIR);
	struct dirent *e;
	int n = 0, failed = 0;
	while ((e = readdir(d))) {
		if (!has_suffix(e->d_name, ".json"))
			continue;
		n++;
		if (!check_bad_fixture(e->d_name))
			failed++;
	}
	closedir(d);
	cr_expect_geq(n, 25, "only %d bad fixtures", n);
	cr_expect_eq(failed, 0, "%d of %d bad fixtures did not fail as expected (see above)",
		     failed, n);
}

Test(config, every_bad_expect_file_has_its_fixture)
{
	DIR *d = opendir(BAD_DIR);
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!has_suffix(e->d_name, ".expect"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%.*s.json", BAD_DIR, (int)(strlen(e->d_name) - 7),
			 e->d_name);
		cr_expect_eq(access(path, R_OK), 0, "%s has no fixture", e->d_name);
	}
	closedir(d);
}

Test(config, api_key_in_api_key_env_is_refused_without_echo)
{
	const char *path = BAD_DIR "/api_key_env_holds_key.json";
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load(path, &cfg, &err), -1);
	cr_expect_null(cfg);
	cr_expect(strstr(err.msg, "not a key") != NULL, "msg: %s", err.msg);
	cr_expect_null(strstr(err.msg, "sk-or"), "the key leaked: %s", err.msg);
	cr_expect_null(strstr(err.msg, "0123456789abcdef"), "the key leaked: %s", err.msg);
	cr_expect_null(strstr(err.where, "sk-or"), "the key leaked: %s", err.where);
}

Test(config, missing_file_is_an_io_error)
{
	struct cfg *cfg = (struct cfg *)1;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load(GOOD_DIR "/no-such-config.json", &cfg, &err), -1);
	cr_expect_null(cfg);
	cr_expect_eq(err.kind, SE_IO);
	cr_expect_str_eq(err.where, GOOD_DIR "/no-such-config.json");
	cr_expect(strstr(err.msg, "No such file") != NULL, "msg: %s", err.msg);
}

Test(config, spec_example_loads_slots_and_endpoint)
{
	struct cfg *cfg = load_good("spec_example.json");
	cr_expect_str_eq(cfg->path, GOOD_DIR "/spec_example.json");
	cr_expect_str_eq(cfg->dir, GOOD_DIR);
	cr_expect_str_eq(cfg->name, "support-routing");

	cr_assert_eq(cfg->n_endpoints, 1);
	const struct cfg_endpoint *ep = &cfg->endpoints[0];
	cr_expect_str_eq(ep->name, "openrouter");
	cr_expect_str_eq(ep->base_url, "https://openrouter.ai/api/v1");
	cr_expect_str_eq(ep->api_key_env, "OPENROUTER_API_KEY");
	cr_assert_eq(ep->n_headers, 1);
	cr_expect_str_eq(ep->headers[0].name, "X-Title");
	cr_expect_str_eq(ep->headers[0].value, "shadoweval");
	cr_expect_eq(ep->max_concurrency, 64);
	cr_expect_eq(ep->rpm, 600);

	static const char *const names[] = {"fast", "balanced", "deep", "code"};
	static const char *const models[] = {"google/gemini-flash-1.5", "openai/gpt-4o-mini",
					     "anthropic/claude-opus-4",
					     "anthropic/claude-sonnet-4"};
	cr_assert_eq(cfg->n_slots, 4);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(cfg->slots[i].name, names[i]);
		int m = cfg->slots[i].model;
		cr_assert(m >= 0 && (size_t)m < cfg->n_models);
		cr_expect_str_eq(cfg->models[m].id, models[i]);
		cr_expect_eq(cfg->models[m].endpoint, 0);
		cr_expect_eq(cfg_slot_index(cfg, names[i]), (int)i);
		cr_expect_eq(cfg_model_index(cfg, models[i]), m);
	}
	cr_expect_eq(cfg_slot_index(cfg, "dep"), -1);
	cr_expect_eq(cfg_model_index(cfg, "openai/gpt-5"), -1);
	/* 4 slot models + 2 shadows + 1 fallback, all distinct. */
	cr_expect_eq(cfg->n_models, 7);
	cfg_free(cfg);
}

Test(config, spec_example_rules_keep_their_kinds)
{
	struct cfg *cfg = load_good("spec_example.json");
	int fast = cfg_slot_index(cfg, "fast"), balanced = cfg_slot_index(cfg, "balanced");
	int deep = cfg_slot_index(cfg, "deep"), code = cfg_slot_index(cfg, "code");
	cr_assert_eq(cfg->n_rules, 4);

	const struct cfg_rule *r = &cfg->rules[0];
	cr_expect_str_eq(r->label, "routing.rules[0]");
	cr_assert_eq(r->n_tasks, 2);
	cr_expect_str_eq(r->tasks[0], "summarize");
	cr_expect_str_eq(r->tasks[1], "classify");
	cr_expect_eq(r->slot, fast);
	cr_expect_eq(r->n_thresholds, 0);
	cr_expect_eq(r->n_metadata, 0);

	r = &cfg->rules[1];
	cr_assert_eq(r->n_tasks, 1);
	cr_expect_str_eq(r->tasks[0], "code");
	cr_expect_eq(r->slot, code);

	r = &cfg->rules[2];
	cr_expect_null(r->tasks);
	cr_assert_eq(r->n_metadata, 1);
	cr_expect_str_eq(r->metadata[0].key, "tier");
	cr_expect_str_eq(r->metadata[0].value, "premium");
	cr_expect_eq(r->slot, deep);

	r = &cfg->rules[3];
	cr_expect_str_eq(r->label, "routing.rules[3]");
	cr_expect_null(r->tasks);
	cr_expect_eq(r->slot, -1);
	cr_assert_eq(r->n_thresholds, 2);
	cr_expect_eq(r->thresholds[0], 500);
	cr_expect_eq(r->thresholds[1], 2000);
	cr_expect_eq(r->band_slots[0], fast);
	cr_expect_eq(r->band_slots[1], balanced);
	cr_expect_eq(r->band_slots[2], deep);

	cr_expect_eq(cfg->default_slot, balanced);
	cr_expect_eq(cfg->estimator, CFG_EST_CHARS_DIV_4);
	cfg_free(cfg);
}

Test(config, spec_example_interns_shadows_and_resolves_fallbacks)
{
	struct cfg *cfg = load_good("spec_example.json");
	cr_expect_not(cfg->shadow_all_slots);
	cr_assert_eq(cfg->n_shadows, 2);
	cr_expect_str_eq(cfg->models[cfg->shadows[0]].id, "openai/gpt-4.1-mini");
	cr_expect_str_eq(cfg->models[cfg->shadows[1]].id, "meta-llama/llama-3.1-8b-instruct");
	cr_expect_eq(cfg->shadows[0], cfg_model_index(cfg, "openai/gpt-4.1-mini"));

	for (size_t i = 0; i < cfg->n_slots; i++) {
		const struct cfg_slot *s = &cfg->slots[i];
		if (strcmp(s->name, "deep")) {
			cr_expect_eq(s->n_fallbacks, 0, "slot %s has fallbacks", s->name);
			continue;
		}
		cr_assert_eq(s->n_fallbacks, 1);
		cr_expect_str_eq(cfg->models[s->fallbacks[0]].id, "openai/gpt-4o");
		cr_expect_eq(cfg->models[s->fallbacks[0]].endpoint, 0);
	}
	cfg_free(cfg);
}

Test(config, spec_example_resolves_paths_against_config_folder)
{
	struct cfg *cfg = load_good("spec_example.json");
	cr_expect_str_eq(cfg->dataset.path, GOOD_DIR "/../datasets/support.jsonl");
	cr_expect_eq(access(cfg->dataset.path, R_OK), 0, "%s does not exist", cfg->dataset.path);
	cr_expect_str_eq(cfg->dataset.format, "jsonl");
	cr_expect_str_eq(cfg->dataset.expected_field, "answer");
	cr_expect_str_eq(cfg->dataset.expected_regex, "####\\s*(.+)$");
	cr_expect_str_eq(cfg->pricing_path, GOOD_DIR "/pricing/openrouter-models.json");
	cfg_free(cfg);
}

Test(config, spec_example_loads_prompt_params_retry_and_checks)
{
	struct cfg *cfg = load_good("spec_example.json");
	cr_expect_str_eq(cfg->prompt.system, "Answer briefly.");
	cr_expect_str_eq(cfg->prompt.template, "{{question}}");
	cr_expect(cfg->params.has_temperature);
	cr_expect_eq(cfg->params.temperature, 0.0);
	cr_expect_eq(cfg->params.max_tokens, 512);
	cr_expect(cfg->params.stream);
	cr_expect_null(cfg->params.extra);
	cr_expect_eq(cfg->retry.max_attempts, 4);
	cr_expect_eq(cfg->retry.base_ms, 500);
	cr_expect_eq(cfg->retry.max_ms, 30000);
	cr_expect_eq(cfg->timeout_s, 120.0);
	cr_expect_eq(cfg->checks.n, 1);
	cr_expect_eq(cfg->checks.combine, CHK_ALL);
	cfg_free(cfg);
}

Test(config, sha256_is_of_the_file_bytes)
{
	struct cfg *cfg = load_good("spec_example.json");
	char *data, hex[65];
	size_t len;
	struct se_err err;
	cr_assert_eq(fio_read_all(GOOD_DIR "/spec_example.json", &data, &len, &err), 0);
	sha256_hex(data, len, hex);
	free(data);
	cr_expect_str_eq(cfg->sha256, hex);
	cr_expect_eq(strlen(cfg->sha256), 64);
	cfg_free(cfg);
}

Test(config, minimal_config_gets_defaults)
{
	struct cfg *cfg = load_good("minimal.json");
	cr_expect_str_eq(cfg->dataset.path, GOOD_DIR "/items.jsonl");
	cr_expect_str_eq(cfg->dataset.format, "jsonl");
	cr_expect_str_eq(cfg->dataset.expected_field, "expected");
	cr_expect_null(cfg->dataset.expected_regex);
	cr_expect_null(cfg->prompt.system);
	cr_expect_null(cfg->prompt.template);
	cr_expect_str_eq(cfg->endpoints[0].base_url, "http://127.0.0.1:8080/v1");
	cr_expect_null(cfg->endpoints[0].api_key_env);
	cr_expect_eq(cfg->endpoints[0].n_headers, 0);
	cr_expect_eq(cfg->endpoints[0].max_concurrency, 0);
	cr_expect_eq(cfg->endpoints[0].rpm, 0);
	cr_expect_eq(cfg->n_rules, 0);
	/* No "balanced" slot, but only one slot: it is the default. */
	cr_expect_eq(cfg->default_slot, 0);
	cr_expect_eq(cfg->n_shadows, 0);
	cr_expect_not(cfg->shadow_all_slots);
	cr_expect_eq(cfg->slots[0].n_fallbacks, 0);
	cr_expect_not(cfg->params.has_temperature);
	cr_expect_eq(cfg->params.max_tokens, 0);
	cr_expect_not(cfg->params.stream);
	cr_expect_null(cfg->params.extra);
	cr_expect_null(cfg->pricing_path);
	cr_expect_eq(cfg->retry.max_attempts, 4);
	cr_expect_eq(cfg->retry.base_ms, 500);
	cr_expect_eq(cfg->retry.max_ms, 30000);
	cr_expect_eq(cfg->timeout_s, 120.0);
	/* The default check: exact match after trim. */
	cr_assert_eq(cfg->checks.n, 1);
	cr_expect_eq(cfg->checks.combine, CHK_ALL);
	struct chk_outcome o;
	const char *expected[] = {"42"};
	struct chk_item it = {.expected = expected, .n_expected = 1};
	chk_eval(&cfg->checks, &it, "  42\n", 5, &o);
	cr_expect(o.pass, "the default check should pass \"  42\\n\" against \"42\"");
	chk_outcome_free(&o);
	chk_eval(&cfg->checks, &it, "41", 2, &o);
	cr_expect_not(o.pass);
	chk_outcome_free(&o);
	cfg_free(cfg);
}

Test(config, models_are_interned_per_endpoint)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	int local = -1, openrouter = -1;
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		if (!strcmp(cfg->endpoints[i].name, "local"))
			local = (int)i;
		if (!strcmp(cfg->endpoints[i].name, "openrouter"))
			openrouter = (int)i;
	}
	cr_assert(local >= 0 && openrouter >= 0);
	const struct cfg_slot *fast = &cfg->slots[cfg_slot_index(cfg, "fast")];
	const struct cfg_slot *cheap = &cfg->slots[cfg_slot_index(cfg, "cheap")];
	const struct cfg_slot *deep = &cfg->slots[cfg_slot_index(cfg, "deep")];
	/* Same string, same endpoint: one model; same string, other endpoint: another. */
	cr_expect_eq(fast->model, cheap->model);
	cr_expect_neq(fast->model, deep->model);
	cr_expect_eq(cfg->models[fast->model].endpoint, local);
	cr_expect_eq(cfg->models[deep->model].endpoint, openrouter);
	cr_expect_str_eq(cfg->models[deep->model].id, cfg->models[fast->model].id);
	/* The first model with that string. */
	cr_expect_eq(cfg_model_index(cfg, "meta-llama/llama-3.1-8b-instruct"), fast->model);
	for (size_t i = 0; i < cfg->n_models; i++)
		for (size_t j = i + 1; j < cfg->n_models; j++)
			cr_expect(strcmp(cfg->models[i].id, cfg->models[j].id) ||
				      cfg->models[i].endpoint != cfg->models[j].endpoint,
				  "models %zu and %zu are the same", i, j);
	cr_expect_eq(cfg->endpoints[local].max_concurrency, 8);
	cr_expect_eq(cfg->endpoints[openrouter].n_headers, 2);
	cr_expect_str_eq(cfg->endpoints[openrouter].headers[0].name, "HTTP-Referer");
	cfg_free(cfg);
}

Test(config, shadow_all_slots_lists_each_slot_model_once)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	cr_expect(cfg->shadow_all_slots);
	/* fast and cheap share a model: 4 slots, 3 distinct models, in slot order. */
	cr_assert_eq(cfg->n_shadows, 3);
	cr_expect_eq(cfg->shadows[0], cfg->slots[cfg_slot_index(cfg, "fast")].model);
	cr_expect_eq(cfg->shadows[1], cfg->slots[cfg_slot_index(cfg, "balanced")].model);
	cr_expect_eq(cfg->shadows[2], cfg->slots[cfg_slot_index(cfg, "deep")].model);
	cfg_free(cfg);
}

Test(config, fallbacks_by_model_apply_unless_a_slot_entry_wins)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	const struct cfg_slot *fast = &cfg->slots[cfg_slot_index(cfg, "fast")];
	const struct cfg_slot *cheap = &cfg->slots[cfg_slot_index(cfg, "cheap")];
	const struct cfg_slot *balanced = &cfg->slots[cfg_slot_index(cfg, "balanced")];
	const struct cfg_slot *deep = &cfg->slots[cfg_slot_index(cfg, "deep")];
	/* fast: from the model-named entry. */
	cr_assert_eq(fast->n_fallbacks, 1);
	cr_expect_eq(fast->fallbacks[0], balanced->model);
	/* cheap: its own empty list wins over the model-named entry. */
	cr_expect_eq(cheap->n_fallbacks, 0);
	/* deep: its own list, in order. */
	cr_assert_eq(deep->n_fallbacks, 2);
	cr_expect_str_eq(cfg->models[deep->fallbacks[0]].id, "openai/gpt-4o");
	cr_expect_eq(deep->fallbacks[1], balanced->model);
	cr_expect_eq(balanced->n_fallbacks, 0);
	cfg_free(cfg);
}

Test(config, metadata_values_are_stored_as_text)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	cr_assert_eq(cfg->n_rules, 1);
	const struct cfg_rule *r = &cfg->rules[0];
	static const char *const keys[] = {"tier", "bucket", "beta", "ratio"};
	static const char *const values[] = {"premium", "3", "true", "0.25"};
	cr_assert_eq(r->n_metadata, 4);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(r->metadata[i].key, keys[i]);
		cr_expect_str_eq(r->metadata[i].value, values[i]);
	}
	cr_expect_eq(cfg->default_slot, cfg_slot_index(cfg, "fast"));
	cfg_free(cfg);
}

Test(config, params_pass_known_fields_and_merge_extra_body)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	const cJSON *x = cfg->params.extra;
	cr_assert_not_null(x);
	cr_expect_eq(cJSON_GetArraySize(x), 6);
	cr_expect_float_eq(cJSON_GetObjectItem(x, "top_p")->valuedouble, 0.9, 1e-12);
	cr_expect_eq(cJSON_GetObjectItem(x, "seed")->valueint, 7);
	cr_expect(cJSON_IsArray(cJSON_GetObjectItem(x, "stop")));
	const cJSON *prov = cJSON_GetObjectItem(x, "provider");
	cr_assert(cJSON_IsObject(prov));
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(prov, "allow_fallbacks")));
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(x, "logprobs")));
	cr_expect_eq(cJSON_GetObjectItem(x, "top_logprobs")->valueint, 2);
	cr_expect_null(cJSON_GetObjectItem(x, "extra_body"));
	cr_expect_not(cfg->params.has_temperature);
	cfg_free(cfg);
}

Test(config, csv_format_and_expected_field_from_a_string)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	cr_expect_str_eq(cfg->dataset.path, GOOD_DIR "/data/items.CSV");
	cr_expect_str_eq(cfg->dataset.format, "csv");
	cr_expect_str_eq(cfg->dataset.expected_field, "gold");
	cr_expect_null(cfg->dataset.expected_regex);
	cr_expect_eq(cfg->checks.combine, CHK_ANY);
	cr_expect_eq(cfg->retry.max_attempts, 1);
	cr_expect_eq(cfg->retry.max_ms, 0);
	cr_expect_eq(cfg->timeout_s, 2.5);
	cfg_free(cfg);
}

Test(config, override_endpoint_replaces_base_url)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	struct se_err err;
	se_clear(&err);
	int i = 0;
	while (strcmp(cfg->endpoints[i].name, "openrouter"))
		i++;
	cr_assert_eq(cfg_override_endpoint(cfg, "openrouter", "http://127.0.0.1:4321/v1/", &err), 0,
		     "%s: %s", err.where, err.msg);
	cr_expect_str_eq(cfg->endpoints[i].base_url, "http://127.0.0.1:4321/v1");
	cfg_free(cfg);
}

/* ca_file resolves like every path, against the config's folder, and an
 * endpoint without one keeps NULL (libcurl's own CA bundle). */
Test(config, ca_file_resolves_against_the_config_folder)
{
	struct cfg *cfg = load_good("tls.json");
	cr_expect_str_eq(cfg->endpoints[0].ca_file, GOOD_DIR "/certs/test-ca.pem");
	cfg_free(cfg);
	cfg = load_good("minimal.json");
	cr_expect_null(cfg->endpoints[0].ca_file);
	cfg_free(cfg);
}

Test(config, override_endpoint_rejects_unknown_endpoint_and_bad_url)
{
	struct cfg *cfg = load_good("multi_endpoint.json");
	struct se_err err;
	se_clear(&err);
	cr_expect_eq(cfg_override_endpoint(cfg, "openrouterx", "http://127.0.0.1:1/v1", &err), -1);
	cr_expect_neq(err.kind, SE_OK);
	cr_expect(strstr(err.msg, "unknown endpoint \"openrouterx\" (known: openrouter, local)"),
		  "msg: %s", err.msg);
	se_clear(&err);
	cr_expect_eq(cfg_override_endpoint(cfg, "local", "127.0.0.1:1/v1", &err), -1);
	cr_expect(strstr(err.msg, "http://") != NULL, "msg: %s", err.msg);
	/* Nothing changed on failure. */
	for (size_t i = 0; i < cfg->n_endpoints; i++)
		if (!strcmp(cfg->endpoints[i].name, "local"))
			cr_expect_str_eq(cfg->endpoints[i].base_url, "http://127.0.0.1:9000/v1");
	cfg_free(cfg);
}

Test(config, cfg_free_null_is_safe)
{
	/* The behaviour under test is that this returns (ASan would report otherwise). */
	cfg_free(NULL);
}

Test(config, bare_file_name_resolves_against_current_folder)
{
	char cwd[4096];
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(GOOD_DIR), 0);
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load("minimal.json", &cfg, &err), 0, "%s: %s", err.where, err.msg);
	cr_expect_str_eq(cfg->path, "minimal.json");
	cr_expect_str_eq(cfg->dir, ".");
	cr_expect_str_eq(cfg->dataset.path, "items.jsonl");
	cfg_free(cfg);
	cr_assert_eq(chdir(cwd), 0);
}

Test(config, error_where_uses_the_path_as_given)
{
	char cwd[4096];
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(BAD_DIR), 0);
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load("./unknown_slot_in_rule.json", &cfg, &err), -1);
	cr_expect_str_eq(err.where, "./unknown_slot_in_rule.json: routing.rules[2].slot");
	cr_assert_eq(chdir(cwd), 0);
}

/* The evals the project ships (demo, full matrix, OpenRouter) must keep
 * loading as the schema evolves: the README and `make demo` point at them. */
Test(config, shipped_evals_load)
{
	static const char *const evals[] = {"evals/demo.json", "evals/demo-matrix.json",
					    "evals/openrouter.json"};
	for (size_t i = 0; i < sizeof(evals) / sizeof(evals[0]); i++) {
		struct cfg *cfg = NULL;
		struct se_err err;
		se_clear(&err);
		cr_expect_eq(cfg_load(evals[i], &cfg, &err), 0, "%s: %s: %s", evals[i], err.where,
			     err.msg);
		if (cfg && !strcmp(evals[i], "evals/demo-matrix.json"))
			cr_expect(cfg->shadow_all_slots && cfg->n_shadows == cfg->n_slots,
				  "the matrix eval shadows every slot's model");
		cfg_free(cfg);
	}
}
