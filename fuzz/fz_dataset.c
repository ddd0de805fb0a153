/* fz_dataset.c: the item loop shared by fz_jsonl and fz_csv: opens the input
 * as a dataset, reads every item (with and without a required prompt, and
 * with an expected-answer regex on every other run), and reads the fields a
 * template or a metadata rule would. */
#include "fz_dataset.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dataset/dataset.h"
#include "fz_util.h"

void fz_dataset(const char *format, const uint8_t *data, size_t size)
{
	static unsigned runs;
	runs++;
	const char *path =
	    fz_write(strcmp(format, "csv") ? "items.jsonl" : "items.csv", data, size);
	struct cfg_dataset d = {
	    .path = (char *)path,
	    .format = (char *)format,
	    .expected_field = runs & 2 ? "answer" : NULL,
	    .expected_regex = runs & 1 ? "####\\s*(.+)$" : NULL,
	};
	struct ds_reader *r = NULL;
	struct se_err err;
	se_clear(&err);
	if (ds_open(&r, &d, &err)) {
		if (!err.where[0] || !err.msg[0])
			abort();
		return;
	}
	ds_set_require_prompt(r, runs & 4);
	struct ds_item it = {0};
	char tmp[64], hex[65];
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1) {
		size_t n = strlen(it.id) + strlen(it.task);
		for (size_t i = 0; i < it.n_expected; i++)
			n += strlen(it.expected[i]);
		const char *f = ds_field(&it, "prompt", tmp, sizeof(tmp));
		n += f ? strlen(f) : 0;
		f = ds_field(&it, "metadata.tier", tmp, sizeof(tmp));
		n += f ? strlen(f) : 0;
		(void)n;
		(void)ds_fraction_read(r);
	}
	if (rc < 0 && (!err.where[0] || !err.msg[0]))
		abort();
	ds_sha256_hex(r, hex);
	ds_item_clear(&it);
	ds_close(r);
}
