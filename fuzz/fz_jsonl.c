/* fz_jsonl.c: fuzzes the JSONL dataset reader (ds_open, ds_next). */
#include "fz_dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_dataset("jsonl", data, size);
	return 0;
}
