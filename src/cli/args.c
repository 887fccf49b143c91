#include "cli/args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const pth_arg_spec *find_long(const pth_arg_parser *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_specs; i++)
        if (strlen(p->specs[i].name) == len && !strncmp(p->specs[i].name, name, len))
            return &p->specs[i];
    return NULL;
}

static const pth_arg_spec *find_short(const pth_arg_parser *p, char c)
{
    for (size_t i = 0; i < p->n_specs; i++)
        if (p->specs[i].short_name == c)
            return &p->specs[i];
    return NULL;
}

static void print_help(const pth_arg_parser *p)
{
    printf("usage: %s\n\n", p->usage);
    if (p->description)
        printf("%s\n\n", p->description);
    printf("options:\n");
    for (size_t i = 0; i < p->n_specs; i++) {
        const pth_arg_spec *s = &p->specs[i];
        char left[64];
        if (s->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", s->short_name, s->name, s->metavar ? " " : "",
                     s->metavar ? s->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", s->name, s->metavar ? " " : "", s->metavar ? s->metavar : "");
        printf("  %-30s %s\n", left, s->help);
    }
    printf("  %-30s %s\n", "-h, --help", "show this help");
}

static int usage_error(const pth_arg_parser *p, const char *fmt, const char *arg)
{
    fprintf(stderr, "pathos %s: ", p->command);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s\n(see 'pathos %s --help')\n", p->usage, p->command);
    return 2;
}

static int store(const pth_arg_parser *p, const pth_arg_spec *s, const char *val)
{
    char *end;
    errno = 0;
    switch (s->kind) {
    case PTH_ARG_FLAG:
        *(int *)s->dest = 1;
        return 0;
    case PTH_ARG_STR:
        *(const char **)s->dest = val;
        return 0;
    case PTH_ARG_INT: {
        long v = strtol(val, &end, 10);
        if (errno || *end || end == val || v < -2147483647L || v > 2147483647L)
            return usage_error(p, "expected an integer, got '%s'", val);
        *(int *)s->dest = (int)v;
        return 0;
    }
    case PTH_ARG_U64: {
        unsigned long long v = strtoull(val, &end, 10);
        if (errno || *end || end == val || val[0] == '-')
            return usage_error(p, "expected a non-negative integer, got '%s'", val);
        *(uint64_t *)s->dest = (uint64_t)v;
        return 0;
    }
    case PTH_ARG_DOUBLE: {
        double v = strtod(val, &end);
        if (errno || *end || end == val)
            return usage_error(p, "expected a number, got '%s'", val);
        *(double *)s->dest = v;
        return 0;
    }
    case PTH_ARG_LIST: {
        pth_arg_list *l = s->dest;
        const char **items = realloc(l->items, (l->count + 1) * sizeof *items);
        if (!items)
            return usage_error(p, "%s", "out of memory");
        items[l->count++] = val;
        l->items = items;
        return 0;
    }
    }
    return 2;
}

int pth_args_parse(const pth_arg_parser *p, int argc, char **argv, char ***pos, size_t *npos)
{
    *pos = calloc((size_t)argc + 1, sizeof **pos);
    *npos = 0;
    if (!*pos)
        return usage_error(p, "%s", "out of memory");
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || !strcmp(a, "-")) {
            (*pos)[(*npos)++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(p);
            free(*pos);
            *pos = NULL;
            return -1;
        }
        const pth_arg_spec *s;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            s = find_long(p, a + 2, len);
            if (eq)
                inline_val = eq + 1;
        } else {
            s = a[2] == '\0' ? find_short(p, a[1]) : NULL;
        }
        int rc;
        if (!s)
            rc = usage_error(p, "unknown option '%s'", a);
        else if (s->kind == PTH_ARG_FLAG)
            rc = inline_val ? usage_error(p, "option '%s' takes no value", a) : store(p, s, NULL);
        else if (inline_val)
            rc = store(p, s, inline_val);
        else if (i + 1 < argc)
            rc = store(p, s, argv[++i]);
        else
            rc = usage_error(p, "option '%s' needs a value", a);
        if (rc) {
            free(*pos);
            *pos = NULL;
            return rc;
        }
    }
    if (*npos < p->min_positional || *npos > p->max_positional) {
        free(*pos);
        *pos = NULL;
        return usage_error(p, "%s", *npos < p->min_positional ? "missing argument" : "too many arguments");
    }
    return 0;
}

void pth_args_free_list(pth_arg_list *l)
{
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

int pth_cli_fail(const char *command, const pth_error *err)
{
    fprintf(stderr, "pathos %s: error: %s\n", command, err && err->msg[0] ? err->msg : "unknown error");
    return 1;
}

void pth_cli_progress(const char *command, size_t done, size_t total, const char *what)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (tty) {
        fprintf(stderr, "\rpathos %s: %zu/%zu %s", command, done, total, what);
        if (done == total)
            fputc('\n', stderr);
    } else if (done == total || total < 20 || done % (total / 10) == 0) {
        fprintf(stderr, "pathos %s: %zu/%zu %s\n", command, done, total, what);
    }
    fflush(stderr);
}

char **pth_cli_split_commas(const char *s, size_t *n)
{
    *n = 0;
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return NULL;
    const char *start = s;
    for (;;) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        if (len > 0) {
            v[*n] = malloc(len + 1);
            if (!v[*n]) {
                pth_cli_free_strings(v, *n);
                return NULL;
            }
            memcpy(v[*n], start, len);
            v[*n][len] = '\0';
            (*n)++;
        }
        if (!end)
            break;
        start = end + 1;
    }
    return v;
}

void pth_cli_free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void pth_cli_init_env(char **argv)
{
    /* OpenMP runtimes (libgomp, used by xgboost and OpenBLAS builds) read OMP_WAIT_POLICY
     * once, when the shared library loads - before main runs, so a setenv here alone is too
     * late.  The default ACTIVE policy spins idle threads, which on a small shared machine
     * made a small xgboost fit ~100x slower.  So: set PASSIVE (unless the user chose) and
     * re-execute ourselves once; if the exec fails we simply carry on with the default. */
    if (getenv("OMP_WAIT_POLICY"))
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
}
