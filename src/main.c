/* main.c: the shadoweval command table, and the only place that prints an
 * error and chooses an exit code:
 *   0    ok
 *   1    a finding (a regression, stopped by --max-cost, --max-error-rate)
 *   2    bad input or usage (the message names the file and line or path)
 *   3    the environment failed (disk full, I/O error, read-only file system):
 *        the input is fine, the run can be resumed elsewhere or later
 *   130  interrupted (SIGINT, SIGTERM, SIGHUP) */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/esc.h"
#include "core/suggest.h"
#include "core/version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct se_err *err);
	const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "[DIR]         a starter eval, dataset and shadowsim profile to copy"},
    {"run", cmd_run, "EVAL.json     send every item to its primary and shadows; score"},
    {"validate", cmd_validate, "EVAL.json     what a run would send, and its cost; sends nothing"},
    {"route", cmd_route, "EVAL.json     the slot and model the policy picks per item, and why"},
    {"summarize", cmd_summarize, "DIR           rebuild every CSV of a run from results.jsonl"},
    {"sweep", cmd_sweep, "DIR           simulate routing policies on a full-matrix run"},
    {"report", cmd_report, "DIR           one self-contained HTML page with tables and charts"},
    {"merge", cmd_merge, "DIR... -o OUT  join the shard runs of one eval into one run folder"},
    {"diff", cmd_diff, "DIR           the items where the primary and a shadow disagree"},
    {"plan", cmd_plan, "DIR --delta PTS  items a run needs to detect a gap, from a pilot run"},
    {"check", cmd_check, "DIR --baseline BASE   the regression gate (exit 1 on a regression)"},
    {"cache", cmd_cache, "stats|export|import|merge  the response cache and its bundles"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: shadoweval <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'shadoweval <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	/* --version anywhere before a "--" answers, whatever else is there. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--version")) {
			printf("shadoweval %s\n", SE_VERSION);
			return 0;
		}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		struct se_err err;
		se_clear(&err);
		if (commands[i].fn(argc - 1, argv + 1, &err) == 0)
			return 0;
		if (err.kind == SE_OK)
			err.kind = SE_INPUT;
		/* where and msg echo user text (paths, keys, values): control
		 * bytes show as \xNN, so a "\n" in a --set key cannot split the
		 * message or a raw ESC drive the terminal */
		if (err.where[0])
			fprintf(stderr, "shadoweval %s: %s: %s\n", argv[1],
				esc_term_str(err.where, 0), esc_term_str(err.msg, 1));
		else
			fprintf(stderr, "shadoweval %s: %s\n", argv[1], esc_term_str(err.msg, 1));
		if (err.kind == SE_USAGE)
			fprintf(stderr, "see 'shadoweval %s --help'\n", argv[1]);
		return se_exit_status(&err);
	}
	enum { N_COMMANDS = sizeof(commands) / sizeof(commands[0]) };
	const char *names[N_COMMANDS];
	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i].name;
	const char *close = suggest_closest(argv[1], names, N_COMMANDS);
	if (close) {
		fprintf(stderr, "shadoweval: unknown command \"%s\"; did you mean \"%s\"?\n",
			argv[1], close);
		return 2;
	}
	fprintf(stderr, "shadoweval: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
