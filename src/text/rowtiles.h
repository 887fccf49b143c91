/* Row-tiled, column-major copy of a CSR matrix, for sparse passes whose dense operand
 * is wide (many values per row or column).
 *
 * Why: a pass like t = X p, h = X^T (d .* t) over a CSR matrix touches p[j] and h[j] at
 * random columns j.  When every j holds a 64-byte vector (16 label lanes) and there are
 * 250k columns, those arrays are 16 MB each and nearly every stored value costs a cache
 * miss.  Cut the rows into tiles of at most PTH_TILE_ROWS rows and store each tile by
 * column: the random accesses then go to the tile's rows (PTH_TILE_ROWS x 64 bytes, in
 * L2), and the columns of a tile are visited in ascending order, once each, which the
 * hardware prefetcher follows.  A column that occurs in k tiles is visited k times per
 * pass instead of once per stored value. */
#ifndef PATHOS_TEXT_ROWTILES_H
#define PATHOS_TEXT_ROWTILES_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/text.h"

#define PTH_TILE_ROWS 4096 /* rows per tile; row offsets within a tile fit in 16 bits */

typedef struct {
    size_t nrows, ncols, ntiles;
    size_t *tile_ptr; /* ntiles + 1: the tile's columns are col[tile_ptr[t] .. tile_ptr[t+1]) */
    uint32_t *col;    /* column ids, ascending within a tile; PTH_TILE_FIRST marks the first
                         tile holding the column (read them through pth_rowtiles_col) */
    size_t *val_ptr;  /* one more than col: values of col[k] are val[val_ptr[k] .. val_ptr[k+1]) */
    uint16_t *row;    /* row offset within the tile (ascending within a column) */
    float *val;
    int all_cols;     /* every column holds a stored value (so every column has a FIRST) */
} pth_rowtiles;

#define PTH_TILE_FIRST 0x80000000u

static inline uint32_t pth_rowtiles_col(const pth_rowtiles *T, size_t k) { return T->col[k] & ~PTH_TILE_FIRST; }
/* Whether pair k is the column's first visit in a pass: a pass that sums into a
 * per-column output can then start the sum there instead of clearing the output. */
static inline int pth_rowtiles_first_visit(const pth_rowtiles *T, size_t k) { return (T->col[k] & PTH_TILE_FIRST) != 0; }

/* Builds T from X (which is not changed; at most 2^31 columns) with up to `threads`
 * threads; the result does not depend on the thread count.  Returns -1 when out of
 * memory (T may then be partly filled; free it). */
int pth_rowtiles_build(const pth_csr *X, int threads, pth_rowtiles *T);
void pth_rowtiles_free(pth_rowtiles *T);

/* First row and row count of tile t. */
static inline size_t pth_rowtiles_first(size_t t) { return t * PTH_TILE_ROWS; }
static inline size_t pth_rowtiles_rows(const pth_rowtiles *T, size_t t)
{
    size_t r0 = t * PTH_TILE_ROWS;
    return T->nrows - r0 < PTH_TILE_ROWS ? T->nrows - r0 : PTH_TILE_ROWS;
}

#endif
