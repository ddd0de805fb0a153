/* gens.c: shadowsim's record of the generations it produced, for OpenRouter's
 * generation lookup, GET /api/v1/generation?id= (and /v1/generation): each
 * 200 reply's id, model, tokens and the cost it billed, streams cut by a
 * fault included (OpenRouter bills a stream it cut in full, so the harness
 * can price a reply that never got to its usage chunk).
 *
 * Bounded: a 4-way set-associative table of SIM_GENS_SETS x 4 entries; a
 * full set drops its oldest entry, and an id no longer held answers 404 as
 * an unknown one does (a real gateway's lookup can 404 too). Thread-safe:
 * the server's threads record and look up under one mutex.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/jsonw.h"
#include "core/xalloc.h"
#include "sim/sim.h"

#define SIM_GENS_PROVIDER "Shadowsim" /* as reply.c names itself */

#define SIM_GENS_SETS 4096u /* x SIM_GENS_WAYS entries, ~100 bytes each */
#define SIM_GENS_WAYS 4u

struct sim_gen {
	uint64_t seq; /* 0: empty */
	char id[48];
	const char *model; /* the profiles' (they outlive the server) */
	long prompt_tokens;
	long completion_tokens;
	double cost;
	long created;
	bool streamed;
	const char *finish_reason; /* static text */
};

struct sim_gens {
	pthread_mutex_t mu;
	uint64_t seq;
	struct sim_gen *e; /* SIM_GENS_SETS * SIM_GENS_WAYS */
};

struct sim_gens *sim_gens_new(void)
{
	struct sim_gens *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	g->e = xcalloc((size_t)SIM_GENS_SETS * SIM_GENS_WAYS, sizeof(*g->e));
	return g;
}

void sim_gens_free(struct sim_gens *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g->e);
	free(g);
}

static struct sim_gen *set_of(struct sim_gens *g, const char *id)
{
	uint64_t h = sim_hash(0, "gen", id, 0, "set");
	return &g->e[(size_t)(h % SIM_GENS_SETS) * SIM_GENS_WAYS];
}

void sim_gens_put(struct sim_gens *g, const struct sim_plan *pl)
{
	if (!pl->gen_id[0])
		return;
	pthread_mutex_lock(&g->mu);
	struct sim_gen *set = set_of(g, pl->gen_id), *slot = &set[0];
	for (unsigned i = 0; i < SIM_GENS_WAYS; i++) {
		if (set[i].seq && !strcmp(set[i].id, pl->gen_id)) {
			slot = &set[i]; /* the same request again (a repeat sample) */
			break;
		}
		if (set[i].seq < slot->seq)
			slot = &set[i];
	}
	*slot = (struct sim_gen){.seq = ++g->seq,
				 .model = pl->model->id,
				 .prompt_tokens = pl->prompt_tokens,
				 .completion_tokens = pl->completion_tokens,
				 .cost = pl->cost,
				 .created = pl->created,
				 .streamed = pl->stream,
				 .finish_reason = sim_fault_ends_in_error(pl->fault) ? "error"
						  : pl->fault == SIM_FAULT_TRUNCATE
						      ? NULL
						      : pl->finish_reason};
	snprintf(slot->id, sizeof(slot->id), "%s", pl->gen_id);
	pthread_mutex_unlock(&g->mu);
}

/* OpenRouter's documented shape (GET /generation: {"data": {...}}); the
 * fields a client reads for cost and tokens, plus the ones that say what
 * happened to the stream. */
static void gen_body(struct buf *b, const struct sim_gen *e)
{
	buf_puts(b, "{\"data\":{\"id\":");
	jsonw_str(b, e->id);
	buf_puts(b, ",\"total_cost\":");
	jsonw_double(b, e->cost);
	buf_puts(b, ",\"usage\":");
	jsonw_double(b, e->cost);
	buf_puts(b, ",\"upstream_inference_cost\":");
	jsonw_double(b, e->cost);
	char when[40] = "";
	time_t t = (time_t)e->created;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	buf_puts(b, ",\"cache_discount\":null,\"created_at\":");
	jsonw_str(b, when);
	buf_puts(b, ",\"model\":");
	jsonw_str(b, e->model);
	buf_puts(b, ",\"provider_name\":\"" SIM_GENS_PROVIDER "\",\"streamed\":");
	jsonw_bool(b, e->streamed);
	buf_puts(b, ",\"cancelled\":false,\"is_byok\":false,\"tokens_prompt\":");
	jsonw_long(b, e->prompt_tokens);
	buf_puts(b, ",\"tokens_completion\":");
	jsonw_long(b, e->completion_tokens);
	buf_puts(b, ",\"native_tokens_prompt\":");
	jsonw_long(b, e->prompt_tokens);
	buf_puts(b, ",\"native_tokens_completion\":");
	jsonw_long(b, e->completion_tokens);
	buf_puts(b, ",\"native_tokens_reasoning\":0,\"native_tokens_cached\":0,"
		    "\"finish_reason\":");
	jsonw_str(b, e->finish_reason);
	buf_puts(b, ",\"native_finish_reason\":");
	jsonw_str(b, e->finish_reason);
	buf_puts(b, "}}");
}

int sim_gens_reply(struct sim_gens *g, const char *id, struct buf *body)
{
	if (!id || !*id) {
		sim_error_body(body, 400, "Missing the generation id (?id=)", "invalid_request");
		return 400;
	}
	struct sim_gen found = {0};
	pthread_mutex_lock(&g->mu);
	struct sim_gen *set = set_of(g, id);
	for (unsigned i = 0; i < SIM_GENS_WAYS; i++)
		if (set[i].seq && !strcmp(set[i].id, id))
			found = set[i];
	pthread_mutex_unlock(&g->mu);
	if (!found.seq) {
		sim_error_body(body, 404, "Generation not found", "not_found");
		return 404;
	}
	gen_body(body, &found);
	return 200;
}
