/* Private: the parameter blocks of the CUDA kernels, shared by the host code (gcc, which fills
 * them) and the kernels (nvcc). Each kernel takes one of these by value, so both compilers must lay
 * them out alike: only fixed-width integers, doubles and pointers, widest first.
 *
 * Element types are passed as gb_dtype codes (GB_F32 = 1, GB_F64 = 2, GB_I32 = 3, GB_I64 = 9,
 * GB_BOOL = 10) and op variants as the codes of internal/op_kinds.h. */
#ifndef GB_CUDA_PARAMS_H
#define GB_CUDA_PARAMS_H

#include <stdint.h>

enum { GB_CUDA_MAX_RANK = 8 };

/* Threads per block of every launch, and rows per block of the row kernels (a warp each): the
 * kernels size their shared memory and split their work by these. */
enum { GB_CUDA_THREADS = 256, GB_CUDA_ROW_WARPS = GB_CUDA_THREADS / 32 };

/* Kernel errors, reported through a word in device memory (zeroed as a run starts) that the host
 * reads after the run: the first kernel to fail writes its node's id + 1, and its threads that
 * fail keep the smallest failing position there as its complement (atomicMax over zeros), so
 * the error names the first bad element whichever thread got there first. The host reads the
 * offending value itself. */
typedef struct gb_cuda_error_word {
    unsigned long long node_plus_one;
    unsigned long long position_complement;
} gb_cuda_error_word;

/* y = op(x), elementwise, same dtype. */
typedef struct gb_cu_unary {
    const void *x;
    void *y;
    int64_t n;
    double alpha; /* leaky relu */
    int32_t kind, dtype;
} gb_cu_unary;

/* y = cast(x). */
typedef struct gb_cu_cast {
    const void *x;
    void *y;
    int64_t n;
    int32_t from, to;
} gb_cu_cast;

/* o = op(a, b) with broadcasting: the output is contiguous; sa/sb are the inputs' strides (0 on
 * broadcast axes) for each of the `rank` coalesced output axes. */
typedef struct gb_cu_binary {
    const void *a, *b;
    void *o;
    int64_t n;
    int64_t dim[GB_CUDA_MAX_RANK], sa[GB_CUDA_MAX_RANK], sb[GB_CUDA_MAX_RANK];
    int32_t rank, kind, dtype; /* dtype of the inputs; comparisons write bytes */
} gb_cu_binary;

/* y[i] = x[broadcast index of i] * scale (the gradient of a sum or mean). */
typedef struct gb_cu_broadcast {
    const void *x;
    void *y;
    int64_t n;
    double scale;
    int64_t dim[GB_CUDA_MAX_RANK], sx[GB_CUDA_MAX_RANK];
    int32_t rank, dtype;
} gb_cu_broadcast;

/* act(x + bias): x [rows, cols], bias [cols]. */
typedef struct gb_cu_bias_act {
    const void *x, *bias;
    void *y;
    int64_t rows, cols;
    int32_t kind, dtype;
} gb_cu_bias_act;

/* The activations' gradients: o = f(a, b), see gb_grad_kind. */
typedef struct gb_cu_act_grad {
    const void *a, *b;
    void *o;
    int64_t n;
    double alpha;
    int32_t kind, dtype;
} gb_cu_act_grad;

/* A reduction: outputs y[o] (contiguous) of the elements of x found by splitting o over the kept
 * axes (out_dim, out_stride: x's strides) and r < per_output over the reduced axes (red_dim,
 * red_stride). kind: GB_REDUCE_SUM or GB_REDUCE_MAX; the sum is multiplied by scale (means).
 * splits > 1: each output's r are cut into `splits` runs of `chunk`, reduced by as many blocks
 * into partial[o * splits + run] (double for sums, else x's type), which gb_k_reduce_finish
 * combines in order: few outputs over many elements then still fill the GPU. */
enum { GB_REDUCE_PARTIALS = 1 << 16 }; /* the session's partial buffer, in 8-byte elements */
typedef struct gb_cu_reduce {
    const void *x;
    void *y;
    int64_t outputs, per_output;
    double scale;
    int64_t out_dim[GB_CUDA_MAX_RANK], out_stride[GB_CUDA_MAX_RANK];
    int64_t red_dim[GB_CUDA_MAX_RANK], red_stride[GB_CUDA_MAX_RANK];
    int32_t out_rank, red_rank, kind, dtype;
    int32_t warp_per_output; /* innermost axis reduced: a warp per output, else a block */
    int32_t splits;
    int64_t chunk;
    void *partial;
} gb_cu_reduce;

/* Row-wise ops over the last axis of x [rows, cols]. */
typedef struct gb_cu_rows {
    const void *x;      /* logits */
    const void *labels; /* sparse: int labels [rows]; dense: float labels [rows, cols] */
    const void *dy;     /* gradients: the upstream gradient [rows] */
    void *y;
    gb_cuda_error_word *error;
    int64_t rows, cols;
    uint64_t node_id;
    int32_t dtype, labels_dtype;
    int32_t log_form; /* softmax: 1 for log-softmax */
} gb_cu_rows;

/* A strided copy: element i of the box dim[] (row-major) goes from x[x_base + offset(i, sx)] to
 * y[y_base + offset(i, sy)], elements of esize bytes: transpose, slice and its gradient, concat. */
typedef struct gb_cu_copy {
    const void *x;
    void *y;
    int64_t n, x_base, y_base;
    int64_t dim[GB_CUDA_MAX_RANK], sx[GB_CUDA_MAX_RANK], sy[GB_CUDA_MAX_RANK];
    int32_t rank, esize;
} gb_cu_copy;

/* Gather: y [n, width] = the rows indices[j] of x [rows, width], an index outside [0, rows)
 * reported in error. Scatter-add (its gradient): y [rows, width], cleared first, += x [n, width]
 * at the indices, the ones outside skipped. */
typedef struct gb_cu_gather {
    const void *x, *indices;
    void *y;
    gb_cuda_error_word *error;
    uint64_t node_id;
    int64_t n, rows, width;
    int32_t esize, index_dtype, dtype;
} gb_cu_gather;

/* Gather's gradient in the indices' order (kernels/segments.cuh), so that its float sums are the
 * same bits run to run. keys[j] = row << 32 | j for each index j (GB_SEGMENT_NONE rows for
 * indices outside [0, rows), all ones for the padding up to `padded`, a power of two) are sorted
 * (bitonic); then each row's run of positions is summed in order, straight for runs up to
 * GB_SEGMENT_DIRECT positions (the CPU's sum, bit for bit), else through the sums of the aligned
 * chunks of GB_SEGMENT_CHUNK positions inside it (a padding id repeated 10^5 times is not one
 * thread's walk). Sorting steps: gb_k_sort_step compares elements j apart for the bitonic stage
 * of size k; gb_k_sort_block does stages k .. k_last for j < GB_SORT_BLOCK in shared memory. */
enum { GB_SEGMENT_DIRECT = 128, GB_SEGMENT_CHUNK = 32, GB_SORT_BLOCK = 2 * GB_CUDA_THREADS };
#define GB_SEGMENT_NONE 0xffffffffull
typedef struct gb_cu_segments {
    const void *x, *indices;
    void *y;
    unsigned long long *keys; /* [padded] */
    void *chunk_sums;         /* [n / GB_SEGMENT_CHUNK, width], x's type */
    int64_t n, padded, rows, width;
    int64_t k, k_last, j;
    int32_t index_dtype, dtype;
} gb_cu_segments;

/* one_hot(indices) and argmax over the last axis. */
typedef struct gb_cu_index {
    const void *x;
    void *y;
    int64_t n, depth; /* one_hot: n indices; argmax: n rows of depth columns */
    int32_t x_dtype, y_dtype;
} gb_cu_index;

/* Dropout: element i kept when word i % 4 of Philox4x32-10(key = seed; counter = (run, i - i % 4))
 * is at least `threshold`, then scaled. The run comes from *step (global_step) when step is set. */
typedef struct gb_cu_dropout {
    const void *x;
    void *y;
    const int64_t *step;
    int64_t n;
    uint64_t seed, run, threshold;
    double scale;
    int32_t dtype;
} gb_cu_dropout;

/* The learning-rate schedules: *y = schedule(*step), float32. */
typedef struct gb_cu_schedule {
    const int64_t *step;
    float *y;
    double lr, steps, factor;
    int32_t kind, staircase;
} gb_cu_schedule;

/* Fills: y = value. */
typedef struct gb_cu_fill {
    void *y;
    int64_t n;
    double value;
    int32_t dtype;
} gb_cu_fill;

/* The optimizers' fused update of one variable: var, its slots and the gradient. lr is a device
 * scalar of the variable's dtype; beta powers (Adam) are the slot variables' storage. */
typedef struct gb_cu_apply {
    void *var, *slot0, *slot1;
    const gb_cuda_error_word *error; /* skipped when an earlier kernel of the run failed (bad labels),
                                      * as the CPU stops before the updates */
    const void *beta1_power, *beta2_power;
    const void *grad, *lr;
    int64_t n;
    double alpha, beta, epsilon, delta; /* momentum / beta1, beta2, epsilon, weight decay */
    int32_t kind, dtype, flag;          /* flag: nesterov */
} gb_cu_apply;

enum { GB_CU_APPLY_SGD, GB_CU_APPLY_MOMENTUM, GB_CU_APPLY_ADAM, GB_CU_APPLY_RMSPROP, GB_CU_APPLY_ADAGRAD,
       GB_CU_APPLY_SCALE, /* var = var * grad[0] (Adam's beta powers: see plan.c fuse_scale_assigns) */
       GB_CU_APPLY_ADD,   /* var += grad, float or integer (AssignAdd: a step's global_step) */
       GB_CU_APPLY_COPY   /* var = grad, any dtype (Assign) */ };

/* Up to GB_APPLY_BATCH updates in one launch (a step's updates are queued, see cuda_updates.c):
 * blocks [first_block[i], first_block[i + 1]) update variable i. About 2 KB, within the 4 KB
 * every driver takes as kernel parameters. */
enum { GB_APPLY_BATCH = 16 };
typedef struct gb_cu_apply_batch {
    gb_cu_apply update[GB_APPLY_BATCH];
    uint32_t first_block[GB_APPLY_BATCH + 1];
    int32_t count;
} gb_cu_apply_batch;

#endif
