/* The static table of learners.  Order here is the order of `pth_learner_name(i)`.
 *
 * Adding a learner is a one-line change: define `const pth_learner_ops pth_learner_NAME`
 * in src/learners/NAME.c (see learner_impl.h) and add `X(NAME)` to the list below; the
 * macro declares the extern and fills the table. */
#include <string.h>

#include "learners/learner_impl.h"

#define PTH_LEARNER_LIST(X)                                                                                    \
    X(xgboost)                                                                                                 \
    X(logreg)                                                                                                  \
    X(knn)                                                                                                     \
    X(majority)                                                                                                \
    X(tabpfn)

#define PTH_DECLARE(name) extern const pth_learner_ops pth_learner_##name;
PTH_LEARNER_LIST(PTH_DECLARE)
#undef PTH_DECLARE

#define PTH_ENTRY(name) &pth_learner_##name,
static const pth_learner_ops *const registry[] = {PTH_LEARNER_LIST(PTH_ENTRY)};
#undef PTH_ENTRY

#define N_LEARNERS (sizeof registry / sizeof registry[0])

size_t pth_learner_count(void) { return N_LEARNERS; }

const char *pth_learner_name(size_t i) { return i < N_LEARNERS ? registry[i]->name : NULL; }

const char *pth_learner_description(size_t i) { return i < N_LEARNERS ? registry[i]->description : NULL; }

const pth_learner_ops *pth_learner_find(const char *name)
{
    for (size_t i = 0; name && i < N_LEARNERS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
