/* Declarative option parsing shared by every pathos subcommand: each command lists its
 * options once (name, kind, destination, help) and gets --help, --opt=value / --opt value,
 * type checking and uniform usage errors for free. */
#ifndef PATHOS_CLI_ARGS_H
#define PATHOS_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pathos/error.h"

typedef enum {
    PTH_ARG_FLAG,   /* int*: set to 1 */
    PTH_ARG_STR,    /* const char**: last value wins */
    PTH_ARG_INT,    /* int* */
    PTH_ARG_U64,    /* uint64_t* */
    PTH_ARG_DOUBLE, /* double* */
    PTH_ARG_LIST    /* pth_arg_list*: every occurrence appended */
} pth_arg_kind;

typedef struct {
    const char **items;
    size_t count;
} pth_arg_list;

typedef struct {
    const char *name;    /* long name without "--" */
    char short_name;     /* 0 if none */
    pth_arg_kind kind;
    void *dest;
    const char *metavar; /* e.g. "N", "PATH" */
    const char *help;
} pth_arg_spec;

typedef struct {
    const char *command;     /* "eval" */
    const char *usage;       /* "pathos eval --manifest M.csv [options]" */
    const char *description; /* paragraph shown by --help */
    const pth_arg_spec *specs;
    size_t n_specs;
    size_t min_positional, max_positional;
} pth_arg_parser;

/* Returns 0 to proceed, -1 when --help was printed (exit 0), 2 on a usage error (printed).
 * Positional arguments are returned in *pos (pointers into argv; free the array). */
int pth_args_parse(const pth_arg_parser *p, int argc, char **argv, char ***pos, size_t *npos);
void pth_args_free_list(pth_arg_list *l);

/* "pathos eval: <message>" on stderr; returns 1 (the exit code for runtime errors). */
int pth_cli_fail(const char *command, const pth_error *err);
/* Progress line on stderr ("pathos eval: 12/50 folds"), overwritten in place on a tty. */
void pth_cli_progress(const char *command, size_t done, size_t total, const char *what);
/* Splits "a,b,c" into a malloc'd array of malloc'd strings. */
char **pth_cli_split_commas(const char *s, size_t *n);
void pth_cli_free_strings(char **v, size_t n);
/* Applies the environment settings pathos wants before any OpenMP runtime starts
 * (OMP_WAIT_POLICY=PASSIVE unless the user set it; re-executes the program once to make it
 * take effect). Called first thing in main with main's argv. */
void pth_cli_init_env(char **argv);

#endif
