/* The pathos command-line tool: one file per subcommand (cmd_*.c), dispatched from main.c. */
#ifndef PATHOS_CLI_H
#define PATHOS_CLI_H

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} pth_cli_command;

/* Subcommands register themselves in main.c's table. */
int pth_cmd_version(int argc, char **argv);
int pth_cmd_text(int argc, char **argv);      /* cmd_text.c */
int pth_cmd_eval(int argc, char **argv);      /* cmd_eval.c */
int pth_cmd_train(int argc, char **argv);     /* cmd_train.c */
int pth_cmd_predict(int argc, char **argv);   /* cmd_predict.c */

#endif
