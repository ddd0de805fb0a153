/* parts.c: the engine's small pure parts: status classes, cache modes, the
 * PRNG, full-jitter backoff, the timer heap, the rpm token bucket, the cache
 * key and the --resume set. No I/O and no curl handles here, so
 * tests/test_engine.c checks each alone. */
#include <math.h>
#include <string.h>

#include <curl/curl.h>

#include "config/config.h"
#include "core/sha256.h"
#include "core/xalloc.h"
#include "engine/engine.h"

bool eng_status_retryable(enum res_status s)
{
	switch (s) {
	case RES_RATE_LIMITED:
	case RES_HTTP_5XX:
	case RES_TIMEOUT:
	case RES_NETWORK:
	case RES_BAD_RESPONSE:
	case RES_STREAM_ERROR:
		return true;
	default:
		return false;
	}
}

/* Decision: CURLE_OPERATION_TIMEDOUT -> timeout; any other curl error
 * (connect, send, recv, partial file, got nothing) -> network; 429 ->
 * rate_limited; 408 -> timeout; other 4xx -> http_4xx; 5xx -> http_5xx;
 * a code past 599 (no HTTP status: 600, 999) -> bad_response.
 * Anything else with a response (2xx, and 1xx/3xx which curl does not follow
 * here) is handed to the body parsers. */
enum res_status eng_classify(int curl_code, long http_status)
{
	if (curl_code == CURLE_OPERATION_TIMEDOUT)
		return RES_TIMEOUT;
	if (curl_code != CURLE_OK)
		return RES_NETWORK;
	if (http_status == 429)
		return RES_RATE_LIMITED;
	if (http_status == 408)
		return RES_TIMEOUT;
	if (http_status >= 400 && http_status < 500)
		return RES_HTTP_4XX;
	if (http_status >= 500 && http_status < 600)
		return RES_HTTP_5XX;
	if (http_status < 200 || http_status >= 300)
		return RES_BAD_RESPONSE;
	return RES_OK;
}

static const char *const cache_names[] = {"off", "use", "refresh", "replay"};

const char *eng_cache_mode_name(enum eng_cache_mode m)
{
	return (unsigned)m < 4 ? cache_names[m] : "off";
}

int eng_cache_mode_parse(const char *s, enum eng_cache_mode *out)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, cache_names[i])) {
			*out = (enum eng_cache_mode)i;
			return 0;
		}
	}
	return -1;
}

uint64_t eng_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double eng_rand01(uint64_t *state)
{
	return (double)(eng_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * spreads retries of a burst of failures over the whole window instead of
 * synchronising them; Retry-After is a floor because the server said so. */
double eng_backoff_ms(const struct cfg_retry *r, int attempt, double retry_after_ms, uint64_t *rng)
{
	if (attempt < 1)
		attempt = 1;
	double cap = r->base_ms * ldexp(1.0, attempt > 60 ? 60 : attempt - 1);
	if (cap > r->max_ms)
		cap = r->max_ms;
	if (cap < 0)
		cap = 0;
	double d = eng_rand01(rng) * cap;
	if (retry_after_ms >= 0 && d < retry_after_ms)
		d = retry_after_ms;
	return d;
}

void eng_bucket_init(struct eng_bucket *b, int rpm, double now_ms)
{
	memset(b, 0, sizeof(*b));
	b->unlimited = rpm <= 0;
	if (b->unlimited)
		return;
	b->per_ms = rpm / 60000.0;
	b->cap = rpm / 60.0 < 1.0 ? 1.0 : rpm / 60.0;
	b->tokens = b->cap;
	b->last_ms = now_ms;
}

static void bucket_refill(struct eng_bucket *b, double now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (now_ms - b->last_ms) * b->per_ms;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last_ms = now_ms;
	}
}

bool eng_bucket_take(struct eng_bucket *b, double now_ms)
{
	if (b->unlimited)
		return true;
	bucket_refill(b, now_ms);
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

double eng_bucket_wait_ms(struct eng_bucket *b, double now_ms)
{
	if (b->unlimited)
		return 0;
	bucket_refill(b, now_ms);
	if (b->tokens >= 1.0)
		return 0;
	return (1.0 - b->tokens) / b->per_ms;
}

void eng_cache_key(const char *url, const char *model, const char *body, size_t body_len,
		   char hex[65])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, url, strlen(url) + 1);
	sha256_update(&s, model, strlen(model) + 1);
	sha256_update(&s, body, body_len);
	sha256_final_hex(&s, hex);
}

void eng_doneset_init(struct eng_doneset *d)
{
	memset(d, 0, sizeof(*d));
}

void eng_doneset_free(struct eng_doneset *d)
{
	free(d->keys);
	free(d->ok);
	memset(d, 0, sizeof(*d));
}

/* FNV-1a over item_id NUL model, then a finalizer; 0 is reserved for empty. */
static uint64_t pair_hash(const char *item_id, const char *model)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)item_id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;
	for (const unsigned char *p = (const unsigned char *)model; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

/* Sample 0 is the pair's own key (a K = 1 run's lines); others mix in k. */
static uint64_t sample_hash(const char *item_id, const char *model, int sample)
{
	uint64_t h = pair_hash(item_id, model);
	if (sample > 0) {
		h ^= (uint64_t)sample * 0x9e3779b97f4a7c15ull;
		h ^= h >> 33;
		h *= 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 33;
	}
	return h ? h : 1;
}

static size_t doneset_find(const struct eng_doneset *d, uint64_t k)
{
	size_t mask = d->cap - 1, i = (size_t)k & mask;
	while (d->keys[i] && d->keys[i] != k)
		i = (i + 1) & mask;
	return i;
}

void eng_doneset_add(struct eng_doneset *d, const char *item_id, const char *model, bool ok)
{
	eng_doneset_add_sample(d, item_id, model, 0, ok);
}

void eng_doneset_add_sample(struct eng_doneset *d, const char *item_id, const char *model,
			    int sample, bool ok)
{
	if ((d->n + 1) * 2 > d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct eng_doneset nd = {xcalloc(ncap, sizeof(uint64_t)), xcalloc(ncap, 1), 0,
					 ncap};
		for (size_t i = 0; i < d->cap; i++) {
			if (!d->keys[i])
				continue;
			size_t j = doneset_find(&nd, d->keys[i]);
			nd.keys[j] = d->keys[i];
			nd.ok[j] = d->ok[i];
			nd.n++;
		}
		eng_doneset_free(d);
		*d = nd;
	}
	uint64_t k = sample_hash(item_id, model, sample);
	size_t i = doneset_find(d, k);
	if (!d->keys[i]) {
		d->keys[i] = k;
		d->n++;
	}
	/* a pair seen twice (a merged or hand-edited file): ok wins */
	d->ok[i] |= ok;
}

int eng_doneset_get(const struct eng_doneset *d, const char *item_id, const char *model)
{
	return eng_doneset_get_sample(d, item_id, model, 0);
}

int eng_doneset_get_sample(const struct eng_doneset *d, const char *item_id, const char *model,
			   int sample)
{
	if (!d || !d->cap)
		return 0;
	size_t i = doneset_find(d, sample_hash(item_id, model, sample));
	if (!d->keys[i])
		return 0;
	return d->ok[i] ? 2 : 1;
}
