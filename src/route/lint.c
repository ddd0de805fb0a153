/* lint.c: what `validate` warns about in a routing policy, by rule index:
 * a rule whose conditions match no item of the dataset, a rule that an
 * earlier rule shadows (it matches everything the later one matches, so the
 * later one can never decide), a rule that matches items but decides none
 * of them on this dataset, and metadata keys that no item has. Counters per
 * rule and per metadata key; nothing kept per item. Not here: the policy
 * itself (route.c) or printing (the caller words nothing, it prints). */
#include "route/route.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"

struct route_lint {
	const struct cfg *cfg;
	long *matched;	/* per rule: items whose conditions hold */
	long *decided;	/* per rule: items it routed */
	bool **has_key; /* per rule, per metadata condition: some item has the field */
};

struct route_lint *route_lint_new(const struct cfg *cfg)
{
	struct route_lint *l = xcalloc(1, sizeof(*l));
	size_t n = cfg->n_rules ? cfg->n_rules : 1;
	l->cfg = cfg;
	l->matched = xcalloc(n, sizeof(*l->matched));
	l->decided = xcalloc(n, sizeof(*l->decided));
	l->has_key = xcalloc(n, sizeof(*l->has_key));
	for (size_t i = 0; i < cfg->n_rules; i++)
		l->has_key[i] = xcalloc(cfg->rules[i].n_metadata + 1, sizeof(bool));
	return l;
}

void route_lint_free(struct route_lint *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->cfg->n_rules; i++)
		free(l->has_key[i]);
	free(l->has_key);
	free(l->matched);
	free(l->decided);
	free(l);
}

void route_lint_item(struct route_lint *l, const struct ds_item *item,
		     const struct route_decision *d)
{
	char tmp[64];
	for (size_t i = 0; i < l->cfg->n_rules; i++) {
		const struct cfg_rule *r = &l->cfg->rules[i];
		if (route_rule_matches(r, item))
			l->matched[i]++;
		for (size_t k = 0; k < r->n_metadata; k++)
			if (!l->has_key[i][k] &&
			    ds_field(item, r->metadata[k].key, tmp, sizeof(tmp)))
				l->has_key[i][k] = true;
	}
	if (d->rule >= 0)
		l->decided[d->rule]++;
}

/* The first rule before i that covers it, or -1. */
static int shadowed_by(const struct cfg *cfg, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (route_rule_covers(&cfg->rules[j], &cfg->rules[i]))
			return (int)j;
	return -1;
}

size_t route_lint_report(const struct route_lint *l, route_lint_fn fn, void *ctx)
{
	const struct cfg *cfg = l->cfg;
	size_t n = 0;
	char where[600], msg[600];
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];
		int by = shadowed_by(cfg, i);
		if (by >= 0) {
			snprintf(msg, sizeof(msg),
				 "can never be reached: %s matches every item it matches",
				 cfg->rules[by].label);
			fn(ctx, r->label, msg);
			n++;
		} else if (l->matched[i] == 0) {
			fn(ctx, r->label, "matches no item of the dataset");
			n++;
		} else if (l->decided[i] == 0) {
			snprintf(msg, sizeof(msg),
				 "decides no item of the dataset: the %ld it matches go to earlier "
				 "rules",
				 l->matched[i]);
			fn(ctx, r->label, msg);
			n++;
		}
		for (size_t k = 0; k < r->n_metadata; k++) {
			if (l->has_key[i][k])
				continue;
			snprintf(where, sizeof(where), "%s.metadata.%s", r->label,
				 r->metadata[k].key);
			snprintf(msg, sizeof(msg), "no item has the field \"%s\"",
				 r->metadata[k].key);
			fn(ctx, where, msg);
			n++;
		}
	}
	return n;
}
