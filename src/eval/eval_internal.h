/* Helpers shared by the files of the evaluation layer (not part of the public API). */
#ifndef PATHOS_EVAL_INTERNAL_H
#define PATHOS_EVAL_INTERNAL_H

#include <stdio.h>

/* Writes s as one CSV field, quoted per RFC 4180 when it contains , " CR or LF. */
void pth_eval_csv_field(FILE *fp, const char *s);

#endif
