/* Elementwise ops of one input (neg, square, sqrt, exp, log, abs, sign, relu, leaky relu,
 * sigmoid, tanh), the gradient ops of the activations, cast, identity and stop_gradient. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/kernel_util.h"
#include "internal/op_kinds.h"
#include "internal/parallel.h"

/* Large tensors (the big MLP's 2M-element activations) are split across the pool, in chunks of
 * this many elements. */
enum { ELEMENTWISE_GRAIN = 1 << 15 };

#define UNARY_LOOP(T, EXPR)                                      \
    {                                                            \
        const T *x_ = in->data;                                  \
        T *o_ = out->data;                                       \
        for (int64_t i = 0; i < n; i++) {                        \
            T x = x_[i];                                         \
            o_[i] = (EXPR);                                      \
        }                                                        \
    }

/* One switch per element type keeps each loop a simple, vectorisable body. */
#define UNARY_CASES(T, EXP_F, LOG_F, SQRT_F, TANH_F)                                                      \
    switch (kind) {                                                                                       \
    case GB_UNARY_NEG: UNARY_LOOP(T, -x) break;                                                           \
    case GB_UNARY_SQUARE: UNARY_LOOP(T, x * x) break;                                                     \
    case GB_UNARY_SQRT: UNARY_LOOP(T, SQRT_F(x)) break;                                                   \
    case GB_UNARY_EXP: UNARY_LOOP(T, EXP_F(x)) break;                                                     \
    case GB_UNARY_LOG: UNARY_LOOP(T, LOG_F(x)) break;                                                     \
    case GB_UNARY_ABS: UNARY_LOOP(T, x < 0 ? -x : x) break;                                               \
    case GB_UNARY_SIGN: UNARY_LOOP(T, x == x ? (T)((x > 0) - (x < 0)) : x) break;                         \
    case GB_UNARY_RELU: UNARY_LOOP(T, x < 0 ? 0 : x) break;                                               \
    case GB_UNARY_LEAKY_RELU: UNARY_LOOP(T, x > 0 ? x : (T)alpha * x) break;                              \
    case GB_UNARY_SIGMOID: UNARY_LOOP(T, x >= 0 ? 1 / (1 + EXP_F(-x)) : EXP_F(x) / (1 + EXP_F(x))) break; \
    case GB_UNARY_TANH: UNARY_LOOP(T, TANH_F(x)) break;                                                   \
    default: break;                                                                                       \
    }

/* Integers wrap around in two's complement, as in TensorFlow (-INT_MIN and |INT_MIN| are INT_MIN):
 * the arithmetic is done in the unsigned type, where overflow is defined. |x| is (x ^ s) - s with
 * s = x >> (bits - 1), all ones for negative x (an arithmetic shift in gcc and clang): unlike a
 * select on x < 0, that vectorises for 64-bit lanes too. */
#define SIGN_BITS(T, x) ((x) >> (sizeof(T) * 8 - 1))
#define INT_UNARY_CASES(T, U)                                                                    \
    switch (kind) {                                                                              \
    case GB_UNARY_NEG: UNARY_LOOP(T, (T)(0u - (U)x)) break;                                      \
    case GB_UNARY_SQUARE: UNARY_LOOP(T, (T)((U)x * (U)x)) break;                                 \
    case GB_UNARY_ABS: UNARY_LOOP(T, (T)(((U)x ^ (U)SIGN_BITS(T, x)) - (U)SIGN_BITS(T, x))) break; \
    default: break;                                                                              \
    }

static gb_status unary_forward(const gb_kernel_args *k)
{
    const gb_tensor *in = k->in[0];
    gb_tensor *out = k->out;
    gb_unary_kind kind = (gb_unary_kind)k->node->attr.flag;
    double alpha = k->node->attr.alpha;
    int64_t n = gb_shape_elements(&in->shape);
    if (in->dtype == GB_F32) {
        UNARY_CASES(float, expf, logf, sqrtf, tanhf)
    } else if (in->dtype == GB_F64) {
        UNARY_CASES(double, exp, log, sqrt, tanh)
    } else if (in->dtype == GB_I32) {
        INT_UNARY_CASES(int32_t, uint32_t)
    } else if (in->dtype == GB_I64) {
        INT_UNARY_CASES(int64_t, uint64_t)
    }
    return GB_OK;
}

static gb_status unary_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype, gb_shape *shape,
                             char *err, size_t err_size)
{
    gb_unary_kind kind = (gb_unary_kind)n->attr.flag;
    int integer_ok = kind == GB_UNARY_NEG || kind == GB_UNARY_SQUARE || kind == GB_UNARY_ABS;
    if (!gb_is_float(dt[0]) && !(integer_ok && (dt[0] == GB_I32 || dt[0] == GB_I64))) {
        snprintf(err, err_size, "dtype %s is not supported", gb_dtype_name(dt[0]));
        return GB_EINVAL;
    }
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

#define BIAS_ACTIVATION(T, EXP_F, TANH_F)                                                     \
    {                                                                                         \
        const T *restrict xs = (const T *)j->x + begin * cols, *restrict bs = j->bias;        \
        T *restrict os = (T *)j->out + begin * cols;                                          \
        for (int64_t r = begin; r < end; r++, xs += cols, os += cols) {                       \
            switch (kind) {                                                                   \
            case GB_UNARY_RELU:                                                               \
                for (int64_t c = 0; c < cols; c++) {                                          \
                    T v = xs[c] + bs[c];                                                      \
                    os[c] = v < 0 ? 0 : v; /* NaN passes, as in the unfused relu */           \
                }                                                                             \
                break;                                                                        \
            case GB_UNARY_SIGMOID:                                                            \
                for (int64_t c = 0; c < cols; c++) {                                          \
                    T v = xs[c] + bs[c];                                                      \
                    os[c] = v >= 0 ? 1 / (1 + EXP_F(-v)) : EXP_F(v) / (1 + EXP_F(v));         \
                }                                                                             \
                break;                                                                        \
            default:                                                                          \
                for (int64_t c = 0; c < cols; c++) os[c] = TANH_F(xs[c] + bs[c]);             \
                break;                                                                        \
            }                                                                                 \
        }                                                                                     \
    }

typedef struct bias_job {
    const void *x, *bias;
    void *out;
    int64_t cols;
    gb_unary_kind kind;
    int f64;
} bias_job;

GB_SIMD_CLONES static void bias_activation_rows(void *ctx, int64_t begin, int64_t end)
{
    const bias_job *j = ctx;
    int64_t cols = j->cols;
    gb_unary_kind kind = j->kind;
    if (j->f64)
        BIAS_ACTIVATION(double, exp, tanh)
    else
        BIAS_ACTIVATION(float, expf, tanhf)
}

gb_status gb_bias_activation_forward(const gb_node *activation, const gb_tensor *x, const gb_tensor *bias,
                                     gb_tensor *out)
{
    bias_job j = {x->data, bias->data, out->data, bias->shape.dim[0], (gb_unary_kind)activation->attr.flag,
                  x->dtype == GB_F64};
    int64_t total = gb_shape_elements(&x->shape), rows = j.cols ? total / j.cols : 0;
    int64_t grain = j.cols ? (ELEMENTWISE_GRAIN + j.cols - 1) / j.cols : rows;
    gb_parallel_for(rows, grain, bias_activation_rows, &j);
    return GB_OK;
}

/* ---- the activations' gradient ops: (a, b) of one shape ---- */

#define GRAD_CASES(T)                                                                         \
    {                                                                                         \
        const T *restrict a = (const T *)j->a + begin, *restrict b = (const T *)j->b + begin; \
        T *restrict o = (T *)j->o + begin;                                                    \
        T alpha = (T)j->alpha;                                                                \
        int64_t n = end - begin;                                                              \
        switch (j->kind) {                                                                    \
        case GB_ACTIVATION_RELU_GRAD: /* (dy, x) */                                           \
            for (int64_t i = 0; i < n; i++) { /* both loads unconditional: vectorises */      \
                T dy = a[i];                                                                  \
                o[i] = b[i] > 0 ? dy : 0;                                                     \
            }                                                                                 \
            break;                                                                            \
        case GB_ACTIVATION_LEAKY_RELU_GRAD: /* (dy, x) */                                     \
            for (int64_t i = 0; i < n; i++) {                                                 \
                T dy = a[i];                                                                  \
                o[i] = b[i] > 0 ? dy : alpha * dy;                                            \
            }                                                                                 \
            break;                                                                            \
        case GB_ACTIVATION_SIGMOID_GRAD: /* (y, dy) */                                        \
            for (int64_t i = 0; i < n; i++) o[i] = b[i] * a[i] * (1 - a[i]);                  \
            break;                                                                            \
        case GB_ACTIVATION_TANH_GRAD: /* (y, dy) */                                           \
            for (int64_t i = 0; i < n; i++) o[i] = b[i] * (1 - a[i] * a[i]);                  \
            break;                                                                            \
        }                                                                                     \
    }

typedef struct grad_job {
    const void *a, *b;
    void *o;
    double alpha;
    gb_grad_kind kind;
    int f64;
} grad_job;

GB_SIMD_CLONES static void activation_grad_range(void *ctx, int64_t begin, int64_t end)
{
    const grad_job *j = ctx;
    if (j->f64)
        GRAD_CASES(double)
    else
        GRAD_CASES(float)
}

static gb_status activation_grad_forward(const gb_kernel_args *k)
{
    grad_job j = {k->in[0]->data, k->in[1]->data, k->out->data, k->node->attr.alpha, (gb_grad_kind)k->node->attr.flag,
                  k->out->dtype == GB_F64};
    gb_parallel_for(gb_shape_elements(&k->out->shape), ELEMENTWISE_GRAIN, activation_grad_range, &j);
    return GB_OK;
}

static gb_status same_shape_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                  gb_shape *shape, char *err, size_t err_size)
{
    (void)n;
    char sa[96], sb[96];
    if (dt[0] != dt[1] || !gb_is_float(dt[0])) {
        snprintf(err, err_size, "needs two inputs of one float dtype, got %s and %s", gb_dtype_name(dt[0]),
                 gb_dtype_name(dt[1]));
        return GB_EINVAL;
    }
    int compatible = sh[0].rank == sh[1].rank;
    for (int i = 0; compatible && i < sh[0].rank; i++)
        compatible = sh[0].dim[i] < 0 || sh[1].dim[i] < 0 || sh[0].dim[i] == sh[1].dim[i];
    if (!compatible) {
        snprintf(err, err_size, "needs inputs of one shape, got %s and %s", gb_shape_format(&sh[0], sa, sizeof sa),
                 gb_shape_format(&sh[1], sb, sizeof sb));
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    *shape = sh[0];
    for (int i = 0; i < shape->rank; i++)
        if (shape->dim[i] < 0) shape->dim[i] = sh[1].dim[i];
    return GB_OK;
}

static gb_node *activation_grad(gb_graph *g, gb_grad_kind kind, gb_node *a, gb_node *b, double alpha);

static void relu_grad_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    /* ReluGrad(dy, x) is linear in dy with the same mask; x gets none (the mask is flat) */
    dx[0] = activation_grad(g, (gb_grad_kind)n->attr.flag, dy, n->inputs[1], n->attr.alpha);
}

static void sigmoid_grad_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    gb_node *y = n->inputs[0], *dy = n->inputs[1];
    /* o = dy * y * (1 - y): do/dy' = y(1-y), do/dy = dy * (1 - 2y) */
    gb_node *one = gb_scalar_like(g, y, 1.0), *two = gb_scalar_like(g, y, 2.0);
    dx[0] = gb_mul(g, ddx, gb_mul(g, dy, gb_sub(g, one, gb_mul(g, two, y))));
    dx[1] = activation_grad(g, GB_ACTIVATION_SIGMOID_GRAD, y, ddx, 0);
}

static void tanh_grad_gradient(gb_graph *g, gb_node *n, gb_node *ddx, gb_node **dx)
{
    gb_node *y = n->inputs[0], *dy = n->inputs[1];
    /* o = dy * (1 - y^2): do/dy = -2 y dy */
    dx[0] = gb_mul(g, ddx, gb_mul(g, gb_scalar_like(g, y, -2.0), gb_mul(g, y, dy)));
    dx[1] = activation_grad(g, GB_ACTIVATION_TANH_GRAD, y, ddx, 0);
}

static const gb_op_def op_relu_grad = {"ReluGrad", same_shape_infer, activation_grad_forward, relu_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_activation_grad_forward)};
static const gb_op_def op_leaky_relu_grad = {"LeakyReluGrad", same_shape_infer, activation_grad_forward,
                                             relu_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_activation_grad_forward)};
static const gb_op_def op_sigmoid_grad = {"SigmoidGrad", same_shape_infer, activation_grad_forward,
                                          sigmoid_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_activation_grad_forward)};
static const gb_op_def op_tanh_grad = {"TanhGrad", same_shape_infer, activation_grad_forward, tanh_grad_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_activation_grad_forward)};

static gb_node *activation_grad(gb_graph *g, gb_grad_kind kind, gb_node *a, gb_node *b, double alpha)
{
    static const gb_op_def *const ops[] = {&op_relu_grad, &op_leaky_relu_grad, &op_sigmoid_grad, &op_tanh_grad};
    gb_attrs attrs = {0};
    attrs.flag = kind;
    attrs.alpha = alpha;
    gb_node *inputs[2] = {a, b};
    return gb_node_create(g, ops[kind], NULL, inputs, 2, &attrs);
}

/* ---- gradients of the unary ops ---- */

static void unary_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *x = n->inputs[0];
    switch ((gb_unary_kind)n->attr.flag) {
    case GB_UNARY_NEG: dx[0] = gb_neg(g, dy); break;
    case GB_UNARY_SQUARE: dx[0] = gb_mul(g, dy, gb_mul(g, gb_scalar_like(g, x, 2.0), x)); break;
    case GB_UNARY_SQRT: dx[0] = gb_div(g, gb_mul(g, dy, gb_scalar_like(g, x, 0.5)), n); break;
    case GB_UNARY_EXP: dx[0] = gb_mul(g, dy, n); break;
    case GB_UNARY_LOG: dx[0] = gb_div(g, dy, x); break;
    case GB_UNARY_ABS: dx[0] = gb_mul(g, dy, gb_sign(g, x)); break;
    case GB_UNARY_SIGN: { /* zeros, as TensorFlow's: y depends on x, so x gets a gradient (not NULL) */
        gb_node *ones = gb_ones_like(g, x);
        dx[0] = gb_sub(g, ones, ones);
        break;
    }
    /* from the output (positive exactly where the input is), so that nothing else reads the input
     * and the session can fuse it with the bias add that produced it */
    case GB_UNARY_RELU: dx[0] = activation_grad(g, GB_ACTIVATION_RELU_GRAD, dy, n, 0); break;
    case GB_UNARY_LEAKY_RELU: dx[0] = activation_grad(g, GB_ACTIVATION_LEAKY_RELU_GRAD, dy, x, n->attr.alpha); break;
    case GB_UNARY_SIGMOID: dx[0] = activation_grad(g, GB_ACTIVATION_SIGMOID_GRAD, n, dy, 0); break;
    case GB_UNARY_TANH: dx[0] = activation_grad(g, GB_ACTIVATION_TANH_GRAD, n, dy, 0); break;
    default: break;
    }
}

static const gb_op_def unary_ops[GB_UNARY_KINDS] = {
    [GB_UNARY_NEG] = {"Neg", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_SQUARE] = {"Square", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_SQRT] = {"Sqrt", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_EXP] = {"Exp", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_LOG] = {"Log", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_ABS] = {"Abs", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_SIGN] = {"Sign", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_RELU] = {"Relu", unary_infer, unary_forward, unary_gradient, 0, 0, 1, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_LEAKY_RELU] = {"LeakyRelu", unary_infer, unary_forward, unary_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_SIGMOID] = {"Sigmoid", unary_infer, unary_forward, unary_gradient, 0, 0, 1, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
    [GB_UNARY_TANH] = {"Tanh", unary_infer, unary_forward, unary_gradient, 0, 0, 1, 0, GB_CUDA_KERNEL(gb_cuda_unary_forward)},
};

static gb_node *unary(gb_graph *g, gb_unary_kind kind, gb_node *x, double alpha)
{
    gb_attrs attrs = {0};
    attrs.flag = kind;
    attrs.alpha = alpha;
    return gb_node_create(g, &unary_ops[kind], NULL, &x, 1, &attrs);
}

gb_node *gb_neg(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_NEG, x, 0); }
gb_node *gb_square(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_SQUARE, x, 0); }
gb_node *gb_sqrt(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_SQRT, x, 0); }
gb_node *gb_exp(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_EXP, x, 0); }
gb_node *gb_log(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_LOG, x, 0); }
gb_node *gb_abs(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_ABS, x, 0); }
gb_node *gb_sign(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_SIGN, x, 0); }
gb_node *gb_relu(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_RELU, x, 0); }
gb_node *gb_leaky_relu(gb_graph *g, gb_node *x, double alpha) { return unary(g, GB_UNARY_LEAKY_RELU, x, alpha); }
gb_node *gb_sigmoid(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_SIGMOID, x, 0); }
gb_node *gb_tanh(gb_graph *g, gb_node *x) { return unary(g, GB_UNARY_TANH, x, 0); }

/* ---- cast, identity, stop_gradient ---- */

static gb_status cast_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype, gb_shape *shape,
                            char *err, size_t err_size)
{
    if (gb_dtype_size(dt[0]) == 0 || gb_dtype_size(n->attr.dtype) == 0) {
        snprintf(err, err_size, "cannot cast %s to %s", gb_dtype_name(dt[0]), gb_dtype_name(n->attr.dtype));
        return GB_EINVAL;
    }
    *dtype = n->attr.dtype;
    *shape = sh[0];
    return GB_OK;
}

/* Floats outside an integer type's range (C leaves their conversion undefined) saturate to its
 * limits and NaN becomes 0, as the GPU's conversion instructions do; the CUDA cast kernel
 * (elementwise.cuh) does the same. */
static inline int32_t float_to_i32(double v)
{
    return v != v ? 0 : v <= INT32_MIN ? INT32_MIN : v >= INT32_MAX ? INT32_MAX : (int32_t)v;
}

static inline int64_t float_to_i64(double v)
{
    return v != v ? 0 : v < -0x1p63 ? INT64_MIN : v >= 0x1p63 ? INT64_MAX : (int64_t)v; /* 2^63: INT64_MAX + 1 */
}

#define CAST_FROM(S, TO_I32, TO_I64)                                                                     \
    {                                                                                                    \
        const S *src = in->data;                                                                         \
        switch (out->dtype) {                                                                            \
        case GB_F32: for (int64_t i = 0; i < n; i++) ((float *)out->data)[i] = (float)src[i]; break;     \
        case GB_F64: for (int64_t i = 0; i < n; i++) ((double *)out->data)[i] = (double)src[i]; break;   \
        case GB_I32: for (int64_t i = 0; i < n; i++) ((int32_t *)out->data)[i] = TO_I32(src[i]); break;  \
        case GB_I64: for (int64_t i = 0; i < n; i++) ((int64_t *)out->data)[i] = TO_I64(src[i]); break;  \
        case GB_BOOL: for (int64_t i = 0; i < n; i++) ((uint8_t *)out->data)[i] = src[i] != 0; break;    \
        default: break;                                                                                  \
        }                                                                                                \
    }

static gb_status cast_forward(const gb_kernel_args *k)
{
    const gb_tensor *in = k->in[0];
    gb_tensor *out = k->out;
    int64_t n = gb_shape_elements(&in->shape);
    switch (in->dtype) {
    case GB_F32: CAST_FROM(float, float_to_i32, float_to_i64) break;
    case GB_F64: CAST_FROM(double, float_to_i32, float_to_i64) break;
    case GB_I32: CAST_FROM(int32_t, (int32_t), (int64_t)) break;
    case GB_I64: CAST_FROM(int64_t, (int32_t), (int64_t)) break;
    case GB_BOOL: CAST_FROM(uint8_t, (int32_t), (int64_t)) break;
    default: break;
    }
    return GB_OK;
}

static void cast_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *x = n->inputs[0];
    dx[0] = gb_is_float(x->dtype) && gb_is_float(n->dtype) ? gb_cast(g, dy, x->dtype) : NULL;
}

static const gb_op_def op_cast = {"Cast", cast_infer, cast_forward, cast_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_cast_forward)};

gb_node *gb_cast(gb_graph *g, gb_node *x, gb_dtype dtype)
{
    gb_attrs attrs = {0};
    attrs.dtype = dtype;
    return gb_node_create(g, &op_cast, "Cast", &x, 1, &attrs);
}

static gb_status pass_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype, gb_shape *shape,
                            char *err, size_t err_size)
{
    (void)n, (void)err, (void)err_size;
    *dtype = dt[0];
    *shape = sh[0];
    return GB_OK;
}

static gb_status pass_forward(const gb_kernel_args *k)
{
    (void)k; /* the output is the input's memory */
    return GB_OK;
}

static void identity_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    (void)g, (void)n;
    dx[0] = dy;
}

static const gb_op_def op_identity = {"Identity", pass_infer, pass_forward, identity_gradient, 1, 0, 0, 0, NULL};

static gb_status snapshot_forward(const gb_kernel_args *k)
{
    size_t bytes = gb_tensor_bytes(k->in[0]);
    if (bytes && k->out->data != k->in[0]->data) memcpy(k->out->data, k->in[0]->data, bytes);
    return GB_OK;
}

static const gb_op_def op_snapshot = {"Snapshot", pass_infer, snapshot_forward, identity_gradient, 0, 0, 0, 0,
                                      GB_CUDA_KERNEL(gb_cuda_snapshot_forward)};

gb_node *gb_snapshot(gb_graph *g, gb_node *x) { return gb_node_create(g, &op_snapshot, NULL, &x, 1, NULL); }
static const gb_op_def op_stop_gradient = {"StopGradient", pass_infer, pass_forward, NULL, 1, 0, 0, 0, NULL};

gb_node *gb_identity(gb_graph *g, gb_node *x) { return gb_node_create(g, &op_identity, NULL, &x, 1, NULL); }
gb_node *gb_stop_gradient(gb_graph *g, gb_node *x) { return gb_node_create(g, &op_stop_gradient, NULL, &x, 1, NULL); }
