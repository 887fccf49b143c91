#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/cmd_features.h"

#define PATHOS_VERSION "0.1.0"

static const pth_cli_command commands[] = {
    {"synth", "write the SYNTHETIC demo dataset (OpenFace CSVs + manifest)", pth_cmd_synth},
    {"features", "summarise OpenFace recordings into one feature row each", pth_cmd_features},
    {"eval", "cross-validate learners on unseen subjects; comparison table or JSON", pth_cmd_eval},
    {"train", "fit one learner on a dataset and save a model file", pth_cmd_train},
    {"predict", "apply a saved model to new recordings: probabilities per recording", pth_cmd_predict},
    {"text", "text: empathy/distress regression, emotion classification", pth_cmd_text},
    {"version", "print the version", pth_cmd_version},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int pth_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("pathos %s\n", PATHOS_VERSION);
    return 0;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: pathos <command> [options]\n\n"
                "Empathy and emotion detection from privacy-preserving features.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\nRun 'pathos <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    pth_cli_init_env(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return pth_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pathos: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
