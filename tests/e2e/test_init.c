/* test_init.c: `shadoweval init`, then the two commands it prints, run for
 * real: shadowsim on the printed profiles and eval (on a free port instead of
 * the printed 8080, which another program may hold), and the printed run
 * command pointed at it. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../support/files.h"
#include "../support/simproc.h"
#include "core/buf.h"

/* The word after `flag ` on the printed line that starts with `prefix`. */
static char *printed_arg(const char *text, const char *prefix, const char *flag)
{
	const char *line = strstr(text, prefix);
	cr_assert(line, "init printed no \"%s\" line:\n%s", prefix, text);
	const char *eol = strchr(line, '\n');
	const char *f = strstr(line, flag);
	cr_assert(f && (!eol || f < eol), "no %s on the printed line:\n%s", flag, line);
	f += strlen(flag);
	size_t n = strcspn(f, " \n");
	return strndup(f, n);
}

Test(init, the_printed_commands_run_a_shadow_eval)
{
	char *dir = test_mkdtemp("init");
	char sub[1024];
	snprintf(sub, sizeof(sub), "%s/starter", dir);
	struct buf out = {0};
	int rc = test_sh(&out, "%s/shadoweval init %s", test_bin_dir(), sub);
	cr_assert_eq(rc, 0, "init: %s", out.data);

	char *profiles = printed_arg(out.data, "  shadowsim ", "--profiles ");
	char *eval = printed_arg(out.data, "  shadowsim ", "--eval ");
	char *run_eval = printed_arg(out.data, "  shadoweval run ", "shadoweval run ");
	cr_expect_str_eq(eval, run_eval);
	cr_expect(strstr(out.data, "--port 8080"), "%s", out.data);

	struct simproc sim;
	cr_assert_eq(simproc_start(&sim, profiles, eval, NULL), 0, "%s", sim.error);
	struct buf run = {0};
	rc = test_sh(&run, "%s/shadoweval run %s --endpoint sim=%s -o %s/run --quiet",
		     test_bin_dir(), run_eval, sim.base_url, dir);
	cr_expect_eq(simproc_stop(&sim), 0);
	cr_assert_eq(rc, 0, "run: %s", run.data);

	/* 12 items, each to its primary and to the one shadow. */
	char path[1200];
	snprintf(path, sizeof(path), "%s/run/results.jsonl", dir);
	cr_expect_eq(test_count_lines(path), 24);
	snprintf(path, sizeof(path), "%s/run/pairs.csv", dir);
	char *pairs = test_read_file(path, NULL);
	cr_expect(strstr(pairs, "openai/gpt-4.1-mini"), "%s", pairs);
	free(pairs);

	/* A second init into the same folder refuses, naming the file; --force
	 * overwrites. */
	buf_reset(&out);
	rc = test_sh(&out, "%s/shadoweval init %s", test_bin_dir(), sub);
	cr_expect_eq(rc, 2);
	cr_expect(strstr(out.data, "eval.json: already exists"), "%s", out.data);
	buf_reset(&out);
	cr_expect_eq(test_sh(&out, "%s/shadoweval init --force %s", test_bin_dir(), sub), 0, "%s",
		     out.data);

	free(profiles);
	free(eval);
	free(run_eval);
	buf_free(&out);
	buf_free(&run);
	cr_assert_eq(test_sh(&out, "rm -rf %s/run %s", dir, sub), 0);
	buf_free(&out);
	test_rmdir(dir);
}

/* A target that cannot be a folder is named as such, not through the
 * temporary file init would write in it ("FILE/eval.json.tmp: cannot
 * remove the stale temporary file: Not a directory"). */
Test(init, a_target_that_is_not_a_folder_is_named)
{
	char *dir = test_mkdtemp("init-notdir");
	struct buf out = {0};
	cr_assert_eq(test_sh(NULL, "cd %s && : > FILE && ln -s nowhere LINK", dir), 0);
	static const struct {
		const char *target, *want;
	} cases[] = {
	    {"FILE", "/FILE: exists and is not a folder\n"},
	    {"FILE/sub", "/FILE: exists and is not a folder\n"},
	    {"LINK", "/LINK: is a symbolic link to nothing (a dangling link), not a folder\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		int rc = test_sh(&out, "%s/shadoweval init %s/%s 2>&1", test_bin_dir(), dir,
				 cases[i].target);
		cr_expect_eq(rc, 2, "%s: %s", cases[i].target, out.data);
		cr_expect(strstr(out.data, cases[i].want), "%s: %s", cases[i].target, out.data);
		cr_expect(!strstr(out.data, ".tmp"), "%s: %s", cases[i].target, out.data);
	}
	buf_reset(&out);
	cr_expect_neq(test_sh(NULL, "test -e %s/nowhere", dir), 0, "the link's target was made");
	buf_free(&out);
	test_sh(NULL, "rm -rf %s", dir);
	free(dir);
}

Test(init, the_starter_eval_validates_and_routes_every_task)
{
	char *dir = test_mkdtemp("init-validate");
	struct buf out = {0};
	cr_assert_eq(test_sh(&out, "%s/shadoweval init %s", test_bin_dir(), dir), 0, "%s",
		     out.data);
	buf_reset(&out);
	int rc = test_sh(&out, "%s/shadoweval route %s/eval.json", test_bin_dir(), dir);
	cr_assert_eq(rc, 0, "%s", out.data);
	/* Every seed rule decides at least one item: tier, code, both complexity
	 * bands the starter covers, draft and reason. */
	static const char *const rules[] = {"tier=premium", "task \"code\"",  "est 55 < 500",
					    "500 <= est",   "task \"draft\"", "task \"reason\""};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		cr_expect(strstr(out.data, rules[i]), "no item decided by %s:\n%s", rules[i],
			  out.data);
	buf_free(&out);
	cr_assert_eq(test_sh(&out, "rm -f %s/eval.json %s/dataset.jsonl %s/sim-profiles.json", dir,
			     dir, dir),
		     0);
	buf_free(&out);
	test_rmdir(dir);
}
