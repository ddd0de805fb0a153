/* vocab.c: the names of results.jsonl's statuses, roles, cost sources and
 * pairwise outcomes;
 * see vocab.h. The name tables are sized by the enums' counts, so a value
 * added to an enum without a name fails to compile. */
#include "results/vocab.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    "ok",      "http_4xx",     "http_5xx",     "rate_limited", "timeout",
    "network", "bad_response", "stream_error", "budget",
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == RES_N_STATUS,
	       "one name per enum res_status");

static const char *const role_names[] = {"primary", "shadow", "fallback"};
_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == RES_N_ROLE,
	       "one name per enum res_role");

static const char *const cost_names[] = {"reported", "pricing", "unknown", "litellm_header",
					 "generation"};
_Static_assert(sizeof(cost_names) / sizeof(cost_names[0]) == RES_N_COST,
	       "one name per enum res_cost_source");

/* Indexed by value - 1: NONE (0) has no name. */
static const char *const pw_names[] = {"win", "loss", "tie", "error"};
_Static_assert(sizeof(pw_names) / sizeof(pw_names[0]) == RES_N_PW - 1,
	       "one name per enum res_pw_outcome but NONE");

static const char *const pick_names[] = {"reference", "shadow", "tie", "error"};
_Static_assert(sizeof(pick_names) / sizeof(pick_names[0]) == RES_N_PICK - 1,
	       "one name per enum res_pw_pick but NONE");

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

static int parse(const char *const *names, size_t n, const char *s, size_t len)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], s, len))
			return (int)i;
	return -1;
}

static const char *join(const char *const *names, size_t n, char *out, size_t size)
{
	size_t len = 0;
	if (size)
		out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", names[i]);
	return out;
}

const char *res_status_name(enum res_status s)
{
	return name_of(status_names, RES_N_STATUS, (int)s);
}

const char *res_role_name(enum res_role r)
{
	return name_of(role_names, RES_N_ROLE, (int)r);
}

const char *res_cost_source_name(enum res_cost_source c)
{
	return name_of(cost_names, RES_N_COST, (int)c);
}

int res_status_parse(const char *s, size_t len)
{
	return parse(status_names, RES_N_STATUS, s, len);
}

int res_role_parse(const char *s, size_t len)
{
	return parse(role_names, RES_N_ROLE, s, len);
}

int res_cost_source_parse(const char *s, size_t len)
{
	return parse(cost_names, RES_N_COST, s, len);
}

const char *res_status_list(char *out, size_t size)
{
	return join(status_names, RES_N_STATUS, out, size);
}

const char *res_role_list(char *out, size_t size)
{
	return join(role_names, RES_N_ROLE, out, size);
}

const char *res_cost_source_list(char *out, size_t size)
{
	return join(cost_names, RES_N_COST, out, size);
}

const char *res_pw_outcome_name(enum res_pw_outcome o)
{
	return name_of(pw_names, RES_N_PW - 1, (int)o - 1);
}

const char *res_pw_pick_name(enum res_pw_pick p)
{
	return name_of(pick_names, RES_N_PICK - 1, (int)p - 1);
}

int res_pw_outcome_parse(const char *s, size_t len)
{
	int v = parse(pw_names, RES_N_PW - 1, s, len);
	return v < 0 ? -1 : v + 1;
}

int res_pw_pick_parse(const char *s, size_t len)
{
	int v = parse(pick_names, RES_N_PICK - 1, s, len);
	return v < 0 ? -1 : v + 1;
}

const char *res_pw_outcome_list(char *out, size_t size)
{
	return join(pw_names, RES_N_PW - 1, out, size);
}

const char *res_pw_pick_list(char *out, size_t size)
{
	return join(pick_names, RES_N_PICK - 1, out, size);
}

enum res_pw_outcome res_pw_outcome_of(enum res_pw_pick ab, enum res_pw_pick ba)
{
	bool ab_ok = ab != RES_PICK_NONE && ab != RES_PICK_ERROR;
	bool ba_ok = ba != RES_PICK_NONE && ba != RES_PICK_ERROR;
	if (!ab_ok || !ba_ok)
		return RES_PW_ERROR;
	if (ab == RES_PICK_SHADOW && ba == RES_PICK_SHADOW)
		return RES_PW_WIN;
	if (ab == RES_PICK_REFERENCE && ba == RES_PICK_REFERENCE)
		return RES_PW_LOSS;
	return RES_PW_TIE;
}
