/* test_scorer.c: `command` checks and their scorer processes (src/scorer/,
 * src/checks/command.c): the config keys and their errors, the JSON lines
 * (request built, replies judged), the environment a scorer gets, and real
 * scorers (small sh scripts this file writes into its temp folder) that
 * answer, crash, hang, write garbage or read their environment. Each
 * scorer appends a line to starts.log in its folder when it starts, so
 * restarts are counted, not guessed. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checks/checks.h"
#include "core/buf.h"
#include "scorer/scorer.h"
#include "support/files.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Compiles {"checks":[check]} as if read from dir/eval.json. */
static int compile_in(struct chk_set *set, const char *dir, const char *check, struct se_err *err)
{
	char doc[4096];
	snprintf(doc, sizeof doc, "{\"checks\":[%s]}", check);
	cJSON *root = cJSON_Parse(doc);
	cr_assert_not_null(root, "bad test JSON: %s", doc);
	se_clear(err);
	int rc = chk_compile(set, cJSON_GetObjectItem(root, "checks"), NULL, NULL,
			     test_path(dir, "eval.json"), "checks", err);
	cJSON_Delete(root);
	return rc;
}

/* The error location a compile of check must fail at ("" for the file). */
static void compile_fails(const char *check, const char *where, const char *msg_part)
{
	char *dir = test_mkdtemp("scorer-cfg");
	test_write_file(test_path(dir, "plain.txt"), "not a program\n");
	struct chk_set set;
	struct se_err err;
	cr_expect_eq(compile_in(&set, dir, check, &err), -1, "%s compiled", check);
	char want[1024];
	snprintf(want, sizeof want, "%s: %s", test_path(dir, "eval.json"), where);
	cr_expect_str_eq(err.where, want, "%s", check);
	cr_expect(strstr(err.msg, msg_part), "%s: \"%s\" lacks \"%s\"", check, err.msg, msg_part);
	cr_expect_eq(err.kind, SE_INPUT);
	test_rmdir(dir);
}

/* A scorer script in dir: `body` after a line that logs the start. */
static void write_scorer(const char *dir, const char *name, const char *body)
{
	char text[4096];
	snprintf(text, sizeof text, "#!/bin/sh\necho start >> starts.log\n%s", body);
	test_write_file(test_path(dir, name), text);
}

/* The request's id, for sh: a request starts {"id":N, so what follows the
 * first ':' up to the first ','. */
#define SH_ID "id=${line#*:}; id=${id%%,*}\n"

struct rig {
	char *dir;
	struct chk_set set;
	struct scr_pool *pool;
	struct chk_item item;
};

/* Starts check (a command check whose argv runs a script of dir). */
static void rig_start(struct rig *r, const char *tag, const char *script, const char *body,
		      const char *check)
{
	memset(r, 0, sizeof *r);
	r->dir = test_mkdtemp(tag);
	write_scorer(r->dir, script, body);
	struct se_err err;
	cr_assert_eq(compile_in(&r->set, r->dir, check, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_eq(scr_pool_start(&r->pool, &r->set, test_path(r->dir, "eval.json"), &err), 0,
		     "%s: %s", err.where, err.msg);
	r->item = (struct chk_item){.id = "i1", .task = "code", .runner = scr_pool_runner(r->pool)};
}

static void rig_stop(struct rig *r)
{
	scr_pool_stop(r->pool);
	chk_set_free(&r->set);
	test_rmdir(r->dir);
}

/* Grades output; the one result (the set has one check) into *res. */
static void grade(struct rig *r, const char *output, struct chk_result *res)
{
	struct chk_outcome out;
	chk_eval(&r->set, &r->item, output, strlen(output), &out);
	cr_assert_eq(out.n, 1);
	*res = out.results[0];
	chk_outcome_free(&out);
}

static size_t starts(const struct rig *r)
{
	return test_count_lines(test_path(r->dir, "starts.log"));
}

/* ---- config ------------------------------------------------------------------- */

Test(scorer, config_errors_name_the_json_path)
{
	compile_fails("{\"type\":\"command\"}", "checks[0]", "missing \"argv\"");
	compile_fails("{\"type\":\"command\",\"argv\":[]}", "checks[0].argv", "non-empty array");
	compile_fails("{\"type\":\"command\",\"argv\":\"sh x.sh\"}", "checks[0].argv", "no shell");
	compile_fails("{\"type\":\"command\",\"argv\":[\"sh\",3]}", "checks[0].argv[1]", "string");
	compile_fails("{\"type\":\"command\",\"argv\":[\"./nope.sh\"]}", "checks[0].argv[0]",
		      "not an executable file");
	/* exists, but is not executable */
	compile_fails("{\"type\":\"command\",\"argv\":[\"./plain.txt\"]}", "checks[0].argv[0]",
		      "not an executable file");
	compile_fails("{\"type\":\"command\",\"argv\":[\"no-such-program-anywhere\"]}",
		      "checks[0].argv[0]", "not an executable in PATH");
	compile_fails("{\"type\":\"command\",\"argv\":[\"sh\"],\"timeout_s\":0}",
		      "checks[0].timeout_s", "0.001 to 86400");
	compile_fails("{\"type\":\"command\",\"argv\":[\"sh\"],\"max_restarts\":1.5}",
		      "checks[0].max_restarts", "integer");
	compile_fails("{\"type\":\"command\",\"argv\":[\"sh\"],\"env\":[\"OK\",\"1BAD\"]}",
		      "checks[0].env[1]", "variable name");
	compile_fails("{\"type\":\"command\",\"argv\":[\"sh\"],\"normalize\":[\"trim\"]}",
		      "checks[0].normalize", "not allowed for type \"command\"");
	compile_fails("{\"type\":\"regex\",\"pattern\":\"a\",\"argv\":[\"sh\"]}", "checks[0].argv",
		      "only allowed for type \"command\"");
}

Test(scorer, config_defaults_and_a_program_relative_to_the_config)
{
	char *dir = test_mkdtemp("scorer-cfg");
	write_scorer(dir, "s.sh", "cat\n");
	chmod(test_path(dir, "s.sh"), 0755);
	struct chk_set set;
	struct se_err err;
	cr_assert_eq(
	    compile_in(&set, dir, "{\"type\":\"command\",\"argv\":[\"./s.sh\",\"-x\"]}", &err), 0,
	    "%s: %s", err.where, err.msg);
	const char *name = NULL;
	const struct chk_cmd *cmd = chk_command(&set, 0, &name);
	cr_assert_not_null(cmd);
	cr_expect_str_eq(name, "command");
	cr_expect_eq(cmd->argc, 2);
	cr_expect_null(cmd->argv[2]);
	cr_expect_eq(cmd->timeout_s, 10);
	cr_expect_eq(cmd->max_restarts, 3);
	cr_expect_eq(cmd->n_env, 0);
	cr_expect_str_eq(cmd->dir, dir);
	cr_expect(chk_wants_item(&set), "a command check needs the item's fields");
	cr_expect_null(chk_needs_expected(&set));
	chk_set_free(&set);
	test_rmdir(dir);
}

/* ---- the JSON lines ------------------------------------------------------------ */

Test(scorer, request_is_one_json_line_with_the_item)
{
	cJSON *fields =
	    cJSON_Parse("{\"id\":\"q1\",\"task\":\"code\",\"tests\":\"assert f(1)\\n\"}");
	const char *exp[] = {"42", "forty-two"};
	struct chk_item it = {.id = "q1",
			      .task = "code",
			      .fields = fields,
			      .input = "say \"hi\"",
			      .expected = exp,
			      .n_expected = 2};
	struct buf b;
	buf_init(&b);
	scr_request(&b, 7, "unit", &it, "line1\nline2", 11);
	cr_assert_eq(b.data[b.len - 1], '\n');
	cr_assert_null(memchr(b.data, '\n', b.len - 1), "one line: %s", b.data);
	cJSON *j = cJSON_Parse(b.data);
	cr_assert_not_null(j, "%s", b.data);
	cr_expect_eq(cJSON_GetObjectItem(j, "id")->valuedouble, 7);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "check")->valuestring, "unit");
	cr_expect_str_eq(cJSON_GetObjectItem(j, "output")->valuestring, "line1\nline2");
	cr_expect_str_eq(cJSON_GetObjectItem(j, "input")->valuestring, "say \"hi\"");
	const cJSON *item = cJSON_GetObjectItem(j, "item");
	cr_expect_str_eq(cJSON_GetObjectItem(item, "tests")->valuestring, "assert f(1)\n");
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "expected")), 2);
	cJSON_Delete(j);
	/* no fields kept: the id and task still go */
	buf_reset(&b);
	struct chk_item bare = {.id = "q2", .task = ""};
	scr_request(&b, 8, "unit", &bare, "", 0);
	j = cJSON_Parse(b.data);
	cr_assert_not_null(j, "%s", b.data);
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "item"), "id")->valuestring,
			 "q2");
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "input")));
	cJSON_Delete(j);
	buf_free(&b);
	cJSON_Delete(fields);
}

static enum scr_reply parse(const char *line, long id, struct chk_result *r)
{
	memset(r, 0, sizeof *r);
	return scr_parse_reply(line, strlen(line), id, r);
}

Test(scorer, replies_are_judged_field_by_field)
{
	struct chk_result r;
	cr_expect_eq(
	    parse("{\"id\":3,\"pass\":true,\"score\":0.75,\"detail\":\"ok\",\"x\":1}", 3, &r),
	    SCR_REPLY_OK);
	cr_expect(r.pass);
	cr_expect_not(r.error);
	cr_expect_eq(r.score, 0.75);
	cr_expect_str_eq(r.detail, "ok");
	cr_expect_eq(parse("{\"id\":3,\"pass\":false}", 3, &r), SCR_REPLY_OK);
	cr_expect(isnan(r.score), "no score is null");
	cr_expect_str_eq(r.detail, "");
	/* in step, wrong types: a check error, the process may stay */
	cr_expect_eq(parse("{\"id\":3,\"pass\":\"yes\"}", 3, &r), SCR_REPLY_BAD);
	cr_expect(r.error);
	cr_expect_not(r.pass);
	cr_expect(strstr(r.detail, "\"pass\""), "%s", r.detail);
	cr_expect_eq(parse("{\"id\":3,\"pass\":true,\"score\":\"high\"}", 3, &r), SCR_REPLY_BAD);
	cr_expect_not(r.pass, "a bad reply never passes");
	cr_expect_eq(parse("{\"id\":3,\"pass\":true,\"detail\":5}", 3, &r), SCR_REPLY_BAD);
	/* out of step */
	cr_expect_eq(parse("{\"id\":2,\"pass\":true}", 3, &r), SCR_REPLY_WRONG_ID);
	cr_expect(r.error);
	cr_expect(strstr(r.detail, "id 2, not 3"), "%s", r.detail);
	cr_expect_eq(parse("not json at all", 3, &r), SCR_REPLY_GARBAGE);
	cr_expect(strstr(r.detail, "not json at all"), "%s", r.detail);
	cr_expect_eq(parse("[1,2]", 3, &r), SCR_REPLY_GARBAGE);
	cr_expect_eq(parse("{\"pass\":true}", 3, &r), SCR_REPLY_GARBAGE);
}

/* ---- the environment ----------------------------------------------------------- */

Test(scorer, env_holds_the_safe_set_and_the_listed_names_only)
{
	setenv("OPENROUTER_API_KEY", "sk-or-test-secret", 1);
	setenv("PASS_ME", "yes", 1);
	setenv("LANG", "C.UTF-8", 1);
	const char *names[] = {"PASS_ME", "NOT_SET_ANYWHERE_X", "LANG"};
	char **env = scr_env_build(names, 3);
	bool path = false, pass = false;
	size_t lang = 0;
	for (char **e = env; *e; e++) {
		cr_expect_null(strstr(*e, "sk-or-test-secret"), "a key leaked: %s", *e);
		cr_expect_neq(strncmp(*e, "NOT_SET_ANYWHERE_X", 18), 0);
		path = path || strncmp(*e, "PATH=", 5) == 0;
		pass = pass || strcmp(*e, "PASS_ME=yes") == 0;
		lang += strncmp(*e, "LANG=", 5) == 0;
	}
	cr_expect(path);
	cr_expect(pass);
	cr_expect_eq(lang, 1, "LANG listed twice is passed once");
	scr_env_free(env);
	unsetenv("OPENROUTER_API_KEY");
	unsetenv("PASS_ME");
}

/* ---- real scorers ------------------------------------------------------------- */

/* Passes outputs that start with "good", with score 0.5. */
static const char answer_sh[] =
    "while IFS= read -r line; do\n" SH_ID
    "case \"$line\" in *'\"output\":\"good'*) p=true;; *) p=false;; "
    "esac\n"
    "printf '{\"id\":%s,\"pass\":%s,\"score\":0.5,\"detail\":\"sh\"}\\n' "
    "\"$id\" \"$p\"\n"
    "done\n";

Test(scorer, a_scorer_that_answers_is_started_once, .timeout = 60)
{
	struct rig r;
	rig_start(&r, "scorer-ok", "answer.sh", answer_sh,
		  "{\"name\":\"unit\",\"type\":\"command\",\"argv\":[\"sh\",\"answer.sh\"]}");
	struct chk_result res;
	for (int i = 0; i < 5; i++) {
		grade(&r, "good answer", &res);
		cr_expect(res.pass);
		cr_expect_not(res.error, "%s", res.detail);
		cr_expect_eq(res.score, 0.5);
		cr_expect_str_eq(res.detail, "sh");
		cr_expect_str_eq(res.type, "command");
		grade(&r, "bad answer", &res);
		cr_expect_not(res.pass);
		cr_expect_not(res.error, "%s", res.detail);
	}
	cr_expect_eq(starts(&r), 1, "one process for the whole run");
	/* the line's checks object */
	struct chk_outcome out;
	chk_eval(&r.set, &r.item, "good", 4, &out);
	struct buf b;
	buf_init(&b);
	chk_outcome_json(&out, &b);
	cr_expect_str_eq(b.data, "{\"unit\":{\"pass\":true,\"score\":0.5,\"detail\":\"sh\","
				 "\"type\":\"command\"}}");
	buf_free(&b);
	chk_outcome_free(&out);
	/* without a runner (shadowsim), the command check is skipped */
	struct chk_item no_runner = {.id = "i1", .task = "code"};
	chk_eval(&r.set, &no_runner, "good", 4, &out);
	cr_expect_eq(out.n, 0);
	chk_outcome_free(&out);
	cr_expect_not(scr_pool_failed(r.pool, NULL));
	rig_stop(&r);
}

Test(scorer, a_crashing_scorer_is_restarted_then_fails_naming_the_check, .timeout = 60)
{
	struct rig r;
	rig_start(&r, "scorer-crash", "crash.sh", "read -r line\nexit 3\n",
		  "{\"name\":\"unit\",\"type\":\"command\",\"argv\":[\"sh\",\"crash.sh\"],"
		  "\"max_restarts\":2}");
	struct chk_result res;
	for (int i = 0; i < 3; i++) {
		grade(&r, "anything", &res);
		cr_expect(res.error, "try %d", i);
		cr_expect_not(res.pass);
		cr_expect_str_eq(res.detail, "scorer exited with status 3");
		cr_expect_not(scr_pool_failed(r.pool, NULL), "failed after %d crashes", i + 1);
	}
	cr_expect_eq(starts(&r), 3, "started once and restarted twice");
	/* a third restart is one too many */
	grade(&r, "anything", &res);
	cr_expect(res.error);
	struct se_err err;
	cr_assert(scr_pool_failed(r.pool, &err));
	cr_expect_eq(err.kind, SE_INPUT);
	char want[1024];
	snprintf(want, sizeof want, "%s: checks[0]", test_path(r.dir, "eval.json"));
	cr_expect_str_eq(err.where, want);
	cr_expect(strstr(err.msg, "command check \"unit\""), "%s", err.msg);
	cr_expect(strstr(err.msg, "max_restarts (2)"), "%s", err.msg);
	cr_expect(strstr(err.msg, "exited with status 3"), "%s", err.msg);
	cr_expect_eq(starts(&r), 3, "no fourth start");
	rig_stop(&r);
}

Test(scorer, a_hanging_scorer_times_out_and_is_restarted, .timeout = 60)
{
	struct rig r;
	/* the first process hangs on its first request; the next one answers */
	char body[2048];
	snprintf(
	    body, sizeof body,
	    "if [ \"$(wc -l < starts.log)\" -eq 1 ]; then read -r line; exec sleep 600; fi\n%s",
	    answer_sh);
	rig_start(&r, "scorer-hang", "hang.sh", body,
		  "{\"name\":\"unit\",\"type\":\"command\",\"argv\":[\"sh\",\"hang.sh\"],"
		  "\"timeout_s\":5}");
	struct chk_result res;
	grade(&r, "good", &res);
	cr_expect(res.error);
	cr_expect_not(res.pass);
	cr_expect(strstr(res.detail, "timed out"), "%s", res.detail);
	grade(&r, "good", &res);
	cr_expect(res.pass, "the restarted scorer answers: %s", res.detail);
	cr_expect_not(res.error);
	cr_expect_eq(starts(&r), 2);
	rig_stop(&r);
}

/* "junk": not JSON; "wrongid": another id; "badtype": pass is a string. */
static const char garbage_sh[] =
    "while IFS= read -r line; do\n" SH_ID "case \"$line\" in\n"
    "*'\"output\":\"junk'*) echo 'this is not json';;\n"
    "*'\"output\":\"wrongid'*) echo '{\"id\":999,\"pass\":true}';;\n"
    "*'\"output\":\"badtype'*) printf '{\"id\":%s,\"pass\":\"yes\"}\\n' \"$id\";;\n"
    "*) printf '{\"id\":%s,\"pass\":true}\\n' \"$id\";;\n"
    "esac\ndone\n";

Test(scorer, garbage_replies_are_check_errors_and_resync_the_protocol, .timeout = 60)
{
	struct rig r;
	rig_start(&r, "scorer-garbage", "garbage.sh", garbage_sh,
		  "{\"name\":\"unit\",\"type\":\"command\",\"argv\":[\"sh\",\"garbage.sh\"],"
		  "\"max_restarts\":5}");
	struct chk_result res;
	grade(&r, "badtype", &res);
	cr_expect(res.error);
	cr_expect_not(res.pass);
	cr_expect(strstr(res.detail, "\"pass\""), "%s", res.detail);
	cr_expect_eq(starts(&r), 1, "a reply in step keeps the process");
	grade(&r, "fine", &res);
	cr_expect(res.pass, "%s", res.detail);

	grade(&r, "junk", &res);
	cr_expect(res.error);
	cr_expect(strstr(res.detail, "not a JSON object"), "%s", res.detail);
	grade(&r, "fine", &res);
	cr_expect(res.pass, "%s", res.detail);
	cr_expect_eq(starts(&r), 2, "garbage: restarted");

	grade(&r, "wrongid", &res);
	cr_expect(res.error);
	cr_expect(strstr(res.detail, "id 999"), "%s", res.detail);
	grade(&r, "fine", &res);
	cr_expect(res.pass, "%s", res.detail);
	cr_expect_eq(starts(&r), 3, "out of step: restarted");
	cr_expect_not(scr_pool_failed(r.pool, NULL));
	rig_stop(&r);
}

Test(scorer, a_scorer_inherits_no_api_key_unless_listed, .timeout = 60)
{
	setenv("OPENROUTER_API_KEY", "sk-or-test-secret", 1);
	setenv("SCORER_TOKEN", "listed-value", 1);
	struct rig r;
	rig_start(&r, "scorer-env", "env.sh", "env > env.txt\ncat > /dev/null\n",
		  "{\"name\":\"unit\",\"type\":\"command\",\"argv\":[\"sh\",\"env.sh\"],"
		  "\"env\":[\"SCORER_TOKEN\"]}");
	scr_pool_stop(r.pool); /* EOF: it has written env.txt and exited */
	r.pool = NULL;
	char *env = test_read_file(test_path(r.dir, "env.txt"), NULL);
	cr_expect_null(strstr(env, "OPENROUTER_API_KEY"), "%s", env);
	cr_expect_null(strstr(env, "sk-or-test-secret"), "%s", env);
	cr_expect_not_null(strstr(env, "SCORER_TOKEN=listed-value"), "%s", env);
	cr_expect_not_null(strstr(env, "PATH="), "%s", env);
	free(env);
	unsetenv("OPENROUTER_API_KEY");
	unsetenv("SCORER_TOKEN");
	rig_stop(&r);
}
