#include "cli/learner_opts.h"

#include "pathos/tabpfn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int known_learner(const char *name)
{
    for (size_t i = 0; i < pth_learner_count(); i++)
        if (!strcmp(pth_learner_name(i), name))
            return 1;
    return 0;
}

void pth_cli_tabpfn_notice(const char *command)
{
    fprintf(stderr, "pathos %s: %s\n", command, pth_tabpfn_attribution());
}

void pth_cli_print_learners(FILE *fp)
{
    fprintf(fp, "learners:\n");
    for (size_t i = 0; i < pth_learner_count(); i++)
        fprintf(fp, "  %-10s %s\n", pth_learner_name(i), pth_learner_description(i));
}

static int select_names(const char *command, const char *list, const char *tabpfn_model, pth_cli_learners *out)
{
    if (!list || !strcmp(list, "all")) {
        out->names = calloc(pth_learner_count() + 1, sizeof *out->names);
        if (!out->names)
            return 2;
        for (size_t i = 0; i < pth_learner_count(); i++) {
            const char *nm = pth_learner_name(i);
            /* TabPFN needs a checkpoint file; without one "all" means the self-contained learners. */
            if (!strcmp(nm, "tabpfn") && !tabpfn_model)
                continue;
            out->names[out->n++] = strdup(nm);
        }
        return 0;
    }
    out->names = pth_cli_split_commas(list, &out->n);
    if (!out->names || out->n == 0) {
        fprintf(stderr, "pathos %s: --learners needs at least one learner name\n", command);
        return 2;
    }
    for (size_t i = 0; i < out->n; i++)
        if (!known_learner(out->names[i])) {
            fprintf(stderr, "pathos %s: unknown learner '%s'\n", command, out->names[i]);
            pth_cli_print_learners(stderr);
            return 2;
        }
    return 0;
}

/* Splits "learner.key=value" (or "key=value" with a single learner) into its parts and
 * files it under the right learner; learner-qualified keys for unselected learners are
 * ignored so one --param list can serve several runs. */
static int add_param(const char *command, const char *spec, pth_cli_learners *out, size_t *counts, size_t cap)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        fprintf(stderr, "pathos %s: --param expects learner.key=value, got '%s'\n", command, spec);
        return 2;
    }
    const char *dot = memchr(spec, '.', (size_t)(eq - spec));
    const char *key = dot ? dot + 1 : spec;
    size_t target = SIZE_MAX;
    if (dot) {
        for (size_t i = 0; i < out->n; i++)
            if (strlen(out->names[i]) == (size_t)(dot - spec) && !strncmp(out->names[i], spec, (size_t)(dot - spec)))
                target = i;
        if (target == SIZE_MAX)
            return 0;
    } else if (out->n == 1) {
        target = 0;
    } else {
        fprintf(stderr, "pathos %s: --param '%s' must name its learner (e.g. xgboost.max_depth=3)\n", command, spec);
        return 2;
    }
    if (out->n_store + 2 > cap)
        return 2;
    char *k = strndup(key, (size_t)(eq - key));
    char *v = strndup(eq + 1, strlen(eq + 1));
    out->param_store[out->n_store++] = k;
    out->param_store[out->n_store++] = v;
    if (!k || !v)
        return 2;
    pth_param *p = (pth_param *)out->cfgs[target].params + counts[target]++;
    p->key = k;
    p->value = v;
    return 0;
}

int pth_cli_learners_build(const char *command, const char *list, const pth_arg_list *params,
                           const char *tabpfn_model, uint64_t seed, int threads, pth_cli_learners *out)
{
    memset(out, 0, sizeof *out);
    int rc = select_names(command, list, tabpfn_model, out);
    if (rc)
        return rc;
    size_t n_params = params ? params->count : 0;
    size_t per = n_params + 1; /* +1: the tabpfn model path */
    out->cfgs = calloc(out->n ? out->n : 1, sizeof *out->cfgs);
    out->params = calloc(out->n * per + 1, sizeof *out->params);
    size_t cap = 2 * (n_params + out->n) + 2;
    out->param_store = calloc(cap, sizeof *out->param_store);
    size_t *counts = calloc(out->n + 1, sizeof *counts);
    if (!out->cfgs || !out->params || !out->param_store || !counts) {
        free(counts);
        fprintf(stderr, "pathos %s: out of memory\n", command);
        return 1;
    }
    for (size_t i = 0; i < out->n; i++) {
        out->cfgs[i].learner = out->names[i];
        out->cfgs[i].params = out->params + i * per;
        out->cfgs[i].seed = seed;
        out->cfgs[i].threads = threads;
    }
    for (size_t j = 0; j < n_params && !rc; j++)
        rc = add_param(command, params->items[j], out, counts, cap);
    for (size_t i = 0; i < out->n && !rc; i++) {
        if (!strcmp(out->names[i], "tabpfn")) {
            if (!tabpfn_model) {
                fprintf(stderr, "pathos %s: the tabpfn learner needs --tabpfn-model PATH (a TabPFN v2 checkpoint)\n",
                        command);
                rc = 2;
                break;
            }
            pth_param *p = (pth_param *)out->cfgs[i].params + counts[i]++;
            p->key = "model";
            p->value = tabpfn_model;
            pth_cli_tabpfn_notice(command);
        }
        out->cfgs[i].n_params = counts[i];
    }
    /* The checkpoint path alone does not make a different learner: keep the short name. */
    out->display = calloc(out->n ? out->n : 1, sizeof *out->display);
    for (size_t i = 0; out->display && i < out->n && !rc; i++) {
        int only_model = !strcmp(out->names[i], "tabpfn") && out->cfgs[i].n_params == 1;
        out->display[i] = out->cfgs[i].n_params == 0 || only_model ? out->names[i] : NULL;
    }
    free(counts);
    return rc;
}

void pth_cli_learners_free(pth_cli_learners *l)
{
    pth_cli_free_strings(l->names, l->n);
    for (size_t i = 0; i < l->n_store; i++)
        free(l->param_store[i]);
    free(l->param_store);
    free(l->params);
    free(l->cfgs);
    free(l->display);
    memset(l, 0, sizeof *l);
}
