#include "pathos/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pth_outfile_open(pth_outfile *out, const char *path, pth_error *err)
{
    memset(out, 0, sizeof *out);
    if (!path || strcmp(path, "-") == 0) {
        out->fp = stdout;
        return PTH_OK;
    }
    size_t n = strlen(path);
    out->final_path = strdup(path);
    out->tmp_path = malloc(n + 16);
    if (!out->final_path || !out->tmp_path) {
        pth_outfile_abort(out);
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(out->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(out->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(out->tmp_path);
        out->tmp_path = NULL;
        pth_outfile_abort(out);
        return pth_fail(err, PTH_ERR_IO, "%s: cannot create output file: %s", path, strerror(e));
    }
    /* mkstemp creates 0600; output files should get the usual umask-derived mode. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    out->fp = fdopen(fd, "wb");
    if (!out->fp) {
        close(fd);
        pth_outfile_abort(out);
        return pth_fail(err, PTH_ERR_IO, "%s: cannot open output stream", path);
    }
    return PTH_OK;
}

int pth_outfile_commit(pth_outfile *out, pth_error *err)
{
    if (!out->fp)
        return pth_fail(err, PTH_ERR_INTERNAL, "output file committed twice");
    if (out->fp == stdout) {
        int bad = fflush(stdout) != 0 || ferror(stdout);
        out->fp = NULL;
        return bad ? pth_fail(err, PTH_ERR_IO, "<stdout>: write error") : PTH_OK;
    }
    int bad = ferror(out->fp) != 0;
    bad |= fflush(out->fp) != 0;
    bad |= fclose(out->fp) != 0;
    out->fp = NULL;
    if (bad) {
        pth_fail(err, PTH_ERR_IO, "%s: write error (disk full?)", out->final_path);
        pth_outfile_abort(out);
        return PTH_ERR_IO;
    }
    if (rename(out->tmp_path, out->final_path) != 0) {
        pth_fail(err, PTH_ERR_IO, "%s: cannot rename temporary file into place: %s", out->final_path,
                 strerror(errno));
        pth_outfile_abort(out);
        return PTH_ERR_IO;
    }
    free(out->tmp_path);
    free(out->final_path);
    memset(out, 0, sizeof *out);
    return PTH_OK;
}

void pth_outfile_abort(pth_outfile *out)
{
    if (out->fp && out->fp != stdout)
        fclose(out->fp);
    if (out->tmp_path)
        unlink(out->tmp_path);
    free(out->tmp_path);
    free(out->final_path);
    memset(out, 0, sizeof *out);
}

int pth_write_file_atomic(const char *path, const void *data, size_t len, pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    if (fwrite(data, 1, len, out.fp) != len) {
        pth_outfile_abort(&out);
        return pth_fail(err, PTH_ERR_IO, "%s: write error", path && strcmp(path, "-") ? path : "<stdout>");
    }
    return pth_outfile_commit(&out, err);
}

int pth_read_file(const char *path, size_t max_bytes, char **buf, size_t *len, pth_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pth_fail(err, PTH_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = max_bytes < (1 << 16) ? max_bytes : (1 << 16), n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, fp);
        n += got;
        if (n < cap)
            break;
        if (cap >= max_bytes) {
            if (fgetc(fp) == EOF)
                break; /* exactly max_bytes long */
            free(b);
            fclose(fp);
            return pth_fail(err, PTH_ERR_NOMEM, "%s: larger than the limit of %zu bytes", path, max_bytes);
        }
        size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
        char *nb = realloc(b, ncap + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap = ncap;
    }
    if (!b) {
        fclose(fp);
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
    }
    int rd_err = ferror(fp);
    fclose(fp);
    if (rd_err) {
        free(b);
        return pth_fail(err, PTH_ERR_IO, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return PTH_OK;
}
