/* judging.h: the worker thread's halves of a judge request (issue 12):
 * building its request body from a judge check and the graded answer, and
 * reading the judge's reply into a grade that joins the line's checks.
 *
 * The loop sends the body as a job like any other (limits, retries, cache,
 * budget); these run on the worker so rendering and pattern matching never
 * hold the network loop up. No I/O, no engine state.
 */
#ifndef SE_ENGINE_JUDGING_H
#define SE_ENGINE_JUDGING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct chk_outcome;
struct jdg_check;
struct jdg_input;

/* One judge check's grade of one line, kept on the graded job until the
 * line is written. */
struct eng_grade {
	bool error;
	bool pass;
	double score;
	char why[300];
	char *reply; /* cut to the check's reply_chars; owned */
	size_t reply_len;
	const char *judge_model;
	double cost_usd; /* NAN: unknown */
	double latency_ms;
	bool cached;
};

/* The rendered prompt as a chat messages array (one user message), into
 * msgs (reset); on the worker. */
void eng_judge_messages(const struct jdg_check *jc, const struct jdg_input *in, struct buf *msgs);
/* The chat request asking model_id to grade those messages: the check's
 * temperature and max_tokens, not streamed; into body (reset). Cheap (no
 * rendering): the loop builds one per judge model it tries, the slot's
 * fallbacks included. */
void eng_judge_body(const struct jdg_check *jc, const char *model_id, const struct buf *msgs,
		    struct buf *body);

/* Reads a judge reply into g. ok false: the request failed (`failure` says
 * how) and the grade is an error naming it. */
void eng_judge_read(const struct jdg_check *jc, bool ok, const char *failure, const char *reply,
		    size_t n, struct eng_grade *g);
void eng_grade_free(struct eng_grade *g);

/* Puts grade g of check i into a line's outcome (chk_fill_judge). */
void eng_grade_fill(struct chk_outcome *oc, size_t i, const struct eng_grade *g);

#endif
