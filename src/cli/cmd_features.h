/* `pathos features` (cmd_features.c) and `pathos synth` (cmd_synth.c); registered in main.c. */
#ifndef PATHOS_CLI_CMD_FEATURES_H
#define PATHOS_CLI_CMD_FEATURES_H

int pth_cmd_features(int argc, char **argv); /* per-recording summary features -> feature table */
int pth_cmd_synth(int argc, char **argv);    /* synthetic hri-empathy-format dataset */

#endif
