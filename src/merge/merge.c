/* merge.c: `shadoweval merge DIR... -o OUT`: the results join (the command
 * line is cli/cmd_merge.c; mg_manifest.c handles the manifests).
 *
 * Rules (see README "merge"):
 * - inputs: every DIR must hold manifest.json and results.jsonl; all
 *   manifests must agree on eval, config_sha256 and dataset_sha256 (else
 *   SE_INPUT naming the folder and the field); a folder given twice is a
 *   usage error;
 * - shards: the inputs that carry a shard "K/N" must agree on N and hold each
 *   K at most once (else SE_INPUT naming both folders); shards no input holds
 *   are an error (SE_INPUT listing them, and the missing items below) unless
 *   --allow-partial (mg_opts.allow_partial): then a warning, the merged status
 *   "incomplete" and "allow_partial": true in the manifest;
 *   unsharded inputs (other --limit, resumed partial copies) are allowed too:
 *   the pair rule below is what protects the result; sharded inputs must
 *   also agree on the scheme (shard_by, "index" when absent) and hold
 *   disjoint items: an item in two shards is SE_INPUT naming both places,
 *   even when its lines are byte-identical;
 * - missing items: when any input is a shard, the dataset (through the
 *   first manifest's config, when it and its dataset still have the
 *   manifest's hashes: mg_items.c) is read and the items no input holds are
 *   listed by id: an error as for a missing shard, or with --allow-partial a
 *   warning, counted in the manifest (missing_items), status "incomplete";
 *   a line for an item the dataset does not have is SE_INPUT naming its
 *   file:line (with or without --allow-partial);
 * - status: an input whose manifest status is not "complete" (interrupted,
 *   stopped_by_budget, ...) is warned about and makes the merged status
 *   "incomplete";
 * - results: lines are copied as read (res_rec.raw, ending in '\n'), inputs
 *   in the order given, lines in file order; a torn last line is skipped with
 *   a warning; each (item_id, model) pair appears at most once: a second line
 *   for a pair is SE_INPUT naming both places (DIR/results.jsonl:N) unless the
 *   two lines are byte-identical and come from different inputs, then the
 *   first is kept and the drop counted (within one file a copy is an error,
 *   as in summarize: run never writes a pair twice);
 *   Pairs are remembered as 64-bit hashes (with a 64-bit hash of the line),
 *   so memory is ~48 bytes per pair, not the lines; N is the physical line
 *   number in the file;
 * - OUT must not exist or be an empty folder (run.lock and stale *.tmp
 *   files aside: cmd_merge holds OUT's run.lock while merging), or hold
 *   merge.partial: a merge that did not finish wrote the rest, and it is
 *   removed first; OUT/merge.partial is made before anything is written
 *   and removed last; OUT/results.jsonl is written as
 *   results.jsonl.tmp, fsync'd and renamed (fio_replace_*), then
 *   manifest.json (man_write: the first input's identity fields, shard null,
 *   earliest started_at, latest ended_at, items/items_not_run/requests/
 *   spent_usd summed over the inputs, results_written and by_status counted
 *   from the lines written, limit kept when all agree else null, cache kept
 *   when all agree else "mixed", concurrency the largest), then the
 *   summaries (sum_run_dir). An input error leaves OUT as it was.
 *
 * Not here: re-serializing lines (never), or reading the lines' fields
 * beyond item_id, model and status.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/hash64.h"
#include "core/xalloc.h"
#include "merge/merge.h"
#include "merge/mg_int.h"
#include "results/results.h"
#include "summarize/summarize.h"

/* ---- the set of pairs seen ---- */

struct seen {
	uint64_t key; /* hash of (item_id, model); 0: empty slot */
	uint64_t line;
	uint32_t input;
	uint32_t lineno;
};

struct seen_set {
	struct seen *slot;
	size_t size; /* a power of two */
	size_t n;
};

static void set_grow(struct seen_set *s)
{
	size_t size = s->size ? s->size * 2 : 1024;
	struct seen *slot = xcalloc(size, sizeof(*slot));
	for (size_t i = 0; i < s->size; i++) {
		if (!s->slot[i].key)
			continue;
		size_t j = (size_t)s->slot[i].key & (size - 1);
		while (slot[j].key)
			j = (j + 1) & (size - 1);
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->size = size;
}

/* The slot holding key, or the empty slot where it goes (key still 0). */
static struct seen *set_find(struct seen_set *s, uint64_t key)
{
	if ((s->n + 1) * 2 > s->size)
		set_grow(s);
	size_t j = (size_t)key & (s->size - 1);
	while (s->slot[j].key && s->slot[j].key != key)
		j = (j + 1) & (s->size - 1);
	return &s->slot[j];
}

/* ---- the join ---- */

struct join {
	struct seen_set set;
	struct seen_set *items; /* key: hash of item_id; the input and line first holding it */
	FILE *fp;
	const char *out_path;
	const struct mg_input *in;
	uint32_t cur;  /* input being read */
	size_t lineno; /* physical line of the row being read */
	struct mg_counts *counts;
	struct mg_report *rep;
	struct se_err *err;
};

static uint64_t item_key(const char *id, size_t len)
{
	uint64_t k = hash64(0x27d4eb2f165667c5ULL, id, len);
	return k ? k : 1;
}

static int fail_overlap(struct join *j, const struct res_rec *row, uint32_t other,
			uint32_t other_line)
{
	const struct mg_input *x = &j->in[j->cur], *o = &j->in[other];
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", x->results_path, j->lineno);
	return se_fail(j->err, SE_INPUT, where,
		       "item \"%s\" is in shard %s and also in shard %s (%s:%u): shards must "
		       "hold disjoint items (were they run on other datasets, or with another "
		       "--shard-by?)",
		       row->item_id, x->shard, o->shard, o->results_path, other_line);
}

/* Every item is remembered (mg_missing_items asks for them); an item in two
 * sharded inputs is an error: shards of one run never share an item. */
static int note_item(struct join *j, const struct res_rec *row)
{
	struct seen *it = set_find(j->items, item_key(row->item_id, row->item_id_len));
	if (!it->key) {
		it->key = item_key(row->item_id, row->item_id_len);
		it->input = j->cur;
		it->lineno = j->lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)j->lineno;
		j->items->n++;
		return 0;
	}
	if (it->input != j->cur && j->in[j->cur].shard && j->in[it->input].shard)
		return fail_overlap(j, row, it->input, it->lineno);
	return 0;
}

/* Whether an input holds the dataset item id; the item is marked as the
 * dataset's (its `line`, unused in the item set, set to 1). */
static bool has_item(void *ctx, const char *id)
{
	struct seen_set *items = ctx;
	if (!items->size)
		return false;
	uint64_t key = item_key(id, strlen(id));
	size_t k = (size_t)key & (items->size - 1);
	while (items->slot[k].key && items->slot[k].key != key)
		k = (k + 1) & (items->size - 1);
	if (items->slot[k].key != key)
		return false;
	items->slot[k].line = 1;
	return true;
}

static int on_row(void *ctx, const struct res_rec *row)
{
	struct join *j = ctx;
	const struct mg_input *x = &j->in[j->cur];
	j->lineno = row->line;
	uint64_t key =
	    hash64(hash64(0, row->item_id, row->item_id_len), row->model, row->model_len);
	if (row->sample > 0) /* run --repeats: one line per (item, model, sample) */
		key = hash64(key, (const char *)&row->sample, sizeof(row->sample));
	if (!key)
		key = 1;
	uint64_t line = hash64(0x5bd1e995ULL, row->raw, row->raw_len);
	struct seen *s = set_find(&j->set, key);
	if (s->key) {
		/* A byte-identical copy from another input is the same result
		 * (overlapping partial copies of one run); within one file a
		 * pair is never written twice, so there even a copy is an
		 * error, as summarize says. */
		if (s->line == line && s->input != j->cur) {
			if (x->shard && j->in[s->input].shard)
				return fail_overlap(j, row, s->input, s->lineno);
			j->rep->identical++;
			return 0;
		}
		const char *there = j->in[s->input].results_path;
		size_t first = 0;
		enum res_role role = RES_PRIMARY;
		if (res_find_pair(there, row->item_id, row->model, &first, &role, j->err))
			return -1;
		return res_fail_duplicate(j->err, row->item_id, row->model, row->role,
					  x->results_path, j->lineno, role, there, s->lineno);
	}
	s->key = key;
	s->line = line;
	s->input = j->cur;
	s->lineno = j->lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)j->lineno;
	j->set.n++;
	if (note_item(j, row))
		return -1;
	if (fwrite(row->raw, 1, row->raw_len, j->fp) != row->raw_len || putc('\n', j->fp) == EOF)
		return se_fail_errno(j->err, j->out_path, "write failed");
	mg_counts_add(j->counts, res_status_name(row->status), 1);
	j->rep->lines++;
	return 0;
}

static void warn(const struct mg_opts *o, const char *fmt, ...) SE_PRINTF(2, 3);
static void warn(const struct mg_opts *o, const char *fmt, ...)
{
	if (!o->warn)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("shadoweval merge: warning: ", o->warn);
	vfprintf(o->warn, fmt, ap);
	fputc('\n', o->warn);
	va_end(ap);
}

/* Streams every input into out_path (a .tmp until committed); fills items
 * (the caller frees items->slot). */
static int join_results(const struct mg_input *in, size_t n, const char *out_path,
			const struct mg_opts *o, struct mg_counts *counts, struct seen_set *items,
			struct mg_report *rep, struct se_err *err)
{
	struct join j;
	memset(&j, 0, sizeof(j));
	j.items = items;
	j.out_path = out_path;
	j.in = in;
	j.counts = counts;
	j.rep = rep;
	j.err = err;
	if (fio_replace_begin(out_path, &j.fp, err))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct res_scan_stats st = {0, 0};
		j.cur = (uint32_t)i;
		j.lineno = 0;
		rc = res_scan_samples(in[i].results_path, false, on_row, &j, &st, err);
		if (rc)
			break;
		if (st.torn) {
			rep->torn++;
			warn(o, "%s: skipped a torn last line", in[i].results_path);
		}
	}
	if (rc)
		fio_replace_abort(out_path, j.fp);
	else
		rc = fio_replace_commit(out_path, j.fp, err);
	free(j.set.slot);
	return rc ? -1 : 0;
}

/* OUT/merge.partial: made once OUT is known to be new or empty, removed as
 * the merge's last step. A merge killed midway (or one whose summaries
 * failed) leaves it beside what it wrote, and the next merge into OUT
 * clears those files and starts over. */
#define MG_PARTIAL "merge.partial"

/* Removes every regular file of OUT but run.lock: what a merge that did not
 * finish wrote there (its marker says OUT held nothing else then). */
static int clear_partial(const char *out, struct se_err *err)
{
	DIR *d = opendir(out);
	if (!d)
		return se_fail_errno(err, out, "cannot read output folder");
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "run.lock") || !strcmp(e->d_name, MG_PARTIAL))
			continue;
		char *p = fio_join(out, e->d_name);
		if (unlink(p) != 0 && errno != ENOENT)
			rc = errno == EISDIR
				 ? se_fail(err, SE_INPUT, out,
					   "output folder has a subfolder (%s); merge "
					   "writes into a new or empty folder",
					   e->d_name)
				 : se_fail_errno(err, p,
						 "cannot remove what an unfinished merge left");
		free(p);
	}
	closedir(d);
	return rc;
}

/* OUT must not exist (*exists false) or be an empty folder (stale *.tmp
 * files and run.lock aside), or hold merge.partial: then what the
 * unfinished merge wrote is removed. */
static int check_out(const char *out, bool *exists, struct se_err *err)
{
	struct stat st;
	*exists = false;
	if (stat(out, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return se_fail_errno(err, out, "cannot stat output folder");
	}
	*exists = true;
	if (!S_ISDIR(st.st_mode))
		return se_fail(err, SE_INPUT, out, "output exists and is not a folder");
	DIR *d = opendir(out);
	if (!d)
		return se_fail_errno(err, out, "cannot read output folder");
	struct dirent *e;
	bool empty = true, partial = false;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t n = strlen(e->d_name);
		/* "NAME.tmp": an atomic write cut short (SIGKILL, power loss) left
		 * it; it holds no result, and the next write of NAME truncates it */
		bool stale_tmp = n > 4 && !strcmp(e->d_name + n - 4, ".tmp");
		/* run.lock: merge's own lock on OUT (cli/runlock.h), or one a
		 * run or merge left behind; it holds no result */
		bool lock = !strcmp(e->d_name, "run.lock");
		if (!strcmp(e->d_name, MG_PARTIAL))
			partial = true;
		else if (!stale_tmp && !lock)
			empty = false;
	}
	closedir(d);
	if (partial)
		return clear_partial(out, err);
	if (!empty)
		return se_fail(err, SE_INPUT, out,
			       "output folder already has results (or other files); merge writes "
			       "into a new or empty folder");
	return 0;
}

/* The same folder twice would collapse into itself silently. */
static int check_distinct(const char *const *dirs, size_t n, struct se_err *err)
{
	struct stat *st = xcalloc(n, sizeof(*st));
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (stat(dirs[i], &st[i]) != 0) {
			rc = errno == ENOENT ? se_fail(err, SE_INPUT, dirs[i], "no such folder")
					     : se_fail_errno(err, dirs[i], "cannot stat folder");
			break;
		}
		if (!S_ISDIR(st[i].st_mode)) {
			rc = se_fail(err, SE_INPUT, dirs[i], "not a folder");
			break;
		}
		for (size_t k = 0; k < i; k++) {
			if (st[k].st_dev == st[i].st_dev && st[k].st_ino == st[i].st_ino) {
				rc = se_fail(err, SE_USAGE, dirs[i],
					     "folder given twice (as \"%s\")", dirs[k]);
				break;
			}
		}
	}
	free(st);
	return rc;
}

/* A merge of shards lists the dataset items no input holds in list (ids,
 * the first 20) and counts them in *missing_items: -1 when not checked (no
 * input is a shard, or the dataset cannot be read as the shards read it:
 * warned, with the reason). A held item the dataset does not have is
 * SE_INPUT naming its first line. 0, or -1 with err. */
static int check_items(const struct mg_input *in, size_t n, struct seen_set *items,
		       const struct mg_opts *o, struct buf *list, long *missing_items,
		       struct se_err *err)
{
	*missing_items = -1;
	bool sharded = false;
	for (size_t i = 0; i < n; i++)
		sharded = sharded || in[i].shard;
	if (!sharded)
		return 0;
	struct buf why;
	buf_init(&why);
	size_t missing = 0;
	if (mg_missing_items(&in[0], has_item, items, &missing, list, &why)) {
		warn(o, "cannot list the dataset items no shard holds: %s", why.data);
		buf_free(&why);
		return 0;
	}
	buf_free(&why);
	*missing_items = (long)missing;
	/* a line for an item the dataset does not have: the dataset is the
	 * manifests' (same SHA-256), so the file was added to by hand */
	for (size_t k = 0; k < items->size; k++) {
		const struct seen *it = &items->slot[k];
		if (!it->key || it->line)
			continue;
		char where[600];
		snprintf(where, sizeof(where), "%s:%u", in[it->input].results_path, it->lineno);
		return se_fail(
		    err, SE_INPUT, where,
		    "this line's item is not in the run's dataset (the manifests' "
		    "dataset, unchanged since): results of other items cannot be merged");
	}
	return 0;
}

/* An incomplete shard set (a shard or an item missing) is an error unless
 * --allow-partial asked for what is there; then each is a warning. */
static int check_partial(const struct mg_opts *o, const struct mg_report *rep,
			 const struct buf *shards, const struct buf *items, struct se_err *err)
{
	if (!rep->missing && !rep->missing_items)
		return 0;
	char sh[600] = "", it[1600] = "";
	if (rep->missing)
		snprintf(sh, sizeof(sh), "%zu missing shard%s: %s", rep->missing,
			 rep->missing > 1 ? "s" : "", shards->data);
	if (rep->missing_items)
		snprintf(it, sizeof(it), "%zu item%s of the dataset in no shard: %s",
			 rep->missing_items, rep->missing_items > 1 ? "s" : "", items->data);
	if (o->allow_partial) {
		if (sh[0])
			warn(o, "%s", sh);
		if (it[0])
			warn(o, "%s", it);
		return 0;
	}
	return se_fail(err, SE_INPUT, NULL,
		       "incomplete shard set: %s%s%s (merge every shard, or pass --allow-partial "
		       "to merge what is there: the manifest then says it is partial)",
		       sh, sh[0] && it[0] ? "; " : "", it);
}

int mg_merge(const char *const *dirs, size_t n, const char *out, const struct mg_opts *opts,
	     struct mg_report *report, struct se_err *err)
{
	static const struct mg_opts no_opts = {NULL, NULL, false};
	const struct mg_opts *o = opts ? opts : &no_opts;
	struct mg_report local;
	struct mg_report *rep = report ? report : &local;
	memset(rep, 0, sizeof(*rep));
	if (n == 0)
		return se_fail(err, SE_USAGE, NULL, "expected at least one run folder DIR");
	rep->inputs = n;

	struct mg_input *in = xcalloc(n, sizeof(*in));
	for (size_t i = 0; i < n; i++)
		in[i].dir = dirs[i];
	struct mg_counts counts;
	mg_counts_init(&counts);
	struct buf missing, item_list;
	buf_init(&missing);
	buf_init(&item_list);
	struct seen_set items = {NULL, 0, 0};
	char *res_path = fio_join(out, "results.jsonl");
	char *marker = fio_join(out, MG_PARTIAL);
	bool out_existed = false, wrote = false;
	int rc = -1;

	if (check_distinct(dirs, n, err) || check_out(out, &out_existed, err))
		goto out;
	if (mg_inputs_load(in, n, &counts, &rep->missing, &missing, err))
		goto out;
	bool complete = rep->missing == 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i].status && !strcmp(in[i].status, "complete"))
			continue;
		warn(o, "%s: run status is \"%s\", not \"complete\"", in[i].dir,
		     in[i].status ? in[i].status : "unknown");
		complete = false;
	}
	rep->complete = complete;

	if (fio_mkdirs(out, err))
		goto out;
	wrote = true;
	if (fio_write_atomic(marker, "", 0, err))
		goto out;
	if (join_results(in, n, res_path, o, &counts, &items, rep, err))
		goto out;
	long missing_items;
	if (check_items(in, n, &items, o, &item_list, &missing_items, err))
		goto out;
	rep->missing_items = missing_items > 0 ? (size_t)missing_items : 0;
	if (rep->missing_items)
		complete = rep->complete = false;
	if (check_partial(o, rep, &missing, &item_list, err))
		goto out;
	if (mg_manifest_write(out, in, n, &counts, rep->lines, complete ? "complete" : "incomplete",
			      rep->missing ? missing.data : NULL, missing_items,
			      o->allow_partial && (rep->missing || rep->missing_items), err))
		goto out;
	wrote = false; /* from here on a failure leaves the merged run in place */
	if (sum_run_dir(out, o->table, err))
		goto out; /* and the marker: the next merge into OUT starts over */
	if (unlink(marker) != 0 && errno != ENOENT) {
		se_fail_errno(err, marker, "cannot remove the merge's marker");
		goto out;
	}
	rc = 0;
out:
	if (rc && wrote) {
		char *mp = fio_join(out, "manifest.json");
		unlink(mp);
		unlink(res_path);
		unlink(marker);
		free(mp);
		if (!out_existed)
			rmdir(out);
	}
	free(marker);
	free(res_path);
	free(items.slot);
	buf_free(&missing);
	buf_free(&item_list);
	mg_counts_free(&counts);
	mg_inputs_free(in, n);
	free(in);
	return rc;
}
