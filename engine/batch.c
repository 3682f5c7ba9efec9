/* batch.c - the C library's memory policy for a one-shot run over many files (--check, --write).
 *
 * Each source is transformed with a few large, short-lived blocks (its tokens: ~6 bytes per
 * byte of C, tens of MiB for a big file; its line table; the output growing). glibc gives a
 * block above its mmap threshold (128 KiB, rising to at most 32 MiB) its own mapping and
 * unmaps it on free, and trims a heap's free top above 128 KiB: so every file's tokens came
 * from fresh pages, one page fault per 4 KiB — two thirds of the faults of `--write` on large
 * files, and most of its kernel time (bench/README.md). A batch run keeps freed memory for the
 * next file instead. The process is short-lived, so what it keeps is bounded by its peak. The
 * language server (a long-lived process) does not call this. */
#include "engine.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void ue_batch_memory(void)
{
#if defined(__GLIBC__)
    /* blocks up to 256 MiB come from the heap and go back to it (setting the threshold also
     * stops glibc's dynamic one); a heap is trimmed only when 512 MiB of its top are free */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
#endif
}
