/* Synthetic hri-empathy-format dataset generator (see pathos/synth.h for what is planted).
 *
 * Each cell of a face row is
 *     base[c] + subject_offset[s][c] + recording_offset[c] + label_shift[c]
 *             + within[c] * (0.85 * F[factor(c)][t] + uniform noise)
 * where F are a few latent AR(1) time courses per recording (gaze, head position, head
 * rotation, face shape, one per action unit).  Column levels and spreads follow the real
 * files (checked on the 8 present ones), so summary features land in realistic ranges. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathos/io.h"
#include "pathos/rng.h"
#include "pathos/synth.h"

enum { F_GAZE_X, F_GAZE_Y, F_HEAD_X, F_HEAD_Y, F_HEAD_Z, F_ROT_X, F_ROT_Y, F_ROT_Z, F_SHAPE, F_AU0 };
#define N_AU_R 17
#define N_AU_C 18
#define N_FACTORS (F_AU0 + N_AU_C)
#define N_COLUMNS 709
#define AR_PHI 0.9

/* Column parameters: level, between-subject sd, within-recording sd, driving factor,
 * printed decimals. */
typedef struct {
    double base, between, within;
    int factor, decimals;
} colparam;

typedef struct {
    const char *fmt;           /* "x_%zu" for indexed columns, NULL for named ones */
    const char *const *names;  /* named columns */
    size_t count;
    const colparam *params;    /* one per named column; indexed: [0] = first, [1] = last index */
} segment;

static const char *const gaze_names[] = {"gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x",
                                         "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"};
static const colparam gaze_p[] = {
    {0.27, 0.08, 0.09, F_GAZE_X, 4},  {-0.02, 0.06, 0.04, F_GAZE_Y, 4}, {-0.94, 0.03, 0.06, F_GAZE_X, 4},
    {0.13, 0.09, 0.09, F_GAZE_X, 4},  {-0.02, 0.06, 0.04, F_GAZE_Y, 4}, {-0.97, 0.02, 0.06, F_GAZE_X, 4},
    {0.20, 0.09, 0.09, F_GAZE_X, 4},  {-0.02, 0.06, 0.04, F_GAZE_Y, 4},
};
static const char *const pose_names[] = {"pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"};
static const colparam pose_p[] = {
    {-40, 60, 24, F_HEAD_X, 1},         {20, 40, 20, F_HEAD_Y, 1},          {1500, 150, 66, F_HEAD_Z, 1},
    {-0.03, 0.09, 0.09, F_ROT_X, 4},    {-0.25, 0.10, 0.13, F_ROT_Y, 4},    {-0.02, 0.08, 0.10, F_ROT_Z, 4},
};
static const char *const pdm_names[] = {"p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"};
static const colparam pdm_p[] = {
    {0.32, 0.03, 0.011, F_HEAD_Z, 4}, {0.02, 0.10, 0.10, F_ROT_X, 4}, {-0.25, 0.09, 0.14, F_ROT_Y, 4},
    {-0.02, 0.08, 0.10, F_ROT_Z, 4},  {311, 49, 11, F_HEAD_X, 2},     {267, 9.5, 8.6, F_HEAD_Y, 2},
};
/* Indexed families: levels spread linearly from params[0].base to params[1].base. */
static const colparam eye_x[] = {{297, 45, 11, F_HEAD_X, 1}, {324, 0, 0, 0, 0}};
static const colparam eye_y[] = {{252, 10, 8.7, F_HEAD_Y, 1}, {257, 0, 0, 0, 0}};
static const colparam eye_X[] = {{-62, 120, 21, F_HEAD_X, 1}, {8, 0, 0, 0, 0}};
static const colparam eye_Y[] = {{34, 28, 16, F_HEAD_Y, 1}, {46, 0, 0, 0, 0}};
static const colparam eye_Z[] = {{1294, 100, 60, F_HEAD_Z, 1}, {1329, 0, 0, 0, 0}};
static const colparam lm_x[] = {{285, 49, 11, F_HEAD_X, 1}, {329, 0, 0, 0, 0}};
static const colparam lm_y[] = {{247, 9.5, 8.9, F_HEAD_Y, 1}, {291, 0, 0, 0, 0}};
static const colparam lm_X[] = {{-114, 147, 24, F_HEAD_X, 1}, {26, 0, 0, 0, 0}};
static const colparam lm_Y[] = {{26, 35, 20, F_HEAD_Y, 1}, {163, 0, 0, 0, 0}};
static const colparam lm_Z[] = {{1545, 150, 66, F_HEAD_Z, 1}, {1636, 0, 0, 0, 0}};
static const colparam pdm_shape[] = {{-10, 0.33, 0.26, F_SHAPE, 3}, {7.5, 0, 0, 0, 0}};

static const char *const au_r_names[N_AU_R] = {"AU01_r", "AU02_r", "AU04_r", "AU05_r", "AU06_r", "AU07_r",
                                               "AU09_r", "AU10_r", "AU12_r", "AU14_r", "AU15_r", "AU17_r",
                                               "AU20_r", "AU23_r", "AU25_r", "AU26_r", "AU45_r"};
static const char *const au_c_names[N_AU_C] = {"AU01_c", "AU02_c", "AU04_c", "AU05_c", "AU06_c", "AU07_c",
                                               "AU09_c", "AU10_c", "AU12_c", "AU14_c", "AU15_c", "AU17_c",
                                               "AU20_c", "AU23_c", "AU25_c", "AU26_c", "AU28_c", "AU45_c"};
#define AU_P(b) {b, 0.15, 0.2, 0, 4}
static const colparam au_r_p[N_AU_R] = {AU_P(0.2),  AU_P(0.15), AU_P(0.15), AU_P(0.1),  AU_P(0.3),  AU_P(0.5),
                                        AU_P(0.1),  AU_P(0.25), AU_P(0.35), AU_P(0.1),  AU_P(0.25), AU_P(0.5),
                                        AU_P(0.15), AU_P(0.15), AU_P(0.4),  AU_P(0.35), AU_P(0.2)};
/* Presence columns are derived from their intensity column (AU28 has none): params unused. */
static const colparam au_c_p[N_AU_C] = {{0, 0, 0, 0, 4}};

static const segment segments[] = {
    {NULL, gaze_names, 8, gaze_p},
    {"eye_lmk_x_%zu", NULL, 56, eye_x},
    {"eye_lmk_y_%zu", NULL, 56, eye_y},
    {"eye_lmk_X_%zu", NULL, 56, eye_X},
    {"eye_lmk_Y_%zu", NULL, 56, eye_Y},
    {"eye_lmk_Z_%zu", NULL, 56, eye_Z},
    {NULL, pose_names, 6, pose_p},
    {"x_%zu", NULL, 68, lm_x},
    {"y_%zu", NULL, 68, lm_y},
    {"X_%zu", NULL, 68, lm_X},
    {"Y_%zu", NULL, 68, lm_Y},
    {"Z_%zu", NULL, 68, lm_Z},
    {NULL, pdm_names, 6, pdm_p},
    {"p_%zu", NULL, 34, pdm_shape},
    {NULL, au_r_names, N_AU_R, au_r_p},
    {NULL, au_c_names, N_AU_C, au_c_p},
};
#define N_SEGMENTS (sizeof segments / sizeof segments[0])
#define SEG_AU_R (N_SEGMENTS - 2)
#define SEG_AU_C (N_SEGMENTS - 1)

/* The label signal lives in these intensity columns (indices into au_r_names). */
static const size_t signal_aus[] = {4 /* AU06 */, 8 /* AU12 */, 14 /* AU25 */};
#define SIGNAL_SD 1.2

/* Everything the generator needs to know about one column. */
typedef struct {
    colparam p;
    int kind;  /* 0 plain, 1 AU intensity, 2 AU presence */
    int au;    /* AU intensity: its index; presence: index of its intensity column, -1 if none */
    int signal;
} colspec;

size_t pth_synth_n_columns(void) { return N_COLUMNS; }

/* Locates column i: its segment and position inside it. */
static const segment *locate(size_t i, size_t *pos, size_t *seg_index)
{
    for (size_t s = 0; s < N_SEGMENTS; s++) {
        if (i < segments[s].count) {
            *pos = i;
            *seg_index = s;
            return &segments[s];
        }
        i -= segments[s].count;
    }
    return NULL;
}

void pth_synth_column_name(size_t i, char *buf, size_t size)
{
    size_t pos, s;
    const segment *seg = locate(i, &pos, &s);
    if (!size)
        return;
    buf[0] = '\0';
    if (!seg)
        return;
    if (seg->fmt)
        snprintf(buf, size, seg->fmt, pos);
    else
        snprintf(buf, size, "%s", seg->names[pos]);
}

/* Index of an AU_c name's intensity twin in au_r_names, or -1 (AU28). */
static int au_twin(const char *c_name)
{
    for (int k = 0; k < N_AU_R; k++)
        if (!strncmp(au_r_names[k], c_name, 4))
            return k;
    return -1;
}

static void build_specs(colspec *spec)
{
    for (size_t i = 0; i < N_COLUMNS; i++) {
        size_t pos, s;
        const segment *seg = locate(i, &pos, &s);
        colspec *c = &spec[i];
        memset(c, 0, sizeof *c);
        c->au = -1;
        if (seg->fmt) {
            /* Indexed landmarks: levels spread over the family's range across the index. */
            c->p = seg->params[0];
            double frac = seg->count > 1 ? (double)pos / (double)(seg->count - 1) : 0;
            c->p.base = seg->params[0].base + frac * (seg->params[1].base - seg->params[0].base);
        } else {
            c->p = seg->params[s == SEG_AU_C ? 0 : pos];
        }
        if (s == SEG_AU_R) {
            c->kind = 1;
            c->au = (int)pos;
            c->p.factor = F_AU0 + (int)pos;
            for (size_t k = 0; k < sizeof signal_aus / sizeof signal_aus[0]; k++)
                c->signal |= signal_aus[k] == pos;
        } else if (s == SEG_AU_C) {
            c->kind = 2;
            c->au = au_twin(seg->names[pos]);
            c->p.factor = F_AU0 + (int)pos;
        }
    }
}

/* ---- number formatting: shortest fixed-point text, like Python's repr for short values ---- */

static char *put_uint(char *p, unsigned long long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Writes x rounded to `dec` decimals, trailing zeros trimmed but at least one decimal
 * ("0.0", "-12.5", "311.27").  Values here are bounded, far from 2^53. */
static char *put_fixed(char *p, double x, int dec)
{
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    unsigned long long pow10 = (unsigned long long)scale[dec];
    double ax = fabs(x) * scale[dec];
    unsigned long long v = (unsigned long long)(ax + 0.5);
    if (v == 0) {
        memcpy(p, "0.0", 3);
        return p + 3;
    }
    if (x < 0)
        *p++ = '-';
    p = put_uint(p, v / pow10);
    *p++ = '.';
    unsigned long long frac = v % pow10;
    int digits = dec;
    while (digits > 1 && frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    for (int k = digits - 1; k >= 0; k--) {
        p[k] = (char)('0' + (int)(frac % 10));
        frac /= 10;
    }
    return p + digits;
}

/* ---- the generator ---- */

typedef struct {
    const pth_synth_options *o;
    colspec spec[N_COLUMNS];
    double *subject_offset; /* n_subjects x N_COLUMNS */
    int *labels;            /* n_subjects x n_recordings */
    double *factors;        /* n_rows x N_FACTORS, reused per recording */
    char *line;             /* one output row */
    char *pad_tail;         /* ",0.0" x N_COLUMNS: the text of a padding row after its index */
} generator;

/* Stream ids keep the label, subject and recording draws independent of each other. */
#define STREAM_LABELS 0
#define STREAM_SUBJECT(s) ((1ULL << 40) | (uint64_t)(s))
#define STREAM_RECORDING(i) ((2ULL << 40) | (uint64_t)(i))

/* Subjects in complementary pairs: exact class balance for an even subject count. */
static void draw_labels(generator *g)
{
    pth_rng r;
    pth_rng_seed_stream(&r, g->o->seed, STREAM_LABELS);
    size_t S = g->o->n_subjects, R = g->o->n_recordings;
    for (size_t s = 0; s < S; s += 2) {
        int pref = (int)pth_rng_below(&r, 2);
        for (size_t k = 0; k < R; k++) {
            int lab = pth_rng_uniform(&r) < g->o->subject_label_prob ? pref : 1 - pref;
            g->labels[s * R + k] = lab;
            if (s + 1 < S)
                g->labels[(s + 1) * R + k] = 1 - lab;
        }
    }
}

/* A subject's "face": offsets partly shared within a factor (a head that sits further
 * left moves every x landmark), partly column-specific; independent of the labels. */
static void draw_subjects(generator *g)
{
    for (size_t s = 0; s < g->o->n_subjects; s++) {
        pth_rng r;
        pth_rng_seed_stream(&r, g->o->seed, STREAM_SUBJECT(s));
        double shared[N_FACTORS];
        for (int f = 0; f < N_FACTORS; f++)
            shared[f] = pth_rng_normal(&r);
        for (size_t c = 0; c < N_COLUMNS; c++) {
            const colparam *p = &g->spec[c].p;
            g->subject_offset[s * N_COLUMNS + c] = p->between * (0.9 * shared[p->factor] + 0.44 * pth_rng_normal(&r));
        }
    }
}

static void draw_factors(generator *g, pth_rng *r, size_t n)
{
    const double innov = sqrt(1 - AR_PHI * AR_PHI);
    for (int f = 0; f < N_FACTORS; f++) {
        double v = pth_rng_normal(r); /* stationary start */
        for (size_t t = 0; t < n; t++) {
            if (t > 0)
                v = AR_PHI * v + innov * pth_rng_normal(r);
            g->factors[t * N_FACTORS + (size_t)f] = v;
        }
    }
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Formats one face row; level[c] already holds base + subject + recording + label terms. */
static size_t face_row(generator *g, pth_rng *r, const double *level, const double *F, size_t index)
{
    char *p = put_uint(g->line, index);
    double au_r[N_AU_R];
    for (size_t c = 0; c < N_COLUMNS; c++) {
        const colspec *s = &g->spec[c];
        double noise = pth_rng_uniform(r) - 0.5;
        double v;
        if (s->kind == 2) {
            /* Presence = fraction of ~24 frames with the AU on, hence multiples of 1/24. */
            double drive = s->au >= 0 ? 1.5 * au_r[s->au] - 0.15 : 0.02 + 0.03 * F[s->p.factor];
            v = floor(24 * clamp(drive + 0.1 * noise, 0, 1) + 0.5) / 24;
        } else {
            v = level[c] + s->p.within * (0.85 * F[s->p.factor] + noise);
            if (s->kind == 1)
                au_r[s->au] = v = clamp(v, 0, 5);
        }
        *p++ = ',';
        p = put_fixed(p, v, s->p.decimals);
    }
    *p++ = '\n';
    return (size_t)(p - g->line);
}

static int write_recording(generator *g, size_t subj, size_t rec, const char *path, pth_error *err)
{
    const pth_synth_options *o = g->o;
    pth_rng r;
    pth_rng_seed_stream(&r, o->seed, STREAM_RECORDING(subj * o->n_recordings + rec));
    int label = g->labels[subj * o->n_recordings + rec];
    double level[N_COLUMNS];
    for (size_t c = 0; c < N_COLUMNS; c++) {
        const colspec *s = &g->spec[c];
        level[c] = s->p.base + g->subject_offset[subj * N_COLUMNS + c] + 0.3 * s->p.between * pth_rng_normal(&r);
        if (s->signal && label == 1)
            level[c] += o->signal * SIGNAL_SD * s->p.between;
    }
    /* Left padding like the real files (about half of the rows), at least 2 face rows. */
    size_t n = o->n_rows;
    size_t pad = (size_t)((double)n * (0.45 + 0.08 * pth_rng_uniform(&r)));
    if (n - pad < 2)
        pad = n >= 2 ? n - 2 : 0;
    draw_factors(g, &r, n - pad);

    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputc(',', out.fp);
    for (size_t c = 0; c < N_COLUMNS; c++) {
        char name[32];
        pth_synth_column_name(c, name, sizeof name);
        fprintf(out.fp, " %s%s", name, c + 1 < N_COLUMNS ? "," : "\n");
    }
    for (size_t t = 0; t < n; t++) {
        if (t < pad) {
            char idx[24];
            *put_uint(idx, t) = '\0';
            fputs(idx, out.fp);
            fputs(g->pad_tail, out.fp);
        } else {
            size_t len = face_row(g, &r, level, g->factors + (t - pad) * N_FACTORS, t);
            fwrite(g->line, 1, len, out.fp);
        }
    }
    return pth_outfile_commit(&out, err);
}

/* ---- files and directories ---- */

static int make_dirs(const char *path, pth_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return pth_fail(err, PTH_ERR_INVALID, "output directory path too long");
    for (char *p = buf + 1;; p++) {
        int end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return pth_fail(err, PTH_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return pth_fail(err, PTH_ERR_IO, "%s: not a directory", path);
    return PTH_OK;
}

static void rel_path(char *buf, size_t size, size_t subj, size_t rec)
{
    snprintf(buf, size, "video_features/synth_s%02zu_story%zu.csv", subj + 1, rec + 1);
}

static int write_text(const char *dir, const char *name, const char *text, pth_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs(text, out.fp);
    return pth_outfile_commit(&out, err);
}

static int write_readme(const char *dir, const pth_synth_options *o, pth_error *err)
{
    char text[2048];
    snprintf(text, sizeof text,
             "SYNTHETIC DATA - generated by `pathos synth`; not recordings of any person.\n\n"
             "Format: the hri-empathy layout (OpenFace 2.x per-recording CSVs: unnamed index column\n"
             "plus 709 feature columns with a leading space in each name, left-padded with all-zero\n"
             "rows) and manifest.csv (path,subject,label,story_id; paths relative to this folder).\n\n"
             "Options: seed=%llu subjects=%zu recordings=%zu rows=%zu signal=%g subject_label_prob=%g\n\n"
             "Planted structure:\n"
             "- label: subjects in pairs with complementary labels (balanced classes); each subject\n"
             "  prefers one label and each recording has it with probability subject_label_prob;\n"
             "- subject confound: a random per-subject offset on every column, independent of labels,\n"
             "  so record-level CV (same subject in train and test) scores higher than grouped CV;\n"
             "- label signal: AU06_r, AU12_r, AU25_r recording means shifted by signal x %g\n"
             "  between-subject sd for label 1 (signal=0: none; grouped CV is then at chance on\n"
             "  average, though with few subjects one dataset's AUC scatters widely around 0.5).\n",
             (unsigned long long)o->seed, o->n_subjects, o->n_recordings, o->n_rows, o->signal,
             o->subject_label_prob, SIGNAL_SD);
    return write_text(dir, "README.txt", text, err);
}

static int write_manifest(const char *dir, const generator *g, pth_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs("path,subject,label,story_id\n", out.fp);
    for (size_t s = 0; s < g->o->n_subjects; s++)
        for (size_t k = 0; k < g->o->n_recordings; k++) {
            char rel[128];
            rel_path(rel, sizeof rel, s, k);
            fprintf(out.fp, "%s,s%02zu,%d,%zu\n", rel, s + 1, g->labels[s * g->o->n_recordings + k], k + 1);
        }
    return pth_outfile_commit(&out, err);
}

void pth_synth_options_init(pth_synth_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->n_subjects = 42;
    o->n_recordings = 3;
    o->n_rows = 60;
    o->signal = 1.0;
    o->subject_label_prob = 0.9;
}

static int check_options(const pth_synth_options *o, pth_error *err)
{
    if (o->n_subjects < 1 || o->n_subjects > 10000)
        return pth_fail(err, PTH_ERR_INVALID, "subjects must be in 1..10000 (got %zu)", o->n_subjects);
    if (o->n_recordings < 1 || o->n_recordings > 100)
        return pth_fail(err, PTH_ERR_INVALID, "recordings per subject must be in 1..100 (got %zu)", o->n_recordings);
    if (o->n_rows < 1 || o->n_rows > 100000)
        return pth_fail(err, PTH_ERR_INVALID, "rows must be in 1..100000 (got %zu)", o->n_rows);
    if (!isfinite(o->signal) || fabs(o->signal) > 1000)
        return pth_fail(err, PTH_ERR_INVALID, "signal must be a finite number in [-1000, 1000] (got %g)", o->signal);
    if (!(o->subject_label_prob >= 0 && o->subject_label_prob <= 1))
        return pth_fail(err, PTH_ERR_INVALID, "subject label probability must be in [0, 1] (got %g)",
                        o->subject_label_prob);
    return PTH_OK;
}

static void generator_free(generator *g)
{
    free(g->subject_offset);
    free(g->labels);
    free(g->factors);
    free(g->line);
    free(g->pad_tail);
    free(g);
}

static generator *generator_new(const pth_synth_options *o, pth_error *err)
{
    generator *g = calloc(1, sizeof *g);
    if (!g) {
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    g->o = o;
    build_specs(g->spec);
    g->subject_offset = malloc(o->n_subjects * N_COLUMNS * sizeof(double));
    g->labels = malloc(o->n_subjects * o->n_recordings * sizeof(int));
    g->factors = malloc(o->n_rows * N_FACTORS * sizeof(double));
    g->line = malloc(24 + N_COLUMNS * 32); /* index + (comma + longest number) per column */
    g->pad_tail = malloc(N_COLUMNS * 4 + 2);
    if (!g->subject_offset || !g->labels || !g->factors || !g->line || !g->pad_tail) {
        generator_free(g);
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t c = 0; c < N_COLUMNS; c++)
        memcpy(g->pad_tail + 4 * c, ",0.0", 4);
    memcpy(g->pad_tail + 4 * N_COLUMNS, "\n", 2);
    return g;
}

int pth_synth_write(const char *out_dir, const pth_synth_options *opts, pth_error *err)
{
    pth_synth_options defaults;
    if (!opts) {
        pth_synth_options_init(&defaults);
        opts = &defaults;
    }
    int rc = check_options(opts, err);
    if (!rc && (!out_dir || !*out_dir))
        rc = pth_fail(err, PTH_ERR_INVALID, "no output directory given");
    char vf[4200];
    if (!rc) {
        snprintf(vf, sizeof vf, "%s/video_features", out_dir);
        rc = make_dirs(vf, err);
    }
    if (rc)
        return rc;
    generator *g = generator_new(opts, err);
    if (!g)
        return err ? err->code : PTH_ERR_NOMEM;
    draw_labels(g);
    draw_subjects(g);
    for (size_t s = 0; s < opts->n_subjects && !rc; s++)
        for (size_t k = 0; k < opts->n_recordings && !rc; k++) {
            char rel[128], path[4400];
            rel_path(rel, sizeof rel, s, k);
            snprintf(path, sizeof path, "%s/%s", out_dir, rel);
            rc = write_recording(g, s, k, path, err);
        }
    if (!rc)
        rc = write_readme(out_dir, opts, err);
    if (!rc) /* last: a manifest exists only when every recording it lists was written */
        rc = write_manifest(out_dir, g, err);
    generator_free(g);
    return rc;
}
