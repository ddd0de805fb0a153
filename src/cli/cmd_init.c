/* cmd_init.c: `shadoweval init [DIR] [--force]`, a starter eval, dataset and
 * shadowsim profile in DIR (default: the current folder), then the two
 * commands that run it. The files themselves are in src/starter/. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "starter/starter.h"

static const char init_usage[] =
    "usage: shadoweval init [DIR] [--force]\n"
    "  writes a starter shadow eval into DIR (default: the current folder):\n"
    "  eval.json (four slots, routing by task, complexity and user tier, a\n"
    "  fallback, one candidate shadow, a regex check), dataset.jsonl (12 items,\n"
    "  every task type) and sim-profiles.json (shadowsim's models), then prints\n"
    "  the two commands that run it\n"
    "  --force   overwrite those files when they exist (default: exit 2)\n"
    "example:\n"
    "  shadoweval init my-eval\n";

/* "DIR/name", or "name" for the current folder, for the commands printed. */
static void print_path(const char *dir, const char *name)
{
	if (strcmp(dir, "."))
		printf("%s/", dir);
	printf("%s", name);
}

int cmd_init(int argc, char **argv, struct se_err *err)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool force = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(init_usage, stdout);
			return 0;
		default:
			return flag_bad_option(c, argv, opts, err);
		}
	}
	if (argc - optind > 1)
		return se_fail(err, SE_USAGE, NULL, "expected at most one folder, got \"%s\"",
			       argv[optind + 1]);
	const char *dir = optind < argc ? argv[optind] : ".";
	size_t n = strlen(dir);
	char trimmed[4096];
	if (n == 0 || n >= sizeof(trimmed))
		return se_fail(err, SE_USAGE, NULL, "the folder name is empty or too long");
	memcpy(trimmed, dir, n + 1);
	while (n > 1 && trimmed[n - 1] == '/')
		trimmed[--n] = '\0';
	if (starter_write(trimmed, force, err))
		return -1;
	printf("wrote ");
	for (const struct starter_file *f = starter_files; f->name; f++) {
		print_path(trimmed, f->name);
		fputs(f[1].name ? ", " : "\n", stdout);
	}
	printf("\nnext, in two terminals (or put the first in the background with &):\n  shadowsim "
	       "--port 8080 --profiles ");
	print_path(trimmed, "sim-profiles.json");
	printf(" --eval ");
	print_path(trimmed, "eval.json");
	printf("\n  shadoweval run ");
	print_path(trimmed, "eval.json");
	printf("\n\nthen edit eval.json: your models, your routing, your dataset; point the\n"
	       "\"sim\" endpoint at a real gateway (see its description) to go live.\n");
	return 0;
}
