/* scorer.h: the processes behind `command` checks (issue 12).
 *
 * A command check grades an output by asking a program the user names: its
 * argv from the config, never a shell string. One process per command check
 * is started once per run (scr_pool_start) and spoken to in JSON lines over
 * its stdin/stdout (one socket: writes never raise SIGPIPE):
 *   request  {"id":N,"check":"NAME","item":{...},"input":"..."|null,
 *             "output":"...","expected":["...",...]}
 *   reply    {"id":N,"pass":true|false,"score":NUMBER|null,"detail":"..."}
 * "pass" is required; "score" and "detail" may be absent or null; other keys
 * are ignored. A reply must come within the check's timeout_s.
 *
 * What goes wrong is a check error for that one output, never a pass:
 *   - no reply in time: the process is killed and restarted (a late reply
 *     could only put the protocol out of step);
 *   - the process exits or closes its stdout: restarted;
 *   - a reply that is not a JSON object, or has another id: restarted (the
 *     two sides are out of step);
 *   - a reply with the right id and a wrong type (pass not a boolean...):
 *     the process keeps running.
 * Every restart counts; when a process needs one more than max_restarts,
 * the pool fails: scr_pool_failed reports an error naming the check and
 * the last cause, and the run ends (results already written stay).
 *
 * The process runs in the config's folder (relative paths in argv resolve
 * as the config's own paths do), in its own process group (a Ctrl-C meant
 * for shadoweval does not kill it while queued results are still graded),
 * with no inherited environment but PATH, HOME, LANG, LC_ALL, TMPDIR and the
 * names the check lists in "env" (so no API key reaches it unless listed),
 * and with shadoweval's stderr as its own.
 *
 * Threads: the pool is started and stopped by the thread that owns the run;
 * in between only one thread (the engine's worker) grades with it. Grading
 * blocks that thread for at most timeout_s per output; the network loop
 * never calls it.
 */
#ifndef SE_SCORER_H
#define SE_SCORER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

struct chk_cmd;
struct chk_item;
struct chk_result;
struct chk_runner;
struct chk_set;

/* ---- env.c: the environment a scorer gets -------------------------------- */

/* The names every scorer inherits when they are set. */
extern const char *const scr_safe_env[];
/* A NULL-terminated "NAME=value" array of the safe set plus `names` (n of
 * them) that are set in this process's environment; scr_env_free frees it. */
char **scr_env_build(const char *const *names, size_t n);
void scr_env_free(char **env);

/* ---- spawn.c: one process ------------------------------------------------- */

struct scr_proc {
	pid_t pid; /* 0: not running */
	int fd;	   /* our end of the socket that is its stdin and stdout */
};

/* Starts argv (argv[0] looked up in PATH unless it holds a '/') in folder
 * dir with environment env. -1 with err (where: `where`) when it cannot. */
int scr_spawn(struct scr_proc *p, char *const *argv, const char *dir, char *const *env,
	      const char *where, struct se_err *err);
/* Kills (SIGKILL) and reaps a running process; no-op when none. */
void scr_kill(struct scr_proc *p);
/* Closes its stdin and waits up to grace_ms for it to exit, then kills it.
 * Either way the process is reaped. */
void scr_close(struct scr_proc *p, int grace_ms);
/* Reaps an exited process and describes how it ended ("exited with status
 * 1", "killed by signal 9") into why. */
void scr_reap(struct scr_proc *p, char *why, size_t cap);

/* ---- proto.c: the JSON lines ---------------------------------------------- */

/* Appends one request line (with its '\n'). output is valid UTF-8. */
void scr_request(struct buf *b, long id, const char *check, const struct chk_item *item,
		 const char *output, size_t n);

enum scr_reply {
	SCR_REPLY_OK,	    /* *r filled */
	SCR_REPLY_BAD,	    /* right id, a field of the wrong type: in step */
	SCR_REPLY_GARBAGE,  /* not a JSON object, or no "id": out of step */
	SCR_REPLY_WRONG_ID, /* another request's reply: out of step */
};
/* Parses one reply line (without its '\n') for request id into r (pass,
 * score, detail; error on anything but SCR_REPLY_OK, with the detail saying
 * what was wrong). */
enum scr_reply scr_parse_reply(const char *line, size_t n, long id, struct chk_result *r);

/* ---- pool.c: every command check of a set, and the restarts ---------------- */

struct scr_pool;

/* Starts one process per command check of set (none: *out is NULL and
 * nothing runs). `file` is the config (errors name "file: checks[i]"). */
int scr_pool_start(struct scr_pool **out, const struct chk_set *set, const char *file,
		   struct se_err *err);
/* The runner to put in chk_item.runner; NULL for a NULL pool. */
const struct chk_runner *scr_pool_runner(const struct scr_pool *pool);
/* True once a scorer needed more than max_restarts restarts; *err then
 * names the check and the last cause. */
bool scr_pool_failed(const struct scr_pool *pool, struct se_err *err);
/* Closes every process (EOF on stdin, a short grace, then SIGKILL) and
 * frees the pool. NULL is fine. */
void scr_pool_stop(struct scr_pool *pool);

#endif
