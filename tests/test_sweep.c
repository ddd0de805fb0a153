/* test_sweep.c: sw_run_dir and cmd_sweep on a hand-made full-matrix run.
 *
 * tests/fixtures/sweep/full/ holds 12 items on 3 slots (fast, balanced,
 * deep; models sim/fast, sim/balanced, sim/deep), written so every figure
 * can be computed by hand:
 *   i01-i04 est_tokens 100,  i05-i08 1000, i09-i12 3000;
 *   i01-i05 task classify, i06-i12 reason;
 *   the run routed i01-i08 to balanced and i09-i12 to deep (their `slot`);
 *   fast passes i01-i04, balanced i01-i08, deep all but i04 and i12 (a
 *   timeout with an unknown cost);
 *   every answer costs 0.001 (fast), 0.003 (balanced), 0.010 (deep) USD;
 *   latency of item i: fast 100 i, balanced 200 + 10 i (i05's is a cache hit
 *   whose original_latency_ms is that value), deep 1000 + 50 i (i12: 30000);
 *   plus a fallback row and a candidate shadow row that must be ignored.
 * In milli-USD over the 12 items and passes, the policies are: all:fast
 * (12, 4), all:balanced (36, 8), all:deep (110, 10); est<1000:fast, else
 * balanced (28, 8); est<3000:fast, else balanced (20, 4); est<1000:fast,
 * else deep (74, 11); est<3000:fast, else deep (38, 7); est<1000:balanced,
 * else deep (82, 11); est<3000:balanced, else deep (54, 11); the 3-band
 * (46, 11); task maps classify:x, reason:y: f,b (26, 7), f,d (65, 10), b,f
 * (22, 5), b,d (75, 11), d,f (57, 4), d,b (71, 7); current (54, 11). So the
 * frontier is all:fast, classify:balanced/reason:fast, classify:fast/
 * reason:balanced, est<1000:fast/else balanced, and the 3-band policy.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/files.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/fileio.h"
#include "dataset/dataset.h"
#include "route/route.h"
#include "sweep/sweep.h"

#define FIX "tests/fixtures/sweep/"

/* ---- helpers ---- */

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *p = fio_join(dir, name);
	FILE *fp = fopen(p, "wb");
	cr_assert(fp, "cannot write %s", p);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
	free(p);
}

static void copy_file(const char *from, const char *dir, const char *name)
{
	size_t len;
	char *data = test_read_file(from, &len);
	write_file(dir, name, data, len);
	free(data);
}

/* The fixture's results lines, each with its newline. */
static size_t fixture_lines(char ***lines)
{
	char *data = test_read_file(FIX "full/results.jsonl", NULL);
	size_t n = 0;
	*lines = NULL;
	for (char *p = data; *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
		*lines = realloc(*lines, (n + 1) * sizeof(**lines));
		(*lines)[n++] = strndup(p, l);
		p += l;
	}
	free(data);
	return n;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* A run folder with the fixture's manifest and the given lines. */
static char *run_dir_with(char **lines, size_t n)
{
	char *dir = test_mkdtemp("sweep");
	copy_file(FIX "full/manifest.json", dir, "manifest.json");
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "wb");
	cr_assert(fp);
	for (size_t i = 0; i < n; i++)
		fputs(lines[i], fp);
	fclose(fp);
	free(p);
	return dir;
}

/* The same with the fixture's lines but those holding a (and b, unless
 * NULL); dropped (unless NULL) counts them. */
static char *run_dir_without(const char *a, const char *b, size_t *dropped)
{
	char **lines;
	size_t n = fixture_lines(&lines), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strstr(lines[i], a) && (!b || strstr(lines[i], b))) {
			free(lines[i]);
			continue;
		}
		lines[k++] = lines[i];
	}
	if (dropped)
		*dropped = n - k;
	char *dir = run_dir_with(lines, k);
	free_lines(lines, k);
	return dir;
}

static char *fixture_run(void)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	char *dir = run_dir_with(lines, n);
	free_lines(lines, n);
	return dir;
}

/* Runs the sweep; *out gets what it printed (caller frees). */
static int sweep(const char *dir, const struct sw_opts *o, char **out, struct se_err *err)
{
	size_t len;
	char *text = NULL;
	FILE *fp = open_memstream(&text, &len);
	cr_assert(fp);
	se_clear(err);
	int rc = sw_run_dir(dir, o, fp, err);
	fclose(fp);
	if (out)
		*out = text;
	else
		free(text);
	return rc;
}

/* sweep.csv / pareto.csv rows (RFC 4180 quoting), fields by column. */
#define NF 13
enum {
	C_ID,
	C_KIND,
	C_DESC,
	C_N,
	C_RATE,
	C_LO,
	C_HI,
	C_COST,
	C_P50,
	C_P95,
	C_DRATE,
	C_DCOST,
	C_FRONT
};

struct table {
	char *(*row)[NF];
	size_t n;
};

static struct table read_csv(const char *dir, const char *name)
{
	char *path = fio_join(dir, name);
	char *data = test_read_file(path, NULL);
	free(path);
	struct table t = {NULL, 0};
	char *p = data;
	bool header = true;
	while (*p) {
		char *f[NF] = {0};
		size_t nf = 0;
		for (;;) {
			char cell[512];
			size_t cl = 0;
			if (*p == '"') {
				for (p++; !(*p == '"' && p[1] != '"'); p++) {
					if (*p == '"')
						p++;
					cell[cl++] = *p;
				}
				p++;
			} else {
				while (*p && *p != ',' && *p != '\n')
					cell[cl++] = *p++;
			}
			cell[cl] = '\0';
			cr_assert_lt(nf, NF, "more than %d columns in %s", NF, name);
			f[nf++] = strdup(cell);
			if (*p == ',') {
				p++;
				continue;
			}
			cr_assert_eq(*p, '\n', "%s: lines must end in a newline", name);
			p++;
			break;
		}
		cr_assert_eq(nf, NF, "%s: %zu columns", name, nf);
		if (header) {
			cr_assert_str_eq(f[0], "policy_id");
			cr_assert_str_eq(f[12], "on_frontier");
			for (size_t i = 0; i < NF; i++)
				free(f[i]);
			header = false;
			continue;
		}
		t.row = realloc(t.row, (t.n + 1) * sizeof(*t.row));
		memcpy(t.row[t.n++], f, sizeof(f));
	}
	free(data);
	return t;
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; j < NF; j++)
			free(t->row[i][j]);
	free(t->row);
}

static char **find_row(const struct table *t, const char *desc)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->row[i][C_DESC], desc))
			return t->row[i];
	cr_assert_fail("no row \"%s\"", desc);
	return NULL;
}

static bool has_row(const struct table *t, const char *desc)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->row[i][C_DESC], desc))
			return true;
	return false;
}

static double num(char **row, int col)
{
	return strtod(row[col], NULL);
}

/* The routing block printed after the recommendation, parsed. */
static cJSON *printed_routing(const char *out)
{
	const char *p = strstr(out, "\n{\n");
	cr_assert(p, "no routing block in:\n%s", out);
	cJSON *j = cJSON_Parse(p + 1);
	cr_assert(j, "routing block is not JSON:\n%s", p + 1);
	return j;
}

/* ---- figures ---- */

Test(sweep, frontier_is_exactly_the_hand_computed_set)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s: %s", err.where, err.msg);

	static const char *const expected[] = {
	    "all:fast",
	    "classify:balanced, reason:fast",
	    "classify:fast, reason:balanced",
	    "est<1000:fast, else balanced",
	    "est<1000:fast, <3000:balanced, else deep",
	};
	struct table p = read_csv(dir, "pareto.csv");
	cr_assert_eq(p.n, 5, "pareto.csv has %zu rows", p.n);
	for (size_t i = 0; i < p.n; i++) {
		cr_assert_str_eq(p.row[i][C_DESC], expected[i], "pareto row %zu", i);
		cr_assert_str_eq(p.row[i][C_FRONT], "1");
	}
	struct table s = read_csv(dir, "sweep.csv");
	/* 1 current, 3 single, 6 two-band + 1 three-band on the grid {1000,
	 * 3000}, 3^2 - 3 task maps */
	cr_assert_eq(s.n, 17, "sweep.csv has %zu rows", s.n);
	size_t on = 0;
	for (size_t i = 0; i < s.n; i++)
		on += !strcmp(s.row[i][C_FRONT], "1");
	cr_assert_eq(on, 5);
	cr_assert_str_eq(s.row[0][C_KIND], "current");
	cr_assert_str_eq(find_row(&s, "est<3000:balanced, else deep")[C_FRONT], "0",
			 "the same point as the current policy, dominated by the 3-band one");
	free_table(&p);
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, single_slot_policies_match_hand_computation)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	struct table s = read_csv(dir, "sweep.csv");

	char **f = find_row(&s, "all:fast");
	cr_assert_str_eq(f[C_KIND], "single");
	cr_assert_str_eq(f[C_N], "12");
	cr_assert_float_eq(num(f, C_RATE), 4.0 / 12, 1e-6);
	cr_assert_float_eq(num(f, C_COST), 12 * 0.001 / 12 * 1000, 1e-9);
	/* latencies 100..1200: type 7, h = 5.5 and 10.45 */
	cr_assert_float_eq(num(f, C_P50), 650.0, 1e-9);
	cr_assert_float_eq(num(f, C_P95), 1145.0, 1e-9);
	/* the current policy: 11 passes, 8 x 0.003 + 3 x 0.010 (+ unknown) */
	cr_assert_float_eq(num(f, C_DRATE), (4.0 - 11.0) / 12, 1e-6);
	cr_assert_float_eq(num(f, C_DCOST), 1.0 - 54.0 / 12, 1e-7);
	cr_assert_gt(num(f, C_LO), 0.1);
	cr_assert_lt(num(f, C_HI), 0.7);

	/* i05's answer was a cache hit: its original latency (250) counts */
	char **b = find_row(&s, "all:balanced");
	cr_assert_float_eq(num(b, C_P50), 265.0, 1e-9);
	cr_assert_float_eq(num(b, C_P95), 314.5, 1e-9);
	cr_assert_float_eq(num(b, C_COST), 3.0, 1e-9);

	/* i12's deep answer timed out: no pass, unknown cost adds nothing */
	char **d = find_row(&s, "all:deep");
	cr_assert_float_eq(num(d, C_RATE), 10.0 / 12, 1e-6);
	cr_assert_float_eq(num(d, C_COST), 110.0 / 12, 1e-6);

	char **c = find_row(&s, "as run (each item's slot in results.jsonl)");
	cr_assert_str_eq(c[C_ID], "0");
	cr_assert_float_eq(num(c, C_RATE), 11.0 / 12, 1e-6);
	cr_assert_float_eq(num(c, C_COST), 54.0 / 12, 1e-7);
	cr_assert_str_eq(c[C_DRATE], "0");
	cr_assert_str_eq(c[C_DCOST], "0");
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, estimate_equal_to_threshold_goes_to_upper_band)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	struct table s = read_csv(dir, "sweep.csv");
	/* i05-i08 have est 1000: on balanced they pass (8 in all, 28 mUSD);
	 * on fast they would not (4, 20 mUSD) */
	char **r = find_row(&s, "est<1000:fast, else balanced");
	cr_assert_float_eq(num(r, C_RATE), 8.0 / 12, 1e-6);
	cr_assert_float_eq(num(r, C_COST), 28.0 / 12, 1e-7);
	/* fast 100..400, balanced 250..320: p50 = (280 + 290) / 2 */
	cr_assert_float_eq(num(r, C_P50), 285.0, 1e-9);
	/* i09-i12 (est 3000) go to deep in the 3-band policy */
	char **t = find_row(&s, "est<1000:fast, <3000:balanced, else deep");
	cr_assert_float_eq(num(t, C_RATE), 11.0 / 12, 1e-6);
	cr_assert_float_eq(num(t, C_COST), 46.0 / 12, 1e-7);
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, csvs_are_identical_whatever_the_line_order)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	char *a = run_dir_with(lines, n);
	/* reversed, then a fixed shuffle */
	for (size_t i = 0; i < n / 2; i++) {
		char *t = lines[i];
		lines[i] = lines[n - 1 - i];
		lines[n - 1 - i] = t;
	}
	char *b = run_dir_with(lines, n);
	unsigned seed = 12345;
	for (size_t i = n - 1; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		size_t j = (seed >> 8) % (i + 1);
		char *t = lines[i];
		lines[i] = lines[j];
		lines[j] = t;
	}
	char *c = run_dir_with(lines, n);
	free_lines(lines, n);

	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	char *dirs[] = {a, b, c};
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sweep(dirs[i], &o, NULL, &err), 0, "%s", err.msg);
	static const char *const names[] = {"sweep.csv", "pareto.csv"};
	for (int k = 0; k < 2; k++) {
		char *pa = fio_join(a, names[k]);
		size_t la;
		char *da = test_read_file(pa, &la);
		for (int i = 1; i < 3; i++) {
			char *pb = fio_join(dirs[i], names[k]);
			size_t lb;
			char *db = test_read_file(pb, &lb);
			cr_assert(la == lb && !memcmp(da, db, la), "%s differs for order %d",
				  names[k], i);
			free(db);
			free(pb);
		}
		free(da);
		free(pa);
	}
	test_rmdir(a);
	test_rmdir(b);
	test_rmdir(c);
}

/* ---- recommendation ---- */

Test(sweep, target_quality_picks_the_cheapest_qualifying_policy)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	o.target_quality = 0.6; /* 7/12 = 0.583 misses, 8/12 qualifies */
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cJSON *j = printed_routing(out);
	const cJSON *rule = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 0);
	const cJSON *cx = cJSON_GetObjectItem(rule, "complexity");
	cr_assert(cx, "expected a complexity rule:\n%s", out);
	const cJSON *th = cJSON_GetObjectItem(cx, "thresholds");
	cr_assert_eq(cJSON_GetArraySize(th), 1);
	cr_assert_eq(cJSON_GetArrayItem(th, 0)->valuedouble, 1000);
	const cJSON *sl = cJSON_GetObjectItem(cx, "slots");
	cr_assert_str_eq(cJSON_GetArrayItem(sl, 0)->valuestring, "fast");
	cr_assert_str_eq(cJSON_GetArrayItem(sl, 1)->valuestring, "balanced");
	cJSON_Delete(j);
	free(out);

	o.target_quality = 0.9;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	j = printed_routing(out);
	cx = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rules"), 0),
				 "complexity");
	th = cJSON_GetObjectItem(cx, "thresholds");
	cr_assert_eq(cJSON_GetArraySize(th), 2, "expected the 3-band policy:\n%s", out);
	cr_assert_eq(cJSON_GetArrayItem(th, 0)->valuedouble, 1000);
	cr_assert_eq(cJSON_GetArrayItem(th, 1)->valuedouble, 3000);
	cJSON_Delete(j);
	free(out);
	test_rmdir(dir);
}

Test(sweep, unreachable_target_is_a_finding)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	o.target_quality = 0.95; /* the best is 11/12 = 0.917 */
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), -1);
	cr_assert_eq(err.kind, SE_FINDING);
	cr_assert(strstr(err.msg, "0.95"), "%s", err.msg);
	cr_assert_null(strstr(out, "\n{\n"), "no routing block expected:\n%s", out);
	free(out);
	/* the CSVs are written anyway */
	char *p = fio_join(dir, "sweep.csv");
	cr_assert_eq(access(p, F_OK), 0);
	free(p);
	test_rmdir(dir);
}

Test(sweep, budget_picks_the_best_quality_within_it)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	o.budget_usd = 2.2; /* 1.0 (4), 1.833 (5), 2.167 (7) fit; 2.333 (8) does not */
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cr_assert(strstr(out, "classify:fast, reason:balanced\n"), "%s", out);
	/* reason (7 items) takes the default, classify a rule */
	cJSON *j = printed_routing(out);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "default")->valuestring, "balanced");
	const cJSON *rules = cJSON_GetObjectItem(j, "rules");
	cr_assert_eq(cJSON_GetArraySize(rules), 1);
	const cJSON *r0 = cJSON_GetArrayItem(rules, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(r0, "slot")->valuestring, "fast");
	cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r0, "task"), 0)->valuestring,
			 "classify");
	cJSON_Delete(j);
	free(out);

	o.budget_usd = 0.5; /* below every policy */
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_FINDING);
	test_rmdir(dir);
}

Test(sweep, default_recommendation_is_cheapest_at_least_as_good_as_current)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	/* current: 11/12 at 4.5; the 3-band policy: 11/12 at 3.833 */
	cr_assert(strstr(out, "policy 10, est<1000:fast, <3000:balanced, else deep"), "%s", out);
	cJSON *j = printed_routing(out);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "default")->valuestring, "deep");
	cJSON_Delete(j);
	free(out);
	test_rmdir(dir);
}

Test(sweep, current_policy_can_be_the_recommendation)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	char *slots[] = {"fast"}; /* only all:fast (4/12) to compare with */
	o.slots = slots;
	o.n_slots = 1;
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cr_assert(strstr(out, "keep the current routing"), "%s", out);
	cr_assert_null(strstr(out, "\n{\n"), "no routing block expected:\n%s", out);
	free(out);
	test_rmdir(dir);
}

/* The fixture's truth: whether slot `sl` passes item i (1-based), its cost. */
static bool truth_pass(const char *sl, int i)
{
	if (!strcmp(sl, "fast"))
		return i <= 4;
	if (!strcmp(sl, "balanced"))
		return i <= 8;
	return i != 4 && i != 12;
}

static double truth_cost(const char *sl, int i)
{
	if (!strcmp(sl, "fast"))
		return 0.001;
	if (!strcmp(sl, "balanced"))
		return 0.003;
	return i == 12 ? 0 : 0.010;
}

/* Loads eval.json with `routing` replaced, routes the 12 items with
 * route_pick and checks passes and cost against the sweep's row. */
static void check_routing_reproduces(const char *out, double rate, double cost_1k)
{
	cJSON *routing = printed_routing(out);
	char *text = test_read_file(FIX "eval.json", NULL);
	cJSON *ev = cJSON_Parse(text);
	free(text);
	cJSON_ReplaceItemInObject(ev, "routing", routing);
	char *dir = test_mkdtemp("sweep");
	char *json = cJSON_Print(ev);
	write_file(dir, "eval.json", json, strlen(json));
	free(json);
	cJSON_Delete(ev);
	char *path = fio_join(dir, "eval.json");
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load(path, &cfg, &err), 0, "%s: %s", err.where, err.msg);
	free(path);
	long passed = 0;
	double cost = 0;
	for (int i = 1; i <= 12; i++) {
		long est = i <= 4 ? 100 : i <= 8 ? 1000 : 3000;
		cJSON *obj = cJSON_CreateObject();
		struct ds_item it = {.obj = obj, .id = "x", .task = i <= 5 ? "classify" : "reason"};
		struct route_decision d;
		route_pick(cfg, &it, est, &d);
		const char *sl = cfg->slots[d.slot].name;
		passed += truth_pass(sl, i);
		cost += truth_cost(sl, i);
		cJSON_Delete(obj);
	}
	cr_assert_float_eq(passed / 12.0, rate, 1e-6);
	cr_assert_float_eq(cost / 12 * 1000, cost_1k, 1e-7);
	cfg_free(cfg);
	test_rmdir(dir);
}

Test(sweep, printed_routing_loads_and_routes_like_the_simulation)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	char *out;
	o.target_quality = 0.6; /* complexity, 2 bands */
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	check_routing_reproduces(out, 8.0 / 12, 28.0 / 12);
	free(out);
	o.target_quality = NAN;
	o.budget_usd = 2.2; /* task map */
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	check_routing_reproduces(out, 7.0 / 12, 26.0 / 12);
	free(out);
	o.budget_usd = 1.0; /* single slot */
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	check_routing_reproduces(out, 4.0 / 12, 12.0 / 12);
	free(out);
	test_rmdir(dir);
}

/* ---- policy families and options ---- */

Test(sweep, current_config_thresholds_join_the_grid)
{
	char *dir = fixture_run();
	/* the manifest now names eval.json (complexity thresholds [2000]) with
	 * its true hash */
	char sha[65];
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_sha256_file(FIX "eval.json", sha, &err), 0);
	char *text = test_read_file(FIX "full/manifest.json", NULL);
	cJSON *m = cJSON_Parse(text);
	free(text);
	cJSON_ReplaceItemInObject(m, "config", cJSON_CreateString(FIX "eval.json"));
	cJSON_ReplaceItemInObject(m, "config_sha256", cJSON_CreateString(sha));
	char *json = cJSON_Print(m);
	write_file(dir, "manifest.json", json, strlen(json));
	free(json);
	cJSON_Delete(m);

	struct sw_opts o;
	sw_opts_init(&o);
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	struct table s = read_csv(dir, "sweep.csv");
	/* est 1000 < 2000: i05-i08 go to the lower band */
	char **r = find_row(&s, "est<2000:fast, else balanced");
	cr_assert_float_eq(num(r, C_RATE), 4.0 / 12, 1e-6);
	cr_assert_float_eq(num(r, C_COST), 20.0 / 12, 1e-7);
	/* no item has 2000 <= est < 3000: that band would be empty, and the
	 * policy the same as est<2000:fast, else deep */
	cr_assert_not(has_row(&s, "est<2000:fast, <3000:balanced, else deep"));
	cr_assert(has_row(&s, "est<1000:fast, <2000:balanced, else deep"));
	size_t ncx = 0;
	for (size_t i = 0; i < s.n; i++)
		ncx += !strcmp(s.row[i][C_KIND], "complexity");
	cr_assert_eq(ncx, 3 * 3 + 2, "%zu complexity rows", ncx);
	free_table(&s);

	/* a config edited since the run (another hash) is not trusted */
	text = test_read_file(FIX "full/manifest.json", NULL);
	m = cJSON_Parse(text);
	free(text);
	cJSON_ReplaceItemInObject(m, "config", cJSON_CreateString(FIX "eval.json"));
	json = cJSON_Print(m);
	write_file(dir, "manifest.json", json, strlen(json));
	free(json);
	cJSON_Delete(m);
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	s = read_csv(dir, "sweep.csv");
	cr_assert_not(has_row(&s, "est<2000:fast, else balanced"));
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, task_maps_go_greedy_above_max_policies)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	o.max_policies = 8; /* 3^2 = 9 task maps > 8; 7 complexity policies fit */
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cr_assert(strstr(out, "greedy"), "%s", out);
	free(out);
	struct table s = read_csv(dir, "sweep.csv");
	/* from all-fast: reason->balanced (3 passes for 14 mUSD), then
	 * classify->balanced (all:balanced, not a task map), then reason->deep */
	const char *maps[2];
	size_t nm = 0, ncx = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (!strcmp(s.row[i][C_KIND], "task_map")) {
			cr_assert_lt(nm, 2, "unexpected task map \"%s\"", s.row[i][C_DESC]);
			maps[nm++] = s.row[i][C_DESC];
		}
		ncx += !strcmp(s.row[i][C_KIND], "complexity");
	}
	cr_assert_eq(nm, 2);
	cr_assert_str_eq(maps[0], "classify:fast, reason:balanced");
	cr_assert_str_eq(maps[1], "classify:balanced, reason:deep");
	cr_assert_eq(ncx, 7);
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, slots_option_limits_the_simulated_policies)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	char *slots[] = {"fast", "balanced"};
	o.slots = slots;
	o.n_slots = 2;
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	struct table s = read_csv(dir, "sweep.csv");
	/* current, 2 singles, 2 complexity, 2 task maps */
	cr_assert_eq(s.n, 7, "%zu rows", s.n);
	for (size_t i = 1; i < s.n; i++)
		cr_assert_null(strstr(s.row[i][C_DESC], "deep"), "%s", s.row[i][C_DESC]);
	free_table(&s);

	char *bad[] = {"fast", "dep"};
	o.slots = bad;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert(strstr(err.msg, "\"dep\""), "%s", err.msg);
	cr_assert(strstr(err.msg, "fast, balanced, deep"), "%s", err.msg);
	test_rmdir(dir);
}

/* ---- bad input ---- */

Test(sweep, items_missing_a_slot_answer_are_skipped_and_counted)
{
	/* drop i03's deep answer */
	size_t dropped;
	char *dir = run_dir_without("\"item_id\":\"i03\"", "\"sim/deep\"", &dropped);
	cr_assert_eq(dropped, 1);
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cr_assert(strstr(out, "11 items simulated, 1 skipped"), "%s", out);
	free(out);
	struct table s = read_csv(dir, "sweep.csv");
	for (size_t i = 0; i < s.n; i++)
		cr_assert_str_eq(s.row[i][C_N], "11");
	cr_assert_float_eq(num(find_row(&s, "all:fast"), C_RATE), 3.0 / 11, 1e-6);
	free_table(&s);

	/* with --slots fast,balanced i03 is complete again */
	char *slots[] = {"fast", "balanced"};
	o.slots = slots;
	o.n_slots = 2;
	cr_assert_eq(sweep(dir, &o, NULL, &err), 0, "%s", err.msg);
	s = read_csv(dir, "sweep.csv");
	cr_assert_str_eq(s.row[0][C_N], "12");
	free_table(&s);
	test_rmdir(dir);
}

Test(sweep, missing_manifest_is_an_input_error_naming_it)
{
	char *dir = test_mkdtemp("sweep");
	copy_file(FIX "full/results.jsonl", dir, "results.jsonl");
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, "manifest.json"), "%s: %s", err.where, err.msg);
	char *p = fio_join(dir, "sweep.csv");
	cr_assert_neq(access(p, F_OK), 0, "no CSV on bad input");
	free(p);
	test_rmdir(dir);
}

Test(sweep, missing_results_is_an_input_error_naming_it)
{
	char *dir = test_mkdtemp("sweep");
	copy_file(FIX "full/manifest.json", dir, "manifest.json");
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, "results.jsonl"), "%s: %s", err.where, err.msg);
	test_rmdir(dir);
}

Test(sweep, run_without_full_matrix_is_an_input_error)
{
	char *dir = fixture_run();
	copy_file(FIX "partial-shadows.json", dir, "manifest.json");
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, "manifest.json"), "%s", err.where);
	cr_assert(strstr(err.msg, "full-matrix"), "%s", err.msg);
	cr_assert(strstr(err.msg, "\"deep\""), "%s", err.msg);
	test_rmdir(dir);

	/* an all-slots manifest whose results lack every shadow answer */
	dir = run_dir_without("\"role\":\"shadow\"", NULL, NULL);
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, "results.jsonl"), "%s", err.where);
	cr_assert(strstr(err.msg, "full-matrix"), "%s", err.msg);
	test_rmdir(dir);
}

Test(sweep, duplicate_answer_is_an_input_error)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	lines = realloc(lines, (n + 1) * sizeof(*lines));
	lines[n] = strdup(lines[1]); /* i01's primary answer again */
	char *dir = run_dir_with(lines, n + 1);
	free_lines(lines, n + 1);
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.msg, "\"i01\""), "%s", err.msg);
	test_rmdir(dir);
}

/* Issue 9 #20: sweep took an unknown status that summarize refused. */
Test(sweep, unknown_status_is_an_input_error_naming_file_line_and_field)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	char *l = lines[2];
	char *st = strstr(l, "\"status\":\"");
	cr_assert_not_null(st);
	st += strlen("\"status\":\"");
	size_t old = strcspn(st, "\"");
	char *fixed = NULL;
	cr_assert(asprintf(&fixed, "%.*sexploded%s", (int)(st - l), l, st + old) > 0);
	free(lines[2]);
	lines[2] = fixed;
	char *dir = run_dir_with(lines, n);
	free_lines(lines, n);
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.where, "results.jsonl:3"), "%s", err.where);
	cr_expect(strstr(err.msg, "unknown status \"exploded\""), "%s", err.msg);
	test_rmdir(dir);
}

/* Issue 9 #25: a duplicate names both lines. */
Test(sweep, duplicate_answer_names_both_lines)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	lines = realloc(lines, (n + 1) * sizeof(*lines));
	lines[n] = strdup(lines[1]);
	char *dir = run_dir_with(lines, n + 1);
	free_lines(lines, n + 1);
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	char want[64];
	snprintf(want, sizeof(want), "results.jsonl:%zu", n + 1);
	cr_expect(strstr(err.where, want), "where %s, want %s", err.where, want);
	cr_expect(strstr(err.msg, "results.jsonl:2"), "%s", err.msg);
	test_rmdir(dir);
}

/* ---- the command ---- */

static int run_cmd(char **argv, int argc, struct se_err *err)
{
	se_clear(err);
	/* keep the command's stdout out of the test log */
	fflush(stdout);
	int saved = dup(1);
	FILE *null = fopen("/dev/null", "w");
	dup2(fileno(null), 1);
	int rc = cmd_sweep(argc, argv, err);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fclose(null);
	return rc;
}

Test(sweep, command_parses_flags_and_rejects_bad_ones)
{
	char *dir = fixture_run();
	struct se_err err;
	char *ok[] = {
	    "sweep",	      dir,  "--target-quality", "0.9", "--slots=fast,balanced,deep",
	    "--max-policies", "100"};
	cr_assert_eq(run_cmd(ok, 7, &err), 0, "%s: %s", err.where, err.msg);

	char *unreachable[] = {"sweep", "--target-quality=0.95", dir};
	cr_assert_eq(run_cmd(unreachable, 3, &err), -1);
	cr_assert_eq(err.kind, SE_FINDING);

	char *bad_q[] = {"sweep", dir, "--target-quality", "1.5"};
	cr_assert_eq(run_cmd(bad_q, 4, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert_str_eq(err.where, "--target-quality");

	char *no_val[] = {"sweep", dir, "--budget"};
	cr_assert_eq(run_cmd(no_val, 3, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);

	char *unknown[] = {"sweep", dir, "--frobnicate"};
	cr_assert_eq(run_cmd(unknown, 3, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	cr_assert(strstr(err.msg, "--frobnicate"), "%s", err.msg);

	char *no_dir[] = {"sweep"};
	cr_assert_eq(run_cmd(no_dir, 1, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);

	char *bad_n[] = {"sweep", dir, "--max-policies", "0"};
	cr_assert_eq(run_cmd(bad_n, 4, &err), -1);
	cr_assert_eq(err.kind, SE_USAGE);
	test_rmdir(dir);
}

/* ---- honest figures: AIQ, oracle, holdout, folds ---- */

#include "sweep/sw_int.h"

/* A hull worked by hand: (2, 0.55) lies under the chord from (1, 0.5) to
 * (6, 1.0) (0.6 at cost 2), (8, 0.9) is beaten by a cheaper point, and past
 * (6, 1.0) the quality stays 1.0 up to the largest cost, 11:
 * area = 5 x (0.5 + 1.0) / 2 + 5 x 1.0 = 8.75, over the cost range 10. */
Test(sweep, aiq_of_a_hand_computed_hull)
{
	double c[] = {6, 1, 2, 11, 8, NAN}, q[] = {1.0, 0.5, 0.55, 1.0, 0.9, 0.99};
	double hull[12];
	size_t nh;
	double aiq = sw_aiq(c, q, 6, hull, &nh);
	cr_expect(fabs(aiq - 0.875) < 1e-12, "AIQ %.15g", aiq);
	cr_assert_eq(nh, 2);
	cr_expect(hull[0] == 1 && hull[1] == 0.5 && hull[2] == 6 && hull[3] == 1.0);
	/* one point: its quality; none: NAN */
	double one_c = 3, one_q = 0.7;
	cr_expect_eq(sw_aiq(&one_c, &one_q, 1, hull, &nh), 0.7);
	cr_expect(isnan(sw_aiq(c + 5, q + 5, 1, hull, &nh)));
}

/* FNV-1a 64 test vectors (Fowler, Noll, Vo; draft-eastlake-fnv). */
Test(sweep, item_hash_is_fnv1a_64)
{
	cr_expect_eq(sw_hash_id(""), 0xcbf29ce484222325ull);
	cr_expect_eq(sw_hash_id("a"), 0xaf63dc4c8601ec8cull);
	cr_expect_eq(sw_hash_id("foobar"), 0x85944171f73967e8ull);
}

/* The fixture's policies (header comment, in milli-USD and passes over 12
 * items): the strictly improving points by cost are (12, 4), (22, 5),
 * (26, 7), (28, 8), (46, 11); (22, 5) and (26, 7) lie under the chords, so
 * the hull is (12, 4), (28, 8), (46, 11), flat to 110. Area: 16 x 12 / 2 +
 * 18 x 19 / 2 + 64 x 11 = 971, over 98 milli-USD and 12 items: AIQ =
 * 971 / 1176. The oracle: fast for i01-i04, balanced for i05-i08, deep for
 * i09-i11, and for i12, which nobody passes, the cheapest known (fast): 11
 * passes for 47 milli-USD. */
Test(sweep, fixture_oracle_and_aiq_match_hand_computation)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	char *out;
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	char want[128];
	snprintf(want, sizeof(want),
		 "AIQ (RouterBench: area under the non-decreasing cost-quality "
		 "hull / cost range): %.4f",
		 971.0 / 1176.0);
	cr_expect(strstr(out, want), "no \"%s\" in:\n%s", want, out);
	cr_expect(strstr(out, "hull: (1 USD/1k, 33.3%), (2.333 USD/1k, 66.7%), (3.833 USD/1k, "
			      "91.7%)"),
		  "%s", out);
	snprintf(want, sizeof(want), "passes it): pass rate 91.7%% (11/12), %.4f USD/1k items",
		 47.0 / 12.0);
	cr_expect(strstr(out, want), "no \"%s\" in:\n%s", want, out);
	free(out);
	test_rmdir(dir);
}

/* A matrix whose best policy is known by construction: 40 items, task
 * "easy" (ids e00..e19) and "hard" (h00..h19); slot cheap (0.001 USD) passes
 * every easy item and no hard one, slot dear (0.011 USD) passes all. With
 * --target-quality 1 the only frontier policy that reaches it for least is
 * easy:cheap, hard:dear, on any subset of the items holding both tasks. So
 * on the held-out part its pass rate is 100% and its cost is (0.001 e +
 * 0.011 h) / (e + h) per item, e and h the held-out items of each task
 * (counted here with the split's own rule, sw_split_unit). */
static char *known_matrix(void)
{
	char *dir = test_mkdtemp("sweep");
	const char *manifest =
	    "{\"tool\": \"shadoweval\", \"eval\": \"known\", \"config\": "
	    "\"none.json\", \"config_sha256\": \"00\", \"status\": \"complete\", "
	    "\"slots\": {\"cheap\": \"sim/cheap\", \"dear\": \"sim/dear\"}, "
	    "\"shadows\": \"all-slots\"}\n";
	write_file(dir, "manifest.json", manifest, strlen(manifest));
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "wb");
	cr_assert(fp);
	static const char *const fmt =
	    "{\"item_id\":\"%c%02d\",\"task\":\"%s\",\"slot\":\"dear\",\"model\":\"%s\",\"role\":"
	    "\"%s\",\"status\":\"ok\",\"latency_ms\":100,\"cost_usd\":%s,\"cost_source\":"
	    "\"reported\",\"cached\":false,\"est_tokens\":500,\"pass\":%s}\n";
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 20; i++) {
			char c = t ? 'h' : 'e';
			const char *task = t ? "hard" : "easy";
			fprintf(fp, fmt, c, i, task, "sim/cheap", "shadow", "0.001",
				t ? "false" : "true");
			fprintf(fp, fmt, c, i, task, "sim/dear", "primary", "0.011", "true");
		}
	cr_assert_eq(fclose(fp), 0);
	free(p);
	return dir;
}

Test(sweep, holdout_and_folds_find_the_known_policy_and_report_it_out_of_sample)
{
	char *dir = known_matrix();
	struct sw_opts o;
	sw_opts_init(&o);
	o.target_quality = 1.0;
	o.holdout = 0.3;
	o.folds = 4;
	char *out;
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	/* the held-out items, by the split's rule */
	int e = 0, h = 0;
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 20; i++) {
			char id[16];
			snprintf(id, sizeof(id), "%c%02d", t ? 'h' : 'e', i);
			if (sw_split_unit(id) < 0.3)
				*(t ? &h : &e) += 1;
		}
	cr_assert(e > 0 && h > 0 && e < 20 && h < 20, "split %d easy, %d hard", e, h);
	char want[256];
	snprintf(want, sizeof(want), "chosen on %d items, reported on the other %d", 40 - e - h,
		 e + h);
	cr_expect(strstr(out, want), "no \"%s\" in:\n%s", want, out);
	cr_expect(strstr(out, "chosen: easy:cheap, hard:dear"), "%s", out);
	snprintf(want, sizeof(want),
		 "on the held-out items:         pass rate 100.0%% (%d/%d), %.4f", e + h, e + h,
		 (0.001 * e + 0.011 * h) / (e + h) * 1000);
	cr_expect(strstr(out, want), "no \"%s\" in:\n%s", want, out);
	/* every fold chooses the same map: over all 40 items, 100% at 6 USD/1k */
	cr_expect(strstr(out, "4-fold cross-validation (each item scored by the policy chosen "
			      "without it): pass rate 100.0% (40/40), 6.0000 USD/1k items"),
		  "%s", out);
	/* the oracle is that same map, and AIQ: (1, 50%) -> (6, 100%), flat to
	 * 11: (5 x 0.75 + 5) / 10 */
	cr_expect(strstr(out, "passes it): pass rate 100.0% (40/40), 6.0000 USD/1k items"), "%s",
		  out);
	cr_expect(strstr(out, "cost range): 0.8750;"), "%s", out);
	free(out);
	test_rmdir(dir);
}

Test(sweep, a_holdout_that_leaves_a_part_empty_is_an_input_error)
{
	char *dir = known_matrix();
	struct sw_opts o;
	sw_opts_init(&o);
	o.holdout = 1e-9;
	struct se_err err;
	cr_expect_eq(sweep(dir, &o, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.msg, "--holdout"), "%s", err.msg);
	test_rmdir(dir);
}

/* Why holdout and folds exist: three slots of the same accuracy (60%, each
 * answer an independent seeded draw) on 300 items of 10 tasks, and a budget
 * that lets the sweep take the best pass rate it sees. The best of the task
 * maps looks better than 60% on the items it was chosen on, by luck alone;
 * scored by --folds on items it did not see, it is back near 60%. */
Test(sweep, folds_remove_the_optimism_of_choosing_on_the_same_items)
{
	char *dir = test_mkdtemp("sweep");
	const char *manifest =
	    "{\"tool\": \"shadoweval\", \"eval\": \"noise\", \"config\": "
	    "\"none.json\", \"config_sha256\": \"00\", \"status\": \"complete\", "
	    "\"slots\": {\"a\": \"sim/a\", \"b\": \"sim/b\", \"c\": \"sim/c\"}, "
	    "\"shadows\": \"all-slots\"}\n";
	write_file(dir, "manifest.json", manifest, strlen(manifest));
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "wb");
	cr_assert(fp);
	uint64_t state = 12345;
	static const char *const models[] = {"sim/a", "sim/b", "sim/c"};
	static const char *const costs[] = {"0.001", "0.002", "0.003"};
	for (int i = 0; i < 300; i++)
		for (int m = 0; m < 3; m++) {
			/* xorshift64*: a fixed stream, so the figures repeat */
			state ^= state >> 12;
			state ^= state << 25;
			state ^= state >> 27;
			double u = (double)((state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
			fprintf(
			    fp,
			    "{\"item_id\":\"n%03d\",\"task\":\"t%d\",\"slot\":\"a\",\"model\":\"%"
			    "s\","
			    "\"role\":\"%s\",\"status\":\"ok\",\"latency_ms\":100,\"cost_usd\":%s,"
			    "\"cost_source\":\"reported\",\"cached\":false,\"est_tokens\":%d,"
			    "\"pass\":%s}\n",
			    i, i % 10, models[m], m ? "shadow" : "primary", costs[m], 100 + i,
			    u < 0.6 ? "true" : "false");
		}
	cr_assert_eq(fclose(fp), 0);
	free(p);
	struct sw_opts o;
	sw_opts_init(&o);
	o.budget_usd = 1000;
	o.folds = 5;
	char *out;
	struct se_err err;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	/* the recommendation's in-sample pass rate, from its frontier line */
	const char *rec = strstr(out, "\n  * ");
	cr_assert(rec, "%s", out);
	double in;
	int id;
	cr_assert_eq(sscanf(rec, "\n  * %d %*s %lf%%", &id, &in), 2, "%.80s", rec);
	const char *cv = strstr(out, "without it): pass rate ");
	cr_assert(cv, "%s", out);
	double outp;
	cr_assert_eq(sscanf(cv, "without it): pass rate %lf%%", &outp), 1);
	printf("noise: best in sample %.1f%%, 5-fold estimate %.1f%% (truth 60%%)\n", in, outp);
	cr_expect_gt(in - outp, 3.0, "in sample %.1f%%, folds %.1f%%", in, outp);
	cr_expect(fabs(outp - 60.0) < 8.0, "folds %.1f%%", outp);
	free(out);
	test_rmdir(dir);
}

/* dir/recommended.json, parsed (the test fails when it is missing). */
static cJSON *recommended_json(const char *dir)
{
	char *p = fio_join(dir, "recommended.json");
	char *text = test_read_file(p, NULL);
	cJSON *j = cJSON_Parse(text);
	cr_assert(cJSON_IsObject(j), "recommended.json is not a JSON object: %s", text);
	free(text);
	free(p);
	return j;
}

/* recommended.json names the policy the sweep printed, with its rule, and
 * null when a target is out of reach (the report marks what it names). */
Test(sweep, recommended_json_names_the_printed_recommendation)
{
	char *dir = fixture_run();
	struct sw_opts o;
	sw_opts_init(&o);
	struct se_err err;
	char *out;
	cr_assert_eq(sweep(dir, &o, &out, &err), 0, "%s", err.msg);
	cr_assert(strstr(out, "policy 10, est<1000:fast, <3000:balanced, else deep"), "%s", out);
	free(out);
	cJSON *j = recommended_json(dir);
	cr_expect_eq(cJSON_GetObjectItem(j, "policy_id")->valuedouble, 10);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "description")->valuestring,
			 "est<1000:fast, <3000:balanced, else deep");
	cr_expect(strstr(cJSON_GetObjectItem(j, "rule")->valuestring, "at least the current"));
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "target_quality")));
	cJSON_Delete(j);

	o.target_quality = 0.95; /* out of reach: no recommendation */
	cr_assert_eq(sweep(dir, &o, NULL, &err), -1);
	j = recommended_json(dir);
	cr_expect(cJSON_IsNull(cJSON_GetObjectItem(j, "policy_id")), "a stale recommendation");
	cr_expect_eq(cJSON_GetObjectItem(j, "target_quality")->valuedouble, 0.95);
	cJSON_Delete(j);
	test_rmdir(dir);
}

/* A line replaced in a copy of the fixture: the first occurrence of `from`
 * in line i becomes `to`, and the changed line is added at the end. */
static char *run_dir_plus(size_t i, const char *from, const char *to)
{
	char **lines;
	size_t n = fixture_lines(&lines);
	char *p = strstr(lines[i], from);
	cr_assert(p, "line %zu has no %s", i, from);
	char *added = NULL;
	cr_assert(
	    asprintf(&added, "%.*s%s%s", (int)(p - lines[i]), lines[i], to, p + strlen(from)) > 0);
	lines = realloc(lines, (n + 1) * sizeof(*lines));
	lines[n++] = added;
	char *dir = run_dir_with(lines, n);
	free_lines(lines, n);
	return dir;
}

/* The rules of an item's lines hold in every reader of results.jsonl:
 * sweep and diff accepted an item with two primary lines (of two models),
 * and diff also two lines of one (item, model) and lines that disagree on
 * the item's slot or task, which summarize refuses. */
Test(sweep, sweep_diff_and_summarize_refuse_the_same_inconsistent_items)
{
	static const struct {
		size_t line;
		const char *from, *to, *msg;
	} cases[] = {
	    /* line 1 is i01's primary (sim/balanced) */
	    {1, "\"model\":\"sim/balanced\"", "\"model\":\"sim/zz\"", "more than one primary"},
	    {1, "\"slot\":\"balanced\"", "\"slot\":\"deep\"", "slot"},
	    {1, "\"task\":\"classify\"", "\"task\":\"reason\"", "task"},
	    {0, "\"role\":\"shadow\"", "\"role\":\"shadow\"", "two results for model"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char *dir = run_dir_plus(cases[k].line, cases[k].from, cases[k].to);
		struct sw_opts o;
		sw_opts_init(&o);
		struct se_err err;
		cr_expect_eq(sweep(dir, &o, NULL, &err), -1, "case %zu: sweep accepted it", k);
		cr_expect_eq(err.kind, SE_INPUT, "case %zu", k);
		cr_expect(strstr(err.where, "results.jsonl:"), "case %zu: %s", k, err.where);
		char *sargv[] = {"summarize", dir, NULL};
		se_clear(&err);
		cr_expect_eq(cmd_summarize(2, sargv, &err), -1, "case %zu: summarize", k);
		char *dargv[] = {"diff", dir, "--format", "jsonl", NULL};
		se_clear(&err);
		fflush(stdout);
		int saved = dup(1), null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		close(null);
		int drc = cmd_diff(4, dargv, &err);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		cr_expect_eq(drc, -1, "case %zu: diff accepted it", k);
		cr_expect_eq(err.kind, SE_INPUT, "case %zu", k);
		cr_expect(strstr(err.msg, cases[k].msg), "case %zu: %s: %s", k, err.where, err.msg);
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		cr_assert_eq(system(cmd), 0);
		free(dir);
	}
}
