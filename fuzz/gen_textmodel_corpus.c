/* Writes the seed models in fuzz/corpus/textmodel/ for fuzz/fuzz_textmodel.c (not part of the
 * build).  Tiny models trained on slices of the shared data, so each file stays small (the
 * linear parts dominate: outputs x 2 x 2^hash_bits weights):
 *   goemo.ptxc         GoEmotions fastText (multi-label, thresholds); 50 rows
 *   meld_ctx.ptxc      MELD ensemble (fastText + linear), context 1, GoEmotions transfer
 *                      (ensemble, 2^6 buckets), document statistics
 *   meld_transfer.ptxc MELD fastText, context 0, linear transfer (stacked level without context)
 *   newsemp.ptxr       NewsEmp regressor without lexicons (2^8 + 2^8 buckets), 40 essays,
 *                      with the Gaussian blend partner (format version 2)
 * Build against a configured build (cmake -B build-r) and run from the repository root, with
 * SHARED the shared data folder (e.g. /work/shared):
 *   gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc fuzz/gen_textmodel_corpus.c \
 *       build-r/libpathos.a $(pkg-config --libs libcjson libutf8proc openblas) -lm -fopenmp \
 *       -lpthread -o /tmp/gen_tm && /tmp/gen_tm SHARED fuzz/corpus/textmodel
 * Training is seeded and single-threaded, so the files are reproducible on one machine.
 * newsemp_v1.ptxr (the version-1 regressor, 80 essays, no partner) was written by this program
 * before the format's version 2 and is kept as a seed of the older layout.
 * The crash_*.ptxc seeds are not written here: they are inputs that broke the readers before
 * their fixes (tests/test_textclf_file.c checks the same defects directly):
 *   crash_ft_nan.ptxc     fastText weight NaN/inf (minimised libFuzzer find): NaN scores
 *   crash_lin_nan.ptxc    meld_transfer.ptxc with the transfer's linear weights set to NaN
 *                         (hand-made stand-in for a 175 KB find on meld_ctx.ptxc)
 *   crash_ft_2fields.ptxc goemo.ptxc claiming two fastText fields: read past the texts
 *   crash_lin_bigshape.ptxc meld_transfer.ptxc whose transfer linear header claims 7e7
 *                         features: a 15.7 GB allocation before the TF-IDF shape was checked */
#include <stdio.h>
#include <string.h>

#include "pathos/newsemp.h"
#include "pathos/textclf.h"
#include "pathos/textreg.h"

static char shared[1024], goemo_dir[1200], meld_dir[1200];

static void tiny_ft(pth_ft_params *p)
{
    p->dim = 4;
    p->epochs = 2;
    p->max_features = 400;
}

static int save_clf(pth_textclf *m, const char *dir, const char *file, pth_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = !m || pth_textclf_save(m, path, err);
    if (rc)
        fprintf(stderr, "%s: %s\n", file, err->msg);
    pth_textclf_free(m);
    return rc;
}

static int goemo(const char *dir)
{
    pth_goemo_config c;
    pth_goemo_config_default(&c);
    c.data_dir = goemo_dir;
    c.max_train = 50;
    c.max_eval = 50;
    c.model = PTH_TEXTEMO_FASTTEXT; /* its linear part alone would be ~450 KB (28 x 2^11 weights) */
    c.hash_bits = 10;
    tiny_ft(&c.ft);
    pth_error err = {0};
    return save_clf(pth_goemo_train(&c, &err), dir, "goemo.ptxc", &err);
}

static void meld_base(pth_meld_config *c)
{
    pth_meld_config_default(c);
    c->data_dir = meld_dir;
    c->max_train = 120;
    c->folds = 3;
    c->hash_bits = 10;
    tiny_ft(&c->ft);
    c->transfer.data_dir = goemo_dir;
    c->transfer.max_train = 50;
    c->transfer.hash_bits = 6; /* no lower bound here: 28 x 2^7 linear weights */
    tiny_ft(&c->transfer.ft);
}

static int meld(const char *dir)
{
    pth_meld_config c;
    meld_base(&c);
    c.context = 1;
    c.transfer.model = PTH_TEXTEMO_ENSEMBLE;
    pth_error err = {0};
    if (save_clf(pth_meld_train(&c, &err), dir, "meld_ctx.ptxc", &err))
        return 1;
    meld_base(&c);
    c.model = PTH_TEXTEMO_FASTTEXT;
    c.context = 0;
    c.doc_stats = 0;
    c.transfer.model = PTH_TEXTEMO_LINEAR;
    return save_clf(pth_meld_train(&c, &err), dir, "meld_transfer.ptxc", &err);
}

static int newsemp(const char *dir)
{
    char path[4096];
    pth_newsemp d;
    pth_error err = {0};
    if (pth_newsemp_load("data/newsemp/messages.csv", 40, &d, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    pth_newsemp_options o;
    pth_newsemp_options_default(&o);
    o.grouped = 1;
    o.inner_folds = 3;
    o.hash.word_bits = 8;
    o.hash.char_bits = 8;
    static const double alphas[1] = {2}, dense_w[1] = {0.3}, word_w[1] = {1};
    o.alphas = alphas, o.n_alphas = 1;
    o.dense_weights = dense_w, o.n_dense_weights = 1;
    o.word_weights = word_w, o.n_word_weights = 1;
    pth_textreg *m = pth_textreg_train(&d, &o, &err);
    snprintf(path, sizeof path, "%s/newsemp.ptxr", dir);
    int rc = !m || pth_textreg_save(m, path, &err);
    if (rc)
        fprintf(stderr, "newsemp.ptxr: %s\n", err.msg);
    pth_textreg_free(m);
    pth_newsemp_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    snprintf(shared, sizeof shared, "%s", argv[1]);
    snprintf(goemo_dir, sizeof goemo_dir, "%s/data/goemotions", shared);
    snprintf(meld_dir, sizeof meld_dir, "%s/data/meld/MELD", shared);
    return goemo(argv[2]) || meld(argv[2]) || newsemp(argv[2]);
}
