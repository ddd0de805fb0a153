/* judge.c: shadowsim's judge models (JUDGE.md section 5).
 *
 * A model whose profile has judge_accuracy grades the rubric requests of the
 * `judge` and `pairwise` checks. shadowsim generated every answer it is asked
 * to grade, so it knows the truth: it finds the graded texts between the
 * rubric delimiters, asks items.c whether each is a correct answer, and
 * replies in the built-in rubrics' format, telling the truth with the
 * configured accuracy and preferring position A with the configured bias.
 * The decision functions are pure (uniform draws in, verdict out) so the
 * trust tests can run them in-process; the draws themselves are hashes of
 * (seed, model, rubric message), never timing. It does not build reply
 * bodies (reply.c) nor parse the profile (profile.c).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <string.h>

#include "core/sha256.h"
#include "sim/sim.h"

bool sim_judge_decide(double accuracy, bool correct, double u)
{
	return u < accuracy ? correct : !correct;
}

enum sim_pick sim_pairwise_decide(double accuracy, double bias, enum sim_pick truth,
				  const double u[3])
{
	if (u[0] < bias)
		return SIM_PICK_A;
	if (u[1] < accuracy)
		return truth;
	if (truth == SIM_PICK_TIE)
		return u[2] < 0.5 ? SIM_PICK_A : SIM_PICK_B;
	return truth == SIM_PICK_A ? SIM_PICK_B : SIM_PICK_A;
}

/* The text between the line holding `open` and the line holding `close`
 * (trimmed), or NULL when either delimiter is missing. */
static const char *between(const char *s, const char *open, const char *close, size_t *len)
{
	const char *a = strstr(s, open);
	if (!a)
		return NULL;
	a += strlen(open);
	const char *b = strstr(a, close);
	if (!b)
		return NULL;
	while (a < b && isspace((unsigned char)*a))
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	*len = (size_t)(b - a);
	return a;
}

/* The message content carrying a rubric: the last string content with one
 * of the delimiters, or NULL. */
static const char *rubric_text(const cJSON *messages)
{
	const char *found = NULL;
	for (const cJSON *m = messages ? messages->child : NULL; m; m = m->next) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (cJSON_IsString(c) && strstr(c->valuestring, "[ANSWER"))
			found = c->valuestring;
	}
	return found;
}

bool sim_judge_reply(const struct sim_request_ctx *ctx, const struct sim_model *m,
		     const cJSON *messages, int draw, struct sim_plan *pl)
{
	const char *prompt = rubric_text(messages);
	if (!prompt)
		return false;
	char key[65];
	sha256_hex(prompt, strlen(prompt), key);
	double u[3];
	static const char *const purpose[3] = {"judge.bias", "judge.truth", "judge.letter"};
	for (int i = 0; i < 3; i++)
		u[i] = sim_unit(sim_hash(ctx->seed, m->id, key, draw, purpose[i]));

	size_t la = 0, lb = 0, l1 = 0;
	const char *a = between(prompt, "[ANSWER A]", "[/ANSWER A]", &la);
	const char *b = between(prompt, "[ANSWER B]", "[/ANSWER B]", &lb);
	if (a && b) {
		bool ca = sim_items_answer_correct(ctx->items, a, la, prompt);
		bool cb = sim_items_answer_correct(ctx->items, b, lb, prompt);
		enum sim_pick truth = ca == cb ? SIM_PICK_TIE : ca ? SIM_PICK_A : SIM_PICK_B;
		enum sim_pick said =
		    sim_pairwise_decide(m->judge_accuracy, m->position_bias, truth, u);
		static const char *const letters[] = {"A", "B", "tie"};
		buf_printf(&pl->content, "Verdict: %s", letters[said]);
		pl->correct = said == truth;
		return true;
	}
	const char *one = between(prompt, "[ANSWER]", "[/ANSWER]", &l1);
	if (!one)
		return false;
	bool correct = sim_items_answer_correct(ctx->items, one, l1, prompt);
	bool pass = sim_judge_decide(m->judge_accuracy, correct, u[1]);
	buf_puts(&pl->content, pass ? "Score: 5" : "Score: 1");
	pl->correct = pass == correct;
	return true;
}
