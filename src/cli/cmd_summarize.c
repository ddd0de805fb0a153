/* cmd_summarize.c: `shadoweval summarize DIR`, every CSV rebuilt from
 * DIR/results.jsonl (see summarize/). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "summarize/summarize.h"

int cmd_summarize(int argc, char **argv, struct se_err *err)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs("usage: shadoweval summarize DIR\n"
		      "  rebuilds models.csv, tasks.csv, slots.csv, pairs.csv and swaps.csv\n"
		      "  from DIR/results.jsonl and prints the models and pairs tables\n",
		      stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return se_fail(err, SE_USAGE, NULL, "expected one run folder DIR");
	return sum_run_dir(argv[1], stdout, err);
}
