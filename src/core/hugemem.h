/* Allocation of large tables that are read at random (a weight row per hashed feature). */
#ifndef PATHOS_CORE_HUGEMEM_H
#define PATHOS_CORE_HUGEMEM_H

#include <stddef.h>

/* Like malloc(bytes) (release with free()), but aligned to 128 bytes, and a table of 4 MB or
 * more is aligned to 2 MB and advised to the kernel as huge-page memory (Linux
 * MADV_HUGEPAGE; elsewhere, or when the kernel refuses, it is ordinary memory).  NULL when
 * out of memory. */
void *pth_huge_alloc(size_t bytes);

#endif
