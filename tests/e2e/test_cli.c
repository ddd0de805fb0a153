/* test_cli.c: the command line as a user meets it: a mistyped command is
 * answered with the closest one and exit 2, --version answers anywhere, and
 * every command has a --help that exits 0, with an example and the default
 * of each flag that takes a value; a mistyped flag is answered with the
 * command's closest flag. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "../support/files.h"

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

/* The folder of the binaries as an absolute path (tests cd elsewhere). */
static const char *bin_abs(void)
{
	static char path[4096];
	if (!path[0])
		cr_assert(realpath(test_bin_dir(), path), "%s", test_bin_dir());
	return path;
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

/* The command names listed by `shadoweval --help`, in a NULL-terminated
 * malloc'd array of malloc'd strings. */
static char **command_names(void)
{
	struct buf list = {0};
	cr_assert_eq(se(&list, "--help"), 0);
	char *p = strstr(list.data, "commands:\n");
	cr_assert(p);
	char **names = calloc(64, sizeof(*names));
	size_t n = 0;
	for (char *line = strtok(p + 10, "\n"); line && line[0] == ' ' && n < 63;
	     line = strtok(NULL, "\n")) {
		char name[32];
		cr_assert_eq(sscanf(line, " %31s", name), 1);
		names[n++] = strdup(name);
	}
	buf_free(&list);
	return names;
}

static void free_names(char **names)
{
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

/* An option line of a --help: indented, then "-x, --name" or "--name".
 * Returns the long name (into name) or 0. */
static int option_line(const char *line, char *name, size_t size)
{
	const char *p = line + strspn(line, " ");
	if (p == line || p[0] != '-')
		return 0;
	if (p[1] != '-' && p[2] == ',' && p[3] == ' ')
		p += 4;
	if (strncmp(p, "--", 2))
		return 0;
	p += 2;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0 || n >= size)
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	return 1;
}

/* Runs `shadoweval cmd --flag` as the last word, in an empty folder (a
 * switch makes the command start: it must find nothing to act on). True
 * when the command answered that the flag expects a value. */
static bool takes_value(const char *dir, const char *cmd, const char *flag)
{
	struct buf out = {0};
	int rc = test_sh(&out, "cd '%s' && '%s/shadoweval' %s --%s", dir, bin_abs(), cmd, flag);
	char want[96];
	snprintf(want, sizeof(want), "--%s: expects a value", flag);
	bool v = rc == 2 && strstr(out.data ? out.data : "", want);
	buf_free(&out);
	return v;
}

Test(cli, every_help_has_an_example_and_each_value_flag_its_default)
{
	char **names = command_names();
	char *dir = test_mkdtemp("cli");
	int flags = 0;
	for (char **cmd = names; *cmd; cmd++) {
		struct buf help = {0};
		char args[64];
		snprintf(args, sizeof(args), "%s --help", *cmd);
		cr_assert_eq(se(&help, args), 0, "%s", args);
		char example[64];
		snprintf(example, sizeof(example), "example:\n  shadoweval %s", *cmd);
		cr_expect(strstr(help.data, example), "%s: no example:\n%s", args, help.data);
		/* each option paragraph: its line and the deeper, non-option
		 * lines under it */
		char *save = NULL;
		char name[48] = "";
		bool has_default = false, open = false;
		for (char *line = strtok_r(help.data, "\n", &save);;
		     line = strtok_r(NULL, "\n", &save)) {
			char next[48];
			bool is_opt = line && option_line(line, next, sizeof(next));
			bool continues = line && !is_opt && !strncmp(line, "    ", 4);
			if (open && !continues) {
				/* only a flag without a default is probed: is it a
				 * switch, or a value flag missing its default? */
				flags++;
				if (!has_default && strcmp(name, "help"))
					cr_expect(!takes_value(dir, *cmd, name),
						  "%s: --%s takes a value but its help gives no "
						  "default (or \"required\")",
						  *cmd, name);
				open = false;
			}
			if (!line)
				break;
			if (is_opt) {
				snprintf(name, sizeof(name), "%s", next);
				open = true;
				has_default = false;
			}
			if (open && (strstr(line, "default") || strstr(line, "required")))
				has_default = true;
		}
		buf_free(&help);
	}
	cr_expect_geq(flags, 40, "only %d flags found: is the parser broken?", flags);
	test_rmdir(dir);
	free_names(names);
}

/* `shadoweval cmd tail` in dir exits 2 and says want. */
static void expect_refused(const char *dir, const char *cmd, const char *tail, const char *want)
{
	struct buf out = {0};
	int rc = test_sh(&out, "cd '%s' && '%s/shadoweval' %s %s", dir, bin_abs(), cmd, tail);
	cr_expect_eq(rc, 2, "%s %s: exit %d", cmd, tail, rc);
	cr_expect(out.data && strstr(out.data, want), "%s %s: %s", cmd, tail, out.data);
	buf_free(&out);
}

/* Calls fn for each long option of each command's --help, in an empty
 * folder dir; returns how many calls returned true. */
typedef bool (*option_fn)(const char *dir, const char *cmd, const char *flag);
static int each_option(const char *dir, option_fn fn)
{
	char **names = command_names();
	int n = 0;
	for (char **cmd = names; *cmd; cmd++) {
		struct buf help = {0};
		char args[64];
		snprintf(args, sizeof(args), "%s --help", *cmd);
		cr_assert_eq(se(&help, args), 0, "%s", args);
		char *save = NULL;
		for (char *line = strtok_r(help.data, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char flag[48];
			if (option_line(line, flag, sizeof(flag)))
				n += fn(dir, *cmd, flag);
		}
		buf_free(&help);
	}
	free_names(names);
	return n;
}

static bool closest_flag_for_a_typo(const char *dir, const char *cmd, const char *flag)
{
	if (strlen(flag) < 4)
		return false;
	/* a typo: two letters swapped ("--lmiit" for "--limit") */
	char typo[48];
	snprintf(typo, sizeof(typo), "%s", flag);
	typo[1] = flag[2];
	typo[2] = flag[1];
	char tail[64], want[160];
	snprintf(tail, sizeof(tail), "--%s=1", typo);
	snprintf(want, sizeof(want), "unknown option \"--%s\"; did you mean \"--%s\"?", typo, flag);
	expect_refused(dir, cmd, tail, want);
	return true;
}

Test(cli, an_unknown_flag_of_every_command_gets_its_closest_flag_and_exit_2)
{
	char *dir = test_mkdtemp("cli");
	cr_expect_geq(each_option(dir, closest_flag_for_a_typo), 30);
	test_rmdir(dir);
}

Test(cli, a_far_unknown_flag_gets_no_suggestion)
{
	struct buf out = {0};
	cr_expect_eq(se(&out, "route x.json --zzzzzzzz"), 2);
	cr_expect(strstr(out.data, "unknown option \"--zzzzzzzz\"\n"), "%s", out.data);
	cr_expect(strstr(out.data, "see 'shadoweval route --help'"), "%s", out.data);
	buf_free(&out);
}

/* `-o ''` named the current folder (merge wrote its results there) and
 * `--cache-dir ''` too: every value flag of every command refuses an empty
 * value, naming the flag. */
static bool empty_value_refused(const char *dir, const char *cmd, const char *flag)
{
	if (!takes_value(dir, cmd, flag))
		return false;
	char tail[64], want[96];
	snprintf(tail, sizeof(tail), "x --%s ''", flag);
	snprintf(want, sizeof(want), "--%s needs a value, got an empty one", flag);
	expect_refused(dir, cmd, tail, want);
	return true;
}

Test(cli, an_empty_value_of_every_value_flag_is_refused_naming_it)
{
	char *dir = test_mkdtemp("cli");
	int tried = each_option(dir, empty_value_refused);
	cr_expect_geq(tried, 20, "only %d value flags found", tried);
	test_rmdir(dir);
}
