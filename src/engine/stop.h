/* stop.h: `run --stop-when-decided`: one sequential comparison per shadow
 * against the primary, fed as pairs of pass values arrive, and what stopping
 * saved.
 *
 * The statistics are stats/seq.h's; this room only keeps the books the
 * engine needs: which shadow of an item is still wanted, the pairs waiting
 * for their other half, requests skipped and their estimated cost. The
 * engine's hook is three calls: eng_stop_wants (admission), eng_stop_pass
 * (a primary or shadow line scored) and eng_stop_all_settled (stop admitting).
 *
 * Ownership: struct eng_stop is the caller's (eng_stop_init / eng_stop_free);
 * it borrows the config.
 */
#ifndef SE_ENGINE_STOP_H
#define SE_ENGINE_STOP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "stats/seq.h"

struct cfg;

struct eng_stop_cmp {
	struct stats_seq seq;
	size_t sent;	 /* items sent to this shadow */
	size_t skipped;	 /* admitted items it was not sent, once settled */
	size_t not_run;	 /* items never admitted it would have been sent */
	size_t cost_n;	 /* its lines with a known cost */
	double cost_usd; /* their sum */
};

struct eng_stop {
	const struct cfg *cfg;
	struct stats_seq_opts opts;
	struct eng_stop_cmp *cmp; /* one per cfg->shadows[] */
	size_t open;		  /* comparisons not settled */
	bool stopped_run;	  /* every comparison settled before the dataset's end */
	size_t items_not_run;	  /* then: the items never admitted */
	size_t primary_not_run;	  /* requests their primaries would have made */
	size_t primary_cost_n;
	double primary_cost_usd;
	int repeats; /* run --repeats: requests per (item, model); 0 counts as 1 */
};

void eng_stop_init(struct eng_stop *s, const struct cfg *cfg, const struct stats_seq_opts *o);
void eng_stop_free(struct eng_stop *s);

/* Admission of an item: whether shadow k (index into cfg->shadows) is still
 * wanted; counts it as sent or skipped. */
bool eng_stop_wants(struct eng_stop *s, size_t k);
bool eng_stop_all_settled(const struct eng_stop *s);

/* An item's pass values while its lines arrive: pass[0] the primary's,
 * pass[1 + k] shadow k's; -1 not yet, -2 none coming. */
signed char *eng_stop_item_new(const struct eng_stop *s);
/* A primary (k < 0) or shadow k line of the item was scored: records it,
 * and feeds every comparison whose pair is now whole. */
void eng_stop_pass(struct eng_stop *s, signed char *item, int k, bool pass, double cost_usd);

/* The manifest's "stopping" object (JSON) and stopping.csv's text. */
void eng_stop_json(const struct eng_stop *s, struct buf *out);
void eng_stop_csv(const struct eng_stop *s, struct buf *out);

#endif
