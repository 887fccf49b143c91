/* Turning --learners / --param / --tabpfn-model into pth_learner_config values
 * (shared by `pathos eval` and `pathos train`). */
#ifndef PATHOS_CLI_LEARNER_OPTS_H
#define PATHOS_CLI_LEARNER_OPTS_H

#include <stdint.h>

#include "cli/args.h"
#include "pathos/learner.h"

typedef struct {
    pth_learner_config *cfgs;
    size_t n;
    char **names;       /* learner names (owned) */
    const char **display; /* display names for reports: the learner's name unless options were
                             given (NULL: the runner derives "learner(key=value,...)") */
    pth_param *params;  /* all params, cfgs point into it */
    char **param_store; /* owned key/value strings */
    size_t n_store;
} pth_cli_learners;

/* list: "all" or "xgboost,logreg,..."; params: "learner.key=value" (or "key=value" when
 * only one learner is selected); tabpfn_model: checkpoint path for the "tabpfn" learner
 * ("all" includes tabpfn only when it is given).  Returns 0 or 2 (usage error printed). */
int pth_cli_learners_build(const char *command, const char *list, const pth_arg_list *params,
                           const char *tabpfn_model, uint64_t seed, int threads, pth_cli_learners *out);
void pth_cli_learners_free(pth_cli_learners *l);
/* Prints the TabPFN licence attribution on stderr (the Prior Labs License asks for it
 * wherever TabPFN weights are used). */
void pth_cli_tabpfn_notice(const char *command);
/* "  xgboost   gradient-boosted trees ..." lines for --help epilogues. */
void pth_cli_print_learners(FILE *fp);

#endif
