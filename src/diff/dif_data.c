/* dif_data.c: the prompt's start and the expected answers of the items diff
 * prints. results.jsonl holds neither, so they come from the dataset the run
 * folder's manifest names: through the eval config when it still loads (its
 * prompt template, system text and expected field apply), else from the
 * dataset file alone (its "prompt" or last user message, its "expected").
 *
 * The dataset is streamed once per batch of printed items and only those
 * items' snippets are kept (at most DIF_SNIP_MAX bytes each), so memory
 * follows the batch, not the dataset. Not here: deciding which items to print.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/jsonr.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "diff/diff.h"
#include "manifest/manifest.h"
#include "prompt/prompt.h"

struct dif_ds {
	struct cfg *cfg;	 /* NULL: the manifest's dataset path alone */
	struct cfg_dataset only; /* used when cfg is NULL */
	char sha256[65];	 /* from the manifest, "" when absent */
	bool warned_changed;
};

static char *why_dup(const struct se_err *e)
{
	struct buf b;
	buf_init(&b);
	if (e->where[0])
		buf_printf(&b, "%s: ", e->where);
	buf_puts(&b, e->msg);
	return buf_detach(&b, NULL);
}

struct dif_ds *dif_ds_open(const char *dir, char **why)
{
	*why = NULL;
	struct se_err err;
	se_clear(&err);
	char *path = fio_join(dir, "manifest.json");
	char *data = NULL;
	size_t len = 0;
	if (fio_read_all(path, &data, &len, &err)) {
		free(path);
		*why = why_dup(&err);
		return NULL;
	}
	cJSON *m = cJSON_ParseWithLength(data, len);
	free(data);
	struct dif_ds *d = NULL;
	if (m && man_check(m, path, &err)) { /* the rules every manifest reader applies */
		*why = why_dup(&err);
		goto out;
	}
	const char *config = jsonr_str(m, "config"), *dataset = jsonr_str(m, "dataset");
	const char *sha = jsonr_str(m, "dataset_sha256");
	if (!config && !dataset) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "%s: names no dataset", path);
		*why = buf_detach(&b, NULL);
		goto out;
	}
	d = xcalloc(1, sizeof(*d));
	snprintf(d->sha256, sizeof(d->sha256), "%s", sha ? sha : "");
	if (config && cfg_load(config, &d->cfg, &err) == 0)
		goto check;
	d->cfg = NULL;
	if (!dataset) {
		*why = why_dup(&err);
		free(d);
		d = NULL;
		goto out;
	}
	d->only.path = xstrdup(dataset);
check:
	/* The dataset as it is now must be the one the run read: an item's
	 * prompt and expected answers shown from another version would be
	 * wrong without a sign. The whole file is hashed as run hashed it. */
	if (d->sha256[0]) {
		const char *ds_path = d->cfg ? d->cfg->dataset.path : d->only.path;
		char hex[65];
		struct buf b;
		buf_init(&b);
		if (fio_sha256_file(ds_path, hex, &err))
			*why = why_dup(&err);
		else if (strcmp(hex, d->sha256)) {
			buf_printf(&b,
				   "%s: changed since the run (SHA-256 %.12s..., the manifest's "
				   "%.12s...)",
				   ds_path, hex, d->sha256);
			*why = buf_detach(&b, NULL);
		}
		if (*why) {
			dif_ds_free(d);
			d = NULL;
		}
	}
out:
	cJSON_Delete(m);
	free(path);
	return d;
}

void dif_ds_free(struct dif_ds *d)
{
	if (!d)
		return;
	cfg_free(d->cfg);
	free(d->only.path);
	free(d);
}

void dif_snip_clear(struct dif_snip *s)
{
	free(s->prompt);
	free(s->expected);
	s->prompt = s->expected = NULL;
}

/* At most DIF_SNIP_MAX bytes of s, not cutting a UTF-8 sequence, "..." when
 * cut. */
static char *snip(const char *s, size_t n)
{
	if (n <= DIF_SNIP_MAX)
		return xstrndup(s, n);
	size_t cut = DIF_SNIP_MAX;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	char *out = xmalloc(cut + 4);
	memcpy(out, s, cut);
	memcpy(out + cut, "...", 4);
	return out;
}

/* The text of the last user message of an array of chat messages. */
static void last_user_text(const cJSON *msgs, struct buf *b)
{
	const cJSON *last = NULL, *m;
	cJSON_ArrayForEach(m, msgs)
	{
		const char *role = jsonr_str(m, "role");
		if (role && !strcmp(role, "user"))
			last = m;
	}
	if (!last)
		return;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(last, "content");
	if (cJSON_IsString(c)) {
		buf_puts(b, c->valuestring);
		return;
	}
	const cJSON *part;
	cJSON_ArrayForEach(part, c)
	{
		const char *t = jsonr_str(part, "text");
		if (!t)
			continue;
		if (b->len)
			buf_putc(b, ' ');
		buf_puts(b, t);
	}
}

static void fill(struct dif_ds *d, const struct ds_item *it, struct dif_snip *s, struct buf *tmp)
{
	buf_reset(tmp);
	if (d->cfg) {
		struct buf msgs;
		buf_init(&msgs);
		long est = 0;
		struct se_err err;
		se_clear(&err);
		if (prompt_render(d->cfg, it, &msgs, &est, &err) == 0) {
			cJSON *a = cJSON_ParseWithLength(msgs.data, msgs.len);
			last_user_text(a, tmp);
			cJSON_Delete(a);
		}
		buf_free(&msgs);
	} else {
		const char *p = jsonr_str(it->obj, "prompt");
		if (p)
			buf_puts(tmp, p);
		else
			last_user_text(cJSON_GetObjectItemCaseSensitive(it->obj, "messages"), tmp);
	}
	free(s->prompt);
	s->prompt = snip(tmp->data, tmp->len);
	buf_reset(tmp);
	for (size_t i = 0; i < it->n_expected; i++) {
		if (i)
			buf_puts(tmp, " | ");
		buf_puts(tmp, it->expected[i]);
	}
	free(s->expected);
	s->expected = it->n_expected ? snip(tmp->data, tmp->len) : NULL;
}

static int cmp_snip(const void *a, const void *b)
{
	const struct dif_snip *const *x = a, *const *y = b;
	return strcmp((*x)->id, (*y)->id);
}

int dif_ds_fetch(struct dif_ds *d, struct dif_snip *s, size_t n, char **why)
{
	*why = NULL;
	if (n == 0)
		return 0;
	struct dif_snip **by_id = xmalloc(n * sizeof(*by_id));
	for (size_t i = 0; i < n; i++)
		by_id[i] = &s[i];
	qsort(by_id, n, sizeof(*by_id), cmp_snip);
	struct se_err err;
	se_clear(&err);
	struct ds_reader *r = NULL;
	int rc = d->cfg ? ds_open_cfg(&r, d->cfg, &err) : ds_open(&r, &d->only, &err);
	if (rc == 0 && !d->cfg)
		ds_set_require_prompt(r, false);
	struct ds_item it = {0};
	struct buf tmp;
	buf_init(&tmp);
	size_t found = 0;
	while (rc == 0 && found < n) {
		int got = ds_next(r, &it, &err);
		if (got < 0)
			rc = -1;
		if (got <= 0)
			break;
		struct dif_snip key = {.id = it.id}, *kp = &key;
		struct dif_snip **hit = bsearch(&kp, by_id, n, sizeof(*by_id), cmp_snip);
		if (!hit)
			continue;
		/* the same id twice in a batch: fill each */
		while (hit > by_id && !strcmp(hit[-1]->id, it.id))
			hit--;
		for (; hit < by_id + n && !strcmp((*hit)->id, it.id); hit++) {
			if (!(*hit)->prompt)
				found++;
			fill(d, &it, *hit, &tmp);
		}
	}
	if (rc == 0 && found < n && d->sha256[0]) {
		char hex[65];
		ds_sha256_hex(r, hex);
		if (strcmp(hex, d->sha256) && !d->warned_changed) {
			d->warned_changed = true;
			struct buf b;
			buf_init(&b);
			buf_printf(
			    &b, "%s: changed since the run (SHA-256 differs from the manifest's)",
			    d->cfg ? d->cfg->dataset.path : d->only.path);
			*why = buf_detach(&b, NULL);
		}
	}
	if (rc)
		*why = why_dup(&err);
	ds_item_clear(&it);
	if (r)
		ds_close(r);
	buf_free(&tmp);
	free(by_id);
	return rc;
}

void dif_batch_free(struct dif_line *la, struct dif_line *lb, struct dif_snip *sn, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dif_line_free(&la[i]);
		dif_line_free(&lb[i]);
		dif_snip_clear(&sn[i]);
	}
	free(la);
	free(lb);
	free(sn);
}
