/* mg_items.c: the dataset items that no merged shard holds ("missing
 * items"), listed by id, so a merge of shards says which items a rerun must
 * cover (an interrupted shard, a shard run with --limit, a lost artifact).
 *
 * The dataset is read through the config the first manifest names (its path
 * as recorded, from the folder merge runs in), and only when that config and
 * its dataset still have the manifest's SHA-256: other bytes would describe
 * other items. When they cannot be read or differ, the check is skipped and
 * the caller warns with the reason; it never fails the merge.
 *
 * Not here: which items the inputs hold (merge.c keeps that set).
 */
#include <string.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/jsonr.h"
#include "dataset/dataset.h"
#include "merge/mg_int.h"

#define MG_LIST_IDS 20 /* ids named in the list; the count says the rest */

int mg_missing_items(const struct mg_input *first, mg_has_item_fn has, void *ctx, size_t *missing,
		     struct buf *list, struct buf *why)
{
	*missing = 0;
	const char *cpath = jsonr_str(first->man, "config");
	struct cfg *cfg = NULL;
	struct ds_reader *ds = NULL;
	struct se_err err;
	se_clear(&err);
	char sha[65];
	int rc = 1;
	if (!cpath) {
		buf_puts(why, "the manifest names no config");
		return 1;
	}
	if (cfg_load(cpath, &cfg, &err)) {
		buf_printf(why, "%s%s%s", err.where, err.where[0] ? ": " : "", err.msg);
		return 1;
	}
	if (strcmp(cfg->sha256, first->config_sha256)) {
		buf_printf(why, "%s changed since the shards ran", cpath);
		goto out;
	}
	if (fio_sha256_file(cfg->dataset.path, sha, &err)) {
		buf_printf(why, "%s: %s", err.where, err.msg);
		goto out;
	}
	if (strcmp(sha, first->dataset_sha256)) {
		buf_printf(why, "%s changed since the shards ran", cfg->dataset.path);
		goto out;
	}
	if (ds_open_cfg(&ds, cfg, &err)) {
		buf_printf(why, "%s: %s", err.where, err.msg);
		goto out;
	}
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	int r;
	while ((r = ds_next(ds, &it, &err)) > 0) {
		if (has(ctx, it.id))
			continue;
		if (*missing < MG_LIST_IDS)
			buf_printf(list, "%s\"%s\"", *missing ? ", " : "", it.id);
		else if (*missing == MG_LIST_IDS)
			buf_puts(list, ", ...");
		(*missing)++;
	}
	ds_item_clear(&it);
	if (r < 0) {
		buf_reset(list);
		*missing = 0;
		buf_printf(why, "%s: %s", err.where, err.msg);
		goto out;
	}
	rc = 0;
out:
	ds_close(ds);
	cfg_free(cfg);
	return rc;
}
