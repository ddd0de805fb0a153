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
#include <sys/file.h>
#include <sys/prctl.h>
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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static size_t count_lines(const char *path)
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

/* A profiles file: the four models, answering after ttft_ms; `faults` (a
 * JSON object, or NULL) on the model `faulty`. */
static const char *profiles_with(int ttft_ms, const char *faulty, const char *faults)
{
	static const char *const models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	char *path = tpath("profiles.json");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"seed\": 7, \"models\": {");
	for (int i = 0; i < 4; i++) {
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"latency\": {\"ttft_ms\": %d, \"tokens_per_s\": 0},"
			" \"accuracy\": {\"default\": 1.0}",
			i ? ", " : "", models[i], ttft_ms);
		if (faulty && !strcmp(faulty, models[i]))
			fprintf(f, ", \"faults\": %s", faults);
		fputs("}", f);
	}
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void sim_up_with(struct simproc *sp, int ttft_ms, const char *faulty, const char *faults)
{
	int rc = simproc_start(sp, profiles_with(ttft_ms, faulty, faults), NULL, NULL);
	cr_assert_eq(rc, 0, "shadowsim did not start: %s", sp->error);
}

static void sim_up(struct simproc *sp, int ttft_ms)
{
	sim_up_with(sp, ttft_ms, NULL, NULL);
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
		/* a test that fails or times out leaves no run behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
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

/* Waits (polling the file: the event is a line in it) until path has at
 * least n lines; fails the test when the process exits first. */
static void wait_for_lines(const char *path, size_t n, pid_t pid)
{
	for (;;) {
		if (count_lines(path) >= n)
			return;
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
		cr_assert_eq(si.si_pid, 0, "the run ended before writing %zu lines to %s", n, path);
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static const char *ep_arg(const struct simproc *sp)
{
	static char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp->base_url);
	return ep;
}

/* A manifest field as text ("" when absent). */
static char *manifest_field(const char *dir, const char *key)
{
	static char out[256];
	char path[512];
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *s = read_file(path, NULL);
	cr_assert_not_null(s, "no %s", path);
	cJSON *o = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(o, "%s is not JSON", path);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v))
		snprintf(out, sizeof(out), "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, sizeof(out), "%.17g", v->valuedouble);
	else
		out[0] = '\0';
	cJSON_Delete(o);
	return out;
}

static void run_ok(const char *eval, const struct simproc *sp, const char *dir,
		   const char *const *extra)
{
	const char *args[32] = {"run", eval, "-o", dir, "--endpoint", ep_arg(sp), "--quiet"};
	int n = 7;
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 0, "shadoweval run exited %d: %s", p.status, p.err);
	proc_out_free(&p);
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

/* ---- the run-folder lock (issue 9: 7) ------------------------------------ */

Test(runfolder, a_second_run_or_resume_on_a_busy_folder_is_refused_naming_the_pid, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 200);
	const char *eval = write_eval("eval.json", "lock", fixture("items.jsonl"), NULL, "");
	const char *first[] = {"run",	     eval,	  "-o",	     tpath("r"),
			       "--endpoint", ep_arg(&sp), "--quiet", "--concurrency",
			       "1",	     NULL};
	struct proc a = se_start(NULL, first);
	wait_for_lines(tpath("r/results.jsonl"), 1, a.pid);
	char pid[32];
	snprintf(pid, sizeof(pid), "pid %ld ", (long)a.pid);
	const char *second[] = {"run",	      eval,	   "-o",      tpath("r"),
				"--endpoint", ep_arg(&sp), "--quiet", NULL};
	struct proc_out p = run_se(second);
	expect_exit(&p, 2, "in use by another shadoweval run", pid);
	proc_out_free(&p);
	const char *resume[] = {"run",	      eval,	   "-o",      tpath("r"), "--resume",
				"--endpoint", ep_arg(&sp), "--quiet", NULL};
	p = run_se(resume);
	expect_exit(&p, 2, "in use by another shadoweval run", pid);
	proc_out_free(&p);
	kill(a.pid, SIGINT);
	p = se_wait(&a);
	cr_expect_eq(p.status, 130, "%s", p.err);
	proc_out_free(&p);
	/* the lock ended with its holder: --resume finishes the run */
	p = run_se(resume);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	cr_expect_eq(count_lines(tpath("r/results.jsonl")), 2 * N_ITEMS);
	simproc_stop(&sp);
	rm_tmp();
}

/* Every command that writes into a run folder takes its lock: while another
 * process holds DIR/run.lock, each is refused naming the holder, and the
 * folder's files stay as they were (report too with -o elsewhere: it writes
 * the folder's summaries when one is missing). The holder here is the test
 * itself, as a summarize would be. */
Test(runfolder, every_writer_of_a_run_folder_is_refused_while_another_holds_it, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "lock", fixture("items.jsonl"), NULL, "");
	run_ok(eval, &sp, tpath("r"), NULL);
	size_t models_len = 0;
	char *models = read_file(tpath("r/models.csv"), &models_len);
	cr_assert_not_null(models);

	int fd = open(tpath("r/run.lock"), O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0, "the finished run still holds its lock");
	cr_assert_eq(ftruncate(fd, 0), 0);
	cr_assert_eq(pwrite(fd, "4242 summarize\n", 15, 0), 15);
	const char *ep = ep_arg(&sp);
	const char *const writers[][10] = {
	    {"run", eval, "-o", tpath("r"), "--resume", "--endpoint", ep, "--quiet", NULL},
	    {"summarize", tpath("r"), NULL},
	    {"sweep", tpath("r"), NULL},
	    {"report", tpath("r"), NULL},
	    {"report", tpath("r"), "--correction", "bh", "-o", tpath("page.html"), NULL},
	    /* -o elsewhere: it writes DIR's summaries when one is missing */
	    {"report", tpath("r"), "-o", tpath("elsewhere.html"), NULL},
	    {"merge", tpath("r"), "-o", tpath("r"), "--quiet", NULL},
	};
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		struct proc_out p = run_se(writers[i]);
		cr_expect_eq(p.status, 2, "%s %s: exit %d: %s", writers[i][0], writers[i][1],
			     p.status, p.err);
		cr_expect_not_null(
		    strstr(p.err, "in use by another shadoweval summarize (pid 4242 "), "%s: %s",
		    writers[i][0], p.err);
		proc_out_free(&p);
	}
	size_t now_len = 0;
	char *now = read_file(tpath("r/models.csv"), &now_len);
	cr_expect(now && now_len == models_len && !memcmp(now, models, models_len),
		  "a refused writer changed models.csv");
	free(now);
	cr_expect_neq(access(tpath("r/report.html"), F_OK), 0, "a refused report wrote its page");
	cr_expect_neq(access(tpath("page.html"), F_OK), 0, "a refused report wrote its page");
	cr_expect_neq(access(tpath("elsewhere.html"), F_OK), 0, "a refused report wrote its page");
	/* a merge into a new folder another process holds leaves nothing */
	mkdir(tpath("m"), 0755);
	int mfd = open(tpath("m/run.lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_eq(flock(mfd, LOCK_EX | LOCK_NB), 0);
	cr_assert_eq(pwrite(mfd, "4343 merge\n", 11, 0), 11);
	const char *merge[] = {"merge", tpath("r"), "-o", tpath("m"), "--quiet", NULL};
	struct proc_out p = run_se(merge);
	expect_exit(&p, 2, "in use by another shadoweval merge (pid 4343 ", NULL);
	proc_out_free(&p);
	cr_expect_neq(access(tpath("m/results.jsonl"), F_OK), 0, "a refused merge wrote results");
	close(mfd);
	close(fd);
	/* released: the writers go on, and the lock names the last one */
	const char *summarize[] = {"summarize", tpath("r"), NULL};
	p = run_se(summarize);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	char *line = read_file(tpath("r/run.lock"), NULL);
	cr_expect(line && strstr(line, " summarize\n") && atol(line) > 0, "run.lock holds \"%s\"",
		  line ? line : "(none)");
	free(line);
	/* a merge that fails leaves no folder and no lock behind */
	const char *bad[] = {"merge", tpath("none"), "-o", tpath("m2"), "--quiet", NULL};
	p = run_se(bad);
	expect_exit(&p, 2, "no such folder", NULL);
	proc_out_free(&p);
	cr_expect_neq(access(tpath("m2"), F_OK), 0, "a failed merge left its folder");
	free(models);
	simproc_stop(&sp);
	rm_tmp();
}

/* A named output (report -o, check --junit/--markdown, cache export -o)
 * never replaces a run folder's or a cache's own file, nor a file the
 * command reads: each is exit 2 and the file is left as it was. */
Test(runfolder, a_named_output_never_replaces_a_run_or_cache_file, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "outs", fixture("items.jsonl"), NULL, "");
	const char *cache[] = {"--cache", "use", "--cache-dir", tpath("c"), NULL};
	run_ok(eval, &sp, tpath("r"), cache);
	run_ok(eval, &sp, tpath("r2"), NULL);
	const char *guarded[] = {"r/results.jsonl", "r/manifest.json", "r2/models.csv",
				 "c/cache.sqlite"};
	char *before[4];
	size_t len[4];
	for (int i = 0; i < 4; i++)
		before[i] = read_file(tpath(guarded[i]), &len[i]);
	const char *const refused[][12] = {
	    {"report", tpath("r"), "-o", tpath("r/results.jsonl"), NULL},
	    {"report", tpath("r"), "-o", tpath("r2/models.csv"), NULL},
	    {"check", tpath("r"), "--baseline", tpath("r2"), "--junit", tpath("r/manifest.json"),
	     NULL},
	    {"check", tpath("r"), "--baseline", tpath("r2"), "--markdown", tpath("r2/models.csv"),
	     NULL},
	    {"check", tpath("r"), "--baseline", tpath("r2"), "--junit", tpath("x.txt"),
	     "--markdown", tpath("x.txt"), NULL},
	    {"cache", "export", "--cache-dir", tpath("c"), "-o", tpath("c/cache.sqlite"), NULL},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct proc_out p = run_se(refused[i]);
		cr_expect_eq(p.status, 2, "%s %s: exit %d: %s", refused[i][0], refused[i][1],
			     p.status, p.err);
		cr_expect(strstr(p.err, "write elsewhere") || strstr(p.err, "same file"), "%s: %s",
			  refused[i][0], p.err);
		proc_out_free(&p);
	}
	for (int i = 0; i < 4; i++) {
		size_t n = 0;
		char *now = read_file(tpath(guarded[i]), &n);
		cr_expect(now && n == len[i] && !memcmp(now, before[i], n), "%s was replaced",
			  guarded[i]);
		free(now);
		free(before[i]);
	}
	cr_expect_neq(access(tpath("x.txt"), F_OK), 0);
	/* the page's own name in DIR, and a file elsewhere, are written */
	const char *own[] = {"report", tpath("r"), "-o", tpath("r/report.html"), NULL};
	struct proc_out p = run_se(own);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	const char *export[] = {"cache", "export",	 "--cache-dir", tpath("c"),
				"-o",	 tpath("b.zst"), NULL};
	p = run_se(export);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- --resume and results.jsonl (issue 9: 8) ----------------------------- */

static const char limit3[] = "3";

Test(runfolder, resume_refuses_a_symlinked_results_file_and_leaves_its_target, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "symlink", fixture("items.jsonl"), NULL, "");
	const char *extra[] = {"--limit", limit3, NULL};
	run_ok(eval, &sp, tpath("r"), extra);
	cr_assert_eq(rename(tpath("r/results.jsonl"), tpath("victim.jsonl")), 0);
	FILE *f = fopen(tpath("victim.jsonl"), "a");
	fputs("{\"a line of another file, without its newline", f);
	fclose(f);
	size_t before_len = 0;
	char *before = read_file(tpath("victim.jsonl"), &before_len);
	cr_assert_eq(symlink(tpath("victim.jsonl"), tpath("r/results.jsonl")), 0);
	const char *resume[] = {"run",	    eval,	  "-o",	       tpath("r"),
				"--resume", "--endpoint", ep_arg(&sp), "--quiet",
				"--limit",  limit3,	  NULL};
	struct proc_out p = run_se(resume);
	expect_exit(&p, 2, "results.jsonl", "symbolic link");
	proc_out_free(&p);
	size_t after_len = 0;
	char *after = read_file(tpath("victim.jsonl"), &after_len);
	cr_expect(before_len == after_len && !memcmp(before, after, before_len),
		  "--resume changed the file its results.jsonl links to");
	free(before);
	free(after);
	simproc_stop(&sp);
	rm_tmp();
}

Test(runfolder, resume_validates_every_line_before_cutting_a_torn_tail, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "torn", fixture("items.jsonl"), NULL, "");
	const char *extra[] = {"--limit", limit3, NULL};
	run_ok(eval, &sp, tpath("r"), extra);
	/* a bad line in the middle, a torn one at the end */
	char *good = read_file(tpath("r/results.jsonl"), NULL);
	char *nl = strchr(good, '\n');
	cr_assert_not_null(nl);
	FILE *f = fopen(tpath("r/results.jsonl"), "w");
	fwrite(good, 1, (size_t)(nl - good) + 1, f);
	fputs("this is not a results line\n", f);
	fputs(nl + 1, f);
	fputs("{\"item_id\": \"torn", f);
	fclose(f);
	free(good);
	size_t before_len = 0;
	char *before = read_file(tpath("r/results.jsonl"), &before_len);
	const char *resume[] = {"run",	    eval,	  "-o",	       tpath("r"),
				"--resume", "--endpoint", ep_arg(&sp), "--quiet",
				"--limit",  limit3,	  NULL};
	struct proc_out p = run_se(resume);
	expect_exit(&p, 2, "results.jsonl:2", NULL);
	proc_out_free(&p);
	size_t after_len = 0;
	char *after = read_file(tpath("r/results.jsonl"), &after_len);
	cr_expect(before_len == after_len && !memcmp(before, after, before_len),
		  "--resume cut the file before finding it invalid");
	free(before);
	free(after);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- --resume with other run-shaping flags (issue 9: 10) ----------------- */

Test(runfolder, resume_refuses_another_shard_limit_or_endpoint_naming_both, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "shape", fixture("items.jsonl"), NULL, "");
	const char *extra[] = {"--limit", limit3, "--shard", "1/2", NULL};
	run_ok(eval, &sp, tpath("r"), extra);
	char *manifest0 = read_file(tpath("r/manifest.json"), NULL);
	struct {
		const char *args[4];
		const char *n1, *n2;
	} cases[] = {
	    {{"--limit", "4", "--shard", "1/2"}, "--limit 3", "--limit 4"},
	    {{"--limit", "3", NULL, NULL}, "--shard 1/2", "no --shard"},
	    {{"--limit", "3", "--shard", "2/2"}, "--shard 1/2", "--shard 2/2"},
	    {{"--shard", "1/2", NULL, NULL}, "--limit 3", "--limit none"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[16] = {"run",	    eval,	  "-o",	       tpath("r"),
					"--resume", "--endpoint", ep_arg(&sp), "--quiet"};
		int n = 8;
		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			args[n++] = cases[i].args[k];
		args[n] = NULL;
		struct proc_out p = run_se(args);
		expect_exit(&p, 2, cases[i].n1, cases[i].n2);
		proc_out_free(&p);
	}
	/* another URL for the same endpoint name */
	const char *other_url[] = {"run",
				   eval,
				   "-o",
				   tpath("r"),
				   "--resume",
				   "--endpoint",
				   "sim=http://127.0.0.1:1/v1",
				   "--quiet",
				   "--limit",
				   "3",
				   "--shard",
				   "1/2",
				   NULL};
	struct proc_out p = run_se(other_url);
	expect_exit(&p, 2, sp.base_url, "http://127.0.0.1:1/v1");
	proc_out_free(&p);
	char *manifest1 = read_file(tpath("r/manifest.json"), NULL);
	cr_expect_str_eq(manifest1, manifest0, "a refused --resume rewrote the manifest");
	free(manifest0);
	free(manifest1);
	/* the same flags: accepted */
	const char *same[] = {"run",	    eval,	 "-o",	    tpath("r"), "--resume",
			      "--endpoint", ep_arg(&sp), "--quiet", "--limit",	"3",
			      "--shard",    "1/2",	 NULL};
	p = run_se(same);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- SIGTERM and SIGHUP (issue 9: 11) ------------------------------------ */

static void stop_by_signal(int sig, const char *dir)
{
	struct simproc sp;
	sim_up(&sp, 200);
	const char *eval = write_eval("eval.json", "signals", fixture("items.jsonl"), NULL, "");
	const char *args[] = {"run", eval,	   "-o",	dir,	   "--concurrency",
			      "2",   "--endpoint", ep_arg(&sp), "--quiet", NULL};
	char rpath[600];
	snprintf(rpath, sizeof(rpath), "%s/results.jsonl", dir);
	struct proc a = se_start(NULL, args);
	wait_for_lines(rpath, 1, a.pid);
	kill(a.pid, sig);
	struct proc_out p = se_wait(&a);
	expect_exit(&p, 130, "interrupted", "--resume");
	proc_out_free(&p);
	cr_expect_str_eq(manifest_field(dir, "status"), "interrupted");
	cr_expect_neq(manifest_field(dir, "ended_at")[0], '\0', "no ended_at");
	char csv[600];
	snprintf(csv, sizeof(csv), "%s/models.csv", dir);
	cr_expect_eq(access(csv, F_OK), 0, "no models.csv after signal %d", sig);
	size_t lines = count_lines(rpath);
	cr_expect_gt(lines, 0);
	cr_expect_lt(lines, 2 * N_ITEMS);
	simproc_stop(&sp);
}

Test(runfolder, sigterm_ends_a_run_as_sigint_does, .timeout = 90)
{
	make_tmp();
	stop_by_signal(SIGTERM, tpath("r"));
	rm_tmp();
}

Test(runfolder, sighup_ends_a_run_as_sigint_does, .timeout = 90)
{
	make_tmp();
	stop_by_signal(SIGHUP, tpath("r"));
	rm_tmp();
}

/* A stop signal right after the first "running" manifest is written, before
 * the engine starts: the run must end "interrupted" (exit 130, manifest and
 * an empty results file), not die with its manifest saying "running". The
 * test-only hook SE_TEST_PREPARED_FDS (cmd_run.c) makes run report that
 * point on a pipe and wait there for the test, which signals it then. */
static void signal_after_first_manifest(int sig, const char *eval, const struct simproc *sp,
					const char *dir)
{
	int ready[2], go[2];
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	char fds[32];
	snprintf(fds, sizeof(fds), "%d,%d", ready[1], go[0]);
	cr_assert_eq(setenv("SE_TEST_PREPARED_FDS", fds, 1), 0);
	const char *args[] = {"run", eval, "-o", dir, "--endpoint", ep_arg(sp), "--quiet", NULL};
	struct proc a = se_start(NULL, args);
	unsetenv("SE_TEST_PREPARED_FDS");
	close(ready[1]);
	close(go[0]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1, "run ended before its first manifest");
	cr_assert_str_eq(manifest_field(dir, "status"), "running");
	cr_assert_eq(kill(a.pid, sig), 0);
	cr_assert_eq(write(go[1], "g", 1), 1);
	struct proc_out p = se_wait(&a);
	close(ready[0]);
	close(go[1]);
	expect_exit(&p, 130, "interrupted", "--resume");
	proc_out_free(&p);
	cr_expect_str_eq(manifest_field(dir, "status"), "interrupted", "signal %d", sig);
	cr_expect_neq(manifest_field(dir, "ended_at")[0], '\0', "no ended_at");
	char rpath[600];
	snprintf(rpath, sizeof(rpath), "%s/results.jsonl", dir);
	cr_expect_eq(count_lines(rpath), 0, "no request is sent after the signal");
}

Test(runfolder, a_signal_during_preparation_ends_the_run_as_interrupted, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "prep", fixture("items.jsonl"), NULL, "");
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	static const char *const dirs[] = {"int", "term", "hup"};
	for (size_t i = 0; i < 3; i++)
		signal_after_first_manifest(sigs[i], eval, &sp, tpath(dirs[i]));
	/* and --resume then runs every pair */
	const char *resume[] = {"--resume", NULL};
	run_ok(eval, &sp, tpath("term"), resume);
	cr_expect_eq(count_lines(tpath("term/results.jsonl")), 2 * N_ITEMS);
	cr_expect_str_eq(manifest_field(tpath("term"), "status"), "complete");
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- environment failures (issue 9: 12) ---------------------------------- */

Test(runfolder, a_full_disk_fails_the_run_with_exit_3, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "full", fixture("items.jsonl"), NULL, "");
	cr_assert_eq(mkdir(tpath("r"), 0755), 0);
	/* every results line hits ENOSPC; the manifest is written beside it */
	cr_assert_eq(symlink("/dev/full", tpath("r/results.jsonl")), 0);
	const char *args[] = {"run",	    eval,	 "-o",	    tpath("r"),
			      "--endpoint", ep_arg(&sp), "--quiet", NULL};
	struct proc_out p = run_se(args);
	expect_exit(&p, 3, "results.jsonl", "No space left on device");
	proc_out_free(&p);
	cr_expect_str_eq(manifest_field(tpath("r"), "status"), "failed");
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- stale temporary files (issue 9: 13) --------------------------------- */

Test(runfolder, stale_tmp_files_do_not_block_a_retried_merge, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "stale", fixture("items.jsonl"), NULL, "");
	const char *s1[] = {"--shard", "1/2", NULL};
	const char *s2[] = {"--shard", "2/2", NULL};
	run_ok(eval, &sp, tpath("s1"), s1);
	run_ok(eval, &sp, tpath("s2"), s2);
	/* what a merge killed mid-write leaves behind */
	cr_assert_eq(mkdir(tpath("out"), 0755), 0);
	write_file(tpath("out/results.jsonl.tmp"), "{\"item_id\": \"q01\", \"mod");
	write_file(tpath("out/models.csv.tmp"), "model,n\n");
	const char *args[] = {"merge",	    tpath("s1"), tpath("s2"), "-o",
			      tpath("out"), "--quiet",	 NULL};
	struct proc_out p = run_se(args);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	cr_expect_eq(count_lines(tpath("out/results.jsonl")), 2 * N_ITEMS);
	cr_expect_neq(access(tpath("out/results.jsonl.tmp"), F_OK), 0);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- --max-error-rate and empty datasets (issue 9: 23) ------------------- */

Test(runfolder, a_run_where_every_request_failed_exits_1, .timeout = 90)
{
	make_tmp();
	const char *eval = write_eval("eval.json", "allfail", fixture("items.jsonl"), NULL, "");
	/* nothing listens on port 1: every attempt is a network error */
	const char *args[] = {
	    "run",     eval,	  "-o", tpath("r"), "--endpoint", "sim=http://127.0.0.1:1/v1",
	    "--quiet", "--limit", "2",	NULL};
	struct proc_out p = run_se(args);
	expect_exit(&p, 1, "4 of 4 results are errors", "--max-error-rate");
	proc_out_free(&p);
	cr_expect_str_eq(manifest_field(tpath("r"), "status"), "complete");
	cr_expect_eq(access(tpath("r/models.csv"), F_OK), 0);
	const char *usage[] = {"run", eval, "--max-error-rate", "0", NULL};
	p = run_se(usage);
	expect_exit(&p, 2, "--max-error-rate", NULL);
	proc_out_free(&p);
	rm_tmp();
}

Test(runfolder, max_error_rate_sets_the_share_of_errors_that_fails_a_run, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	/* the shadow always fails: 3 of the 6 results of --limit 3 are errors */
	sim_up_with(&sp, 0, "sim/cand", "{\"http_500\": 1.0}");
	const char *eval = write_eval("eval.json", "halffail", fixture("items.jsonl"), NULL, "");
	struct {
		const char *rate; /* NULL: the default */
		int exit;
	} cases[] = {{NULL, 0}, {"0.6", 0}, {"0.5", 1}, {"0.25", 1}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[32];
		snprintf(dir, sizeof(dir), "r%zu", i);
		const char *args[16] = {"run", eval,	     "-o",	  tpath(dir), "--limit",
					"3",   "--endpoint", ep_arg(&sp), "--quiet"};
		int n = 9;
		if (cases[i].rate) {
			args[n++] = "--max-error-rate";
			args[n++] = cases[i].rate;
		}
		args[n] = NULL;
		struct proc_out p = run_se(args);
		expect_exit(&p, cases[i].exit, cases[i].exit ? "3 of 6 results are errors" : NULL,
			    NULL);
		proc_out_free(&p);
	}
	simproc_stop(&sp);
	rm_tmp();
}

Test(runfolder, an_empty_dataset_is_exit_2_for_validate_and_run, .timeout = 60)
{
	make_tmp();
	write_file(tpath("items.jsonl"), "");
	const char *eval = write_eval("eval.json", "empty", tpath("items.jsonl"), NULL, "");
	const char *v[] = {"validate", eval, NULL};
	struct proc_out p = run_se(v);
	expect_exit(&p, 2, tpath("items.jsonl"), "no items");
	proc_out_free(&p);
	const char *r[] = {"run", eval, "-o", tpath("r"), "--quiet", NULL};
	p = run_se(r);
	expect_exit(&p, 2, tpath("items.jsonl"), "no items");
	proc_out_free(&p);
	rm_tmp();
}

/* ---- the dataset-changed warning on --limit runs (issue 9: 24) ----------- */

/* 40 items of about 3 KB each: past the reader's 64 KiB chunk, so a --limit
 * run reads only a prefix of the file. */
static void write_big_dataset(const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	char pad[3001];
	memset(pad, 'x', 3000);
	pad[3000] = '\0';
	for (int i = 0; i < 40; i++)
		fprintf(f,
			"{\"id\": \"b%02d\", \"task\": \"easy\", \"prompt\": \"What is %d plus "
			"1?\", \"expected\": \"%d\", \"pad\": \"%s\"}\n",
			i, i, i + 1, pad);
	cr_assert_eq(fclose(f), 0);
}

Test(runfolder, a_limit_run_of_an_unchanged_dataset_does_not_warn, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	write_big_dataset(tpath("items.jsonl"));
	const char *eval = write_eval("eval.json", "bigds", tpath("items.jsonl"), NULL, "");
	const char *args[] = {"run", eval,	   "-o",	tpath("r"), "--limit",
			      "2",   "--endpoint", ep_arg(&sp), "--quiet",  NULL};
	struct proc_out p = run_se(args);
	expect_exit(&p, 0, NULL, NULL);
	cr_expect_null(strstr(p.err, "changed during the run"), "%s", p.err);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

Test(runfolder, a_limit_run_still_warns_when_the_dataset_changes, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 300);
	write_big_dataset(tpath("items.jsonl"));
	const char *eval = write_eval("eval.json", "bigds2", tpath("items.jsonl"), NULL, "");
	const char *args[] = {"run",	       eval, "-o",	   tpath("r"),	"--limit", "3",
			      "--concurrency", "1",  "--endpoint", ep_arg(&sp), "--quiet", NULL};
	struct proc a = se_start(NULL, args);
	wait_for_lines(tpath("r/results.jsonl"), 1, a.pid);
	FILE *f = fopen(tpath("items.jsonl"), "a");
	fputs("{\"id\": \"late\", \"prompt\": \"added during the run\"}\n", f);
	fclose(f);
	struct proc_out p = se_wait(&a);
	expect_exit(&p, 0, "changed during the run", NULL);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- the folder's record across --resume (second hostile review) -------- */

/* The manifest's "counts" object, as text. */
static char *manifest_counts(const char *dir)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *text = read_file(path, NULL);
	cJSON *m = cJSON_Parse(text);
	cr_assert_not_null(m, "%s", text);
	char *counts = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "counts"));
	cJSON_Delete(m);
	free(text);
	return counts;
}

/* The first line of path with its item_id replaced by id, then appended. */
static void append_line_for(const char *path, const char *id)
{
	char *text = read_file(path, NULL);
	cr_assert_not_null(text);
	char *at = strstr(text, "\"item_id\":\"");
	cr_assert_not_null(at);
	at += strlen("\"item_id\":\"");
	char *end = strchr(at, '"'), *nl = strchr(text, '\n');
	FILE *f = fopen(path, "a");
	fprintf(f, "%.*s%s%.*s\n", (int)(at - text), text, id, (int)(nl - end), end);
	fclose(f);
	free(text);
}

/* A --resume reads the lines already written as the run's own: a line for
 * an item outside the run's dataset or its --limit scope (added by hand:
 * the dataset and scope are the manifest's) is refused, naming its line,
 * instead of being counted as an item of the run. */
Test(runfolder, resume_refuses_a_line_for_an_item_outside_the_run, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "scope", fixture("items.jsonl"), NULL, "");
	const char *limit[] = {"--limit", "3", NULL};
	run_ok(eval, &sp, tpath("r"), limit);
	const char *resume[] = {"run", eval,	     "-o",	  tpath("r"), "--resume", "--limit",
				"3",   "--endpoint", ep_arg(&sp), "--quiet",  NULL};
	char *good = read_file(tpath("r/results.jsonl"), NULL);
	size_t n = count_lines(tpath("r/results.jsonl"));
	char line_no[32];
	snprintf(line_no, sizeof(line_no), "results.jsonl:%zu: ", n + 1);
	/* an id the dataset does not have */
	append_line_for(tpath("r/results.jsonl"), "not-in-the-dataset");
	struct proc_out p = run_se(resume);
	expect_exit(&p, 2, line_no, "item \"not-in-the-dataset\" is not in the run's dataset");
	proc_out_free(&p);
	/* an id of the dataset outside the first 3 items */
	write_file(tpath("r/results.jsonl"), good);
	append_line_for(tpath("r/results.jsonl"), "q10");
	p = run_se(resume);
	expect_exit(&p, 2, line_no,
		    "item \"q10\" is not in the run's dataset or its --shard/--limit");
	proc_out_free(&p);
	/* the run's own lines resume as before */
	write_file(tpath("r/results.jsonl"), good);
	p = run_se(resume);
	expect_exit(&p, 0, NULL, NULL);
	proc_out_free(&p);
	cr_expect_eq(count_lines(tpath("r/results.jsonl")), n);
	free(good);
	simproc_stop(&sp);
	rm_tmp();
}

/* A resume refused for a rule the lines already written break (here a pair
 * written twice) sends nothing and changes nothing: the manifest is the one
 * of the finished run, byte for byte, not a "failed" one with zero counts.
 * And a resume that continues a cut run leaves counts of the whole folder,
 * as one uninterrupted run would. */
Test(runfolder, a_refused_resume_keeps_the_manifest_and_a_resumed_one_counts_all, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "record", fixture("items.jsonl"), NULL, "");
	run_ok(eval, &sp, tpath("whole"), NULL);
	char *whole = manifest_counts(tpath("whole"));
	run_ok(eval, &sp, tpath("r"), NULL);
	const char *resume[] = {"run",	      eval,	   "-o",      tpath("r"), "--resume",
				"--endpoint", ep_arg(&sp), "--quiet", NULL};
	/* a pair written twice */
	char *good = read_file(tpath("r/results.jsonl"), NULL);
	char *nl = strchr(good, '\n');
	cr_assert_not_null(nl);
	FILE *f = fopen(tpath("r/results.jsonl"), "a");
	fwrite(good, 1, (size_t)(nl - good) + 1, f);
	fclose(f);
	size_t before_len = 0;
	char *before = read_file(tpath("r/manifest.json"), &before_len);
	struct proc_out p = run_se(resume);
	expect_exit(&p, 2, "results.jsonl", "two results for model");
	proc_out_free(&p);
	size_t after_len = 0;
	char *after = read_file(tpath("r/manifest.json"), &after_len);
	cr_expect(before_len == after_len && !memcmp(before, after, before_len),
		  "a refused --resume rewrote the manifest:\n%s", after);
	free(before);
	free(after);
	/* the first half of the lines kept: the resume writes the rest */
	size_t n = 0;
	for (char *c = good; *c; c++)
		n += *c == '\n';
	char *cut = good;
	for (size_t k = 0; k < n / 2; k++)
		cut = strchr(cut, '\n') + 1;
	f = fopen(tpath("r/results.jsonl"), "w");
	fwrite(good, 1, (size_t)(cut - good), f);
	fclose(f);
	free(good);
	p = run_se(resume);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	char *resumed = manifest_counts(tpath("r"));
	/* costs are the simulator's, the same for the same answers */
	cr_expect_str_eq(resumed, whole);
	free(resumed);
	free(whole);
	simproc_stop(&sp);
	rm_tmp();
}

/* A FIFO where a summary or the results should be is refused by the
 * readers with the file named, never waited on; a NAME.tmp planted as a
 * symlink is replaced, never written through. */
Test(runfolder, readers_refuse_a_fifo_and_writers_never_follow_a_tmp_symlink, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, 0);
	const char *eval = write_eval("eval.json", "fifo", fixture("items.jsonl"), NULL, "");
	run_ok(eval, &sp, tpath("r"), NULL);
	char *results = read_file(tpath("r/results.jsonl"), NULL);
	cr_assert_eq(unlink(tpath("r/results.jsonl")), 0);
	cr_assert_eq(mkfifo(tpath("r/results.jsonl"), 0644), 0);
	static const char *const cmds[] = {"summarize", "diff", "report"};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const char *args[] = {cmds[i], tpath("r"), NULL};
		struct proc_out p = run_se(args);
		expect_exit(&p, 2, "results.jsonl", "FIFO");
		proc_out_free(&p);
	}
	cr_assert_eq(unlink(tpath("r/results.jsonl")), 0);
	write_file(tpath("r/results.jsonl"), results);
	free(results);
	write_file(tpath("victim.txt"), "keep\n");
	cr_assert_eq(symlink(tpath("victim.txt"), tpath("r/models.csv.tmp")), 0);
	const char *sum[] = {"summarize", tpath("r"), NULL};
	struct proc_out p = run_se(sum);
	cr_expect_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	char *victim = read_file(tpath("victim.txt"), NULL);
	cr_expect_str_eq(victim, "keep\n");
	free(victim);
	struct stat st;
	cr_expect(lstat(tpath("r/models.csv"), &st) == 0 && S_ISREG(st.st_mode),
		  "models.csv is not a regular file");
	simproc_stop(&sp);
	rm_tmp();
}
