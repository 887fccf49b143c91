/* OpenFace column families: which family a column name belongs to, and parsing of
 * user-supplied family lists ("gaze,pose,au_r"). */
#include <ctype.h>
#include <string.h>

#include "pathos/features.h"

static const struct {
    unsigned flag;
    const char *name;
} families[] = {
    {PTH_FAM_GAZE, "gaze"},
    {PTH_FAM_POSE, "pose"},
    {PTH_FAM_AU_R, "au_r"},
    {PTH_FAM_AU_C, "au_c"},
    {PTH_FAM_LANDMARKS2D, "landmarks2d"},
    {PTH_FAM_LANDMARKS3D, "landmarks3d"},
    {PTH_FAM_EYE, "eye"},
    {PTH_FAM_PDM, "pdm"},
};
#define N_FAMILIES (sizeof families / sizeof families[0])

/* 1 when s is one or more decimal digits and nothing else. */
static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* "AU" digits "_" kind, e.g. AU12_r. */
static int is_au(const char *s, char kind)
{
    if (!starts_with(s, "AU"))
        return 0;
    s += 2;
    const char *digits = s;
    while (isdigit((unsigned char)*s))
        s++;
    return s > digits && s[0] == '_' && s[1] == kind && s[2] == '\0';
}

/* "<one of letters>_" digits, e.g. x_12 with letters "xy". */
static int is_indexed(const char *s, const char *letters)
{
    return s[0] && strchr(letters, s[0]) && s[1] == '_' && all_digits(s + 2);
}

unsigned pth_feature_family_of(const char *c)
{
    if (!c)
        return 0;
    if (starts_with(c, "gaze_"))
        return PTH_FAM_GAZE;
    if (starts_with(c, "eye_lmk_"))
        return is_indexed(c + 8, "xyXYZ") ? PTH_FAM_EYE : 0;
    if (starts_with(c, "pose_"))
        return (c[5] == 'T' || c[5] == 'R') && strchr("xyz", c[6]) && c[6] && !c[7] ? PTH_FAM_POSE : 0;
    if (is_au(c, 'r'))
        return PTH_FAM_AU_R;
    if (is_au(c, 'c'))
        return PTH_FAM_AU_C;
    if (is_indexed(c, "xy"))
        return PTH_FAM_LANDMARKS2D;
    if (is_indexed(c, "XYZ"))
        return PTH_FAM_LANDMARKS3D;
    if (!strcmp(c, "p_scale") || !strcmp(c, "p_rx") || !strcmp(c, "p_ry") || !strcmp(c, "p_rz") ||
        !strcmp(c, "p_tx") || !strcmp(c, "p_ty") || is_indexed(c, "p"))
        return PTH_FAM_PDM;
    return 0;
}

const char *pth_feature_family_name(unsigned family)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i].flag == family)
            return families[i].name;
    return NULL;
}

/* Compares the token [s, s+n) with a NUL-terminated name. */
static int token_is(const char *s, size_t n, const char *name) { return strlen(name) == n && !strncmp(s, name, n); }

static unsigned token_flags(const char *s, size_t n)
{
    if (token_is(s, n, "all"))
        return PTH_FAM_ALL;
    if (token_is(s, n, "default"))
        return PTH_FAM_DEFAULT;
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (token_is(s, n, families[i].name))
            return families[i].flag;
    return 0;
}

int pth_feature_families_parse(const char *list, unsigned *out, pth_error *err)
{
    unsigned flags = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        size_t n = (size_t)(end - start);
        if (n == 0)
            continue;
        unsigned f = token_flags(start, n);
        if (!f)
            return pth_fail(err, PTH_ERR_INVALID,
                            "unknown feature family '%.*s' (valid: gaze, pose, au_r, au_c, landmarks2d, "
                            "landmarks3d, eye, pdm, all, default)",
                            (int)(n > 64 ? 64 : n), start);
        flags |= f;
    }
    if (!flags)
        return pth_fail(err, PTH_ERR_INVALID, "empty feature family list");
    *out = flags;
    return PTH_OK;
}
