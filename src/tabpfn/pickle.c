#include "tabpfn/pickle.h"

#include <stdlib.h>
#include <string.h>

#include "tabpfn/loader_common.h"

/* Bounds: a real TabPFN data.pkl has ~2,000 objects, a stack under 50 and marks nested
 * 4 deep. These limits are far above that and keep hostile input to ~100 MB. */
#define PK_MAX_VALUES ((size_t)1 << 20)
#define PK_MAX_STACK ((size_t)1 << 20)
#define PK_MAX_MARKS 4096
#define PK_MAX_MEMO ((size_t)1 << 20)
#define PK_SLAB 1024
#define PK_MAX_NAME 256

typedef struct {
    pth_pickle *pk;
    const unsigned char *buf;
    size_t len, pos, op_at; /* op_at: offset of the opcode being run, for messages */
    const char *const *allowed;
    const char *what;
    pth_error *err;
    pk_value **stack;
    size_t sp, stack_cap;
    size_t marks[PK_MAX_MARKS];
    size_t nmarks;
    pk_value **memo;
    size_t memo_cap, memo_count;
    pk_value *result;
} vm;

static int vm_fail(vm *m, pth_code code, const char *msg)
{
    return pth_fail(m->err, code, "%s: %s at offset %zu", m->what, msg, m->op_at);
}

static pk_value *new_value(vm *m, pk_kind kind)
{
    pth_pickle *pk = m->pk;
    if (pk->nvalues >= PK_MAX_VALUES)
        return NULL;
    if (pk->nvalues % PK_SLAB == 0) {
        pk_value **s = realloc(pk->slabs, (pk->nslabs + 1) * sizeof *s);
        if (!s)
            return NULL;
        pk->slabs = s;
        pk->slabs[pk->nslabs] = calloc(PK_SLAB, sizeof(pk_value));
        if (!pk->slabs[pk->nslabs])
            return NULL;
        pk->nslabs++;
    }
    pk_value *v = &pk->slabs[pk->nvalues / PK_SLAB][pk->nvalues % PK_SLAB];
    pk->nvalues++;
    v->kind = kind;
    return v;
}

static int push(vm *m, pk_value *v)
{
    if (!v)
        return vm_fail(m, PTH_ERR_NOMEM, "too many pickle objects or out of memory");
    if (m->sp == m->stack_cap) {
        if (m->stack_cap >= PK_MAX_STACK)
            return vm_fail(m, PTH_ERR_NOMEM, "pickle stack too deep");
        size_t cap = m->stack_cap ? m->stack_cap * 2 : 64;
        pk_value **s = realloc(m->stack, cap * sizeof *s);
        if (!s)
            return vm_fail(m, PTH_ERR_NOMEM, "out of memory");
        m->stack = s;
        m->stack_cap = cap;
    }
    m->stack[m->sp++] = v;
    return PTH_OK;
}

/* Pops into *v; the stack may not reach below the innermost mark. */
static int pop(vm *m, pk_value **v)
{
    size_t floor_ = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor_)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle stack underflow");
    *v = m->stack[--m->sp];
    return PTH_OK;
}

static int top(vm *m, pk_value **v)
{
    size_t floor_ = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor_)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle stack underflow");
    *v = m->stack[m->sp - 1];
    return PTH_OK;
}

static int need(vm *m, size_t n, const unsigned char **p)
{
    if (n > m->len - m->pos)
        return vm_fail(m, PTH_ERR_FORMAT, "truncated pickle");
    *p = m->buf + m->pos;
    m->pos += n;
    return PTH_OK;
}

/* Appends items to a list/tuple/dict's array (dicts: 2 slots per pair). */
static int append_items(vm *m, pk_value *c, pk_value *const *items, size_t n)
{
    if (n == 0)
        return PTH_OK; /* c->items may still be NULL */
    if (n > c->cap - c->n) {
        size_t cap = c->cap ? c->cap : 4;
        while (cap - c->n < n)
            cap *= 2;
        pk_value **it = realloc(c->items, cap * sizeof *it);
        if (!it)
            return vm_fail(m, PTH_ERR_NOMEM, "out of memory");
        c->items = it;
        c->cap = cap;
    }
    memcpy(c->items + c->n, items, n * sizeof *items);
    c->n += n;
    return PTH_OK;
}

/* Pops everything above the innermost mark and the mark itself: items at stack[*first..sp). */
static int pop_mark(vm *m, size_t *first)
{
    if (!m->nmarks)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle MARK missing");
    *first = m->marks[--m->nmarks];
    return PTH_OK;
}

static int op_mark(vm *m)
{
    if (m->nmarks >= PK_MAX_MARKS)
        return vm_fail(m, PTH_ERR_NOMEM, "pickle MARKs nested too deep");
    m->marks[m->nmarks++] = m->sp;
    return PTH_OK;
}

static int make_tuple(vm *m, size_t first)
{
    pk_value *t = new_value(m, PK_TUPLE);
    if (!t)
        return push(m, NULL);
    int rc = append_items(m, t, m->stack + first, m->sp - first);
    m->sp = first;
    return rc ? rc : push(m, t);
}

static int op_tuple_n(vm *m, size_t n)
{
    size_t floor_ = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp - floor_ < n)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle stack underflow");
    return make_tuple(m, m->sp - n);
}

static int op_tuple_mark(vm *m)
{
    size_t first = 0;
    int rc = pop_mark(m, &first);
    return rc ? rc : make_tuple(m, first);
}

/* SETITEM(S) and APPEND(S): items between the mark (or the last 1-2 values) go into the
 * container just below them. */
static int fill_container(vm *m, size_t first, pk_kind want)
{
    size_t n = m->sp - first;
    if (first == 0 || (m->nmarks && m->marks[m->nmarks - 1] >= first))
        return vm_fail(m, PTH_ERR_FORMAT, "pickle stack underflow");
    pk_value *c = m->stack[first - 1];
    if (c->kind != want)
        return vm_fail(m, PTH_ERR_FORMAT, want == PK_DICT ? "SETITEM on a non-dict" : "APPEND on a non-list");
    if (want == PK_DICT && n % 2)
        return vm_fail(m, PTH_ERR_FORMAT, "SETITEMS with an odd number of values");
    int rc = append_items(m, c, m->stack + first, n);
    m->sp = first;
    return rc;
}

static int op_fill_mark(vm *m, pk_kind want)
{
    size_t first = 0;
    int rc = pop_mark(m, &first);
    return rc ? rc : fill_container(m, first, want);
}

static int op_fill_n(vm *m, size_t n, pk_kind want)
{
    if (m->sp < n)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle stack underflow");
    return fill_container(m, m->sp - n, want);
}

static int push_int(vm *m, pk_kind kind, int64_t i)
{
    pk_value *v = new_value(m, kind);
    if (v)
        v->i = i;
    return push(m, v);
}

/* LONG1: n-byte little-endian two's complement; only what fits int64. */
static int op_long1(vm *m)
{
    const unsigned char *p = NULL;
    int rc = need(m, 1, &p);
    if (rc)
        return rc;
    size_t n = p[0];
    if ((rc = need(m, n, &p)))
        return rc;
    if (n > 8)
        return vm_fail(m, PTH_ERR_UNSUPPORTED, "pickle integer wider than 64 bits");
    uint64_t u = 0;
    for (size_t k = 0; k < n; k++)
        u |= (uint64_t)p[k] << (8 * k);
    if (n > 0 && n < 8 && (p[n - 1] & 0x80))
        u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    int64_t i = 0;
    memcpy(&i, &u, sizeof i);
    return push_int(m, PK_INT, i);
}

static int op_binfloat(vm *m)
{
    const unsigned char *p = NULL;
    int rc = need(m, 8, &p);
    if (rc)
        return rc;
    uint64_t u = 0;
    for (int k = 0; k < 8; k++)
        u = (u << 8) | p[k]; /* big-endian */
    pk_value *v = new_value(m, PK_FLOAT);
    if (v)
        memcpy(&v->f, &u, sizeof v->f);
    return push(m, v);
}

static pk_value *new_str(vm *m, pk_kind kind, const unsigned char *s, size_t n)
{
    pk_value *v = new_value(m, kind);
    if (!v || !(v->s = malloc(n + 1)))
        return NULL;
    memcpy(v->s, s, n);
    v->s[n] = '\0';
    v->slen = n;
    return v;
}

/* Length-prefixed UTF-8 string with a `width`-byte little-endian length. */
static int op_unicode(vm *m, size_t width)
{
    const unsigned char *p = NULL;
    int rc = need(m, width, &p);
    if (rc)
        return rc;
    uint64_t n = width == 1 ? p[0] : width == 4 ? pth_le32(p) : pth_le64(p);
    if (n > m->len - m->pos)
        return vm_fail(m, PTH_ERR_FORMAT, "truncated pickle string");
    rc = need(m, (size_t)n, &p);
    return rc ? rc : push(m, new_str(m, PK_STR, p, (size_t)n));
}

static int memo_put(vm *m, size_t idx)
{
    pk_value *v = NULL;
    int rc = top(m, &v);
    if (rc)
        return rc;
    if (idx >= PK_MAX_MEMO)
        return vm_fail(m, PTH_ERR_NOMEM, "pickle memo index too large");
    if (idx >= m->memo_cap) {
        size_t cap = m->memo_cap ? m->memo_cap : 256;
        while (cap <= idx)
            cap *= 2;
        pk_value **mm = realloc(m->memo, cap * sizeof *mm);
        if (!mm)
            return vm_fail(m, PTH_ERR_NOMEM, "out of memory");
        memset(mm + m->memo_cap, 0, (cap - m->memo_cap) * sizeof *mm);
        m->memo = mm;
        m->memo_cap = cap;
    }
    if (!m->memo[idx])
        m->memo_count++;
    m->memo[idx] = v;
    return PTH_OK;
}

static int memo_get(vm *m, size_t idx)
{
    if (idx >= m->memo_cap || !m->memo[idx])
        return vm_fail(m, PTH_ERR_FORMAT, "pickle memo reference to an unset slot");
    return push(m, m->memo[idx]);
}

/* BINPUT/BINGET (1-byte index) and LONG_BINPUT/LONG_BINGET (4-byte index). */
static int op_memo(vm *m, size_t width, int put)
{
    const unsigned char *p = NULL;
    int rc = need(m, width, &p);
    if (rc)
        return rc;
    size_t idx = width == 1 ? p[0] : pth_le32(p);
    return put ? memo_put(m, idx) : memo_get(m, idx);
}

static int push_global(vm *m, const char *module, size_t mlen, const char *name, size_t nlen)
{
    char full[2 * PK_MAX_NAME + 2];
    if (mlen > PK_MAX_NAME || nlen > PK_MAX_NAME)
        return vm_fail(m, PTH_ERR_FORMAT, "pickle global name too long");
    memcpy(full, module, mlen);
    full[mlen] = '.';
    memcpy(full + mlen + 1, name, nlen);
    full[mlen + 1 + nlen] = '\0';
    int ok = strlen(full) == mlen + 1 + nlen; /* no NUL smuggled inside */
    for (const char *const *a = m->allowed; ok && *a; a++)
        if (!strcmp(*a, full))
            return push(m, new_str(m, PK_GLOBAL, (const unsigned char *)full, mlen + 1 + nlen));
    for (char *c = full; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    return pth_fail(m->err, PTH_ERR_UNSUPPORTED, "%s: refusing to load global '%s' at offset %zu", m->what, full,
                    m->op_at);
}

/* GLOBAL: "module\nname\n". */
static int op_global(vm *m)
{
    const unsigned char *start = m->buf + m->pos, *end = m->buf + m->len;
    const unsigned char *nl1 = memchr(start, '\n', (size_t)(end - start));
    const unsigned char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    if (!nl2)
        return vm_fail(m, PTH_ERR_FORMAT, "truncated pickle GLOBAL");
    m->pos = (size_t)(nl2 + 1 - m->buf);
    return push_global(m, (const char *)start, (size_t)(nl1 - start), (const char *)nl1 + 1,
                       (size_t)(nl2 - nl1 - 1));
}

static int op_stack_global(vm *m)
{
    pk_value *name = NULL, *module = NULL;
    int rc = pop(m, &name);
    if (!rc)
        rc = pop(m, &module);
    if (rc)
        return rc;
    if (name->kind != PK_STR || module->kind != PK_STR)
        return vm_fail(m, PTH_ERR_FORMAT, "STACK_GLOBAL needs two strings");
    return push_global(m, module->s, module->slen, name->s, name->slen);
}

static int op_reduce(vm *m)
{
    pk_value *fn = NULL, *args = NULL;
    int rc = pop(m, &args);
    if (!rc)
        rc = pop(m, &fn);
    if (rc)
        return rc;
    if (fn->kind != PK_GLOBAL || args->kind != PK_TUPLE)
        return vm_fail(m, PTH_ERR_FORMAT, "REDUCE needs a global and an argument tuple");
    /* OrderedDict() is just an empty dict for our purposes (items follow via SETITEMS). */
    if (!strcmp(fn->s, "collections.OrderedDict") && args->n == 0)
        return push(m, new_value(m, PK_DICT));
    pk_value *r = new_value(m, PK_REDUCE);
    if (r) {
        r->a = fn;
        r->b = args;
    }
    return push(m, r);
}

/* BUILD sets object state; the only object we build is a dict (an OrderedDict whose
 * state holds attributes such as _metadata), so the state is dropped. */
static int op_build(vm *m)
{
    pk_value *state = NULL, *obj = NULL;
    int rc = pop(m, &state);
    if (!rc)
        rc = top(m, &obj);
    if (rc)
        return rc;
    return obj->kind == PK_DICT ? PTH_OK : vm_fail(m, PTH_ERR_UNSUPPORTED, "pickle BUILD on a non-dict object");
}

static int op_persid(vm *m)
{
    pk_value *pid = NULL;
    int rc = pop(m, &pid);
    if (rc)
        return rc;
    pk_value *v = new_value(m, PK_PERSID);
    if (v)
        v->a = pid;
    return push(m, v);
}

static int op_fixed_int(vm *m, size_t width)
{
    const unsigned char *p = NULL;
    int rc = need(m, width, &p);
    if (rc)
        return rc;
    if (width == 1)
        return push_int(m, PK_INT, p[0]);
    if (width == 2)
        return push_int(m, PK_INT, pth_le16(p));
    return push_int(m, PK_INT, (int32_t)pth_le32(p)); /* BININT is signed */
}

static int op_skip(vm *m, size_t n)
{
    const unsigned char *p = NULL;
    return need(m, n, &p);
}

static int op_proto(vm *m)
{
    const unsigned char *p = NULL;
    int rc = need(m, 1, &p);
    if (!rc && p[0] > 5)
        return vm_fail(m, PTH_ERR_UNSUPPORTED, "pickle protocol above 5");
    return rc;
}

static int op_stop(vm *m)
{
    pk_value *v = NULL;
    int rc = pop(m, &v);
    if (!rc)
        m->result = v;
    return rc;
}

static int unsupported(vm *m, unsigned op)
{
    return pth_fail(m->err, PTH_ERR_UNSUPPORTED, "%s: unsupported pickle opcode 0x%02x at offset %zu", m->what, op,
                    m->op_at);
}

static int step_data(vm *m, unsigned op)
{
    switch (op) {
    case 'N': return push(m, new_value(m, PK_NONE));
    case 0x88: return push_int(m, PK_BOOL, 1);
    case 0x89: return push_int(m, PK_BOOL, 0);
    case 'K': return op_fixed_int(m, 1);
    case 'M': return op_fixed_int(m, 2);
    case 'J': return op_fixed_int(m, 4);
    case 0x8a: return op_long1(m);
    case 'G': return op_binfloat(m);
    case 0x8c: return op_unicode(m, 1);
    case 'X': return op_unicode(m, 4);
    case 0x8d: return op_unicode(m, 8);
    case '}': return push(m, new_value(m, PK_DICT));
    case ']': return push(m, new_value(m, PK_LIST));
    case ')': return push(m, new_value(m, PK_TUPLE));
    default: return unsupported(m, op);
    }
}

static int step(vm *m, unsigned op)
{
    switch (op) {
    case 0x80: return op_proto(m);
    case 0x95: return op_skip(m, 8); /* FRAME: the frame length is only a read hint */
    case '(': return op_mark(m);
    case 't': return op_tuple_mark(m);
    case 0x85: return op_tuple_n(m, 1);
    case 0x86: return op_tuple_n(m, 2);
    case 0x87: return op_tuple_n(m, 3);
    case 's': return op_fill_n(m, 2, PK_DICT);
    case 'u': return op_fill_mark(m, PK_DICT);
    case 'a': return op_fill_n(m, 1, PK_LIST);
    case 'e': return op_fill_mark(m, PK_LIST);
    case 'q': return op_memo(m, 1, 1);
    case 'r': return op_memo(m, 4, 1);
    case 0x94: return memo_put(m, m->memo_count); /* MEMOIZE */
    case 'h': return op_memo(m, 1, 0);
    case 'j': return op_memo(m, 4, 0);
    case 'c': return op_global(m);
    case 0x93: return op_stack_global(m);
    case 'R': return op_reduce(m);
    case 'b': return op_build(m);
    case 'Q': return op_persid(m);
    case '.': return op_stop(m);
    default: return step_data(m, op);
    }
}

int pth_pickle_run(pth_pickle *pk, const unsigned char *buf, size_t len, const char *const *allowed,
                   const char *what, pk_value **result, pth_error *err)
{
    memset(pk, 0, sizeof *pk);
    *result = NULL;
    vm m = {0};
    m.pk = pk;
    m.buf = buf;
    m.len = len;
    m.allowed = allowed;
    m.what = what ? what : "pickle";
    m.err = err;
    /* Allocated up front so that stack + k is never pointer arithmetic on NULL. */
    m.stack_cap = 64;
    m.stack = malloc(m.stack_cap * sizeof *m.stack);
    int rc = m.stack ? PTH_OK : pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", m.what);
    while (!rc && !m.result) {
        if (m.pos >= m.len) {
            rc = pth_fail(err, PTH_ERR_FORMAT, "%s: pickle ends without STOP", m.what);
            break;
        }
        m.op_at = m.pos;
        rc = step(&m, m.buf[m.pos++]);
    }
    free(m.stack);
    free(m.memo);
    if (!rc)
        *result = m.result;
    return rc;
}

void pth_pickle_free(pth_pickle *pk)
{
    for (size_t i = 0; i < pk->nvalues; i++) {
        pk_value *v = &pk->slabs[i / PK_SLAB][i % PK_SLAB];
        free(v->s);
        free(v->items);
    }
    for (size_t i = 0; i < pk->nslabs; i++)
        free(pk->slabs[i]);
    free(pk->slabs);
    memset(pk, 0, sizeof *pk);
}

const pk_value *pth_pickle_dict_get(const pk_value *dict, const char *key)
{
    if (!dict || dict->kind != PK_DICT)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = dict->n; i >= 2; i -= 2) {
        const pk_value *k = dict->items[i - 2];
        if (k->kind == PK_STR && k->slen == klen && !memcmp(k->s, key, klen))
            return dict->items[i - 1];
    }
    return NULL;
}
