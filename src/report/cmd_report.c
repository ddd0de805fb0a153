/* cmd_report.c: `shadoweval report DIR [-o FILE]`, the report page's command
 * line: flags only; the page is rep_write's (report.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "report/report.h"

static const char usage_text[] =
    "usage: shadoweval report DIR [-o FILE]\n"
    "  writes one self-contained HTML page (inline CSS and SVG charts, nothing\n"
    "  fetched) from the run folder's summaries and manifest; missing summaries\n"
    "  are rebuilt from DIR/results.jsonl first\n"
    "  -o, --output FILE  where to write it (default DIR/report.html)\n";

int cmd_report(int argc, char **argv, struct se_err *err)
{
	const char *dir = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc)
				return se_fail(err, SE_USAGE, a, "expects a value");
			if (out)
				return se_fail(err, SE_USAGE, a, "given twice");
			out = argv[++i];
		} else if (!strncmp(a, "--output=", 9)) {
			if (out)
				return se_fail(err, SE_USAGE, "--output", "given twice");
			out = a + 9;
		} else if (a[0] == '-' && a[1]) {
			return se_fail(err, SE_USAGE, NULL, "unknown option \"%s\"", a);
		} else if (dir) {
			return se_fail(err, SE_USAGE, NULL,
				       "expected one run folder DIR, got \"%s\" and \"%s\"", dir,
				       a);
		} else {
			dir = a;
		}
	}
	if (!dir)
		return se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
	if (out && !*out)
		return se_fail(err, SE_USAGE, "-o", "expects a file name");
	if (rep_write(dir, out, err))
		return -1;
	if (out)
		printf("wrote %s\n", out);
	else {
		char *p = fio_join(dir, "report.html");
		printf("wrote %s\n", p);
		free(p);
	}
	return 0;
}
