/* fz_config.c: fuzzes the eval config loader (cfg_load) with whole files.
 * Any input must give a config or a located error, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"
#include "fz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("eval.json", data, size);
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	if (cfg_load(path, &cfg, &err) == 0) {
		/* Read-only helpers every command uses right after loading. */
		for (size_t i = 0; i < cfg->n_slots; i++)
			(void)cfg_slot_index(cfg, cfg->slots[i].name);
		for (size_t i = 0; i < cfg->n_models; i++)
			(void)cfg_model_index(cfg, cfg->models[i].id);
		cfg_free(cfg);
	} else if (!err.where[0] || !err.msg[0]) {
		abort(); /* an error must say where and what */
	}
	return 0;
}
