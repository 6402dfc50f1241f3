/* Private: the layout of an execution plan, for the executors (plan.c on the CPU,
 * device/cuda/cuda_plan.c on the GPU). */
#ifndef GB_ENGINE_PLAN_IMPL_H
#define GB_ENGINE_PLAN_IMPL_H

#include <time.h>

#include "internal/plan.h"

enum { NO_BUFFER = -1 };

struct gb_plan {
    /* the key */
    unsigned generation, edits;
    size_t node_count;
    size_t *fetch_ids, n_fetches;
    size_t *feed_ids, n_feeds;
    gb_dtype *feed_dtypes;
    gb_shape *feed_shapes;

    gb_node **order;           /* nodes to compute, inputs before users */
    size_t n_order;
    gb_tensor *values;         /* by node id: run-time dtype, shape and data */
    int32_t *buffer_of;        /* by node id: index into buffers, or NO_BUFFER */
    void **buffers;            /* host memory, NULL in plans for a device */
    size_t *buffer_bytes;
    size_t n_buffers;
    const gb_tensor **inputs;  /* scratch for one node's input pointers */
    gb_node **fused_add;       /* by node id: the bias add an activation absorbs, else NULL */
    gb_node **fused_matmul;    /* by node id: the gradient MatMul an ApplyGradientDescent
                                * computes into its variable (CPU plans), else NULL */
    gb_node **fused_scale;     /* by node id: the Mul (the variable times a scalar) an Assign
                                * computes in place (Adam's beta powers), else NULL */
    const gb_node **init_into; /* by node id: the variable an initialiser writes straight into
                                * (CPU plans: its Assign then copies nothing), else NULL */
    void *device_state;        /* a CUDA session's buffers and captured graph for this plan */
};

/* Bytes of a value's data at its run-time shape. */
size_t gb_plan_value_bytes(const gb_tensor *t);

/* ---- shared by the executors ---- */

/* Microseconds since t0 (CLOCK_MONOTONIC). */
double gb_plan_micros_since(const struct timespec *t0);

/* Fills one node's stats: its time [start, end) in microseconds and its output. */
void gb_plan_record_stats(const gb_plan *p, gb_node_stats *ns, const gb_node *n, double start, double end,
                          const gb_tensor *out);

/* The first element of t (host memory) that is NaN or infinite, or -1 (integer tensors: -1). */
int64_t gb_plan_first_non_finite(const gb_tensor *t);

/* check_numerics' GB_ENUMERIC: `what` ("op", "variable", "the value fed to") n made or holds a
 * NaN or infinity at element `at` of t (host memory). */
gb_status gb_plan_numeric_error(const char *what, const gb_node *n, const gb_tensor *t, int64_t at);

/* A node's failure: the current message prefixed with "<name> (<type>): ". */
gb_status gb_plan_node_error(gb_status st, const gb_node *n);

#endif
