/* prompt.h: turning an item into the chat messages sent to a model.
 *
 * With a template, the user message is the template with each {{field}}
 * replaced by the item's field (ds_field: item, then metadata; "{{metadata.x}}"
 * explicitly); an unknown field is an error naming the item and field. Without
 * one, the item's "messages" (OpenAI chat messages) are used as they are, or
 * its "prompt" as one user message. The config's system text, when set, is
 * prepended as a system message (unless the item's messages already start
 * with one).
 *
 * The token estimate the routing policy uses is computed here, on what is
 * actually sent: chars/4, where chars counts Unicode code points of every
 * message's content, integer division (so 1999 chars -> 499 tokens).
 */
#ifndef SE_PROMPT_H
#define SE_PROMPT_H

#include "core/buf.h"
#include "core/err.h"

struct cfg;
struct ds_item;

/* Writes the JSON array of messages into b (appending) and sets *est_tokens.
 * `where` (file:line of the item) prefixes errors. */
int prompt_render(const struct cfg *cfg, const struct ds_item *item, struct buf *messages_json,
		  long *est_tokens, struct se_err *err);

/* chars/4 of a text: code points / 4. */
long prompt_estimate_tokens(const char *text, size_t n);

#endif
