/* reply_row.h: what a server's reply puts in its results.jsonl row.
 *
 * The engine knows the request (item, model, role, status, attempts,
 * latency) and fills those fields; this fills the ones the reply decides:
 * served_model, token counts, the cost and its source (usage.cost as
 * reported, else LiteLLM's x-litellm-response-cost header as
 * litellm_header, else what OpenRouter's generation lookup told
 * (reply->gen_cost, engine/gencost.h) as generation, else tokens at the
 * pricing file's prices, else unknown: null),
 * output and finish_reason, and, for an ok reply, the checks' verdict and
 * their JSON. No network, no I/O and no engine state, so the policy is one
 * function that tests can call alone.
 */
#ifndef SE_ENGINE_REPLY_ROW_H
#define SE_ENGINE_REPLY_ROW_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct chk_item;
struct chk_set;
struct pricing;
struct res_row;
struct wire_reply;

/* The reply's cost: usage.cost as reported, else header_cost (LiteLLM's
 * x-litellm-response-cost, NaN when absent), else the generation lookup's
 * (reply->has_gen_cost), else tokens at the pricing
 * file's price for `model`, else NAN (unknown); *source (when not NULL) says
 * which. The loop calls it for the budget, eng_reply_row for the line. */
double eng_reply_cost(const struct wire_reply *reply, double header_cost,
		      const struct pricing *pricing, const char *model, const char **source);
/* row->model must be set (it names the price). ok: the reply is an answer,
 * so it is scored (checks.h: chk_eval on item); otherwise pass is false and
 * score 0.
 * The row's strings point into reply and checks_json, which must outlive
 * the row. */
/* grades: one per check of the set (only judge checks' are read), the
 * judge checks' grades joining the outcome before it is combined; NULL when
 * the line was not judged. */
struct eng_grade;
void eng_reply_row(const struct wire_reply *reply, bool ok, const struct pricing *pricing,
		   const struct chk_set *checks, const struct chk_item *item, double header_cost,
		   const struct eng_grade *grades, struct res_row *row, struct buf *checks_json);
/* header_cost: the x-litellm-response-cost header of the reply, or NaN
 * (absent, not a finite number >= 0). */
double eng_header_cost(const char *value);

#endif
