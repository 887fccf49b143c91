/* Why: scoring a text touches one weight row per hashed feature, scattered over tables of
 * tens of MB.  With 4 KB pages nearly every such access also misses the TLB (a 31 MB table
 * spans 7,700 pages); 2 MB pages cut that to 16 and measured about 1.1x faster linear-model
 * scoring (bench/RESULTS-text.md).  Transparent huge pages are often in "madvise" mode, so
 * the table has to ask for them. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "core/hugemem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *pth_huge_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes < 2 * HUGE_PAGE)
        return posix_memalign(&p, 128, bytes ? bytes : 1) == 0 ? p : NULL;
    if (bytes > SIZE_MAX - HUGE_PAGE)
        return NULL;
    size_t rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (posix_memalign(&p, HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Advice only: failure (no THP support) leaves ordinary pages. */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}
