/* `pathos text ...`: owned by the text subsystem (see src/text/). Placeholder until it lands. */
#include <stdio.h>

#include "cli/cli.h"

int pth_cmd_text(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "pathos text: not available in this build\n");
    return 2;
}
