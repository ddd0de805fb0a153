/* walk.h: an eval's items, each rendered and routed, for the commands that
 * only look (validate, route): the dataset streamed through prompt_render and
 * route_pick, nothing sent, nothing kept per item.
 */
#ifndef SE_CLI_WALK_H
#define SE_CLI_WALK_H

#include "core/err.h"

struct cfg;
struct ds_item;
struct route_decision;

/* Called once per item; a non-zero return stops the walk (and is returned). */
typedef int (*cli_item_fn)(void *ctx, const struct ds_item *item, long est_tokens,
			   const struct route_decision *d);

/* Walks the first `limit` items (-1: all). 0 at the end, -1 with err on a bad
 * dataset line or template. */
int cli_walk_items(const struct cfg *cfg, long limit, cli_item_fn fn, void *ctx,
		   struct se_err *err);

#endif
