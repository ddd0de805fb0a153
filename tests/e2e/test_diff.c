/* test_diff.c: `shadoweval diff` end to end: a seeded shadowsim run of
 * tests/fixtures/run/eval.json (20 items, slots fast and deep, shadow
 * sim/cand) where every model answers right only part of the time, then the
 * real binary's diff in each format against what results.jsonl says, read
 * here with cJSON (not with diff's scanner), and against pairs.csv.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/seproc.h"
#include "../support/simproc.h"
#include "core/buf.h"

#define FIX "tests/fixtures/run"

static char *tmpdir;

static void make_tmp(void)
{
	tmpdir = test_mkdtemp("e2e-diff");
}

static void rm_tmp(void)
{
	test_rmtree(tmpdir);
	tmpdir = NULL;
}

static char *tpath(const char *name)
{
	return test_path(tmpdir, name);
}

static struct proc_out run_se(const char *const *args)
{
	return seproc_run(tmpdir, args);
}

/* Every model answers right with probability `acc` (seeded). */
static const char *profiles(const char *name, const char *acc_fast, const char *acc_cand)
{
	static const char *const models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	char *path = tpath(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 11, \"models\": {", f);
	for (int i = 0; i < 4; i++)
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"accuracy\": {\"default\": %s}}",
			i ? ", " : "", models[i],
			i == 0	 ? acc_fast
			: i == 2 ? acc_cand
				 : "0.6");
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void run_eval(const char *eval, const char *prof, const char *dir)
{
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, eval, NULL), 0, "shadowsim: %s", sp.error);
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run", eval, "-o", dir, "--endpoint", ep, "--quiet", NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 0, "run exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	simproc_stop(&sp);
}

/* From results.jsonl: per kind, the item ids where the primary and the
 * sim/cand shadow disagree, in item_index order, ","-joined. */
static void expected_kinds(const char *dir, char **a_better, char **b_better)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	char *text = test_slurp(path, NULL);
	cr_assert_not_null(text);
	int prim[64], cand[64];
	char ids[64][32];
	for (int i = 0; i < 64; i++)
		prim[i] = cand[i] = -1;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o);
		int idx = (int)cJSON_GetObjectItem(o, "item_index")->valuedouble;
		cr_assert(idx >= 0 && idx < 64);
		const char *role = cJSON_GetObjectItem(o, "role")->valuestring;
		int pass = cJSON_IsTrue(cJSON_GetObjectItem(o, "pass")) &&
			   !strcmp(cJSON_GetObjectItem(o, "status")->valuestring, "ok");
		snprintf(ids[idx], sizeof(ids[idx]), "%s",
			 cJSON_GetObjectItem(o, "item_id")->valuestring);
		if (!strcmp(role, "primary"))
			prim[idx] = pass;
		else if (!strcmp(role, "shadow"))
			cand[idx] = pass;
		cJSON_Delete(o);
	}
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	for (int i = 0; i < 64; i++) {
		if (prim[i] < 0 || cand[i] < 0 || prim[i] == cand[i])
			continue;
		struct buf *t = prim[i] ? &a : &b;
		buf_printf(t, "%s%s", t->len ? "," : "", ids[i]);
	}
	*a_better = buf_detach(&a, NULL);
	*b_better = buf_detach(&b, NULL);
	free(text);
}

static char *jsonl_ids(const char *out, const char *kind, long *count)
{
	struct buf s;
	buf_init(&s);
	char *copy = strdup(out), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o, "not JSON: %s", l);
		const char *rec = cJSON_GetObjectItem(o, "record")->valuestring;
		if (!strcmp(rec, "counts"))
			*count = (long)cJSON_GetObjectItem(
				     o, !strcmp(kind, "a-better") ? "a_better" : "b_better")
				     ->valuedouble;
		else if (!strcmp(cJSON_GetObjectItem(o, "kind")->valuestring, kind))
			buf_printf(&s, "%s%s", s.len ? "," : "",
				   cJSON_GetObjectItem(o, "item_id")->valuestring);
		cJSON_Delete(o);
	}
	free(copy);
	return buf_detach(&s, NULL);
}

static size_t count_words(const char *list)
{
	if (!*list)
		return 0;
	size_t n = 1;
	for (; *list; list++)
		n += *list == ',';
	return n;
}

Test(diff, lists_exactly_the_discordant_items_of_a_seeded_run, .timeout = 90)
{
	make_tmp();
	run_eval(FIX "/eval.json", profiles("p.json", "0.6", "0.5"), tpath("run"));
	char *want_a, *want_b;
	expected_kinds(tpath("run"), &want_a, &want_b);
	cr_assert(count_words(want_a) > 0 && count_words(want_b) > 0,
		  "the seeded run has discordant items both ways (%s / %s)", want_a, want_b);

	const char *jl[] = {"diff", tpath("run"), "--format", "jsonl", NULL};
	struct proc_out p = run_se(jl);
	cr_assert_eq(p.status, 0, "%s", p.err);
	long na = -1, nb = -1;
	char *got_a = jsonl_ids(p.out, "a-better", &na), *got_b = jsonl_ids(p.out, "b-better", &nb);
	cr_assert_str_eq(got_a, want_a);
	cr_assert_str_eq(got_b, want_b);
	cr_assert_eq((size_t)na, count_words(want_a));
	cr_assert_eq((size_t)nb, count_words(want_b));
	proc_out_free(&p);

	/* the same counts as pairs.csv's overall row */
	char *pairs = test_slurp(tpath("run/pairs.csv"), NULL);
	char row[128];
	const char *at = strstr(pairs, "overall,all,policy,sim/cand,");
	cr_assert_not_null(at, "%s", pairs);
	long n, both, only_p, only_s;
	cr_assert_eq(
	    sscanf(at, "overall,all,policy,sim/cand,%ld,%ld,%ld,%ld", &n, &both, &only_p, &only_s),
	    4);
	cr_assert_eq(only_p, na);
	cr_assert_eq(only_s, nb);
	free(pairs);

	/* text and md: the counts first, then the same items */
	const char *tx[] = {"diff", tpath("run"), NULL};
	p = run_se(tx);
	cr_assert_eq(p.status, 0, "%s", p.err);
	snprintf(row, sizeof(row),
		 "A = primary, B = sim/cand: %ld items compared\n  %ld where A is better, %ld "
		 "where B is better",
		 n, na, nb);
	cr_assert(!strncmp(p.out, row, strlen(row)), "%.300s", p.out);
	cr_assert_null(strstr(p.out, "\033"), "colours in a pipe");
	char *copy = strdup(want_a), *save = NULL;
	for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		char head[80];
		snprintf(head, sizeof(head), "\na-better  %s  ", id);
		cr_assert_not_null(strstr(p.out, head), "%s not listed", id);
	}
	free(copy);
	proc_out_free(&p);

	const char *md[] = {"diff", tpath("run"), "--format", "md", NULL};
	p = run_se(md);
	cr_assert_eq(p.status, 0, "%s", p.err);
	snprintf(row, sizeof(row), "| primary | sim/cand | %ld | **%ld** | **%ld** |", n, na, nb);
	cr_assert_not_null(strstr(p.out, row), "%.300s", p.out);
	proc_out_free(&p);

	const char *csv[] = {"diff", tpath("run"), "--format", "csv", NULL};
	p = run_se(csv);
	cr_assert_eq(p.status, 0, "%s", p.err);
	size_t rows = 0;
	for (const char *c = p.out; (c = strstr(c, "\nprimary,sim/cand,")); c++)
		rows++;
	cr_assert_eq(rows, (size_t)(na + nb), "csv rows");
	proc_out_free(&p);

	free(got_a);
	free(got_b);
	free(want_a);
	free(want_b);
	rm_tmp();
}

/* The text with every "from" replaced by "to" (a new string). */
static char *replaced(const char *text, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	for (const char *c = text; (c = strstr(c, from)); c += fl)
		n++;
	char *out = malloc(strlen(text) + n * tl + 1), *o = out;
	for (const char *c = text, *hit; *c; c = hit + fl) {
		hit = strstr(c, from);
		if (!hit) {
			strcpy(o, c);
			return out;
		}
		memcpy(o, c, (size_t)(hit - c));
		o += hit - c;
		memcpy(o, to, tl);
		o += tl;
		*o = '\0';
	}
	return out;
}

/* diff shows each item's prompt and expected answer from the dataset; a
 * dataset edited after the run (same ids, other prompts) must not lend its
 * text to the run's answers: diff says so and shows none. */
Test(diff, a_dataset_changed_since_the_run_lends_no_prompt, .timeout = 90)
{
	make_tmp();
	char *eval = test_slurp(FIX "/eval.json", NULL),
	     *items = test_slurp(FIX "/items.jsonl", NULL);
	cr_assert(eval && items);
	test_write_file(tpath("eval.json"), eval);
	test_write_file(tpath("items.jsonl"), items);
	char *pricing = test_slurp(FIX "/pricing.json", NULL);
	cr_assert_not_null(pricing);
	test_write_file(tpath("pricing.json"), pricing);
	free(pricing);
	run_eval(tpath("eval.json"), profiles("p.json", "0.6", "0.5"), tpath("run"));
	const char *jl[] = {"diff", tpath("run"), "--format", "jsonl", NULL};
	struct proc_out p = run_se(jl);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert_not_null(strstr(p.out, "Reply with the number only"), "no prompt shown: %s",
			   p.out);
	cr_assert_null(strstr(p.err, "changed since the run"), "%s", p.err);
	proc_out_free(&p);

	char *edited = replaced(items, "Reply with the number only.", "EDITED AFTER THE RUN.");
	test_write_file(tpath("items.jsonl"), edited);
	p = run_se(jl);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_expect_not_null(strstr(p.err, "items.jsonl: changed since the run"), "%s", p.err);
	cr_expect_null(strstr(p.out, "EDITED AFTER THE RUN"), "today's prompt shown: %s", p.out);
	cr_expect_null(strstr(p.out, "Reply with the number only"), "%s", p.out);
	cr_expect_not_null(strstr(p.out, "a-better"), "the items are still listed: %s", p.out);
	proc_out_free(&p);
	free(edited);
	free(eval);
	free(items);
	rm_tmp();
}

Test(diff, usage_errors_exit_2, .timeout = 30)
{
	make_tmp();
	const char *bad[] = {"diff", FIX, "--format", "xml", NULL};
	struct proc_out p = run_se(bad);
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "--format: unknown value \"xml\""), "%s", p.err);
	proc_out_free(&p);
	const char *help[] = {"diff", "--help", NULL};
	p = run_se(help);
	cr_assert_eq(p.status, 0);
	cr_assert_not_null(strstr(p.out, "usage: shadoweval diff DIR"));
	proc_out_free(&p);
	rm_tmp();
}

/* Per item of a run: the primary line's model and pass (no faults here, so
 * the primary's line is the policy result). */
struct policy {
	char id[64][32], model[64][32];
	int pass[64];
	int n;
};

static void load_policy(const char *dir, struct policy *p)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	char *text = test_slurp(path, NULL);
	cr_assert_not_null(text);
	memset(p, 0, sizeof(*p));
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o);
		if (!strcmp(cJSON_GetObjectItem(o, "role")->valuestring, "primary")) {
			int idx = (int)cJSON_GetObjectItem(o, "item_index")->valuedouble;
			cr_assert(idx >= 0 && idx < 64);
			snprintf(p->id[idx], 32, "%s",
				 cJSON_GetObjectItem(o, "item_id")->valuestring);
			snprintf(p->model[idx], 32, "%s",
				 cJSON_GetObjectItem(o, "model")->valuestring);
			p->pass[idx] = cJSON_IsTrue(cJSON_GetObjectItem(o, "pass")) &&
				       !strcmp(cJSON_GetObjectItem(o, "status")->valuestring, "ok");
			if (idx + 1 > p->n)
				p->n = idx + 1;
		}
		cJSON_Delete(o);
	}
	free(text);
}

/* The ids of diff's jsonl item records of one cause and kind. */
static char *cause_ids(const char *out, const char *cause, const char *kind)
{
	struct buf s;
	buf_init(&s);
	char *copy = strdup(out), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o, "not JSON: %s", l);
		if (!strcmp(cJSON_GetObjectItem(o, "record")->valuestring, "item") &&
		    !strcmp(cJSON_GetObjectItem(o, "b_side")->valuestring, cause) &&
		    !strcmp(cJSON_GetObjectItem(o, "kind")->valuestring, kind))
			buf_printf(&s, "%s%s", s.len ? "," : "",
				   cJSON_GetObjectItem(o, "item_id")->valuestring);
		cJSON_Delete(o);
	}
	free(copy);
	return buf_detach(&s, NULL);
}

/* A routing change replayed from a matrix run's cache: --baseline lists
 * exactly the items whose pass flipped, as "different model", and the
 * others as routed differently with the same result. */
Test(diff, baseline_finds_exactly_the_flipped_items_of_a_routing_change, .timeout = 120)
{
	make_tmp();
	const char *prof = profiles("m.json", "0.5", "0.5");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, FIX "/eval-matrix.json", NULL), 0, "%s", sp.error);
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *fill[] = {"run",	     FIX "/eval-matrix.json",
			      "-o",	     tpath("main"),
			      "--endpoint",  ep,
			      "--cache",     "use",
			      "--cache-dir", tpath("cache"),
			      "--quiet",     NULL};
	struct proc_out p = run_se(fill);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	simproc_stop(&sp);
	const char *pr[] = {"run",	   FIX "/eval-matrix-pr.json",
			    "-o",	   tpath("pr"),
			    "--endpoint",  ep,
			    "--cache",	   "replay",
			    "--cache-dir", tpath("cache"),
			    "--quiet",	   NULL};
	p = run_se(pr);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);

	struct policy b, c;
	load_policy(tpath("main"), &b);
	load_policy(tpath("pr"), &c);
	cr_assert_eq(b.n, c.n);
	struct buf lost, gained, same_pass;
	buf_init(&lost);
	buf_init(&gained);
	buf_init(&same_pass);
	for (int i = 0; i < c.n; i++) {
		cr_assert_str_neq(b.model[i], c.model[i], "the change reroutes every item");
		struct buf *t = b.pass[i] && !c.pass[i]	  ? &lost
				: !b.pass[i] && c.pass[i] ? &gained
							  : &same_pass;
		buf_printf(t, "%s%s", t->len ? "," : "", c.id[i]);
	}
	cr_assert(lost.len && gained.len, "the seeded change flips items both ways");

	const char *d[] = {"diff",     tpath("pr"), "--baseline", tpath("main"),
			   "--format", "jsonl",	    NULL};
	p = run_se(d);
	cr_assert_eq(p.status, 0, "%s", p.err);
	char *got_lost = cause_ids(p.out, "different model", "lost");
	char *got_gained = cause_ids(p.out, "different model", "gained");
	char *got_same = cause_ids(p.out, "same model, different answer", "lost");
	cr_assert_str_eq(got_lost, lost.data);
	cr_assert_str_eq(got_gained, gained.data);
	cr_assert_str_eq(got_same, "");
	/* the rest: routed elsewhere, same result */
	char *both = cause_ids(p.out, "routing changed, same result", "both-pass");
	char *neither = cause_ids(p.out, "routing changed, same result", "neither");
	cr_assert_eq(count_words(both) + count_words(neither), count_words(same_pass.data));
	proc_out_free(&p);

	/* check --markdown shows the flipped items, lost first */
	const char *ck[] = {"check",	  tpath("pr"),	 "--baseline", tpath("main"),
			    "--markdown", tpath("c.md"), NULL};
	p = run_se(ck);
	cr_assert(p.status == 0 || p.status == 1, "check exited %d: %s", p.status, p.err);
	char *md = test_slurp(tpath("c.md"), NULL);
	cr_assert_not_null(md);
	char want[128];
	snprintf(want, sizeof(want), "**Flipped items**: %zu lost a pass, %zu gained one",
		 count_words(lost.data), count_words(gained.data));
	cr_assert_not_null(strstr(md, want), "%s", md);
	char first[64];
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(lost.data, ","), lost.data);
	char row[96];
	snprintf(row, sizeof(row), "| %s | ", first);
	const char *r1 = strstr(md, row);
	cr_assert_not_null(r1, "%s not listed: %s", first, md);
	cr_assert_not_null(strstr(r1, "| lost |"), "the first row is a lost pass");
	free(md);
	proc_out_free(&p);

	free(got_lost);
	free(got_gained);
	free(got_same);
	free(both);
	free(neither);
	buf_free(&lost);
	buf_free(&gained);
	buf_free(&same_pass);
	rm_tmp();
}
