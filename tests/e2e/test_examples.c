/* test_examples.c: the job-engine examples in examples/ (issue 15), each
 * checked for the structure its engine needs and run for real where this
 * machine can: the very shell each example runs (extracted from the YAML by
 * tests/examples/check_examples.py) is run against shadowsim on 127.0.0.1
 * with small shard counts, and the merged run must be complete.
 *
 * - GitHub Actions: the workflow's structure; the shard job's run step per
 *   matrix value, then the merge job's merge, check --markdown and status
 *   steps (the PR comment itself needs GitHub);
 * - Kubernetes: the Indexed Job and merge Job's structure; each pod's
 *   script per JOB_COMPLETION_INDEX, then the merge pod's;
 * - Slurm: the sbatch directives; each array task's script (numbered from
 *   0, to check K counts from the array's first index), then the merge's;
 * - GNU parallel: the script itself, for real.
 * actionlint and `kubectl apply --dry-run=client` run when they can; when
 * they cannot, their tests skip saying why (tests/run.sh lists skips).
 * Each structure check is also shown a broken copy, which it must refuse.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/files.h"
#include "../support/simproc.h"
#include "core/buf.h"

#define N_ITEMS 24
#define CHECKER "tests/examples/check_examples.py"
#define GHA "examples/github-actions/shadoweval-shards.yml"
#define K8S_SHARDS "examples/kubernetes/shards-job.yaml"
#define K8S_MERGE "examples/kubernetes/merge-job.yaml"
#define SLURM_SHARDS "examples/slurm/shards.sbatch"
#define SLURM_MERGE "examples/slurm/merge.sbatch"
#define PARALLEL "examples/gnu-parallel/run-shards.sh"

static char *dir;
static char bin[PATH_MAX], root[PATH_MAX];
static struct simproc sim;

static void setup(void)
{
	dir = test_mkdtemp("e2e-examples");
	cr_assert_not_null(realpath(test_bin_dir(), bin), "no %s", test_bin_dir());
	cr_assert_not_null(realpath(".", root));
	setenv("SE_ROOT", root, 1); /* the checkout, for the shells that cd away */
	memset(&sim, 0, sizeof(sim));
}

static void teardown(void)
{
	simproc_stop(&sim);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
	dir = NULL;
}

TestSuite(examples, .init = setup, .fini = teardown, .timeout = 180);

/* A shell command's status; its output in *o (buf_free it). */
#define SH(o, ...) (buf_init(o), test_sh((o), __VA_ARGS__))

/* The Python with PyYAML: Debian's (python3-yaml, from install-deps.sh)
 * first, whatever python3 is first on PATH. */
static const char *python(void)
{
	if (test_sh(NULL, "/usr/bin/python3 -c 'import yaml'") == 0)
		return "/usr/bin/python3";
	cr_assert_eq(test_sh(NULL, "python3 -c 'import yaml'"), 0,
		     "no python3 with PyYAML: scripts/install-deps.sh installs python3-yaml");
	return "python3";
}

/* The checker accepts the example and refuses the broken copy made by
 * `breaker` (a shell command run on copies in dir: $D holds them). */
static void check_structure(const char *engine, const char *f1, const char *f2, const char *breaker,
			    const char *complaint)
{
	struct buf o;
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s " CHECKER " %s %s %s", python(), engine, f1, f2 ? f2 : "");
	int rc = SH(&o, "%s", cmd);
	cr_expect_eq(rc, 0, "%s: %s", cmd, o.data);
	buf_free(&o);
	snprintf(cmd, sizeof(cmd),
		 "D='%s' && cp %s %s \"$D\"/ && cd \"$D\" && %s && %s \"$SE_ROOT\"/" CHECKER
		 " %s %s %s",
		 dir, f1, f2 ? f2 : "", breaker, python(), engine, strrchr(f1, '/') + 1,
		 f2 ? strrchr(f2, '/') + 1 : "");
	rc = SH(&o, "%s", cmd);
	cr_expect_eq(rc, 1, "the broken copy passed: %s: %s", cmd, o.data);
	cr_expect(strstr(o.data, complaint), "expected \"%s\": %s", complaint, o.data);
	buf_free(&o);
}

/* The eval of workspace(), pointing at base_url %s. */
#define EVAL_TMPL                                                                                  \
	"{\"name\": \"ex\", \"dataset\": {\"path\": \"items.jsonl\"},\n"                           \
	" \"endpoints\": {\"sim\": {\"base_url\": \"%s\", \"rpm\": 6000, \"max_concurrency\": "    \
	"8}},\n"                                                                                   \
	" \"slots\": {\"fast\": \"sim/fast\"}, \"routing\": {\"default\": \"fast\"},\n"            \
	" \"shadow\": [\"sim/cand\"],\n"                                                           \
	" \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": [\"trim\"]}],\n" \
	" \"params\": {\"temperature\": 0, \"max_tokens\": 16}, \"timeout_s\": 10}\n"

/* dir/checkout: a checkout-like folder (bin/ holding the binaries under test,
 * evals/eval.json on items.jsonl) whose eval points at a shadowsim. */
static void workspace(void)
{
	char prof[600], cmd[2048];
	snprintf(prof, sizeof(prof), "%s/profiles.json", dir);
	test_write_file(prof, "{\"seed\": 3, \"models\": {"
			      "\"sim/fast\": {\"accuracy\": {\"default\": 0.9}},"
			      "\"sim/cand\": {\"accuracy\": {\"default\": 0.6}}}}\n");
	cr_assert_eq(test_sh(NULL, "mkdir -p '%s/checkout/evals' && ln -s '%s' '%s/checkout/bin'",
			     dir, bin, dir),
		     0);
	snprintf(cmd, sizeof(cmd), "%s/checkout/evals/items.jsonl", dir);
	FILE *f = fopen(cmd, "w");
	cr_assert_not_null(f);
	for (int i = 1; i <= N_ITEMS; i++)
		fprintf(
		    f,
		    "{\"id\": \"x%d\", \"prompt\": \"What is %d plus 1?\", \"expected\": \"%d\"}\n",
		    i, i, i + 1);
	cr_assert_eq(fclose(f), 0);
	/* shadowsim learns the answers from the eval, which names it afterwards */
	snprintf(cmd, sizeof(cmd), "%s/checkout/evals/eval.json", dir);
	char text[1024];
	snprintf(text, sizeof(text), EVAL_TMPL, "http://127.0.0.1:9/v1");
	test_write_file(cmd, text);
	cr_assert_eq(simproc_start(&sim, prof, cmd, NULL), 0, "shadowsim: %s", sim.error);
	snprintf(text, sizeof(text), EVAL_TMPL, sim.base_url);
	test_write_file(cmd, text);
}

/* A merged run folder (relative to dir) is complete and holds every pair. */
static void expect_complete(const char *run)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir, run);
	char *m = test_read_file(path, NULL);
	cr_expect(strstr(m, "\"status\": \"complete\""), "%s: %s", path, m);
	free(m);
	snprintf(path, sizeof(path), "%s/%s/results.jsonl", dir, run);
	char *r = test_read_file(path, NULL);
	size_t lines = 0;
	for (char *p = r; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 2 * N_ITEMS, "%s: %zu lines", path, lines);
	free(r);
}

/* Runs an extracted script (from the checker) with env, in dir/checkout. */
static void run_extracted(const char *extract, const char *env, const char *what)
{
	struct buf o;
	int rc = SH(&o,
		    "cd '%s/checkout' && %s \"$SE_ROOT\"/" CHECKER " %s > step.sh && "
		    "env PATH='%s':\"$PATH\" %s bash -e step.sh",
		    dir, python(), extract, bin, env);
	cr_assert_eq(rc, 0, "%s (%s, %s): exit %d: %s", what, extract, env, rc, o.data);
	buf_free(&o);
}

/* ---- GitHub Actions ------------------------------------------------------- */

Test(examples, github_actions_workflow_has_what_actions_needs)
{
	check_structure("github", GHA, NULL,
			"sed -i 's/shard: \\[1, 2, 3, 4\\]/shard: [1, 2, 3]/' *.yml",
			"env.SHARDS: 4 but the matrix has 3 shards");
}

Test(examples, github_actions_steps_shard_merge_and_gate_for_real)
{
	workspace();
	char env[256], extract[512];
	snprintf(extract, sizeof(extract), "gha-run \"$SE_ROOT\"/" GHA " shard 'shadoweval run'");
	for (int k = 1; k <= 2; k++) {
		snprintf(env, sizeof(env), "EVAL=evals/eval.json SHARDS=2 SHARD=%d", k);
		run_extracted(extract, env, "the shard step");
	}
	/* The baseline is a copy of the merged run itself, so that check passes
	 * whatever the measured latencies did (they are not reproducible from
	 * run to run; check's failing on a real regression is tested in
	 * tests/e2e/test_run.c): what is tested here is that the steps run. */
	static const char *const merge_steps[] = {"shadoweval merge", "shadoweval check",
						  "\"status\": \"complete\""};
	for (size_t i = 0; i < 3; i++) {
		if (i == 1)
			cr_assert_eq(
			    test_sh(NULL,
				    "cd '%s/checkout' && cp -r runs/merged evals/baseline-run",
				    dir),
			    0);
		snprintf(extract, sizeof(extract), "gha-run \"$SE_ROOT\"/" GHA " merge '%s'",
			 merge_steps[i]);
		run_extracted(extract, "EVAL=evals/eval.json BASELINE=evals/baseline-run",
			      merge_steps[i]);
	}
	expect_complete("checkout/runs/merged");
	char md[600];
	snprintf(md, sizeof(md), "%s/checkout/check.md", dir);
	char *text = test_read_file(md, NULL);
	cr_expect(strlen(text) > 0 && strstr(text, "sim/cand"), "check.md: %s", text);
	free(text);
}

Test(examples, github_actions_workflow_passes_actionlint)
{
	if (test_sh(NULL, "command -v actionlint") != 0)
		cr_skip_test("actionlint is not installed (no Debian package); the structure "
			     "test checked the workflow");
	struct buf o;
	int rc = SH(&o, "actionlint %s%s%s", GHA, "", "");
	cr_expect_eq(rc, 0, "%s", o.data);
	buf_free(&o);
}

/* ---- Kubernetes ------------------------------------------------------------ */

Test(examples, kubernetes_manifests_have_what_an_indexed_job_needs)
{
	check_structure("kubernetes", K8S_SHARDS, K8S_MERGE,
			"sed -i '/completionMode: Indexed/d' shards-job.yaml",
			"spec.completionMode: expected Indexed");
	check_structure("kubernetes", K8S_SHARDS, K8S_MERGE,
			"sed -i 's/claimName: shadoweval-runs/claimName: other/' merge-job.yaml",
			"no PersistentVolumeClaim \"other\"");
}

Test(examples, kubernetes_pods_map_the_completion_index_to_shards_for_real)
{
	workspace();
	char env[512];
	for (int i = 0; i < 3; i++) {
		snprintf(env, sizeof(env),
			 "JOB_COMPLETION_INDEX=%d SHARDS=3 RUNS='%s/k8s' EVAL=evals/eval.json", i,
			 dir);
		run_extracted("k8s-script \"$SE_ROOT\"/" K8S_SHARDS " shadoweval-shards", env,
			      "a pod");
	}
	snprintf(env, sizeof(env), "RUNS='%s/k8s'", dir);
	run_extracted("k8s-script \"$SE_ROOT\"/" K8S_MERGE " shadoweval-merge", env,
		      "the merge pod");
	expect_complete("k8s/merged");
}

Test(examples, kubernetes_manifests_pass_kubectl_dry_run)
{
	if (test_sh(NULL, "command -v kubectl") != 0)
		cr_skip_test("kubectl is not installed; the structure test checked the manifests");
	/* A kubeconfig naming a port nothing listens on: the test contacts no
	 * cluster, so a kubectl that needs one for its schemas cannot run. */
	char kc[600];
	snprintf(kc, sizeof(kc), "%s/kubeconfig", dir);
	test_write_file(kc,
			"apiVersion: v1\nkind: Config\nclusters:\n- name: none\n  cluster:\n"
			"    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n"
			"users:\n- name: none\n  user:\n    token: none\n"
			"contexts:\n- name: none\n  context:\n    cluster: none\n    user: none\n"
			"current-context: none\n");
	struct buf o;
	int rc = SH(&o,
		    "kubectl --kubeconfig '%s' --request-timeout=5s apply --dry-run=client "
		    "--validate=false -f %s -f %s",
		    kc, K8S_SHARDS, K8S_MERGE);
	if (rc != 0 && (strstr(o.data, "127.0.0.1:1") || strstr(o.data, "connection refused"))) {
		buf_free(&o);
		cr_skip_test("kubectl is installed but `apply --dry-run=client` needs an API "
			     "server for its schemas, and this test contacts none; the structure "
			     "test checked the manifests");
	}
	cr_expect_eq(rc, 0, "%s", o.data);
	buf_free(&o);
}

/* ---- Slurm ----------------------------------------------------------------- */

Test(examples, slurm_scripts_have_what_sbatch_needs)
{
	struct buf o;
	int rc = SH(&o, "bash -n %s && bash -n %s && bash -n %s", SLURM_SHARDS, SLURM_MERGE,
		    "examples/slurm/submit.sh");
	cr_expect_eq(rc, 0, "%s", o.data);
	buf_free(&o);
	check_structure("slurm", SLURM_SHARDS, SLURM_MERGE,
			"sed -i '/#SBATCH --array/d' shards.sbatch",
			"no --array=FIRST-LAST before the first command");
}

Test(examples, slurm_array_tasks_cover_every_shard_for_real)
{
	workspace();
	struct buf o;
	for (int id = 0; id < 3; id++) {
		int rc = SH(&o,
			    "cd '%s/checkout' && env PATH='%s':\"$PATH\" SLURM_ARRAY_TASK_ID=%d "
			    "SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 RUNS='%s/slurm' "
			    "EVAL=evals/eval.json bash \"$SE_ROOT\"/" SLURM_SHARDS,
			    dir, bin, id, dir);
		cr_assert_eq(rc, 0, "array task %d: %s", id, o.data);
		buf_free(&o);
	}
	int rc = SH(&o,
		    "cd '%s/checkout' && env PATH='%s':\"$PATH\" RUNS='%s/slurm' bash "
		    "\"$SE_ROOT\"/" SLURM_MERGE,
		    dir, bin, dir);
	cr_assert_eq(rc, 0, "merge: %s", o.data);
	buf_free(&o);
	expect_complete("slurm/merged");
}

/* ---- GNU parallel ----------------------------------------------------------- */

Test(examples, gnu_parallel_script_runs_the_shards_and_merges_for_real)
{
	struct buf o;
	int rc = SH(&o, "bash -n %s && command -v parallel", PARALLEL);
	cr_assert_eq(rc, 0, "GNU parallel (Debian: parallel, installed by install-deps.sh): %s",
		     o.data);
	buf_free(&o);
	workspace();
	rc = SH(&o,
		"cd '%s/checkout' && env PATH='%s':\"$PATH\" bash \"$SE_ROOT\"/" PARALLEL
		" evals/eval.json 3 '%s/par' -- --concurrency 4",
		dir, bin, dir);
	cr_assert_eq(rc, 0, "%s", o.data);
	buf_free(&o);
	expect_complete("par/merged");
	char log[600];
	snprintf(log, sizeof(log), "%s/par/joblog.tsv", dir);
	char *text = test_read_file(log, NULL);
	size_t lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 4, "one header and one line per shard: %s", text);
	free(text);
}
