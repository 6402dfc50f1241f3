/* Ops on indices and labels: one_hot, argmax, gather (row lookup, for embeddings), accuracy,
 * and print (tf.Print: passes its input through and prints chosen tensors). */
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"

static int is_index(gb_dtype t)
{
    return t == GB_I32 || t == GB_I64;
}

static int64_t index_at(const gb_tensor *t, int64_t i)
{
    return t->dtype == GB_I32 ? ((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* ---- one_hot(indices, depth) -> float32 [..., depth] ---- */

static gb_status one_hot_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                               gb_shape *shape, char *err, size_t err_size)
{
    if (!is_index(dt[0]) || sh[0].rank >= GB_MAX_RANK || n->attr.count <= 0) {
        snprintf(err, err_size, "needs int32/int64 indices of rank < %d and a depth > 0", GB_MAX_RANK);
        return GB_EINVAL;
    }
    *dtype = n->attr.dtype;
    *shape = sh[0];
    shape->dim[shape->rank++] = n->attr.count;
    return GB_OK;
}

static gb_status one_hot_forward(const gb_kernel_args *k)
{
    int64_t n = gb_shape_elements(&k->in[0]->shape), depth = k->node->attr.count;
    if (n == 0) return GB_OK; /* an empty output may have no memory to clear */
    memset(k->out->data, 0, gb_tensor_bytes(k->out));
    for (int64_t i = 0; i < n; i++) {
        int64_t c = index_at(k->in[0], i);
        if (c < 0 || c >= depth) continue; /* out of range: an all-zero row, as in TensorFlow */
        if (k->out->dtype == GB_F64)
            ((double *)k->out->data)[i * depth + c] = 1;
        else
            ((float *)k->out->data)[i * depth + c] = 1;
    }
    return GB_OK;
}

static const gb_op_def op_one_hot = {"OneHot", one_hot_infer, one_hot_forward, NULL, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_one_hot_forward)};

gb_node *gb_one_hot(gb_graph *g, gb_node *indices, int64_t depth)
{
    gb_attrs attrs = {0};
    attrs.count = depth;
    attrs.dtype = GB_F32;
    return gb_node_create(g, &op_one_hot, "one_hot", &indices, 1, &attrs);
}

/* ---- argmax over the last axis -> int64 ---- */

static gb_status argmax_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    char buf[96];
    if (sh[0].rank < 1 || gb_dtype_size(dt[0]) == 0 || dt[0] == GB_BOOL) {
        snprintf(err, err_size, "needs a numeric tensor of rank >= 1");
        return GB_EINVAL;
    }
    if (sh[0].dim[sh[0].rank - 1] == 0) { /* no element to pick (TensorFlow's wording) */
        snprintf(err, err_size, "reduction axis %d is empty in shape %s", sh[0].rank - 1,
                 gb_shape_format(&sh[0], buf, sizeof buf));
        return GB_ESHAPE;
    }
    *dtype = GB_I64;
    *shape = sh[0];
    shape->rank--;
    return GB_OK;
}

/* Compared in x's own type: through double, int64 values past 2^53 tied (argmax [2^53, 2^53 + 1]
 * was 0). The first of equal maxima, and NaN above every number (the first NaN), as NumPy. */
#define ARGMAX_ROWS(T)                                                                   \
    for (int64_t r = 0; r < rows; r++) {                                                 \
        const T *row = (const T *)x->data + r * cols;                                    \
        int64_t best = 0;                                                                \
        T best_value = row[0];                                                           \
        for (int64_t c = 1; c < cols; c++) {                                             \
            T v = row[c];                                                                \
            if (v > best_value || (v != v && best_value == best_value)) best = c, best_value = v; \
        }                                                                                \
        out[r] = best;                                                                   \
    }

static gb_status argmax_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    int64_t cols = x->shape.dim[x->shape.rank - 1], rows = cols ? gb_shape_elements(&x->shape) / cols : 0;
    int64_t *out = k->out->data;
    switch (x->dtype) {
    case GB_F32: ARGMAX_ROWS(float) break;
    case GB_F64: ARGMAX_ROWS(double) break;
    case GB_I32: ARGMAX_ROWS(int32_t) break;
    default: ARGMAX_ROWS(int64_t) break;
    }
    return GB_OK;
}

static const gb_op_def op_argmax = {"ArgMax", argmax_infer, argmax_forward, NULL, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_argmax_forward)};

gb_node *gb_argmax(gb_graph *g, gb_node *x)
{
    return gb_node_create(g, &op_argmax, "ArgMax", &x, 1, NULL);
}

gb_node *gb_accuracy(gb_graph *g, gb_node *logits, gb_node *labels)
{
    gb_node *predicted = gb_argmax(g, logits);
    gb_node *correct = gb_equal(g, predicted, labels && labels->dtype != GB_I64 ? gb_cast(g, labels, GB_I64) : labels);
    return gb_reduce_mean(g, gb_cast(g, correct, GB_F32), GB_ALL_AXES, 0);
}

/* ---- gather rows: params [V, ...], indices [N] -> [N, ...] ---- */

static gb_status gather_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    if (sh[0].rank < 1 || !is_index(dt[1]) || sh[1].rank + sh[0].rank - 1 > GB_MAX_RANK) {
        snprintf(err, err_size, "needs params of rank >= 1 and int32/int64 indices");
        return GB_EINVAL;
    }
    *dtype = dt[0];
    shape->rank = 0;
    for (int i = 0; i < sh[1].rank; i++) shape->dim[shape->rank++] = sh[1].dim[i];
    for (int i = 1; i < sh[0].rank; i++) shape->dim[shape->rank++] = sh[0].dim[i];
    return GB_OK;
}

static gb_status gather_forward(const gb_kernel_args *k)
{
    const gb_tensor *params = k->in[0], *indices = k->in[1];
    int64_t rows = params->shape.dim[0], n = gb_shape_elements(&indices->shape);
    size_t row_bytes = rows ? gb_tensor_bytes(params) / (size_t)rows : 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = index_at(indices, i);
        if (r < 0 || r >= rows)
            return gb_fail(GB_EINVAL, "index %lld at position %lld is outside [0, %lld)", (long long)r, (long long)i,
                           (long long)rows);
        if (row_bytes) /* rows of no elements may have no memory */
            memcpy((char *)k->out->data + (size_t)i * row_bytes, (const char *)params->data + (size_t)r * row_bytes,
                   row_bytes);
    }
    return GB_OK;
}

/* GatherGrad(dy, indices, params): zeros of params' shape with dy's rows added at the indices. */
static gb_status gather_grad_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                   gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[2];
    return GB_OK;
}

static gb_status gather_grad_forward(const gb_kernel_args *k)
{
    const gb_tensor *dy = k->in[0], *indices = k->in[1];
    int64_t rows = k->out->shape.dim[0], n = gb_shape_elements(&indices->shape);
    int64_t width = rows ? gb_shape_elements(&k->out->shape) / rows : 0;
    if (gb_tensor_bytes(k->out) == 0) return GB_OK; /* no memory to clear, nothing to add */
    memset(k->out->data, 0, gb_tensor_bytes(k->out));
    for (int64_t i = 0; i < n; i++) {
        int64_t r = index_at(indices, i);
        if (r < 0 || r >= rows) continue; /* the forward pass already refused it */
        if (dy->dtype == GB_F64)
            for (int64_t c = 0; c < width; c++) ((double *)k->out->data)[r * width + c] += ((const double *)dy->data)[i * width + c];
        else
            for (int64_t c = 0; c < width; c++) ((float *)k->out->data)[r * width + c] += ((const float *)dy->data)[i * width + c];
    }
    return GB_OK;
}

/* UnsortedSegmentSum(data, indices, like) is linear in data: its gradient gathers the rows back
 * (second derivatives through a gather). */
static void gather_grad_gradient(gb_graph *g, gb_node *n, gb_node *u, gb_node **dx)
{
    dx[0] = gb_gather(g, u, n->inputs[1]);
}

static const gb_op_def op_gather_grad = {"UnsortedSegmentSum", gather_grad_infer, gather_grad_forward,
                                         gather_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_gather_grad_forward)};

static void gather_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *inputs[3] = {dy, n->inputs[1], n->inputs[0]};
    dx[0] = gb_node_create(g, &op_gather_grad, "UnsortedSegmentSum", inputs, 3, NULL);
}

static const gb_op_def op_gather = {"GatherV2", gather_infer, gather_forward, gather_gradient, 0, 0, 0, 0,
                                    GB_CUDA_KERNEL(gb_cuda_gather_forward)};

gb_node *gb_gather(gb_graph *g, gb_node *params, gb_node *indices)
{
    gb_node *inputs[2] = {params, indices};
    return gb_node_create(g, &op_gather, "GatherV2", inputs, 2, NULL);
}

/* ---- print ---- */

static gb_status print_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                             gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

static gb_status print_forward(const gb_kernel_args *k)
{
    const gb_node *n = k->node;
    int64_t summarize = n->attr.count > 0 ? n->attr.count : 3;
    fputs(n->attr.message ? n->attr.message : "", stderr);
    for (size_t i = 1; i < n->n_inputs; i++) {
        const gb_tensor *t = k->in[i];
        int64_t count = gb_shape_elements(&t->shape);
        fputc('[', stderr);
        for (int64_t j = 0; j < count && j < summarize; j++) {
            char buf[40];
            double v = gb_tensor_get(t, j);
            if (t->dtype == GB_F32)
                gb_format_f32(buf, sizeof buf, (float)v);
            else if (t->dtype == GB_I64) /* exactly: a double has 53 bits */
                snprintf(buf, sizeof buf, "%" PRId64, ((const int64_t *)t->data)[j]);
            else
                snprintf(buf, sizeof buf, "%.17g", v);
            fprintf(stderr, "%s%s", j ? " " : "", buf);
        }
        fputs(count > summarize ? "...]" : "]", stderr);
    }
    fputc('\n', stderr);
    return GB_OK;
}

static void print_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    (void)g, (void)n;
    dx[0] = dy;
}

static const gb_op_def op_print = {"Print", print_infer, print_forward, print_gradient, 1, 0, 0, 0, NULL};

gb_node *gb_print(gb_graph *g, gb_node *x, const char *message, size_t n, gb_node *const *tensors, int summarize)
{
    gb_node *inputs[8] = {x};
    if (n > 7) {
        if (g && g->status == GB_OK) gb_graph_fail(g, GB_EINVAL, "print: at most 7 tensors, got %zu", n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) inputs[i + 1] = tensors[i];
    gb_attrs attrs = {0};
    attrs.message = (char *)message;
    attrs.count = summarize;
    return gb_node_create(g, &op_print, "Print", inputs, n + 1, &attrs);
}
