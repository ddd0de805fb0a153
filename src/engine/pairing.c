/* pairing.c: the pairwise check's bookkeeping and its judge requests'
 * worker halves in `run`; see pairing.h. */
#include "engine/pairing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/judge.h"
#include "core/xalloc.h"
#include "engine/judging.h"
#include "results/results.h"

void eng_pair_init(struct eng_pair *p, int shadows, bool has_ref)
{
	memset(p, 0, sizeof(*p));
	p->state = has_ref ? ENG_REF_PENDING : ENG_REF_NONE;
	p->shadows_left = shadows;
}

void eng_pair_free(struct eng_pair *p)
{
	free(p->parked);
	memset(p, 0, sizeof(*p));
}

bool eng_pair_waits(const struct eng_pair *p, bool shadow)
{
	return shadow ? p->state != ENG_REF_NONE : p->shadows_left > 0;
}

void eng_pair_ref_ok(struct eng_pair *p, void *ref, const struct eng_pair_ops *ops)
{
	p->state = ENG_REF_OK;
	p->ref = ref;
	p->ref_held = true;
	ops->hold(ops->ctx, ref);
	for (size_t i = 0; i < p->n_parked; i++)
		ops->compare(ops->ctx, p->parked[i]);
	p->n_parked = 0;
	if (p->shadows_left == 0) {
		p->ref_held = false;
		ops->write(ops->ctx, ref);
	}
}

void eng_pair_shadow_ready(struct eng_pair *p, void *shadow, bool compared,
			   const struct eng_pair_ops *ops)
{
	if (compared || p->state == ENG_REF_NONE) {
		ops->write(ops->ctx, shadow);
	} else if (p->state == ENG_REF_OK) {
		ops->compare(ops->ctx, shadow);
	} else {
		p->parked = xgrow(p->parked, &p->cap_parked, p->n_parked + 1, sizeof(*p->parked));
		p->parked[p->n_parked++] = shadow;
		ops->hold(ops->ctx, shadow);
	}
}

void eng_pair_shadow_line(struct eng_pair *p, const struct eng_pair_ops *ops)
{
	p->shadows_left--;
	if (p->shadows_left > 0 || !p->ref_held)
		return;
	p->ref_held = false;
	ops->write(ops->ctx, p->ref);
}

void eng_pair_ref_line(struct eng_pair *p, bool ok, const struct eng_pair_ops *ops)
{
	if (ok) {
		p->state = ENG_REF_OK; /* no shadow line was to come */
		return;
	}
	p->state = ENG_REF_NONE;
	for (size_t i = 0; i < p->n_parked; i++)
		ops->write(ops->ctx, p->parked[i]);
	p->n_parked = 0;
}

void eng_pw_messages(const struct jdg_check *jc, const struct jdg_input *in, const char *ref,
		     size_t ref_n, const char *shadow, size_t shadow_n, struct buf msgs[2])
{
	struct jdg_input x = *in;
	x.a = ref, x.a_len = ref_n, x.b = shadow, x.b_len = shadow_n;
	eng_judge_messages(jc, &x, &msgs[0]);
	x.a = shadow, x.a_len = shadow_n, x.b = ref, x.b_len = ref_n;
	eng_judge_messages(jc, &x, &msgs[1]);
}

/* The role a verdict letter names in `order` (0: the reference is A). */
static enum res_pw_pick pick_of(char verdict, int order)
{
	if (verdict == 'T')
		return RES_PICK_TIE;
	bool a = verdict == 'A';
	return a == (order == 0) ? RES_PICK_REFERENCE : RES_PICK_SHADOW;
}

void eng_pw_read(const struct jdg_check *jc, int order, bool ok, const char *failure,
		 const char *reply, size_t n, struct eng_pw_order *o)
{
	free(o->reply);
	o->reply = NULL;
	o->reply_len = 0;
	o->why[0] = '\0';
	if (!ok) {
		o->pick = RES_PICK_ERROR;
		snprintf(o->why, sizeof(o->why), "judge request failed: %s",
			 failure ? failure : "no reply");
		return;
	}
	struct jdg_grade g;
	jdg_read_verdict(jc, reply, n, &g);
	o->pick = g.error ? RES_PICK_ERROR : pick_of(g.verdict, order);
	if (g.error)
		snprintf(o->why, sizeof(o->why), "%s", g.why);
	if (reply) {
		o->reply_len = jdg_cut(reply, n, jc->reply_chars);
		o->reply = xstrndup(reply, o->reply_len);
	}
}

void eng_pw_order_free(struct eng_pw_order *o)
{
	free(o->reply);
	memset(o, 0, sizeof(*o));
}

/* "A/B: <reply>" (after the error, when the order is one) into detail. */
static void order_detail(struct buf *detail, const char *name, const struct eng_pw_order *o)
{
	buf_printf(detail, "%s: ", name);
	if (o->pick == RES_PICK_ERROR)
		buf_printf(detail, "error (%s)%s", o->why, o->reply ? ": " : "");
	if (o->reply)
		buf_append(detail, o->reply, o->reply_len);
}

void eng_pw_row(const struct eng_pw_order o[2], const char *check, const char *reference_model,
		struct res_pairwise *pw, struct buf *detail, double *cost, double *latency)
{
	buf_reset(detail);
	order_detail(detail, "A/B", &o[0]);
	buf_puts(detail, "\n---\n");
	order_detail(detail, "B/A", &o[1]);
	pw->check = check;
	/* the judge that answered: a slot judge's fallback may have */
	pw->judge_model = o[0].judge_model ? o[0].judge_model : o[1].judge_model;
	pw->reference_model = reference_model;
	pw->ab = o[0].pick == RES_PICK_NONE ? RES_PICK_ERROR : o[0].pick;
	pw->ba = o[1].pick == RES_PICK_NONE ? RES_PICK_ERROR : o[1].pick;
	pw->detail = detail->data;
	for (int k = 0; k < 2; k++) {
		*cost += o[k].cost_usd;
		*latency += o[k].latency_ms;
	}
}
