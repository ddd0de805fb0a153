/* clock.h: time for latency measurement and for timestamps.
 *
 * Latencies use CLOCK_MONOTONIC (wall-clock jumps must not produce negative
 * latencies); manifest timestamps use UTC wall time in ISO 8601.
 */
#ifndef SE_CLOCK_H
#define SE_CLOCK_H

#include <stddef.h>

double clock_now_ms(void);		    /* monotonic milliseconds */
void clock_iso8601(char *out, size_t size); /* "2026-11-25T12:43:28Z" */

#endif
