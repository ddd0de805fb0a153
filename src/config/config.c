/* config.c: loading and validating the eval config (evals/NAME.json); see config.h.
 *
 * The whole file is parsed with cJSON, then walked once against a fixed schema:
 * every object's keys are checked against its known list before any value is
 * read, so a typo is reported as an unknown key rather than as a missing one.
 * Errors stop at the first problem and name "<file>: <json.path>".
 *
 * This file does not read the dataset or the pricing file (it only resolves
 * their paths), does not compile checks itself (checks/ does), and never
 * reads an API key: it stores the name of the variable that holds one.
 */
#include "config/config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "checks/judge.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/sha256.h"
#include "core/xalloc.h"

#define JPATH JSONV_PATH      /* JSON paths longer than this are truncated in messages */
#define NAME_MAX_LEN 128      /* eval name: one path component under runs/ */
#define TIMEOUT_MIN_S 0.001   /* timeout_s: at least 1 ms (the engine counts whole ms) */
#define TIMEOUT_MAX_S 86400.0 /* timeout_s: at most one day */

/* What the schema walk needs at hand: the config being filled and the error. */
struct ctx {
	struct cfg *cfg;
	struct se_err *err;
};

/* One table per object of the schema, in the order the docs list them. */
/* clang-format off */
static const char *const top_keys[] = {
	"name", "description", "dataset", "prompt", "endpoints", "slots", "routing", "shadow",
	"fallbacks", "checks", "combine", "pass_threshold", "params", "pricing", "retry",
	"timeout_s", NULL};
static const char *const dataset_keys[] = {"path", "format", "expected", NULL};
static const char *const expected_keys[] = {"field", "regex", NULL};
static const char *const prompt_keys[] = {"system", "template", NULL};
static const char *const endpoint_keys[] = {
	"base_url",	"api_key_env", "headers",	  "max_concurrency",
    "rpm",	"ca_file",     "generation_cost", NULL};
static const char *const model_keys[] = {"model", "endpoint", NULL};
static const char *const routing_keys[] = {"rules", "default", "estimator", NULL};
static const char *const rule_keys[] = {"task", "metadata", "slot", "complexity", NULL};
static const char *const complexity_keys[] = {"estimator", "thresholds", "slots", NULL};
static const char *const retry_keys[] = {"max_attempts", "base_ms", "max_ms", NULL};
/* Request body fields passed to the endpoint as they are (OpenAI and
 * OpenRouter chat-completions parameters). Anything else goes in extra_body. */
static const char *const passthrough_keys[] = {
	"top_p", "top_k", "seed", "stop", "presence_penalty", "frequency_penalty",
	"repetition_penalty", "min_p", "response_format", "reasoning", "provider", "transforms",
	"user", NULL};
/* Body fields the harness writes itself: extra_body may not set them. */
static const char *const reserved_body_keys[] = {
	"model", "messages", "temperature", "max_tokens", "stream", "n", NULL};
/* clang-format on */

static const char default_checks[] =
    "[{\"name\":\"exact\",\"type\":\"exact\",\"normalize\":[\"trim\"]}]";

/* ---- errors and JSON paths ---- */

/* Fails (SE_INPUT) at "<config file>: jpath"; returns -1. */
#define fail(c, jpath, ...) jsonv_fail_in((c)->err, (c)->cfg->path, (jpath), __VA_ARGS__)

/* An absent value reads "null" in config messages. */
static const char *jtype(const cJSON *j)
{
	return j ? jsonv_type(j) : "null";
}

/* "got 0", "got 1.5", "got a string": the tail of a type or range error. */
static void got(const cJSON *j, char *out, size_t size)
{
	if (cJSON_IsNumber(j))
		snprintf(out, size, "%.15g", j->valuedouble);
	else
		snprintf(out, size, "%s", jtype(j));
}

/* ---- typed getters: each fails with "expected ..., got ..." ---- */

static int want_object(struct ctx *c, const cJSON *j, const char *jpath)
{
	if (!cJSON_IsObject(j))
		return fail(c, jpath, "expected an object, got %s", jtype(j));
	return 0;
}

/* The object at jpath must be an object whose keys are all in `known`. */
static int check_keys(struct ctx *c, const cJSON *obj, const char *jpath, const char *const *known)
{
	if (want_object(c, obj, jpath))
		return -1;
	const char *bad = jsonv_unknown_key(obj, known);
	if (!bad)
		return 0;
	struct buf b;
	buf_init(&b);
	jsonv_known(&b, known);
	fail(c, jpath, "unknown key \"%s\" (known: %s)", bad, b.data);
	buf_free(&b);
	return -1;
}

static const cJSON *need(struct ctx *c, const cJSON *obj, const char *jpath, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		fail(c, jpath, "missing required key \"%s\"", key);
	return j;
}

static const char *want_str(struct ctx *c, const cJSON *j, const char *jpath)
{
	if (!cJSON_IsString(j)) {
		fail(c, jpath, "expected a string, got %s", jtype(j));
		return NULL;
	}
	if (!*j->valuestring) {
		fail(c, jpath, "expected a non-empty string");
		return NULL;
	}
	return j->valuestring;
}

/* A string child that may be absent (*out stays NULL then). */
static int opt_str(struct ctx *c, const cJSON *obj, const char *parent, const char *key,
		   const char **out)
{
	char jpath[JPATH];
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!j)
		return 0;
	jsonv_key(jpath, parent, key);
	*out = want_str(c, j, jpath);
	return *out ? 0 : -1;
}

static int want_long(struct ctx *c, const cJSON *j, const char *jpath, long min, long max,
		     long *out)
{
	char g[64], range[96];
	/* past 2^53 a double no longer holds every integer */
	long hi = max > 9007199254740992L ? 9007199254740992L : max;
	bool over = cJSON_IsNumber(j) && j->valuedouble > (double)hi;
	if ((max == LONG_MAX || max == INT_MAX) && !over)
		snprintf(range, sizeof(range), "an integer ≥ %ld", min);
	else /* a value over range is told the upper bound */
		snprintf(range, sizeof(range), "an integer from %ld to %ld", min, hi);
	got(j, g, sizeof(g));
	if (!jsonv_integer_in(j, (double)min, fmin((double)max, 9007199254740992.0)))
		return fail(c, jpath, "expected %s, got %s", range, g);
	*out = (long)j->valuedouble;
	return 0;
}

static int want_int(struct ctx *c, const cJSON *j, const char *jpath, int min, int max, int *out)
{
	long v;
	if (want_long(c, j, jpath, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

/* An integer child that may be absent (*out keeps its default then). */
static int opt_int(struct ctx *c, const cJSON *obj, const char *parent, const char *key, int min,
		   int max, int *out)
{
	char jpath[JPATH];
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return 0;
	jsonv_key(jpath, parent, key);
	return want_int(c, j, jpath, min, max, out);
}

/* A number in [min, max], or (min, max] when min_open. */
static int want_number(struct ctx *c, const cJSON *j, const char *jpath, double min, bool min_open,
		       double max, double *out)
{
	char g[64], range[96];
	if (min_open && max == HUGE_VAL)
		snprintf(range, sizeof(range), "a number > %g", min);
	else
		snprintf(range, sizeof(range), "a number from %g to %g", min, max);
	got(j, g, sizeof(g));
	if (!jsonv_number_in(j, min, max) || (min_open && j->valuedouble == min))
		return fail(c, jpath, "expected %s, got %s", range, g);
	*out = j->valuedouble;
	return 0;
}

/* ---- whole-file checks before the schema walk ---- */

/* Rejects duplicate keys anywhere in the tree (jsonv_duplicate_key). */
static int no_duplicate_keys(struct ctx *c, const cJSON *root)
{
	char at[JPATH];
	const char *dup = jsonv_duplicate_key(root, "", at);
	return dup ? fail(c, at, "duplicate key \"%s\"", dup) : 0;
}

/* Does s look like a secret rather than a variable name? Checked before the
 * name pattern so that a key that happens to be a valid identifier is still
 * refused (and never echoed). */
static bool looks_like_key(const char *s)
{
	static const char *const prefixes[] = {"sk-",  "sk_",	 "rk-",	   "pk-",  "xai-", "gsk_",
					       "AIza", "Bearer", "bearer", "key-", NULL};
	for (size_t i = 0; prefixes[i]; i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	size_t n = strlen(s), digits = 0, lower = 0, underscores = 0;
	for (size_t i = 0; i < n; i++) {
		digits += isdigit((unsigned char)s[i]) != 0;
		lower += islower((unsigned char)s[i]) != 0;
		underscores += s[i] == '_';
	}
	/* Long variable names are words joined by underscores; keys are long
	 * random mixes of letters and digits. */
	return n >= 24 && digits >= 4 && lower >= 4 && underscores <= 1;
}

/* Where a parse error is, as "file:line:col" (col in code points, 1-based). */
static void parse_error_where(const char *path, const char *data, size_t len, size_t off, char *out,
			      size_t size)
{
	size_t line = 1, col = 1;
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	snprintf(out, size, "%s:%zu:%zu", path, line, col);
}

/* A short, printable excerpt of the text at an error, for "near ...". Not
 * shown when it might hold a key pasted into the file by mistake. */
static void excerpt(const char *p, const char *end, char *out, size_t size)
{
	size_t o = 0, shown = 0;
	if (p >= end) {
		snprintf(out, size, "the end of the file");
		return;
	}
	out[o++] = '"';
	for (; p < end && *p != '\n' && *p != '\r' && shown < 20 && o + 4 < size; p++, shown++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			out[o++] = '\\';
		out[o++] = ch < 0x20 ? '?' : (char)ch;
	}
	/* Do not cut a UTF-8 sequence in half. */
	while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
		o--;
	if (o > 1 && (unsigned char)out[o - 1] >= 0xC0)
		o--;
	out[o++] = '"';
	out[o] = '\0';
	if (strstr(out, "sk-") || strstr(out, "sk_") || strstr(out, "Bearer"))
		snprintf(out, size, "a value that looks like a key (not shown)");
}

/* ---- interning models ---- */

static int intern_model(struct cfg *cfg, const char *id, int endpoint)
{
	for (size_t i = 0; i < cfg->n_models; i++)
		if (cfg->models[i].endpoint == endpoint && !strcmp(cfg->models[i].id, id))
			return (int)i;
	cfg->models = xrealloc(cfg->models, (cfg->n_models + 1) * sizeof(*cfg->models));
	cfg->models[cfg->n_models].id = xstrdup(id);
	cfg->models[cfg->n_models].endpoint = endpoint;
	return (int)cfg->n_models++;
}

static int endpoint_index(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_endpoints; i++)
		if (!strcmp(cfg->endpoints[i].name, name))
			return (int)i;
	return -1;
}

static void endpoint_names(const struct cfg *cfg, struct buf *b)
{
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, cfg->endpoints[i].name);
	}
}

static void slot_names(const struct cfg *cfg, struct buf *b)
{
	for (size_t i = 0; i < cfg->n_slots; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, cfg->slots[i].name);
	}
}

/* A model reference: "provider/name", or {"model": ..., "endpoint": ...}. */
static int parse_model_ref(struct ctx *c, const cJSON *j, const char *jpath, int *out)
{
	struct cfg *cfg = c->cfg;
	const char *id, *ep_name = NULL;
	char sub[JPATH];
	if (cJSON_IsObject(j)) {
		if (check_keys(c, j, jpath, model_keys))
			return -1;
		const cJSON *m = need(c, j, jpath, "model");
		jsonv_key(sub, jpath, "model");
		if (!m || !(id = want_str(c, m, sub)))
			return -1;
		if (opt_str(c, j, jpath, "endpoint", &ep_name))
			return -1;
	} else if (cJSON_IsString(j)) {
		if (!(id = want_str(c, j, jpath)))
			return -1;
	} else {
		return fail(
		    c, jpath,
		    "expected a model string or an object {\"model\", \"endpoint\"}, got %s",
		    jtype(j));
	}
	int ep;
	struct buf b;
	buf_init(&b);
	endpoint_names(cfg, &b);
	if (ep_name) {
		ep = endpoint_index(cfg, ep_name);
		if (ep < 0) {
			jsonv_key(sub, jpath, "endpoint");
			fail(c, sub, "unknown endpoint \"%s\" (known: %s)", ep_name, b.data);
		}
	} else if (cfg->n_endpoints == 1) {
		ep = 0;
	} else {
		ep = -1;
		fail(c, jpath, "model \"%s\" needs an \"endpoint\" (known: %s)", id, b.data);
	}
	buf_free(&b);
	if (ep < 0)
		return -1;
	*out = intern_model(cfg, id, ep);
	return 0;
}

/* A slot name that must exist. */
static int want_slot(struct ctx *c, const cJSON *j, const char *jpath, int *out)
{
	const char *name = want_str(c, j, jpath);
	if (!name)
		return -1;
	*out = cfg_slot_index(c->cfg, name);
	if (*out >= 0)
		return 0;
	struct buf b;
	buf_init(&b);
	slot_names(c->cfg, &b);
	fail(c, jpath, "unknown slot \"%s\" (known: %s)", name, b.data);
	buf_free(&b);
	return -1;
}

static int want_estimator(struct ctx *c, const cJSON *j, const char *jpath)
{
	const char *s = want_str(c, j, jpath);
	if (!s)
		return -1;
	if (strcmp(s, "chars/4"))
		return fail(c, jpath, "unknown estimator \"%s\" (known: chars/4)", s);
	return 0;
}

/* ---- sections ---- */

static int compile_answer_regex(struct ctx *c, const char *pattern, const char *jpath)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR text[256];
		if (pcre2_get_error_message(code, text, sizeof(text)) < 0)
			snprintf((char *)text, sizeof(text), "error %d", code);
		return fail(c, jpath, "invalid regex at offset %zu: %s", (size_t)off, (char *)text);
	}
	uint32_t groups = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	pcre2_code_free(re);
	if (groups < 1)
		return fail(c, jpath,
			    "the pattern needs a capture group: its group 1 is the answer");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int parse_dataset(struct ctx *c, const cJSON *root)
{
	struct cfg_dataset *ds = &c->cfg->dataset;
	const cJSON *d = need(c, root, "", "dataset");
	const char *path, *format;
	char jpath[JPATH];
	if (!d || check_keys(c, d, "dataset", dataset_keys))
		return -1;
	const cJSON *p = need(c, d, "dataset", "path");
	if (!p || !(path = want_str(c, p, "dataset.path")))
		return -1;
	ds->path = fio_join(c->cfg->dir, path);

	if (opt_str(c, d, "dataset", "format", &format))
		return -1;
	if (format) {
		if (strcmp(format, "jsonl") && strcmp(format, "csv"))
			return fail(c, "dataset.format",
				    "expected \"jsonl\" or \"csv\", got \"%s\"", format);
	} else if (ends_with(path, ".jsonl")) {
		format = "jsonl";
	} else if (ends_with(path, ".csv")) {
		format = "csv";
	} else {
		return fail(c, "dataset.path",
			    "cannot tell the format of \"%s\" from its extension (expected .jsonl "
			    "or .csv, or set \"format\")",
			    path);
	}
	ds->format = xstrdup(format);

	const cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "expected");
	const char *field = "expected", *regex = NULL;
	if (cJSON_IsString(e)) {
		if (!(field = want_str(c, e, "dataset.expected")))
			return -1;
	} else if (cJSON_IsObject(e)) {
		if (check_keys(c, e, "dataset.expected", expected_keys))
			return -1;
		const char *f;
		if (opt_str(c, e, "dataset.expected", "field", &f) ||
		    opt_str(c, e, "dataset.expected", "regex", &regex))
			return -1;
		if (f)
			field = f;
		if (regex && compile_answer_regex(c, regex, "dataset.expected.regex"))
			return -1;
	} else if (e) {
		jsonv_key(jpath, "dataset", "expected");
		return fail(c, jpath,
			    "expected a field name or an object {\"field\", \"regex\"}, got %s",
			    jtype(e));
	}
	ds->expected_field = xstrdup(field);
	ds->expected_regex = regex ? xstrdup(regex) : NULL;
	return 0;
}

/* Placeholders must close: an unclosed "{{" would otherwise be sent as text. */
static int check_template(struct ctx *c, const char *t, const char *jpath)
{
	const char *p = t;
	while ((p = strstr(p, "{{"))) {
		const char *close = strstr(p + 2, "}}");
		const char *reopen = strstr(p + 2, "{{");
		if (!close || (reopen && reopen < close))
			return fail(c, jpath, "unclosed \"{{\" at offset %zu (expected \"}}\")",
				    (size_t)(p - t));
		const char *s = p + 2;
		while (s < close && isspace((unsigned char)*s))
			s++;
		if (s == close)
			return fail(c, jpath, "empty placeholder \"{{}}\" at offset %zu",
				    (size_t)(p - t));
		p = close + 2;
	}
	return 0;
}

static int parse_prompt(struct ctx *c, const cJSON *root)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "prompt");
	const char *system, *template;
	if (!p)
		return 0;
	if (check_keys(c, p, "prompt", prompt_keys) || opt_str(c, p, "prompt", "system", &system) ||
	    opt_str(c, p, "prompt", "template", &template))
		return -1;
	if (template && check_template(c, template, "prompt.template"))
		return -1;
	c->cfg->prompt.system = system ? xstrdup(system) : NULL;
	c->cfg->prompt.template = template ? xstrdup(template) : NULL;
	return 0;
}

static bool is_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The authority of a base URL (what follows the scheme, up to the path):
 * a host, or an [IPv6] literal, and an optional port from 1 to 65535. User
 * info is refused without echoing the URL, since it would hold a password. */
static int check_url_authority(struct ctx *c, const char *auth, const char *jpath)
{
	size_t n = strcspn(auth, "/?#");
	if (memchr(auth, '@', n))
		return fail(c, jpath,
			    "credentials do not belong in the URL: name the key's environment "
			    "variable in \"api_key_env\"");
	const char *end = auth + n, *port = NULL;
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', n);
		if (!close || close == auth + 1)
			return fail(c, jpath, "expected an IPv6 address in brackets in \"%.*s\"",
				    (int)n, auth);
		if (close + 1 < end && close[1] != ':')
			return fail(c, jpath, "expected ':' and a port after \"%.*s\"",
				    (int)(close + 1 - auth), auth);
		if (close + 1 < end)
			port = close + 2;
	} else {
		const char *colon = memchr(auth, ':', n);
		if (colon == auth)
			return fail(c, jpath, "expected a host before the port in \"%.*s\"", (int)n,
				    auth);
		if (colon)
			port = colon + 1;
	}
	if (!port)
		return 0;
	if (port == end)
		return fail(c, jpath, "expected a port after ':' in \"%.*s\"", (int)n, auth);
	long v = 0;
	for (const char *p = port; p < end; p++) {
		if (*p < '0' || *p > '9' || v > 65535)
			return fail(c, jpath, "expected a port from 1 to 65535, got \"%.*s\"",
				    (int)(end - port), port);
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return fail(c, jpath, "expected a port from 1 to 65535, got \"%.*s\"",
			    (int)(end - port), port);
	return 0;
}

static int parse_base_url(struct ctx *c, const char *url, const char *jpath, char **out)
{
	size_t scheme;
	if (!strncmp(url, "http://", 7))
		scheme = 7;
	else if (!strncmp(url, "https://", 8))
		scheme = 8;
	else
		return fail(c, jpath,
			    "expected a URL starting with http:// or https://, got \"%s\"", url);
	if (!url[scheme] || url[scheme] == '/')
		return fail(c, jpath, "expected a host after the scheme in \"%s\"", url);
	for (const char *s = url; *s; s++)
		if ((unsigned char)*s <= ' ')
			return fail(c, jpath, "a URL may not contain spaces or control characters");
	if (check_url_authority(c, url + scheme, jpath))
		return -1;
	size_t n = strlen(url);
	if (url[n - 1] == '/')
		n--;
	*out = xstrndup(url, n);
	return 0;
}

static int parse_headers(struct ctx *c, const cJSON *h, const char *parent, struct cfg_endpoint *ep)
{
	char jpath[JPATH], sub[JPATH];
	jsonv_key(jpath, parent, "headers");
	if (want_object(c, h, jpath))
		return -1;
	size_t n = (size_t)cJSON_GetArraySize(h);
	ep->headers = xcalloc(n ? n : 1, sizeof(*ep->headers));
	for (const cJSON *k = h->child; k; k = k->next) {
		jsonv_key(sub, jpath, k->string);
		if (!*k->string || strpbrk(k->string, ": \t\r\n"))
			return fail(c, sub, "invalid header name \"%s\"", k->string);
		if (!cJSON_IsString(k))
			return fail(c, sub, "expected a string, got %s", jtype(k));
		/* The key comes from the environment at request time, never from the file. */
		if (!strcasecmp(k->string, "Authorization"))
			return fail(c, sub,
				    "a key does not belong in the config: name its environment "
				    "variable in \"api_key_env\"");
		/* Header values can carry secrets: checked, never echoed. */
		if (strpbrk(k->valuestring, "\r\n"))
			return fail(c, sub, "a header value may not contain a line break");
		ep->headers[ep->n_headers].name = xstrdup(k->string);
		ep->headers[ep->n_headers].value = xstrdup(k->valuestring);
		ep->n_headers++;
	}
	return 0;
}

/* ca_file is checked at load time, so a wrong path is exit 2 naming the JSON
 * path rather than every request failing its TLS handshake. There is no
 * option that turns verification off: a private gateway names its CA here. */
static int check_ca_file(struct ctx *c, const char *path, const char *jpath)
{
	struct se_err e2;
	char *data;
	size_t len;
	se_clear(&e2);
	if (fio_read_all(path, &data, &len, &e2))
		return fail(c, jpath, "%s: %s", path, e2.msg);
	bool pem = memmem(data, len, "-----BEGIN CERTIFICATE-----", 27) != NULL;
	free(data);
	if (!pem)
		return fail(c, jpath, "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
			    path);
	return 0;
}

static int parse_endpoint(struct ctx *c, const cJSON *j, const char *jpath, struct cfg_endpoint *ep)
{
	char sub[JPATH];
	const char *url, *env;
	if (check_keys(c, j, jpath, endpoint_keys))
		return -1;
	const cJSON *u = need(c, j, jpath, "base_url");
	jsonv_key(sub, jpath, "base_url");
	if (!u || !(url = want_str(c, u, sub)) || parse_base_url(c, url, sub, &ep->base_url))
		return -1;

	const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "api_key_env");
	if (k) {
		jsonv_key(sub, jpath, "api_key_env");
		/* The value is never echoed: it may be the key itself. */
		if (!cJSON_IsString(k))
			return fail(c, sub, "expected a string, got %s", jtype(k));
		env = k->valuestring;
		if (looks_like_key(env))
			return fail(c, sub,
				    "expected the name of an environment variable, not a key");
		if (!is_env_name(env))
			return fail(c, sub,
				    "expected the name of an environment variable "
				    "([A-Za-z_][A-Za-z0-9_]*)");
		ep->api_key_env = xstrdup(env);
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers");
	if (h && parse_headers(c, h, jpath, ep))
		return -1;
	if (opt_int(c, j, jpath, "max_concurrency", 1, INT_MAX, &ep->max_concurrency) ||
	    opt_int(c, j, jpath, "rpm", 0, INT_MAX, &ep->rpm))
		return -1;
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(j, "ca_file");
	if (ca) {
		jsonv_key(sub, jpath, "ca_file");
		const char *s = want_str(c, ca, sub);
		if (!s)
			return -1;
		ep->ca_file = fio_join(c->cfg->dir, s);
		if (check_ca_file(c, ep->ca_file, sub))
			return -1;
	}
	const cJSON *gc = cJSON_GetObjectItemCaseSensitive(j, "generation_cost");
	ep->generation_cost = -1;
	if (gc) {
		jsonv_key(sub, jpath, "generation_cost");
		if (!cJSON_IsBool(gc))
			return fail(c, sub, "expected true or false, got %s", jtype(gc));
		ep->generation_cost = cJSON_IsTrue(gc) ? 1 : 0;
	}
	return 0;
}

/* A top-level object of named entries (endpoints, slots): present, an
 * object and not empty. Returns it with its size, or NULL after an error. */
static const cJSON *named_section(struct ctx *c, const cJSON *root, const char *key,
				  const char *what, size_t *n)
{
	const cJSON *o = need(c, root, "", key);
	if (!o || want_object(c, o, key))
		return NULL;
	*n = (size_t)cJSON_GetArraySize(o);
	if (*n == 0) {
		fail(c, key, "expected at least one %s", what);
		return NULL;
	}
	return o;
}

static int parse_endpoints(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	char jpath[JPATH];
	size_t n;
	const cJSON *e = named_section(c, root, "endpoints", "endpoint", &n);
	if (!e)
		return -1;
	cfg->endpoints = xcalloc(n, sizeof(*cfg->endpoints));
	for (const cJSON *j = e->child; j; j = j->next) {
		struct cfg_endpoint *ep = &cfg->endpoints[cfg->n_endpoints++];
		ep->name = xstrdup(j->string);
		jsonv_key(jpath, "endpoints", j->string);
		if (!*j->string)
			return fail(c, "endpoints", "an endpoint name may not be empty");
		if (parse_endpoint(c, j, jpath, ep))
			return -1;
	}
	return 0;
}

static int parse_slots(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	char jpath[JPATH];
	size_t n;
	const cJSON *s = named_section(c, root, "slots", "slot", &n);
	if (!s)
		return -1;
	cfg->slots = xcalloc(n, sizeof(*cfg->slots));
	for (const cJSON *j = s->child; j; j = j->next) {
		struct cfg_slot *slot = &cfg->slots[cfg->n_slots++];
		slot->name = xstrdup(j->string);
		slot->model = -1;
		jsonv_key(jpath, "slots", j->string);
		if (!*j->string)
			return fail(c, "slots", "a slot name may not be empty");
		if (parse_model_ref(c, j, jpath, &slot->model))
			return -1;
	}
	return 0;
}

static int parse_tasks(struct ctx *c, const cJSON *t, const char *jpath, struct cfg_rule *r)
{
	char sub[JPATH];
	const char *s;
	if (cJSON_IsString(t)) {
		if (!(s = want_str(c, t, jpath)))
			return -1;
		r->tasks = xcalloc(1, sizeof(*r->tasks));
		r->tasks[r->n_tasks++] = xstrdup(s);
		return 0;
	}
	if (!cJSON_IsArray(t))
		return fail(c, jpath, "expected a task name or an array of them, got %s", jtype(t));
	int n = cJSON_GetArraySize(t);
	if (n == 0)
		return fail(c, jpath, "expected at least one task");
	r->tasks = xcalloc((size_t)n, sizeof(*r->tasks));
	for (int i = 0; i < n; i++) {
		jsonv_idx(sub, jpath, i);
		if (!(s = want_str(c, cJSON_GetArrayItem(t, i), sub)))
			return -1;
		r->tasks[r->n_tasks++] = xstrdup(s);
	}
	return 0;
}

static int parse_metadata(struct ctx *c, const cJSON *m, const char *jpath, struct cfg_rule *r)
{
	char sub[JPATH], num[64];
	if (want_object(c, m, jpath))
		return -1;
	int n = cJSON_GetArraySize(m);
	r->metadata = xcalloc(n ? (size_t)n : 1, sizeof(*r->metadata));
	for (const cJSON *k = m->child; k; k = k->next) {
		const char *v;
		jsonv_key(sub, jpath, k->string);
		if (cJSON_IsString(k)) {
			v = k->valuestring;
		} else if (cJSON_IsNumber(k)) {
			jsonw_number_text(k->valuedouble, num, sizeof(num));
			v = num;
		} else if (cJSON_IsBool(k)) {
			v = cJSON_IsTrue(k) ? "true" : "false";
		} else {
			return fail(c, sub, "expected a string, number or boolean, got %s",
				    jtype(k));
		}
		r->metadata[r->n_metadata].key = xstrdup(k->string);
		r->metadata[r->n_metadata].value = xstrdup(v);
		r->n_metadata++;
	}
	return 0;
}

static int parse_complexity(struct ctx *c, const cJSON *x, const char *jpath, struct cfg_rule *r)
{
	char sub[JPATH], el[JPATH];
	if (check_keys(c, x, jpath, complexity_keys))
		return -1;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(x, "estimator");
	jsonv_key(sub, jpath, "estimator");
	if (e && want_estimator(c, e, sub))
		return -1;

	const cJSON *t = need(c, x, jpath, "thresholds");
	if (!t)
		return -1;
	jsonv_key(sub, jpath, "thresholds");
	if (!cJSON_IsArray(t))
		return fail(c, sub, "expected an array of integers, got %s", jtype(t));
	int nt = cJSON_GetArraySize(t);
	if (nt == 0)
		return fail(c, sub, "expected at least one threshold");
	r->thresholds = xcalloc((size_t)nt, sizeof(*r->thresholds));
	for (int i = 0; i < nt; i++) {
		long v;
		jsonv_idx(el, sub, i);
		if (want_long(c, cJSON_GetArrayItem(t, i), el, 0, LONG_MAX, &v))
			return -1;
		if (i > 0 && v <= r->thresholds[i - 1])
			return fail(c, el, "thresholds must be strictly increasing: %ld after %ld",
				    v, r->thresholds[i - 1]);
		r->thresholds[i] = v;
	}
	r->n_thresholds = (size_t)nt;

	const cJSON *s = need(c, x, jpath, "slots");
	if (!s)
		return -1;
	jsonv_key(sub, jpath, "slots");
	if (!cJSON_IsArray(s))
		return fail(c, sub, "expected an array of slot names, got %s", jtype(s));
	int ns = cJSON_GetArraySize(s);
	if (ns != nt + 1)
		return fail(c, sub, "expected %d slots (one more than the %d thresholds), got %d",
			    nt + 1, nt, ns);
	r->band_slots = xcalloc((size_t)ns, sizeof(*r->band_slots));
	for (int i = 0; i < ns; i++) {
		jsonv_idx(el, sub, i);
		if (want_slot(c, cJSON_GetArrayItem(s, i), el, &r->band_slots[i]))
			return -1;
	}
	return 0;
}

static int parse_rule(struct ctx *c, const cJSON *j, const char *jpath, struct cfg_rule *r)
{
	char sub[JPATH];
	r->slot = -1;
	r->label = xstrdup(jpath);
	if (check_keys(c, j, jpath, rule_keys))
		return -1;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "task");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "slot");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "complexity");
	if (s && x)
		return fail(c, jpath,
			    "a rule needs exactly one of \"slot\" or \"complexity\", got both");
	if (!s && !x)
		return fail(c, jpath,
			    "a rule needs exactly one of \"slot\" or \"complexity\", got neither");
	jsonv_key(sub, jpath, "task");
	if (t && parse_tasks(c, t, sub, r))
		return -1;
	jsonv_key(sub, jpath, "metadata");
	if (m && parse_metadata(c, m, sub, r))
		return -1;
	if (s) {
		jsonv_key(sub, jpath, "slot");
		return want_slot(c, s, sub, &r->slot);
	}
	jsonv_key(sub, jpath, "complexity");
	return parse_complexity(c, x, sub, r);
}

static int parse_routing(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	char jpath[JPATH];
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(root, "routing");
	const cJSON *rules = NULL, *def = NULL, *est = NULL;
	cfg->estimator = CFG_EST_CHARS_DIV_4;
	if (rt) {
		if (check_keys(c, rt, "routing", routing_keys))
			return -1;
		rules = cJSON_GetObjectItemCaseSensitive(rt, "rules");
		def = cJSON_GetObjectItemCaseSensitive(rt, "default");
		est = cJSON_GetObjectItemCaseSensitive(rt, "estimator");
	}
	if (est && want_estimator(c, est, "routing.estimator"))
		return -1;
	if (rules) {
		if (!cJSON_IsArray(rules))
			return fail(c, "routing.rules", "expected an array of rules, got %s",
				    jtype(rules));
		int n = cJSON_GetArraySize(rules);
		cfg->rules = xcalloc(n ? (size_t)n : 1, sizeof(*cfg->rules));
		for (int i = 0; i < n; i++) {
			jsonv_idx(jpath, "routing.rules", i);
			cfg->n_rules++;
			if (parse_rule(c, cJSON_GetArrayItem(rules, i), jpath, &cfg->rules[i]))
				return -1;
		}
	}
	if (def)
		return want_slot(c, def, "routing.default", &cfg->default_slot);
	/* Without a default: the "balanced" slot, or the only slot there is. */
	cfg->default_slot = cfg_slot_index(cfg, "balanced");
	if (cfg->default_slot < 0 && cfg->n_slots == 1)
		cfg->default_slot = 0;
	if (cfg->default_slot >= 0)
		return 0;
	struct buf b;
	buf_init(&b);
	slot_names(cfg, &b);
	fail(c, "routing.default",
	     "required: there is no \"balanced\" slot to default to (known: %s)", b.data);
	buf_free(&b);
	return -1;
}

static void add_shadow(struct cfg *cfg, int model)
{
	cfg->shadows = xrealloc(cfg->shadows, (cfg->n_shadows + 1) * sizeof(*cfg->shadows));
	cfg->shadows[cfg->n_shadows++] = model;
}

static bool has_shadow(const struct cfg *cfg, int model, size_t *at)
{
	for (size_t i = 0; i < cfg->n_shadows; i++)
		if (cfg->shadows[i] == model) {
			*at = i;
			return true;
		}
	return false;
}

static int parse_shadow(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	char jpath[JPATH];
	size_t at;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "shadow");
	if (!s)
		return 0;
	if (cJSON_IsString(s)) {
		if (strcmp(s->valuestring, "all-slots"))
			return fail(c, "shadow",
				    "expected \"all-slots\" or an array of models, got \"%s\"",
				    s->valuestring);
		cfg->shadow_all_slots = true;
		for (size_t i = 0; i < cfg->n_slots; i++)
			if (!has_shadow(cfg, cfg->slots[i].model, &at))
				add_shadow(cfg, cfg->slots[i].model);
		return 0;
	}
	if (!cJSON_IsArray(s))
		return fail(c, "shadow", "expected \"all-slots\" or an array of models, got %s",
			    jtype(s));
	int n = cJSON_GetArraySize(s);
	for (int i = 0; i < n; i++) {
		int m;
		jsonv_idx(jpath, "shadow", i);
		if (parse_model_ref(c, cJSON_GetArrayItem(s, i), jpath, &m))
			return -1;
		if (has_shadow(cfg, m, &at))
			return fail(c, jpath, "duplicate shadow model \"%s\" (already shadow[%zu])",
				    cfg->models[m].id, at);
		add_shadow(cfg, m);
	}
	return 0;
}

/* The slots a fallbacks key applies to: the slot of that name, else every
 * slot whose model string is the key. Returns how many were marked. */
static size_t fallback_targets(const struct cfg *cfg, const char *key, bool by_model, bool *mark)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_slots; i++) {
		bool hit = by_model ? !strcmp(cfg->models[cfg->slots[i].model].id, key)
				    : !strcmp(cfg->slots[i].name, key);
		mark[i] = hit;
		n += hit;
	}
	return n;
}

static int parse_fallback_list(struct ctx *c, const cJSON *list, const char *jpath, int **out,
			       size_t *n_out, const bool *mark)
{
	struct cfg *cfg = c->cfg;
	char el[JPATH];
	if (!cJSON_IsArray(list))
		return fail(c, jpath, "expected an array of models, got %s", jtype(list));
	int n = cJSON_GetArraySize(list);
	*out = xcalloc(n ? (size_t)n : 1, sizeof(**out));
	for (int i = 0; i < n; i++) {
		int m;
		jsonv_idx(el, jpath, i);
		if (parse_model_ref(c, cJSON_GetArrayItem(list, i), el, &m))
			return -1;
		for (size_t k = 0; k < *n_out; k++)
			if ((*out)[k] == m)
				return fail(c, el, "duplicate fallback model \"%s\"",
					    cfg->models[m].id);
		for (size_t s = 0; s < cfg->n_slots; s++)
			if (mark[s] && cfg->slots[s].model == m)
				return fail(c, el,
					    "\"%s\" is the primary of slot \"%s\", not a fallback",
					    cfg->models[m].id, cfg->slots[s].name);
		(*out)[(*n_out)++] = m;
	}
	return 0;
}

static int parse_fallbacks(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	char jpath[JPATH];
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "fallbacks");
	if (!f)
		return 0;
	if (want_object(c, f, "fallbacks"))
		return -1;
	bool *mark = xcalloc(cfg->n_slots, sizeof(*mark));
	bool *by_slot = xcalloc(cfg->n_slots, sizeof(*by_slot));
	int rc = 0;
	/* Two passes: slot-named entries first, so that they win over model-named ones. */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (const cJSON *k = f->child; k && !rc; k = k->next) {
			bool slot_key = cfg_slot_index(cfg, k->string) >= 0;
			if (slot_key != (pass == 0))
				continue;
			jsonv_key(jpath, "fallbacks", k->string);
			if (fallback_targets(cfg, k->string, !slot_key, mark) == 0) {
				struct buf b;
				buf_init(&b);
				slot_names(cfg, &b);
				rc = fail(c, jpath,
					  "unknown slot or slot model \"%s\" (known slots: %s)",
					  k->string, b.data);
				buf_free(&b);
				break;
			}
			int *list = NULL;
			size_t n = 0;
			rc = parse_fallback_list(c, k, jpath, &list, &n, mark);
			for (size_t s = 0; s < cfg->n_slots && !rc; s++) {
				if (!mark[s] || (pass == 1 && by_slot[s]))
					continue;
				by_slot[s] = true;
				cfg->slots[s].fallbacks = xcalloc(n ? n : 1, sizeof(int));
				if (n)
					memcpy(cfg->slots[s].fallbacks, list, n * sizeof(int));
				cfg->slots[s].n_fallbacks = n;
			}
			free(list);
		}
	}
	free(mark);
	free(by_slot);
	return rc;
}

static int parse_checks(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
	const cJSON *combine = cJSON_GetObjectItemCaseSensitive(root, "combine");
	const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(root, "pass_threshold");
	double unused;
	if (combine) {
		const char *s = want_str(c, combine, "combine");
		if (!s)
			return -1;
		if (strcmp(s, "all") && strcmp(s, "any") && strcmp(s, "weighted"))
			return fail(c, "combine",
				    "expected \"all\", \"any\" or \"weighted\", got \"%s\"", s);
	}
	if (threshold && want_number(c, threshold, "pass_threshold", 0, false, 1, &unused))
		return -1;
	if (checks) {
		if (!cJSON_IsArray(checks))
			return fail(c, "checks", "expected an array of checks, got %s",
				    jtype(checks));
		if (!checks->child)
			return fail(c, "checks", "expected at least one check");
		return chk_compile(&cfg->checks, checks, combine, threshold, cfg->path, "checks",
				   c->err);
	}
	cJSON *def = cJSON_Parse(default_checks);
	int rc = chk_compile(&cfg->checks, def, combine, threshold, cfg->path, "checks", c->err);
	cJSON_Delete(def);
	return rc;
}

static int merge_extra(struct ctx *c, cJSON **extra, const cJSON *item, const char *jpath)
{
	if (!*extra)
		*extra = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(*extra, item->string))
		return fail(c, jpath, "\"%s\" is set twice (in params and in params.extra_body)",
			    item->string);
	cJSON_AddItemToObject(*extra, item->string, cJSON_Duplicate(item, true));
	return 0;
}

static int parse_params(struct ctx *c, const cJSON *root)
{
	struct cfg_params *p = &c->cfg->params;
	char jpath[JPATH], sub[JPATH];
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (!j)
		return 0;
	if (want_object(c, j, "params"))
		return -1;
	for (const cJSON *k = j->child; k; k = k->next) {
		jsonv_key(jpath, "params", k->string);
		if (!strcmp(k->string, "temperature")) {
			if (want_number(c, k, jpath, 0, false, 2, &p->temperature))
				return -1;
			p->has_temperature = true;
		} else if (!strcmp(k->string, "max_tokens")) {
			if (want_int(c, k, jpath, 1, INT_MAX, &p->max_tokens))
				return -1;
		} else if (!strcmp(k->string, "n")) {
			/* K separate requests, each its own result line: providers
			 * that honour "n" bill and answer it differently */
			if (want_int(c, k, jpath, 1, 1000, &p->n))
				return -1;
		} else if (!strcmp(k->string, "stream")) {
			if (!cJSON_IsBool(k))
				return fail(c, jpath, "expected true or false, got %s", jtype(k));
			p->stream = cJSON_IsTrue(k);
		} else if (jsonv_in(passthrough_keys, k->string)) {
			if (merge_extra(c, &p->extra, k, jpath))
				return -1;
		} else if (strcmp(k->string, "extra_body")) {
			struct buf b;
			buf_init(&b);
			buf_puts(&b, "temperature, max_tokens, stream, ");
			jsonv_known(&b, passthrough_keys);
			buf_puts(&b, ", extra_body");
			fail(c, "params", "unknown key \"%s\" (known: %s)", k->string, b.data);
			buf_free(&b);
			return -1;
		}
	}
	/* extra_body last, so a clash with a pass-through field is found whatever the order. */
	const cJSON *eb = cJSON_GetObjectItemCaseSensitive(j, "extra_body");
	if (!eb)
		return 0;
	if (want_object(c, eb, "params.extra_body"))
		return -1;
	for (const cJSON *k = eb->child; k; k = k->next) {
		jsonv_key(sub, "params.extra_body", k->string);
		if (jsonv_in(reserved_body_keys, k->string))
			return fail(c, sub, "\"%s\" is set by shadoweval%s", k->string,
				    strcmp(k->string, "model") && strcmp(k->string, "messages")
					? " from params, not from extra_body"
					: ", not by extra_body");
		if (merge_extra(c, &p->extra, k, sub))
			return -1;
	}
	return 0;
}

static int parse_retry(struct ctx *c, const cJSON *root)
{
	struct cfg_retry *r = &c->cfg->retry;
	r->max_attempts = 4;
	r->base_ms = 500;
	r->max_ms = 30000;
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "retry");
	if (!j)
		return 0;
	if (check_keys(c, j, "retry", retry_keys) ||
	    opt_int(c, j, "retry", "max_attempts", 1, 20, &r->max_attempts) ||
	    opt_int(c, j, "retry", "base_ms", 0, INT_MAX, &r->base_ms) ||
	    opt_int(c, j, "retry", "max_ms", 0, INT_MAX, &r->max_ms))
		return -1;
	if (r->max_ms < r->base_ms)
		return fail(c, "retry.max_ms", "expected an integer ≥ base_ms (%d), got %d%s",
			    r->base_ms, r->max_ms,
			    cJSON_GetObjectItemCaseSensitive(j, "max_ms") ? "" : " (the default)");
	return 0;
}

/* The eval name becomes the default run folder runs/<name>: it must be one
 * plain path component, so that no name can reach outside runs/ or make a
 * hidden or odd folder. */
static int check_name(struct ctx *c, const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return fail(c, "name", "expected a non-empty name");
	if (n > NAME_MAX_LEN)
		return fail(c, "name", "expected a name of at most %d bytes, got %zu", NAME_MAX_LEN,
			    n);
	if (s[0] == '.')
		return fail(c, "name",
			    "a name may not start with \".\" (it names the folder runs/<name>)");
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '/' || ch == '\\')
			return fail(c, "name",
				    "a name may not contain \"%c\" (it names the folder "
				    "runs/<name>)",
				    ch);
		if (ch < 0x20 || ch == 0x7f)
			return fail(c, "name",
				    "a name may not contain control characters (byte 0x%02x at "
				    "offset %zu)",
				    ch, (size_t)(p - s));
	}
	return 0;
}

/* A judge or pairwise check's "judge": a slot (its model; with
 * "endpoint", the slot's model string there), else a model string on
 * "endpoint", on the endpoint that already serves it, or on the only one. */
static int resolve_judge(struct ctx *c, struct jdg_check *jc, size_t i)
{
	struct cfg *cfg = c->cfg;
	char item[JPATH], jp[JPATH];
	jsonv_idx(item, "checks", i);
	int slot = cfg_slot_index(cfg, jc->judge);
	const char *id = slot >= 0 ? cfg->models[cfg->slots[slot].model].id : jc->judge;
	int ep = -1;
	if (jc->endpoint) {
		jsonv_key(jp, item, "endpoint");
		ep = endpoint_index(cfg, jc->endpoint);
		if (ep < 0) {
			struct buf b;
			buf_init(&b);
			endpoint_names(cfg, &b);
			int rc = fail(c, jp, "unknown endpoint \"%s\" (known: %s)", jc->endpoint,
				      b.data);
			buf_free(&b);
			return rc;
		}
	} else if (slot >= 0) {
		ep = cfg->models[cfg->slots[slot].model].endpoint;
	} else if (cfg_model_index(cfg, id) >= 0) {
		ep = cfg->models[cfg_model_index(cfg, id)].endpoint;
	} else if (cfg->n_endpoints == 1) {
		ep = 0;
	} else {
		jsonv_key(jp, item, "judge");
		return fail(c, jp,
			    "\"%s\" is neither a slot nor a model of this config: name its "
			    "\"endpoint\"",
			    jc->judge);
	}
	jc->slot = slot;
	jc->model = intern_model(cfg, id, ep);
	return 0;
}

static int resolve_judges(struct ctx *c)
{
	for (size_t i = 0; i < c->cfg->checks.n; i++) {
		struct jdg_check *jc = chk_model_graded(&c->cfg->checks, i);
		if (jc && resolve_judge(c, jc, i))
			return -1;
	}
	return 0;
}

static int parse_root(struct ctx *c, const cJSON *root)
{
	struct cfg *cfg = c->cfg;
	const char *s;
	if (check_keys(c, root, "", top_keys))
		return -1;
	const cJSON *name = need(c, root, "", "name");
	if (!name || !(s = want_str(c, name, "name")))
		return -1;
	if (check_name(c, s))
		return -1;
	cfg->name = xstrdup(s);
	if (opt_str(c, root, "", "description", &s))
		return -1;
	if (parse_dataset(c, root) || parse_prompt(c, root) || parse_endpoints(c, root) ||
	    parse_slots(c, root) || parse_routing(c, root) || parse_shadow(c, root) ||
	    parse_fallbacks(c, root) || parse_params(c, root) || parse_retry(c, root))
		return -1;
	if (opt_str(c, root, "", "pricing", &s))
		return -1;
	cfg->pricing_path = s ? fio_join(cfg->dir, s) : NULL;
	cfg->timeout_s = 120;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "timeout_s");
	/* The engine hands libcurl whole milliseconds: below 1 ms the timeout
	 * would round to 0 (no timeout at all), and a huge one overflows. */
	if (t && cJSON_IsNumber(t) && t->valuedouble > 0 &&
	    !(t->valuedouble >= TIMEOUT_MIN_S && t->valuedouble <= TIMEOUT_MAX_S))
		return fail(c, "timeout_s", "expected a number of seconds from %g to %g, got %.15g",
			    TIMEOUT_MIN_S, TIMEOUT_MAX_S, t->valuedouble);
	if (t && want_number(c, t, "timeout_s", 0, true, HUGE_VAL, &cfg->timeout_s))
		return -1;
	/* Checks last: they are the most expensive part (regex compilation). */
	return parse_checks(c, root) || resolve_judges(c);
}

/* The offset of the first byte that does not start a valid UTF-8 sequence. */
static size_t first_bad_utf8(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = (unsigned char)s[i];
		size_t k = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
		if (k > n - i || !utf8_valid(s + i, k))
			return i;
		i += k;
	}
	return n;
}

/* Parses the bytes into a tree, with a file:line:col error when they are not JSON. */
static cJSON *parse_json(struct ctx *c, const char *data, size_t len)
{
	char where[JPATH + 64], near[64];
	const char *text = data;
	size_t skip = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		skip = 3; /* a UTF-8 byte order mark */
	const char *nul = memchr(data, '\0', len);
	if (nul) {
		parse_error_where(c->cfg->path, data, len, (size_t)(nul - data), where,
				  sizeof(where));
		se_fail(c->err, SE_INPUT, where, "invalid JSON: the file contains a NUL byte");
		return NULL;
	}
	if (!utf8_valid(data, len)) {
		parse_error_where(c->cfg->path, data, len, first_bad_utf8(data, len), where,
				  sizeof(where));
		se_fail(c->err, SE_INPUT, where, "invalid JSON: the file is not valid UTF-8");
		return NULL;
	}
	cJSON *root = cJSON_ParseWithOpts(text + skip, NULL, true);
	char jpath[JPATH];
	if (root && jsonnul_find(text + skip, len - skip, jpath, sizeof(jpath))) {
		/* a "\u0000" would cut the name, a pattern, a value... silently */
		cJSON_Delete(root);
		fail(c, jpath, "%s", JSONNUL_MSG);
		return NULL;
	}
	if (root)
		return root;
	const char *at = cJSON_GetErrorPtr(); /* global: copy the offset at once */
	size_t off = at && at >= text + skip && at <= text + len ? (size_t)(at - text) : len;
	parse_error_where(c->cfg->path, data, len, off, where, sizeof(where));
	excerpt(data + off, data + len, near, sizeof(near));
	se_fail(c->err, SE_INPUT, where, "invalid JSON near %s", near);
	return NULL;
}

int cfg_load(const char *path, struct cfg **out, struct se_err *err)
{
	return cfg_load_with(path, NULL, out, err);
}

/* "--set PATH=JSON" as the manifest records it. A value under `endpoints`
 * may hold a header with a key (`endpoints.x.headers={"X-Api-Key": ...}`):
 * it is recorded as its SHA-256, which --resume still compares, never as
 * text (the manifest holds no key and no header). */
static void record_set(struct buf *b, const char *set)
{
	const char *eq = strchr(set, '=');
	if (!eq || strncmp(set, "endpoints", 9) || (set[9] != '.' && set[9] != '=')) {
		buf_printf(b, "--set %s", set);
		return;
	}
	char hex[65];
	sha256_hex(eq + 1, strlen(eq + 1), hex);
	buf_printf(b, "--set %.*s=(sha256 %s)", (int)(eq - set), set, hex);
}

/* After the overrides: the effective config's hash, and the flags recorded. */
static void note_overrides(struct cfg *cfg, const cJSON *root, const struct cfg_overrides *ov)
{
	char *text = cJSON_PrintUnformatted(root);
	sha256_hex(text, strlen(text), cfg->sha256);
	free(text);
	cfg->overrides = xcalloc(ov->n_sets + 1, sizeof(*cfg->overrides));
	struct buf b;
	buf_init(&b);
	if (ov->routing) {
		buf_printf(&b, "--routing %s", ov->routing);
		cfg->overrides[cfg->n_overrides++] = xstrdup(b.data);
	}
	for (size_t i = 0; i < ov->n_sets; i++) {
		buf_reset(&b);
		record_set(&b, ov->sets[i]);
		cfg->overrides[cfg->n_overrides++] = xstrdup(b.data);
	}
	buf_free(&b);
}

/* An error in a value an override put there says which flag did. */
static void blame_override(const struct cfg_overrides *ov, struct se_err *err, const char *path)
{
	size_t n = strlen(path);
	if (strncmp(err->where, path, n) || strncmp(err->where + n, ": ", 2))
		return;
	char flag[300];
	if (!cfg_overrides_source(ov, err->where + n + 2, flag, sizeof(flag)))
		return;
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used, " (set by %s)", flag);
}

int cfg_load_with(const char *path, const struct cfg_overrides *ov, struct cfg **out,
		  struct se_err *err)
{
	char *data;
	size_t len;
	*out = NULL;
	if (fio_read_all(path, &data, &len, err))
		return -1;
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	cfg->dir = fio_dirname(path);
	cfg->default_slot = -1;
	sha256_hex(data, len, cfg->sha256);
	memcpy(cfg->file_sha256, cfg->sha256, sizeof(cfg->sha256));
	struct ctx c = {cfg, err};
	cJSON *root = parse_json(&c, data, len);
	int rc = -1;
	bool overridden = ov && (ov->routing || ov->n_sets);
	if (root && !no_duplicate_keys(&c, root) &&
	    (!overridden || !cfg_overrides_apply(root, ov, err))) {
		if (overridden)
			note_overrides(cfg, root, ov);
		rc = parse_root(&c, root);
		if (rc && overridden)
			blame_override(ov, err, path);
	}
	cJSON_Delete(root);
	free(data);
	if (rc) {
		cfg_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->name);
	free(cfg->dataset.path);
	free(cfg->dataset.format);
	free(cfg->dataset.expected_field);
	free(cfg->dataset.expected_regex);
	free(cfg->prompt.system);
	free(cfg->prompt.template);
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		struct cfg_endpoint *ep = &cfg->endpoints[i];
		free(ep->name);
		free(ep->base_url);
		free(ep->api_key_env);
		free(ep->ca_file);
		for (size_t h = 0; h < ep->n_headers; h++) {
			free(ep->headers[h].name);
			free(ep->headers[h].value);
		}
		free(ep->headers);
	}
	free(cfg->endpoints);
	for (size_t i = 0; i < cfg->n_models; i++)
		free(cfg->models[i].id);
	free(cfg->models);
	for (size_t i = 0; i < cfg->n_slots; i++) {
		free(cfg->slots[i].name);
		free(cfg->slots[i].fallbacks);
	}
	free(cfg->slots);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		struct cfg_rule *r = &cfg->rules[i];
		for (size_t t = 0; t < r->n_tasks; t++)
			free(r->tasks[t]);
		free(r->tasks);
		for (size_t m = 0; m < r->n_metadata; m++) {
			free(r->metadata[m].key);
			free(r->metadata[m].value);
		}
		free(r->metadata);
		free(r->thresholds);
		free(r->band_slots);
		free(r->label);
	}
	free(cfg->rules);
	free(cfg->shadows);
	chk_set_free(&cfg->checks);
	cJSON_Delete(cfg->params.extra);
	free(cfg->pricing_path);
	for (size_t i = 0; i < cfg->n_overrides; i++)
		free(cfg->overrides[i]);
	free(cfg->overrides);
	free(cfg);
}

int cfg_slot_index(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_slots; i++)
		if (!strcmp(cfg->slots[i].name, name))
			return (int)i;
	return -1;
}

int cfg_model_index(const struct cfg *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_models; i++)
		if (!strcmp(cfg->models[i].id, id))
			return (int)i;
	return -1;
}

int cfg_override_endpoint(struct cfg *cfg, const char *name, const char *url, struct se_err *err)
{
	int i = endpoint_index(cfg, name);
	if (i < 0) {
		struct buf b;
		buf_init(&b);
		endpoint_names(cfg, &b);
		se_fail(err, SE_USAGE, "--endpoint", "unknown endpoint \"%s\" (known: %s)", name,
			b.data);
		buf_free(&b);
		return -1;
	}
	/* Reuse the config's URL rules; errors are about the flag, not the file. */
	char flag[] = "--endpoint";
	struct cfg fake = {.path = flag};
	struct ctx c = {&fake, err};
	char *u;
	if (parse_base_url(&c, url, name, &u)) {
		err->kind = SE_USAGE;
		return -1;
	}
	free(cfg->endpoints[i].base_url);
	cfg->endpoints[i].base_url = u;
	return 0;
}
