/* OpenBLAS held to one thread while session runs are in progress (see internal/blas_threads.h). */
#include "internal/blas_threads.h"
#include "internal/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int runs, saved_threads;
static atomic_int splitting;

void gb_blas_threads_enter(void)
{
    if (gb_parallel_threads() < 2) return; /* no workers: OpenBLAS keeps its own threads */
    pthread_mutex_lock(&lock);
    if (runs++ == 0) {
        saved_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
        atomic_store(&splitting, 1);
    }
    pthread_mutex_unlock(&lock);
}

void gb_blas_threads_leave(void)
{
    if (gb_parallel_threads() < 2) return;
    pthread_mutex_lock(&lock);
    if (--runs == 0) {
        atomic_store(&splitting, 0);
        openblas_set_num_threads(saved_threads);
    }
    pthread_mutex_unlock(&lock);
}

int gb_blas_threads_split(void) { return atomic_load_explicit(&splitting, memory_order_relaxed); }
