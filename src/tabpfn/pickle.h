/* A data-only interpreter for the subset of the Python pickle protocol (2, plus the
 * framing/memo opcodes of 4) that torch.save uses for checkpoints. It never executes
 * anything: GLOBAL names must be on a caller-supplied allow-list and become inert
 * references, REDUCE builds an unevaluated (callable, args) node that the caller
 * interprets, except collections.OrderedDict() which is simply a dict. Stack, memo,
 * mark depth, object count and string sizes are all bounded. Internal to libpathos. */
#ifndef PATHOS_TABPFN_PICKLE_H
#define PATHOS_TABPFN_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

typedef enum {
    PK_NONE,
    PK_BOOL,   /* i */
    PK_INT,    /* i (values beyond int64 are rejected) */
    PK_FLOAT,  /* f */
    PK_STR,    /* s, slen (may contain NUL; callers that need C strings check) */
    PK_TUPLE,  /* items[0..n) */
    PK_LIST,   /* items[0..n) */
    PK_DICT,   /* items[0..2n): key, value pairs in insertion order; keys may repeat */
    PK_GLOBAL, /* s = "module.name", always on the allow-list */
    PK_REDUCE, /* a = callable (PK_GLOBAL), b = args (PK_TUPLE) */
    PK_PERSID  /* a = persistent id object (BINPERSID) */
} pk_kind;

typedef struct pk_value pk_value;
struct pk_value {
    pk_kind kind;
    int64_t i;
    double f;
    char *s;
    size_t slen;
    pk_value **items;
    size_t n, cap;
    pk_value *a, *b;
};

typedef struct {
    pk_value **slabs; /* every value ever created; freed together */
    size_t nslabs, nvalues;
} pth_pickle;

/* Runs the pickle in buf[0..len). allowed: NULL-terminated list of "module.name" globals.
 * On success *result is the unpickled object, owned by pk (free with pth_pickle_free,
 * also on failure). `what` names the stream in error messages. */
int pth_pickle_run(pth_pickle *pk, const unsigned char *buf, size_t len, const char *const *allowed,
                   const char *what, pk_value **result, pth_error *err);
void pth_pickle_free(pth_pickle *pk);

/* Value of the last pair whose key is the string `key`; NULL if absent or not a dict. */
const pk_value *pth_pickle_dict_get(const pk_value *dict, const char *key);

#endif
