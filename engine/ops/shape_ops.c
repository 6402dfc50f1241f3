/* Ops that move data without arithmetic: reshape, transpose, slice, concat. */
#include <stdio.h>
#include <string.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/grad_util.h"
#include "internal/shape_util.h"

/* ---- reshape (a view: same memory) ---- */

static gb_status reshape_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                               gb_shape *shape, char *err, size_t err_size)
{
    const gb_shape *target = &n->attr.shape;
    char from[96], to[96];
    int unknown_at = -1;
    int64_t known = 1;
    for (int i = 0; i < target->rank; i++) {
        if (target->dim[i] == -1 && unknown_at < 0) unknown_at = i;
        else if (target->dim[i] < 0) {
            snprintf(err, err_size, "target %s may have one -1 only", gb_shape_format(target, to, sizeof to));
            return GB_ESHAPE;
        } else known *= target->dim[i];
    }
    *dtype = dt[0];
    *shape = *target;
    int64_t total = gb_shape_elements(&sh[0]);
    if (total < 0) return GB_OK; /* checked again at run time */
    if (unknown_at >= 0) {
        if (known == 0 || total % known != 0) {
            snprintf(err, err_size, "cannot reshape %s (%lld elements) to %s", gb_shape_format(&sh[0], from, sizeof from),
                     (long long)total, gb_shape_format(target, to, sizeof to));
            return GB_ESHAPE;
        }
        shape->dim[unknown_at] = total / known;
    } else if (known != total) {
        snprintf(err, err_size, "cannot reshape %s (%lld elements) to %s (%lld)", gb_shape_format(&sh[0], from, sizeof from),
                 (long long)total, gb_shape_format(target, to, sizeof to), (long long)known);
        return GB_ESHAPE;
    }
    return GB_OK;
}

static gb_status view_forward(const gb_kernel_args *k)
{
    (void)k;
    return GB_OK;
}

/* Reshape back to the input's run-time shape: ReshapeLike(dy, x). */
static gb_status reshape_like_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                    gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[1];
    return GB_OK;
}

static void reshape_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx);

static const gb_op_def op_reshape = {"Reshape", reshape_infer, view_forward, reshape_gradient, 1, 0, 0, 0, NULL};
static const gb_op_def op_reshape_like = {"Reshape", reshape_like_infer, view_forward, reshape_gradient, 1, 0, 0, 0, NULL};

gb_node *gb_reshape_like(gb_graph *g, gb_node *x, gb_node *like)
{
    gb_node *inputs[2] = {x, like};
    return gb_node_create(g, &op_reshape_like, "Reshape", inputs, 2, NULL);
}

static void reshape_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    dx[0] = gb_reshape_like(g, dy, n->inputs[0]);
}

gb_node *gb_reshape(gb_graph *g, gb_node *x, gb_shape shape)
{
    gb_attrs attrs = {0};
    attrs.shape = shape;
    if (shape.rank < 0 || shape.rank > GB_MAX_RANK) {
        if (g && g->status == GB_OK) gb_graph_fail(g, GB_ESHAPE, "reshape: invalid target rank %d", shape.rank);
        return NULL;
    }
    return gb_node_create(g, &op_reshape, "Reshape", &x, 1, &attrs);
}

/* ---- transpose ---- */

static gb_status transpose_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                 gb_shape *shape, char *err, size_t err_size)
{
    int seen[GB_MAX_RANK] = {0};
    for (int i = 0; i < sh[0].rank; i++) {
        int p = n->attr.perm[i];
        if (p < 0 || p >= sh[0].rank || seen[p]++) {
            snprintf(err, err_size, "the permutation is not one of 0..%d", sh[0].rank - 1);
            return GB_ESHAPE;
        }
        shape->dim[i] = sh[0].dim[p];
    }
    shape->rank = sh[0].rank;
    *dtype = dt[0];
    return GB_OK;
}

static gb_status transpose_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_tensor *out = k->out;
    int rank = x->shape.rank;
    size_t esize = gb_dtype_size(x->dtype);
    int64_t in_strides[GB_MAX_RANK], src_stride[GB_MAX_RANK];
    gb_shape_strides(&x->shape, in_strides);
    for (int i = 0; i < rank; i++) src_stride[i] = in_strides[k->node->attr.perm[i]];
    int64_t total = gb_shape_elements(&out->shape);
    int64_t index[GB_MAX_RANK] = {0}, offset = 0;
    const char *src = x->data;
    char *dst = out->data;
    for (int64_t at = 0; at < total; at++) {
        memcpy(dst + at * (int64_t)esize, src + offset * (int64_t)esize, esize);
        for (int d = rank - 1; d >= 0; d--) {
            index[d]++;
            offset += src_stride[d];
            if (index[d] < out->shape.dim[d]) break;
            offset -= src_stride[d] * out->shape.dim[d];
            index[d] = 0;
        }
    }
    return GB_OK;
}

static void transpose_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    int inverse[GB_MAX_RANK];
    for (int i = 0; i < n->shape.rank; i++) inverse[n->attr.perm[i]] = i;
    dx[0] = gb_transpose(g, dy, inverse);
}

static const gb_op_def op_transpose = {"Transpose", transpose_infer, transpose_forward, transpose_gradient, 0, 0, 0, 0,
                                       GB_CUDA_KERNEL(gb_cuda_transpose_forward)};

gb_node *gb_transpose(gb_graph *g, gb_node *x, const int *perm)
{
    gb_attrs attrs = {0};
    int rank = x ? x->shape.rank : 0;
    for (int i = 0; i < rank; i++) attrs.perm[i] = perm ? perm[i] : rank - 1 - i;
    return gb_node_create(g, &op_transpose, "transpose", &x, 1, &attrs);
}

/* ---- slice (copy of a box) and its gradient (the box put back into zeros) ---- */

static gb_status slice_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                             gb_shape *shape, char *err, size_t err_size)
{
    const gb_shape *begin = &n->attr.shape, *size = &n->attr.shape2;
    char buf[96];
    if (begin->rank != sh[0].rank || size->rank != sh[0].rank) {
        snprintf(err, err_size, "begin and size need %d entries", sh[0].rank);
        return GB_ESHAPE;
    }
    shape->rank = sh[0].rank;
    for (int i = 0; i < sh[0].rank; i++) {
        int64_t dim = sh[0].dim[i], b = begin->dim[i], s = size->dim[i];
        if (s < -1) {
            snprintf(err, err_size, "size %lld on axis %d: a size is >= 0, or -1 for the rest of the axis", (long long)s, i);
            return GB_ESHAPE;
        }
        if (b < 0 || (dim >= 0 && (b > dim || (s >= 0 && b + s > dim)))) {
            snprintf(err, err_size, "the box begin %lld size %lld leaves %s on axis %d", (long long)b, (long long)s,
                     gb_shape_format(&sh[0], buf, sizeof buf), i);
            return GB_ESHAPE;
        }
        shape->dim[i] = s >= 0 ? s : (dim >= 0 ? dim - b : -1);
    }
    *dtype = dt[0];
    return GB_OK;
}

/* Copies the box between a big tensor and a small one; to_small picks the direction. */
static void copy_box(const gb_tensor *big, const gb_tensor *small, const gb_shape *begin, int to_small)
{
    int rank = big->shape.rank;
    size_t esize = gb_dtype_size(big->dtype);
    int64_t big_strides[GB_MAX_RANK];
    gb_shape_strides(&big->shape, big_strides);
    int64_t base = 0;
    for (int i = 0; i < rank; i++) base += begin->dim[i] * big_strides[i];
    int64_t rows = 1, row = rank ? small->shape.dim[rank - 1] : 1;
    for (int i = 0; i < rank - 1; i++) rows *= small->shape.dim[i];
    if (gb_shape_elements(&small->shape) == 0) return;
    int64_t index[GB_MAX_RANK] = {0}, offset = base;
    char *b = big->data, *s = small->data;
    for (int64_t r = 0; r < rows; r++) {
        char *bp = b + offset * (int64_t)esize, *sp = s + r * row * (int64_t)esize;
        if (to_small)
            memcpy(sp, bp, (size_t)row * esize);
        else
            memcpy(bp, sp, (size_t)row * esize);
        for (int d = rank - 2; d >= 0; d--) {
            index[d]++;
            offset += big_strides[d];
            if (index[d] < small->shape.dim[d]) break;
            offset -= big_strides[d] * small->shape.dim[d];
            index[d] = 0;
        }
    }
}

static gb_status slice_forward(const gb_kernel_args *k)
{
    copy_box(k->in[0], k->out, &k->node->attr.shape, 1);
    return GB_OK;
}

/* SliceGrad(dy, x): zeros of x's shape with dy at begin. */
static gb_status slice_grad_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                  gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[1];
    return GB_OK;
}

static gb_status slice_grad_forward(const gb_kernel_args *k)
{
    if (gb_tensor_bytes(k->out) == 0) return GB_OK; /* an empty tensor may have no memory */
    memset(k->out->data, 0, gb_tensor_bytes(k->out));
    copy_box(k->out, k->in[0], &k->node->attr.shape, 0);
    return GB_OK;
}

static void slice_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx);
static void slice_grad_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx);

static const gb_op_def op_slice = {"Slice", slice_infer, slice_forward, slice_gradient, 0, 0, 0, 0,
                                   GB_CUDA_KERNEL(gb_cuda_slice_forward)};
static const gb_op_def op_slice_grad = {"Pad", slice_grad_infer, slice_grad_forward, slice_grad_gradient, 0, 0, 0, 0,
                                        GB_CUDA_KERNEL(gb_cuda_slice_grad_forward)};

static void slice_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_attrs attrs = n->attr;
    gb_node *inputs[2] = {dy, n->inputs[0]};
    dx[0] = gb_node_create(g, &op_slice_grad, "Pad", inputs, 2, &attrs);
}

static void slice_grad_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    /* the same box of the upstream gradient */
    gb_attrs attrs = n->attr;
    attrs.shape2 = n->inputs[0]->shape;
    for (int i = 0; i < attrs.shape2.rank; i++)
        if (attrs.shape2.dim[i] < 0) attrs.shape2.dim[i] = n->attr.shape2.dim[i];
    dx[0] = gb_node_create(g, &op_slice, "Slice", &ddx, 1, &attrs);
}

gb_node *gb_slice(gb_graph *g, gb_node *x, gb_shape begin, gb_shape size)
{
    gb_attrs attrs = {0};
    attrs.shape = begin;
    attrs.shape2 = size;
    return gb_node_create(g, &op_slice, "Slice", &x, 1, &attrs);
}

/* ---- concat along an axis ---- */

static gb_status concat_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    int axis = n->attr.axis;
    char a[96], b[96];
    *shape = sh[0];
    if (axis < 0 || axis >= sh[0].rank) {
        snprintf(err, err_size, "axis %d is outside rank %d", axis, sh[0].rank);
        return GB_ESHAPE;
    }
    for (size_t i = 1; i < n->n_inputs; i++) {
        int ok = dt[i] == dt[0] && sh[i].rank == sh[0].rank;
        for (int d = 0; ok && d < sh[0].rank; d++)
            ok = d == axis || sh[i].dim[d] < 0 || sh[0].dim[d] < 0 || sh[i].dim[d] == sh[0].dim[d];
        if (!ok) {
            snprintf(err, err_size, "input %zu (%s %s) does not fit input 0 (%s %s) outside axis %d", i,
                     gb_dtype_name(dt[i]), gb_shape_format(&sh[i], a, sizeof a), gb_dtype_name(dt[0]),
                     gb_shape_format(&sh[0], b, sizeof b), axis);
            return GB_ESHAPE;
        }
        shape->dim[axis] = shape->dim[axis] < 0 || sh[i].dim[axis] < 0 ? -1 : shape->dim[axis] + sh[i].dim[axis];
    }
    *dtype = dt[0];
    return GB_OK;
}

static gb_status concat_forward(const gb_kernel_args *k)
{
    int axis = k->node->attr.axis;
    gb_shape begin = {k->out->shape.rank, {0}};
    for (size_t i = 0; i < k->node->n_inputs; i++) {
        copy_box(k->out, k->in[i], &begin, 0);
        begin.dim[axis] += k->in[i]->shape.dim[axis];
    }
    return GB_OK;
}

static void concat_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    int axis = n->attr.axis;
    int64_t offset = 0;
    for (size_t i = 0; i < n->n_inputs; i++) {
        const gb_shape *s = &n->inputs[i]->shape;
        if (s->dim[axis] < 0) {
            gb_graph_fail(g, GB_EUNSUPPORTED, "%s: the gradient of concat needs the inputs' sizes along axis %d known "
                          "when the graph is built", n->name, axis);
            return;
        }
        gb_shape begin = {s->rank, {0}}, size = *s;
        begin.dim[axis] = offset;
        for (int d = 0; d < s->rank; d++)
            if (d != axis) size.dim[d] = -1; /* to the end: the run-time size */
        dx[i] = gb_slice(g, dy, begin, size);
        offset += s->dim[axis];
    }
}

static const gb_op_def op_concat = {"ConcatV2", concat_infer, concat_forward, concat_gradient, 0, 0, 0, 0,
                                    GB_CUDA_KERNEL(gb_cuda_concat_forward)};

gb_node *gb_concat(gb_graph *g, size_t n, gb_node *const *xs, int axis)
{
    gb_attrs attrs = {0};
    attrs.axis = axis;
    if (n == 0) { /* the output's dtype and rank come from the inputs: there must be one */
        if (g && g->status == GB_OK) gb_graph_fail(g, GB_EINVAL, "concat: needs at least one input, got none");
        return NULL;
    }
    return gb_node_create(g, &op_concat, "concat", xs, n, &attrs);
}
