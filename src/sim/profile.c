/* profile.c: shadowsim's profiles file (see sim.h), parsed strictly.
 *
 * Every key is known or an error naming the file and JSON path; numbers are
 * range-checked here so the server never meets a rate above 1, a negative
 * price or a latency that does not end (ttft_ms and stall_ms up to an hour,
 * tokens_per_s 0 or 0.01..1e9, jitter_frac up to 10; reply.c still
 * saturates every delay at SIM_MAX_DELAY_MS). Also the request hash every random choice comes from.
 * It does not read the eval (items.c) nor build replies (reply.c).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jsonv.h"
#include "core/xalloc.h"
#include "sim/sim.h"

static const char *const fault_names[SIM_FAULT_COUNT] = {
    "none",
    "rate_limit",
    "http_500",
    "http_502",
    "http_503",
    "stall",
    "drop",
    "malformed",
    "truncate",
    "midstream_error",
    "empty",
    "echo_headers",
    "echo_headers_error",
    "endless",
    "after_done",
    "json_when_stream",
    "error_200",
    "usage_negative",
    "usage_string",
    "usage_huge",
    "done_hang",
};

const char *sim_fault_name(enum sim_fault f)
{
	return (unsigned)f < SIM_FAULT_COUNT ? fault_names[f] : "none";
}

/* ---- hashing ---- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff; /* field separator: ("ab","c") != ("a","bc") */
	h *= 0x100000001b3ULL;
	return h;
}

uint64_t sim_hash(uint64_t seed, const char *model, const char *key, int attempt,
		  const char *purpose)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", attempt);
	uint64_t h = 0xcbf29ce484222325ULL ^ splitmix64(seed);
	h = fnv_str(h, model);
	h = fnv_str(h, key);
	h = fnv_str(h, num);
	h = fnv_str(h, purpose);
	return splitmix64(h);
}

double sim_unit(uint64_t h)
{
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- strict JSON reading (core/jsonv) ---- */

/* Fails on the first key of obj not in `known` (NULL-terminated), at the
 * key's own path. */
static int check_keys(const struct jsonv *c, const cJSON *obj, const char *path,
		      const char *const *known)
{
	const char *bad = jsonv_unknown_key(obj, known);
	if (!bad)
		return 0;
	char p[JSONV_PATH];
	jsonv_key(p, path, bad);
	return jsonv_fail(c, p, "unknown key \"%s\"", bad);
}

/* Reads an optional number in [lo, hi] into *out. */
static int get_num(const struct jsonv *c, const cJSON *obj, const char *key, const char *path,
		   double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	char p[JSONV_PATH];
	jsonv_key(p, path, key);
	if (!jsonv_number_in(v, -HUGE_VAL, HUGE_VAL))
		return jsonv_fail(c, p, "expected a number");
	if (!jsonv_number_in(v, lo, hi))
		return jsonv_fail(c, p, "out of range (expected %g..%g)", lo, hi);
	*out = v->valuedouble;
	return 0;
}

/* Reads an optional boolean into *out. */
static int get_bool(const struct jsonv *c, const cJSON *obj, const char *key, const char *path,
		    bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	char p[JSONV_PATH];
	jsonv_key(p, path, key);
	if (!jsonv_is(v, JSONV_BOOL))
		return jsonv_fail(c, p, "expected true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int want_object(const struct jsonv *c, const cJSON *v, const char *path)
{
	if (!jsonv_is(v, JSONV_OBJECT))
		return jsonv_fail(c, path, "expected an object");
	return 0;
}

static int parse_latency(const struct jsonv *c, const cJSON *v, const char *path,
			 struct sim_model *m)
{
	static const char *const keys[] = {"ttft_ms", "tokens_per_s", "jitter", "jitter_frac",
					   NULL};
	if (want_object(c, v, path) || check_keys(c, v, path, keys))
		return -1;
	if (get_num(c, v, "ttft_ms", path, 0, SIM_MAX_LATENCY_MS, &m->ttft_ms) ||
	    get_num(c, v, "tokens_per_s", path, 0, SIM_MAX_TOKENS_PER_S, &m->tokens_per_s) ||
	    get_num(c, v, "jitter_frac", path, 0, SIM_MAX_JITTER_FRAC, &m->jitter_frac))
		return -1;
	/* 0 is instant; a positive rate must be one that ends: 1e-300 tokens a
	 * second would put the last token past the end of time */
	if (m->tokens_per_s > 0 && m->tokens_per_s < SIM_MIN_TOKENS_PER_S) {
		char p[JSONV_PATH];
		jsonv_key(p, path, "tokens_per_s");
		return jsonv_fail(c, p, "out of range (expected 0 for instant, or %g..%g)",
				  SIM_MIN_TOKENS_PER_S, SIM_MAX_TOKENS_PER_S);
	}
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(v, "jitter");
	if (j) {
		char p[JSONV_PATH];
		jsonv_key(p, path, "jitter");
		const char *s = cJSON_IsString(j) ? j->valuestring : "";
		if (strcmp(s, "none") == 0)
			m->jitter = SIM_JITTER_NONE;
		else if (strcmp(s, "uniform") == 0)
			m->jitter = SIM_JITTER_UNIFORM;
		else if (strcmp(s, "lognormal") == 0)
			m->jitter = SIM_JITTER_LOGNORMAL;
		else
			return jsonv_fail(c, p, "expected \"uniform\", \"lognormal\" or \"none\"");
	}
	return 0;
}

static int parse_accuracy(const struct jsonv *c, const cJSON *v, const char *path,
			  struct sim_model *m)
{
	static const char *const keys[] = {"default", "by_task", NULL};
	if (want_object(c, v, path) || check_keys(c, v, path, keys))
		return -1;
	if (get_num(c, v, "default", path, 0, 1, &m->accuracy))
		return -1;
	const cJSON *bt = cJSON_GetObjectItemCaseSensitive(v, "by_task");
	if (!bt)
		return 0;
	char p[JSONV_PATH];
	jsonv_key(p, path, "by_task");
	if (want_object(c, bt, p))
		return -1;
	int n = cJSON_GetArraySize(bt);
	m->by_task = xcalloc((size_t)n + 1, sizeof(*m->by_task));
	for (const cJSON *it = bt->child; it; it = it->next) {
		double acc = 0;
		if (get_num(c, bt, it->string, p, 0, 1, &acc))
			return -1;
		m->by_task[m->n_by_task].task = xstrdup(it->string);
		m->by_task[m->n_by_task].p = acc;
		m->n_by_task++;
	}
	return 0;
}

static int parse_pricing(const struct jsonv *c, const cJSON *v, const char *path,
			 struct sim_model *m)
{
	static const char *const keys[] = {"prompt", "completion", "request", NULL};
	if (want_object(c, v, path) || check_keys(c, v, path, keys))
		return -1;
	return get_num(c, v, "prompt", path, 0, 1e3, &m->price_prompt) ||
		       get_num(c, v, "completion", path, 0, 1e3, &m->price_completion) ||
		       get_num(c, v, "request", path, 0, 1e6, &m->price_request)
		   ? -1
		   : 0;
}

static int parse_faults(const struct jsonv *c, const cJSON *v, const char *path,
			struct sim_model *m)
{
	static const char *const extra[] = {"retry_after_s", "retry_after_date", "retry_after_body",
					    "stall_ms", "first_attempts"};
	const char *keys[SIM_FAULT_COUNT + sizeof(extra) / sizeof(extra[0])];
	size_t nk = 0;
	for (int f = 1; f < SIM_FAULT_COUNT; f++)
		keys[nk++] = fault_names[f];
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		keys[nk++] = extra[i];
	keys[nk] = NULL;
	if (want_object(c, v, path) || check_keys(c, v, path, keys))
		return -1;
	double sum = 0;
	for (int f = 1; f < SIM_FAULT_COUNT; f++) {
		if (get_num(c, v, fault_names[f], path, 0, 1, &m->fault_rate[f]))
			return -1;
		sum += m->fault_rate[f];
	}
	if (sum > 1.0 + 1e-9) {
		return jsonv_fail(c, path, "fault rates add up to more than 1");
	}
	double stall = (double)m->stall_ms, first = 0;
	/* Up to ~300 years: the harness must survive a hostile Retry-After. */
	if (get_num(c, v, "retry_after_s", path, 0, 1e10, &m->retry_after_s) ||
	    get_bool(c, v, "retry_after_date", path, &m->retry_after_date) ||
	    get_bool(c, v, "retry_after_body", path, &m->retry_after_body) ||
	    get_num(c, v, "stall_ms", path, 0, SIM_MAX_LATENCY_MS, &stall) ||
	    get_num(c, v, "first_attempts", path, 0, 1000, &first))
		return -1;
	m->stall_ms = (long)stall;
	m->first_attempts = (int)first;
	return 0;
}

/* judge_accuracy makes the model a judge (judge.c); position_bias only
 * means something for a judge. */
static int parse_judge(const struct jsonv *c, const cJSON *v, const char *path, struct sim_model *m)
{
	m->judge = cJSON_GetObjectItemCaseSensitive(v, "judge_accuracy") != NULL;
	if (get_num(c, v, "judge_accuracy", path, 0, 1, &m->judge_accuracy) ||
	    get_num(c, v, "position_bias", path, 0, 1, &m->position_bias))
		return -1;
	if (!m->judge && cJSON_GetObjectItemCaseSensitive(v, "position_bias")) {
		char p[JSONV_PATH];
		jsonv_key(p, path, "position_bias");
		return jsonv_fail(c, p, "needs judge_accuracy (only a judge model has a bias)");
	}
	return 0;
}

static int parse_model(const struct jsonv *c, const cJSON *v, struct sim_model *m)
{
	static const char *const keys[] = {
	    "context_length", "pricing",     "latency",	       "accuracy",	"output_tokens",
	    "faults",	      "cost_report", "judge_accuracy", "position_bias", NULL};
	char path[512];
	snprintf(path, sizeof(path), "models[\"%.200s\"]", v->string);
	m->id = xstrdup(v->string);
	m->context_length = 128000;
	m->accuracy = 0.8;
	m->output_tokens = 40;
	m->retry_after_s = 1;
	m->stall_ms = 60000;
	if (!*v->string)
		return jsonv_fail(c, path, "empty model id");
	if (want_object(c, v, path) || check_keys(c, v, path, keys))
		return -1;
	double ctx = (double)m->context_length, out = (double)m->output_tokens;
	if (get_num(c, v, "context_length", path, 1, 1e9, &ctx) ||
	    get_num(c, v, "output_tokens", path, 1, 1e6, &out))
		return -1;
	m->context_length = (long)ctx;
	m->output_tokens = (long)out;
	if (parse_judge(c, v, path, m))
		return -1;
	const cJSON *cr = cJSON_GetObjectItemCaseSensitive(v, "cost_report");
	if (cr) {
		char p[JSONV_PATH];
		jsonv_key(p, path, "cost_report");
		if (!cJSON_IsString(cr) ||
		    (strcmp(cr->valuestring, "usage") && strcmp(cr->valuestring, "litellm_header")))
			return jsonv_fail(c, p, "expected \"usage\" or \"litellm_header\"");
		m->litellm_cost = !strcmp(cr->valuestring, "litellm_header");
	}

	static const struct {
		const char *key;
		int (*fn)(const struct jsonv *, const cJSON *, const char *, struct sim_model *);
	} parts[] = {{"pricing", parse_pricing},
		     {"latency", parse_latency},
		     {"accuracy", parse_accuracy},
		     {"faults", parse_faults}};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cJSON *part = cJSON_GetObjectItemCaseSensitive(v, parts[i].key);
		char p[JSONV_PATH];
		jsonv_key(p, path, parts[i].key);
		if (part && parts[i].fn(c, part, p, m))
			return -1;
	}
	return 0;
}

static int parse_root(const struct jsonv *c, const cJSON *root, struct sim_profiles *p)
{
	static const char *const keys[] = {"seed", "require_key", "models", NULL};
	if (want_object(c, root, "(root)"))
		return -1;
	if (check_keys(c, root, "", keys))
		return -1;
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
	if (seed) {
		if (!jsonv_integer_in(seed, 0, 9007199254740992.0))
			return jsonv_fail(c, "seed", "expected a non-negative integer");
		p->has_seed = true;
		p->seed = (uint64_t)seed->valuedouble;
	}
	const cJSON *rk = cJSON_GetObjectItemCaseSensitive(root, "require_key");
	if (rk) {
		if (!jsonv_is(rk, JSONV_BOOL))
			return jsonv_fail(c, "require_key", "expected true or false");
		p->require_key = cJSON_IsTrue(rk);
	}
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
	if (!models)
		return jsonv_fail(c, "models", "missing (an object of model profiles)");
	if (want_object(c, models, "models"))
		return -1;
	int n = cJSON_GetArraySize(models);
	if (n == 0)
		return jsonv_fail(c, "models", "no models");
	p->models = xcalloc((size_t)n, sizeof(*p->models));
	for (const cJSON *it = models->child; it; it = it->next) {
		for (size_t i = 0; i < p->n_models; i++)
			if (strcmp(p->models[i].id, it->string) == 0) {
				char path[512];
				snprintf(path, sizeof(path), "models[\"%.200s\"]", it->string);
				return jsonv_fail(c, path, "duplicate model id");
			}
		p->n_models++;
		if (parse_model(c, it, &p->models[p->n_models - 1]))
			return -1;
	}
	return 0;
}

int sim_profiles_load(const char *path, struct sim_profiles *p, struct se_err *err)
{
	memset(p, 0, sizeof(*p));
	char *text = NULL;
	size_t len = 0;
	if (fio_read_all(path, &text, &len, err))
		return -1;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t off = end ? (size_t)(end - text) : 0;
		size_t line = 1, col = 1;
		for (size_t i = 0; i < off && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		free(text);
		char where[512];
		snprintf(where, sizeof(where), "%.400s:%zu:%zu", path, line, col);
		return se_fail(err, SE_INPUT, where, "invalid JSON");
	}
	free(text);
	struct jsonv c = {.file = path, .err = err};
	int rc = parse_root(&c, root, p);
	cJSON_Delete(root);
	if (rc) {
		sim_profiles_free(p);
		return -1;
	}
	p->path = xstrdup(path);
	return 0;
}

void sim_profiles_free(struct sim_profiles *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_models; i++) {
		struct sim_model *m = &p->models[i];
		free(m->id);
		for (size_t k = 0; k < m->n_by_task; k++)
			free(m->by_task[k].task);
		free(m->by_task);
	}
	free(p->models);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const struct sim_model *sim_profiles_find(const struct sim_profiles *p, const char *id)
{
	for (size_t i = 0; id && i < p->n_models; i++)
		if (strcmp(p->models[i].id, id) == 0)
			return &p->models[i];
	return NULL;
}

double sim_model_accuracy(const struct sim_model *m, const char *task)
{
	for (size_t i = 0; task && i < m->n_by_task; i++)
		if (strcmp(m->by_task[i].task, task) == 0)
			return m->by_task[i].p;
	return m->accuracy;
}
