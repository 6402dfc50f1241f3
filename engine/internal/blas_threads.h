/* Private: who parallelises a GEMM. OpenBLAS splits each call across its own threads, but on
 * the small GEMMs of a training step its split is poor (a 784x256x128 weight gradient ran no
 * faster on 2 threads than on 1), and its spinning threads compete with the pool's. While a
 * session runs, OpenBLAS is therefore kept to one thread and the MatMul kernel splits the output
 * across the pool (gb_parallel_for) itself: one set of threads, and 1.2-1.9x faster small GEMMs.
 *
 *   gb_blas_threads_enter();   // at the start of a run: OpenBLAS single-threaded if the pool has workers
 *   ... kernels ...
 *   gb_blas_threads_leave();   // at its end: the last run to leave restores the caller's setting
 *
 * Runs may overlap (sessions on several threads): the first to enter saves OpenBLAS's thread
 * count and the last to leave restores it. A program calling OpenBLAS itself on another thread
 * while a run is in progress gets a single-threaded call. */
#ifndef GB_INTERNAL_BLAS_THREADS_H
#define GB_INTERNAL_BLAS_THREADS_H

void gb_blas_threads_enter(void);
void gb_blas_threads_leave(void);

/* 1 while runs hold OpenBLAS to one thread (the MatMul kernel then splits its GEMMs itself). */
int gb_blas_threads_split(void);

#endif
