/* Minimal test harness: CHECK-style macros that count and report, and helpers to find the
 * shared data directory and the built CLI.  Each test program ends by printing
 * "N passed, N failed" and exits non-zero on any failure. */
#ifndef PATHOS_TEST_HARNESS_H
#define PATHOS_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>

extern int pth_test_passed, pth_test_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            pth_test_passed++;                                                                     \
        else {                                                                                     \
            pth_test_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (fabs(a_ - b_) <= (tol) || (isnan(a_) && isnan(b_)))                                    \
            pth_test_passed++;                                                                     \
        else {                                                                                     \
            pth_test_failed++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.12g, %s = %.12g, tol %g\n",          \
                    __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol));                            \
        }                                                                                          \
    } while (0)

/* Checks a pathos call that returns a pth_code, printing err.msg on failure. */
#define CHECK_OK(expr, errp)                                                                       \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ == 0)                                                                              \
            pth_test_passed++;                                                                     \
        else {                                                                                     \
            pth_test_failed++;                                                                     \
            fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #expr, rc_,         \
                    (errp)->msg);                                                                  \
        }                                                                                          \
    } while (0)

/* Path under ../shared (PATHOS_SHARED_DIR); returns a static buffer. */
const char *pth_test_shared(const char *rel);
/* Path under the source tree (PATHOS_SOURCE_DIR); returns a static buffer. */
const char *pth_test_source(const char *rel);
/* The built `pathos` binary (PATHOS_BIN). */
const char *pth_test_bin(void);
/* A fresh temporary directory for this test (removed at exit if empty-able). */
const char *pth_test_tmpdir(void);
/* Runs a shell command, returns its exit status (0..255), or -1. */
int pth_test_run(const char *cmd);
int pth_test_file_exists(const char *path);
/* Prints the summary line and returns the exit code for main. */
int pth_test_finish(void);

#endif
