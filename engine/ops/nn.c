/* Neural-network ops: softmax, log-softmax, the cross-entropies (sparse labels fused), sigmoid
 * cross-entropy, mean squared error and dropout. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradboard/init.h"
#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/op_kinds.h"
#include "internal/philox.h"
#include "internal/session_impl.h"

static gb_status last_axis_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                 gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    if (!gb_is_float(dt[0]) || sh[0].rank < 1) {
        snprintf(err, err_size, "needs a float tensor of rank >= 1, got %s of rank %d", gb_dtype_name(dt[0]), sh[0].rank);
        return GB_EINVAL;
    }
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

/* Row-wise softmax or log-softmax over the last axis, shifted by the row maximum. The row sums
 * here and in the cross-entropies below accumulate in ACC, double for float32 too: a vocabulary of
 * 50000 classes summed in float32 one after another can lose its fourth digit. */
#define SOFTMAX_ROWS(T, ACC, EXP)                                                        \
    {                                                                                    \
        const T *x = k->in[0]->data;                                                     \
        T *y = k->out->data;                                                             \
        for (int64_t r = 0; r < rows; r++, x += cols, y += cols) {                       \
            T max = x[0];                                                                \
            for (int64_t c = 1; c < cols; c++) max = x[c] > max ? x[c] : max;            \
            ACC sum = 0;                                                                 \
            for (int64_t c = 0; c < cols; c++) sum += EXP(x[c] - max);                   \
            if (log_form) { /* x - (max + log_sum) would round log_sum away at large max */ \
                T log_sum = (T)log(sum);                                                 \
                for (int64_t c = 0; c < cols; c++) y[c] = (x[c] - max) - log_sum;        \
            } else {                                                                     \
                T inv = (T)(1 / sum);                                                    \
                for (int64_t c = 0; c < cols; c++) y[c] = EXP(x[c] - max) * inv;         \
            }                                                                            \
        }                                                                                \
    }

static gb_status softmax_forward(const gb_kernel_args *k)
{
    const gb_shape *s = &k->in[0]->shape;
    int64_t cols = s->dim[s->rank - 1], total = gb_shape_elements(s);
    int64_t rows = cols ? total / cols : 0;
    int log_form = k->node->attr.flag;
    if (cols == 0) return GB_OK;
    if (k->out->dtype == GB_F64)
        SOFTMAX_ROWS(double, double, exp)
    else
        SOFTMAX_ROWS(float, double, expf)
    return GB_OK;
}

static unsigned last_axis(const gb_node *n)
{
    return GB_AXIS(n->shape.rank - 1);
}

static void softmax_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    if (n->attr.flag) { /* log-softmax: dx = dy - softmax * sum(dy) */
        gb_node *sum = gb_reduce_sum(g, dy, last_axis(n), 1);
        dx[0] = gb_sub(g, dy, gb_mul(g, gb_exp(g, n), sum));
    } else { /* softmax: dx = (dy - sum(dy * y)) * y */
        gb_node *sum = gb_reduce_sum(g, gb_mul(g, dy, n), last_axis(n), 1);
        dx[0] = gb_mul(g, gb_sub(g, dy, sum), n);
    }
}

static const gb_op_def op_softmax = {"Softmax", last_axis_infer, softmax_forward, softmax_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_softmax_forward)};
static const gb_op_def op_log_softmax = {"LogSoftmax", last_axis_infer, softmax_forward, softmax_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_softmax_forward)};

gb_node *gb_softmax(gb_graph *g, gb_node *logits)
{
    return gb_node_create(g, &op_softmax, "Softmax", &logits, 1, NULL);
}

gb_node *gb_log_softmax(gb_graph *g, gb_node *logits)
{
    gb_attrs attrs = {0};
    attrs.flag = 1;
    return gb_node_create(g, &op_log_softmax, "LogSoftmax", &logits, 1, &attrs);
}

/* ---- sparse softmax cross-entropy: (logits [N, C], labels [N] int) -> loss [N] ---- */

static gb_status sparse_xent_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                   gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    char a[96], b[96];
    if (!gb_is_float(dt[0]) || (dt[1] != GB_I32 && dt[1] != GB_I64)) {
        snprintf(err, err_size, "needs float logits and int32/int64 labels, got %s and %s", gb_dtype_name(dt[0]),
                 gb_dtype_name(dt[1]));
        return GB_EINVAL;
    }
    int ok = sh[0].rank == 2 && sh[1].rank == 1 &&
             (sh[0].dim[0] < 0 || sh[1].dim[0] < 0 || sh[0].dim[0] == sh[1].dim[0]);
    if (!ok) {
        snprintf(err, err_size, "needs logits [N, classes] and labels [N], got %s and %s",
                 gb_shape_format(&sh[0], a, sizeof a), gb_shape_format(&sh[1], b, sizeof b));
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    shape->rank = 1;
    shape->dim[0] = sh[0].dim[0] >= 0 ? sh[0].dim[0] : sh[1].dim[0];
    return GB_OK;
}

static int64_t label_at(const gb_tensor *labels, int64_t i)
{
    return labels->dtype == GB_I32 ? ((const int32_t *)labels->data)[i] : ((const int64_t *)labels->data)[i];
}

static gb_status check_labels(const gb_tensor *labels, int64_t rows, int64_t classes)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t label = label_at(labels, r);
        if (label < 0 || label >= classes)
            return gb_fail(GB_EINVAL, "label %lld of example %lld is outside [0, %lld)", (long long)label, (long long)r,
                           (long long)classes);
    }
    return GB_OK;
}

#define XENT_ROWS(T, ACC, EXP)                                                              \
    {                                                                                       \
        const T *x = logits->data;                                                          \
        T *loss = k->out->data;                                                             \
        for (int64_t r = 0; r < rows; r++, x += classes) {                                  \
            T max = x[0];                                                                   \
            for (int64_t c = 1; c < classes; c++) max = x[c] > max ? x[c] : max;            \
            ACC sum = 0;                                                                    \
            for (int64_t c = 0; c < classes; c++) sum += EXP(x[c] - max);                   \
            loss[r] = (T)log(sum) - (x[label_at(labels, r)] - max); /* as log-softmax */    \
        }                                                                                   \
    }

static gb_status sparse_xent_forward(const gb_kernel_args *k)
{
    const gb_tensor *logits = k->in[0], *labels = k->in[1];
    int64_t rows = logits->shape.dim[0], classes = logits->shape.dim[1];
    gb_status st = check_labels(labels, rows, classes);
    if (st != GB_OK) return st;
    if (classes == 0) return rows ? gb_fail(GB_EINVAL, "no classes") : GB_OK;
    if (logits->dtype == GB_F64)
        XENT_ROWS(double, double, exp)
    else
        XENT_ROWS(float, double, expf)
    return GB_OK;
}

/* SparseXentGrad(logits, labels, dy): (softmax(logits) - onehot(labels)) * dy[:, None]. */
static gb_status sparse_xent_grad_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                        gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

#define XENT_GRAD_ROWS(T, ACC, EXP)                                                         \
    {                                                                                       \
        const T *x = logits->data, *d = dy->data;                                           \
        T *o = k->out->data;                                                                \
        for (int64_t r = 0; r < rows; r++, x += classes, o += classes) {                    \
            T max = x[0];                                                                   \
            for (int64_t c = 1; c < classes; c++) max = x[c] > max ? x[c] : max;            \
            ACC sum = 0;                                                                    \
            for (int64_t c = 0; c < classes; c++) sum += (o[c] = EXP(x[c] - max));          \
            T scale = (T)(d[r] / sum);                                                      \
            for (int64_t c = 0; c < classes; c++) o[c] *= scale;                            \
            o[label_at(labels, r)] -= d[r];                                                 \
        }                                                                                   \
    }

static gb_status sparse_xent_grad_forward(const gb_kernel_args *k)
{
    const gb_tensor *logits = k->in[0], *labels = k->in[1], *dy = k->in[2];
    int64_t rows = logits->shape.dim[0], classes = logits->shape.dim[1];
    gb_status st = check_labels(labels, rows, classes);
    if (st != GB_OK || classes == 0) return st;
    if (logits->dtype == GB_F64)
        XENT_GRAD_ROWS(double, double, exp)
    else
        XENT_GRAD_ROWS(float, double, expf)
    return GB_OK;
}

/* The cross-entropy gradient ops' own gradient, for second derivatives. With p = softmax(logits)
 * (last axis), z the labels (one-hot for the sparse op) and G = (p - z) dy, an upstream u of G's
 * shape gives d/dlogits = dy (J u), J = diag(p) - p pᵀ being softmax's Jacobian, so
 * J u = p u - p sum(p u); d/ddy = sum(u (p - z)); d/dz = -u dy (dense labels only).
 * p - z is the gradient op itself with dy = 1. */
static void xent_grad_gradient(gb_graph *g, gb_node *n, gb_node *u, gb_node **dx)
{
    gb_node *logits = n->inputs[0], *labels = n->inputs[1], *dy = n->inputs[2];
    unsigned classes = GB_AXIS(logits->shape.rank - 1);
    gb_node *p = gb_softmax(g, logits), *pu = gb_mul(g, p, u);
    gb_node *dy_kept = gb_expand_reduced(g, dy, logits, classes);
    dx[0] = gb_mul(g, gb_sub(g, pu, gb_mul(g, p, gb_reduce_sum(g, pu, classes, 1))), dy_kept);
    gb_node *inputs[3] = {logits, labels, gb_ones_like(g, dy)};
    gb_node *p_minus_z = gb_node_create(g, n->op, n->op->type, inputs, 3, &n->attr);
    dx[2] = gb_reduce_sum(g, gb_mul(g, u, p_minus_z), classes, 0);
    if (gb_is_float(labels->dtype)) dx[1] = gb_neg(g, gb_mul(g, u, dy_kept));
}

static const gb_op_def op_sparse_xent_grad = {"SparseSoftmaxCrossEntropyWithLogitsGrad", sparse_xent_grad_infer,
                                              sparse_xent_grad_forward, xent_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_sparse_xent_grad_forward)};

static void sparse_xent_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *inputs[3] = {n->inputs[0], n->inputs[1], dy};
    dx[0] = gb_node_create(g, &op_sparse_xent_grad, "SparseSoftmaxCrossEntropyWithLogits_grad", inputs, 3, NULL);
}

static const gb_op_def op_sparse_xent = {"SparseSoftmaxCrossEntropyWithLogits", sparse_xent_infer, sparse_xent_forward,
                                         sparse_xent_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_sparse_xent_forward)};

gb_node *gb_sparse_softmax_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels)
{
    gb_node *inputs[2] = {logits, labels};
    return gb_node_create(g, &op_sparse_xent, "SparseSoftmaxCrossEntropyWithLogits", inputs, 2, NULL);
}

/* ---- composites, stable by construction ---- */

/* ---- softmax cross-entropy with one-hot (or soft) labels: (logits, labels) [..., C] -> [...] ---- */

static gb_status xent_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype, gb_shape *shape,
                            char *err, size_t err_size)
{
    (void)n;
    char a[96], b[96];
    int ok = gb_is_float(dt[0]) && dt[1] == dt[0] && sh[0].rank >= 1 && sh[0].rank == sh[1].rank;
    for (int i = 0; ok && i < sh[0].rank; i++) ok = sh[0].dim[i] < 0 || sh[1].dim[i] < 0 || sh[0].dim[i] == sh[1].dim[i];
    if (!ok) {
        snprintf(err, err_size, "needs float logits and labels of one shape, got %s %s and %s %s", gb_dtype_name(dt[0]),
                 gb_shape_format(&sh[0], a, sizeof a), gb_dtype_name(dt[1]), gb_shape_format(&sh[1], b, sizeof b));
        return GB_ESHAPE;
    }
    if (sh[0].dim[sh[0].rank - 1] == 0 || sh[1].dim[sh[1].rank - 1] == 0) { /* a loss of nothing is no loss */
        snprintf(err, err_size, "no classes: the logits are %s", gb_shape_format(&sh[0], a, sizeof a));
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    *shape = sh[0];
    shape->rank--;
    return GB_OK;
}

/* loss = sum(labels) * logsumexp(x) - sum(labels * x); with grad, also
 * dlogits = (softmax(x) * sum(labels) - labels) * dy. One pass per row, shifted by its max. */
#define ONE_HOT_XENT_ROWS(T, ACC, EXP)                                                      \
    {                                                                                       \
        const T *x = k->in[0]->data, *z = k->in[1]->data;                                   \
        T *o = k->out->data;                                                                \
        const T *d = grad ? k->in[2]->data : NULL;                                          \
        for (int64_t r = 0; r < rows; r++, x += classes, z += classes) {                    \
            T max = x[0];                                                                   \
            for (int64_t c = 1; c < classes; c++) max = x[c] > max ? x[c] : max;            \
            ACC sum = 0, label_sum = 0, dot = 0;                                            \
            for (int64_t c = 0; c < classes; c++) {                                         \
                sum += EXP(x[c] - max);                                                     \
                label_sum += z[c];                                                          \
                dot += z[c] * (x[c] - max);                                                 \
            }                                                                               \
            if (!grad) {                                                                    \
                o[r] = (T)(label_sum * log(sum) - dot);                                     \
                continue;                                                                   \
            }                                                                               \
            T scale = (T)(d[r] * label_sum / sum);                                          \
            for (int64_t c = 0; c < classes; c++)                                           \
                o[r * classes + c] = EXP(x[c] - max) * scale - z[c] * d[r];                 \
        }                                                                                   \
    }

static gb_status one_hot_xent_forward(const gb_kernel_args *k)
{
    const gb_shape *s = &k->in[0]->shape;
    int64_t classes = s->dim[s->rank - 1], rows = classes ? gb_shape_elements(s) / classes : 0;
    int grad = k->node->attr.flag;
    if (classes == 0) return GB_OK;
    if (k->out->dtype == GB_F64)
        ONE_HOT_XENT_ROWS(double, double, exp)
    else
        ONE_HOT_XENT_ROWS(float, double, expf)
    return GB_OK;
}

static gb_status xent_grad_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                 gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

static const gb_op_def op_xent_grad = {"SoftmaxCrossEntropyWithLogitsGrad", xent_grad_infer, one_hot_xent_forward, xent_grad_gradient,
                                       0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_dense_xent_forward)};

static void one_hot_xent_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_attrs attrs = {0};
    attrs.flag = 1;
    gb_node *inputs[3] = {n->inputs[0], n->inputs[1], dy};
    dx[0] = gb_node_create(g, &op_xent_grad, "SoftmaxCrossEntropyWithLogits_grad", inputs, 3, &attrs);
    /* labels (soft targets): d/dz = -log_softmax(x) * dy */
    gb_node *logits = n->inputs[0];
    gb_node *dy_kept = gb_expand_reduced(g, dy, logits, GB_AXIS(logits->shape.rank - 1));
    dx[1] = gb_neg(g, gb_mul(g, gb_log_softmax(g, logits), dy_kept));
}

static const gb_op_def op_one_hot_xent = {"SoftmaxCrossEntropyWithLogits", xent_infer, one_hot_xent_forward,
                                          one_hot_xent_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_dense_xent_forward)};

gb_node *gb_softmax_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels)
{
    gb_node *inputs[2] = {logits, labels};
    return gb_node_create(g, &op_one_hot_xent, "SoftmaxCrossEntropyWithLogits", inputs, 2, NULL);
}

/* ---- sigmoid cross-entropy: (logits, labels) of one shape -> the elementwise loss ---- */

/* Same shape where both are known: at run time, exactly. */
static int shapes_compatible(const gb_shape *a, const gb_shape *b)
{
    int ok = a->rank == b->rank;
    for (int i = 0; ok && i < a->rank; i++) ok = a->dim[i] < 0 || b->dim[i] < 0 || a->dim[i] == b->dim[i];
    return ok;
}

static gb_status same_shape_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                  gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    char a[96], b[96];
    if (!gb_is_float(dt[0]) || dt[1] != dt[0]) {
        snprintf(err, err_size, "needs float logits and labels of one dtype, got %s and %s", gb_dtype_name(dt[0]),
                 gb_dtype_name(dt[1]));
        return GB_EINVAL;
    }
    if (!shapes_compatible(&sh[0], &sh[1])) {
        snprintf(err, err_size, "logits %s and labels %s must have the same shape", gb_shape_format(&sh[0], a, sizeof a),
                 gb_shape_format(&sh[1], b, sizeof b));
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    *shape = sh[0];
    for (int i = 0; i < shape->rank; i++)
        if (shape->dim[i] < 0) shape->dim[i] = sh[1].dim[i];
    return GB_OK;
}

/* max(x, 0) - x z + log1p(exp(-|x|)), TensorFlow's formula: never exponentiates a large positive
 * number, and keeps the last term where 1 + it rounds to 1 (9.4e-14 at |x| = 30). The gradient
 * sigmoid(x) - z is written from e = exp(-|x|) too: (1 - z) - e / (1 + e) for x >= 0 (where
 * sigmoid(x) rounds to 1 first), e / (1 + e) - z below. The CUDA binary kernel (elementwise.cuh)
 * computes the same two formulas. */
#define SIGMOID_XENT_LOOP(T, EXP, LOG1P)                                                      \
    {                                                                                         \
        const T *x = k->in[0]->data, *z = k->in[1]->data;                                     \
        T *o = k->out->data;                                                                  \
        if (grad)                                                                             \
            for (int64_t i = 0; i < n; i++) {                                                 \
                T e = EXP(-(x[i] < 0 ? -x[i] : x[i])), p = e / (1 + e);                       \
                o[i] = x[i] >= 0 ? (1 - z[i]) - p : p - z[i];                                 \
            }                                                                                 \
        else                                                                                  \
            for (int64_t i = 0; i < n; i++)                                                   \
                o[i] = ((x[i] > 0 ? x[i] : 0) - x[i] * z[i]) + LOG1P(EXP(-(x[i] < 0 ? -x[i] : x[i]))); \
    }

static gb_status sigmoid_xent_forward(const gb_kernel_args *k)
{
    int64_t n = gb_shape_elements(&k->out->shape);
    int grad = k->node->attr.flag == GB_BINARY_SIGMOID_XENT_GRAD;
    if (k->out->dtype == GB_F64)
        SIGMOID_XENT_LOOP(double, exp, log1p)
    else
        SIGMOID_XENT_LOOP(float, expf, log1pf)
    return GB_OK;
}

static gb_node *sigmoid_xent_node(gb_graph *g, gb_binary_kind kind, gb_node *logits, gb_node *labels);

static void sigmoid_xent_grad_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    /* d(sigmoid(x) - z) = sigmoid(x) (1 - sigmoid(x)) dx - dz */
    gb_node *s = gb_sigmoid(g, n->inputs[0]);
    dx[0] = gb_mul(g, ddx, gb_mul(g, s, gb_sub(g, gb_scalar_like(g, s, 1.0), s)));
    dx[1] = gb_neg(g, ddx);
}

static void sigmoid_xent_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *x = n->inputs[0], *z = n->inputs[1];
    dx[0] = gb_mul(g, dy, sigmoid_xent_node(g, GB_BINARY_SIGMOID_XENT_GRAD, x, z));
    dx[1] = gb_mul(g, dy, gb_neg(g, x));
}

static const gb_op_def op_sigmoid_xent = {"SigmoidCrossEntropyWithLogits", same_shape_infer, sigmoid_xent_forward,
                                          sigmoid_xent_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_binary_forward)};
static const gb_op_def op_sigmoid_xent_grad = {"SigmoidCrossEntropyWithLogitsGrad", same_shape_infer,
                                               sigmoid_xent_forward, sigmoid_xent_grad_gradient, 0, 0, 0, 0,
                                               GB_CUDA_KERNEL(gb_cuda_binary_forward)};

static gb_node *sigmoid_xent_node(gb_graph *g, gb_binary_kind kind, gb_node *logits, gb_node *labels)
{
    gb_attrs attrs = {0};
    attrs.flag = kind; /* the CUDA binary kernel's operation */
    gb_node *inputs[2] = {logits, labels};
    int grad = kind == GB_BINARY_SIGMOID_XENT_GRAD;
    return gb_node_create(g, grad ? &op_sigmoid_xent_grad : &op_sigmoid_xent, grad ? "logistic_loss_grad" : "logistic_loss",
                          inputs, 2, &attrs);
}

/* Losses take two tensors of one shape, as TF-1's tf.losses: predictions [N, 1] against targets
 * [N] would otherwise broadcast to an [N, N] loss. */
static int loss_shapes_fit(gb_graph *g, const char *op, const char *first, gb_node *a, const char *second, gb_node *b)
{
    if (!g || g->status != GB_OK || !a || !b || shapes_compatible(&a->shape, &b->shape)) return 1;
    char sa[96], sb[96];
    gb_graph_fail(g, GB_ESHAPE, "%s: %s %s and %s %s must have the same shape", op, first,
                  gb_shape_format(&a->shape, sa, sizeof sa), second, gb_shape_format(&b->shape, sb, sizeof sb));
    return 0;
}

gb_node *gb_sigmoid_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels)
{
    if (!loss_shapes_fit(g, "sigmoid_cross_entropy", "logits", logits, "labels", labels)) return NULL;
    return sigmoid_xent_node(g, GB_BINARY_SIGMOID_XENT, logits, labels);
}

gb_node *gb_mean_squared_error(gb_graph *g, gb_node *predictions, gb_node *targets)
{
    if (!loss_shapes_fit(g, "mean_squared_error", "predictions", predictions, "targets", targets)) return NULL;
    return gb_reduce_mean(g, gb_square(g, gb_sub(g, predictions, targets)), GB_ALL_AXES, 0);
}

/* ---- dropout: a seeded mask, different at every session run, the same for its gradient ---- */

/* Element i is kept when word i % 4 of Philox(seed; run, i - i % 4) is at least rate * 2^32, then
 * scaled by 1 / (1 - rate). Words are drawn a chunk at a time so the generator runs in SIMD lanes. */
#define DROPOUT(T)                                                                                       \
    {                                                                                                    \
        const T *x = k->in[0]->data;                                                                     \
        T *y = k->out->data;                                                                             \
        T scale = (T)(1.0 / (1.0 - rate));                                                               \
        uint64_t threshold = (uint64_t)ceil(rate * 4294967296.0);                                        \
        /* words[j] >= threshold in 32-bit arithmetic (threshold may be 2^32), so that it vectorises */  \
        uint32_t below = threshold ? (uint32_t)(threshold - 1) : 0;                                      \
        int keep_all = threshold == 0;                                                                   \
        enum { CHUNK = 256 };                                                                            \
        uint32_t words[CHUNK];                                                                           \
        for (int64_t i = 0; i < n; i += CHUNK) {                                                         \
            int64_t m = n - i < CHUNK ? n - i : CHUNK;                                                   \
            gb_philox4x32_blocks(seed, run, (uint64_t)i, 4, (size_t)(m + 3) / 4, words);                 \
            for (int64_t j = 0; j < m; j++) { /* the load unconditional, so that the loop vectorises */  \
                T kept = x[i + j] * scale;                                                               \
                y[i + j] = (keep_all | (words[j] > below)) ? kept : 0;                                   \
            }                                                                                            \
        }                                                                                                \
    }


static gb_status dropout_forward(const gb_kernel_args *k)
{
    double rate = k->node->attr.alpha;
    uint64_t seed = (uint64_t)k->node->attr.count, run = gb_session_dropout_counter(k->session);
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        DROPOUT(double)
    else
        DROPOUT(float)
    return GB_OK;
}

static gb_node *dropout_node(gb_graph *g, gb_node *x, double rate, uint64_t seed);

static void dropout_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    /* the same mask (same seed, same run) applied to the upstream gradient */
    dx[0] = dropout_node(g, dy, n->attr.alpha, (uint64_t)n->attr.count);
}

static const gb_op_def op_dropout = {"Dropout", last_axis_infer, dropout_forward, dropout_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_dropout_forward)};

static gb_node *dropout_node(gb_graph *g, gb_node *x, double rate, uint64_t seed)
{
    gb_attrs attrs = {0};
    attrs.alpha = rate;
    attrs.count = (int64_t)seed;
    return gb_node_create(g, &op_dropout, "dropout", &x, 1, &attrs);
}

gb_node *gb_dropout(gb_graph *g, gb_node *x, double rate, uint64_t seed)
{
    if (g && g->status == GB_OK && !(rate >= 0 && rate < 1)) {
        gb_graph_fail(g, GB_EINVAL, "dropout: rate %g is outside [0, 1)", rate);
        return NULL;
    }
    return dropout_node(g, x, rate, seed);
}
