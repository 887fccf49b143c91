/* Key/value parameter parsing shared by all learners: each learner describes its keys in a
 * pth_param_spec table and gets strict parsing (whole string, finite, in range) with error
 * messages that name the learner and the key. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learners/learner_impl.h"

static void list_keys(const pth_param_spec *specs, size_t n_specs, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n_specs && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", specs[i].key);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (n_specs == 0)
        snprintf(buf, cap, "none");
}

static int parse_number(const char *s, int want_int, double *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    if (want_int) {
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return 0;
        *out = (double)v;
        return 1;
    }
    double v = strtod(s, &end);
    if (errno == ERANGE || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int set_string(const char *learner, const pth_param_spec *sp, const char *value, void *opts,
                      pth_error *err)
{
    if (sp->choices) {
        int ok = 0;
        for (const char *const *c = sp->choices; *c; c++)
            ok |= value && strcmp(*c, value) == 0;
        if (!ok) {
            char allowed[256] = "";
            size_t used = 0;
            for (const char *const *c = sp->choices; *c && used < sizeof allowed; c++) {
                int w = snprintf(allowed + used, sizeof allowed - used, "%s%s", c == sp->choices ? "" : ", ", *c);
                used += w > 0 ? (size_t)w : 0;
            }
            return pth_fail(err, PTH_ERR_INVALID, "learner '%s': parameter '%s': '%s' is not one of: %s", learner,
                            sp->key, value ? value : "", allowed);
        }
    }
    memcpy((char *)opts + sp->offset, &value, sizeof value);
    return PTH_OK;
}

static int set_one(const char *learner, const pth_param_spec *sp, const char *value, void *opts, pth_error *err)
{
    if (sp->type == PTH_PARAM_STRING)
        return set_string(learner, sp, value, opts, err);
    double v;
    int is_int = sp->type == PTH_PARAM_INT;
    if (!parse_number(value, is_int, &v))
        return pth_fail(err, PTH_ERR_INVALID, "learner '%s': parameter '%s': expected %s, got '%s'", learner,
                        sp->key, is_int ? "an integer" : "a finite number", value ? value : "");
    if (v < sp->lo || v > sp->hi)
        return pth_fail(err, PTH_ERR_INVALID, "learner '%s': parameter '%s': %s is outside [%g, %g]", learner,
                        sp->key, value, sp->lo, sp->hi);
    if (is_int) {
        int iv = (int)v;
        memcpy((char *)opts + sp->offset, &iv, sizeof iv);
    } else {
        memcpy((char *)opts + sp->offset, &v, sizeof v);
    }
    return PTH_OK;
}

int pth_params_parse(const char *learner, const pth_param_spec *specs, size_t n_specs, const pth_param *params,
                     size_t n_params, void *opts, pth_error *err)
{
    for (size_t i = 0; i < n_params; i++) {
        const char *key = params[i].key ? params[i].key : "";
        const pth_param_spec *sp = NULL;
        for (size_t j = 0; j < n_specs && !sp; j++)
            if (strcmp(specs[j].key, key) == 0)
                sp = &specs[j];
        if (!sp) {
            char known[512];
            list_keys(specs, n_specs, known, sizeof known);
            return pth_fail(err, PTH_ERR_INVALID, "learner '%s' has no parameter '%s' (known: %s)", learner, key,
                            known);
        }
        int rc = set_one(learner, sp, params[i].value, opts, err);
        if (rc)
            return rc;
    }
    return PTH_OK;
}

int pth_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}
