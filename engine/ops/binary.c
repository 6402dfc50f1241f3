/* Elementwise ops of two inputs with NumPy broadcasting: add, sub, mul, div, pow, maximum,
 * minimum and the comparisons. Kernels, shape rule and gradients. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/kernel_util.h"
#include "internal/op_kinds.h"
#include "internal/shape_util.h"

/* A NaN on either side gives NaN (x != x tests x; a comparison with NaN in y is false, which
 * picks y), so that maximum(x, 0) and maximum(0, x) agree, as in TensorFlow and NumPy. */
#define ROWS_FOR(T, suffix)                                                    \
    GB_DEFINE_BINARY_ROW(add, T, suffix, x + y)                                \
    GB_DEFINE_BINARY_ROW(sub, T, suffix, x - y)                                \
    GB_DEFINE_BINARY_ROW(mul, T, suffix, x * y)                                \
    GB_DEFINE_BINARY_ROW(maximum, T, suffix, x >= y || x != x ? x : y)         \
    GB_DEFINE_BINARY_ROW(minimum, T, suffix, x <= y || x != x ? x : y)

/* Integers wrap around in two's complement, as in TensorFlow: computed in the unsigned type,
 * where overflow is defined. */
#define INT_ROWS_FOR(T, U, suffix)                                             \
    GB_DEFINE_BINARY_ROW(add, T, suffix, (T)((U)x + (U)y))                     \
    GB_DEFINE_BINARY_ROW(sub, T, suffix, (T)((U)x - (U)y))                     \
    GB_DEFINE_BINARY_ROW(mul, T, suffix, (T)((U)x * (U)y))                     \
    GB_DEFINE_BINARY_ROW(maximum, T, suffix, x >= y ? x : y)                   \
    GB_DEFINE_BINARY_ROW(minimum, T, suffix, x <= y ? x : y)

ROWS_FOR(float, _f32)
ROWS_FOR(double, _f64)
INT_ROWS_FOR(int32_t, uint32_t, _i32)
INT_ROWS_FOR(int64_t, uint64_t, _i64)
GB_DEFINE_BINARY_ROW(div, float, _f32, x / y)
GB_DEFINE_BINARY_ROW(div, double, _f64, x / y)
GB_DEFINE_BINARY_ROW(pow, float, _f32, powf(x, y))
GB_DEFINE_BINARY_ROW(pow, double, _f64, pow(x, y))
GB_DEFINE_BINARY_ROW(keep_where, float, _f32, y != 0 ? x : 0)
GB_DEFINE_BINARY_ROW(keep_where, double, _f64, y != 0 ? x : 0)

/* Comparisons write bool (uint8) from typed inputs. */
#define COMPARE_ROW(name, T, suffix, OP)                                                                  \
    static void name##suffix(const void *a_, int64_t sa, const void *b_, int64_t sb, void *o_, int64_t n) \
    {                                                                                                     \
        const T *a = a_, *b = b_;                                                                         \
        uint8_t *o = o_;                                                                                  \
        for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] OP b[i * sb];                                    \
    }
#define COMPARES_FOR(T, suffix)                 \
    COMPARE_ROW(equal, T, suffix, ==)           \
    COMPARE_ROW(greater, T, suffix, >)          \
    COMPARE_ROW(greater_equal, T, suffix, >=)
COMPARES_FOR(float, _f32)
COMPARES_FOR(double, _f64)
COMPARES_FOR(int32_t, _i32)
COMPARES_FOR(int64_t, _i64)
COMPARE_ROW(equal, uint8_t, _bool, ==)

/* rows[kind][dtype slot]: slots f32, f64, i32, i64, bool */
static const gb_binary_row rows[][5] = {
    [GB_BINARY_ADD] = {add_f32, add_f64, add_i32, add_i64, NULL},
    [GB_BINARY_SUB] = {sub_f32, sub_f64, sub_i32, sub_i64, NULL},
    [GB_BINARY_MUL] = {mul_f32, mul_f64, mul_i32, mul_i64, NULL},
    [GB_BINARY_DIV] = {div_f32, div_f64, NULL, NULL, NULL},
    [GB_BINARY_POW] = {pow_f32, pow_f64, NULL, NULL, NULL},
    [GB_BINARY_MAXIMUM] = {maximum_f32, maximum_f64, maximum_i32, maximum_i64, NULL},
    [GB_BINARY_MINIMUM] = {minimum_f32, minimum_f64, minimum_i32, minimum_i64, NULL},
    [GB_BINARY_KEEP_WHERE] = {keep_where_f32, keep_where_f64, NULL, NULL, NULL},
    [GB_BINARY_EQUAL] = {equal_f32, equal_f64, equal_i32, equal_i64, equal_bool},
    [GB_BINARY_GREATER] = {greater_f32, greater_f64, greater_i32, greater_i64, NULL},
    [GB_BINARY_GREATER_EQUAL] = {greater_equal_f32, greater_equal_f64, greater_equal_i32, greater_equal_i64, NULL},
};

static int dtype_slot(gb_dtype t)
{
    switch (t) {
    case GB_F32: return 0;
    case GB_F64: return 1;
    case GB_I32: return 2;
    case GB_I64: return 3;
    case GB_BOOL: return 4;
    default: return -1;
    }
}

static gb_status binary_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    gb_binary_kind kind = (gb_binary_kind)n->attr.flag;
    if (dt[0] != dt[1]) {
        snprintf(err, err_size, "the inputs' dtypes differ (%s and %s); cast one with gb_cast", gb_dtype_name(dt[0]),
                 gb_dtype_name(dt[1]));
        return GB_EINVAL;
    }
    int slot = dtype_slot(dt[0]);
    if (slot < 0 || !rows[kind][slot]) {
        snprintf(err, err_size, "dtype %s is not supported", gb_dtype_name(dt[0]));
        return GB_EINVAL;
    }
    *dtype = kind >= GB_BINARY_EQUAL ? GB_BOOL : dt[0];
    return gb_broadcast_shape(&sh[0], &sh[1], shape, err, err_size);
}

static gb_status binary_forward(const gb_kernel_args *k)
{
    const gb_tensor *a = k->in[0], *b = k->in[1];
    /* run-time shapes were checked when the plan was made */
    gb_broadcast_apply(a, b, k->out, rows[k->node->attr.flag][dtype_slot(a->dtype)]);
    return GB_OK;
}

/* d (shaped like n's output) summed down to input i's shape. No op when the two shapes must be
 * equal at run time: equal at build time, and where both are unknown (-1), the other input lacks
 * that axis or has size 1 there, so the output's size is input i's (a bias add's batch axis). */
static gb_node *to_input(gb_graph *g, gb_node *n, int i, gb_node *d)
{
    if (!d) return NULL;
    const gb_shape *in = &n->inputs[i]->shape, *out = &n->shape, *other = &n->inputs[1 - i]->shape;
    int same = in->rank == out->rank;
    for (int a = 0; same && a < in->rank; a++) {
        int o = a - (out->rank - other->rank); /* the other input's matching axis, if any */
        same = in->dim[a] == out->dim[a] && (in->dim[a] >= 0 || o < 0 || other->dim[o] == 1);
    }
    return same ? d : gb_reduce_to_like(g, d, n->inputs[i]);
}

static void add_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    dx[0] = to_input(g, n, 0, dy);
    dx[1] = to_input(g, n, 1, dy);
}

static void sub_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    dx[0] = to_input(g, n, 0, dy);
    dx[1] = to_input(g, n, 1, gb_neg(g, dy));
}

static void mul_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *a = n->inputs[0], *b = n->inputs[1];
    dx[0] = to_input(g, n, 0, gb_mul(g, dy, b));
    dx[1] = to_input(g, n, 1, gb_mul(g, dy, a));
}

static void div_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *b = n->inputs[1];
    dx[0] = to_input(g, n, 0, gb_div(g, dy, b));
    /* d(a/b)/db = -a / b^2 = (-(a/b) / b) * dy: dy * (a/b) first could overflow (1e30 * 1e10)
     * or underflow where the whole does not, as in TensorFlow's order */
    dx[1] = to_input(g, n, 1, gb_mul(g, dy, gb_div(g, gb_neg(g, n), b)));
}

static void pow_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *a = n->inputs[0], *b = n->inputs[1];
    /* d/da = b * a^(b-1) */
    gb_node *b_minus_1 = gb_sub(g, b, gb_scalar_like(g, b, 1.0));
    dx[0] = to_input(g, n, 0, gb_mul(g, dy, gb_mul(g, b, gb_pow(g, a, b_minus_1))));
    /* d/db = a^b * log(a), taken as 0 where a <= 0 (TensorFlow's convention): log reads a raised
     * to the dtype's smallest normal there, so that 0 * log stays 0 (1e-300 is 0 in float32) */
    gb_node *positive = gb_cast(g, gb_greater(g, a, gb_scalar_like(g, a, 0.0)), a->dtype);
    gb_node *safe_a = gb_maximum(g, a, gb_scalar_like(g, a, a->dtype == GB_F32 ? FLT_MIN : DBL_MIN));
    gb_node *log_a = gb_mul(g, positive, gb_log(g, safe_a));
    dx[1] = to_input(g, n, 1, gb_mul(g, dy, gb_mul(g, n, log_a)));
}

/* The gradient goes to the larger input (the first on ties, like TensorFlow). */
static gb_node *keep_where(gb_graph *g, gb_node *x, gb_node *mask);

/* dy goes whole to a where pick_a holds (ties included), else to b, as TensorFlow's
 * where(mask, dy, 0): a select, not dy * mask, so that an infinite dy does not become NaN
 * (inf * 0) on the input not picked. */
static void route_by_mask(gb_graph *g, gb_node *n, gb_node *dy, gb_node *pick_a, gb_node **dx)
{
    gb_node *mask_a = gb_cast(g, pick_a, dy->dtype);
    gb_node *mask_b = gb_sub(g, gb_scalar_like(g, mask_a, 1.0), mask_a);
    dx[0] = to_input(g, n, 0, keep_where(g, dy, mask_a));
    dx[1] = to_input(g, n, 1, keep_where(g, dy, mask_b));
}

static void maximum_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    route_by_mask(g, n, dy, gb_greater_equal(g, n->inputs[0], n->inputs[1]), dx);
}

static void minimum_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    route_by_mask(g, n, dy, gb_greater_equal(g, n->inputs[1], n->inputs[0]), dx);
}

static void keep_where_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    dx[0] = to_input(g, n, 0, keep_where(g, dy, n->inputs[1])); /* the mask is a constant of the path */
}

#define BINARY_OP(var, tf_name, grad) \
    static const gb_op_def var = {tf_name, binary_infer, binary_forward, grad, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_binary_forward)};
static const gb_op_def op_add = {"Add", binary_infer, binary_forward, add_gradient, 0, 0, 0, 1, GB_CUDA_KERNEL(gb_cuda_binary_forward)};
BINARY_OP(op_sub, "Sub", sub_gradient)
BINARY_OP(op_mul, "Mul", mul_gradient)
BINARY_OP(op_div, "RealDiv", div_gradient)
BINARY_OP(op_pow, "Pow", pow_gradient)
BINARY_OP(op_maximum, "Maximum", maximum_gradient)
BINARY_OP(op_minimum, "Minimum", minimum_gradient)
BINARY_OP(op_keep_where, "KeepWhere", keep_where_gradient)
BINARY_OP(op_equal, "Equal", NULL)
BINARY_OP(op_greater, "Greater", NULL)
BINARY_OP(op_greater_equal, "GreaterEqual", NULL)

int gb_is_mul(const gb_node *n) { return n->op == &op_mul; }

/* TensorFlow's default node names for these ops. */
static gb_node *binary(gb_graph *g, const gb_op_def *op, const char *name, gb_binary_kind kind, gb_node *a, gb_node *b)
{
    gb_attrs attrs = {0};
    attrs.flag = kind;
    gb_node *inputs[2] = {a, b};
    return gb_node_create(g, op, name, inputs, 2, &attrs);
}

gb_node *gb_add(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_add, "add", GB_BINARY_ADD, a, b); }
gb_node *gb_sub(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_sub, "sub", GB_BINARY_SUB, a, b); }
gb_node *gb_mul(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_mul, "mul", GB_BINARY_MUL, a, b); }
gb_node *gb_div(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_div, "truediv", GB_BINARY_DIV, a, b); }
gb_node *gb_pow(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_pow, "pow", GB_BINARY_POW, a, b); }
gb_node *gb_maximum(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_maximum, "Maximum", GB_BINARY_MAXIMUM, a, b); }
gb_node *gb_minimum(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_minimum, "Minimum", GB_BINARY_MINIMUM, a, b); }
static gb_node *keep_where(gb_graph *g, gb_node *x, gb_node *mask)
{
    return binary(g, &op_keep_where, "KeepWhere", GB_BINARY_KEEP_WHERE, x, mask);
}
gb_node *gb_equal(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_equal, "Equal", GB_BINARY_EQUAL, a, b); }
gb_node *gb_greater(gb_graph *g, gb_node *a, gb_node *b) { return binary(g, &op_greater, "Greater", GB_BINARY_GREATER, a, b); }
gb_node *gb_greater_equal(gb_graph *g, gb_node *a, gb_node *b)
{
    return binary(g, &op_greater_equal, "GreaterEqual", GB_BINARY_GREATER_EQUAL, a, b);
}

gb_node *gb_pow_scalar(gb_graph *g, gb_node *a, double exponent)
{
    if (!a) return binary(g, &op_pow, "pow", GB_BINARY_POW, NULL, NULL);
    return gb_pow(g, a, gb_scalar_like(g, a, exponent));
}
