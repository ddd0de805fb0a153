/* sim.h: shadowsim, the local OpenAI-compatible model simulator.
 *
 * Four parts, one file each:
 *   profile.c  the profiles file: per model latency, accuracy, prices,
 *              context window and fault rates (strict: unknown keys fail)
 *   items.c    with --eval: every dataset item's identity (sha256 of its last
 *              user message), task, and a correct and a wrong answer text that
 *              pass and fail the eval's checks
 *   judge.c    judge models: a request that carries the rubric delimiters
 *              ([ANSWER], [ANSWER A]/[ANSWER B]) to a model with
 *              judge_accuracy gets a Score or Verdict line from the truth
 *   reply.c    the decisions for one request (hash-seeded, never timing) and
 *              the bytes of every reply: completion, stream chunks, errors,
 *              the /models list, all in OpenRouter's shapes
 *   server.c   the HTTP server (libmicrohttpd, thread pool + poll()) with a
 *              timer thread that resumes suspended connections when their
 *              latency has elapsed
 * main.c parses the command line and owns the process (signals, exit codes).
 *
 * Determinism: every random choice is sim_hash(seed, model, item key,
 * attempt, purpose) mapped to [0,1), so the same request gets the same answer,
 * latency and fault whatever the order or concurrency of requests.
 *
 * Ownership: sim_profiles and sim_items own everything reachable from them and
 * are read-only once loaded (the server's threads share them); the server
 * borrows both and must be stopped before they are freed.
 */
#ifndef SE_SIM_H
#define SE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- profiles (profile.c) ---- */

enum sim_jitter { SIM_JITTER_NONE = 0, SIM_JITTER_UNIFORM, SIM_JITTER_LOGNORMAL };

/* Faults, in the order their rates are stacked on one uniform draw. */
enum sim_fault {
	SIM_FAULT_NONE = 0,
	SIM_FAULT_RATE_LIMIT, /* 429 with Retry-After */
	SIM_FAULT_HTTP_500,
	SIM_FAULT_HTTP_502,
	SIM_FAULT_HTTP_503,
	SIM_FAULT_STALL,     /* answer only after stall_ms: the client times out */
	SIM_FAULT_DROP,	     /* close the connection without a response */
	SIM_FAULT_MALFORMED, /* 200 with invalid JSON */
	SIM_FAULT_TRUNCATE,  /* the body or stream stops early, connection closed */
	SIM_FAULT_MIDSTREAM, /* 200, some content, then finish_reason "error" */
	SIM_FAULT_EMPTY,     /* 200 with content "" */
	/* Hostile replies for the harness's own tests (new ones go last, so
	 * the draws of existing profiles do not move): */
	SIM_FAULT_ECHO_HEADERS,	      /* 200: content and model are the request headers */
	SIM_FAULT_ECHO_HEADERS_ERROR, /* the same, then an error whose message echoes them */
	SIM_FAULT_ENDLESS,	      /* content that never ends, streamed or not */
	SIM_FAULT_AFTER_DONE,	      /* streams: more events after data: [DONE] */
	SIM_FAULT_JSON_WHEN_STREAM,   /* streams: a plain JSON chat.completion body */
	SIM_FAULT_ERROR_200,	      /* 200 with an OpenRouter error object */
	SIM_FAULT_USAGE_NEGATIVE,     /* usage: negative tokens and cost */
	SIM_FAULT_USAGE_STRING,	      /* usage: tokens and cost as words */
	SIM_FAULT_USAGE_HUGE,	      /* usage: tokens and cost near DBL_MAX */
	SIM_FAULT_DONE_HANG, /* streams: data: [DONE], then the body ends only after stall_ms */
	SIM_FAULT_COUNT
};

/* "rate_limit", "http_500", ...: the profile key of a fault ("none" for 0). */
const char *sim_fault_name(enum sim_fault f);

struct sim_task_acc {
	char *task;
	double p;
};

/* The bounds of a profile's latency (profile.c) and of any delay the server
 * computes from them (reply.c: after jitter, each of ttft and generation
 * saturates at SIM_MAX_DELAY_MS, so every due time is finite). */
#define SIM_MAX_LATENCY_MS 3600e3 /* ttft_ms, stall_ms */
#define SIM_MIN_TOKENS_PER_S 0.01 /* tokens_per_s: 0 (instant) or this.. */
#define SIM_MAX_TOKENS_PER_S 1e9  /* ..to this */
#define SIM_MAX_JITTER_FRAC 10.0  /* jitter_frac */
#define SIM_MAX_DELAY_MS 86400e3  /* a day */

struct sim_model {
	char *id;
	long context_length;	 /* tokens (chars/4); default 128000 */
	double price_prompt;	 /* USD per prompt token */
	double price_completion; /* USD per completion token */
	double price_request;	 /* USD per request */
	double ttft_ms;		 /* time to first token */
	double tokens_per_s;	 /* 0: instant */
	enum sim_jitter jitter;
	double jitter_frac; /* spread of the jitter (uniform: +-frac, lognormal: sigma) */
	double accuracy;    /* chance of the correct answer, default 0.8 */
	struct sim_task_acc *by_task;
	size_t n_by_task;
	long output_tokens;		    /* typical answer length (padding), default 40 */
	double fault_rate[SIM_FAULT_COUNT]; /* [0] unused */
	double retry_after_s;		    /* Retry-After of a 429, default 1 */
	bool retry_after_date;		    /* send it as an HTTP-date (now + retry_after_s) */
	bool retry_after_body;		    /* also error.metadata.retry_after in the body */
	long stall_ms;			    /* default 60000 */
	int first_attempts;		    /* >0: faults only on attempts <= this */
	bool litellm_cost;		    /* "cost_report": "litellm_header": the cost in an
					     * x-litellm-response-cost header, not in usage.cost */
	bool judge;			    /* "judge_accuracy" given: grades rubric requests */
	double judge_accuracy;		    /* chance to report the truth */
	double position_bias;		    /* pairwise: chance to answer A whatever the truth */
};

struct sim_profiles {
	char *path;
	bool has_seed;
	uint64_t seed;
	bool require_key;
	struct sim_model *models;
	size_t n_models;
};

/* Loads and validates a profiles file. Errors name the file and the JSON path
 * (kind SE_INPUT), e.g. `p.json: models["a/b"].latency.jiter: unknown key`.
 * On failure *p is left empty (sim_profiles_free is still safe). */
int sim_profiles_load(const char *path, struct sim_profiles *p, struct se_err *err);
void sim_profiles_free(struct sim_profiles *p);
/* The model with this id, or NULL. */
const struct sim_model *sim_profiles_find(const struct sim_profiles *p, const char *id);
/* The accuracy for a task (by_task, else the default). */
double sim_model_accuracy(const struct sim_model *m, const char *task);

/* ---- hashing ---- */

/* A 64-bit hash of (seed, model, key, attempt, purpose): FNV-1a over the
 * fields, finished with splitmix64. */
uint64_t sim_hash(uint64_t seed, const char *model, const char *key, int attempt,
		  const char *purpose);
/* The hash mapped to [0,1). */
double sim_unit(uint64_t h);

/* ---- eval items (items.c) ---- */

struct sim_item {
	char key[65]; /* sha256 hex of the last user message's content */
	char *id;
	char *task;
	char **correct; /* per model (index in sim_profiles.models) */
	char **wrong;	/* per model; NULL when no text fails the checks */
	char *input;	/* the last user message's content ("" when not a string) */
};

struct sim_items;

/* Loads the eval (cfg_load), reads its dataset, renders each item's messages
 * and precomputes, per model of p, an answer that passes the eval's checks
 * and one that fails them. Errors are the config's, dataset's or prompt's. */
int sim_items_load(struct sim_items **out, const char *eval_path, const struct sim_profiles *p,
		   struct se_err *err);
void sim_items_free(struct sim_items *t);
size_t sim_items_count(const struct sim_items *t);
/* The item whose key is key_hex, or NULL. */
const struct sim_item *sim_items_find(const struct sim_items *t, const char *key_hex);

/* Whether shadowsim generated text (trimmed of surrounding white space) as
 * a correct answer: true when it is some model's correct answer of an item;
 * false for a wrong answer or a text it never generated. A text that is
 * correct for one item and wrong for another is decided by the item whose
 * input `prompt` contains (the judge's rubric quotes it). */
bool sim_items_answer_correct(const struct sim_items *t, const char *text, size_t len,
			      const char *prompt);

/* Padding text of about `tokens` tokens (4 chars each), no digits. */
void sim_padding(struct buf *b, long tokens);

struct cJSON;
/* The identity of a conversation: sha256 hex of the content of its last
 * message with role "user" (a non-string content is hashed as its compact
 * JSON). Returns 0, or -1 when messages is not an array or has no user
 * message. The harness's rendered items and incoming requests use this same
 * function, so they meet. */
int sim_messages_key(const struct cJSON *messages, char hex[65]);

/* ---- judge models (judge.c) ---- */

/* A pairwise verdict, by letter. */
enum sim_pick { SIM_PICK_A = 0, SIM_PICK_B, SIM_PICK_TIE };

/* The score a judge reports: the truth (correct) with probability accuracy,
 * else the opposite. u is a uniform draw in [0,1). True means `Score: 5`. */
bool sim_judge_decide(double accuracy, bool correct, double u);
/* A pairwise judge's letter: with probability bias `A` whatever the truth
 * (u[0]); else the truth with probability accuracy (u[1]); else the other
 * letter, or when the truth is a tie a letter drawn by u[2]. */
enum sim_pick sim_pairwise_decide(double accuracy, double bias, enum sim_pick truth,
				  const double u[3]);

struct sim_plan;
struct sim_request_ctx;
/* When messages carry a rubric (JUDGE.md section 2 delimiters), appends the
 * judge model m's reply (`Score: N` or `Verdict: X`) to pl->content, sets
 * pl->correct to whether it told the truth and returns true; false leaves
 * pl untouched (the request is answered as by any model). Draws come from
 * (seed, model, sha256 of the rubric message, draw). */
bool sim_judge_reply(const struct sim_request_ctx *ctx, const struct sim_model *m,
		     const struct cJSON *messages, int draw, struct sim_plan *pl);

/* ---- one request (reply.c) ---- */

/* Everything decided about one request before a byte is sent. */
struct sim_plan {
	const struct sim_model *model;
	int model_index;
	const struct sim_item *item; /* NULL when unknown */
	char key[65];
	int attempt;
	int sample;	    /* from X-Shadoweval-Sample (run --repeats), 0 when absent */
	double temperature; /* the request's, 0 when absent */
	bool stream;
	long max_tokens; /* 0: none */
	enum sim_fault fault;
	bool correct;
	struct buf content; /* the full answer text */
	long prompt_tokens;
	long completion_tokens;
	double cost, cost_prompt, cost_completion;
	double ttft_ms;		   /* after jitter */
	double gen_ms;		   /* from first to last token, after jitter */
	const char *finish_reason; /* "stop" or "length" */
	long created;
	char gen_id[48];
	size_t *piece_end; /* streams: end offset of each piece of content */
	size_t n_pieces;
	struct buf echo; /* the echo faults: the request headers, one per line */
};

void sim_plan_init(struct sim_plan *pl);
void sim_plan_free(struct sim_plan *pl);

/* The outcome of parsing a request: either a plan, or an error reply. */
struct sim_request_ctx {
	const struct sim_profiles *profiles;
	const struct sim_items *items; /* may be NULL */
	uint64_t seed;
	int attempt; /* from X-Shadoweval-Attempt, 1 when absent */
	int sample;  /* from X-Shadoweval-Sample, 0 when absent */
};

/* Parses a chat-completions body and fills pl. Returns 0, or the HTTP status
 * of an error reply (400) with its JSON body written to err_body. */
int sim_plan_request(const struct sim_request_ctx *ctx, const char *body, size_t len,
		     struct sim_plan *pl, struct buf *err_body);

/* The echo faults: the answer, the model field and any error message become
 * `headers` (the request's headers, "Name: value" lines). */
void sim_plan_echo(struct sim_plan *pl, const char *headers, size_t len);
/* The Retry-After value of a 429 for m ("120" or an HTTP-date). */
void sim_retry_after(const struct sim_model *m, char *out, size_t size);
/* The body of the endless fault up to where the content starts (JSON: an
 * unterminated string follows for ever). */
void sim_endless_head(struct buf *b, const struct sim_plan *pl);
/* Faults whose 200 reply ends with an error after content (midstream_error,
 * echo_headers_error). */
bool sim_fault_ends_in_error(enum sim_fault f);

/* OpenRouter's error body {"error":{"code":N,"message":...,"metadata":{"error_type":...}}}. */
void sim_error_body(struct buf *b, int code, const char *message, const char *error_type);
/* The error reply of an HTTP-level fault (429, 500, 502, 503) for a plan. */
int sim_fault_status(enum sim_fault f);
void sim_fault_body(struct buf *b, const struct sim_plan *pl);

/* A whole non-streaming chat.completion body (honours EMPTY, MIDSTREAM,
 * MALFORMED: the latter is cut in the middle). */
void sim_completion_body(struct buf *b, const struct sim_plan *pl);

/* Streams: the answer is split into pieces (a word with its leading spaces,
 * or a newline) by sim_plan_request; each piece is one chunk. */
/* Appends "data: {chunk}\n\n" for piece i (0 <= i < n), with delta.role on
 * the first one. */
void sim_stream_piece(struct buf *b, const struct sim_plan *pl, size_t i);
/* The first chunk (role, content ""), the finish chunk, the usage chunk, the
 * mid-stream error chunk, and an invalid event for the malformed fault. */
void sim_stream_role(struct buf *b, const struct sim_plan *pl);
void sim_stream_finish(struct buf *b, const struct sim_plan *pl);
void sim_stream_usage(struct buf *b, const struct sim_plan *pl);
void sim_stream_error(struct buf *b, const struct sim_plan *pl);
void sim_stream_malformed(struct buf *b, const struct sim_plan *pl);

/* GET /models: {"data":[...],"total_count":n,"links":{"next":null}}. */
void sim_models_body(struct buf *b, const struct sim_profiles *p);
/* A price as OpenRouter writes it: a decimal string without exponent. */
void sim_price_str(double v, char *out, size_t size);

/* ---- generations (gens.c): GET /api/v1/generation?id= ---- */

/* What shadowsim billed for each generation it produced (a 200 reply, a
 * stream cut by a fault included), for OpenRouter's generation lookup.
 * Bounded (older entries are dropped: their lookup is a 404); thread-safe. */
struct sim_gens;
struct sim_gens *sim_gens_new(void);
void sim_gens_free(struct sim_gens *g); /* NULL is safe */
void sim_gens_put(struct sim_gens *g, const struct sim_plan *pl);
/* The lookup's reply for id into body (OpenRouter's {"data": {"id",
 * "total_cost", "tokens_prompt", ...}}, or an error body); returns its HTTP
 * status: 200, 404 for an id not held, 400 for none. */
int sim_gens_reply(struct sim_gens *g, const char *id, struct buf *body);

/* ---- the front door (door.c): request lines checked before MHD ---- */

/* Checks the start of a request, buf[0..n): 0 when the request line is not
 * whole yet, 1 when it is well-formed (METHOD SP TARGET SP HTTP/1.0 or 1.1,
 * after any empty lines), else the HTTP status to answer (400, or 505 for
 * another HTTP version) with *why the message. */
int sim_request_line_check(const char *buf, size_t n, const char **why);

struct MHD_Daemon;
struct sim_door_opts {
	int listen_fd;	      /* listening, non-blocking; the caller closes it */
	struct MHD_Daemon *d; /* started with MHD_USE_NO_LISTEN_SOCKET */
	unsigned header_timeout_s;
	unsigned limit; /* connections open at once, waiting or handed over */
	bool verbose;
};
struct sim_door;
int sim_door_start(struct sim_door **out, const struct sim_door_opts *o, struct se_err *err);
/* MHD closed a connection the door handed over (from MHD's close notice). */
void sim_door_closed(struct sim_door *dr);
/* When fd was accepted (monotonic ms); now for an fd the door never saw. */
double sim_door_opened_at(const struct sim_door *dr, int fd);
/* Stops accepting, closes the connections still waiting; NULL is safe. */
void sim_door_stop(struct sim_door *dr);

/* ---- server (server.c) ---- */

struct sim_server_opts {
	const char *host; /* IPv4 or IPv6 literal; "127.0.0.1" when NULL */
	int port;	  /* 0: any free port */
	uint64_t seed;
	bool verbose;	  /* one line per request on stderr */
	unsigned threads; /* 0: one per core */
	/* A connection must deliver a whole request within this many seconds
	 * of opening or of its previous reply (0: SIM_HEADER_TIMEOUT_S). */
	unsigned header_timeout_s;
	/* A connection with no traffic for this long is closed (0:
	 * SIM_IDLE_TIMEOUT_S); a connection waiting for its reply is not idle. */
	unsigned idle_timeout_s;
};

#define SIM_HEADER_TIMEOUT_S 10u
#define SIM_IDLE_TIMEOUT_S 30u

struct sim_server;

int sim_server_start(struct sim_server **out, const struct sim_profiles *p,
		     const struct sim_items *items, const struct sim_server_opts *o,
		     struct se_err *err);
int sim_server_port(const struct sim_server *s);
/* Resumes every waiting connection (they are closed), stops the daemon and
 * the timer thread, and frees s. NULL is safe. */
void sim_server_stop(struct sim_server *s);

#endif
