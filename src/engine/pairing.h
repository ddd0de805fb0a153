/* pairing.h: the pairwise check in `run` (issue 12; JUDGE.md sections 3
 * and 4): each ok shadow answer is compared with its item's reference
 * answer (the primary's, or the fallback's that answered the item, of the
 * same sample) by two judge requests, A/B with the reference's answer as
 * A, then B/A, and the line gets a `pairwise` object.
 *
 * Two halves, neither doing I/O:
 * - the loop's bookkeeping of one (item, sample) (struct eng_pair): whether
 *   its reference answered, the ok shadows waiting for it, and how many
 *   shadow lines are still to be written. The reference's line is held
 *   until that count is 0, so a reference line in results.jsonl means every
 *   shadow of its item was judged (what --resume relies on);
 * - the worker's: rendering the two prompts from both (redacted) answers,
 *   reading each verdict into the pick it names (by role), and the line's
 *   `pairwise` object with its detail and its judge cost and latency.
 *
 * engine.c runs the requests as judge jobs (limits, retries, the judge
 * slot's fallbacks, --max-cost, the cache) and decides when a line is
 * written; this file holds no job and no engine state.
 */
#ifndef SE_ENGINE_PAIRING_H
#define SE_ENGINE_PAIRING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "results/vocab.h"

struct jdg_check;
struct jdg_input;
struct res_pairwise;

/* ---- the loop's bookkeeping ---- */

enum eng_pair_ref {
	ENG_REF_PENDING, /* the reference's answer may still come */
	ENG_REF_OK,	 /* it came: ref is the job holding it */
	ENG_REF_NONE	 /* none will: the shadows are not compared */
};

/* One (item, sample). `ref` and `parked` are the engine's jobs, opaque
 * here; the engine runs what the eng_pair_* calls decide (struct
 * eng_pair_ops), on the loop's thread. */
struct eng_pair {
	enum eng_pair_ref state;
	void *ref;
	bool ref_held;	  /* ref's line waits for shadows_left to reach 0 */
	int shadows_left; /* shadow lines not yet handed to the worker to write */
	void **parked;	  /* ok shadows waiting for the reference */
	size_t n_parked;
	size_t cap_parked;
};

/* What the engine does with its jobs when the pairing decides; ctx is the
 * engine. write: hand job's line to the worker (it calls
 * eng_pair_shadow_line for a shadow's); compare: send ok shadow to be
 * compared with p->ref (its prompts rendered, then its two judge
 * requests); hold: job waits in the pairing. */
struct eng_pair_ops {
	void (*write)(void *ctx, void *job);
	void (*compare)(void *ctx, void *shadow);
	void (*hold)(void *ctx, void *job);
	void *ctx;
};

/* shadows: the shadow jobs of the sample; has_ref: a primary or fallback
 * job of the sample runs (none on --resume when its line is written). */
void eng_pair_init(struct eng_pair *p, int shadows, bool has_ref);
void eng_pair_free(struct eng_pair *p);
/* Whether an ok job's line waits for the pairing: a shadow's while a
 * reference may answer, a reference's while shadow lines are to come. */
bool eng_pair_waits(const struct eng_pair *p, bool shadow);
/* The reference's ok answer is ready (its own judges done): every waiting
 * shadow is compared with it, and its line is held until the last shadow
 * line is handed over (written at once when none is to come). */
void eng_pair_ref_ok(struct eng_pair *p, void *ref, const struct eng_pair_ops *ops);
/* An ok shadow is ready: written once compared (or when no reference will
 * answer), compared when the reference has answered, else held. */
void eng_pair_shadow_ready(struct eng_pair *p, void *shadow, bool compared,
			   const struct eng_pair_ops *ops);
/* A shadow line of the pair is handed to the worker: the held reference's
 * line follows the last one. */
void eng_pair_shadow_line(struct eng_pair *p, const struct eng_pair_ops *ops);
/* A reference line written by its first pass: ok (nothing waited for it),
 * or failed with no fallback to follow, which leaves the waiting shadows
 * not compared: written. */
void eng_pair_ref_line(struct eng_pair *p, bool ok, const struct eng_pair_ops *ops);

/* ---- the worker's halves ---- */

/* One order's verdict, kept on the shadow's job until its line. */
struct eng_pw_order {
	enum res_pw_pick pick; /* RES_PICK_NONE until read */
	char why[160];	       /* on error: what went wrong */
	char *reply;	       /* the judge's reply cut to reply_chars; owned */
	size_t reply_len;
	const char *judge_model;
	double cost_usd; /* NAN: unknown */
	double latency_ms;
	bool cached;
};

/* The two prompts as chat messages: msgs[0] shows the reference's answer
 * as A and the shadow's as B, msgs[1] the other way round. `in` gives the
 * item's side (task, fields, input, expected); its a and b are ignored. */
void eng_pw_messages(const struct jdg_check *jc, const struct jdg_input *in, const char *ref,
		     size_t ref_n, const char *shadow, size_t shadow_n, struct buf msgs[2]);
/* Reads order `order`'s reply into o->pick (the winner by role) and its
 * reply; ok false: the request failed (`failure` says how). An unparsable
 * verdict or a failed request is RES_PICK_ERROR, never a tie. */
void eng_pw_read(const struct jdg_check *jc, int order, bool ok, const char *failure,
		 const char *reply, size_t n, struct eng_pw_order *o);
void eng_pw_order_free(struct eng_pw_order *o);

/* The line's pairwise object from both orders: pw points into o, the check
 * name and reference_model, and detail (reset), which must outlive it.
 * *cost and *latency get both orders' sums added (NAN when unknown). */
void eng_pw_row(const struct eng_pw_order o[2], const char *check, const char *reference_model,
		struct res_pairwise *pw, struct buf *detail, double *cost, double *latency);

#endif
