/* scope.c: a run's scope over its dataset reader (see scope.h). */
#include "shard/scope.h"

struct shd_scope shd_scope_make(enum shd_scheme by, long k, long n, long limit)
{
	struct shd_scope sc = {by, k, n, limit, 0};
	return sc;
}

int shd_scope_next(struct shd_scope *sc, struct ds_reader *rd, struct ds_item *it,
		   struct se_err *err)
{
	for (;;) {
		if (sc->limit >= 0 && sc->taken >= (size_t)sc->limit)
			return 0;
		int r = ds_next(rd, it, err);
		if (r <= 0)
			return r;
		if (sc->n > 0 && shd_of(sc->by, it->id, it->index, sc->n) != sc->k)
			continue;
		sc->taken++;
		return 1;
	}
}
