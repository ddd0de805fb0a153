/* fz_csv.c: fuzzes the CSV dataset reader (ds_open, ds_next over libcsv). */
#include "fz_dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_dataset("csv", data, size);
	return 0;
}
