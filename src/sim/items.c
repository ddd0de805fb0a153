/* items.c: what shadowsim knows about an eval's items (see sim.h).
 *
 * At start-up, with --eval: load the config, stream the dataset, render each
 * item's messages exactly as the harness will send them, and key the item by
 * sha256 of its last user message. For every (item, model) two answers are
 * built and checked with the eval's own checks: one that passes (the first of
 * a few formats around the expected answer E that chk_eval accepts) and one
 * that fails (E perturbed: a number moved, a label swapped for another label
 * of the dataset, else "unknown"). The server then only picks one of them.
 * Every answer text is also indexed, so a judge request (judge.c) can ask
 * whether a graded text is a correct answer. This file does not decide
 * which answer a request gets (reply.c does).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "config/config.h"
#include "core/sha256.h"
#include "core/xalloc.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "sim/sim.h"

#define SIM_MAX_LABELS 2048

/* One generated answer text, for the judge models' look-ups. */
struct answer_ref {
	uint64_t h; /* hash of the trimmed text */
	size_t item;
	size_t model;
	bool correct;
};

struct sim_items {
	struct sim_item *items;
	size_t n, cap;
	size_t *slots; /* open addressing: index+1, 0 empty */
	size_t n_slots;
	size_t n_models;
	struct answer_ref *answers; /* sorted by h */
	size_t n_answers;
};

/* Answer formats tried for the correct answer, in order. %P is the padding,
 * %E the answer. The same format is then used for the wrong answer. */
enum fmt { FMT_PAD_HASH, FMT_HASH, FMT_BARE, FMT_PAD_BARE, FMT_SENTENCE, FMT_COUNT };

void sim_padding(struct buf *b, long tokens)
{
	static const char *const words[] = {
	    "Let",    "me",	 "work",   "through", "this",  "step",	  "by",	   "step.",
	    "First,", "restate", "what",   "is",      "asked", "and",	  "check", "each",
	    "fact",   "given",	 "before", "the",     "final", "answer.",
	};
	size_t nw = sizeof(words) / sizeof(words[0]);
	size_t target = tokens > 0 ? (size_t)tokens * 4 : 0;
	size_t start = b->len;
	for (size_t i = 0; b->len - start < target; i++) {
		if (i)
			buf_putc(b, i % 24 == 0 ? '\n' : ' ');
		buf_puts(b, words[i % nw]);
	}
}

int sim_messages_key(const cJSON *messages, char hex[65])
{
	if (!cJSON_IsArray(messages))
		return -1;
	const cJSON *last = NULL;
	for (const cJSON *m = messages->child; m; m = m->next) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
		if (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0)
			last = m;
	}
	if (!last)
		return -1;
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(last, "content");
	if (cJSON_IsString(content)) {
		sha256_hex(content->valuestring, strlen(content->valuestring), hex);
		return 0;
	}
	char *text = content ? cJSON_PrintUnformatted(content) : NULL;
	sha256_hex(text ? text : "", text ? strlen(text) : 0, hex);
	cJSON_free(text);
	return 0;
}

static void format_answer(struct buf *b, enum fmt f, const char *pad, const char *e)
{
	buf_reset(b);
	switch (f) {
	case FMT_PAD_HASH:
		buf_printf(b, "%s\n#### %s", pad, e);
		break;
	case FMT_HASH:
		buf_printf(b, "#### %s", e);
		break;
	case FMT_BARE:
		buf_puts(b, e);
		break;
	case FMT_PAD_BARE:
		buf_printf(b, "%s\n%s", pad, e);
		break;
	default:
		buf_printf(b, "The answer is %s.", e);
		break;
	}
}

/* The eval's text checks on an answer; checks that grade with the item's
 * context (a scorer process, a judge) do not run here. */
static bool passes(const struct cfg *cfg, const struct sim_item *it, const struct buf *text,
		   const char *const *exp, size_t n)
{
	struct chk_outcome out;
	memset(&out, 0, sizeof(out));
	struct chk_item ci = {.id = it->id, .task = it->task, .expected = exp, .n_expected = n};
	chk_eval(&cfg->checks, &ci, text->data, text->len, &out);
	bool ok = out.pass;
	chk_outcome_free(&out);
	return ok;
}

/* A number as the dataset would write it: integers without a decimal point. */
static void format_number(char *out, size_t size, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(out, size, "%.0f", v);
	else
		snprintf(out, size, "%g", v);
}

static bool parse_number(const char *s, double *v)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	char *end;
	*v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' && isfinite(*v);
}

struct labels {
	char **v;
	size_t n, cap;
};

static void labels_add(struct labels *l, const char *s)
{
	if (l->n >= SIM_MAX_LABELS)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

/* The expected answers of one item, kept until every item is read. */
struct pending {
	char **expected;
	size_t n_expected;
};

/* Builds the correct and wrong texts of item `it` for model m. */
static void build_answers(const struct cfg *cfg, const struct labels *labels, struct sim_item *it,
			  const struct pending *pe, const struct sim_model *m, size_t mi)
{
	struct buf pad, text;
	buf_init(&pad);
	buf_init(&text);
	sim_padding(&pad, m->output_tokens);
	const char *const *exp = (const char *const *)pe->expected;
	const char *e = pe->n_expected ? pe->expected[0] : NULL;

	if (!e) {
		/* Nothing to aim at: both answers are the padding. */
		it->correct[mi] = xstrdup(pad.data);
		it->wrong[mi] = NULL;
		buf_free(&pad);
		buf_free(&text);
		return;
	}
	enum fmt chosen = FMT_PAD_HASH;
	for (int f = 0; f < FMT_COUNT; f++) {
		format_answer(&text, (enum fmt)f, pad.data, e);
		if (passes(cfg, it, &text, exp, pe->n_expected)) {
			chosen = (enum fmt)f;
			break;
		}
	}
	format_answer(&text, chosen, pad.data, e);
	it->correct[mi] = buf_detach(&text, NULL);

	/* Wrong candidates: moved numbers, other labels, then "unknown". */
	char cand[8][256];
	size_t nc = 0;
	double v;
	if (parse_number(e, &v)) {
		static const double moves[] = {1, 2, -1, 10, 7};
		for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
			format_number(cand[nc++], sizeof(cand[0]), v + moves[i]);
	} else if (labels->n > 1) {
		size_t start = (size_t)(sim_hash(0, "", it->key, 0, "wrong") % labels->n);
		for (size_t i = 0; i < labels->n && nc < 5; i++) {
			const char *l = labels->v[(start + i) % labels->n];
			double lv;
			/* A label for a label: a mixed dataset's numbers are no labels. */
			if (strcmp(l, e) != 0 && !parse_number(l, &lv))
				snprintf(cand[nc++], sizeof(cand[0]), "%s", l);
		}
	}
	snprintf(cand[nc++], sizeof(cand[0]), "unknown");
	it->wrong[mi] = NULL;
	for (size_t i = 0; i < nc && !it->wrong[mi]; i++) {
		format_answer(&text, chosen, pad.data, cand[i]);
		if (!passes(cfg, it, &text, exp, pe->n_expected))
			it->wrong[mi] = buf_detach(&text, NULL);
	}
	buf_free(&pad);
	buf_free(&text);
}

static void table_put(struct sim_items *t, size_t idx)
{
	char head[17];
	memcpy(head, t->items[idx].key, 16);
	head[16] = '\0';
	uint64_t h = strtoull(head, NULL, 16);
	for (size_t s = h & (t->n_slots - 1);; s = (s + 1) & (t->n_slots - 1)) {
		if (!t->slots[s]) {
			t->slots[s] = idx + 1;
			return;
		}
		if (strcmp(t->items[t->slots[s] - 1].key, t->items[idx].key) == 0)
			return; /* same conversation twice: the first item answers */
	}
}

const struct sim_item *sim_items_find(const struct sim_items *t, const char *key_hex)
{
	if (!t || !t->n_slots)
		return NULL;
	char head[17];
	memcpy(head, key_hex, 16);
	head[16] = '\0';
	uint64_t h = strtoull(head, NULL, 16);
	for (size_t s = h & (t->n_slots - 1); t->slots[s]; s = (s + 1) & (t->n_slots - 1))
		if (strcmp(t->items[t->slots[s] - 1].key, key_hex) == 0)
			return &t->items[t->slots[s] - 1];
	return NULL;
}

size_t sim_items_count(const struct sim_items *t)
{
	return t ? t->n : 0;
}

static void pending_free(struct pending *pe, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < pe[i].n_expected; k++)
			free(pe[i].expected[k]);
		free(pe[i].expected);
	}
	free(pe);
}

/* The content of the last user message when it is a string, else "". */
static char *last_user_text(const cJSON *messages)
{
	const char *text = "";
	for (const cJSON *m = messages->child; m; m = m->next) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0)
			text = cJSON_IsString(c) ? c->valuestring : "";
	}
	return xstrdup(text);
}

/* ---- the answer index (judge look-ups) ---- */

/* FNV-1a over the text with surrounding white space trimmed. */
static uint64_t text_hash(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* True when a (the trimmed request text) equals the stored text b trimmed. */
static bool same_text(const char *a, size_t la, const char *b)
{
	while (*b && isspace((unsigned char)*b))
		b++;
	size_t lb = strlen(b);
	while (lb && isspace((unsigned char)b[lb - 1]))
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

static int answer_cmp(const void *x, const void *y)
{
	const struct answer_ref *a = x, *b = y;
	return a->h < b->h ? -1 : a->h > b->h;
}

static void index_answers(struct sim_items *t)
{
	t->answers = xcalloc(t->n * t->n_models * 2 + 1, sizeof(*t->answers));
	for (size_t i = 0; i < t->n; i++) {
		for (size_t m = 0; m < t->n_models; m++) {
			const char *texts[2] = {t->items[i].correct[m], t->items[i].wrong[m]};
			for (int k = 0; k < 2; k++) {
				if (!texts[k])
					continue;
				struct answer_ref *r = &t->answers[t->n_answers++];
				r->h = text_hash(texts[k], strlen(texts[k]));
				r->item = i;
				r->model = m;
				r->correct = k == 0;
			}
		}
	}
	qsort(t->answers, t->n_answers, sizeof(*t->answers), answer_cmp);
}

bool sim_items_answer_correct(const struct sim_items *t, const char *text, size_t len,
			      const char *prompt)
{
	if (!t || !t->n_answers)
		return false;
	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	struct answer_ref key = {.h = text_hash(text, len)};
	const struct answer_ref *hit =
	    bsearch(&key, t->answers, t->n_answers, sizeof(key), answer_cmp);
	if (!hit)
		return false;
	while (hit > t->answers && hit[-1].h == key.h)
		hit--;
	int seen = -1; /* -1 none, 0 wrong, 1 correct, 2 both */
	bool quoted = false;
	for (const struct answer_ref *r = hit; r < t->answers + t->n_answers && r->h == key.h;
	     r++) {
		const struct sim_item *it = &t->items[r->item];
		const char *stored = r->correct ? it->correct[r->model] : it->wrong[r->model];
		if (!same_text(text, len, stored))
			continue;
		if (*it->input && prompt && strstr(prompt, it->input)) {
			if (!quoted)
				seen = -1; /* the quoted item's answers decide */
			quoted = true;
		} else if (quoted) {
			continue;
		}
		seen = seen < 0 ? r->correct : seen == (int)r->correct ? seen : 2;
	}
	return seen == 1 || seen == 2;
}

/* Reads every item: key, id, task, expected answers. */
static int read_items(const struct cfg *cfg, struct sim_items *t, struct pending **pe_out,
		      struct labels *labels, struct se_err *err)
{
	struct ds_reader *r = NULL;
	if (ds_open(&r, &cfg->dataset, err))
		return -1;
	struct ds_item item;
	memset(&item, 0, sizeof(item));
	struct buf msgs;
	buf_init(&msgs);
	struct pending *pe = NULL;
	size_t pe_cap = 0;
	int rc = 0;
	for (;;) {
		int got = ds_next(r, &item, err);
		if (got <= 0) {
			rc = got;
			break;
		}
		buf_reset(&msgs);
		long est = 0;
		if (prompt_render(cfg, &item, &msgs, &est, err)) {
			rc = -1;
			break;
		}
		cJSON *arr = cJSON_ParseWithLength(msgs.data, msgs.len);
		char key[65];
		int kr = sim_messages_key(arr, key);
		char *input = kr ? NULL : last_user_text(arr);
		cJSON_Delete(arr);
		if (kr)
			continue; /* no user message: nothing could identify it */
		t->items = xgrow(t->items, &t->cap, t->n + 1, sizeof(*t->items));
		pe = xgrow(pe, &pe_cap, t->n + 1, sizeof(*pe));
		struct sim_item *it = &t->items[t->n];
		memset(it, 0, sizeof(*it));
		memcpy(it->key, key, sizeof(key));
		it->id = xstrdup(item.id ? item.id : "");
		it->task = xstrdup(item.task ? item.task : "");
		it->input = input;
		pe[t->n].n_expected = item.n_expected;
		pe[t->n].expected = xcalloc(item.n_expected + 1, sizeof(char *));
		for (size_t k = 0; k < item.n_expected; k++) {
			pe[t->n].expected[k] = xstrdup(item.expected[k]);
			labels_add(labels, item.expected[k]);
		}
		t->n++;
	}
	ds_item_clear(&item);
	ds_close(r);
	buf_free(&msgs);
	*pe_out = pe;
	return rc;
}

int sim_items_load(struct sim_items **out, const char *eval_path, const struct sim_profiles *p,
		   struct se_err *err)
{
	*out = NULL;
	struct cfg *cfg = NULL;
	if (cfg_load(eval_path, &cfg, err))
		return -1;
	struct sim_items *t = xcalloc(1, sizeof(*t));
	t->n_models = p->n_models;
	struct pending *pe = NULL;
	struct labels labels = {0};
	int rc = read_items(cfg, t, &pe, &labels, err);
	if (rc == 0) {
		for (size_t i = 0; i < t->n; i++) {
			struct sim_item *it = &t->items[i];
			it->correct = xcalloc(p->n_models, sizeof(char *));
			it->wrong = xcalloc(p->n_models, sizeof(char *));
			for (size_t m = 0; m < p->n_models; m++)
				build_answers(cfg, &labels, it, &pe[i], &p->models[m], m);
		}
		t->n_slots = 16;
		while (t->n_slots < t->n * 2)
			t->n_slots *= 2;
		t->slots = xcalloc(t->n_slots, sizeof(size_t));
		for (size_t i = 0; i < t->n; i++)
			table_put(t, i);
		index_answers(t);
	}
	pending_free(pe, t->n);
	for (size_t i = 0; i < labels.n; i++)
		free(labels.v[i]);
	free(labels.v);
	cfg_free(cfg);
	if (rc) {
		sim_items_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void sim_items_free(struct sim_items *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct sim_item *it = &t->items[i];
		for (size_t m = 0; m < t->n_models; m++) {
			if (it->correct)
				free(it->correct[m]);
			if (it->wrong)
				free(it->wrong[m]);
		}
		free(it->correct);
		free(it->wrong);
		free(it->id);
		free(it->task);
		free(it->input);
	}
	free(t->answers);
	free(t->items);
	free(t->slots);
	free(t);
}
