/* test_runfolder.c: the run folder and the files around a run, end to end:
 * the real shadoweval binary (and shadowsim on 127.0.0.1 where a run needs
 * models) against hostile files, names, flags and signals: whole-file caps,
 * non-regular files, the eval name, the run-folder lock, --resume's checks,
 * SIGTERM/SIGHUP, environment failures and exit codes.
 *
 * Every config is written per test into a temporary folder; the dataset is
 * tests/fixtures/run/items.jsonl (20 items) unless a test makes its own.
 * Nothing here asserts speed, and no test sleeps in place of an event: a
 * test that must act during a run waits for a line in results.jsonl.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/simproc.h"

#define FIX "tests/fixtures/run"
#define N_ITEMS 20

/* ---- helpers ------------------------------------------------------------ */

static char tmpdir[128];

static void make_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/se-e2e-rf-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", tmpdir, tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static char *tpath(const char *name)
{
	static char bufs[16][512];
	static int k;
	char *p = bufs[k++ % 16];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	size_t got = fread(s, 1, (size_t)n, f);
	fclose(f);
	s[got] = '\0';
	if (len)
		*len = got;
	return s;
}

__attribute__((unused)) static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

__attribute__((unused)) static size_t count_lines(const char *path)
{
	char *s = read_file(path, NULL);
	size_t n = 0;
	for (const char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* An absolute path to a fixture (configs live in the temporary folder). */
static const char *fixture(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int k;
	char *p = bufs[k++ % 4];
	char rel[512];
	snprintf(rel, sizeof(rel), FIX "/%s", name);
	cr_assert_not_null(realpath(rel, p), "no %s", rel);
	return p;
}

/* An eval config at tmpdir/<file>: the e2e eval's models and checks, with
 * this name, dataset and pricing path (NULL: none), and `extra` (",\n"-led
 * JSON members, or ""). */
static const char *write_eval(const char *file, const char *name, const char *dataset,
			      const char *pricing, const char *extra)
{
	char *path = tpath(file);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cJSON *n = cJSON_CreateString(name);
	char *qname = cJSON_PrintUnformatted(n);
	cJSON_Delete(n);
	fprintf(f,
		"{\"name\": %s,\n"
		" \"dataset\": {\"path\": \"%s\"},\n"
		" \"endpoints\": {\"sim\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},\n"
		" \"slots\": {\"fast\": \"sim/fast\", \"deep\": \"sim/deep\"},\n"
		" \"routing\": {\"rules\": [{\"task\": \"hard\", \"slot\": \"deep\"}], "
		"\"default\": \"fast\"},\n"
		" \"shadow\": [\"sim/cand\"],\n"
		" \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
		"[\"trim\"]}],\n"
		" \"params\": {\"temperature\": 0, \"max_tokens\": 32},\n"
		" \"retry\": {\"max_attempts\": 2, \"base_ms\": 10, \"max_ms\": 50},\n"
		" \"timeout_s\": 5",
		qname, dataset);
	if (pricing)
		fprintf(f, ",\n \"pricing\": \"%s\"", pricing);
	fprintf(f, "%s\n}\n", extra);
	free(qname);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* A profiles file: the four models, answering after ttft_ms. */
static const char *profiles(int ttft_ms)
{
	static const char *const models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	char *path = tpath("profiles.json");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"seed\": 7, \"models\": {");
	for (int i = 0; i < 4; i++)
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"latency\": {\"ttft_ms\": %d, \"tokens_per_s\": 0},"
			" \"accuracy\": {\"default\": 1.0}}",
			i ? ", " : "", models[i], ttft_ms);
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

__attribute__((unused)) static void sim_up(struct simproc *sp, int ttft_ms)
{
	int rc = simproc_start(sp, profiles(ttft_ms), NULL, NULL);
	cr_assert_eq(rc, 0, "shadowsim did not start: %s", sp->error);
}

static const char *se_bin(void)
{
	static char path[PATH_MAX];
	const char *d = getenv("SE_BIN_DIR");
	char rel[512];
	snprintf(rel, sizeof(rel), "%s/shadoweval", d && *d ? d : "build/asan/bin");
	cr_assert_not_null(realpath(rel, path), "no %s", rel);
	return path;
}

struct proc {
	pid_t pid;
	char outp[512], errp[512];
};

struct proc_out {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
};

static void proc_out_free(struct proc_out *p)
{
	free(p->out);
	free(p->err);
}

/* Starts shadoweval with args (NULL-terminated, after "shadoweval") in the
 * folder cwd (NULL: here). */
static struct proc se_start(const char *cwd, const char *const *args)
{
	static int seq;
	struct proc p;
	snprintf(p.outp, sizeof(p.outp), "%s/stdout.%d", tmpdir, seq);
	snprintf(p.errp, sizeof(p.errp), "%s/stderr.%d", tmpdir, seq++);
	const char *argv[64];
	int n = 0;
	argv[n++] = se_bin();
	for (int i = 0; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	p.pid = fork();
	cr_assert_geq(p.pid, 0);
	if (p.pid == 0) {
		int o = open(p.outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(p.errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(o, 1);
		dup2(e, 2);
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return p;
}

static struct proc_out se_wait(struct proc *p)
{
	int st = 0;
	cr_assert_eq(waitpid(p->pid, &st, 0), p->pid);
	struct proc_out r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = read_file(p->outp, NULL);
	r.err = read_file(p->errp, NULL);
	if (!r.out)
		r.out = strdup("");
	if (!r.err)
		r.err = strdup("");
	return r;
}

static struct proc_out run_se_in(const char *cwd, const char *const *args)
{
	struct proc p = se_start(cwd, args);
	return se_wait(&p);
}

static struct proc_out run_se(const char *const *args)
{
	return run_se_in(NULL, args);
}

static void expect_exit(const struct proc_out *p, int code, const char *needle1,
			const char *needle2)
{
	cr_expect_eq(p->status, code, "exit %d, expected %d: %s", p->status, code, p->err);
	if (needle1)
		cr_expect_not_null(strstr(p->err, needle1), "stderr lacks \"%s\": %s", needle1,
				   p->err);
	if (needle2)
		cr_expect_not_null(strstr(p->err, needle2), "stderr lacks \"%s\": %s", needle2,
				   p->err);
}

/* ---- whole-file reads and non-regular files (issue 9: 2, 5) -------------- */

Test(runfolder, whole_file_reads_refuse_devices_and_name_the_file, .timeout = 60)
{
	make_tmp();
	const char *v1[] = {"validate", "/dev/zero", NULL};
	struct proc_out p = run_se(v1);
	expect_exit(&p, 2, "/dev/zero", "character device");
	proc_out_free(&p);

	const char *eval =
	    write_eval("eval.json", "devpricing", fixture("items.jsonl"), "/dev/zero", "");
	const char *v2[] = {"validate", eval, NULL};
	p = run_se(v2);
	expect_exit(&p, 2, "/dev/zero", "character device");
	proc_out_free(&p);
	const char *r2[] = {"run", eval, "-o", tpath("r"), "--quiet", NULL};
	p = run_se(r2);
	expect_exit(&p, 2, "/dev/zero", "character device");
	proc_out_free(&p);
	rm_tmp();
}

Test(runfolder, a_fifo_dataset_is_refused_without_blocking, .timeout = 60)
{
	make_tmp();
	cr_assert_eq(mkfifo(tpath("items.jsonl"), 0600), 0);
	const char *eval = write_eval("eval.json", "fifo", tpath("items.jsonl"), NULL, "");
	const char *v[] = {"validate", eval, NULL};
	struct proc_out p = run_se(v);
	expect_exit(&p, 2, tpath("items.jsonl"), "is a FIFO");
	proc_out_free(&p);
	const char *r[] = {"run", eval, "-o", tpath("r"), "--quiet", NULL};
	p = run_se(r);
	expect_exit(&p, 2, tpath("items.jsonl"), "is a FIFO");
	proc_out_free(&p);
	rm_tmp();
}

/* ---- the eval name (issue 9: 9) ------------------------------------------ */

Test(runfolder, an_eval_name_outside_runs_is_refused_by_validate_and_run, .timeout = 60)
{
	make_tmp();
	const char *bad[] = {"../escaped", tpath("abs-escaped"), "a/b", "line\nbreak", "..",
			     ".hidden"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *eval =
		    write_eval("eval.json", bad[i], fixture("items.jsonl"), NULL, "");
		const char *v[] = {"validate", eval, NULL};
		struct proc_out p = run_se(v);
		expect_exit(&p, 2, ": name:", NULL);
		proc_out_free(&p);
		/* without -o: the folder would be runs/<name>, from tmpdir/work */
		mkdir(tpath("work"), 0755);
		const char *r[] = {"run", eval, "--quiet", NULL};
		p = run_se_in(tpath("work"), r);
		expect_exit(&p, 2, ": name:", NULL);
		proc_out_free(&p);
	}
	cr_expect_neq(access(tpath("escaped"), F_OK), 0, "a run wrote outside runs/");
	cr_expect_neq(access(tpath("abs-escaped"), F_OK), 0, "a run wrote outside runs/");
	cr_expect_neq(access(tpath("work/runs"), F_OK), 0, "a run folder was made");
	rm_tmp();
}
