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
 * Placeholders allow spaces inside the braces ("{{ question }}"); numbers and
 * booleans are rendered as text; a "{{" without "}}" stays as written. An
 * item with neither a template, "messages" nor "prompt" is an error. Messages
 * are copied whole (name, content parts and any other keys).
 *
 * The token estimate the routing policy uses is computed here, on what is
 * actually sent: chars/4, where chars counts Unicode code points of every
 * message's content (the system text included; for content parts, their
 * "text"), summed and then divided, integer division (so 1999 chars -> 499
 * tokens). Not done here: request bodies (engine/), reading items (dataset/).
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

/* The text of the last user message of a rendered messages array (JSON, n
 * bytes) into out (reset first): its content string, or the "text" of its
 * content parts joined by newlines. -1 when there is no user message. For
 * checks that show a grader the item's input. */
int prompt_last_user(const char *messages_json, size_t n, struct buf *out);

/* chars/4 of a text: code points / 4. */
long prompt_estimate_tokens(const char *text, size_t n);

#endif
