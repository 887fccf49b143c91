#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

int pth_test_passed, pth_test_failed;

static const char *join(const char *env, const char *fallback, const char *rel, char *buf, size_t n)
{
    const char *base = getenv(env);
    snprintf(buf, n, "%s/%s", base && *base ? base : fallback, rel);
    return buf;
}

const char *pth_test_shared(const char *rel)
{
    static char buf[4096];
    return join("PATHOS_SHARED_DIR", "../shared", rel, buf, sizeof buf);
}

const char *pth_test_source(const char *rel)
{
    static char buf[4096];
    return join("PATHOS_SOURCE_DIR", ".", rel, buf, sizeof buf);
}

const char *pth_test_bin(void)
{
    const char *b = getenv("PATHOS_BIN");
    return b && *b ? b : "pathos";
}

const char *pth_test_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/pathos-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

int pth_test_run(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int pth_test_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int pth_test_finish(void)
{
    printf("%d passed, %d failed\n", pth_test_passed, pth_test_failed);
    return pth_test_failed ? 1 : 0;
}
