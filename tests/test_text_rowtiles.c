/* The row-tiled column-major copy of a CSR matrix (src/text/rowtiles.c): every stored
 * value exactly once, in the promised order, with the first-tile flags, independent of
 * the thread count; checked against the CSR it was built from. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/rng.h"
#include "text/rowtiles.h"

/* The project's own PRNG, seeded in main(). */
static pth_rng rng;
static double urand(void) { return pth_rng_uniform(&rng); }

/* n rows over ncols columns; column `empty` (if < ncols) never used; rows of every
 * length from 0 up, some columns dense (the first 3), most sparse. */
static void make_csr(pth_csr *X, size_t n, size_t ncols, size_t empty)
{
    pth_error err;
    pth_csr_init(X, ncols, &err);
    uint32_t idx[512];
    float val[512];
    for (size_t i = 0; i < n; i++) {
        size_t nnz = 0;
        for (size_t j = 0; j < ncols && nnz < 512; j++)
            if (j != empty && (j < 3 ? urand() < 0.7 : urand() < 0.02))
                idx[nnz] = (uint32_t)j, val[nnz++] = (float)(urand() + 0.1);
        pth_csr_append_row(X, idx, val, nnz, &err);
    }
}

/* The CSR value at (i, j), or 0. */
static float csr_at(const pth_csr *X, size_t i, size_t j)
{
    for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++)
        if (X->indices[q] == j)
            return X->data[q];
    return 0.0f;
}

static void check_tiles(const pth_csr *X, const pth_rowtiles *T, int all_cols)
{
    size_t nnz = X->indptr[X->nrows];
    CHECK(T->ntiles == (X->nrows + PTH_TILE_ROWS - 1) / PTH_TILE_ROWS);
    CHECK(T->val_ptr[0] == 0 && T->val_ptr[T->tile_ptr[T->ntiles]] == nnz);
    CHECK(T->all_cols == all_cols);
    unsigned char *met = calloc(X->ncols, 1);
    size_t seen = 0, bad = 0;
    for (size_t t = 0; t < T->ntiles; t++) {
        size_t r0 = pth_rowtiles_first(t), nr = pth_rowtiles_rows(T, t), tile_nnz = 0;
        for (size_t k = T->tile_ptr[t]; k < T->tile_ptr[t + 1]; k++) {
            uint32_t j = pth_rowtiles_col(T, k);
            if (k > T->tile_ptr[t])
                bad += !(pth_rowtiles_col(T, k - 1) < j); /* columns ascend */
            bad += pth_rowtiles_first_visit(T, k) != !met[j];
            met[j] = 1;
            bad += T->val_ptr[k + 1] <= T->val_ptr[k]; /* no empty column entries */
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
                if (e > T->val_ptr[k])
                    bad += !(T->row[e - 1] < T->row[e]); /* rows ascend */
                bad += T->row[e] >= nr;
                bad += T->val[e] != csr_at(X, r0 + T->row[e], j);
                tile_nnz++;
            }
        }
        /* Every stored value of the tile's rows is there (and, above, no other). */
        bad += tile_nnz != X->indptr[r0 + nr] - X->indptr[r0];
        seen += tile_nnz;
    }
    CHECK(bad == 0);
    CHECK(seen == nnz);
    free(met);
}

static void test_tiles(size_t n, size_t ncols, size_t empty, int all_cols)
{
    pth_csr X;
    make_csr(&X, n, ncols, empty);
    pth_rowtiles T1, T2;
    CHECK(pth_rowtiles_build(&X, 1, &T1) == 0);
    CHECK(pth_rowtiles_build(&X, 2, &T2) == 0);
    check_tiles(&X, &T1, all_cols);
    size_t pairs = T1.tile_ptr[T1.ntiles], nnz = X.indptr[X.nrows];
    CHECK(T2.tile_ptr[T2.ntiles] == pairs);
    CHECK(memcmp(T1.col, T2.col, pairs * sizeof *T1.col) == 0);
    CHECK(memcmp(T1.val_ptr, T2.val_ptr, (pairs + 1) * sizeof *T1.val_ptr) == 0);
    CHECK(memcmp(T1.row, T2.row, nnz * sizeof *T1.row) == 0);
    CHECK(memcmp(T1.val, T2.val, nnz * sizeof *T1.val) == 0);
    pth_rowtiles_free(&T1);
    pth_rowtiles_free(&T2);
    pth_csr_free(&X);
}

int main(void)
{
    pth_rng_seed(&rng, 7);
    test_tiles(10, 40, 5, 0);                        /* one short tile, an empty column */
    test_tiles(2 * PTH_TILE_ROWS + 123, 90, 999, 1); /* three tiles, every column used */
    test_tiles(PTH_TILE_ROWS, 60, 17, 0);            /* exactly one full tile */
    test_tiles(0, 8, 999, 0);                        /* no rows: no tiles, no column used */
    return pth_test_finish();
}
