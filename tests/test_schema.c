/* test_schema.c: evals/schema.json (JSON Schema draft 2020-12) against the
 * loader. Every shipped config (evals/, the starter `init` writes) and every
 * test config (tests/fixtures) goes through cfg_load and through the schema
 * (python3-jsonschema's Draft202012Validator, via scripts/schema-check.py):
 * what the loader accepts, the schema accepts; every bad-config fixture the
 * loader rejects for a structural reason (a wrong type, an unknown key, a
 * missing field, a value out of range), the schema rejects too. The
 * fixtures it may let through are listed below with why: the loader checks
 * things a schema cannot (references, regexes, orderings, counts across
 * fields). A missing validator is a failure, never a skip: the test set-up
 * installs it (scripts/install-deps.sh). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "support/files.h"

/* Bad fixtures the loader rejects for a reason beyond a schema, and why. */
static const struct {
	const char *name, *why;
} beyond_schema[] = {
    {"check_bad_pattern", "a regex that does not compile (PCRE2)"},
    {"check_command_argv0_missing", "the scorer program is not on disk (the file system)"},
    {"ca_file_folder", "ca_file names a folder, not a file (the file system)"},
    {"ca_file_missing", "ca_file names no file (the file system)"},
    {"ca_file_not_pem", "ca_file holds no PEM certificate (its content)"},
    {"check_value_nul", "a \\u0000 inside a string"},
    {"metadata_key_nul", "a \\u0000 inside a key"},
    {"complexity_slots_count", "slots must be one more than thresholds"},
    {"default_required", "no default and no \"balanced\" slot"},
    {"duplicate_key", "a key twice in one object (JSON parsers keep one)"},
    {"expected_regex_invalid", "a regex that does not compile"},
    {"expected_regex_no_group", "a regex without a capture group"},
    {"fallback_is_primary", "a fallback equal to its slot's model"},
    {"fallback_unknown_slot", "a reference to a slot"},
    {"model_needs_endpoint", "several endpoints: a model names its own"},
    {"params_extra_body_clash", "one field in params and in extra_body"},
    {"retry_max_below_base", "max_ms below base_ms"},
    {"slot_unknown_endpoint", "a reference to an endpoint"},
    {"template_reopened", "the template's placeholder syntax"},
    {"template_unclosed", "the template's placeholder syntax"},
    {"thresholds_decreasing", "thresholds must increase"},
    {"thresholds_equal", "thresholds must increase"},
    {"unknown_complexity_slot", "a reference to a slot"},
    {"unknown_default_slot", "a reference to a slot"},
    {"unknown_slot_in_rule", "a reference to a slot"},
    {"judge_model_without_endpoint", "a reference to a slot or a model of the config"},
    {"judge_unknown_endpoint", "a reference to an endpoint"},
    {"judge_unknown_placeholder", "the placeholders inside a template"},
    {"pairwise_twice", "a count of checks by type"},
};

static bool beyond(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(beyond_schema) / sizeof(beyond_schema[0]); i++) {
		size_t n = strlen(beyond_schema[i].name);
		if (!strncmp(base, beyond_schema[i].name, n) && !strcmp(base + n, ".json"))
			return true;
	}
	return false;
}

struct config_file {
	char *path;
	bool loads; /* cfg_load accepted it */
	bool bad;   /* a bad-config fixture */
};

/* The file is an eval config: a JSON object with "endpoints" (profiles,
 * pricing and other fixtures are not). Bad fixtures always count. */
static bool is_eval(const char *path)
{
	char *s = test_read_file(path, NULL);
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	bool yes = cJSON_GetObjectItemCaseSensitive(j, "endpoints") != NULL;
	cJSON_Delete(j);
	free(s);
	return yes;
}

static size_t collect(struct config_file *out, size_t cap, const char *pattern, bool bad)
{
	glob_t g;
	size_t n = 0;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && n < cap; i++) {
		if (!bad && !is_eval(g.gl_pathv[i]))
			continue;
		out[n].path = strdup(g.gl_pathv[i]);
		out[n].bad = bad;
		struct cfg *cfg = NULL;
		struct se_err err;
		se_clear(&err);
		out[n].loads = cfg_load(g.gl_pathv[i], &cfg, &err) == 0;
		cfg_free(cfg);
		n++;
	}
	globfree(&g);
	return n;
}

/* The verdict line of scripts/schema-check.py for path ("ok", "invalid"). */
static const char *verdict(const char *report, const char *path, char *why, size_t size)
{
	char key[1024];
	snprintf(key, sizeof(key), "\t%s\n", path);
	const char *p = strstr(report, key);
	if (p) {
		while (p > report && p[-1] != '\n')
			p--;
		return strncmp(p, "ok\t", 3) ? "?" : "ok";
	}
	snprintf(key, sizeof(key), "\t%s\t", path);
	p = strstr(report, key);
	if (!p)
		return "missing";
	const char *w = p + strlen(key), *end = strchr(w, '\n');
	snprintf(why, size, "%.*s", (int)(end ? end - w : (long)strlen(w)), w);
	return "invalid";
}

Test(schema, every_shipped_and_test_config_agrees_with_the_loader, .timeout = 120)
{
	enum { CAP = 512 };
	struct config_file *files = calloc(CAP, sizeof(*files));
	size_t n = 0;
	char *dir = test_mkdtemp("schema");
	char starter[600];
	snprintf(starter, sizeof(starter), "%s/eval.json", dir);
	cr_assert_eq(test_sh(NULL, "'%s/shadoweval' init '%s'", test_bin_dir(), dir), 0);
	n += collect(files + n, CAP - n, starter, false);
	n += collect(files + n, CAP - n, "evals/*.json", false);
	n += collect(files + n, CAP - n, "tests/fixtures/*/*.json", false);
	n += collect(files + n, CAP - n, "tests/fixtures/config/good/*.json", false);
	size_t shipped_and_good = n;
	n += collect(files + n, CAP - n, "tests/fixtures/config/bad/*.json", true);
	cr_assert_gt(n - shipped_and_good, 50,
		     "bad fixtures not found: run from the repository root");
	cr_assert_gt(shipped_and_good, 15);

	char list[700];
	snprintf(list, sizeof(list), "%s/list", dir);
	FILE *lf = fopen(list, "w");
	cr_assert(lf);
	for (size_t i = 0; i < n; i++)
		fprintf(lf, "%s\n", files[i].path);
	cr_assert_eq(fclose(lf), 0);
	struct buf report = {0};
	int rc =
	    test_sh(&report, "python3 scripts/schema-check.py evals/schema.json --list '%s'", list);
	cr_assert_eq(rc, 0, "the validator did not run: %s", report.data);

	size_t bad_checked = 0;
	for (size_t i = 0; i < n; i++) {
		char why[512] = "";
		const char *v = verdict(report.data, files[i].path, why, sizeof(why));
		if (!files[i].bad) {
			cr_expect(files[i].loads, "%s: a shipped or good config the loader rejects",
				  files[i].path);
			cr_expect_str_eq(v, "ok", "%s: the loader accepts it, the schema says %s",
					 files[i].path, why);
			continue;
		}
		cr_expect(!files[i].loads, "%s: a bad fixture the loader accepts", files[i].path);
		if (beyond(files[i].path))
			continue;
		bad_checked++;
		cr_expect_str_eq(v, "invalid",
				 "%s: the loader rejects it for its shape, the schema accepts it "
				 "(or list it in beyond_schema with why)",
				 files[i].path);
	}
	cr_expect_gt(bad_checked, 50);
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
	buf_free(&report);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(schema, the_validator_rejects_what_the_schema_forbids)
{
	/* a check of the check: a config with an unknown key, and one with a
	 * string where a number belongs, are invalid; the shipped demo is ok */
	char *dir = test_mkdtemp("schema");
	char a[600], b[600];
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	FILE *f = fopen(a, "w");
	fputs("{\"name\": \"x\", \"dataset\": {\"path\": \"d.jsonl\"}, \"endpoints\": {\"e\": "
	      "{\"base_url\": \"http://h/v1\"}}, \"slots\": {\"s\": \"m\"}, \"colour\": 1}\n",
	      f);
	fclose(f);
	f = fopen(b, "w");
	fputs(
	    "{\"name\": \"x\", \"dataset\": {\"path\": \"d.jsonl\"}, \"endpoints\": {\"e\": "
	    "{\"base_url\": \"http://h/v1\"}}, \"slots\": {\"s\": \"m\"}, \"timeout_s\": \"9\"}\n",
	    f);
	fclose(f);
	struct buf out = {0};
	cr_assert_eq(test_sh(&out,
			     "python3 scripts/schema-check.py evals/schema.json '%s' '%s' "
			     "evals/demo.json",
			     a, b),
		     0, "%s", out.data);
	cr_expect(strstr(out.data, "invalid\t") && strstr(out.data, "colour"), "%s", out.data);
	cr_expect(strstr(out.data, "timeout_s: '9' is not of type 'number'"), "%s", out.data);
	cr_expect(strstr(out.data, "ok\tevals/demo.json\n"), "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}
