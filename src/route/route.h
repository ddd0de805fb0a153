/* route.h: the routing policy, a pure function item -> slot.
 *
 * Rules are tried in order; the first whose conditions hold (task in its list,
 * every metadata key equal) decides: a fixed slot, or for a complexity rule
 * the band of the item's token estimate. No rule matching means the default
 * slot. Nothing here does I/O or keeps state, so `route`, `run`, `validate`
 * and the sweep simulator all get the same answer for the same item.
 */
#ifndef SE_ROUTE_H
#define SE_ROUTE_H

#include <stddef.h>

struct cfg;
struct ds_item;

struct route_decision {
	int slot;      /* index into cfg.slots */
	int model;     /* the slot's model: cfg.slots[slot].model */
	int rule;      /* index into cfg.rules, or -1 for the default */
	int band;      /* complexity band index, or -1 when the rule is not a complexity rule */
	char why[160]; /* "routing.rules[1]: task \"classify\"", "default" ... */
};

void route_pick(const struct cfg *cfg, const struct ds_item *item, long est_tokens,
		struct route_decision *out);

#endif
