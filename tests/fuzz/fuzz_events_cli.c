/* `gradboard events` on a log directory of three runs made from the input (two length prefixes
 * split it), in the mode the first byte picks: the table, --json, --check or --csv. Output and
 * messages go to /dev/null; the exit code must be one the tool documents. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz_util.h"

static void put_file(const char *name, const uint8_t **data, size_t *size, size_t want)
{
    size_t n = want < *size ? want : *size;
    fuzz_write(name, *data, n);
    *data += n, *size -= n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 4;
    data++, size--;
    size_t a = fuzz_take_u32(&data, &size) % 65536, b = fuzz_take_u32(&data, &size) % 65536;
    fuzz_clear();
    put_file("logs/a/events.out.tfevents.1.fuzz.1", &data, &size, a);
    put_file("logs/b/events.out.tfevents.2.fuzz.2", &data, &size, b);
    put_file("logs/b/sub/events.out.tfevents.3.fuzz.3", &data, &size, size);

    char logdir[512];
    snprintf(logdir, sizeof logdir, "%s/logs", fuzz_dir());
    char *argvs[4][6] = {{"events", logdir, NULL},
                         {"events", logdir, "--json", NULL},
                         {"events", logdir, "--check", NULL},
                         {"events", logdir, "--csv", "--tag", "loss", NULL}};
    static const int argcs[4] = {2, 3, 3, 5};

    fflush(stdout), fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    int code = cmd_events(argcs[mode], argvs[mode]);
    fflush(stdout), fflush(stderr);
    dup2(saved_out, 1), dup2(saved_err, 2);
    close(saved_out), close(saved_err), close(null);
    if (code != EXIT_OK && code != EXIT_DATA_ERROR) abort(); /* a usage error cannot happen here */
    return 0;
}
