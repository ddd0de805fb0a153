/* route.c: the routing policy; see route.h. */
#include "route/route.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "dataset/dataset.h"

static bool task_matches(const struct cfg_rule *r, const char *task)
{
	if (!r->tasks)
		return true;
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i], task))
			return true;
	return false;
}

static bool metadata_matches(const struct cfg_rule *r, const struct ds_item *item)
{
	char tmp[64];
	for (size_t i = 0; i < r->n_metadata; i++) {
		const char *v = ds_field(item, r->metadata[i].key, tmp, sizeof(tmp));
		if (!v || strcmp(v, r->metadata[i].value))
			return false;
	}
	return true;
}

/* The band of a complexity rule: the first threshold the estimate is below. */
static size_t band_of(const struct cfg_rule *r, long est_tokens)
{
	size_t band = 0;
	while (band < r->n_thresholds && est_tokens >= r->thresholds[band])
		band++;
	return band;
}

static void explain(const struct cfg *cfg, const struct cfg_rule *r, const struct ds_item *item,
		    long est_tokens, size_t band, char *out, size_t size)
{
	int n = snprintf(out, size, "%s:", r->label);
	size_t used = n > 0 ? (size_t)n : 0;
	if (r->tasks && used < size)
		used += (size_t)snprintf(out + used, size - used, " task \"%s\"", item->task);
	for (size_t i = 0; i < r->n_metadata && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, " %s=%s", r->metadata[i].key,
					 r->metadata[i].value);
	if (r->n_thresholds && used < size) {
		if (band == 0)
			snprintf(out + used, size - used, " est %ld < %ld", est_tokens,
				 r->thresholds[0]);
		else if (band == r->n_thresholds)
			snprintf(out + used, size - used, " est %ld >= %ld", est_tokens,
				 r->thresholds[band - 1]);
		else
			snprintf(out + used, size - used, " %ld <= est %ld < %ld",
				 r->thresholds[band - 1], est_tokens, r->thresholds[band]);
	}
	(void)cfg;
}

void route_pick(const struct cfg *cfg, const struct ds_item *item, long est_tokens,
		struct route_decision *out)
{
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];
		if (!task_matches(r, item->task) || !metadata_matches(r, item))
			continue;
		size_t band = 0;
		if (r->n_thresholds) {
			band = band_of(r, est_tokens);
			out->slot = r->band_slots[band];
			out->band = (int)band;
		} else {
			out->slot = r->slot;
			out->band = -1;
		}
		out->rule = (int)i;
		out->model = cfg->slots[out->slot].model;
		explain(cfg, r, item, est_tokens, band, out->why, sizeof(out->why));
		return;
	}
	out->slot = cfg->default_slot;
	out->model = cfg->slots[out->slot].model;
	out->rule = -1;
	out->band = -1;
	snprintf(out->why, sizeof(out->why), "routing.default");
}

bool route_rule_matches(const struct cfg_rule *r, const struct ds_item *item)
{
	return task_matches(r, item->task) && metadata_matches(r, item);
}

static bool has_task(const struct cfg_rule *r, const char *task)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (!strcmp(r->tasks[i], task))
			return true;
	return false;
}

bool route_rule_covers(const struct cfg_rule *earlier, const struct cfg_rule *later)
{
	if (earlier->tasks) {
		if (!later->tasks)
			return false;
		for (size_t i = 0; i < later->n_tasks; i++)
			if (!has_task(earlier, later->tasks[i]))
				return false;
	}
	for (size_t i = 0; i < earlier->n_metadata; i++) {
		const struct cfg_match *m = &earlier->metadata[i];
		bool same = false;
		for (size_t k = 0; k < later->n_metadata && !same; k++)
			same = !strcmp(later->metadata[k].key, m->key) &&
			       !strcmp(later->metadata[k].value, m->value);
		if (!same)
			return false;
	}
	return true;
}
