#include <string.h>

#include "pathos/csv.h"

void pth_csv_write_field(FILE *fp, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    int quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    quote |= strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}
