/* test_shard.c: src/shard/: which shard an item belongs to (hash and index
 * schemes), the K/N parser, and how --shard-limits split divides an
 * endpoint's limits.
 *
 * The hash vectors were computed outside this code (Python:
 * int(hashlib.sha256(id.encode()).hexdigest()[:16], 16) % n + 1), since the
 * README documents the scheme for other tools to recompute.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/fileio.h"
#include "dataset/dataset.h"
#include "shard/scope.h"
#include "shard/shard.h"
#include "support/files.h"

Test(shard, hash_scheme_matches_the_documented_formula)
{
	cr_expect_eq(shd_of(SHD_HASH, "q01", 0, 4), 1);
	cr_expect_eq(shd_of(SHD_HASH, "q02", 1, 4), 2);
	cr_expect_eq(shd_of(SHD_HASH, "q20", 19, 4), 2);
	cr_expect_eq(shd_of(SHD_HASH, "item-42", 41, 1000), 592);
	cr_expect_eq(shd_of(SHD_HASH, "", 5, 7), 2);
	cr_expect_eq(shd_of(SHD_HASH, "\xc3\xa9", 0, 3), 1); /* UTF-8 bytes, as read */
}

/* The point of hashing: an item's shard follows its id, not its place. */
Test(shard, hash_scheme_ignores_the_index_and_index_scheme_uses_only_it)
{
	char id[32];
	for (size_t i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "item-%zu", i);
		long k = shd_of(SHD_HASH, id, i, 5);
		cr_assert(k >= 1 && k <= 5);
		cr_assert_eq(shd_of(SHD_HASH, id, i + 1, 5), k, "%s moved with its index", id);
		cr_assert_eq(shd_of(SHD_INDEX, id, i, 5), (long)(i % 5) + 1);
		cr_assert_eq(shd_of(SHD_INDEX, "other", i, 5), (long)(i % 5) + 1);
	}
	cr_expect_eq(shd_of(SHD_HASH, "anything", 3, 1), 1);
}

/* Not a speed or balance claim: a scheme that sent everything to one shard
 * (a bug in the byte order, a modulo of a constant) fails this. */
Test(shard, hash_scheme_uses_every_shard)
{
	size_t seen[8] = {0};
	char id[32];
	for (size_t i = 0; i < 800; i++) {
		snprintf(id, sizeof(id), "row%zu", i);
		seen[shd_of(SHD_HASH, id, i, 8) - 1]++;
	}
	for (int k = 0; k < 8; k++)
		cr_expect_gt(seen[k], 50, "shard %d of 8 got %zu of 800 items", k + 1, seen[k]);
}

Test(shard, parses_k_of_n_and_refuses_anything_else)
{
	long k = 0, n = 0;
	cr_assert_eq(shd_parse("3/4", &k, &n), 0);
	cr_expect_eq(k, 3);
	cr_expect_eq(n, 4);
	cr_assert_eq(shd_parse("1/1000000", &k, &n), 0);
	cr_expect_eq(n, 1000000);
	static const char *const bad[] = {
	    "",	    "1",    "1/",   "/2",   "0/2",  "3/2",  "1/0",	 " 1/2",	 "+1/2",
	    "1/ 2", "1/2 ", "1/2x", "-1/2", "1/-2", "1//2", "1/1000001", "1/99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(shd_parse(bad[i], &k, &n), -1, "\"%s\" was accepted", bad[i]);
}

Test(shard, scheme_and_limits_names_round_trip)
{
	enum shd_scheme s;
	enum shd_limits l;
	cr_assert_eq(shd_scheme_parse("index", &s), 0);
	cr_expect_str_eq(shd_scheme_name(s), "index");
	cr_assert_eq(shd_scheme_parse("hash", &s), 0);
	cr_expect_str_eq(shd_scheme_name(s), "hash");
	cr_expect_eq(shd_scheme_parse("Hash", &s), -1);
	cr_assert_eq(shd_limits_parse("whole", &l), 0);
	cr_expect_str_eq(shd_limits_name(l), "whole");
	cr_assert_eq(shd_limits_parse("split", &l), 0);
	cr_expect_str_eq(shd_limits_name(l), "split");
	cr_expect_eq(shd_limits_parse("half", &l), -1);
}

Test(shard, split_rounds_down_never_below_one_and_keeps_unlimited)
{
	cr_expect_eq(shd_split(600, 4), 150);
	cr_expect_eq(shd_split(10, 4), 2); /* 2.5 rounded down: 4 x 2 <= 10 */
	cr_expect_eq(shd_split(3, 4), 1);  /* never 0, which would mean unlimited */
	cr_expect_eq(shd_split(0, 4), 0);  /* unlimited stays unlimited */
	cr_expect_eq(shd_split(7, 1), 7);
	cr_expect_eq(shd_split(7, 0), 7);
}

Test(shard, split_limits_divides_every_endpoint)
{
	struct cfg_endpoint eps[2];
	memset(eps, 0, sizeof(eps));
	eps[0].rpm = 600;
	eps[0].max_concurrency = 8;
	eps[1].rpm = 0;
	eps[1].max_concurrency = 3;
	struct cfg c;
	memset(&c, 0, sizeof(c));
	c.endpoints = eps;
	c.n_endpoints = 2;
	shd_split_limits(&c, 4);
	cr_expect_eq(eps[0].rpm, 150);
	cr_expect_eq(eps[0].max_concurrency, 2);
	cr_expect_eq(eps[1].rpm, 0);
	cr_expect_eq(eps[1].max_concurrency, 1);
	shd_split_limits(&c, 1); /* one shard: the limits as they are */
	cr_expect_eq(eps[0].rpm, 150);
}

/* The scope a run covers: its shard's items, then the first --limit of
 * those (the limit counts in-scope items, not dataset lines). */
static int scope_ids(enum shd_scheme by, long k, long n, long limit, int *ids, int max)
{
	char *dir = test_mkdtemp("scope");
	char *path = fio_join(dir, "items.jsonl");
	char text[2048] = "";
	for (int i = 0; i < 12; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "{\"id\":\"i%d\",\"prompt\":\"p\",\"expected\":\"e\"}\n", i);
	test_write_file(path, text);
	struct cfg_dataset d = {.path = path};
	struct ds_reader *rd = NULL;
	struct se_err err = {0};
	cr_assert_eq(ds_open(&rd, &d, &err), 0, "%s", err.msg);
	struct shd_scope sc = shd_scope_make(by, k, n, limit);
	struct ds_item it = {0};
	int got = 0, r;
	while ((r = shd_scope_next(&sc, rd, &it, &err)) == 1 && got < max)
		ids[got++] = atoi(it.id + 1);
	cr_assert_geq(r, 0, "%s", err.msg);
	cr_assert_eq(sc.taken, (size_t)got);
	ds_item_clear(&it);
	ds_close(rd);
	free(path);
	test_rmtree(dir);
	return got;
}

Test(shard, a_scope_is_the_shard_then_the_first_limit_of_it)
{
	int ids[16];
	cr_assert_eq(scope_ids(SHD_INDEX, 2, 3, -1, ids, 16), 4);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(ids[i], 1 + 3 * i, "item %d of shard 2/3 is i%d", i, ids[i]);
	cr_assert_eq(scope_ids(SHD_INDEX, 2, 3, 2, ids, 16), 2);
	cr_expect(ids[0] == 1 && ids[1] == 4, "--limit 2 of shard 2/3: i%d, i%d", ids[0], ids[1]);
	cr_assert_eq(scope_ids(SHD_INDEX, 1, 0, 5, ids, 16), 5, "no shard: the first 5");
	cr_expect_eq(ids[4], 4);
	cr_assert_eq(scope_ids(SHD_HASH, 1, 1, 0, ids, 16), 0, "--limit 0 takes nothing");
}
