/* test_validate.c: what validate, route and run find before anything is
 * spent, end to end with the real binary: validate's warnings by rule index
 * (a rule matching no item, a rule an earlier one shadows, a rule that
 * decides nothing, metadata keys no item has); the API-key rule shared by
 * validate, route and run (unset or empty is exit 2, unless --cache replay);
 * --set and --routing (errors name the flag and the path; the manifest
 * records them with the effective config's hash; --resume refuses another
 * override); and `route --diff`.
 *
 * Configs and datasets are written per test into a temporary folder; a run
 * goes to shadowsim on 127.0.0.1 with no latency (a few requests).
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/files.h"
#include "../support/simproc.h"
#include "core/buf.h"

/* 8 items: qa and math, some premium; no "region" anywhere. */
static const char items[] =
    "{\"id\": \"a1\", \"task\": \"qa\", \"prompt\": \"Say 1.\", \"expected\": \"1\", \"tier\": "
    "\"premium\"}\n"
    "{\"id\": \"a2\", \"task\": \"qa\", \"prompt\": \"Say 2.\", \"expected\": \"2\"}\n"
    "{\"id\": \"a3\", \"task\": \"qa\", \"prompt\": \"Say 3.\", \"expected\": \"3\"}\n"
    "{\"id\": \"m1\", \"task\": \"math\", \"prompt\": \"Say 4.\", \"expected\": \"4\", \"tier\": "
    "\"premium\"}\n"
    "{\"id\": \"m2\", \"task\": \"math\", \"prompt\": \"Say 5.\", \"expected\": \"5\"}\n"
    "{\"id\": \"m3\", \"task\": \"math\", \"prompt\": \"Say 6 and then a longer tail of words.\", "
    "\"expected\": \"6\"}\n"
    "{\"id\": \"c1\", \"task\": \"chat\", \"prompt\": \"Say 7.\", \"expected\": \"7\"}\n"
    "{\"id\": \"c2\", \"task\": \"chat\", \"prompt\": \"Say 8.\", \"expected\": \"8\"}\n";

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* dir/eval.json: three slots on one endpoint (base_url, key variable or
 * NULL), the given rules (a JSON array) and default. */
static void write_eval(const char *dir, const char *name, const char *base_url, const char *key_env,
		       const char *rules, const char *dflt)
{
	char text[4096];
	char key[128] = "";
	if (key_env)
		snprintf(key, sizeof(key), ", \"api_key_env\": \"%s\"", key_env);
	snprintf(text, sizeof(text),
		 "{\"name\": \"v\",\n"
		 " \"dataset\": {\"path\": \"items.jsonl\"},\n"
		 " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"%s}},\n"
		 " \"slots\": {\"fast\": \"sim/fast\", \"balanced\": \"sim/bal\", \"deep\": "
		 "\"sim/deep\"},\n"
		 " \"routing\": {\"rules\": %s, \"default\": \"%s\"},\n"
		 " \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
		 "[\"trim\"]}],\n"
		 " \"params\": {\"max_tokens\": 8},\n"
		 " \"retry\": {\"max_attempts\": 1},\n"
		 " \"timeout_s\": 5\n}\n",
		 base_url, key, rules, dflt);
	write_text(dir, name, text);
}

/* Runs "cd dir && [env] shadoweval args"; output into out (reset first). */
static int se(struct buf *out, const char *dir, const char *env, const char *args)
{
	buf_reset(out);
	return test_sh(out, "cd '%s' && %s '%s/shadoweval' %s", dir, env ? env : "", test_bin_abs(),
		       args);
}

static const char plain_rules[] = "[{\"task\": \"math\", \"slot\": \"deep\"}]";

Test(validate, warns_by_rule_index_about_rules_and_metadata_the_dataset_never_meets)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL,
		   "[{\"task\": [\"qa\", \"math\"], \"slot\": \"fast\"},"
		   " {\"task\": \"qa\", \"slot\": \"deep\"},"
		   " {\"task\": \"poetry\", \"slot\": \"deep\"},"
		   " {\"metadata\": {\"region\": \"eu\"}, \"slot\": \"deep\"},"
		   " {\"metadata\": {\"tier\": \"premium\"}, \"slot\": \"deep\"},"
		   " {\"task\": \"chat\", \"slot\": \"balanced\"}]",
		   "balanced");
	struct buf out = {0};
	cr_expect_eq(se(&out, dir, NULL, "validate eval.json"), 0, "%s", out.data);
	const char *want[] = {
	    "warning: eval.json: routing.rules[1]: can never be reached: routing.rules[0] "
	    "matches every item it matches",
	    "warning: eval.json: routing.rules[2]: matches no item of the dataset",
	    "warning: eval.json: routing.rules[3]: matches no item of the dataset",
	    "warning: eval.json: routing.rules[3].metadata.region: no item has the field "
	    "\"region\"",
	    "warning: eval.json: routing.rules[4]: decides no item of the dataset: the 2 it "
	    "matches go to earlier rules",
	    "warnings   5",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(out.data, want[i]), "missing \"%s\" in:\n%s", want[i], out.data);
	cr_expect(!strstr(out.data, "rules[0]:"), "rule 0 decides items: %s", out.data);
	cr_expect(!strstr(out.data, "rules[5]"), "rule 5 decides the chat items: %s", out.data);

	/* a policy whose every rule decides something: no warning at all */
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL, plain_rules, "fast");
	cr_expect_eq(se(&out, dir, NULL, "validate eval.json"), 0, "%s", out.data);
	cr_expect(!strstr(out.data, "warning"), "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(validate, an_unset_or_empty_key_variable_is_exit_2_for_validate_route_and_run_unless_replay)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", "SE_E2E_VAL_KEY", plain_rules,
		   "fast");
	static const char *const cmds[] = {"validate eval.json", "route eval.json",
					   "run eval.json -o r --quiet"};
	struct buf out = {0};
	for (size_t i = 0; i < 3; i++) {
		for (int empty = 0; empty < 2; empty++) {
			const char *env = empty ? "SE_E2E_VAL_KEY=" : "env -u SE_E2E_VAL_KEY";
			cr_expect_eq(se(&out, dir, env, cmds[i]), 2, "%s: %s", cmds[i], out.data);
			cr_expect(
			    strstr(out.data, "environment variable SE_E2E_VAL_KEY is not set"),
			    "%s: %s", cmds[i], out.data);
		}
	}
	cr_expect_eq(se(&out, dir, "env -u SE_E2E_VAL_KEY", "validate eval.json --cache replay"), 0,
		     "%s", out.data);
	cr_expect_eq(se(&out, dir, "env -u SE_E2E_VAL_KEY", "route eval.json --cache replay"), 0,
		     "%s", out.data);
	cr_expect_eq(se(&out, dir, "SE_E2E_VAL_KEY=k", "validate eval.json"), 0, "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* A profiles file for shadowsim: the three models, answering at once. */
static char *profiles(const char *dir)
{
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/profiles.json", dir) > 0);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs("{\"seed\": 3, \"models\": {", f);
	static const char *const m[] = {"sim/fast", "sim/bal", "sim/deep"};
	for (int i = 0; i < 3; i++)
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, \"accuracy\": "
			"{\"default\": 1.0}}",
			i ? ", " : "", m[i]);
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(validate, a_replay_run_needs_no_key, .timeout = 120)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	char *prof = profiles(dir);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, NULL, NULL), 0, "%s", sp.error);
	write_eval(dir, "eval.json", sp.base_url, "SE_E2E_VAL_KEY", plain_rules, "fast");
	struct buf out = {0};
	cr_assert_eq(se(&out, dir, "SE_E2E_VAL_KEY=k", "run eval.json -o live --cache use --quiet"),
		     0, "%s", out.data);
	simproc_stop(&sp);
	cr_expect_eq(se(&out, dir, "env -u SE_E2E_VAL_KEY",
			"run eval.json -o replay --cache replay --quiet"),
		     0, "%s", out.data);
	cr_expect_eq(test_sh(NULL, "test $(wc -l < '%s/replay/results.jsonl') -eq 8", dir), 0);
	buf_free(&out);
	free(prof);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(validate, set_and_routing_override_the_config_and_errors_name_the_flag_and_path)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL, plain_rules, "fast");
	struct buf out = {0};
	/* the 3 math items go to deep, the rest to fast; --set moves the rest */
	cr_assert_eq(
	    se(&out, dir, NULL, "route eval.json --csv --set 'routing.default=\"balanced\"'"), 0,
	    "%s", out.data);
	cr_expect(strstr(out.data, "\"a1\",\"qa\","), "%s", out.data);
	cr_expect(strstr(out.data, "\"balanced\",\"sim/bal\",\"routing.default\""), "%s", out.data);
	cr_expect(!strstr(out.data, "\"fast\""), "%s", out.data);
	/* an index one past the end appends a rule */
	cr_assert_eq(
	    se(&out, dir, NULL,
	       "route eval.json --csv --set 'routing.rules[1]={\"task\": \"qa\", \"slot\": "
	       "\"balanced\"}'"),
	    0, "%s", out.data);
	cr_expect(strstr(out.data, "\"a2\",\"qa\""), "%s", out.data);
	cr_expect(strstr(out.data, "\"balanced\",\"sim/bal\",\"routing.rules[1]"), "%s", out.data);

	static const struct {
		const char *args, *want;
	} bad[] = {
	    {"--set 'routing.rules[5].slot=\"deep\"'",
	     "--set: routing.rules[5].slot: index 5 is out of range (the array has 1)"},
	    {"--set 'routing.rules[0].slot=\"dep\"'",
	     "eval.json: routing.rules[0].slot: unknown slot \"dep\""},
	    {"--set 'routing.rules[0].slot=\"dep\"'", "(set by --set routing.rules[0].slot)"},
	    {"--set 'routing.rules[0].slot=deep'",
	     "--set: routing.rules[0].slot: the value is not JSON"},
	    {"--set routing.default", "--set: expected PATH=JSON"},
	    {"--set 'name.first=\"x\"'", "--set: name.first: part 2 of the path expects an object"},
	    {"--set 'routing.nope=1'",
	     "eval.json: routing: unknown key \"nope\" (known: rules, default, estimator) (set by "
	     "--set routing.nope)"},
	    {"--routing missing.json", "missing.json"},
	    {"--routing bad.json", "bad.json:2:"},
	};
	write_text(dir, "bad.json", "{\"rules\": [],\n \"default\": }\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char args[512];
		snprintf(args, sizeof(args), "validate eval.json %s", bad[i].args);
		cr_expect_eq(se(&out, dir, NULL, args), 2, "%s: %s", args, out.data);
		cr_expect(strstr(out.data, bad[i].want), "%s: want \"%s\" in: %s", args,
			  bad[i].want, out.data);
	}
	/* --routing takes a routing block, or a config holding one */
	write_text(dir, "r.json", "{\"rules\": [], \"default\": \"deep\"}\n");
	cr_expect_eq(se(&out, dir, NULL, "route eval.json --csv --routing r.json"), 0, "%s",
		     out.data);
	cr_expect(!strstr(out.data, "\"fast\"") && strstr(out.data, "\"m3\",\"math\""), "%s",
		  out.data);
	cr_expect(!strstr(out.data, "routing.rules["), "%s", out.data);
	write_eval(dir, "other.json", "http://127.0.0.1:9/v1", NULL, "[]", "balanced");
	cr_expect_eq(se(&out, dir, NULL, "route eval.json --csv --routing other.json"), 0, "%s",
		     out.data);
	cr_expect(!strstr(out.data, "\"deep\"") && strstr(out.data, "\"balanced\""), "%s",
		  out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* An override's JSON text meets the config file's rules: a NUL in a string
 * (cJSON cut "m/b\u0000zzz" to "m/b" and the run used it), a key given twice,
 * text that is not UTF-8; in --set values (keys too) and --routing files. */
Test(validate, overrides_meet_the_config_files_rules_for_json_text)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL, plain_rules, "fast");
	write_text(dir, "nul.json", "{\"rules\": [], \"default\": \"deep\\u0000x\"}\n");
	write_text(dir, "dup.json", "{\"rules\": [], \"default\": \"deep\", \"default\": 1}\n");
	write_text(dir, "latin1.json",
		   "{\"rules\": [], \"default\": \"d\xe9"
		   "ep\"}\n");
	static const struct {
		const char *args, *want;
	} bad[] = {
	    {"--set 'slots.balanced=\"m/b\\u0000zzz\"'",
	     "--set: slots.balanced: contains a NUL character"},
	    {"--set 'name=\"a\\u0000b\"'", "--set: name: contains a NUL character"},
	    {"--set 'routing.rules[0]={\"task\": \"qa\\u0000\", \"slot\": \"deep\"}'",
	     "--set: routing.rules[0].task: contains a NUL character"},
	    {"--set 'slots={\"x\\u0000\": \"m/b\"}'", "--set: slots.x"},
	    {"--set 'routing.rules=[\"\\u0000\"]'", "--set: routing.rules[0]: contains a NUL"},
	    {"--set 'routing.rules[0]={\"task\": \"qa\", \"task\": \"math\", \"slot\": "
	     "\"deep\"}'",
	     "--set: routing.rules[0]: duplicate key \"task\""},
	    {"--set \"name=\\\"$(printf 'a\\351')\\\"\"",
	     "--set: name: invalid JSON: not valid UTF-8"},
	    {"--routing nul.json", "nul.json: default: contains a NUL character"},
	    {"--routing dup.json", "dup.json: (root): duplicate key \"default\""},
	    {"--routing latin1.json", "latin1.json: invalid JSON: not valid UTF-8"},
	};
	struct buf out = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char args[512];
		snprintf(args, sizeof(args), "validate eval.json %s", bad[i].args);
		const char *want = bad[i].want;
		cr_expect_eq(se(&out, dir, NULL, args), 2, "%s: %s", args, out.data);
		cr_expect(strstr(out.data, want), "%s: want \"%s\" in: %s", args, want, out.data);
	}
	/* the same values without the NUL are fine */
	cr_expect_eq(se(&out, dir, NULL, "validate eval.json --set 'name=\"ab\"'"), 0, "%s",
		     out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* Messages echo keys and values as given: control bytes in them show as
 * \xNN (a newline in a --set key split the message over two lines; an ESC
 * would drive the terminal), whichever check refuses them; and a number out
 * of range is no type error ("must be a number, not a number"). */
Test(validate, messages_escape_control_bytes_and_name_the_range)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL, plain_rules, "fast");
	static const struct {
		const char *args, *want;
	} cases[] = {
	    {"--set \"$(printf 'routing.default=\"x\\nY\\033[2J\"')\"",
	     "unknown slot \"x\\x0aY\\x1b[2J\""},
	    {"--set \"$(printf 'routing.a\\nb=1')\"", "unknown key \"a\\x0ab\""},
	    {"--set 'checks=[{\"name\": \"j\", \"type\": \"judge\", \"judge\": \"fast\", "
	     "\"pass_threshold\": 1e308}]'",
	     "checks[0].pass_threshold: must be a number from -1e9 to 1e9"},
	};
	struct buf out = {0};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[512];
		snprintf(args, sizeof(args), "validate eval.json %s", cases[i].args);
		cr_expect_eq(se(&out, dir, NULL, args), 2, "%s: %s", args, out.data);
		cr_expect(strstr(out.data, cases[i].want), "%s: want \"%s\" in: %s", args,
			  cases[i].want, out.data);
		/* one line of message, then the --help hint at most */
		const char *nl = strchr(out.data, '\n');
		cr_expect(nl && (!nl[1] || !strncmp(nl + 1, "see '", 5)), "%s: %s", args, out.data);
		cr_expect(!strchr(out.data, '\033'), "%s: a raw ESC", args);
	}
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(validate, route_diff_counts_items_per_old_and_new_slot_and_lists_them)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	write_eval(dir, "eval.json", "http://127.0.0.1:9/v1", NULL, plain_rules, "fast");
	/* other.json: qa to balanced; math stays deep, chat stays fast */
	write_eval(dir, "other.json", "http://127.0.0.1:9/v1", NULL,
		   "[{\"task\": \"math\", \"slot\": \"deep\"}, {\"task\": \"qa\", \"slot\": "
		   "\"balanced\"}]",
		   "fast");
	struct buf out = {0};
	cr_assert_eq(se(&out, dir, NULL, "route eval.json --diff other.json"), 0, "%s", out.data);
	cr_expect(strstr(out.data, "3 of 8 items change slot or model"), "%s", out.data);
	cr_expect(strstr(out.data, "fast         -> balanced            3   sim/fast -> sim/bal"),
		  "%s", out.data);
	cr_expect(strstr(out.data, "deep         -> deep                3   sim/deep (unchanged)"),
		  "%s", out.data);
	cr_expect(strstr(out.data, "fast         -> fast                2"), "%s", out.data);
	cr_expect(!strstr(out.data, "a1 "), "no --items, no list: %s", out.data);
	/* the same change as an override, with the items listed */
	cr_assert_eq(se(&out, dir, NULL,
			"route eval.json --diff --items --csv --set 'routing.rules[1]={\"task\": "
			"\"qa\", \"slot\": \"balanced\"}'"),
		     0, "%s", out.data);
	cr_expect(strstr(out.data, "3 of 8 items change slot or model"), "%s", out.data);
	/* the CSV has the text's columns: the new rule last */
	cr_expect(strstr(out.data, "id,task,old_slot,old_model,new_slot,new_model,new_rule\n"),
		  "%s", out.data);
	for (int i = 1; i <= 3; i++) {
		char line[128];
		snprintf(line, sizeof(line),
			 "\"a%d\",\"qa\",\"fast\",\"sim/fast\",\"balanced\",\"sim/bal\","
			 "\"routing.rules[1]: task \"\"qa\"\"\"\n",
			 i);
		cr_expect(strstr(out.data, line), "missing %s in %s", line, out.data);
	}
	cr_expect(!strstr(out.data, "\"m1\""), "%s", out.data);
	/* a model swap in a slot changes no slot, but the model */
	cr_assert_eq(se(&out, dir, NULL, "route eval.json --diff --set 'slots.deep=\"sim/bal\"'"),
		     0, "%s", out.data);
	cr_expect(strstr(out.data, "3 of 8 items change slot or model"), "%s", out.data);
	cr_expect(strstr(out.data, "deep         -> deep                3   sim/deep -> sim/bal"),
		  "%s", out.data);
	/* nothing to compare */
	cr_expect_eq(se(&out, dir, NULL, "route eval.json --diff"), 2, "%s", out.data);
	cr_expect(strstr(out.data, "nothing to compare"), "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* A manifest field as text ("" when absent; arrays joined with "|"). */
static void manifest_field(const char *dir, const char *key, char *out, size_t size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *s = test_read_file(path, NULL);
	cJSON *o = cJSON_Parse(s);
	free(s);
	cr_assert(o, "%s is not JSON", path);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	out[0] = '\0';
	if (cJSON_IsString(v))
		snprintf(out, size, "%s", v->valuestring);
	for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e; e = e->next)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", e == v->child ? "" : "|",
			 e->valuestring);
	cJSON_Delete(o);
}

/* A --set under `endpoints` may carry a header with a key: the manifest
 * records its SHA-256, never the text, and --resume still tells it apart. */
Test(validate, an_endpoint_override_is_recorded_by_its_hash_not_its_key, .timeout = 120)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	char *prof = profiles(dir);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, NULL, NULL), 0, "%s", sp.error);
	write_eval(dir, "eval.json", sp.base_url, NULL, plain_rules, "fast");
	static const char secret[] = "sk-or-v1-0123456789abcdef0123456789abcdef";
	struct buf out = {0};
	cr_assert_eq(se(&out, dir, NULL,
			"run eval.json -o k --quiet --set 'endpoints.sim.headers={\"X-Api-Key\": "
			"\"sk-or-v1-0123456789abcdef0123456789abcdef\"}'"),
		     0, "%s", out.data);
	char p[512], list[512];
	snprintf(p, sizeof(p), "%s/k", dir);
	manifest_field(p, "overrides", list, sizeof(list));
	cr_expect(!strncmp(list, "--set endpoints.sim.headers=(sha256 ", 36), "%s", list);
	buf_reset(&out);
	cr_expect_eq(test_sh(&out, "grep -rl '%s' '%s' || true", secret, p), 0);
	cr_expect_eq(strlen(out.data), 0, "the key is in %s", out.data);
	/* another value is another hash: --resume refuses it; the same resumes */
	cr_expect_eq(se(&out, dir, NULL,
			"run eval.json -o k --resume --quiet --set 'endpoints.sim.headers="
			"{\"X-Api-Key\": \"sk-other\"}'"),
		     2, "%s", out.data);
	cr_expect_null(strstr(out.data, secret), "%s", out.data);
	cr_expect_eq(
	    se(&out, dir, NULL,
	       "run eval.json -o k --resume --quiet --set 'endpoints.sim.headers={\"X-Api-Key\": "
	       "\"sk-or-v1-0123456789abcdef0123456789abcdef\"}'"),
	    0, "%s", out.data);
	simproc_stop(&sp);
	buf_free(&out);
	free(prof);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(validate, the_manifest_records_overrides_and_resume_refuses_another, .timeout = 120)
{
	char *dir = test_mkdtemp("val");
	write_text(dir, "items.jsonl", items);
	char *prof = profiles(dir);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, NULL, NULL), 0, "%s", sp.error);
	write_eval(dir, "eval.json", sp.base_url, NULL, plain_rules, "fast");
	struct buf out = {0};
	cr_assert_eq(se(&out, dir, NULL, "run eval.json -o plain --quiet"), 0, "%s", out.data);
	cr_assert_eq(se(&out, dir, NULL,
			"run eval.json -o over --quiet --set 'routing.default=\"balanced\"'"),
		     0, "%s", out.data);
	simproc_stop(&sp);
	char plain[128], over[128], file_sha[128], list[512];
	char p1[512], p2[512];
	snprintf(p1, sizeof(p1), "%s/plain", dir);
	snprintf(p2, sizeof(p2), "%s/over", dir);
	manifest_field(p1, "config_sha256", plain, sizeof(plain));
	manifest_field(p2, "config_sha256", over, sizeof(over));
	manifest_field(p2, "config_file_sha256", file_sha, sizeof(file_sha));
	manifest_field(p2, "overrides", list, sizeof(list));
	cr_expect_str_eq(file_sha, plain, "the file's own hash is kept");
	cr_expect_str_neq(over, plain, "the effective config differs, so does its hash");
	cr_expect_str_eq(list, "--set routing.default=\"balanced\"");
	/* --resume with another override, or none, is refused naming both */
	cr_expect_eq(se(&out, dir, NULL,
			"run eval.json -o over --resume --quiet --set 'routing.default=\"deep\"'"),
		     2, "%s", out.data);
	cr_expect(strstr(out.data, "the run being resumed used --set routing.default=\"balanced\""),
		  "%s", out.data);
	cr_expect_eq(se(&out, dir, NULL, "run eval.json -o over --resume --quiet"), 2, "%s",
		     out.data);
	cr_expect(strstr(out.data, "this one no --set or --routing"), "%s", out.data);
	/* the same override resumes (nothing left to send: the server is gone) */
	cr_expect_eq(
	    se(&out, dir, NULL,
	       "run eval.json -o over --resume --quiet --set 'routing.default=\"balanced\"'"),
	    0, "%s", out.data);
	buf_free(&out);
	free(prof);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}
