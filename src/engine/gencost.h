/* gencost.h: OpenRouter's generation lookup, GET {base_url}/generation?id=,
 * for the exact cost of a reply that did not carry one. A stream cut before
 * its final usage chunk was still billed; without the lookup its cost would
 * be unknown and spend (--max-cost, the summaries) under-counted.
 *
 * This file holds the policy and the request, not engine state: when to ask
 * (eng_gen_enabled, eng_gen_wanted), setting up one lookup on an easy handle
 * (eng_gen_setup), and what its end means (eng_gen_done: the cost, another
 * try later, or give up). engine.c runs the lookup as the last phase of the
 * job whose reply it prices, on the run's one multi handle: the job keeps
 * its place in the concurrency until the lookup ends, then finishes with
 * the cost (cost_source "generation") or, when every try failed, unknown.
 *
 * Bounded: at most ENG_GEN_ATTEMPTS lookups per reply, each at most
 * ENG_GEN_TIMEOUT_MS, none started more than ENG_GEN_TOTAL_MS after the
 * first. 404 (OpenRouter records a generation a moment after it ends), 429,
 * 5xx and transport errors are tried again after retry.base_ms, doubling up
 * to retry.max_ms (a Retry-After is honoured when it fits in retry.max_ms);
 * any other answer gives up at once.
 */
#ifndef SE_ENGINE_GENCOST_H
#define SE_ENGINE_GENCOST_H

#include <stdbool.h>

#include <curl/curl.h>

#include "core/buf.h"

struct cfg_endpoint;
struct cfg_retry;
struct wire_reply;

#define ENG_GEN_ATTEMPTS 4
#define ENG_GEN_TIMEOUT_MS 10000L
#define ENG_GEN_TOTAL_MS 30000.0
#define ENG_GEN_MAX_BODY (1u << 20) /* a lookup reply larger than this is not one */
#define ENG_GEN_ID_MAX 128

/* One reply's lookup; lives in the job (engine.c). */
struct eng_gen {
	char id[ENG_GEN_ID_MAX]; /* the generation id, "" when the reply carried none */
	struct buf url;		 /* {base_url}/generation?id=<id, escaped> */
	struct buf body;	 /* the lookup's reply */
	bool too_big;		 /* the reply passed ENG_GEN_MAX_BODY */
	bool active;		 /* the job is in its lookup phase */
	int attempts;		 /* lookups started */
	double deadline;	 /* own clock: no lookup starts after it */
	double cost;		 /* data.total_cost, NaN until a lookup gave it */
	char why[96];		 /* why the last lookup failed ("HTTP 404", ...) */
};

void eng_gen_init(struct eng_gen *g);
/* Before a job's first attempt: no id, no cost, not active. */
void eng_gen_reset(struct eng_gen *g);
void eng_gen_free(struct eng_gen *g);

/* Whether the endpoint's replies are looked up: endpoints.NAME.
 * generation_cost when set, else whether base_url's host is openrouter.ai. */
bool eng_gen_enabled(const struct cfg_endpoint *ep);

/* Notes the reply's X-Generation-Id header (h: the finished transfer), the id
 * to use when the body carried none (a stream cut before its first event, a
 * body cut mid-JSON). */
void eng_gen_note_header(struct eng_gen *g, CURL *h);

/* Whether the finished reply is to be looked up: the endpoint is enabled,
 * the server answered 2xx (an error reply is not billed), it carried a
 * generation id (the body's "id", else the header noted above; copied into
 * g->id) and no cost of its own (usage.cost, header_cost NaN). */
bool eng_gen_wanted(struct eng_gen *g, const struct cfg_endpoint *ep, const struct wire_reply *r,
		    double header_cost, long http);

/* Sets up lookup number g->attempts + 1 on h (a reset easy handle): GET of
 * the lookup URL with the endpoint's headers (its Authorization among them),
 * cainfo for https (NULL: libcurl's default). The first call starts the
 * deadline at now. Returns -1 when the URL cannot be built. */
int eng_gen_setup(struct eng_gen *g, CURL *h, const char *base_url,
		  const struct curl_slist *headers, const char *cainfo, double now);

enum eng_gen_next { ENG_GEN_GOT = 0, ENG_GEN_AGAIN, ENG_GEN_GIVE_UP };

/* A lookup on h ended with cc. GOT: g->cost is set. AGAIN: start the next
 * lookup at *at (own clock). GIVE_UP: g->why says why. */
enum eng_gen_next eng_gen_done(struct eng_gen *g, CURL *h, CURLcode cc, const struct cfg_retry *r,
			       double now, double *at);

#endif
