/* cmd_summarize.c: `shadoweval summarize DIR [--correction holm|bh|none]`,
 * every CSV rebuilt from DIR/results.jsonl (see summarize/). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "summarize/summarize.h"

int cli_parse_correction(const char *s, enum stats_correction *out, struct se_err *err)
{
	if (stats_correction_parse(s, out))
		return se_fail(err, SE_USAGE, "--correction",
			       "expected holm, bh or none, got \"%s\"", s);
	return 0;
}

int cmd_summarize(int argc, char **argv, struct se_err *err)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs("usage: shadoweval summarize DIR [--correction holm|bh|none]\n"
		      "  rebuilds models.csv, tasks.csv, slots.csv, pairs.csv and swaps.csv\n"
		      "  from DIR/results.jsonl and prints the models and pairs tables\n"
		      "  --correction C   how each family of verdicts is adjusted (default holm)\n",
		      stdout);
		return 0;
	}
	const char *dir = NULL;
	enum stats_correction corr = STATS_HOLM;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--correction") || !strncmp(argv[i], "--correction=", 13)) {
			const char *v = argv[i][12] == '=' ? argv[i] + 13 : NULL;
			if (!v && i + 1 >= argc)
				return se_fail(err, SE_USAGE, "--correction", "needs a value");
			if (!v)
				v = argv[++i];
			if (cli_parse_correction(v, &corr, err))
				return -1;
		} else if (argv[i][0] == '-' || dir) {
			return se_fail(err, SE_USAGE, NULL,
				       "expected one run folder DIR, got \"%s\"", argv[i]);
		} else {
			dir = argv[i];
		}
	}
	if (!dir)
		return se_fail(err, SE_USAGE, NULL, "expected one run folder DIR");
	return sum_run_dir_corr(dir, stdout, corr, err);
}
