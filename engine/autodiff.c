/* Reverse-mode autodiff: walks the graph from y back to the xs and asks each op for the nodes
 * that compute its inputs' gradients. The new nodes live under a "gradients" scope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/autodiff.h"
#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"

/* ---- OnesLike: the upstream gradient of y ---- */

static gb_status ones_like_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                 gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

static gb_status ones_like_forward(const gb_kernel_args *k)
{
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        for (int64_t i = 0; i < n; i++) ((double *)k->out->data)[i] = 1.0;
    else
        for (int64_t i = 0; i < n; i++) ((float *)k->out->data)[i] = 1.0f;
    return GB_OK;
}

static const gb_op_def op_ones_like = {"OnesLike", ones_like_infer, ones_like_forward, NULL, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_ones_like_forward)};

gb_node *gb_ones_like(gb_graph *g, gb_node *x)
{
    return gb_node_create(g, &op_ones_like, "OnesLike", &x, 1, NULL);
}

/* dy must be a gradient for y: its dtype, and its shape where both are known. */
static int fits_upstream(gb_graph *g, const gb_node *y, const gb_node *dy)
{
    int fits = dy->graph == g && dy->dtype == y->dtype && dy->shape.rank == y->shape.rank;
    for (int i = 0; fits && i < y->shape.rank; i++)
        fits = y->shape.dim[i] < 0 || dy->shape.dim[i] < 0 || y->shape.dim[i] == dy->shape.dim[i];
    if (!fits) {
        char want[96], got[96];
        gb_graph_fail(g, GB_ESHAPE, "gb_gradients_with: dy %s (%s %s) does not fit y %s (%s %s)%s", dy->name,
                      gb_dtype_name(dy->dtype), gb_shape_format(&dy->shape, got, sizeof got), y->name,
                      gb_dtype_name(y->dtype), gb_shape_format(&y->shape, want, sizeof want),
                      dy->graph != g ? ": dy is from another graph" : "");
    }
    return fits;
}

/* Ops without a gradient that pass none on by nature: what they output does not change with
 * their inputs' values (OnesLike, StopGradient's cut), or they change state rather than compute
 * a value (assignments and optimizer updates). Any other such op on the way from x to y would
 * silently drop a term of the derivative, so it is an error, as in TensorFlow. */
static int passes_no_gradient(const gb_node *node)
{
    const char *type = node->op->type;
    return node->op == &op_ones_like || node->op->output_is_variable || !strcmp(type, "StopGradient") ||
           !strcmp(type, "NoOp");
}

static void pop_scopes(gb_graph *g, int depth)
{
    while (depth-- > 0) gb_scope_pop(g);
}

gb_status gb_gradients_with(gb_graph *g, gb_node *y, gb_node *dy, gb_node *const *xs, size_t n, gb_node **dxs)
{
    if (!g) return gb_fail(GB_EINVAL, "gb_gradients: graph is NULL");
    for (size_t i = 0; i < n; i++) dxs[i] = NULL;
    if (g->status != GB_OK) return g->status;
    if (!y) {
        gb_graph_fail(g, GB_EINVAL, "gb_gradients: y is NULL");
        return g->status;
    }
    if (!gb_is_float(y->dtype)) {
        gb_graph_fail(g, GB_EINVAL, "gb_gradients: %s is %s; only float tensors have gradients", y->name,
                      gb_dtype_name(y->dtype));
        return g->status;
    }
    for (size_t i = 0; i < n; i++) {
        if (!xs[i] || xs[i]->graph != g) {
            gb_graph_fail(g, GB_EINVAL, "gb_gradients: x %zu is NULL or from another graph", i);
            return g->status;
        }
    }
    if (dy && !fits_upstream(g, y, dy)) return g->status;
    size_t count = y->id + 1; /* ids are a topological order: nothing after y feeds it */
    if (count == 0) return g->status;
    unsigned char *from_x = calloc(count, 1), *to_y = calloc(count, 1);
    gb_node **grads = calloc(count, sizeof *grads);
    if (!from_x || !to_y || !grads) {
        free(from_x), free(to_y), free(grads);
        gb_graph_fail(g, GB_ENOMEM, "gb_gradients: out of memory");
        return g->status;
    }
    for (size_t i = 0; i < n; i++)
        if (xs[i]->id < count) from_x[xs[i]->id] = 1;
    for (size_t id = 0; id < count; id++) {
        gb_node *node = g->nodes[id];
        for (size_t k = 0; k < node->n_inputs && !from_x[id]; k++) from_x[id] = from_x[node->inputs[k]->id];
    }
    to_y[y->id] = 1;
    for (size_t id = count; id-- > 0;) {
        if (!to_y[id]) continue;
        gb_node *node = g->nodes[id];
        for (size_t k = 0; k < node->n_inputs; k++) to_y[node->inputs[k]->id] = 1;
    }

    char scope[32];
    if (g->gradient_calls == 0)
        snprintf(scope, sizeof scope, "gradients");
    else
        snprintf(scope, sizeof scope, "gradients_%u", g->gradient_calls);
    g->gradient_calls++;
    gb_scope_push(g, scope);
    grads[y->id] = dy ? dy : gb_ones_like(g, y);

    for (size_t id = count; id-- > 0 && g->status == GB_OK;) {
        gb_node *node = g->nodes[id];
        if (!grads[id] || !from_x[id] || !to_y[id]) continue;
        int feeds_from_x = 0; /* an x's own inputs need nothing */
        for (size_t k = 0; k < node->n_inputs; k++)
            feeds_from_x |= from_x[node->inputs[k]->id] && gb_is_float(node->inputs[k]->dtype);
        if (!feeds_from_x) continue;
        if (!node->op->gradient) {
            if (passes_no_gradient(node)) continue;
            gb_graph_fail(g, GB_EUNSUPPORTED, "gb_gradients: no gradient is defined for %s (%s), which lies between y %s and x",
                          node->name, node->op->type, y->name);
            break;
        }
        char path[512];
        snprintf(path, sizeof path, "%s_grad", node->name);
        int depth = gb_scope_push_path(g, path);
        gb_node *dx[8] = {NULL};
        node->op->gradient(g, node, grads[id], dx);
        for (size_t k = 0; k < node->n_inputs; k++) {
            gb_node *input = node->inputs[k];
            if (!dx[k] || !from_x[input->id] || !gb_is_float(input->dtype)) continue;
            grads[input->id] = grads[input->id] ? gb_add(g, grads[input->id], dx[k]) : dx[k];
        }
        pop_scopes(g, depth);
    }
    gb_scope_pop(g);
    for (size_t i = 0; i < n && g->status == GB_OK; i++) dxs[i] = xs[i]->id < count ? grads[xs[i]->id] : NULL;
    free(from_x);
    free(to_y);
    free(grads);
    if (g->status != GB_OK)
        for (size_t i = 0; i < n; i++) dxs[i] = NULL;
    return g->status;
}

gb_status gb_gradients(gb_graph *g, gb_node *y, gb_node *const *xs, size_t n, gb_node **dxs)
{
    return gb_gradients_with(g, y, NULL, xs, n, dxs);
}

/* A constant of x's (fully known) shape and dtype, all zero. */
static gb_node *zeros_like(gb_graph *g, const gb_node *x)
{
    gb_tensor *zeros = gb_tensor_new(x->dtype, x->shape);
    if (!zeros) {
        gb_graph_fail(g, GB_ENOMEM, "gb_jacobian: %s", gb_errmsg());
        return NULL;
    }
    gb_node *n = gb_constant(g, "zeros", zeros);
    gb_tensor_free(zeros);
    return n;
}

gb_node *gb_jacobian(gb_graph *g, gb_node *y, gb_node *x)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!y || !x) {
        gb_graph_fail(g, GB_EINVAL, "gb_jacobian: NULL argument");
        return NULL;
    }
    if (y->shape.rank != 1 || y->shape.dim[0] < 0) {
        char buf[96];
        gb_graph_fail(g, GB_ESHAPE, "gb_jacobian: y (%s) must be a vector of known length",
                      gb_shape_format(&y->shape, buf, sizeof buf));
        return NULL;
    }
    if (gb_shape_elements(&x->shape) < 0) {
        gb_graph_fail(g, GB_ESHAPE, "gb_jacobian: x %s must have a fully known shape", x->name);
        return NULL;
    }
    gb_shape row_shape = x->shape; /* [1, x's dims...] */
    row_shape.rank = x->shape.rank + 1;
    row_shape.dim[0] = 1;
    for (int i = 0; i < x->shape.rank; i++) row_shape.dim[i + 1] = x->shape.dim[i];
    if (row_shape.rank > GB_MAX_RANK) {
        gb_graph_fail(g, GB_ESHAPE, "gb_jacobian: x has too many axes");
        return NULL;
    }
    gb_node *result = NULL;
    for (int64_t i = 0; i < y->shape.dim[0] && g->status == GB_OK; i++) {
        gb_node *yi = gb_slice(g, y, gb_dims(1, (int)i), gb_dims(1, 1));
        gb_node *row;
        gb_gradients(g, yi, &x, 1, &row);
        if (!row && g->status == GB_OK) row = zeros_like(g, x); /* y[i] does not depend on x */
        if (row && !gb_shape_equal(&row->shape, &x->shape)) row = gb_mul(g, row, gb_scalar_like(g, x, 1.0));
        row = gb_reshape(g, row, row_shape);
        gb_node *pair[2] = {result, row};
        result = result ? gb_concat(g, 2, pair, 0) : row;
    }
    return g->status == GB_OK ? result : NULL;
}
