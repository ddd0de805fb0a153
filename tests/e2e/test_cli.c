/* test_cli.c: the command line as a user meets it: a mistyped command is
 * answered with the closest one and exit 2, --version answers anywhere, and
 * every command has a --help that exits 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/buf.h"

/* Runs the sanitized shadoweval with args; stdout and stderr into out. */
static int se(struct buf *out, const char *args)
{
	const char *d = getenv("SE_BIN_DIR");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s/shadoweval %s 2>&1 </dev/null",
		 d && *d ? d : "build/asan/bin", args);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(out, chunk, n);
	buf_append(out, "", 1);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli, a_mistyped_command_gets_the_closest_one_and_exit_2)
{
	struct buf out = {0};
	cr_expect_eq(se(&out, "sumarize runs/x"), 2);
	cr_expect(strstr(out.data, "unknown command \"sumarize\"; did you mean \"summarize\"?"),
		  "%s", out.data);
	buf_reset(&out);
	cr_expect_eq(se(&out, "frobnicate"), 2);
	cr_expect(!strstr(out.data, "did you mean"), "%s", out.data);
	cr_expect(strstr(out.data, "commands:"), "%s", out.data);
	buf_free(&out);
}

Test(cli, version_answers_anywhere_on_the_line)
{
	static const char *const lines[] = {"--version", "run --version", "check x --version -q",
					    "nosuchcommand --version"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct buf out = {0};
		cr_expect_eq(se(&out, lines[i]), 0, "%s: %s", lines[i], out.data);
		cr_expect(!strncmp(out.data, "shadoweval ", 11), "%s: %s", lines[i], out.data);
		buf_free(&out);
	}
}

Test(cli, every_command_has_a_help_with_no_literal_percent_escape)
{
	struct buf list = {0};
	cr_assert_eq(se(&list, "--help"), 0);
	char *p = strstr(list.data, "commands:\n");
	cr_assert(p);
	int n = 0;
	for (char *line = strtok(p + 10, "\n"); line && line[0] == ' '; line = strtok(NULL, "\n")) {
		char name[32];
		cr_assert_eq(sscanf(line, " %31s", name), 1);
		char args[64];
		snprintf(args, sizeof(args), "%s --help", name);
		struct buf out = {0};
		cr_expect_eq(se(&out, args), 0, "%s: %s", args, out.data);
		cr_expect(strstr(out.data, "usage: shadoweval "), "%s: %s", args, out.data);
		cr_expect(!strstr(out.data, "%%"), "%s prints a literal %%%%: %s", args, out.data);
		buf_free(&out);
		n++;
	}
	cr_expect_geq(n, 10);
	buf_free(&list);
}
