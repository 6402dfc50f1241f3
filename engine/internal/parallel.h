/* Private: a small pool that runs the chunks of a loop on the cores OpenBLAS does not use
 * between its calls (memory-bound optimizer updates and large elementwise loops).
 *
 *   static void scale(void *ctx, int64_t begin, int64_t end) { ... elements [begin, end) ... }
 *   gb_parallel_for(n, 1 << 14, scale, &args);   // returns when every chunk is done
 *
 * Chunks are fixed ranges, so results do not depend on which thread ran which chunk. The caller
 * takes chunks too: if a worker is slow to wake, the caller does the work itself. */
#ifndef GB_INTERNAL_PARALLEL_H
#define GB_INTERNAL_PARALLEL_H

#include <stdint.h>

typedef void gb_range_fn(void *ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) in chunks of grain elements, on this thread and the pool's workers. Small
 * loops (under two chunks) run here alone. Not reentrant: fn must not call gb_parallel_for. */
void gb_parallel_for(int64_t n, int64_t grain, gb_range_fn *fn, void *ctx);

/* Threads taking part, this one included (GB_NUM_THREADS, else OpenBLAS's thread count). */
int gb_parallel_threads(void);

#endif
