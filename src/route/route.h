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

#include <stdbool.h>
#include <stddef.h>

struct cfg;
struct cfg_rule;
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

/* True when the rule's conditions (task, metadata) hold for the item: it
 * decides the item unless an earlier rule does. */
bool route_rule_matches(const struct cfg_rule *r, const struct ds_item *item);
/* True when, by their conditions alone, earlier matches every item later
 * matches: placed after earlier, later can never decide. */
bool route_rule_covers(const struct cfg_rule *earlier, const struct cfg_rule *later);

/* ---- lint.c: what `validate` warns about, by rule index ---- */
struct route_lint;
/* Called once per warning: where is the rule's JSON path ("routing.rules[2]",
 * "routing.rules[2].metadata.tier"), msg what is wrong. */
typedef void (*route_lint_fn)(void *ctx, const char *where, const char *msg);
struct route_lint *route_lint_new(const struct cfg *cfg);
/* Counts one routed item. */
void route_lint_item(struct route_lint *l, const struct ds_item *item,
		     const struct route_decision *d);
/* Reports each warning in rule order; returns how many. */
size_t route_lint_report(const struct route_lint *l, route_lint_fn fn, void *ctx);
void route_lint_free(struct route_lint *l); /* NULL is safe */

#endif
