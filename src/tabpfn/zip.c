#include "tabpfn/zip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tabpfn/loader_common.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define EOCD_LEN 22
#define CENTRAL_LEN 46
#define LOCAL_LEN 30
#define MAX_ENTRIES ((uint64_t)1 << 20)

typedef struct {
    const unsigned char *buf;
    size_t len;
    const char *file;
    uint64_t count, cd_off, cd_size;
} zip_ctx;

/* [off, off+n) lies inside a buffer of length len, without overflow. */
static int in_bounds(uint64_t off, uint64_t n, size_t len)
{
    return off <= len && n <= len - off;
}

/* The EOCD record sits at the end, followed only by a comment of at most 64 KB; scan
 * backwards for its signature with a comment length that fits. */
static int find_eocd(const zip_ctx *c, size_t *pos, pth_error *err)
{
    if (c->len < EOCD_LEN)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: too short for a zip archive", c->file);
    size_t last = c->len - EOCD_LEN, stop = last > 65535 ? last - 65535 : 0;
    for (size_t i = last + 1; i-- > stop;) {
        if (pth_le32(c->buf + i) == SIG_EOCD && i + EOCD_LEN + pth_le16(c->buf + i + 20) <= c->len) {
            *pos = i;
            return PTH_OK;
        }
    }
    return pth_fail(err, PTH_ERR_FORMAT, "%s: no zip end-of-central-directory record (truncated file?)", c->file);
}

static int read_eocd64(zip_ctx *c, size_t eocd, pth_error *err)
{
    const unsigned char *loc = c->buf + eocd - 20;
    uint64_t off = pth_le64(loc + 8);
    if (pth_le32(loc + 4) != 0 || pth_le32(loc + 16) > 1)
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", c->file);
    if (!in_bounds(off, 56, c->len) || pth_le32(c->buf + off) != SIG_EOCD64)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: bad ZIP64 end-of-central-directory record", c->file);
    const unsigned char *r = c->buf + off;
    if (pth_le32(r + 16) != 0 || pth_le32(r + 20) != 0 || pth_le64(r + 24) != pth_le64(r + 32))
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", c->file);
    c->count = pth_le64(r + 32);
    c->cd_size = pth_le64(r + 40);
    c->cd_off = pth_le64(r + 48);
    return PTH_OK;
}

static int read_directory_location(zip_ctx *c, pth_error *err)
{
    size_t eocd = 0;
    int rc = find_eocd(c, &eocd, err);
    if (rc)
        return rc;
    const unsigned char *e = c->buf + eocd;
    /* torch (miniz) always writes a ZIP64 locator right before the EOCD; prefer it. */
    if (eocd >= 20 && pth_le32(e - 20) == SIG_LOCATOR64)
        rc = read_eocd64(c, eocd, err);
    else if (pth_le16(e + 4) != 0 || pth_le16(e + 6) != 0 || pth_le16(e + 8) != pth_le16(e + 10))
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", c->file);
    else if (pth_le16(e + 10) == 0xFFFF || pth_le32(e + 12) == 0xFFFFFFFFu || pth_le32(e + 16) == 0xFFFFFFFFu)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: ZIP64 archive without its locator record", c->file);
    else {
        c->count = pth_le16(e + 10);
        c->cd_size = pth_le32(e + 12);
        c->cd_off = pth_le32(e + 16);
    }
    if (rc)
        return rc;
    if (!in_bounds(c->cd_off, c->cd_size, c->len))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip central directory lies outside the file", c->file);
    if (c->count > c->cd_size / CENTRAL_LEN || c->count > MAX_ENTRIES)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry count %llu is impossible", c->file,
                        (unsigned long long)c->count);
    return PTH_OK;
}

/* Fields that do not fit 32 bits are 0xFFFFFFFF in the central record and follow, in this
 * order, in the ZIP64 extra field (id 1): uncompressed size, compressed size, offset. */
static int apply_zip64_extra(const unsigned char *x, size_t xlen, uint64_t *usize, uint64_t *csize,
                             uint64_t *lho)
{
    uint64_t *want[3] = {usize, csize, lho};
    while (xlen >= 4) {
        unsigned id = pth_le16(x), n = pth_le16(x + 2);
        if (n > xlen - 4)
            return 0;
        if (id == 1) {
            size_t at = 4;
            for (int k = 0; k < 3; k++) {
                if (*want[k] != 0xFFFFFFFFu)
                    continue;
                if (at + 8 > 4 + (size_t)n)
                    return 0;
                *want[k] = pth_le64(x + at);
                at += 8;
            }
            return 1;
        }
        x += 4 + n;
        xlen -= 4 + (size_t)n;
    }
    return *usize != 0xFFFFFFFFu && *csize != 0xFFFFFFFFu && *lho != 0xFFFFFFFFu;
}

static void crc_table(uint32_t t[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
}

static uint32_t crc32_of(const uint32_t t[256], const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* The local header repeats the name and may carry a different extra field; the data
 * starts after both. Sizes come from the central record (the local ones may be 0 when a
 * data descriptor follows). */
static int locate_data(const zip_ctx *c, const char *name, size_t nlen, uint64_t lho, uint64_t size,
                       const unsigned char **data, pth_error *err)
{
    if (!in_bounds(lho, LOCAL_LEN, c->len) || pth_le32(c->buf + lho) != SIG_LOCAL)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': bad local header offset", c->file, name);
    const unsigned char *l = c->buf + lho;
    uint64_t start = lho + LOCAL_LEN + pth_le16(l + 26) + pth_le16(l + 28);
    if (pth_le16(l + 26) != nlen || !in_bounds(lho + LOCAL_LEN, nlen, c->len) ||
        memcmp(l + LOCAL_LEN, name, nlen) != 0)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': local header names another file", c->file,
                        name);
    if (!in_bounds(start, size, c->len))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': data runs past the end of the file", c->file,
                        name);
    *data = c->buf + start;
    return PTH_OK;
}

static int read_entry(const zip_ctx *c, const uint32_t crct[256], uint64_t *pos, pth_zip_entry *out,
                      pth_error *err)
{
    uint64_t end = c->cd_off + c->cd_size;
    if (*pos + CENTRAL_LEN > end || pth_le32(c->buf + *pos) != SIG_CENTRAL)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: corrupt zip central directory at offset %llu", c->file,
                        (unsigned long long)*pos);
    const unsigned char *h = c->buf + *pos;
    size_t nlen = pth_le16(h + 28), xlen = pth_le16(h + 30), clen = pth_le16(h + 32);
    if (*pos + CENTRAL_LEN + nlen + xlen + clen > end)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: corrupt zip central directory at offset %llu", c->file,
                        (unsigned long long)*pos);
    const char *nm = (const char *)h + CENTRAL_LEN;
    if (memchr(nm, 0, nlen))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry name contains a NUL byte", c->file);
    out->name = malloc(nlen + 1);
    if (!out->name)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", c->file);
    memcpy(out->name, nm, nlen);
    out->name[nlen] = '\0';
    *pos += CENTRAL_LEN + nlen + xlen + clen;

    unsigned flags = pth_le16(h + 8), method = pth_le16(h + 10);
    uint64_t csize = pth_le32(h + 20), usize = pth_le32(h + 24), lho = pth_le32(h + 42);
    if (flags & 1u)
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: zip entry '%s' is encrypted", c->file, out->name);
    if (method != 0)
        return pth_fail(err, PTH_ERR_UNSUPPORTED,
                        "%s: zip entry '%s' is compressed (method %u); only stored entries are supported, as "
                        "torch.save writes them",
                        c->file, out->name, method);
    if (!apply_zip64_extra(h + CENTRAL_LEN + nlen, xlen, &usize, &csize, &lho))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': bad ZIP64 extra field", c->file, out->name);
    if (csize != usize)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': stored sizes disagree", c->file, out->name);
    int rc = locate_data(c, out->name, nlen, lho, usize, &out->data, err);
    if (rc)
        return rc;
    out->size = (size_t)usize;
    if (crc32_of(crct, out->data, out->size) != pth_le32(h + 16))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s': CRC-32 mismatch (corrupt file)", c->file,
                        out->name);
    return PTH_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const pth_zip_entry *)a)->name, ((const pth_zip_entry *)b)->name);
}

static int read_entries(const zip_ctx *c, pth_zip *z, pth_error *err)
{
    uint32_t crct[256];
    crc_table(crct);
    z->entries = calloc(c->count ? (size_t)c->count : 1, sizeof *z->entries);
    if (!z->entries)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", c->file);
    uint64_t pos = c->cd_off;
    for (uint64_t i = 0; i < c->count; i++) {
        z->count++; /* counted first so a half-read entry's name is freed on failure */
        int rc = read_entry(c, crct, &pos, &z->entries[i], err);
        if (rc)
            return rc;
    }
    qsort(z->entries, z->count, sizeof *z->entries, cmp_entry);
    for (size_t i = 1; i < z->count; i++)
        if (!strcmp(z->entries[i - 1].name, z->entries[i].name))
            return pth_fail(err, PTH_ERR_FORMAT, "%s: zip entry '%s' appears twice", c->file, z->entries[i].name);
    return PTH_OK;
}

int pth_zip_open(pth_zip *z, const unsigned char *buf, size_t len, const char *file, pth_error *err)
{
    memset(z, 0, sizeof *z);
    zip_ctx c = {buf, len, file ? file : "<buffer>", 0, 0, 0};
    int rc = read_directory_location(&c, err);
    if (!rc)
        rc = read_entries(&c, z, err);
    if (rc)
        pth_zip_close(z);
    return rc;
}

const pth_zip_entry *pth_zip_find(const pth_zip *z, const char *name)
{
    pth_zip_entry key = {(char *)name, NULL, 0};
    if (!z->count)
        return NULL;
    return bsearch(&key, z->entries, z->count, sizeof *z->entries, cmp_entry);
}

void pth_zip_close(pth_zip *z)
{
    for (size_t i = 0; i < z->count; i++)
        free(z->entries[i].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}
