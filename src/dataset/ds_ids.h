/* ds_ids.h: the dataset reader's set of item-id fingerprints, to find
 * duplicate ids in one streaming pass at about 6 bytes per item.
 *
 * A fingerprint is 48 bits of a 64-bit hash of the id. Most of them sit in
 * one sorted array (6 bytes each, packed; binary search); the newest, at
 * most 1/64 of the total (at least 1,024), in a small open-addressing table,
 * merged into the array when it fills. A match says "maybe a duplicate": the caller re-checks
 * it exactly (dataset.c re-reads the file up to the line), so a collision of
 * two distinct ids is never reported as a duplicate.
 *
 * Ownership: the set owns its arrays; ds_ids_free releases them.
 */
#ifndef SE_DATASET_IDS_H
#define SE_DATASET_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds_ids {
	uint8_t *sorted; /* ascending, FP_BYTES (6) bytes each (ds_ids.c) */
	size_t n_sorted;
	uint64_t *recent; /* open addressing, 0: empty slot */
	size_t n_recent, cap_recent;
};

void ds_ids_init(struct ds_ids *s);
void ds_ids_free(struct ds_ids *s);
/* The id's fingerprint: 48 bits, never 0. Two distinct ids of n share one
 * with a probability of about n^2 / 2^49 (0.2% at a million ids): the caller
 * re-checks a match, so a shared one costs a re-read, never a false
 * duplicate. */
uint64_t ds_ids_fingerprint(const char *id);
/* true when fp is already in the set (nothing added), else adds it. */
bool ds_ids_add(struct ds_ids *s, uint64_t fp);
/* true when fp is in the set (nothing added). */
bool ds_ids_has(const struct ds_ids *s, uint64_t fp);
/* Fingerprints held. */
size_t ds_ids_count(const struct ds_ids *s);

#endif
