/* vocab.c: the names of results.jsonl's statuses, roles and cost sources;
 * see vocab.h. The name tables are sized by the enums' counts, so a value
 * added to an enum without a name fails to compile. */
#include "results/vocab.h"

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

static const char *const cost_names[] = {"reported", "pricing", "unknown", "litellm_header"};
_Static_assert(sizeof(cost_names) / sizeof(cost_names[0]) == RES_N_COST,
	       "one name per enum res_cost_source");

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
