/* gencost.c: OpenRouter's generation lookup for a reply's exact cost (see
 * gencost.h). */
#include "engine/gencost.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "wire/wire.h"

void eng_gen_init(struct eng_gen *g)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->url);
	buf_init(&g->body);
	g->cost = NAN;
}

void eng_gen_reset(struct eng_gen *g)
{
	g->id[0] = '\0';
	g->why[0] = '\0';
	g->active = false;
	g->too_big = false;
	g->attempts = 0;
	g->deadline = 0;
	g->cost = NAN;
	buf_reset(&g->url);
	buf_reset(&g->body);
}

void eng_gen_free(struct eng_gen *g)
{
	buf_free(&g->url);
	buf_free(&g->body);
}

/* base_url's host is openrouter.ai (any case; a port or path may follow). */
static bool host_is_openrouter(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return false;
	p += 3;
	static const char host[] = "openrouter.ai";
	size_t n = sizeof(host) - 1;
	return strncasecmp(p, host, n) == 0 && (p[n] == '\0' || p[n] == '/' || p[n] == ':');
}

bool eng_gen_enabled(const struct cfg_endpoint *ep)
{
	if (ep->generation_cost >= 0)
		return ep->generation_cost == 1;
	return host_is_openrouter(ep->base_url);
}

/* A generation id goes into a URL and an error text: printable ASCII only,
 * and it must fit. */
static bool usable_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= ENG_GEN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

void eng_gen_note_header(struct eng_gen *g, CURL *h)
{
	struct curl_header *hd = NULL;
	g->id[0] = '\0';
	if (curl_easy_header(h, "x-generation-id", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
	    usable_id(hd->value))
		snprintf(g->id, sizeof(g->id), "%s", hd->value);
}

bool eng_gen_wanted(struct eng_gen *g, const struct cfg_endpoint *ep, const struct wire_reply *r,
		    double header_cost, long http)
{
	if (!eng_gen_enabled(ep) || http / 100 != 2 || r->usage.has_cost || !isnan(header_cost))
		return false;
	if (usable_id(r->id))
		snprintf(g->id, sizeof(g->id), "%s", r->id);
	return g->id[0] != '\0';
}

static size_t on_gen_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct eng_gen *g = userdata;
	size_t n = size * nmemb;
	if (g->body.len + n > ENG_GEN_MAX_BODY) {
		g->too_big = true;
		return 0;
	}
	buf_append(&g->body, ptr, n);
	return n;
}

int eng_gen_setup(struct eng_gen *g, CURL *h, const char *base_url,
		  const struct curl_slist *headers, const char *cainfo, double now)
{
	if (g->attempts == 0) {
		g->deadline = now + ENG_GEN_TOTAL_MS;
		char *esc = curl_easy_escape(h, g->id, 0);
		if (!esc) {
			snprintf(g->why, sizeof(g->why), "cannot build the lookup URL");
			return -1;
		}
		buf_reset(&g->url);
		buf_printf(&g->url, "%s/generation?id=%s", base_url, esc);
		curl_free(esc);
	}
	g->attempts++;
	g->too_big = false;
	buf_reset(&g->body);
	curl_easy_setopt(h, CURLOPT_URL, g->url.data);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_gen_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ENG_GEN_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ENG_GEN_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (cainfo)
		curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
	return 0;
}

/* Whether a failed lookup may succeed later: not recorded yet (404), rate
 * limited, a server fault, or the transfer itself failed. */
static bool worth_again(CURLcode cc, long http)
{
	if (cc != CURLE_OK)
		return true;
	return http == 404 || http == 408 || http == 429 || http >= 500;
}

enum eng_gen_next eng_gen_done(struct eng_gen *g, CURL *h, CURLcode cc, const struct cfg_retry *r,
			       double now, double *at)
{
	long http = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	if (cc == CURLE_OK && http == 200) {
		struct se_err perr;
		double cost;
		if (wire_parse_generation(g->body.data, g->body.len, &cost, &perr) == 0) {
			g->cost = cost;
			return ENG_GEN_GOT;
		}
		snprintf(g->why, sizeof(g->why), "%.40s: %.50s", perr.where, perr.msg);
		return ENG_GEN_GIVE_UP; /* another try would get the same body */
	}
	if (g->too_big)
		snprintf(g->why, sizeof(g->why), "reply larger than %u bytes", ENG_GEN_MAX_BODY);
	else if (cc != CURLE_OK)
		snprintf(g->why, sizeof(g->why), "%.90s", curl_easy_strerror(cc));
	else
		snprintf(g->why, sizeof(g->why), "HTTP %ld", http);
	if (g->too_big || !worth_again(cc, http) || g->attempts >= ENG_GEN_ATTEMPTS)
		return ENG_GEN_GIVE_UP;
	double wait = r->base_ms;
	for (int i = 1; i < g->attempts && wait < r->max_ms; i++)
		wait *= 2;
	if (wait > r->max_ms)
		wait = r->max_ms;
	curl_off_t ra = -1;
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0 &&
	    (double)ra * 1000.0 <= r->max_ms && (double)ra * 1000.0 > wait)
		wait = (double)ra * 1000.0;
	if (now + wait > g->deadline)
		return ENG_GEN_GIVE_UP;
	*at = now + wait;
	return ENG_GEN_AGAIN;
}
