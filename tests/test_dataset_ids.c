/* test_dataset_ids.c: the dataset reader's id fingerprints (src/dataset/
 * ds_ids.c): every repeat found, no false repeat among distinct ones,
 * about 8 bytes per id, and the reader's exact re-check naming the first
 * line of a duplicate far back in a large file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dataset/dataset.h"
#include "dataset/ds_ids.h"
#include "support/files.h"

Test(dataset_ids, finds_every_repeat_and_no_false_one)
{
	struct ds_ids s;
	ds_ids_init(&s);
	char id[32];
	for (int i = 0; i < 200000; i++) {
		snprintf(id, sizeof(id), "item-%d", i);
		cr_assert_not(ds_ids_add(&s, ds_ids_fingerprint(id)), "%s seen before", id);
	}
	cr_assert_eq(ds_ids_count(&s), 200000);
	for (int i = 0; i < 200000; i += 997) {
		snprintf(id, sizeof(id), "item-%d", i);
		cr_assert(ds_ids_add(&s, ds_ids_fingerprint(id)), "%s not found", id);
	}
	/* the sorted array (8 bytes an id) plus a table for the newest ones */
	size_t bytes = s.n_sorted * 8 + s.cap_recent * 8;
	cr_assert_leq(bytes, 200000 * 8 + 200000 / 2 + 16384, "%zu bytes for 200000 ids", bytes);
	ds_ids_free(&s);
}

Test(dataset_ids, names_the_first_line_of_a_duplicate_far_back)
{
	char *dir = test_mkdtemp("dsids");
	char path[600];
	snprintf(path, sizeof(path), "%s/items.jsonl", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "{\"id\": \"q%d\", \"prompt\": \"p\"}\n", i);
	fprintf(f, "{\"id\": \"q7\", \"prompt\": \"again\"}\n");
	cr_assert_eq(fclose(f), 0);
	struct cfg_dataset cd = {.path = path};
	struct ds_reader *r = NULL;
	struct se_err err;
	cr_assert_eq(ds_open(&r, &cd, &err), 0, "%s", err.msg);
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	int got, n = 0;
	while ((got = ds_next(r, &it, &err)) > 0)
		n++;
	cr_assert_eq(got, -1);
	cr_assert_eq(n, 5000);
	cr_assert_str_eq(err.msg, "duplicate id \"q7\" (first at line 8)");
	cr_assert(strstr(err.where, ":5001"), "%s", err.where);
	ds_item_clear(&it);
	ds_close(r);
	remove(path);
	test_rmdir(dir);
}
