/* bench_writer: how fast the event writer logs scalars, and how fast `gradboard events` (--check and the table)
 * verifies what it wrote. Prints "name value unit" lines that tools/bench/run.sh tabulates.
 *
 *   bench_writer DIR GRADBOARD_BINARY [SCALARS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "gradboard/summary.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_writer: %s: %s\n", what, gb_errmsg());
    exit(1);
}

/* Logs `scalars` values, `per_event` tags per event; returns seconds, open to close. */
static double run_writer(const char *logdir, long scalars, int per_event, char *path_out, size_t path_size)
{
    static const char *const tags[8] = {"train/loss", "train/accuracy", "train/lr", "test/loss",
                                        "test/accuracy", "grad/norm", "weights/norm", "time/step"};
    double values[8];
    double start = now_seconds();
    gb_writer *w;
    if (gb_writer_open(&w, logdir, NULL) != GB_OK) die("open");
    long events = scalars / per_event;
    for (long step = 0; step < events; step++) {
        gb_status st;
        if (per_event == 1) {
            st = gb_summary_scalar(w, "train/loss", step, 1.0 / (double)(step + 1));
        } else {
            for (int i = 0; i < per_event; i++) values[i] = (double)step * 0.001 + i;
            st = gb_summary_scalars(w, step, (size_t)per_event, tags, values);
        }
        if (st != GB_OK) die("log");
    }
    snprintf(path_out, path_size, "%s", gb_writer_path(w));
    if (gb_writer_close(w) != GB_OK) die("close");
    return now_seconds() - start;
}

/* Removes a run's files once timed, so that their dirty pages do not throttle the next run. */
static void remove_tree(const char *dir)
{
    char command[8300];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) fprintf(stderr, "bench_writer: could not remove %s\n", dir);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_writer DIR GRADBOARD_BINARY [SCALARS]\n");
        return 2;
    }
    long scalars = argc > 3 ? strtol(argv[3], NULL, 10) : 5000000;
    char logdir[4096], path[4096], command[8192];

    /* warm-up, so the page cache and the allocator are in their steady state */
    snprintf(logdir, sizeof logdir, "%s/warmup", argv[1]);
    run_writer(logdir, scalars / 10, 1, path, sizeof path);

    snprintf(logdir, sizeof logdir, "%s/one_tag_per_event", argv[1]);
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        char rep_dir[4200];
        snprintf(rep_dir, sizeof rep_dir, "%s/%d", logdir, rep);
        double t = run_writer(rep_dir, scalars, 1, path, sizeof path);
        if (t < best) best = t;
        if (rep < 2) remove_tree(rep_dir); /* the last is read back below */
    }
    printf("write_scalar %.0f scalars/s (%ld scalars, best of 3, %.3f s, %lld bytes)\n", (double)scalars / best,
           scalars, best, file_size(path));

    char many_path[4096];
    /* best of 3 as well: one run alone swung threefold with the writeback of the files before it */
    double t8 = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        snprintf(logdir, sizeof logdir, "%s/eight_tags_per_event/%d", argv[1], rep);
        double t = run_writer(logdir, scalars, 8, many_path, sizeof many_path);
        if (t < t8) t8 = t;
        remove_tree(logdir);
    }
    printf("write_scalars8 %.0f scalars/s (%ld scalars in events of 8, best of 3, %.3f s)\n", (double)scalars / t8,
           scalars, t8);

    /* reading the one-tag file back: records = scalars + the file-version record */
    static const struct { const char *name, *options, *what; } reads[] = {
        {"check", "--check", "records/s (CRCs and framing, whole process)"},
        {"read_events", "", "events/s (every event parsed and its value decoded into the tag table, whole process)"},
    };
    for (size_t r = 0; r < sizeof reads / sizeof *reads; r++) {
        snprintf(command, sizeof command, "%s events %s '%s' > /dev/null", argv[2], reads[r].options, path);
        double read_best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double start = now_seconds();
            if (system(command) != 0) {
                fprintf(stderr, "bench_writer: '%s' failed\n", command);
                return 1;
            }
            double t = now_seconds() - start;
            if (t < read_best) read_best = t;
        }
        printf("%s %.0f %s, %ld records, best of 3, %.3f s\n", reads[r].name, (double)(scalars + 1) / read_best,
               reads[r].what, scalars + 1, read_best);
    }
    printf("one_tag_file %s\n", path);
    return 0;
}
