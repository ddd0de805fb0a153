/* test_ci.c: the CI integrations, checked for structure: action.yml (a
 * composite GitHub Action) and ci/shadoweval.gitlab-ci.yml (a GitLab CI
 * template) each install, build, restore the response cache, run the eval
 * with --cache replay, gate it with check --junit --markdown, publish the
 * JUnit file and post or update the markdown on the review; README.md has a
 * complete example of each (scripts/check-ci.py, python3-yaml). actionlint,
 * when installed, lints the action; without it that test is skipped, and
 * the skip shows in the tests summary. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../support/files.h"
#include "core/buf.h"

Test(ci, action_and_gitlab_template_do_every_step_and_the_readme_shows_both)
{
	struct buf out = {0};
	int rc = test_sh(&out, "python3 scripts/check-ci.py .");
	cr_expect_eq(rc, 0, "scripts/check-ci.py found problems:\n%s", out.data);
	buf_free(&out);
}

Test(ci, the_checker_finds_a_missing_step)
{
	/* a copy of the repository's CI files with the replay flag removed
	 * from the action must fail: the check is not blind */
	char *dir = test_mkdtemp("ci");
	struct buf out = {0};
	int rc =
	    test_sh(&out,
		    "mkdir -p '%s/ci' && sed 's/--cache replay/--cache use/' action.yml > "
		    "'%s/action.yml' && cp ci/shadoweval.gitlab-ci.yml '%s/ci/' && cp README.md "
		    "'%s/' && python3 scripts/check-ci.py '%s'",
		    dir, dir, dir, dir, dir);
	cr_expect_eq(rc, 1, "%s", out.data);
	cr_expect(strstr(out.data, "action.yml: the eval is not run with --cache replay"), "%s",
		  out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(ci, actionlint_accepts_the_action)
{
	if (test_sh(NULL, "command -v actionlint") != 0)
		cr_skip_test("actionlint is not installed (not packaged by Debian)");
	/* actionlint lints workflows: the README's workflow, which uses the
	 * action, is written out and linted */
	char *dir = test_mkdtemp("ci");
	struct buf out = {0};
	int rc =
	    test_sh(&out,
		    "mkdir -p '%s/.github/workflows' && python3 scripts/check-ci.py --workflows . "
		    "'%s/.github/workflows' && cd '%s' && actionlint .github/workflows/*.yml",
		    dir, dir, dir);
	cr_expect_eq(rc, 0, "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}
