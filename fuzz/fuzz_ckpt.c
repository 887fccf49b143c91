/* Fuzz target: torch .ckpt (zip + pickle) parsing from memory. Input starting with "PK"
 * is an archive and goes to the loader as is. Any other input is taken as data.pkl and
 * wrapped into a fresh archive with correct CRCs next to two storages ('0': 64 x f32,
 * '1': 8 x f16), so that mutations reach the pickle interpreter instead of stopping at
 * the CRC check. Either way: load, or fail with a message; never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/tensorset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put16(buf *b, uint32_t v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, x, 2);
}

static void put32(buf *b, uint32_t v)
{
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

typedef struct {
    const char *name;
    const unsigned char *data;
    size_t size;
} member;

/* Minimal stored-only archive: local headers + data, central directory, EOCD. */
static buf make_zip(const member *m, int count)
{
    buf z = {0}, cd = {0};
    for (int i = 0; i < count; i++) {
        uint32_t off = (uint32_t)z.n, crc = crc32_of(m[i].data, m[i].size), sz = (uint32_t)m[i].size;
        uint16_t nl = (uint16_t)strlen(m[i].name);
        put32(&z, 0x04034b50u);
        put16(&z, 20), put16(&z, 0), put16(&z, 0), put16(&z, 0), put16(&z, 0);
        put32(&z, crc), put32(&z, sz), put32(&z, sz), put16(&z, nl), put16(&z, 0);
        put(&z, m[i].name, nl);
        put(&z, m[i].data, m[i].size);
        put32(&cd, 0x02014b50u);
        put16(&cd, 20), put16(&cd, 20), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0);
        put32(&cd, crc), put32(&cd, sz), put32(&cd, sz), put16(&cd, nl);
        put16(&cd, 0), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0), put32(&cd, 0), put32(&cd, off);
        put(&cd, m[i].name, nl);
    }
    uint32_t cd_off = (uint32_t)z.n;
    put(&z, cd.p, cd.n);
    put32(&z, 0x06054b50u);
    put16(&z, 0), put16(&z, 0), put16(&z, (uint32_t)count), put16(&z, (uint32_t)count);
    put32(&z, (uint32_t)cd.n), put32(&z, cd_off), put16(&z, 0);
    free(cd.p);
    return z;
}

static void run(const uint8_t *data, size_t size)
{
    pth_tensor_set set;
    pth_error err;
    if (pth_ckpt_load_buffer(data, size, "fuzz", &set, &err) != 0) {
        if (set.count != 0 || set.items || set.config_json || !err.msg[0])
            abort(); /* failure must leave the set empty and explain itself */
        return;
    }
    volatile float sink = 0;
    for (size_t i = 0; i < set.count; i++)
        for (size_t k = 0; k < set.items[i].numel; k++)
            sink += set.items[i].data[k];
    (void)sink;
    pth_tensor_set_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        run(data, size);
        return 0;
    }
    /* Same storage contents as fuzz/make_seeds.py writes into its archives. */
    unsigned char s0[256], s1[16];
    for (int i = 0; i < 64; i++) {
        float f = (float)i * 0.125f - 4.0f;
        uint32_t u;
        memcpy(&u, &f, 4);
        for (int k = 0; k < 4; k++)
            s0[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    for (int i = 0; i < 8; i++) {
        /* 0.5*i as IEEE half: exact small values. */
        static const uint16_t h[8] = {0x0000, 0x3800, 0x3C00, 0x3E00, 0x4000, 0x4100, 0x4200, 0x4300};
        s1[2 * i] = (unsigned char)h[i];
        s1[2 * i + 1] = (unsigned char)(h[i] >> 8);
    }
    member m[4] = {{"archive/data.pkl", data, size},
                   {"archive/data/0", s0, sizeof s0},
                   {"archive/data/1", s1, sizeof s1},
                   {"archive/version", (const unsigned char *)"3\n", 2}};
    buf z = make_zip(m, 4);
    run(z.p, z.n);
    free(z.p);
    return 0;
}
