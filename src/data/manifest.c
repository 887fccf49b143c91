/* Manifest reader (pathos/manifest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/csv_internal.h"
#include "pathos/manifest.h"
#include "pathos/table.h"

/* Copy of a cell without surrounding blanks: hand-written manifests often use ", " as
 * separator, and neither paths nor subject ids meaningfully start or end with a space. */
static char *dup_trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Directory part of a file name ("." when there is none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

static char *join_path(const char *root, const char *rel)
{
    if (rel[0] == '/' || !root || !*root || strcmp(root, ".") == 0)
        return strdup(rel);
    size_t a = strlen(root), b = strlen(rel);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, root, a);
    size_t k = a;
    if (root[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, rel, b + 1);
    return p;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && !S_ISDIR(sb.st_mode);
}

typedef struct {
    long path, subj, label;
    unsigned char *is_extra; /* ncols */
} mcols;

static int locate(const pth_table *t, const pth_manifest_options *o, mcols *c, pth_error *err)
{
    const char *pn = o->path_col ? o->path_col : "path";
    const char *sn = o->subject_col ? o->subject_col : "subject";
    const char *ln = o->label_col ? o->label_col : "label";
    c->path = pth_table_find(t, pn);
    c->subj = pth_table_find(t, sn);
    c->label = *ln ? pth_table_find(t, ln) : -1;
    if (c->path < 0)
        return pth_fail(err, PTH_ERR_INVALID, "%s: no path column '%s'", t->source, pn);
    if (c->subj < 0)
        return pth_fail(err, PTH_ERR_INVALID, "%s: no subject column '%s'", t->source, sn);
    if (*ln && c->label < 0 && !o->label_optional)
        return pth_fail(err, PTH_ERR_INVALID, "%s: no label column '%s'", t->source, ln);
    c->is_extra = malloc(t->ncols ? t->ncols : 1);
    if (!c->is_extra)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    for (size_t j = 0; j < t->ncols; j++)
        c->is_extra[j] = (long)j != c->path && (long)j != c->subj && (long)j != c->label;
    return PTH_OK;
}

static int alloc_manifest(pth_manifest *m, const pth_table *t, const mcols *c, pth_error *err)
{
    size_t n = t->nrows ? t->nrows : 1;
    for (size_t j = 0; j < t->ncols; j++)
        m->n_extra += c->is_extra[j];
    m->path = calloc(n, sizeof *m->path);
    m->record_id = calloc(n, sizeof *m->record_id);
    m->subject = calloc(n, sizeof *m->subject);
    m->label = calloc(n, sizeof *m->label);
    m->line = calloc(n, sizeof *m->line);
    m->extra_names = calloc(m->n_extra ? m->n_extra : 1, sizeof *m->extra_names);
    m->extra = calloc(n * (m->n_extra ? m->n_extra : 1), sizeof *m->extra);
    if (!m->path || !m->record_id || !m->subject || !m->label || !m->line || !m->extra_names || !m->extra)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    size_t k = 0;
    for (size_t j = 0; j < t->ncols; j++)
        if (c->is_extra[j] && !(m->extra_names[k++] = strdup(t->cols[j].name)))
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    return PTH_OK;
}

/* Adds table row i as manifest entry m->n (unless its file is missing and skipped). */
static int add_row(pth_manifest *m, const pth_table *t, const mcols *c, const pth_manifest_options *o,
                   const char *root, size_t i, pth_error *err)
{
    char *rel = dup_trimmed(pth_table_cell_text(t, i, (size_t)c->path));
    char *full = rel && *rel ? join_path(root, rel) : NULL;
    if (!full) {
        int empty = rel && !*rel;
        free(rel);
        if (empty)
            return pth_fail(err, PTH_ERR_INVALID, "%s:%zu: column '%s': empty path", t->source, t->row_line[i],
                            t->cols[c->path].name);
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    }
    if (o->missing != PTH_MISSING_KEEP && !file_exists(full)) {
        int rc = PTH_OK;
        if (o->missing == PTH_MISSING_ERROR)
            rc = pth_fail(err, PTH_ERR_IO, "%s:%zu: file '%s' does not exist", t->source, t->row_line[i], full);
        else
            m->n_skipped++;
        free(full);
        free(rel);
        return rc;
    }
    size_t k = m->n++;
    m->path[k] = full;
    m->record_id[k] = rel;
    m->line[k] = t->row_line[i];
    int rc = c->label >= 0 ? pth_table_label(t, (size_t)c->label, i, o->n_classes, &m->label[k], err) : PTH_OK;
    if (c->label < 0)
        m->label[k] = -1;
    if (rc)
        return rc;
    m->subject[k] = dup_trimmed(pth_table_cell_text(t, i, (size_t)c->subj));
    if (m->subject[k] && !*m->subject[k])
        return pth_fail(err, PTH_ERR_INVALID, "%s:%zu: column '%s': empty subject", t->source, t->row_line[i],
                        t->cols[c->subj].name);
    int oom = !m->subject[k];
    size_t e = 0;
    for (size_t j = 0; j < t->ncols; j++)
        if (c->is_extra[j]) {
            char **cell = &m->extra[k * m->n_extra + e++];
            *cell = strdup(pth_table_cell_text(t, i, j));
            oom |= !*cell;
        }
    return oom ? pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source) : PTH_OK;
}

int pth_manifest_read(const char *path, const pth_manifest_options *opts, pth_manifest *out, pth_error *err)
{
    pth_manifest_options o = {0};
    if (opts)
        o = *opts;
    memset(out, 0, sizeof *out);
    pth_csv_options co = {.delimiter = o.delimiter, .keep_text = 1};
    pth_table t;
    int rc = pth_csv_read(path, &co, &t, err);
    if (rc)
        return rc;
    mcols c = {-1, -1, -1, NULL};
    char *root = o.root ? strdup(o.root) : dir_of(path);
    out->source = strdup(path);
    if (!root || !out->source)
        rc = pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
    if (!rc)
        rc = locate(&t, &o, &c, err);
    if (!rc)
        rc = alloc_manifest(out, &t, &c, err);
    int maxlab = -1;
    for (size_t i = 0; !rc && i < t.nrows; i++)
        rc = add_row(out, &t, &c, &o, root, i, err);
    for (size_t k = 0; !rc && k < out->n; k++)
        maxlab = out->label[k] > maxlab ? out->label[k] : maxlab;
    out->n_classes = maxlab < 0 ? 0 : (o.n_classes > 0 ? o.n_classes : maxlab + 1);
    free(root);
    free(c.is_extra);
    pth_table_free(&t);
    if (rc)
        pth_manifest_free(out);
    return rc;
}

void pth_manifest_free(pth_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->path ? m->path[i] : NULL);
        free(m->record_id ? m->record_id[i] : NULL);
        free(m->subject ? m->subject[i] : NULL);
        for (size_t e = 0; m->extra && e < m->n_extra; e++)
            free(m->extra[i * m->n_extra + e]);
    }
    for (size_t e = 0; m->extra_names && e < m->n_extra; e++)
        free(m->extra_names[e]);
    free(m->path);
    free(m->record_id);
    free(m->subject);
    free(m->label);
    free(m->line);
    free(m->extra_names);
    free(m->extra);
    free(m->source);
    memset(m, 0, sizeof *m);
}

const char *pth_manifest_extra(const pth_manifest *m, size_t i, const char *name)
{
    for (size_t e = 0; e < m->n_extra; e++)
        if (strcmp(m->extra_names[e], name) == 0)
            return i < m->n ? m->extra[i * m->n_extra + e] : NULL;
    return NULL;
}
