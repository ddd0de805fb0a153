/* fz_dataset.h: the shared body of the JSONL and CSV dataset targets. */
#ifndef FZ_DATASET_H
#define FZ_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* Reads data as a dataset of the given format ("jsonl" or "csv") to its end
 * or its first error, touching every item's fields. */
void fz_dataset(const char *format, const uint8_t *data, size_t size);

#endif
