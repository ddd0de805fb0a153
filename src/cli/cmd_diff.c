/* cmd_diff.c: `shadoweval diff DIR`, the items where two answers disagree:
 * flags, which comparisons to make, the terminal's width and colours. The
 * work is the diff room's (src/diff/). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <getopt.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fileio.h"
#include "core/xalloc.h"
#include "diff/diff.h"

static const char usage_text[] =
    "usage: shadoweval diff DIR [--a MODEL|primary] [--b MODEL]\n"
    "         [--only discordant|a-better|b-better|all] [--task T] [--slot S]\n"
    "         [--grep REGEX] [--limit N] [--format text|md|jsonl|csv]\n"
    "       shadoweval diff DIR --baseline BASE [--only ...] [--task T] [--slot S]\n"
    "         [--grep REGEX] [--limit N] [--format ...]\n"
    "  the items where two answers to the same prompt disagree, counts first;\n"
    "  default: the routed primary (A) against each shadow model (B), the\n"
    "  discordant items, those where A is better first\n"
    "  --a MODEL|primary  side A: a model's answers, or the routed primary (default)\n"
    "  --b MODEL          side B (default: each shadow model in turn)\n"
    "  --only KIND        discordant (default), a-better, b-better or all\n"
    "  --task T, --slot S only the items of that task or routed to that slot\n"
    "                     (default: every task and slot)\n"
    "  --grep REGEX       only items whose id or either output matches (PCRE2;\n"
    "                     default: every item)\n"
    "  --limit N          at most N items per comparison (default: no limit)\n"
    "  --baseline BASE    (default: none) compare the routed policy with BASE's, item by item: "
    "the\n"
    "                     items whose pass flipped (lost first), by cause (another\n"
    "                     model, or the same model answering differently), then\n"
    "                     those routed to another slot or model with the same result\n"
    "  --format F         text (default; side by side at the terminal's width,\n"
    "                     colours on a terminal unless NO_COLOR is set), md,\n"
    "                     jsonl or csv\n"
    "example:\n"
    "  shadoweval diff runs/demo --only a-better --limit 20\n";

struct diff_args {
	const char *dir, *a, *b, *task, *slot, *grep, *baseline;
	enum dif_only only;
	bool only_given;
	enum dif_format format;
	long limit;
};

static int pick(const char *flag, const char *v, const char *const *names, int n, int *out,
		struct se_err *err)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
	se_fail(err, SE_USAGE, flag, "unknown value \"%s\" (known: %s)", v, b.data);
	buf_free(&b);
	return -1;
}

enum { O_A = 256, O_B, O_ONLY, O_TASK, O_SLOT, O_GREP, O_LIMIT, O_FORMAT, O_BASELINE };

/* One option of diff (flag_scan's take). */
static int take_diff_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	static const char *const only_names[] = {"discordant", "a-better", "b-better", "all"};
	static const char *const format_names[] = {"text", "md", "jsonl", "csv"};
	struct diff_args *a = ctx;
	int v;
	switch (c) {
	case O_A:
		a->a = arg;
		return 0;
	case O_B:
		a->b = arg;
		return 0;
	case O_ONLY:
		if (pick("--only", arg, only_names, 4, &v, err))
			return -1;
		a->only = (enum dif_only)v;
		a->only_given = true;
		return 0;
	case O_BASELINE:
		a->baseline = arg;
		return 0;
	case O_TASK:
		a->task = arg;
		return 0;
	case O_SLOT:
		a->slot = arg;
		return 0;
	case O_GREP:
		a->grep = arg;
		return 0;
	case O_LIMIT:
		return flag_parse_long("--limit", arg, 0, 1L << 40, &a->limit, err);
	case O_FORMAT:
		if (pick("--format", arg, format_names, 4, &v, err))
			return -1;
		a->format = (enum dif_format)v;
		return 0;
	default:
		return 1;
	}
}

/* 1 when --help was printed, 0 with a filled, -1 on an error. */
static int parse_args(int argc, char **argv, struct diff_args *a, struct se_err *err)
{
	static const struct option opts[] = {
	    {"a", required_argument, NULL, O_A},
	    {"b", required_argument, NULL, O_B},
	    {"only", required_argument, NULL, O_ONLY},
	    {"task", required_argument, NULL, O_TASK},
	    {"slot", required_argument, NULL, O_SLOT},
	    {"grep", required_argument, NULL, O_GREP},
	    {"limit", required_argument, NULL, O_LIMIT},
	    {"format", required_argument, NULL, O_FORMAT},
	    {"baseline", required_argument, NULL, O_BASELINE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof(*a));
	a->limit = -1;
	int rc = flag_scan(argc, argv, ":h", opts, usage_text, take_diff_flag, a, err);
	if (rc)
		return rc;
	if (optind < argc)
		a->dir = argv[optind];
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL,
			       "expected one run folder DIR, got \"%s\" and \"%s\"", a->dir,
			       argv[optind + 1]);
	if (!a->dir)
		return se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
	if (a->baseline && (a->a || a->b))
		return se_fail(err, SE_USAGE, a->a ? "--a" : "--b",
			       "does not go with --baseline (which compares the routed policies)");
	return 0;
}

static int unknown_name(const char *flag, const char *v, const struct strtab *t, struct se_err *err)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < t->n && i < 20; i++)
		buf_printf(&b, "%s\"%s\"", i ? ", " : "", t->name[i]);
	if (t->n > 20)
		buf_puts(&b, ", ...");
	se_fail(err, SE_USAGE, flag, "\"%s\" is not in the results (known: %s)", v, b.data);
	buf_free(&b);
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int terminal_width(bool tty)
{
	struct winsize ws;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	if (cols && atoi(cols) > 0)
		return atoi(cols);
	return 120;
}

static void printer_init(struct dif_printer *p, const struct diff_args *args,
			 const struct dif_index *x)
{
	bool tty = isatty(STDOUT_FILENO);
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	*p = (struct dif_printer){
	    .out = stdout,
	    .x = x,
	    .o = {.format = args->format,
		  .only = args->only,
		  .limit = args->limit,
		  .width = terminal_width(tty),
		  .color = tty && !(nc && *nc) && !(term && !strcmp(term, "dumb")),
		  .fold_lines = 12},
	};
	char *why = NULL;
	p->ds = dif_ds_open(args->dir, &why);
	if (!p->ds)
		p->warning = why;
}

static int printer_done(struct dif_printer *p, int rc, struct se_err *err)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = rc ? rc : se_fail_errno(err, "stdout", "write failed");
	if (p->warning)
		fprintf(stderr,
			"shadoweval diff: note: prompts and expected answers not shown: %s\n",
			p->warning);
	free(p->warning);
	dif_ds_free(p->ds);
	return rc;
}

static int run_diff(const struct diff_args *args, struct dif_index *x, pcre2_code *re,
		    struct se_err *err)
{
	/* only what is printed is kept: the kinds --only lists, the first
	 * --limit of each; the rest is counted */
	struct dif_spec spec = {.a = DIF_A_PRIMARY,
				.b = -1,
				.task = -1,
				.slot = -1,
				.grep = re,
				.keep = args->limit > 0 ? (size_t)args->limit : 0,
				.count_only = ((1u << DIF_NKINDS) - 1) & ~dif_listed(args->only)};
	if (args->a && strcmp(args->a, "primary")) {
		spec.a = dif_model_find(x, args->a);
		if (spec.a < 0)
			return unknown_name("--a", args->a, &x->models, err);
	}
	if (args->b) {
		spec.b = dif_model_find(x, args->b);
		if (spec.b < 0)
			return unknown_name("--b", args->b, &x->models, err);
		if (spec.b == spec.a)
			return se_fail(err, SE_USAGE, "--b", "is the same model as --a");
	}
	if (args->task && (spec.task = strtab_find(&x->tasks, args->task)) < 0)
		return unknown_name("--task", args->task, &x->tasks, err);
	if (args->slot && (spec.slot = strtab_find(&x->slots, args->slot)) < 0)
		return unknown_name("--slot", args->slot, &x->slots, err);

	/* the Bs: one model, or every shadow model by name */
	size_t nb = 0;
	char **bs = xcalloc(x->models.n + 1, sizeof(*bs));
	if (args->b)
		bs[nb++] = x->models.name[spec.b];
	else
		for (size_t m = 0; m < x->models.n; m++)
			if ((long)m != spec.a && dif_model_is_shadow(x, m))
				bs[nb++] = x->models.name[m];
	qsort(bs, nb, sizeof(*bs), cmp_name);

	struct dif_printer p;
	printer_init(&p, args, x);
	const char *a_side = spec.a >= 0 ? x->models.name[spec.a] : "primary";
	int rc = 0;
	if (nb == 0)
		rc = se_fail(err, SE_INPUT, x->path,
			     "no shadow results to compare with (give --b MODEL)");
	/* every comparison's counts first: 12 bytes per kept item each */
	struct dif_sel *sels = xcalloc(nb + 1, sizeof(*sels));
	for (size_t i = 0; rc == 0 && i < nb; i++) {
		spec.b = dif_model_find(x, bs[i]);
		rc = dif_select(x, &spec, &sels[i], err);
	}
	for (size_t i = 0; rc == 0 && i < nb; i++)
		dif_print_counts(&p, &sels[i], a_side, bs[i]);
	for (size_t i = 0; rc == 0 && i < nb; i++)
		rc = dif_print_items(&p, &sels[i], a_side, bs[i], err);
	for (size_t i = 0; i < nb; i++)
		dif_sel_free(&sels[i]);
	free(sels);
	free(bs);
	return printer_done(&p, rc, err);
}

/* --baseline: the routed policies of two runs, item by item. */
static int run_baseline(const struct diff_args *args, struct dif_index *x, pcre2_code *re,
			struct se_err *err)
{
	struct dif_spec spec = {.a = DIF_A_POLICY, .b = -1, .task = -1, .slot = -1, .grep = re};
	if (args->task && (spec.task = strtab_find(&x->tasks, args->task)) < 0)
		return unknown_name("--task", args->task, &x->tasks, err);
	if (args->slot && (spec.slot = strtab_find(&x->slots, args->slot)) < 0)
		return unknown_name("--slot", args->slot, &x->slots, err);
	char *path = fio_join(args->baseline, "results.jsonl");
	struct dif_index base;
	struct dif_changes ch = {0};
	int rc = dif_index_load(&base, path, err);
	free(path);
	if (rc == 0)
		rc = dif_baseline_select(&base, x, &spec, &ch, err);
	if (rc == 0 && ch.paired == 0)
		rc = se_fail(err, SE_INPUT, NULL, "%s and %s have no item in common", args->dir,
			     args->baseline);
	if (rc) {
		dif_changes_free(&ch);
		dif_index_free(&base);
		return -1;
	}
	struct dif_printer p;
	printer_init(&p, args, &base);
	p.xb = x;
	p.o.baseline = true;
	if (args->format == DIF_TEXT)
		printf(
		    "%s against the baseline %s: %zu items in both (%zu only in the baseline, %zu "
		    "only in this run)\n",
		    args->dir, args->baseline, ch.paired, ch.only_base, ch.only_cur);
	else if (args->format == DIF_MD)
		printf(
		    "%zu items in both runs (%zu only in the baseline, %zu only in this run).\n\n",
		    ch.paired, ch.only_base, ch.only_cur);
	for (int g = 0; g < DIF_NCAUSES; g++)
		dif_print_counts(&p, &ch.group[g], "baseline", dif_cause_names[g]);
	for (int g = 0; rc == 0 && g < DIF_NCAUSES; g++) {
		/* the routing-only group has no flip: list it whole unless asked */
		p.o.only = g == DIF_CAUSE_ROUTE && !args->only_given ? DIF_ONLY_ALL : args->only;
		rc = dif_print_items(&p, &ch.group[g], "baseline", dif_cause_names[g], err);
	}
	rc = printer_done(&p, rc, err);
	dif_changes_free(&ch);
	dif_index_free(&base);
	return rc;
}

int cmd_diff(int argc, char **argv, struct se_err *err)
{
	struct diff_args args;
	int p = parse_args(argc, argv, &args, err);
	if (p)
		return p > 0 ? 0 : -1;
	pcre2_code *re = NULL;
	if (args.grep) {
		int code;
		PCRE2_SIZE at;
		re = pcre2_compile((PCRE2_SPTR)args.grep, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
				   &at, NULL);
		if (!re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(code, msg, sizeof(msg));
			return se_fail(err, SE_USAGE, "--grep", "bad pattern at offset %zu: %s",
				       (size_t)at, (const char *)msg);
		}
	}
	char *path = fio_join(args.dir, "results.jsonl");
	struct dif_index x;
	int rc = dif_index_load(&x, path, err);
	if (rc == 0)
		rc =
		    args.baseline ? run_baseline(&args, &x, re, err) : run_diff(&args, &x, re, err);
	dif_index_free(&x);
	free(path);
	pcre2_code_free(re);
	return rc;
}
