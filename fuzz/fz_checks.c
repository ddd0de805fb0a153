/* fz_checks.c: fuzzes the check engine: compiling a check set and scoring
 * an output. The input is three parts split at the first two newlines:
 *   line 1  the "checks" array, as in a config (JSON)
 *   line 2  the expected answers, split at '\t' (none when the line is empty)
 *   rest    the model output (any bytes, NULs included)
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "core/buf.h"
#include "fz_util.h"

#define MAX_EXPECTED 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl1 = memchr(data, '\n', size);
	if (!nl1)
		return 0;
	const uint8_t *rest = nl1 + 1;
	const uint8_t *nl2 = memchr(rest, '\n', size - (size_t)(rest - data));
	if (!nl2)
		return 0;
	char *checks_text = fz_strndup(data, (size_t)(nl1 - data));
	char *exp_text = fz_strndup(rest, (size_t)(nl2 - rest));
	const char *output = (const char *)nl2 + 1;
	size_t output_len = size - (size_t)(nl2 + 1 - data);

	cJSON *checks = cJSON_Parse(checks_text);
	struct chk_set set;
	struct se_err err;
	se_clear(&err);
	memset(&set, 0, sizeof(set));
	if (checks && chk_compile(&set, checks, NULL, NULL, "eval.json", "checks", &err) == 0) {
		const char *expected[MAX_EXPECTED];
		size_t n_expected = 0;
		char *save = NULL;
		for (char *e = exp_text[0] ? strtok_r(exp_text, "\t", &save) : NULL;
		     e && n_expected < MAX_EXPECTED; e = strtok_r(NULL, "\t", &save))
			expected[n_expected++] = e;
		struct chk_outcome out;
		struct chk_item it = {.expected = n_expected ? expected : NULL,
				      .n_expected = n_expected};
		chk_eval(&set, &it, output, output_len, &out);
		struct buf b;
		buf_init(&b);
		chk_outcome_json(&out, &b);
		cJSON *back = cJSON_Parse(b.data);
		if (!back)
			abort(); /* the checks field of a result line must be JSON */
		cJSON_Delete(back);
		buf_free(&b);
		chk_outcome_free(&out);
		chk_set_free(&set);
	} else if (checks && (!err.where[0] || !err.msg[0])) {
		abort();
	}
	cJSON_Delete(checks);
	free(checks_text);
	free(exp_text);
	return 0;
}
