/* vocab.h: the closed vocabularies of results.jsonl: a line's status, its
 * role, its cost source and its pairwise outcome and picks, as enums with
 * their public names.
 *
 * This is the only list of them. The engine classifies into enum res_status,
 * the readers parse into it, and the summaries count by it; the names are
 * SPEC's and the README's ("results.jsonl"), and tests/test_results.c checks
 * that the README (and SPEC, when present) lists exactly these. Adding a
 * status is one entry here plus its name below; the compiler then points at
 * every table that must place it (summarize's error columns, the engine's
 * retry policy).
 *
 * What it does not do: decide policy (which status is retried is the
 * engine's, which column a status gets is the summaries').
 */
#ifndef SE_RESULTS_VOCAB_H
#define SE_RESULTS_VOCAB_H

#include <stddef.h>

/* In SPEC's order: ok, then the error classes. manifest.json's by_status
 * lists counts in this order. */
enum res_status {
	RES_OK = 0,
	RES_HTTP_4XX,
	RES_HTTP_5XX,
	RES_RATE_LIMITED,
	RES_TIMEOUT,
	RES_NETWORK,
	RES_BAD_RESPONSE,
	RES_STREAM_ERROR,
	RES_BUDGET,
	RES_N_STATUS
};

enum res_role { RES_PRIMARY = 0, RES_SHADOW, RES_FALLBACK, RES_N_ROLE };

/* reported: usage.cost (OpenRouter); pricing: tokens x the pricing file;
 * unknown: neither (never 0); litellm_header: LiteLLM's proxy's
 * x-litellm-response-cost response header; generation: OpenRouter's
 * generation lookup (GET /generation?id=) for a reply that carried no cost,
 * a stream cut before its usage chunk. A gateway's own figure (reported,
 * litellm_header, generation) counts as reported in the summaries. */
enum res_cost_source {
	RES_COST_REPORTED = 0,
	RES_COST_PRICING,
	RES_COST_UNKNOWN,
	RES_COST_LITELLM_HEADER,
	RES_COST_GENERATION,
	RES_N_COST
};
/* The gateway said what the call cost (usage.cost, a cost header, or its
 * generation lookup). */
#define RES_COST_FROM_GATEWAY(c)                                                                   \
	((c) == RES_COST_REPORTED || (c) == RES_COST_LITELLM_HEADER || (c) == RES_COST_GENERATION)

/* A shadow line's pairwise comparison with its reference (README
 * "results.jsonl"): the outcome, and each order's pick (ab: the reference's
 * answer shown as A; ba: the shadow's). NONE: no comparison (the field is
 * absent); it has no public name. */
enum res_pw_outcome {
	RES_PW_NONE = 0,
	RES_PW_WIN,
	RES_PW_LOSS,
	RES_PW_TIE,
	RES_PW_ERROR,
	RES_N_PW
};
enum res_pw_pick {
	RES_PICK_NONE = 0,
	RES_PICK_REFERENCE,
	RES_PICK_SHADOW,
	RES_PICK_TIE,
	RES_PICK_ERROR,
	RES_N_PICK
};

/* The outcome of the two orders: both shadow -> win, both reference -> loss,
 * either error (or none) -> error, anything else (they disagree, a tie) ->
 * tie. */
enum res_pw_outcome res_pw_outcome_of(enum res_pw_pick ab, enum res_pw_pick ba);

/* The public name; "unknown" for a value out of range. */
const char *res_status_name(enum res_status s);
const char *res_role_name(enum res_role r);
const char *res_cost_source_name(enum res_cost_source c);
/* NONE has no public name: "unknown", like a value out of range. */
const char *res_pw_outcome_name(enum res_pw_outcome o);
const char *res_pw_pick_name(enum res_pw_pick p);

/* Name (len bytes, need not end in NUL) -> enum value; -1 for NULL or a name
 * that is not in the list. Exact, case-sensitive matches only. */
int res_status_parse(const char *s, size_t len);
int res_role_parse(const char *s, size_t len);
int res_cost_source_parse(const char *s, size_t len);
int res_pw_outcome_parse(const char *s, size_t len); /* never RES_PW_NONE */
int res_pw_pick_parse(const char *s, size_t len);    /* never RES_PICK_NONE */

/* Writes "a, b, c", every name of the vocabulary, into out (truncated to
 * size), for error messages; returns out. */
const char *res_status_list(char *out, size_t size);
const char *res_role_list(char *out, size_t size);
const char *res_cost_source_list(char *out, size_t size);
const char *res_pw_outcome_list(char *out, size_t size);
const char *res_pw_pick_list(char *out, size_t size);

#endif
