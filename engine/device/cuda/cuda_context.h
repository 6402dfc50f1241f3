/* Private: a CUDA session's device state, shared by the files of device/cuda.
 *
 *   gb_cuda_session *cs = gb_session_cuda(s);
 *   gb_cu_unary p = {...};
 *   st = gb_cuda_launch(cs, GB_KERNEL_UNARY, gb_cuda_grid(cs, n), 256, &p);
 *
 * Everything runs on the session's one stream, in the primary context of the first GPU. */
#ifndef GB_CUDA_CONTEXT_H
#define GB_CUDA_CONTEXT_H

#include <stdint.h>

#include "device/cuda/cuda_api.h"
#include "device/cuda/cuda_params.h"
#include "internal/cuda_backend.h"

typedef enum gb_cuda_kernel {
    GB_KERNEL_UNARY, GB_KERNEL_CAST, GB_KERNEL_BINARY, GB_KERNEL_BROADCAST, GB_KERNEL_BIAS_ACT, GB_KERNEL_ACT_GRAD,
    GB_KERNEL_FILL, GB_KERNEL_REDUCE_ROWS, GB_KERNEL_REDUCE_COLUMNS, GB_KERNEL_REDUCE_FINISH, GB_KERNEL_COPY,
    GB_KERNEL_GATHER, GB_KERNEL_SCATTER_ADD, GB_KERNEL_SOFTMAX, GB_KERNEL_SPARSE_XENT, GB_KERNEL_DENSE_XENT,
    GB_KERNEL_ARGMAX, GB_KERNEL_ONE_HOT, GB_KERNEL_DROPOUT, GB_KERNEL_SCHEDULE, GB_KERNEL_APPLY, GB_KERNEL_SEGMENT_KEYS, GB_KERNEL_SORT_STEP, GB_KERNEL_SORT_BLOCK,
    GB_KERNEL_SEGMENT_CHUNKS, GB_KERNEL_SEGMENT_SUMS, GB_KERNEL_COUNT
} gb_cuda_kernel;

struct gb_cuda_session {
    const gb_cuda_api *api;
    CUdevice device;
    CUcontext context;
    CUstream stream;
    CUmodule module;
    CUfunction kernels[GB_KERNEL_COUNT];
    cublasHandle_t blas;
    CUdeviceptr blas_workspace;
    int tf32;
    int sm_count;
    int run_dependent; /* set by a kernel whose launch depends on the run (no CUDA graph then) */
    CUdeviceptr *vars; /* by variable_index, 0 until first used */
    size_t n_vars;
    CUdeviceptr *consts; /* by node id: constants' values, uploaded once */
    size_t n_consts;
    gb_cuda_error_word *error;      /* device: the kernels' error word */
    gb_cuda_error_word *error_host; /* pinned: its copy after a run */
    int64_t *dropout_step;          /* device: global_step as the run started (dropout masks) */
    void *reduce_partials;          /* device: split reductions' partial results (GB_REDUCE_PARTIALS) */
    void *scratch;                  /* device: the running plan's scratch (cuda_plan.c's scratch_users) */
    size_t scratch_bytes;
    int dropout_step_set;           /* this run copied it there (cuda_plan.c copy_in) */
    const gb_node **fresh;          /* variables this run's queued Assigns initialise: */
    size_t n_fresh, fresh_cap;      /* uninitialised again if the run fails */
    gb_cu_apply_batch updates;      /* queued, launched together by gb_cuda_flush_updates */
    int queue_updates;              /* set while a run may queue them (not when timing each node) */
    gb_session *owner;              /* whose cached plans give memory back (gb_cuda_alloc) */
    char description[256];
};

/* Makes the session's context current on the calling thread (runs may come from any thread). */
gb_status gb_cuda_enter(gb_cuda_session *cs);

/* Launches kernel k with `grid` blocks of `block` threads on the session's stream. */
gb_status gb_cuda_launch(gb_cuda_session *cs, gb_cuda_kernel k, unsigned grid, unsigned block, const void *params);

/* Blocks for a grid-stride loop over n items with 256 threads each: enough to fill the GPU,
 * never more than the items need (at least 1). */
unsigned gb_cuda_grid(const gb_cuda_session *cs, int64_t n);

/* Queues an optimizer's update of one variable (launched at once when queueing is off or the
 * batch is full). See cuda_updates.c. */
gb_status gb_cuda_queue_update(gb_cuda_session *cs, const gb_cu_apply *update);

/* Launches the queued updates, if any, as one kernel. */
gb_status gb_cuda_flush_updates(gb_cuda_session *cs);

/* Whether `bytes` at device address `data` are written by a queued update, or (writes set) read
 * by one: a node touching them must wait for the queue to be flushed. */
int gb_cuda_updates_touch(const gb_cuda_session *cs, const void *data, size_t bytes, int writes);

/* bytes of device memory for `what` into *ptr. Out of memory, the session's other cached plans
 * give theirs back and the allocation is tried once more; then GB_ENOMEM says how much was asked
 * and how much the GPU has free. */
gb_status gb_cuda_alloc(gb_cuda_session *cs, CUdeviceptr *ptr, size_t bytes, const char *what);

/* The device storage of variable v in *out, allocated on first use. */
gb_status gb_cuda_variable(gb_cuda_session *cs, const gb_node *v, CUdeviceptr *out);

/* The device copy of constant node n in *out, uploaded on first use. */
gb_status gb_cuda_constant(gb_cuda_session *cs, const gb_node *n, CUdeviceptr *out);

#endif
