/* redact.h: keeps secrets out of everything a run stores or prints.
 *
 * A server may echo the request headers (a debugging proxy, a hostile
 * gateway) into its answer, its error message, its "model" field or a
 * redirect's Location. The engine registers each secret it sends (every API
 * key it read, and the values of config headers that carry credentials:
 * Authorization, Proxy-Authorization, *api-key*, *token*, *secret*) and
 * passes every server-provided text through eng_redact_buf before it reaches
 * a results line, an error message or a cache entry. Each occurrence becomes
 * ENG_REDACTED.
 *
 * Secrets shorter than ENG_REDACT_MIN are not registered: replacing every "x"
 * of every answer would destroy the results, and no real key is that short.
 *
 * Ownership: the set owns copies of its secrets and wipes them when freed.
 */
#ifndef SE_ENGINE_REDACT_H
#define SE_ENGINE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define ENG_REDACTED "[REDACTED]"
#define ENG_REDACT_MIN 4

struct eng_redact {
	char **secrets;
	size_t n;
	size_t cap;
};

void eng_redact_init(struct eng_redact *r);
void eng_redact_free(struct eng_redact *r);
/* Registers a secret (copied); duplicates and short ones are ignored. */
void eng_redact_add(struct eng_redact *r, const char *secret);
/* Whether a config header of this name carries a credential. */
bool eng_redact_header_is_secret(const char *name);

/* Replaces every occurrence of every secret in b; returns how many. */
size_t eng_redact_buf(const struct eng_redact *r, struct buf *b);
/* Whether s[0..len) holds a secret. */
bool eng_redact_has(const struct eng_redact *r, const char *s, size_t len);
/* The same for a NUL-terminated string in a fixed array of size bytes (the
 * result is cut at size-1 bytes when the marker is longer than a secret).
 * A string that fills the array may have been cut inside a secret: a tail
 * that is the beginning of one (ENG_REDACT_MIN bytes or more) is replaced
 * too. */
size_t eng_redact_str(const struct eng_redact *r, char *s, size_t size);
/* Whether text holds a secret once its JSON string escapes (\uXXXX, \/ ...)
 * are decoded: raw text that is stored as is (a cache entry) must not carry
 * an escaped key either. */
bool eng_redact_escaped(const struct eng_redact *r, const char *text, size_t len);

#endif
