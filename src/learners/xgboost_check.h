/* Validation of xgboost JSON models before they reach libxgboost (xgboost_check.c). */
#ifndef PATHOS_LEARNERS_XGBOOST_CHECK_H
#define PATHOS_LEARNERS_XGBOOST_CHECK_H

#include <stddef.h>

/* 0 if `json` (len bytes) is an xgboost 1.7 gbtree model for d features and k classes
 * that is safe to load and predict with; otherwise -1 and a reason in why[cap]. */
int pth_xgb_check_json(const char *json, size_t len, size_t d, int k, char *why, size_t cap);

#endif
