/* judging.c: building judge requests and reading judge replies on the
 * worker thread; see judging.h. */
#include "engine/judging.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "checks/judge.h"
#include "config/config.h"
#include "core/jsonw.h"
#include "core/xalloc.h"
#include "wire/wire.h"

void eng_judge_messages(const struct jdg_check *jc, const struct jdg_input *in, struct buf *msgs)
{
	struct buf prompt;
	buf_init(&prompt);
	jdg_render(jc, in, &prompt);
	buf_reset(msgs);
	buf_puts(msgs, "[{\"role\":\"user\",\"content\":");
	jsonw_strn(msgs, prompt.data, prompt.len);
	buf_puts(msgs, "}]");
	buf_free(&prompt);
}

void eng_judge_body(const struct jdg_check *jc, const char *model_id, const struct buf *msgs,
		    struct buf *body)
{
	struct cfg_params p = {
	    .has_temperature = true, .temperature = jc->temperature, .max_tokens = jc->max_tokens};
	buf_reset(body);
	wire_build_request(body, model_id, msgs->data, msgs->len, &p);
}

void eng_judge_read(const struct jdg_check *jc, bool ok, const char *failure, const char *reply,
		    size_t n, struct eng_grade *g)
{
	struct jdg_grade jg;
	if (ok) {
		jdg_read_score(jc, reply, n, &jg);
	} else {
		memset(&jg, 0, sizeof(jg));
		jg.error = true;
		jg.score = NAN;
		snprintf(jg.why, sizeof(jg.why), "judge request failed");
	}
	g->error = jg.error;
	g->pass = jg.pass;
	g->score = jg.score;
	if (ok)
		snprintf(g->why, sizeof(g->why), "%s", jg.why);
	else
		snprintf(g->why, sizeof(g->why), "judge request failed: %s",
			 failure ? failure : "no reply");
	free(g->reply);
	g->reply = NULL;
	g->reply_len = 0;
	if (ok && reply) {
		g->reply_len = jdg_cut(reply, n, jc->reply_chars);
		g->reply = xstrndup(reply, g->reply_len);
	}
}

void eng_grade_free(struct eng_grade *g)
{
	free(g->reply);
	memset(g, 0, sizeof(*g));
}

void eng_grade_fill(struct chk_outcome *oc, size_t i, const struct eng_grade *g)
{
	chk_fill_judge(oc, i, g->error, g->pass, g->score, g->why, g->reply, g->reply_len,
		       g->judge_model, g->cost_usd, g->latency_ms, g->cached);
}
