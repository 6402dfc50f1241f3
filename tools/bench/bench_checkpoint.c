/* bench_checkpoint: save and restore throughput of float32 variables through the checkpoint
 * format (every byte CRC-checked on restore), for run.sh to compare with TensorFlow's saver.
 *
 *   bench_checkpoint DIR MEGABYTES
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "gradboard/checkpoint.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_checkpoint DIR MEGABYTES\n");
        return 2;
    }
    long mb = strtol(argv[2], NULL, 10);
    enum { TENSORS = 16 };
    size_t per = (size_t)mb * 1024 * 1024 / TENSORS / 4; /* floats per tensor */
    float *data[TENSORS];
    for (int t = 0; t < TENSORS; t++) {
        data[t] = malloc(per * sizeof(float));
        for (size_t i = 0; i < per; i++) data[t][i] = (float)(i % 1000) * 0.001f + (float)t;
    }
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/bench.ckpt", argv[1]);
    /* saves alternate: durable (fsync, the default) and not (the page cache alone, like TensorFlow) */
    double best_save = 1e30, best_durable = 1e30, best_restore = 1e30;
    for (int rep = 0; rep < 6; rep++) {
        int durable = rep % 2;
        double t0 = now_seconds();
        gb_bundle_writer *w;
        bench_check(gb_bundle_writer_open(&w, prefix), "bench_checkpoint");
        gb_bundle_writer_set_durable(w, durable);
        for (int t = 0; t < TENSORS; t++) {
            char name[32];
            snprintf(name, sizeof name, "layer%02d/kernel", t);
            int64_t dims[2] = {(int64_t)per / 1024, 1024};
            bench_check(gb_bundle_add(w, name, 1, 2, dims, data[t], per * sizeof(float)), "bench_checkpoint");
        }
        bench_check(gb_bundle_writer_finish(w), "bench_checkpoint");
        double t1 = now_seconds();
        gb_bundle_reader *r;
        bench_check(gb_bundle_reader_open(&r, prefix), "bench_checkpoint");
        for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
            const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
            bench_check(gb_bundle_reader_read(r, e, data[i], (size_t)e->size), "bench_checkpoint");
        }
        gb_bundle_reader_close(r);
        double t2 = now_seconds();
        double *best = durable ? &best_durable : &best_save;
        if (t1 - t0 < *best) *best = t1 - t0;
        if (t2 - t1 < best_restore) best_restore = t2 - t1;
    }
    printf("save_%ldmb %.0f MB/s (%.3f s, page cache: no fsync, as TensorFlow)\n", mb, (double)mb / best_save, best_save);
    printf("save_durable_%ldmb %.0f MB/s (%.3f s, fsync of files and directory included)\n", mb,
           (double)mb / best_durable, best_durable);
    printf("restore_%ldmb %.0f MB/s (%.3f s, every CRC checked)\n", mb, (double)mb / best_restore, best_restore);
    for (int t = 0; t < TENSORS; t++) free(data[t]);
    return 0;
}
