/* Row-tiled column-major copy of a CSR matrix (see rowtiles.h). */
#include "text/rowtiles.h"

#include <stdlib.h>
#include <string.h>

void pth_rowtiles_free(pth_rowtiles *T)
{
    free(T->tile_ptr);
    free(T->col);
    free(T->val_ptr);
    free(T->row);
    free(T->val);
    memset(T, 0, sizeof *T);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct columns of tile t into T->tile_ptr[t + 1] (seen: ncols stamps, none equal to
 * t + 1 on entry). */
static void count_tile(const pth_csr *X, pth_rowtiles *T, size_t t, size_t *seen)
{
    size_t r0 = t * PTH_TILE_ROWS, r1 = r0 + PTH_TILE_ROWS < X->nrows ? r0 + PTH_TILE_ROWS : X->nrows, k = 0;
    for (size_t q = X->indptr[r0]; q < X->indptr[r1]; q++)
        if (seen[X->indices[q]] != t + 1) {
            seen[X->indices[q]] = t + 1;
            k++;
        }
    T->tile_ptr[t + 1] = k;
}

/* Fills tile t: a counting sort of its stored values by column, rows staying in order.
 * cnt (ncols) is zero on entry and on return. */
static void fill_tile(const pth_csr *X, pth_rowtiles *T, size_t t, size_t *cnt)
{
    size_t r0 = t * PTH_TILE_ROWS, r1 = r0 + PTH_TILE_ROWS < X->nrows ? r0 + PTH_TILE_ROWS : X->nrows;
    size_t k0 = T->tile_ptr[t], k1 = T->tile_ptr[t + 1], k = k0;
    for (size_t q = X->indptr[r0]; q < X->indptr[r1]; q++)
        if (cnt[X->indices[q]]++ == 0)
            T->col[k++] = X->indices[q];
    qsort(T->col + k0, k1 - k0, sizeof *T->col, cmp_u32);
    size_t pos = X->indptr[r0];
    for (k = k0; k < k1; k++) {
        size_t c = cnt[T->col[k]];
        cnt[T->col[k]] = pos; /* from here on: the next write position of the column */
        pos += c;
        T->val_ptr[k + 1] = pos;
    }
    for (size_t r = r0; r < r1; r++)
        for (size_t q = X->indptr[r]; q < X->indptr[r + 1]; q++) {
            size_t p = cnt[X->indices[q]]++;
            T->row[p] = (uint16_t)(r - r0);
            T->val[p] = X->data[q];
        }
    for (k = k0; k < k1; k++)
        cnt[T->col[k]] = 0;
}

/* Runs step on every tile; tiles are independent, so each thread takes whole tiles with
 * its own zeroed column scratch.  -1 when a scratch could not be allocated. */
static int each_tile(const pth_csr *X, pth_rowtiles *T, int threads,
                     void (*step)(const pth_csr *, pth_rowtiles *, size_t, size_t *))
{
    int failed = 0;
#pragma omp parallel num_threads(threads) if (threads > 1 && T->ntiles > 1)
    {
        size_t *scratch = calloc(X->ncols + 1, sizeof *scratch);
        if (!scratch) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (long long t = 0; t < (long long)T->ntiles; t++)
            if (scratch)
                step(X, T, (size_t)t, scratch);
        free(scratch);
    }
    return failed ? -1 : 0;
}

int pth_rowtiles_build(const pth_csr *X, int threads, pth_rowtiles *T)
{
    memset(T, 0, sizeof *T);
    if (X->ncols >= PTH_TILE_FIRST)
        return -1;
    T->nrows = X->nrows;
    T->ncols = X->ncols;
    T->ntiles = (X->nrows + PTH_TILE_ROWS - 1) / PTH_TILE_ROWS;
    size_t nnz = X->indptr[X->nrows], nt = T->ntiles;
    T->tile_ptr = calloc(nt + 1, sizeof *T->tile_ptr);
    if (!T->tile_ptr)
        return -1;
    if (each_tile(X, T, threads, count_tile) != 0)
        return -1;
    for (size_t t = 0; t < nt; t++)
        T->tile_ptr[t + 1] += T->tile_ptr[t];
    size_t pairs = T->tile_ptr[nt];
    T->col = malloc((pairs + 1) * sizeof *T->col);
    T->val_ptr = malloc((pairs + 1) * sizeof *T->val_ptr);
    T->row = malloc((nnz + 1) * sizeof *T->row);
    T->val = malloc((nnz + 1) * sizeof *T->val);
    if (!T->col || !T->val_ptr || !T->row || !T->val)
        return -1;
    for (size_t t = 0; t < nt; t++)
        T->val_ptr[T->tile_ptr[t]] = X->indptr[t * PTH_TILE_ROWS];
    T->val_ptr[pairs] = nnz;
    if (each_tile(X, T, threads, fill_tile) != 0)
        return -1;
    /* Flag the first tile of each column. */
    unsigned char *met = calloc(X->ncols + 1, 1);
    if (!met)
        return -1;
    size_t ncols_met = 0;
    for (size_t k = 0; k < pairs; k++)
        if (!met[T->col[k]]) {
            met[T->col[k]] = 1;
            T->col[k] |= PTH_TILE_FIRST;
            ncols_met++;
        }
    free(met);
    T->all_cols = ncols_met == X->ncols;
    return 0;
}
