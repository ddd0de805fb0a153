/* test_diff.c: `shadoweval diff` on the run folders of tests/fixtures/diff/
 * (make_fixtures.py there says what each item holds: which side passes, the
 * lines shuffled so an item's lines are not adjacent, an id that needs a JSON
 * escape, keys in another order, an output carrying HTML, markdown and a
 * terminal escape).
 *
 * The expected kinds are written from the fixture's definition, not from
 * the code. The jsonl and csv outputs are read back with cJSON and libcsv
 * and compared with what results.jsonl holds, read by the results reader.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <csv.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/hash64.h"
#include "diff/diff.h"
#include "report/report.h"
#include "results/results.h"
#include "support/files.h"

#define FIX "tests/fixtures/diff/"
#define INJ "<img src=x onerror=alert(1)>"

/* cmd_diff with the words of `line` (split on spaces; '~' stands for a
 * space inside a word); its stdout in *out (malloc'd). */
static int diff(const char *line, char **out, struct se_err *err)
{
	char *copy = strdup(line);
	char *argv[32];
	int argc = 0;
	argv[argc++] = "diff";
	for (char *t = strtok(copy, " "); t && argc < 31; t = strtok(NULL, " ")) {
		for (char *c = t; *c; c++)
			if (*c == '~')
				*c = ' ';
		argv[argc++] = t;
	}
	argv[argc] = NULL;
	char *dir = test_mkdtemp("diffout");
	char path[512];
	snprintf(path, sizeof(path), "%s/out", dir);
	fflush(stdout);
	int saved = dup(1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	dup2(fd, 1);
	close(fd);
	se_clear(err);
	int rc = cmd_diff(argc, argv, err);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = test_read_file(path, NULL);
	unlink(path);
	test_rmdir(dir);
	free(copy);
	return rc;
}

/* ---- reading jsonl and csv back ---- */

struct rec {
	char *a_side, *b_side, *kind, *item_id, *prompt, *expected;
	char *a_model, *b_model, *a_output, *b_output;
	bool a_pass, b_pass;
};

struct recs {
	struct rec v[64];
	size_t n;
	/* counts records */
	char *cb[8];
	long c[8][5]; /* compared, a_better, b_better, both_pass, neither */
	size_t nc;
};

static char *dupn(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static void read_jsonl(const char *text, struct recs *r)
{
	memset(r, 0, sizeof(*r));
	char *copy = strdup(text), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o, "not JSON: %s", l);
		const char *rec = cJSON_GetObjectItem(o, "record")->valuestring;
		if (!strcmp(rec, "counts")) {
			cr_assert_eq(r->n, 0, "counts after items: all counts come first");
			size_t i = r->nc++;
			r->cb[i] = dupn(o, "b_side");
			static const char *const k[] = {"compared", "a_better", "b_better",
							"both_pass", "neither"};
			for (int j = 0; j < 5; j++)
				r->c[i][j] = (long)cJSON_GetObjectItem(o, k[j])->valuedouble;
		} else {
			struct rec *x = &r->v[r->n++];
			x->a_side = dupn(o, "a_side");
			x->b_side = dupn(o, "b_side");
			x->kind = dupn(o, "kind");
			x->item_id = dupn(o, "item_id");
			x->prompt = dupn(o, "prompt");
			x->expected = dupn(o, "expected");
			const cJSON *a = cJSON_GetObjectItem(o, "a"),
				    *b = cJSON_GetObjectItem(o, "b");
			x->a_model = dupn(a, "model");
			x->b_model = dupn(b, "model");
			x->a_output = dupn(a, "output");
			x->b_output = dupn(b, "output");
			x->a_pass = cJSON_IsTrue(cJSON_GetObjectItem(a, "pass"));
			x->b_pass = cJSON_IsTrue(cJSON_GetObjectItem(b, "pass"));
		}
		cJSON_Delete(o);
	}
	free(copy);
}

struct csvread {
	char *cells[64];
	size_t ncell;
	char *header[64];
	size_t nheader;
	struct recs *r;
	size_t row;
};

static void csv_cb1(void *s, size_t len, void *data)
{
	struct csvread *c = data;
	char *v = malloc(len + 1);
	memcpy(v, s, len);
	v[len] = '\0';
	if (c->ncell < 64)
		c->cells[c->ncell++] = v;
	else
		free(v);
}

static const char *cell(struct csvread *c, const char *name)
{
	for (size_t i = 0; i < c->nheader; i++)
		if (!strcmp(c->header[i], name))
			return c->cells[i];
	cr_assert_fail("no column %s", name);
	return NULL;
}

static char *nz(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static void csv_cb2(int ch, void *data)
{
	(void)ch;
	struct csvread *c = data;
	if (c->row++ == 0) {
		memcpy(c->header, c->cells, sizeof(c->cells));
		c->nheader = c->ncell;
	} else {
		cr_assert_eq(c->ncell, c->nheader, "row %zu has %zu cells", c->row, c->ncell);
		struct rec *x = &c->r->v[c->r->n++];
		x->a_side = nz(cell(c, "a_side"));
		x->b_side = nz(cell(c, "b_side"));
		x->kind = nz(cell(c, "kind"));
		x->item_id = nz(cell(c, "item_id"));
		x->prompt = nz(cell(c, "prompt"));
		x->expected = nz(cell(c, "expected"));
		x->a_model = nz(cell(c, "a_model"));
		x->b_model = nz(cell(c, "b_model"));
		x->a_output = nz(cell(c, "a_output"));
		x->b_output = nz(cell(c, "b_output"));
		x->a_pass = !strcmp(cell(c, "a_pass"), "true");
		x->b_pass = !strcmp(cell(c, "b_pass"), "true");
		for (size_t i = 0; i < c->ncell; i++)
			free(c->cells[i]);
	}
	c->ncell = 0;
}

static void read_csv(const char *text, struct recs *r)
{
	memset(r, 0, sizeof(*r));
	struct csv_parser p;
	cr_assert_eq(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
	struct csvread c = {.r = r};
	size_t n = strlen(text);
	cr_assert_eq(csv_parse(&p, text, n, csv_cb1, csv_cb2, &c), n, "csv: %s",
		     csv_strerror(csv_error(&p)));
	csv_fini(&p, csv_cb1, csv_cb2, &c);
	csv_free(&p);
	for (size_t i = 0; i < c.nheader; i++)
		free(c.header[i]);
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct rec *x = &r->v[i];
		char **f[] = {&x->a_side,   &x->b_side,	 &x->kind,    &x->item_id,  &x->prompt,
			      &x->expected, &x->a_model, &x->b_model, &x->a_output, &x->b_output};
		for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++)
			free(*f[j]);
	}
	for (size_t i = 0; i < r->nc; i++)
		free(r->cb[i]);
}

/* The ids of the records of (b, kind), in order, joined with ",". */
static char *ids(const struct recs *r, const char *b, const char *kind)
{
	struct buf s;
	buf_init(&s);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].b_side, b) && !strcmp(r->v[i].kind, kind))
			buf_printf(&s, "%s%s", s.len ? "," : "", r->v[i].item_id);
	return buf_detach(&s, NULL);
}

#define X_A "i01,i04," INJ ",i\"09,i11"
#define X_B "i02,i07"
#define Y_A "i03"
#define Y_B "i05,i06,i10"

static void assert_ids(const struct recs *r, const char *b, const char *kind, const char *want)
{
	char *got = ids(r, b, kind);
	cr_assert_str_eq(got, want, "%s %s: got %s, want %s", b, kind, got, want);
	free(got);
}

Test(diff, lists_exactly_the_discordant_items_each_way_in_jsonl)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --format jsonl", &out, &err), 0, "%s: %s", err.where, err.msg);
	struct recs r;
	read_jsonl(out, &r);
	cr_assert_eq(r.nc, 2, "one comparison per shadow, got %zu", r.nc);
	cr_assert_str_eq(r.cb[0], "m/x");
	cr_assert_str_eq(r.cb[1], "m/y");
	long want[2][5] = {{12, 5, 2, 2, 3}, {11, 1, 3, 5, 2}};
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 5; j++)
			cr_assert_eq(r.c[i][j], want[i][j], "counts[%d][%d] = %ld", i, j,
				     r.c[i][j]);
	assert_ids(&r, "m/x", "a-better", X_A);
	assert_ids(&r, "m/x", "b-better", X_B);
	assert_ids(&r, "m/y", "a-better", Y_A);
	assert_ids(&r, "m/y", "b-better", Y_B);
	cr_assert_eq(r.n, 5 + 2 + 1 + 3, "only discordant items by default");
	/* A better first */
	cr_assert_str_eq(r.v[0].kind, "a-better");
	cr_assert_str_eq(r.v[5].kind, "b-better");
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(r.v[i].a_side, "primary");
		cr_assert_eq(r.v[i].a_pass, !strcmp(r.v[i].kind, "a-better"));
		cr_assert_eq(r.v[i].b_pass, !strcmp(r.v[i].kind, "b-better"));
	}
	recs_free(&r);
	free(out);
}

Test(diff, csv_lists_the_same_items)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --format csv", &out, &err), 0, "%s", err.msg);
	struct recs r;
	read_csv(out, &r);
	assert_ids(&r, "m/x", "a-better", X_A);
	assert_ids(&r, "m/x", "b-better", X_B);
	assert_ids(&r, "m/y", "a-better", Y_A);
	assert_ids(&r, "m/y", "b-better", Y_B);
	cr_assert_eq(r.n, 11);
	recs_free(&r);
	free(out);
}

/* Outputs and ids that a spreadsheet would run as formulas get csvw's
 * leading apostrophe; plain numbers stay numbers. */
Test(diff, csv_neutralises_formula_cells)
{
	char *dir = test_mkdtemp("diffcsv");
	struct buf sh;
	buf_init(&sh);
	cr_assert_eq(test_sh(&sh,
			     "cp " FIX "run/manifest.json %s/ && sed "
			     "-e 's/\"output\":\"#### 41\"/\"output\":\"=HYPERLINK(1)\"/' "
			     "-e 's/\"output\":\"#### 42\"/\"output\":\"@SUM(A1)\"/' "
			     "-e 's/\"item_id\":\"i10\"/\"item_id\":\"-2+3\"/' " FIX
			     "run/results.jsonl > %s/results.jsonl",
			     dir, dir),
		     0, "%s", sh.data);
	buf_free(&sh);
	char line[600];
	snprintf(line, sizeof(line), "%s --format csv --only all", dir);
	char *out;
	struct se_err err;
	cr_assert_eq(diff(line, &out, &err), 0, "%s", err.msg);
	struct recs r;
	read_csv(out, &r);
	cr_assert_eq(r.n, 12 + 11);
	size_t formulas = 0, ids = 0;
	for (size_t i = 0; i < r.n; i++) {
		const char *o[2] = {r.v[i].a_output, r.v[i].b_output};
		for (int k = 0; k < 2; k++) {
			cr_assert(!o[k] || !strchr("=@", o[k][0]), "raw formula: %s", o[k]);
			if (o[k] && (!strcmp(o[k], "'=HYPERLINK(1)") || !strcmp(o[k], "'@SUM(A1)")))
				formulas++;
		}
		cr_assert_neq(r.v[i].item_id[0], '-', "raw formula id: %s", r.v[i].item_id);
		ids += !strcmp(r.v[i].item_id, "'-2+3");
	}
	cr_assert_gt(formulas, 0);
	cr_assert_gt(ids, 0);
	cr_assert_not_null(strstr(out, ",0.0011,"), "numbers stay bare");
	recs_free(&r);
	free(out);
	test_rmdir(dir);
}

/* The (item, model) outputs of results.jsonl, read by the results reader. */
struct truth {
	char *id[64], *model[64], *output[64];
	size_t n;
};

static int truth_row(void *ctx, const struct res_rec *row)
{
	struct truth *t = ctx;
	t->id[t->n] = strdup(row->item_id);
	t->model[t->n] = strdup(row->model);
	t->output[t->n] = row->output ? strdup(row->output) : NULL;
	t->n++;
	return 0;
}

static const char *truth_output(const struct truth *t, const char *id, const char *model)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->id[i], id) && !strcmp(t->model[i], model))
			return t->output[i];
	cr_assert_fail("no line for (%s, %s)", id, model);
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

Test(diff, jsonl_and_csv_round_trip_to_the_results)
{
	struct truth t = {0};
	struct se_err err;
	cr_assert_eq(res_scan(FIX "run/results.jsonl", false, truth_row, &t, NULL, &err), 0);
	char *oj, *oc;
	cr_assert_eq(diff(FIX "run --format jsonl --only all", &oj, &err), 0, "%s", err.msg);
	cr_assert_eq(diff(FIX "run --format csv --only all", &oc, &err), 0, "%s", err.msg);
	struct recs rj, rc;
	read_jsonl(oj, &rj);
	read_csv(oc, &rc);
	cr_assert_eq(rj.n, 12 + 11);
	cr_assert_eq(rj.n, rc.n);
	bool saw_multi = false;
	for (size_t i = 0; i < rj.n; i++) {
		struct rec *j = &rj.v[i], *c = &rc.v[i];
		cr_assert(same(j->item_id, c->item_id));
		cr_assert(same(j->kind, c->kind));
		cr_assert(same(j->prompt, c->prompt), "%s: %s vs %s", j->item_id, j->prompt,
			  c->prompt);
		cr_assert(same(j->expected, c->expected));
		cr_assert(same(j->a_output, c->a_output), "%s", j->item_id);
		cr_assert(same(j->b_output, c->b_output), "%s", j->item_id);
		cr_assert_eq(j->a_pass, c->a_pass);
		cr_assert_eq(j->b_pass, c->b_pass);
		cr_assert(same(j->a_output, truth_output(&t, j->item_id, j->a_model)));
		cr_assert(same(j->b_output, truth_output(&t, j->item_id, j->b_model)));
		/* prompt and expected from the dataset the manifest names */
		char want[128];
		cr_assert_not_null(j->prompt, "%s has no prompt", j->item_id);
		snprintf(want, sizeof(want), "What is 6 x 7? (item %d) <b>bold</b>",
			 j->item_id[0] == '<' ? 8
					      : atoi(j->item_id + (j->item_id[1] == '"' ? 2 : 1)));
		cr_assert_str_eq(j->prompt, want);
		cr_assert_str_eq(j->expected, "42");
		saw_multi |= j->b_output && strstr(j->b_output, "\"quoted\"\nline 2\r\n");
	}
	cr_assert(saw_multi, "the output with quotes, commas and CRLF came back whole");
	recs_free(&rj);
	recs_free(&rc);
	for (size_t i = 0; i < t.n; i++) {
		free(t.id[i]);
		free(t.model[i]);
		free(t.output[i]);
	}
	free(oj);
	free(oc);
}

Test(diff, counts_come_first_in_text_and_md)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --b m/x", &out, &err), 0, "%s", err.msg);
	cr_assert(!strncmp(out,
			   "A = primary, B = m/x: 12 items compared\n"
			   "  5 where A is better, 2 where B is better, 2 both pass, 3 neither\n",
			   strlen("A = primary, B = m/x: 12 items compared\n")),
		  "%.200s", out);
	cr_assert_not_null(strstr(out, "5 where A is better, 2 where B is better"));
	/* items in order: A better first, by item_index */
	const char *order[] = {"a-better  i01 ",  "a-better  i04 ", "a-better  " INJ,
			       "a-better  i\"09", "a-better  i11 ", "b-better  i02 ",
			       "b-better  i07 "};
	const char *at = out;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(at, order[i]);
		cr_assert_not_null(p, "%s missing or out of order", order[i]);
		at = p;
	}
	cr_assert_null(strstr(out, "\033"), "colours when not on a terminal");
	cr_assert_null(strstr(out, "i00 "), "a concordant item listed");
	free(out);

	cr_assert_eq(diff(FIX "run --format md --b m/y", &out, &err), 0, "%s", err.msg);
	const char *md_head = "| A | B | compared | A better | B better | both pass | neither |\n"
			      "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
			      "| primary | m/y | 11 | **1** | **3** | 5 | 2 |\n";
	cr_assert(!strncmp(out, md_head, strlen(md_head)), "%.300s", out);
	free(out);
}

Test(diff, md_escapes_html_and_markdown_in_outputs_and_ids)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --format md --b m/x", &out, &err), 0, "%s", err.msg);
	cr_assert_null(strstr(out, "<script"), "raw script tag");
	cr_assert_null(strstr(out, "<img"), "raw img tag");
	cr_assert_null(strstr(out, "<b>"), "raw tag from the prompt");
	cr_assert_null(strstr(out, "\033"), "a terminal escape passed through");
	cr_assert_not_null(strstr(out, "&lt;/pre&gt;&lt;script&gt;alert\\(1\\)") ||
			       strstr(out, "&lt;/pre&gt;&lt;script&gt;alert(1)"),
			   "the payload is shown escaped");
	/* the output's blank line must not end the <pre> block */
	const char *pre = strstr(out, "&lt;/pre&gt;");
	cr_assert_not_null(pre);
	const char *end = strstr(pre, "</pre>");
	cr_assert_not_null(end);
	cr_assert_null(memmem(pre, (size_t)(end - pre), "\n", 1), "a newline inside <pre>");
	cr_assert_not_null(strstr(out, "### a-better: &lt;img src=x onerror=alert\\(1\\)&gt;"),
			   "the id in the heading is escaped");
	free(out);
}

Test(diff, text_shows_control_bytes_and_stacks_on_a_narrow_terminal)
{
	char *out;
	struct se_err err;
	setenv("COLUMNS", "60", 1);
	cr_assert_eq(diff(FIX "run --b m/x --grep onerror", &out, &err), 0, "%s", err.msg);
	unsetenv("COLUMNS");
	cr_assert_null(strstr(out, "\033"));
	cr_assert_not_null(strstr(out, "\\x1b[31mred"), "%s", out);
	cr_assert_null(strstr(out, " | B "), "side by side at 60 columns");
	const char *a = strstr(out, "A m/fast (primary)"), *b = strstr(out, "B m/x (shadow)");
	cr_assert(a && b && a < b, "A above B");
	cr_assert_not_null(strstr(out, "prompt: What is 6 x 7? (item 8) <b>bold</b>"));
	cr_assert_not_null(strstr(out, "expected: 42"));
	free(out);

	setenv("COLUMNS", "140", 1);
	cr_assert_eq(diff(FIX "run --b m/x --grep onerror", &out, &err), 0, "%s", err.msg);
	unsetenv("COLUMNS");
	cr_assert_not_null(strstr(out, " | B m/x (shadow)"), "side by side at 140: %s", out);
	free(out);
}

Test(diff, filters_select_the_items)
{
	char *out;
	struct se_err err;
	struct recs r;
	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --only b-better", &out, &err), 0);
	read_jsonl(out, &r);
	cr_assert_eq(r.n, 2);
	assert_ids(&r, "m/x", "b-better", X_B);
	recs_free(&r);
	free(out);

	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --task code", &out, &err), 0);
	read_jsonl(out, &r);
	assert_ids(&r, "m/x", "a-better", "i04,i\"09");
	cr_assert_eq(r.c[0][0], 4, "compared code items");
	recs_free(&r);
	free(out);

	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --slot deep", &out, &err), 0);
	read_jsonl(out, &r);
	assert_ids(&r, "m/x", "a-better", "i04,i\"09,i11");
	assert_ids(&r, "m/x", "b-better", "");
	recs_free(&r);
	free(out);

	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --limit 3", &out, &err), 0);
	read_jsonl(out, &r);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.c[0][1], 5, "counts are not limited");
	recs_free(&r);
	free(out);

	/* --limit N lists the first N items of the whole listing, across kinds
	 * (diff keeps only those, and counts the rest) */
	char *all_out = NULL;
	struct recs all;
	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --only all", &all_out, &err), 0);
	read_jsonl(all_out, &all);
	cr_assert_gt(all.n, 7);
	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --only all --limit 7", &out, &err), 0);
	read_jsonl(out, &r);
	cr_assert_eq(r.n, 7);
	cr_assert_neq(strcmp(r.v[0].kind, r.v[6].kind), 0, "the 7 cross a kind");
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(r.v[i].item_id, all.v[i].item_id);
		cr_assert_str_eq(r.v[i].kind, all.v[i].kind);
	}
	for (int j = 0; j < 5; j++)
		cr_assert_eq(r.c[0][j], all.c[0][j], "counts are not limited");
	recs_free(&r);
	recs_free(&all);
	free(out);
	free(all_out);

	cr_assert_eq(diff(FIX "run --format jsonl --b m/x --grep Ответ", &out, &err), 0);
	read_jsonl(out, &r);
	assert_ids(&r, "m/x", "b-better", "i02");
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.c[0][0], 1, "counts follow --grep");
	recs_free(&r);
	free(out);

	/* two models, each its answer: m/x against m/y */
	cr_assert_eq(diff(FIX "run --format jsonl --a m/x --b m/y", &out, &err), 0);
	read_jsonl(out, &r);
	assert_ids(&r, "m/y", "a-better", "i02,i03,i07");
	assert_ids(&r, "m/y", "b-better", "i01,i04,i05,i06," INJ ",i10,i11");
	recs_free(&r);
	free(out);
}

Test(diff, bad_flags_and_names_are_usage_errors)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --b m/nope", &out, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert_str_eq(err.where, "--b");
	cr_assert_not_null(strstr(err.msg, "\"m/nope\" is not in the results"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "\"m/x\""), "%s", err.msg);
	free(out);
	cr_assert_eq(diff(FIX "run --only sometimes", &out, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert_not_null(strstr(err.msg, "known: discordant, a-better, b-better, all"));
	free(out);
	cr_assert_eq(diff(FIX "run --grep (", &out, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert_str_eq(err.where, "--grep");
	free(out);
	cr_assert_eq(diff(FIX "run --task nope", &out, &err), -1);
	cr_assert_str_eq(err.where, "--task");
	free(out);
	cr_assert_eq(diff(FIX "nowhere", &out, &err), -1);
	cr_assert_eq(err.kind, SE_IO);
	free(out);
}

/* A bad line names file:line; a torn last line is skipped. */
Test(diff, bad_lines_name_the_file_and_line)
{
	char *dir = test_mkdtemp("diffbad");
	char path[512];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	char *good = test_read_file(FIX "run/results.jsonl", NULL);
	FILE *f = fopen(path, "w");
	fputs(good, f);
	fputs("{\"item_id\":\"t\",\"model\":\"m/"
	      "x\",\"role\":\"shadow\",\"status\":\"ok\",\"pass\":tr",
	      f); /* torn: no newline */
	fclose(f);
	char *out;
	struct se_err err;
	cr_assert_eq(diff(dir, &out, &err), 0, "a torn last line: %s", err.msg);
	free(out);

	f = fopen(path, "w");
	fputs("{\"item_id\":\"a\",\"model\":\"m/p\",\"role\":\"primary\",\"status\":\"ok\"}\n", f);
	fputs("{\"item_id\":\"a\",\"model\":\"m/x\",\"role\":\"boss\",\"status\":\"ok\"}\n", f);
	fclose(f);
	cr_assert_eq(diff(dir, &out, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:2", path);
	cr_assert_str_eq(err.where, want);
	cr_assert_not_null(strstr(err.msg, "unknown role \"boss\""), "%s", err.msg);
	free(out);

	f = fopen(path, "w");
	fputs("{\"item_id\":\"a\",\"model\":\"m/p\",\"role\":\"primary\",\"status\":\"ok\"}\n", f);
	fputs("{\"item_id\":\"a\",\"model\":\"m/x\",\"role\":\"shadow\" \"status\":\"ok\"}\n", f);
	fclose(f);
	cr_assert_eq(diff(dir, &out, &err), -1);
	cr_assert_str_eq(err.where, want);
	cr_assert_eq(err.kind, SE_INPUT);
	free(out);
	free(good);
	unlink(path);
	test_rmdir(dir);
}

/* Issue 9 #20: diff's fast scanner refuses an unknown status, as res_scan does. */
Test(diff, unknown_status_names_the_file_and_line)
{
	char *dir = test_mkdtemp("diffst");
	char path[512];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"item_id\":\"a\",\"model\":\"m/p\",\"role\":\"primary\",\"status\":\"ok\"}\n", f);
	fputs("{\"item_id\":\"a\",\"model\":\"m/x\",\"role\":\"shadow\",\"status\":\"exploded\"}\n",
	      f);
	fclose(f);
	char *out = NULL;
	struct se_err err;
	cr_assert_eq(diff(dir, &out, &err), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:2", path);
	cr_assert_str_eq(err.where, want);
	cr_assert_not_null(strstr(err.msg, "unknown status \"exploded\""), "%s", err.msg);
	free(out);
	unlink(path);
	test_rmdir(dir);
}

/* Issue 10: diff reads through the one results reader: every bad-line
 * fixture of tests/fixtures/results/bad/ fails in diff with the message and
 * file:line that summarize gives. */
#define BAD_RESULTS "tests/fixtures/results/bad/"

static void fails_as_in_summarize(const char *name, void *ctx)
{
	(void)ctx;
	char *dir = test_mkdtemp("diffsum");
	char src[600], dst[600];
	snprintf(src, sizeof(src), "%s%s", BAD_RESULTS, name);
	snprintf(dst, sizeof(dst), "%s/results.jsonl", dir);
	size_t size;
	char *text = test_read_file(src, &size);
	FILE *f = fopen(dst, "wb");
	fwrite(text, 1, size, f);
	fclose(f);
	free(text);
	char *out = NULL;
	struct se_err derr, serr;
	int drc = diff(dir, &out, &derr);
	free(out);
	char *argv[] = {"summarize", dir, NULL};
	se_clear(&serr);
	int src_rc = cmd_summarize(2, argv, &serr);
	cr_expect_eq(drc, src_rc, "%s: diff %d, summarize %d", name, drc, src_rc);
	if (drc && src_rc) {
		cr_expect_eq(derr.kind, serr.kind, "%s", name);
		cr_expect_str_eq(derr.where, serr.where, "%s", name);
		cr_expect_str_eq(derr.msg, serr.msg, "%s", name);
	}
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

Test(diff, every_bad_results_fixture_fails_as_in_summarize)
{
	size_t n = test_each_file(BAD_RESULTS, ".jsonl", fails_as_in_summarize, NULL);
	cr_expect_geq(n, 19, "only %zu bad fixtures", n);
}

/* The fast scanner and the results reader agree on every fixture line. */
Test(diff, the_index_agrees_with_the_results_reader)
{
	struct dif_index x;
	struct se_err err;
	cr_assert_eq(dif_index_load(&x, FIX "run/results.jsonl", &err), 0, "%s", err.msg);
	struct truth t = {0};
	cr_assert_eq(res_scan(FIX "run/results.jsonl", false, truth_row, &t, NULL, &err), 0);
	cr_assert_eq(x.ncells, t.n);
	cr_assert_eq(x.nitems, 12);
	cr_assert_not_null(x.idx, "the fixture's lines are shuffled: grouped through idx");
	struct dif_line l;
	dif_line_init(&l);
	for (size_t c = 0; c < x.ncells; c++) {
		cr_assert_eq(dif_line_load(&x, (uint32_t)c, &l, &err), 0, "%s", err.msg);
		cr_assert_str_eq(x.models.name[x.cells[c].model], l.row.model);
		bool pass = l.row.pass && l.row.status == RES_OK;
		cr_assert_eq((x.cells[c].flags & DIF_F_PASS) != 0, pass, "%s %s", l.row.item_id,
			     l.row.model);
		cr_assert_eq(x.items[x.cells[c].item].index, l.row.item_index);
		cr_assert_str_eq(x.tasks.name[x.items[x.cells[c].item].task], l.row.task);
	}
	dif_line_free(&l);
	dif_index_free(&x);
	for (size_t i = 0; i < t.n; i++) {
		free(t.id[i]);
		free(t.model[i]);
		free(t.output[i]);
	}
}

/* ---- large runs: the index's arrays past dif_arr.c's 1 MiB threshold ---- */

/* Grows an array of `size`-byte elements one element at a time to n: every
 * element written keeps its bytes across each move (malloc, then a mapping,
 * then mremap), and every new element starts zero. */
static void grow_and_check(size_t size, size_t n)
{
	unsigned char *a = NULL;
	size_t cap = 0;
	bool zero = true;
	for (size_t i = 0; i < n; i++) {
		size_t before = cap;
		a = dif_arr_grow(a, &cap, i + 1, size);
		cr_assert_geq(cap, i + 1);
		for (size_t j = before * size; j < cap * size; j++)
			zero = zero && a[j] == 0;
		memset(a + i * size, (int)(i % 251) + 1, size);
	}
	cr_assert(zero, "a new element was not zero");
	size_t bad = n;
	for (size_t i = 0; i < n && bad == n; i++)
		for (size_t b = 0; b < size; b++)
			if (a[i * size + b] != (unsigned char)(i % 251 + 1))
				bad = i;
	cr_assert_eq(bad, n, "element %zu of %zu bytes lost its value", bad, size);
	dif_arr_free(a, cap, size);
}

Test(diff, large_arrays_keep_their_elements_and_start_zero)
{
	grow_and_check(4, (size_t)3 << 20); /* 12 MiB: a mapping grown by mremap */
	grow_and_check(24, 100000);	    /* an item's size: not a power of two */
	grow_and_check(16, 1000);	    /* small: malloc only */
}

/* A run of n items with two lines each (the primary m0, the shadow m1),
 * item_index counting down so the index must sort; m0 passes unless k % 3
 * is 0, m1 unless k % 5 is 0. */
static void write_large_run(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (unsigned k = 0; k < n; k++)
		for (unsigned m = 0; m < 2; m++)
			fprintf(
			    f,
			    "{\"item_id\":\"it-%u\",\"item_index\":%u,\"task\":\"t%u\","
			    "\"model\":\"m%u\",\"role\":\"%s\",\"status\":\"ok\",\"pass\":%s}\n",
			    k, n - 1 - k, k % 7, m, m ? "shadow" : "primary",
			    (m ? k % 5 : k % 3) ? "true" : "false");
	cr_assert_eq(fclose(f), 0);
}

Test(diff, the_index_of_a_large_run_agrees_with_its_lines)
{
	/* 70,000 items: cells, items and the id table all past 1 MiB */
	const unsigned n = 70000;
	char *dir = test_mkdtemp("diffbig");
	write_large_run(test_path(dir, "results.jsonl"), n);
	struct dif_index x;
	struct se_err err;
	cr_assert_eq(dif_index_load(&x, test_path(dir, "results.jsonl"), &err), 0, "%s", err.msg);
	cr_assert_eq(x.ncells, 2 * n);
	cr_assert_eq(x.nitems, n);
	cr_assert_null(x.idx, "an item's lines are adjacent: the cells are grouped already");
	size_t bad = SIZE_MAX;
	for (size_t c = 0; c < x.ncells && bad == SIZE_MAX; c++) {
		unsigned k = (unsigned)(c / 2), m = (unsigned)(c % 2);
		char id[32], task[8], model[8];
		snprintf(id, sizeof(id), "it-%u", k);
		snprintf(task, sizeof(task), "t%u", k % 7);
		snprintf(model, sizeof(model), "m%u", m);
		const struct dif_cell *cell = &x.cells[c];
		const struct dif_item *it = &x.items[cell->item];
		bool pass = m ? k % 5 : k % 3;
		if (dif_item_find(&x, hash64(0, id, strlen(id))) != (long)cell->item ||
		    it->index != (int64_t)(n - 1 - k) || strcmp(x.tasks.name[it->task], task) ||
		    strcmp(x.models.name[cell->model], model) ||
		    cell->role != (m ? DIF_ROLE_SHADOW : DIF_ROLE_PRIMARY) ||
		    ((cell->flags & DIF_F_PASS) != 0) != pass)
			bad = c;
	}
	cr_assert_eq(bad, SIZE_MAX, "cell %zu disagrees with its line", bad);
	for (size_t r = 0; r < n; r++)
		cr_assert_eq(x.items[x.order[r]].index, (int64_t)r, "order %zu", r);

	/* the kinds, counted from the definition */
	size_t want[DIF_NKINDS] = {0};
	for (unsigned k = 0; k < n; k++) {
		bool pa = k % 3, pb = k % 5;
		want[pa && !pb	 ? DIF_A_BETTER
		     : pb && !pa ? DIF_B_BETTER
		     : pa	 ? DIF_BOTH_PASS
				 : DIF_NEITHER]++;
	}
	struct dif_spec spec = {
	    .a = DIF_A_PRIMARY, .b = dif_model_find(&x, "m1"), .task = -1, .slot = -1};
	struct dif_sel sel, few;
	cr_assert_eq(dif_select(&x, &spec, &sel, &err), 0, "%s", err.msg);
	for (int k = 0; k < DIF_NKINDS; k++) {
		cr_assert_eq(sel.n[k], want[k], "%s", dif_kind_names[k]);
		cr_assert_eq(sel.kept[k], want[k], "%s", dif_kind_names[k]);
		for (size_t i = 1; i < sel.n[k]; i++) /* in item_index order */
			cr_assert_lt(x.items[sel.hit[k][i - 1].item].index,
				     x.items[sel.hit[k][i].item].index);
	}
	/* as `diff --limit 3` selects: the same counts, the first 3 of each
	 * listed kind kept, none of the others */
	spec.keep = 3;
	spec.count_only = (1u << DIF_BOTH_PASS) | (1u << DIF_NEITHER);
	cr_assert_eq(dif_select(&x, &spec, &few, &err), 0, "%s", err.msg);
	cr_assert_eq(few.compared, sel.compared);
	for (int k = 0; k < DIF_NKINDS; k++) {
		cr_assert_eq(few.n[k], want[k], "%s", dif_kind_names[k]);
		size_t kept = spec.count_only & (1u << k) ? 0 : 3;
		cr_assert_eq(few.kept[k], kept, "%s", dif_kind_names[k]);
		for (size_t i = 0; i < kept; i++)
			cr_assert_eq(few.hit[k][i].item, sel.hit[k][i].item);
	}
	dif_sel_free(&few);
	dif_sel_free(&sel);
	dif_index_free(&x);
	test_rmtree(dir);
}

/* ---- --baseline (tests/fixtures/diff/base, see make_fixtures.py) ---- */

Test(diff, baseline_groups_the_flipped_items_by_cause)
{
	char *out;
	struct se_err err;
	cr_assert_eq(diff(FIX "run --baseline " FIX "base --format jsonl", &out, &err), 0, "%s",
		     err.msg);
	struct recs r;
	read_jsonl(out, &r);
	cr_assert_eq(r.nc, 3);
	cr_assert_str_eq(r.cb[0], "different model");
	cr_assert_str_eq(r.cb[1], "same model, different answer");
	cr_assert_str_eq(r.cb[2], "routing changed, same result");
	long want[3][5] = {{2, 1, 1, 0, 0}, {2, 1, 1, 0, 0}, {2, 0, 0, 1, 1}};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 5; j++)
			cr_assert_eq(r.c[i][j], want[i][j], "counts[%d][%d] = %ld", i, j,
				     r.c[i][j]);
	assert_ids(&r, "different model", "lost", "i07");
	assert_ids(&r, "different model", "gained", "i03");
	assert_ids(&r, "same model, different answer", "lost", "i02");
	assert_ids(&r, "same model, different answer", "gained", "i01");
	assert_ids(&r, "routing changed, same result", "both-pass", "i04");
	assert_ids(&r, "routing changed, same result", "neither", "i05");
	cr_assert_eq(r.n, 6, "unchanged items are not listed");
	/* A is the baseline's line, B this run's */
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(r.v[i].a_side, "baseline");
		if (!strcmp(r.v[i].item_id, "i07")) {
			cr_assert_str_eq(r.v[i].a_model, "m/deep");
			cr_assert_str_eq(r.v[i].b_model, "m/fast");
			cr_assert(r.v[i].a_pass && !r.v[i].b_pass);
		}
	}
	recs_free(&r);
	free(out);

	cr_assert_eq(
	    diff(FIX "run --baseline " FIX "base --format jsonl --only a-better", &out, &err), 0);
	read_jsonl(out, &r);
	cr_assert_eq(r.n, 2, "--only a-better: the lost passes");
	assert_ids(&r, "different model", "lost", "i07");
	assert_ids(&r, "same model, different answer", "lost", "i02");
	recs_free(&r);
	free(out);

	cr_assert_eq(diff(FIX "run --baseline " FIX "base --a m/x", &out, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	free(out);
}

/* cmd_check's markdown lists the flipped items: lost passes first, with the
 * check that failed. */
Test(diff, check_markdown_lists_the_flipped_items)
{
	char *dir = test_mkdtemp("diffcheck");
	char md[512];
	snprintf(md, sizeof(md), "%s/check.md", dir);
	char *argv[] = {"check", FIX "run", "--baseline", FIX "base", "--markdown", md, NULL};
	struct se_err err;
	se_clear(&err);
	fflush(stdout);
	int saved = dup(1), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 1);
	close(devnull);
	int rc = cmd_check(6, argv, &err);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	cr_assert_eq(rc, 0, "%s", err.msg);
	char *text = test_read_file(md, NULL);
	cr_assert_not_null(strstr(text, "**Flipped items**: 2 lost a pass, 2 gained one."), "%s",
			   text);
	const char *rows[] = {
	    "| i07 | qa | deep -&gt; fast | m/deep -&gt; m/fast | lost | final \\(41\\) |",
	    "| i02 | qa | fast -&gt; fast | m/fast \\(same\\) | lost | final \\(41\\) |",
	    "| i03 | code | deep -&gt; fast | m/deep -&gt; m/fast | gained | final \\(41\\) |",
	    "| i01 | qa | fast -&gt; fast | m/fast \\(same\\) | gained | final \\(41\\) |",
	};
	const char *at = text;
	for (size_t i = 0; i < 4; i++) {
		const char *p = strstr(at, rows[i]);
		cr_assert_not_null(p, "row %zu missing or out of order: %s\n%s", i, rows[i], text);
		at = p;
	}
	cr_assert_null(strstr(text, "| i04 |"), "a routing change without a flip is not a flip");
	free(text);
	unlink(md);
	test_rmdir(dir);
}

/* ---- report.html's "Where they disagree" ---- */

static void copy_file(const char *from, const char *dir, const char *name)
{
	size_t n;
	char *data = test_read_file(from, &n);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	free(data);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(diff, report_shows_where_they_disagree_escaped)
{
	char *dir = test_mkdtemp("direport");
	copy_file(FIX "run/results.jsonl", dir, "results.jsonl");
	copy_file(FIX "run/manifest.json", dir, "manifest.json");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	char path[512];
	snprintf(path, sizeof(path), "%s/report.html", dir);
	char *html = test_read_file(path, NULL);
	cr_assert_not_null(strstr(html, "<section id=\"disagree\"><h2>Where they disagree</h2>"));
	cr_assert_null(strstr(html, "<script"), "no script, and the payload is escaped");
	cr_assert_null(strstr(html, "<img"), "the id is escaped");
	cr_assert_not_null(strstr(html, "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_assert_not_null(strstr(html, "<code>&lt;img src=x onerror=alert(1)&gt;</code>"));
	/* m/x is 6d2f78: the pairs table links to its heading */
	cr_assert_not_null(strstr(html, "<a href=\"#dis-p-6d2f78\">m/x</a>"));
	const char *h = strstr(html, "<h3 id=\"dis-p-6d2f78\">");
	cr_assert_not_null(h);
	cr_assert_not_null(strstr(h, "12 items compared: <b>5</b> where A passed and B failed, "
				     "<b>2</b> where B passed and A failed"),
			   "%.400s", h);
	/* at most 5 items each way: 5 + 2 rows before the next comparison */
	const char *next = strstr(h + 1, "<h3 id=");
	cr_assert_not_null(next);
	char *part = strndup(h, (size_t)(next - h));
	cr_assert_eq(count_of(part, "<details class=\"dis\">"), 7);
	cr_assert_not_null(strstr(part, "A better: 5 items"));
	free(part);
	/* a swap candidate: slot fast (66617374), candidate m/y (6d2f79) */
	cr_assert_not_null(strstr(html, "<a href=\"#dis-s-66617374-6d2f79\">m/y</a>"));
	cr_assert_not_null(strstr(html, "<h3 id=\"dis-s-66617374-6d2f79\">"));
	free(html);
	char *names[] = {"report.html", "models.csv", "tasks.csv",     "slots.csv",
			 "pairs.csv",	"swaps.csv",  "results.jsonl", "manifest.json"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	test_rmdir(dir);
}
