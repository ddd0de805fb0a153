/* seproc.c: the shadoweval child of an e2e test; see seproc.h. */
#include "seproc.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"

void seproc_start(struct se_child *c, const char *dir, const char *const *args)
{
	static int seq;
	char bin[600];
	snprintf(c->outp, sizeof(c->outp), "%s/stdout.%d", dir, seq);
	snprintf(c->errp, sizeof(c->errp), "%s/stderr.%d", dir, seq++);
	snprintf(bin, sizeof(bin), "%s/shadoweval", test_bin_dir());
	const char *argv[64];
	int n = 0;
	argv[n++] = bin;
	for (int i = 0; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	c->pid = fork();
	cr_assert_geq(c->pid, 0);
	if (c->pid == 0) {
		int o = open(c->outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(c->errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

struct proc_out seproc_finish(struct se_child *c)
{
	int st = 0;
	waitpid(c->pid, &st, 0);
	struct proc_out r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = test_slurp(c->outp, NULL);
	r.err = test_slurp(c->errp, NULL);
	if (!r.out)
		r.out = strdup("");
	if (!r.err)
		r.err = strdup("");
	return r;
}

struct proc_out seproc_run(const char *dir, const char *const *args)
{
	struct se_child c;
	seproc_start(&c, dir, args);
	return seproc_finish(&c);
}

void proc_out_free(struct proc_out *p)
{
	free(p->out);
	free(p->err);
}
