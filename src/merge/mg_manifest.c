/* mg_manifest.c: the inputs' manifest.json files, read (cJSON), checked
 * against each other, and combined into the merged run's manifest, which is
 * written by the manifest module (man_write) from a struct cfg rebuilt out of
 * the first manifest's identity fields (name, config, hash, slots, shadows).
 *
 * Not here: the results lines (merge.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/jsonr.h"
#include "core/xalloc.h"
#include "merge/mg_int.h"
#include "shard/shard.h"

void mg_counts_init(struct mg_counts *c)
{
	memset(c, 0, sizeof(*c));
}

void mg_counts_free(struct mg_counts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->st);
	memset(c, 0, sizeof(*c));
}

void mg_counts_add(struct mg_counts *c, const char *status, size_t k)
{
	if (!status)
		status = "null";
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->names[i], status)) {
			c->st[i].n += k;
			return;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap;
		c->names = xgrow(c->names, &cap, c->n + 1, sizeof(*c->names));
		c->st = xgrow(c->st, &c->cap, c->n + 1, sizeof(*c->st));
	}
	c->names[c->n] = xstrdup(status);
	c->st[c->n].name = c->names[c->n];
	c->st[c->n].n = k;
	c->n++;
}

/* shard "K/N" (N at most SHD_MAX_N: refused before allocating) and its
 * scheme, "index" when the manifest predates shard_by. */
static int parse_shard(struct mg_input *x, struct se_err *err)
{
	if (shd_parse(x->shard, &x->shard_k, &x->shard_n))
		return se_fail(err, SE_INPUT, x->manifest_path,
			       "shard: expected \"K/N\", got \"%s\"", x->shard);
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(x->man, "shard_by");
	enum shd_scheme scheme;
	if (cJSON_IsString(by) && shd_scheme_parse(by->valuestring, &scheme))
		return se_fail(err, SE_INPUT, x->manifest_path,
			       "shard_by: expected \"hash\" or \"index\", got \"%s\"",
			       by->valuestring);
	if (by && !cJSON_IsNull(by) && !cJSON_IsString(by))
		return se_fail(err, SE_INPUT, x->manifest_path,
			       "shard_by: expected \"hash\" or \"index\"");
	x->shard_by = cJSON_IsString(by) ? by->valuestring : "index";
	return 0;
}

static int load_one(struct mg_input *x, struct se_err *err)
{
	x->manifest_path = fio_join(x->dir, "manifest.json");
	x->results_path = fio_join(x->dir, "results.jsonl");
	if (access(x->manifest_path, F_OK) != 0)
		return se_fail(err, SE_INPUT, x->dir, "not a run folder: no manifest.json");
	if (access(x->results_path, F_OK) != 0)
		return se_fail(err, SE_INPUT, x->dir, "not a run folder: no results.jsonl");
	/* every field merge reads is checked by the manifest module's rules */
	x->man = man_load(x->dir, err);
	if (!x->man)
		return -1;
	x->eval = jsonr_str(x->man, "eval");
	x->config_sha256 = jsonr_str(x->man, "config_sha256");
	x->dataset_sha256 = jsonr_str(x->man, "dataset_sha256");
	if (!x->eval || !x->config_sha256 || !x->dataset_sha256)
		return se_fail(err, SE_INPUT, x->manifest_path,
			       "not a shadoweval manifest (eval, config_sha256 or dataset_sha256 "
			       "missing)");
	x->status = jsonr_str(x->man, "status");
	x->shard = jsonr_str(x->man, "shard");
	if (x->shard && parse_shard(x, err))
		return -1;
	return 0;
}

static int same(const struct mg_input *a, const struct mg_input *b, const char *field,
		const char *va, const char *vb, struct se_err *err)
{
	if (!strcmp(va, vb))
		return 0;
	return se_fail(err, SE_INPUT, b->dir,
		       "%s \"%.16s%s\" differs from \"%.16s%s\" in \"%s\": not the same eval run",
		       field, vb, strlen(vb) > 16 ? "..." : "", va, strlen(va) > 16 ? "..." : "",
		       a->dir);
}

/* Shards: one N for all sharded inputs, each K at most once; the Ks no input
 * holds are counted and listed. */
static int check_shards(const struct mg_input *in, size_t n, size_t *missing, struct buf *list,
			struct se_err *err)
{
	const struct mg_input *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].shard)
			continue;
		if (!first) {
			first = &in[i];
			continue;
		}
		if (in[i].shard_n != first->shard_n)
			return se_fail(
			    err, SE_INPUT, in[i].dir,
			    "shard \"%s\" is one of %ld but \"%s\" is shard \"%s\" of %ld",
			    in[i].shard, in[i].shard_n, first->dir, first->shard, first->shard_n);
		if (strcmp(in[i].shard_by, first->shard_by))
			return se_fail(err, SE_INPUT, in[i].dir,
				       "shards by %s, but \"%s\" shards by %s: the schemes put "
				       "items in other shards, so they cannot be merged (run "
				       "every shard with the same --shard-by)",
				       in[i].shard_by, first->dir, first->shard_by);
	}
	*missing = 0;
	if (!first)
		return 0;
	const struct mg_input **holder = xcalloc((size_t)first->shard_n + 1, sizeof(*holder));
	for (size_t i = 0; i < n; i++) {
		if (!in[i].shard)
			continue;
		const struct mg_input *prev = holder[in[i].shard_k];
		if (prev) {
			free(holder);
			return se_fail(err, SE_INPUT, in[i].dir,
				       "shard \"%s\" is given twice (also \"%s\")", in[i].shard,
				       prev->dir);
		}
		holder[in[i].shard_k] = &in[i];
	}
	for (long k = 1; k <= first->shard_n; k++) {
		if (holder[k])
			continue;
		if (*missing < 20)
			buf_printf(list, "%s%ld/%ld", *missing ? ", " : "", k, first->shard_n);
		else if (*missing == 20)
			buf_puts(list, ", ...");
		(*missing)++;
	}
	free(holder);
	return 0;
}

/* *total += counts.key of x (man_check let it through: whole, or finite
 * money, from 0 to 2^53); SE_INPUT naming x's manifest and the field when
 * the sum over the inputs passes 2^53, which no manifest may hold. */
static int sum(const struct mg_input *x, const cJSON *counts, const char *key, double *total,
	       struct se_err *err)
{
	*total += jsonr_num(counts, key, 0);
	if (*total <= MAN_COUNT_MAX)
		return 0;
	return se_fail(err, SE_INPUT, x->manifest_path,
		       "counts.%s: the inputs' sum passes 2^53 here (%.17g): not a real count", key,
		       *total);
}

/* The sums mg_manifest_write makes stay within what a manifest may hold. */
static int check_sums(const struct mg_input *in, size_t n, struct se_err *err)
{
	static const char *const keys[] = {"items", "items_not_run", "requests", "spent_usd"};
	double total[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(in[i].man, "counts");
		for (size_t k = 0; k < 4; k++)
			if (sum(&in[i], c, keys[k], &total[k], err))
				return -1;
	}
	return 0;
}

int mg_inputs_load(struct mg_input *in, size_t n, struct mg_counts *counts, size_t *missing,
		   struct buf *missing_list, struct se_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (load_one(&in[i], err))
			return -1;
		if (i == 0)
			continue;
		if (same(&in[0], &in[i], "eval", in[0].eval, in[i].eval, err) ||
		    same(&in[0], &in[i], "config_sha256", in[0].config_sha256, in[i].config_sha256,
			 err) ||
		    same(&in[0], &in[i], "dataset_sha256", in[0].dataset_sha256,
			 in[i].dataset_sha256, err))
			return -1;
	}
	if (check_sums(in, n, err) || check_shards(in, n, missing, missing_list, err))
		return -1;
	/* The first manifest's status names, in its order, all listed even at 0. */
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(in[0].man, "counts");
	const cJSON *bs = cJSON_GetObjectItemCaseSensitive(c, "by_status");
	const cJSON *e;
	cJSON_ArrayForEach(e, bs)
	{
		if (e->string)
			mg_counts_add(counts, e->string, 0);
	}
	return 0;
}

void mg_inputs_free(struct mg_input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(in[i].manifest_path);
		free(in[i].results_path);
		cJSON_Delete(in[i].man);
	}
}

/* ---- the merged manifest ---- */

static int model_index(struct cfg *c, size_t *cap, const char *id)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (!strcmp(c->models[i].id, id))
			return (int)i;
	c->models = xgrow(c->models, cap, c->n_models + 1, sizeof(*c->models));
	c->models[c->n_models].id = (char *)id;
	c->models[c->n_models].endpoint = 0;
	return (int)c->n_models++;
}

/* The identity fields man_write takes from a config, rebuilt from a manifest
 * (slots {name: model}, shadows "all-slots" or [model]). Strings point into
 * the manifest; free with cfg_shell_free. */
static void cfg_shell(struct cfg *c, const struct mg_input *x)
{
	size_t mcap = 0;
	memset(c, 0, sizeof(*c));
	c->name = (char *)x->eval;
	c->path = (char *)jsonr_str(x->man, "config");
	snprintf(c->sha256, sizeof(c->sha256), "%s", x->config_sha256);
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(x->man, "slots");
	const cJSON *e;
	size_t ns = 0;
	cJSON_ArrayForEach(e, slots)
	{
		if (e->string && cJSON_IsString(e))
			ns++;
	}
	c->slots = xcalloc(ns + 1, sizeof(*c->slots));
	cJSON_ArrayForEach(e, slots)
	{
		if (!e->string || !cJSON_IsString(e))
			continue;
		c->slots[c->n_slots].name = e->string;
		c->slots[c->n_slots].model = model_index(c, &mcap, e->valuestring);
		c->n_slots++;
	}
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(x->man, "shadows");
	if (cJSON_IsString(sh) && !strcmp(sh->valuestring, "all-slots")) {
		c->shadow_all_slots = true;
		return;
	}
	c->shadows = xcalloc((size_t)cJSON_GetArraySize(sh) + 1, sizeof(*c->shadows));
	cJSON_ArrayForEach(e, sh)
	{
		if (cJSON_IsString(e))
			c->shadows[c->n_shadows++] = model_index(c, &mcap, e->valuestring);
	}
}

static void cfg_shell_free(struct cfg *c)
{
	free(c->models);
	free(c->slots);
	free(c->shadows);
}

int mg_manifest_write(const char *out, const struct mg_input *in, size_t n,
		      const struct mg_counts *counts, size_t lines, const char *status,
		      const char *missing_shards, long missing_items, bool allow_partial,
		      struct se_err *err)
{
	struct cfg shell;
	cfg_shell(&shell, &in[0]);
	struct man_info mi;
	memset(&mi, 0, sizeof(mi));
	mi.cfg = &shell;
	mi.dataset_path = jsonr_str(in[0].man, "dataset");
	mi.dataset_sha256 = in[0].dataset_sha256;
	mi.status = status;
	mi.shard = NULL;
	mi.missing_shards = missing_shards;
	mi.missing_items = missing_items;
	mi.allow_partial = allow_partial;
	const char **dirs = xcalloc(n, sizeof(*dirs));
	for (size_t i = 0; i < n; i++)
		dirs[i] = in[i].dir;
	mi.merged_from = dirs;
	mi.n_merged_from = n;
	mi.limit = (long)jsonr_num(in[0].man, "limit", -1);
	mi.cache_mode = jsonr_str(in[0].man, "cache");
	for (size_t i = 0; i < n; i++) {
		const cJSON *m = in[i].man;
		const char *s = jsonr_str(m, "started_at");
		if (s && (!mi.started_at[0] || strcmp(s, mi.started_at) < 0))
			snprintf(mi.started_at, sizeof(mi.started_at), "%s", s);
		s = jsonr_str(m, "ended_at");
		if (s && strcmp(s, mi.ended_at) > 0)
			snprintf(mi.ended_at, sizeof(mi.ended_at), "%s", s);
		if ((long)jsonr_num(m, "limit", -1) != mi.limit)
			mi.limit = -1;
		const char *cache = jsonr_str(m, "cache");
		if (cache != mi.cache_mode &&
		    (!cache || !mi.cache_mode || strcmp(cache, mi.cache_mode)))
			mi.cache_mode = "mixed";
		double conc = jsonr_num(m, "concurrency", 0);
		if (conc > mi.concurrency)
			mi.concurrency = (int)conc;
		/* checked by man_check and mg_inputs_load: whole, sums within 2^53 */
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "counts");
		mi.items += (size_t)jsonr_num(c, "items", 0);
		mi.items_not_run += (size_t)jsonr_num(c, "items_not_run", 0);
		mi.requests += (size_t)jsonr_num(c, "requests", 0);
		mi.spent_usd += jsonr_num(c, "spent_usd", 0);
	}
	mi.results_written = lines;
	mi.by_status = counts->st;
	mi.n_status = counts->n;
	int rc = man_write(out, &mi, err);
	free(dirs);
	cfg_shell_free(&shell);
	return rc;
}
