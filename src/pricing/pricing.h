/* pricing.h: per-model USD prices, from a saved OpenRouter /models JSON.
 *
 * The file is the body of GET /api/v1/models ({"data":[{"id", "pricing":
 * {"prompt","completion","request","input_cache_read"}}]}, decimal strings in
 * USD per token) or shadowsim's /v1/models, which has the same shape. A cost
 * from pricing is only an estimate: when a response carries usage.cost, that
 * figure wins (cost_source "reported").
 */
#ifndef SE_PRICING_H
#define SE_PRICING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct price {
	double prompt;	   /* per token */
	double completion; /* per token */
	double request;	   /* per request, 0 when absent */
	double cache_read; /* per cached prompt token, -1 when absent (then prompt) */
};

struct pricing;

int pricing_load(const char *path, struct pricing **out, struct se_err *err);
void pricing_free(struct pricing *p);
/* NULL when the model has no (valid) price, or p is NULL. */
const struct price *pricing_find(const struct pricing *p, const char *model);
/* Cost of a request from its tokens; cached tokens (part of prompt_tokens) at
 * the cache price when known, else at the prompt price; plus the per-request
 * price. -1 when pr is NULL (unknown, never 0). */
double pricing_cost(const struct price *pr, long prompt_tokens, long completion_tokens,
		    long cached_tokens);

#endif
