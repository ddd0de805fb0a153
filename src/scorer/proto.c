/* proto.c: the JSON lines a scorer process reads and writes (see
 * scorer.h): building one request, judging one reply. No I/O here. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "core/jsonw.h"
#include "scorer/scorer.h"

void scr_request(struct buf *b, long id, const char *check, const struct chk_item *item,
		 const char *output, size_t n)
{
	buf_puts(b, "{\"id\":");
	jsonw_long(b, id);
	buf_puts(b, ",\"check\":");
	jsonw_str(b, check);
	buf_puts(b, ",\"item\":");
	char *fields = item && item->fields ? cJSON_PrintUnformatted(item->fields) : NULL;
	if (fields) {
		buf_puts(b, fields); /* unformatted: one line */
		cJSON_free(fields);
	} else {
		/* the caller kept no fields: what every item has */
		buf_puts(b, "{\"id\":");
		jsonw_str(b, item && item->id ? item->id : "");
		buf_puts(b, ",\"task\":");
		jsonw_str(b, item && item->task ? item->task : "");
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"input\":");
	jsonw_str(b, item ? item->input : NULL);
	buf_puts(b, ",\"output\":");
	jsonw_strn(b, output ? output : "", output ? n : 0);
	buf_puts(b, ",\"expected\":[");
	for (size_t i = 0; item && item->expected && i < item->n_expected; i++) {
		if (i)
			buf_putc(b, ',');
		jsonw_str(b, item->expected[i] ? item->expected[i] : "");
	}
	buf_puts(b, "]}\n");
}

/* The detail of a reply that is wrong, with a quote of the line. */
static void bad(struct chk_result *r, const char *what, const char *line, size_t n)
{
	r->pass = false;
	r->error = true;
	r->score = NAN;
	int q = n > 60 ? 60 : (int)n;
	snprintf(r->detail, sizeof r->detail, "scorer reply %s: %.*s%s", what, q, line,
		 n > 60 ? "..." : "");
}

enum scr_reply scr_parse_reply(const char *line, size_t n, long id, struct chk_result *r)
{
	r->error = false;
	cJSON *o = cJSON_ParseWithLength(line, n);
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(o, "id");
	enum scr_reply res = SCR_REPLY_OK;
	if (!cJSON_IsObject(o)) {
		bad(r, "is not a JSON object", line, n);
		res = SCR_REPLY_GARBAGE;
	} else if (!cJSON_IsNumber(jid)) {
		bad(r, "has no numeric \"id\"", line, n);
		res = SCR_REPLY_GARBAGE;
	} else if (jid->valuedouble != (double)id) {
		char what[64];
		snprintf(what, sizeof what, "is for id %.0f, not %ld", jid->valuedouble, id);
		bad(r, what, line, n);
		res = SCR_REPLY_WRONG_ID;
	}
	if (res != SCR_REPLY_OK) {
		cJSON_Delete(o);
		return res;
	}
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(o, "pass");
	const cJSON *score = cJSON_GetObjectItemCaseSensitive(o, "score");
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(o, "detail");
	if (!cJSON_IsBool(pass))
		bad(r, "needs \"pass\": true or false", line, n);
	else if (score && !cJSON_IsNull(score) &&
		 (!cJSON_IsNumber(score) || !isfinite(score->valuedouble)))
		bad(r, "has a \"score\" that is not a number", line, n);
	else if (detail && !cJSON_IsNull(detail) && !cJSON_IsString(detail))
		bad(r, "has a \"detail\" that is not a string", line, n);
	else
		res = SCR_REPLY_OK;
	if (r->error) {
		cJSON_Delete(o);
		return SCR_REPLY_BAD;
	}
	r->pass = cJSON_IsTrue(pass);
	r->score = cJSON_IsNumber(score) ? score->valuedouble : NAN;
	chk_result_detail(r, cJSON_IsString(detail) ? detail->valuestring : "");
	cJSON_Delete(o);
	return res;
}
