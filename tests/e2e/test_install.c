/* test_install.c: what `make install` lays down, the man pages (mandoc lint
 * and no drift from --help), and the bash completion, all through the real
 * files and binaries.
 *
 * The binaries under test are the sanitized ones ($SE_BIN_DIR); `make
 * install-files INSTALL_BIN=$SE_BIN_DIR` installs them without a release
 * build. mandoc is installed by scripts/install-deps.sh (make test runs it).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "../support/files.h"

static bool is_file(const char *dir, const char *rel)
{
	char path[1024];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

static const char *const installed[] = {
    "usr/bin/shadoweval",
    "usr/bin/shadowsim",
    "usr/share/man/man1/shadoweval.1",
    "usr/share/man/man1/shadowsim.1",
    "usr/share/man/man5/shadoweval-eval.5",
    "usr/share/bash-completion/completions/shadoweval",
    "usr/share/bash-completion/completions/shadowsim",
    "usr/share/zsh/site-functions/_shadoweval",
    "usr/share/shadoweval/evals/demo.json",
    "usr/share/shadoweval/evals/schema.json",
    "usr/share/shadoweval/evals/sim-profiles.json",
    "usr/share/shadoweval/evals/pricing/openrouter-models.json",
    "usr/share/shadoweval/datasets/mixed.jsonl",
    "usr/share/shadoweval/datasets/README.md",
};

Test(install, lays_down_binaries_pages_completions_and_examples_then_uninstalls)
{
	char *dest = test_mkdtemp("install");
	struct buf out = {0};
	int rc = test_sh(
	    &out,
	    "make -s --no-print-directory install-files DESTDIR=%s PREFIX=/usr INSTALL_BIN=%s",
	    dest, test_bin_dir());
	cr_assert_eq(rc, 0, "make install-files: %s", out.data);
	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++)
		cr_expect(is_file(dest, installed[i]), "not installed: %s", installed[i]);

	/* The installed binary runs, and its man page is found by man's path. */
	buf_reset(&out);
	cr_assert_eq(test_sh(&out, "%s/usr/bin/shadoweval --version", dest), 0);
	cr_expect(strstr(out.data, "shadoweval "), "%s", out.data);

	buf_reset(&out);
	rc = test_sh(&out, "make -s --no-print-directory uninstall DESTDIR=%s PREFIX=/usr", dest);
	cr_assert_eq(rc, 0, "make uninstall: %s", out.data);
	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++)
		cr_expect(!is_file(dest, installed[i]), "left after uninstall: %s", installed[i]);
	buf_free(&out);
	/* uninstall leaves the (now empty) standard folders; remove them. */
	cr_assert_eq(test_sh(NULL, "rm -rf %s/usr", dest), 0);
	test_rmdir(dest);
}

Test(man, every_page_passes_mandoc_lint)
{
	static const char *const pages[] = {"man/shadoweval.1", "man/shadowsim.1",
					    "man/shadoweval-eval.5"};
	for (size_t i = 0; i < 3; i++) {
		struct buf out = {0};
		int rc = test_sh(&out, "mandoc -T lint -W warning %s", pages[i]);
		cr_expect_eq(rc, 0, "%s: %s", pages[i], out.data);
		buf_free(&out);
	}
}

/* Every long flag in "PROG [CMD] --help" must appear in PAGE as "Fl -flag". */
static void expect_flags_documented(const char *prog, const char *cmd, const char *page_text,
				    const char *page)
{
	struct buf help = {0};
	int rc = test_sh(&help, "%s/%s %s --help", test_bin_dir(), prog, cmd);
	cr_assert_eq(rc, 0, "%s %s --help: exit %d", prog, cmd, rc);
	int seen = 0;
	for (const char *p = help.data; (p = strstr(p, "--")) != NULL;) {
		const char *s = p + 2;
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
		p = s + n;
		if (n == 0 || s[-3] == '-')
			continue;
		char want[96];
		snprintf(want, sizeof(want), "Fl -%.*s", (int)n, s);
		size_t wl = strlen(want);
		bool found = false;
		for (const char *q = page_text; (q = strstr(q, want)) != NULL; q += wl)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", q[wl])) {
				found = true;
				break;
			}
		cr_expect(found, "%s: %s %s --help has --%.*s, the man page does not", page, prog,
			  cmd, (int)n, s);
		seen++;
	}
	cr_expect(seen > 0 || !strcmp(cmd, "summarize") || !strcmp(cmd, "validate"),
		  "%s %s --help lists no flag", prog, cmd);
	buf_free(&help);
}

Test(man, every_command_and_flag_of_help_is_in_the_man_page)
{
	char *page = test_read_file("man/shadoweval.1", NULL);
	struct buf cmds = {0};
	cr_assert_eq(
	    test_sh(&cmds,
		    "%s/shadoweval --help | awk '/^commands:/{c=1;next} c&&!NF{exit} c{print $1}'",
		    test_bin_dir()),
	    0);
	int n = 0;
	for (char *line = strtok(cmds.data, "\n"); line; line = strtok(NULL, "\n")) {
		char want[96];
		snprintf(want, sizeof(want), ".It Cm %s ", line);
		char want_eol[96];
		snprintf(want_eol, sizeof(want_eol), ".It Cm %s\n", line);
		cr_expect(strstr(page, want) || strstr(page, want_eol),
			  "command %s is not in man/shadoweval.1", line);
		expect_flags_documented("shadoweval", line, page, "man/shadoweval.1");
		n++;
	}
	cr_expect_geq(n, 8, "shadoweval --help listed %d commands", n);
	buf_free(&cmds);
	free(page);

	char *sim = test_read_file("man/shadowsim.1", NULL);
	expect_flags_documented("shadowsim", "", sim, "man/shadowsim.1");
	free(sim);
}

/* The bash completion, sourced in a real bash with the binaries on PATH. */
static void complete(struct buf *out, const char *words, int cword, const char *fn)
{
	buf_reset(out);
	int rc =
	    test_sh(out,
		    "PATH=%s:$PATH bash -c 'source completions/shadoweval.bash; "
		    "COMP_WORDS=(%s); COMP_CWORD=%d; %s; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
		    test_bin_dir(), words, cword, fn);
	cr_assert_eq(rc, 0, "completion of %s: %s", words, out->data);
}

Test(completion, bash_completes_commands_flags_and_eval_files)
{
	struct buf out = {0};
	complete(&out, "shadoweval ru", 1, "_shadoweval");
	cr_expect_str_eq(out.data, "run\n");
	complete(&out, "shadoweval run --res", 2, "_shadoweval");
	cr_expect_str_eq(out.data, "--resume\n");
	complete(&out, "shadoweval check --base", 2, "_shadoweval");
	cr_expect_str_eq(out.data, "--baseline\n");
	complete(&out, "shadoweval run --cache re", 3, "_shadoweval");
	cr_expect(strstr(out.data, "refresh\n") && strstr(out.data, "replay\n"), "%s", out.data);
	complete(&out, "shadoweval validate evals/demo", 2, "_shadoweval");
	cr_expect(strstr(out.data, "evals/demo.json\n"), "%s", out.data);
	cr_expect(!strstr(out.data, "sim-profiles"), "%s", out.data);
	complete(&out, "shadowsim --prof", 1, "_shadowsim");
	cr_expect_str_eq(out.data, "--profiles\n");
	buf_free(&out);
}

Test(completion, zsh_file_parses)
{
	struct buf out = {0};
	/* zsh is not installed by default; the syntax check runs where it is,
	 * and bash at least checks the bash file every time. */
	int rc = test_sh(&out, "bash -n completions/shadoweval.bash");
	cr_expect_eq(rc, 0, "%s", out.data);
	buf_reset(&out);
	rc = test_sh(&out, "zsh -n completions/_shadoweval");
	cr_expect_eq(rc, 0, "zsh -n: %s", out.data);
	buf_free(&out);
}
