/* jsonr.h: reading one field of a parsed cJSON object, typed.
 *
 * Results lines, manifests, cache entries and reports all read optional
 * fields the same way: a value of the expected type, or a default when the
 * field is absent or of another type. Callers that must reject a wrong type
 * (the config loader, the wire parsers) check types themselves and name the
 * JSON path; this is for fields where absence is normal.
 */
#ifndef SE_JSONR_H
#define SE_JSONR_H

struct cJSON;

/* o[key] when it is a string, else NULL. */
const char *jsonr_str(const struct cJSON *o, const char *key);
/* o[key] when it is a number, else dflt. */
double jsonr_num(const struct cJSON *o, const char *key, double dflt);

#endif
