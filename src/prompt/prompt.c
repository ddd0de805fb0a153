/* prompt.c: an item's chat messages as JSON text, and their token estimate;
 * see prompt.h.
 *
 * Writes with jsonw into the caller's buffer, so rendering costs one scratch
 * buffer per call. Does not read datasets (dataset/) nor build request bodies
 * (engine/ adds model and params around the messages).
 */
#include "prompt/prompt.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/jsonw.h"
#include "dataset/dataset.h"

long prompt_estimate_tokens(const char *text, size_t n)
{
	return (long)(utf8_count(text, n) / 4);
}

/* Writes any cJSON value as JSON text (messages are passed through whole:
 * name, tool_calls and content parts included). */
static void write_json(struct buf *b, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		jsonw_str(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		jsonw_double(b, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		jsonw_bool(b, cJSON_IsTrue(v));
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		bool obj = cJSON_IsObject(v);
		buf_putc(b, obj ? '{' : '[');
		for (const cJSON *e = v->child; e; e = e->next) {
			if (e != v->child)
				buf_putc(b, ',');
			if (obj) {
				jsonw_str(b, e->string ? e->string : "");
				buf_putc(b, ':');
			}
			write_json(b, e);
		}
		buf_putc(b, obj ? '}' : ']');
	} else {
		buf_puts(b, "null");
	}
}

/* Code points of a message's content: a string, or the "text" of each part. */
static size_t content_chars(const cJSON *content)
{
	if (cJSON_IsString(content))
		return utf8_count(content->valuestring, strlen(content->valuestring));
	size_t n = 0;
	if (cJSON_IsArray(content)) {
		for (const cJSON *p = content->child; p; p = p->next) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
			if (cJSON_IsString(t))
				n += utf8_count(t->valuestring, strlen(t->valuestring));
		}
	}
	return n;
}

static void write_message(struct buf *b, const char *role, const char *content, size_t n)
{
	buf_puts(b, "{\"role\":");
	jsonw_str(b, role);
	buf_puts(b, ",\"content\":");
	jsonw_strn(b, content, n);
	buf_putc(b, '}');
}

/* Expands {{ name }} placeholders (spaces inside the braces allowed). A "{{"
 * without a closing "}}" is kept as text. */
static int render_template(const char *tpl, const struct ds_item *item, const char *where,
			   struct buf *out, struct se_err *err)
{
	char tmp[4096];
	const char *p = tpl;
	for (;;) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (!close) {
			buf_puts(out, p);
			return 0;
		}
		buf_append(out, p, (size_t)(open - p));
		const char *a = open + 2, *z = close;
		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
			z--;
		char name[256];
		size_t n = (size_t)(z - a);
		if (!n || n >= sizeof(name))
			return se_fail(err, SE_INPUT, where, "template: bad placeholder \"%.*s\"",
				       (int)(close + 2 - open), open);
		memcpy(name, a, n);
		name[n] = '\0';
		const char *v = ds_field(item, name, tmp, sizeof(tmp));
		if (!v)
			return se_fail(err, SE_INPUT, where,
				       "template: item \"%s\" has no field \"%s\"", item->id, name);
		buf_puts(out, v);
		p = close + 2;
	}
}

int prompt_render(const struct cfg *cfg, const struct ds_item *item, struct buf *messages_json,
		  long *est_tokens, struct se_err *err)
{
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", cfg->dataset.path ? cfg->dataset.path : "dataset",
		 item->line);
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(item->obj, "messages");
	const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(item->obj, "prompt");
	const char *system = cfg->prompt.system;
	const char *tpl = cfg->prompt.template;
	size_t chars = 0;
	size_t start = messages_json->len;

	if (!tpl && !cJSON_IsArray(msgs) && !cJSON_IsString(prompt))
		return se_fail(err, SE_INPUT, where,
			       "item \"%s\" has no \"prompt\" or \"messages\"", item->id);
	if (!tpl && cJSON_IsArray(msgs) && msgs->child) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(msgs->child, "role");
		if (cJSON_IsString(role) && !strcmp(role->valuestring, "system"))
			system = NULL;
	}

	buf_putc(messages_json, '[');
	if (system) {
		write_message(messages_json, "system", system, strlen(system));
		chars += utf8_count(system, strlen(system));
	}
	if (tpl) {
		struct buf text;
		buf_init(&text);
		if (render_template(tpl, item, where, &text, err)) {
			buf_free(&text);
			messages_json->len = start;
			messages_json->data[start] = '\0';
			return -1;
		}
		if (system)
			buf_putc(messages_json, ',');
		write_message(messages_json, "user", text.data, text.len);
		chars += utf8_count(text.data, text.len);
		buf_free(&text);
	} else if (cJSON_IsArray(msgs)) {
		bool first = !system;
		for (const cJSON *m = msgs->child; m; m = m->next) {
			if (!first)
				buf_putc(messages_json, ',');
			first = false;
			write_json(messages_json, m);
			chars += content_chars(cJSON_GetObjectItemCaseSensitive(m, "content"));
		}
	} else {
		const char *s = prompt->valuestring;
		if (system)
			buf_putc(messages_json, ',');
		write_message(messages_json, "user", s, strlen(s));
		chars += utf8_count(s, strlen(s));
	}
	buf_putc(messages_json, ']');
	*est_tokens = (long)(chars / 4);
	return 0;
}

int prompt_last_user(const char *messages_json, size_t n, struct buf *out)
{
	buf_reset(out);
	cJSON *msgs = cJSON_ParseWithLength(messages_json, n);
	const cJSON *last = NULL;
	for (const cJSON *m = cJSON_IsArray(msgs) ? msgs->child : NULL; m; m = m->next) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
		if (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0)
			last = m;
	}
	const cJSON *content = last ? cJSON_GetObjectItemCaseSensitive(last, "content") : NULL;
	if (cJSON_IsString(content)) {
		buf_puts(out, content->valuestring);
	} else if (cJSON_IsArray(content)) {
		for (const cJSON *p = content->child; p; p = p->next) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "text");
			if (!cJSON_IsString(t))
				continue;
			if (out->len)
				buf_putc(out, '\n');
			buf_puts(out, t->valuestring);
		}
	}
	cJSON_Delete(msgs);
	return last ? 0 : -1;
}
