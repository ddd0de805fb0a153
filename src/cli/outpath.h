/* outpath.h: where a command may write a file the user named (report -o,
 * check --junit/--markdown, cache export/merge -o).
 *
 * A named output never replaces what the command reads, nor a file a run
 * folder or a cache folder owns: `report runs/a -o runs/a/results.jsonl`
 * would turn the run's results into HTML, `cache export -o
 * .shadoweval-cache/cache.sqlite` the cache into a bundle, both with exit
 * 0. Refused with exit 2 (SE_USAGE, naming the flag):
 * - the same file (device and inode) as one of the files the command reads;
 * - a file of the folder's own set (results.jsonl, manifest.json, the
 *   summaries, run.lock, ...; cache.sqlite and its journals) in a folder
 *   that is one (it holds manifest.json or results.jsonl; cache.sqlite).
 * Writes are atomic (a temporary file renamed over the name), so a symbolic
 * link at the name is replaced, never followed: only the name is checked.
 */
#ifndef SE_CLI_OUTPATH_H
#define SE_CLI_OUTPATH_H

#include <stddef.h>

#include "core/err.h"

/* 0 when flag's output path out may be written; reads: the n paths the
 * command reads (missing ones are skipped). */
int out_path_check(const char *flag, const char *out, const char *const *reads, size_t n,
		   struct se_err *err);

#endif
