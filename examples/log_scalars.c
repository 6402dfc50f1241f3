/* log_scalars: the smallest program that logs a run TensorBoard can show.
 *
 *   log_scalars [LOGDIR] [STEPS]      (default runs/log_scalars, 1000 steps)
 *
 * It writes a decaying "train/loss" with some noise, a rising "train/accuracy" and the learning
 * rate of a cosine schedule, the last two in one event per step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summary.h"

static double noise(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0 - 0.5;
}

int main(int argc, char **argv)
{
    const char *usage = "usage: log_scalars [LOGDIR] [STEPS > 0]   (default runs/log_scalars, 1000 steps)\n";
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    const char *logdir = argc > 1 ? argv[1] : "runs/log_scalars";
    char *end = NULL;
    long steps = argc > 2 ? strtol(argv[2], &end, 10) : 1000;
    /* an option-like or extra argument is a mistake, not a directory to create */
    if (steps <= 0 || (end && *end) || argc > 3 || logdir[0] == '-') {
        fputs(usage, stderr);
        return 2;
    }

    gb_writer *w;
    if (gb_writer_open(&w, logdir, NULL) != GB_OK) {
        fprintf(stderr, "log_scalars: %s\n", gb_errmsg());
        return 1;
    }
    uint64_t rng = 42;
    const double pi = 3.14159265358979323846;
    gb_status st = GB_OK;
    for (long step = 0; step < steps && st == GB_OK; step++) {
        double progress = (double)step / (double)steps;
        double loss = 2.3 * exp(-4.0 * progress) + 0.05 + 0.05 * noise(&rng);
        st = gb_summary_scalar(w, "train/loss", step, loss);
        const char *tags[] = {"train/accuracy", "train/learning_rate"};
        double values[] = {0.95 - 0.85 * exp(-5.0 * progress), 0.05 * 0.5 * (1.0 + cos(pi * progress))};
        if (st == GB_OK) st = gb_summary_scalars(w, step, 2, tags, values);
    }
    if (st != GB_OK) fprintf(stderr, "log_scalars: %s\n", gb_errmsg());
    printf("wrote %ld steps to %s\n", steps, gb_writer_path(w));
    gb_status closed = gb_writer_close(w);
    if (closed != GB_OK) fprintf(stderr, "log_scalars: %s\n", gb_errmsg());
    return st == GB_OK && closed == GB_OK ? 0 : 1;
}
