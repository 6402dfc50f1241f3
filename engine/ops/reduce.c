/* Reductions (sum, mean, max over axes) and the ops that undo broadcasting for gradients:
 * ReduceTo (sum down to another node's shape) and BroadcastLike (spread up to it). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/kernel_util.h"
#include "internal/op_kinds.h"
#include "internal/shape_util.h"

static gb_status reduce_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    if (!gb_is_float(dt[0])) {
        snprintf(err, err_size, "dtype %s is not supported (cast to float32 first)", gb_dtype_name(dt[0]));
        return GB_EINVAL;
    }
    if (n->attr.axes >> sh[0].rank) {
        snprintf(err, err_size, "axes mask 0x%x names an axis past rank %d", n->attr.axes, sh[0].rank);
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    *shape = gb_reduced_shape(&sh[0], n->attr.axes, n->attr.keepdims);
    return GB_OK;
}

/* The output viewed with kept (size-1) reduced axes: the same memory, x's rank. */
static gb_tensor keepdims_view(const gb_tensor *out, const gb_tensor *x, unsigned axes)
{
    gb_tensor view = *out;
    view.shape = gb_reduced_shape(&x->shape, axes, 1);
    return view;
}

#define MAX_LOOP(T)                                                                         \
    {                                                                                       \
        const T *src = x->data;                                                             \
        T *dst = view.data;                                                                 \
        int64_t outputs = gb_shape_elements(&view.shape);                                   \
        for (int64_t i = 0; i < outputs; i++) dst[i] = -(T)INFINITY;                        \
        int64_t index[GB_MAX_RANK] = {0}, offset = 0;                                       \
        for (int64_t at = 0; at < total; at++) {                                            \
            T v = src[at];                                                                  \
            if (v > dst[offset] || v != v) dst[offset] = v; /* NaN wins, as in NumPy */     \
            for (int d = x->shape.rank - 1; d >= 0; d--) {                                  \
                index[d]++;                                                                 \
                offset += strides[d];                                                       \
                if (index[d] < x->shape.dim[d]) break;                                      \
                offset -= strides[d] * x->shape.dim[d];                                     \
                index[d] = 0;                                                               \
            }                                                                               \
        }                                                                                   \
    }

static gb_status reduce_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_tensor view = keepdims_view(k->out, x, k->node->attr.axes);
    gb_reduce_kind kind = (gb_reduce_kind)k->node->attr.flag;
    if (kind == GB_REDUCE_MAX) {
        int64_t strides[GB_MAX_RANK];
        gb_broadcast_strides(&view.shape, &x->shape, strides);
        int64_t total = gb_shape_elements(&x->shape);
        if (x->dtype == GB_F64)
            MAX_LOOP(double)
        else
            MAX_LOOP(float)
        return GB_OK;
    }
    gb_sum_to_shape(x, &view);
    if (kind == GB_REDUCE_MEAN) {
        int64_t outputs = gb_shape_elements(&view.shape), total = gb_shape_elements(&x->shape);
        double scale = outputs ? (double)outputs / (double)total : 0;
        if (x->dtype == GB_F64)
            for (int64_t i = 0; i < outputs; i++) ((double *)view.data)[i] *= scale;
        else
            for (int64_t i = 0; i < outputs; i++) ((float *)view.data)[i] = (float)(((float *)view.data)[i] * scale);
    }
    return GB_OK;
}

/* ---- ExpandReduced: y (reduced x) seen with x's rank, size 1 on the reduced axes ---- */

static gb_status expand_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = gb_reduced_shape(&sh[1], n->attr.axes, 1);
    return GB_OK;
}

static gb_status alias_forward(const gb_kernel_args *k)
{
    (void)k;
    return GB_OK;
}

static void expand_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    dx[0] = gb_reshape_like(g, dy, n->inputs[0]);
}

static const gb_op_def op_expand_reduced = {"Reshape", expand_infer, alias_forward, expand_gradient, 1, 0, 0, 0, NULL};

gb_node *gb_expand_reduced(gb_graph *g, gb_node *y, gb_node *x, unsigned axes)
{
    gb_attrs attrs = {0};
    attrs.axes = axes;
    gb_node *inputs[2] = {y, x};
    return gb_node_create(g, &op_expand_reduced, "Reshape", inputs, 2, &attrs);
}

/* ---- BroadcastLike(dy, x): dy spread to x's shape, times 1/(elements(x)/elements(dy)) for means ---- */

static gb_status broadcast_like_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                      gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    gb_shape joint;
    gb_status st = gb_broadcast_shape(&sh[0], &sh[1], &joint, err, err_size);
    if (st != GB_OK) return st;
    *dtype = dt[0];
    *shape = sh[1];
    return GB_OK;
}

GB_DEFINE_BINARY_ROW(scale, float, _f32, x * y)
GB_DEFINE_BINARY_ROW(scale, double, _f64, x * y)

static gb_status broadcast_like_forward(const gb_kernel_args *k)
{
    const gb_tensor *dy = k->in[0];
    double scale = 1.0;
    if (k->node->attr.flag == GB_REDUCE_MEAN) {
        int64_t from = gb_shape_elements(&dy->shape), to = gb_shape_elements(&k->out->shape);
        scale = to ? (double)from / (double)to : 0;
    }
    float scale32 = (float)scale;
    gb_tensor s = gb_tensor_view(dy->dtype, gb_dims(0), dy->dtype == GB_F64 ? (void *)&scale : (void *)&scale32);
    gb_broadcast_apply(dy, &s, k->out, dy->dtype == GB_F64 ? scale_f64 : scale_f32);
    return GB_OK;
}

static gb_node *broadcast_like(gb_graph *g, gb_node *dy, gb_node *x, gb_reduce_kind scale);

static gb_node *reduce_to(gb_graph *g, gb_node *x, gb_node *like, gb_reduce_kind scale);

static void broadcast_like_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    /* linear in dy: sum back down, with the same 1/count factor for means */
    dx[0] = reduce_to(g, ddx, n->inputs[0], (gb_reduce_kind)n->attr.flag);
}

static const gb_op_def op_broadcast_like = {"BroadcastTo", broadcast_like_infer, broadcast_like_forward,
                                            broadcast_like_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_broadcast_like_forward)};

static gb_node *broadcast_like(gb_graph *g, gb_node *dy, gb_node *x, gb_reduce_kind scale)
{
    gb_attrs attrs = {0};
    attrs.flag = scale;
    gb_node *inputs[2] = {dy, x};
    return gb_node_create(g, &op_broadcast_like, "BroadcastTo", inputs, 2, &attrs);
}

/* ---- ReduceTo(x, like): x summed down to like's shape ---- */

static gb_status reduce_to_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                 gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    gb_shape joint;
    gb_status st = gb_broadcast_shape(&sh[0], &sh[1], &joint, err, err_size);
    if (st != GB_OK) return st;
    if (sh[1].rank > sh[0].rank) {
        snprintf(err, err_size, "cannot sum rank %d down to rank %d", sh[0].rank, sh[1].rank);
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    *shape = sh[1];
    return GB_OK;
}

static gb_status reduce_to_forward(const gb_kernel_args *k)
{
    gb_sum_to_shape(k->in[0], k->out);
    if (k->node->attr.flag == GB_REDUCE_MEAN) {
        int64_t outputs = gb_shape_elements(&k->out->shape), total = gb_shape_elements(&k->in[0]->shape);
        double scale = total ? (double)outputs / (double)total : 0;
        if (k->out->dtype == GB_F64)
            for (int64_t i = 0; i < outputs; i++) ((double *)k->out->data)[i] *= scale;
        else
            for (int64_t i = 0; i < outputs; i++) ((float *)k->out->data)[i] = (float)(((float *)k->out->data)[i] * scale);
    }
    return GB_OK;
}

static void reduce_to_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    dx[0] = broadcast_like(g, ddx, n->inputs[0], (gb_reduce_kind)n->attr.flag);
}

static const gb_op_def op_reduce_to = {"Sum", reduce_to_infer, reduce_to_forward, reduce_to_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_reduce_to_forward)};

static gb_node *reduce_to(gb_graph *g, gb_node *x, gb_node *like, gb_reduce_kind scale)
{
    gb_attrs attrs = {0};
    attrs.flag = scale;
    gb_node *inputs[2] = {x, like};
    return gb_node_create(g, &op_reduce_to, "Sum", inputs, 2, &attrs);
}

gb_node *gb_reduce_to_like(gb_graph *g, gb_node *x, gb_node *like)
{
    if (!x || !like) return NULL;
    if (gb_shape_equal(&x->shape, &like->shape) && gb_shape_elements(&x->shape) >= 0) return x;
    return reduce_to(g, x, like, GB_REDUCE_SUM);
}

/* ---- the reductions' gradients ---- */

static void reduce_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *x = n->inputs[0];
    unsigned axes = n->attr.axes;
    gb_reduce_kind kind = (gb_reduce_kind)n->attr.flag;
    gb_node *dy_kept = n->attr.keepdims ? dy : gb_expand_reduced(g, dy, x, axes);
    if (kind != GB_REDUCE_MAX) {
        dx[0] = broadcast_like(g, dy_kept, x, kind);
        return;
    }
    /* shared equally among the elements equal to the maximum, as TensorFlow does */
    gb_node *y_kept = n->attr.keepdims ? n : gb_expand_reduced(g, n, x, axes);
    gb_node *mask = gb_cast(g, gb_equal(g, x, y_kept), x->dtype);
    gb_node *ties = gb_reduce_sum(g, mask, axes, 1);
    dx[0] = gb_mul(g, mask, gb_div(g, dy_kept, ties));
}

static const gb_op_def reduce_ops[] = {
    [GB_REDUCE_SUM] = {"Sum", reduce_infer, reduce_forward, reduce_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_reduce_forward)},
    [GB_REDUCE_MEAN] = {"Mean", reduce_infer, reduce_forward, reduce_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_reduce_forward)},
    [GB_REDUCE_MAX] = {"Max", reduce_infer, reduce_forward, reduce_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_reduce_forward)},
};

static gb_node *reduce(gb_graph *g, gb_reduce_kind kind, const char *name, gb_node *x, unsigned axes, int keepdims)
{
    gb_attrs attrs = {0};
    attrs.flag = kind;
    attrs.axes = axes;
    attrs.keepdims = keepdims != 0;
    return gb_node_create(g, &reduce_ops[kind], name, &x, 1, &attrs);
}

gb_node *gb_reduce_sum(gb_graph *g, gb_node *x, unsigned axes, int keepdims) { return reduce(g, GB_REDUCE_SUM, "Sum", x, axes, keepdims); }
gb_node *gb_reduce_mean(gb_graph *g, gb_node *x, unsigned axes, int keepdims) { return reduce(g, GB_REDUCE_MEAN, "Mean", x, axes, keepdims); }
gb_node *gb_reduce_max(gb_graph *g, gb_node *x, unsigned axes, int keepdims) { return reduce(g, GB_REDUCE_MAX, "Max", x, axes, keepdims); }
