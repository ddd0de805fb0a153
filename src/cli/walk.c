/* walk.c: an eval's items, rendered and routed; see walk.h. */
#include "cli/walk.h"

#include "config/config.h"
#include "core/buf.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "route/route.h"

int cli_walk_items(const struct cfg *cfg, long limit, cli_item_fn fn, void *ctx, struct se_err *err)
{
	struct ds_reader *ds;
	if (ds_open_cfg(&ds, cfg, err))
		return -1;
	struct ds_item item = {0};
	struct buf messages;
	buf_init(&messages);
	int rc = 0;
	for (long n = 0; limit < 0 || n < limit; n++) {
		int got = ds_next(ds, &item, err);
		if (got <= 0) {
			rc = got;
			break;
		}
		long est;
		buf_reset(&messages);
		if (prompt_render(cfg, &item, &messages, &est, err)) {
			rc = -1;
			break;
		}
		struct route_decision d;
		route_pick(cfg, &item, est, &d);
		rc = fn(ctx, &item, est, &d);
		if (rc)
			break;
	}
	buf_free(&messages);
	ds_item_clear(&item);
	ds_close(ds);
	return rc;
}
