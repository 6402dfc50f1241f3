/* Sources and state: placeholders, constants, variables with their initializers, assignments,
 * and the no-op that groups work (tf.group, the train step, "init"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/init.h"
#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/graph_impl.h"
#include "internal/session_impl.h"
#include "internal/shape_util.h"

/* ---- placeholder ---- */

static const gb_op_def op_placeholder = {"Placeholder", NULL, NULL, NULL, 0, 0, 0, 0, NULL};

static int valid_shape(gb_graph *g, const char *what, const char *name, gb_shape shape, int allow_unknown)
{
    char buf[160];
    if (shape.rank < 0 || shape.rank > GB_MAX_RANK) {
        gb_graph_fail(g, GB_ESHAPE, "%s %s: rank %d is outside 0..%d", what, name ? name : "", shape.rank, GB_MAX_RANK);
        return 0;
    }
    for (int i = 0; i < shape.rank; i++) {
        if (shape.dim[i] >= 0 || (allow_unknown && shape.dim[i] == -1)) continue;
        gb_graph_fail(g, GB_ESHAPE, "%s %s: invalid shape %s: dimension %d is %lld%s", what, name ? name : "",
                      gb_shape_format(&shape, buf, sizeof buf), i, (long long)shape.dim[i],
                      allow_unknown ? " (only -1, unknown, may be negative)" : " (this shape must be fully known)");
        return 0;
    }
    if (gb_shape_too_large(&shape)) {
        gb_graph_fail(g, GB_ESHAPE, "%s %s: shape %s has too many elements", what, name ? name : "",
                      gb_shape_format(&shape, buf, sizeof buf));
        return 0;
    }
    return 1;
}

gb_node *gb_placeholder(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape)
{
    if (!g || g->status != GB_OK) return NULL;
    if (gb_dtype_size(dtype) == 0) {
        gb_graph_fail(g, GB_EINVAL, "placeholder %s: invalid dtype %d", name ? name : "", (int)dtype);
        return NULL;
    }
    if (!valid_shape(g, "placeholder", name, shape, 1)) return NULL;
    gb_node *n = gb_node_create(g, &op_placeholder, name ? name : "Placeholder", NULL, 0, NULL);
    if (n) n->dtype = dtype, n->shape = shape;
    return n;
}

/* ---- constants ---- */

static gb_status const_forward(const gb_kernel_args *k)
{
    if (k->node->value->bytes) memcpy(k->out->data, k->node->value->data, k->node->value->bytes);
    return GB_OK;
}

static const gb_op_def op_const = {"Const", NULL, const_forward, NULL, 0, 0, 0, 0, NULL};

gb_node *gb_constant(gb_graph *g, const char *name, const gb_tensor *value)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!value) {
        gb_graph_fail(g, GB_EINVAL, "constant %s: value is NULL", name ? name : "");
        return NULL;
    }
    gb_tensor *copy = gb_tensor_from(value->dtype, value->shape, value->data);
    if (!copy) {
        gb_graph_fail(g, GB_ENOMEM, "constant %s: %s", name ? name : "", gb_errmsg());
        return NULL;
    }
    gb_node *n = gb_node_create(g, &op_const, name ? name : "Const", NULL, 0, NULL);
    if (!n) {
        gb_tensor_free(copy);
        return NULL;
    }
    n->value = copy;
    n->dtype = copy->dtype;
    n->shape = copy->shape;
    return n;
}

gb_node *gb_constant_f32(gb_graph *g, const char *name, gb_shape shape, const float *data)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!valid_shape(g, "constant", name, shape, 0)) return NULL;
    if (!data && gb_shape_elements(&shape) > 0) {
        gb_graph_fail(g, GB_EINVAL, "constant %s: data is NULL", name ? name : "");
        return NULL;
    }
    gb_tensor view = gb_tensor_view(GB_F32, shape, (void *)data);
    return gb_constant(g, name, &view);
}

gb_node *gb_scalar_of(gb_graph *g, gb_dtype dtype, double value)
{
    union {
        float f;
        double d;
        int32_t i;
        int64_t l;
        uint8_t b;
    } v;
    /* an integer scalar must hold the value exactly (a conversion out of range is undefined) */
    int in_range = dtype == GB_I32 ? value >= INT32_MIN && value <= INT32_MAX : value >= -0x1p63 && value < 0x1p63;
    if ((dtype == GB_I32 || dtype == GB_I64) && !(in_range && value == (double)(int64_t)value)) {
        if (g && g->status == GB_OK)
            gb_graph_fail(g, GB_EINVAL, "scalar: %g is not a %s value", value, gb_dtype_name(dtype));
        return NULL;
    }
    switch (dtype) {
    case GB_F32: v.f = (float)value; break;
    case GB_F64: v.d = value; break;
    case GB_I32: v.i = (int32_t)value; break;
    case GB_I64: v.l = (int64_t)value; break;
    case GB_BOOL: v.b = value != 0; break;
    default:
        if (g && g->status == GB_OK) gb_graph_fail(g, GB_EINVAL, "scalar: invalid dtype %d", (int)dtype);
        return NULL;
    }
    gb_tensor view = gb_tensor_view(dtype, gb_dims(0), &v);
    return gb_constant(g, "Const", &view);
}

gb_node *gb_scalar(gb_graph *g, double value) { return gb_scalar_of(g, GB_F32, value); }

gb_node *gb_scalar_like(gb_graph *g, gb_node *n, double value)
{
    return n ? gb_scalar_of(g, n->dtype, value) : NULL;
}

/* ---- variables ---- */

static gb_status variable_forward(const gb_kernel_args *k)
{
    if (!gb_session_is_initialized(k->session, k->node))
        return gb_fail(GB_ESTATE, "variable %s is read before it is initialised: run gb_global_variables_initializer "
                       "(or restore a checkpoint) first", k->node->name);
    return GB_OK;
}

static const gb_op_def op_variable = {"VariableV2", NULL, variable_forward, NULL, 0, 1, 0, 0, NULL};

static gb_status initializer_forward(const gb_kernel_args *k)
{
    return gb_init_fill(&k->node->attr.init, k->out);
}

static const gb_op_def op_fill = {"Fill", NULL, initializer_forward, NULL, 0, 0, 0, 0, NULL};
static const gb_op_def op_random_uniform = {"RandomUniform", NULL, initializer_forward, NULL, 0, 0, 0, 0, NULL};
static const gb_op_def op_random_normal = {"RandomStandardNormal", NULL, initializer_forward, NULL, 0, 0, 0, 0, NULL};
static const gb_op_def op_truncated_normal = {"TruncatedNormal", NULL, initializer_forward, NULL, 0, 0, 0, 0, NULL};
static const gb_op_def op_initial_value = {"Const", NULL, initializer_forward, NULL, 0, 0, 0, 0, NULL};

static const gb_op_def *initializer_op(gb_init_kind kind, const char **name)
{
    switch (kind) {
    case GB_INIT_UNIFORM: case GB_INIT_GLOROT_UNIFORM: *name = "random_uniform"; return &op_random_uniform;
    case GB_INIT_NORMAL: *name = "random_normal"; return &op_random_normal;
    case GB_INIT_TRUNCATED_NORMAL: case GB_INIT_GLOROT_NORMAL: case GB_INIT_HE_NORMAL:
        *name = "truncated_normal";
        return &op_truncated_normal;
    case GB_INIT_VALUES: *name = "initial_value"; return &op_initial_value;
    default: *name = kind == GB_INIT_ZEROS ? "zeros" : kind == GB_INIT_ONES ? "ones" : "Const"; return &op_fill;
    }
}

/* Assign(value) with attr.variable as the target: copies value into the variable, whose storage
 * is the output. The variable is not an input: assigning must not read it (it may be
 * uninitialised); graph export adds it back as TensorFlow's ref input. */
static gb_status assign_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    const gb_node *v = n->attr.variable;
    char want[96], got[96];
    int ok = dt[0] == v->dtype && sh[0].rank == v->shape.rank;
    for (int i = 0; ok && i < sh[0].rank; i++) ok = sh[0].dim[i] < 0 || sh[0].dim[i] == v->shape.dim[i];
    if (!ok) {
        snprintf(err, err_size, "the value (%s %s) does not fit the variable %s (%s %s)", gb_dtype_name(dt[0]),
                 gb_shape_format(&sh[0], got, sizeof got), v->name, gb_dtype_name(v->dtype),
                 gb_shape_format(&v->shape, want, sizeof want));
        return GB_ESHAPE;
    }
    *dtype = v->dtype;
    *shape = v->shape;
    return GB_OK;
}

static gb_status assign_forward(const gb_kernel_args *k)
{
    size_t bytes = gb_tensor_bytes(k->in[0]);
    if (bytes && k->out->data != k->in[0]->data) memcpy(k->out->data, k->in[0]->data, bytes);
    gb_session_mark_initialized(k->session, k->node->attr.variable);
    return GB_OK;
}

#define ASSIGN_ADD(T)                                                              \
    {                                                                              \
        T *dst = k->out->data;                                                     \
        const T *src = k->in[0]->data;                                             \
        for (int64_t i = 0; i < n; i++) dst[i] += src[i];                          \
    }
/* integers wrap around on overflow, as in TensorFlow (signed overflow is undefined in C) */
#define ASSIGN_ADD_WRAPPING(T, U)                                                  \
    {                                                                              \
        T *dst = k->out->data;                                                     \
        const T *src = k->in[0]->data;                                             \
        for (int64_t i = 0; i < n; i++) dst[i] = (T)((U)dst[i] + (U)src[i]);       \
    }

static gb_status assign_add_forward(const gb_kernel_args *k)
{
    if (!gb_session_is_initialized(k->session, k->node->attr.variable))
        return gb_fail(GB_ESTATE, "variable %s is updated before it is initialised", k->node->attr.variable->name);
    int64_t n = gb_shape_elements(&k->out->shape);
    switch (k->out->dtype) {
    case GB_F32: ASSIGN_ADD(float) break;
    case GB_F64: ASSIGN_ADD(double) break;
    case GB_I32: ASSIGN_ADD_WRAPPING(int32_t, uint32_t) break;
    case GB_I64: ASSIGN_ADD_WRAPPING(int64_t, uint64_t) break;
    default: return gb_fail(GB_EINVAL, "cannot add to a %s variable", gb_dtype_name(k->out->dtype));
    }
    return GB_OK;
}

static const gb_op_def op_assign = {"Assign", assign_infer, assign_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_assign_forward)};
static const gb_op_def op_assign_add = {"AssignAdd", assign_infer, assign_add_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_assign_add_forward)};

int gb_is_assign(const gb_node *n) { return n->op == &op_assign; }

int gb_is_initializer(const gb_node *n) { return n->op->forward == initializer_forward; }

#define SCALE_VARIABLE(T)                                                   \
    {                                                                       \
        T *v = k->out->data, c = *(const T *)factor->data;                  \
        for (int64_t i = 0; i < n; i++) v[i] = v[i] * c;                    \
    }

gb_status gb_scale_variable_forward(const gb_kernel_args *k, const gb_tensor *factor)
{
    /* the variable node ran before this one and checked that it holds a value */
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        SCALE_VARIABLE(double)
    else
        SCALE_VARIABLE(float)
    return GB_OK;
}

static gb_node *assign_like(gb_graph *g, const gb_op_def *op, const char *name, gb_node *variable, gb_node *value)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!variable || !variable->is_variable) {
        gb_graph_fail(g, GB_EINVAL, "%s: the target %s is not a variable", op->type, variable ? variable->name : "(null)");
        return NULL;
    }
    gb_attrs attrs = {0};
    attrs.variable = variable;
    return gb_node_create(g, op, name, &value, 1, &attrs);
}

gb_node *gb_assign(gb_graph *g, gb_node *variable, gb_node *value)
{
    return assign_like(g, &op_assign, "Assign", variable, value);
}

gb_node *gb_assign_add(gb_graph *g, gb_node *variable, gb_node *value)
{
    if (g && g->status == GB_OK && variable && variable->dtype == GB_BOOL) {
        gb_graph_fail(g, GB_EINVAL, "AssignAdd: cannot add to the bool variable %s", variable->name);
        return NULL;
    }
    return assign_like(g, &op_assign_add, "AssignAdd", variable, value);
}

/* The last component of a full node name. */
static const char *base_name(const char *full)
{
    const char *slash = strrchr(full, '/');
    return slash ? slash + 1 : full;
}

gb_node *gb_variable_ex(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape, gb_initializer init,
                        int trainable)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!name || !*name || strchr(name, '/')) {
        gb_graph_fail(g, GB_EINVAL, "variable: the name \"%s\" must be non-empty and without '/' (use scopes)",
                      name ? name : "(null)");
        return NULL;
    }
    if (gb_dtype_size(dtype) == 0) {
        gb_graph_fail(g, GB_EINVAL, "variable %s: invalid dtype %d", name, (int)dtype);
        return NULL;
    }
    if (!valid_shape(g, "variable", name, shape, 0)) return NULL;
    int constant = init.kind == GB_INIT_ZEROS || init.kind == GB_INIT_ONES || init.kind == GB_INIT_CONSTANT;
    if (!constant && init.kind != GB_INIT_VALUES && !gb_is_float(dtype)) {
        gb_graph_fail(g, GB_EINVAL, "variable %s: random initialisers need a float variable, not %s", name,
                      gb_dtype_name(dtype));
        return NULL;
    }
    if (init.kind == GB_INIT_CONSTANT && !gb_is_float(dtype)) { /* the value must be one of dtype's */
        double c = init.a;
        if (!gb_value_fits_dtype(c, dtype)) {
            gb_graph_fail(g, GB_EINVAL, "variable %s: the constant %g is not a %s value", name, c, gb_dtype_name(dtype));
            return NULL;
        }
    }
    gb_tensor *initial = NULL;
    if (init.kind == GB_INIT_VALUES) {
        char want[96], got[96];
        if (!init.values || init.values->dtype != dtype || !gb_shape_equal(&init.values->shape, &shape)) {
            gb_graph_fail(g, GB_ESHAPE, "variable %s: the initial value is %s %s, the variable %s %s", name,
                          init.values ? gb_dtype_name(init.values->dtype) : "NULL",
                          init.values ? gb_shape_format(&init.values->shape, got, sizeof got) : "",
                          gb_dtype_name(dtype), gb_shape_format(&shape, want, sizeof want));
            return NULL;
        }
        initial = gb_tensor_from(dtype, shape, init.values->data);
        if (!initial) {
            gb_graph_fail(g, GB_ENOMEM, "variable %s: out of memory", name);
            return NULL;
        }
        init.values = initial;
    }

    gb_node *v = gb_node_create(g, &op_variable, name, NULL, 0, NULL);
    if (!v) {
        gb_tensor_free(initial);
        return NULL;
    }
    v->dtype = dtype;
    v->shape = shape;
    v->is_variable = 1;
    v->trainable = trainable != 0;
    v->variable_index = g->variable_count++;
    v->value = initial; /* owns the initial value, if any */

    /* "<var>/Initializer/<kind>" and "<var>/Assign", as TensorFlow lays them out */
    gb_scope_push(g, base_name(v->name));
    gb_scope_push(g, "Initializer");
    const char *init_name;
    const gb_op_def *init_op = initializer_op(init.kind, &init_name);
    gb_attrs attrs = {0};
    attrs.init = init;
    gb_node *init_node = gb_node_create(g, init_op, init_name, NULL, 0, &attrs);
    if (init_node) init_node->dtype = dtype, init_node->shape = shape;
    gb_scope_pop(g);
    v->initial_assign = gb_assign(g, v, init_node);
    gb_scope_pop(g);
    return g->status == GB_OK ? v : NULL;
}

gb_node *gb_variable(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape, gb_initializer init)
{
    return gb_variable_ex(g, name, dtype, shape, init, 1);
}

/* ---- grouping ---- */

static gb_status noop_forward(const gb_kernel_args *k)
{
    (void)k;
    return GB_OK;
}

static const gb_op_def op_noop = {"NoOp", NULL, noop_forward, NULL, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_noop_forward)};

gb_node *gb_group(gb_graph *g, const char *name, size_t count, gb_node *const deps[])
{
    gb_node *n = gb_node_create(g, &op_noop, name ? name : "group_deps", NULL, 0, NULL);
    return gb_control_deps(n, count, deps);
}

gb_node *gb_global_variables_initializer(gb_graph *g)
{
    if (!g || g->status != GB_OK) return NULL;
    gb_node *init = gb_node_create(g, &op_noop, "init", NULL, 0, NULL);
    for (size_t i = 0; init && i < g->count; i++)
        if (g->nodes[i]->is_variable && g->nodes[i]->initial_assign)
            gb_control_deps(init, 1, &g->nodes[i]->initial_assign);
    return g->status == GB_OK ? init : NULL;
}
