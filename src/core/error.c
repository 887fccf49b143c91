#include "pathos/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pth_fail(pth_error *err, pth_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return (int)code;
}

void pth_error_prefix(pth_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
}

void pth_error_clear(pth_error *err)
{
    if (err) {
        err->code = PTH_OK;
        err->msg[0] = '\0';
    }
}

const char *pth_code_name(pth_code code)
{
    switch (code) {
    case PTH_OK: return "ok";
    case PTH_ERR_IO: return "io";
    case PTH_ERR_PARSE: return "parse";
    case PTH_ERR_INVALID: return "invalid";
    case PTH_ERR_NOMEM: return "nomem";
    case PTH_ERR_FORMAT: return "format";
    case PTH_ERR_UNSUPPORTED: return "unsupported";
    case PTH_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}
