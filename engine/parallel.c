/* The worker pool behind gb_parallel_for. Workers spin briefly after a loop (training steps
 * issue loops microseconds apart), yielding so OpenBLAS's own threads still get the cores, and
 * then sleep on a condition variable.
 *
 * Publishing a loop is a handshake on two counters, both sequentially consistent: the caller
 * makes `generation` odd (a loop is being written), waits until no worker is `active`, writes
 * the loop, and makes `generation` even. A worker marks itself active and then rechecks the
 * generation it saw, so it either sees the odd value and backs off, or the caller sees it active
 * and waits: no worker ever reads a loop while it is being written. */
#include "internal/parallel.h"
#include "internal/fp_mode.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

enum { MAX_THREADS = 64, SPINS_BEFORE_SLEEP = 20000 };

typedef struct pool {
    atomic_ulong generation;
    atomic_int active, sleeping;
    atomic_llong next_chunk, chunks_done;
    /* the loop, written only while generation is odd and no worker is active */
    gb_range_fn *fn;
    void *ctx;
    int64_t n, grain, chunks;
    unsigned fp_mode; /* the caller's floating-point mode, which the workers take on */
    pthread_mutex_t lock; /* for sleeping and waking only */
    pthread_cond_t wake;
    pthread_mutex_t callers; /* one loop at a time; other callers run theirs alone */
    int threads;
} pool;

static pool the_pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
                        .wake = PTHREAD_COND_INITIALIZER,
                        .callers = PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void run_chunks(pool *p)
{
    for (;;) {
        long long c = atomic_fetch_add(&p->next_chunk, 1);
        if (c >= p->chunks) return;
        int64_t begin = (int64_t)c * p->grain, end = begin + p->grain < p->n ? begin + p->grain : p->n;
        p->fn(p->ctx, begin, end);
        atomic_fetch_add(&p->chunks_done, 1);
    }
}

static void *worker(void *arg)
{
    pool *p = arg;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g = atomic_load(&p->generation);
        for (int spin = 0; (g == seen || (g & 1)) && spin < SPINS_BEFORE_SLEEP; spin++) {
            if (spin % 64 == 63) sched_yield();
            g = atomic_load(&p->generation);
        }
        if (g == seen || (g & 1)) {
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleeping, 1);
            while ((g = atomic_load(&p->generation)) == seen || (g & 1)) pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->lock);
        }
        atomic_fetch_add(&p->active, 1);
        if (atomic_load(&p->generation) == g) {
            if (gb_fp_mode_get() != p->fp_mode) gb_fp_mode_set(p->fp_mode);
            run_chunks(p);
            seen = g;
        }
        atomic_fetch_sub(&p->active, 1);
    }
    return NULL;
}

static int configured_threads(void)
{
    const char *env = getenv("GB_NUM_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : openblas_get_num_threads();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (cores > 0 && n > cores) n = cores;
    return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static void start_pool(void)
{
    pool *p = &the_pool;
    p->threads = 1;
    int wanted = configured_threads();
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 1; i < wanted; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker, p) != 0) break; /* fewer workers: still correct */
        p->threads++;
    }
    pthread_attr_destroy(&attr);
}

int gb_parallel_threads(void)
{
    pthread_once(&pool_once, start_pool);
    return the_pool.threads;
}

void gb_parallel_for(int64_t n, int64_t grain, gb_range_fn *fn, void *ctx)
{
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    pool *p = &the_pool;
    if (n < 2 * grain || gb_parallel_threads() < 2 || pthread_mutex_trylock(&p->callers) != 0) {
        fn(ctx, 0, n);
        return;
    }
    atomic_fetch_add(&p->generation, 1); /* odd: writing */
    while (atomic_load(&p->active) != 0) sched_yield();
    p->fn = fn, p->ctx = ctx, p->n = n, p->grain = grain, p->chunks = (n + grain - 1) / grain;
    p->fp_mode = gb_fp_mode_get();
    atomic_store(&p->next_chunk, 0);
    atomic_store(&p->chunks_done, 0);
    atomic_fetch_add(&p->generation, 1); /* even: ready */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    run_chunks(p);
    while (atomic_load(&p->chunks_done) < p->chunks) sched_yield();
    pthread_mutex_unlock(&p->callers);
}
