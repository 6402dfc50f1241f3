/* gradboard: inspect what the library writes. One subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gradboard/version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gradboard <command> [options]\n"
            "\n"
            "commands:\n"
            "  events PATH   list, export or check TensorBoard event files\n"
            "  ckpt ...      list, show, verify, compare, import or export TensorFlow checkpoints\n"
            "\n"
            "options:\n"
            "  -h, --help     this help ('gradboard <command> --help' for a command)\n"
            "  -V, --version  print the version\n"
            "\n"
            "exit codes: 0 ok, 1 data error, 2 usage error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("gradboard %s\n", gb_version());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "events"))
        return cmd_events(argc - 1, argv + 1);
    if (!strcmp(cmd, "ckpt"))
        return cmd_ckpt(argc - 1, argv + 1);
    fprintf(stderr, "gradboard: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
