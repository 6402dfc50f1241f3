/* Optimizers: gradients from autodiff, one fused update op per variable, slot variables named
 * as TensorFlow 1.x names them, and the global step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/autodiff.h"
#include "gradboard/init.h"
#include "gradboard/ops.h"
#include "gradboard/optim.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/optim_impl.h"
#include "internal/session_impl.h"

gb_optimizer gb_gradient_descent(double learning_rate)
{
    gb_optimizer o = {0};
    o.kind = GB_OPT_GRADIENT_DESCENT;
    o.learning_rate = learning_rate;
    return o;
}

gb_optimizer gb_momentum(double learning_rate, double momentum, int nesterov)
{
    gb_optimizer o = gb_gradient_descent(learning_rate);
    o.kind = GB_OPT_MOMENTUM;
    o.momentum = momentum;
    o.nesterov = nesterov != 0;
    return o;
}

gb_optimizer gb_adam(double learning_rate)
{
    gb_optimizer o = gb_gradient_descent(learning_rate);
    o.kind = GB_OPT_ADAM;
    o.beta1 = 0.9, o.beta2 = 0.999, o.epsilon = 1e-8;
    return o;
}

gb_optimizer gb_adamw(double learning_rate, double weight_decay)
{
    gb_optimizer o = gb_adam(learning_rate);
    o.kind = GB_OPT_ADAMW;
    o.weight_decay = weight_decay;
    return o;
}

gb_optimizer gb_rmsprop(double learning_rate)
{
    gb_optimizer o = gb_gradient_descent(learning_rate);
    o.kind = GB_OPT_RMSPROP;
    o.rho = 0.9, o.momentum = 0, o.epsilon = 1e-10;
    return o;
}

gb_optimizer gb_adagrad(double learning_rate)
{
    gb_optimizer o = gb_gradient_descent(learning_rate);
    o.kind = GB_OPT_ADAGRAD;
    o.initial_accumulator = 0.1;
    return o;
}

/* ---- learning-rate schedules: a float32 scalar computed from global_step ---- */

typedef enum schedule_kind { EXPONENTIAL, COSINE, STEP } schedule_kind;

static gb_status schedule_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                                gb_shape *shape, char *err, size_t err_size)
{
    (void)n, (void)dt, (void)sh, (void)err, (void)err_size;
    *dtype = GB_F32;
    *shape = gb_dims(0);
    return GB_OK;
}

static gb_status schedule_forward(const gb_kernel_args *k)
{
    const gb_attrs *a = &k->node->attr;
    double step = (double)*(const int64_t *)k->in[0]->data, lr = a->alpha, v;
    switch ((schedule_kind)a->flag) {
    case EXPONENTIAL: {
        double p = step / a->beta;
        v = lr * pow(a->gamma, a->keepdims ? floor(p) : p);
        break;
    }
    case COSINE: {
        double t = fmin(step, a->beta) / a->beta;
        v = lr * (a->gamma + (1 - a->gamma) * 0.5 * (1 + cos(3.14159265358979323846 * t)));
        break;
    }
    default: v = lr * pow(a->gamma, floor(step / a->beta)); break;
    }
    *(float *)k->out->data = (float)v;
    return GB_OK;
}

static const gb_op_def op_schedule = {"LearningRate", schedule_infer, schedule_forward, NULL, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_schedule_forward)};

static gb_node *schedule(gb_graph *g, schedule_kind kind, double lr, double steps, double factor, int staircase)
{
    if (g && g->status == GB_OK && !(steps > 0)) {
        gb_graph_fail(g, GB_EINVAL, "learning-rate schedule: the step count %g must be > 0", steps);
        return NULL;
    }
    gb_node *step = gb_global_step(g);
    gb_attrs attrs = {0};
    attrs.flag = kind;
    attrs.alpha = lr, attrs.beta = steps, attrs.gamma = factor, attrs.keepdims = staircase != 0;
    return gb_node_create(g, &op_schedule, kind == COSINE ? "cosine_decay" : kind == STEP ? "step_decay" : "ExponentialDecay",
                          &step, 1, &attrs);
}

gb_node *gb_exponential_decay(gb_graph *g, double lr, double decay_steps, double rate, int staircase)
{
    return schedule(g, EXPONENTIAL, lr, decay_steps, rate, staircase);
}

gb_node *gb_cosine_decay(gb_graph *g, double lr, double decay_steps, double alpha)
{
    return schedule(g, COSINE, lr, decay_steps, alpha, 0);
}

gb_node *gb_step_decay(gb_graph *g, double lr, double step_size, double gamma)
{
    return schedule(g, STEP, lr, step_size, gamma, 0);
}

/* ---- slots and the global step, named from the graph's root whatever scope is open ---- */

/* Creates a variable named "<prefix>/<name>" (prefix may hold '/'), ignoring open scopes. */
static gb_node *variable_at(gb_graph *g, const char *prefix, const char *name, gb_dtype dtype, gb_shape shape,
                            gb_initializer init, int trainable)
{
    char **saved = g->scopes;
    size_t saved_depth = g->scope_depth, saved_cap = g->scope_cap;
    g->scopes = NULL, g->scope_depth = g->scope_cap = 0;
    int depth = gb_scope_push_path(g, prefix);
    gb_node *v = gb_variable_ex(g, name, dtype, shape, init, trainable);
    while (depth-- > 0) gb_scope_pop(g);
    free(g->scopes);
    g->scopes = saved, g->scope_depth = saved_depth, g->scope_cap = saved_cap;
    return v;
}

gb_node *gb_global_step(gb_graph *g)
{
    if (!g || g->status != GB_OK) return NULL;
    gb_node *existing = gb_graph_find(g, "global_step");
    if (existing) {
        if (!existing->is_variable || existing->dtype != GB_I64) {
            gb_graph_fail(g, GB_EINVAL, "global_step exists but is not an int64 variable");
            return NULL;
        }
        return existing;
    }
    return variable_at(g, NULL, "global_step", GB_I64, gb_dims(0), gb_init_zeros(), 0);
}

static const char *optimizer_name(gb_optimizer_kind kind)
{
    switch (kind) {
    case GB_OPT_MOMENTUM: return "Momentum";
    case GB_OPT_ADAM: return "Adam";
    case GB_OPT_ADAMW: return "AdamW";
    case GB_OPT_RMSPROP: return "RMSProp";
    case GB_OPT_ADAGRAD: return "Adagrad";
    default: return "GradientDescent";
    }
}

/* grads *= clip / max(global norm, clip), the global norm taken over every gradient. As in
 * TensorFlow, a norm that is not finite makes every gradient NaN: the step is then visibly
 * broken rather than quietly made from the finite gradients alone. */
static void clip_by_global_norm(gb_graph *g, gb_node **grads, size_t n, double clip)
{
    gb_node *sum = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!grads[i]) continue;
        gb_node *part = gb_reduce_sum(g, gb_square(g, grads[i]), GB_ALL_AXES, 0);
        sum = sum ? gb_add(g, sum, part) : part;
    }
    if (!sum) return;
    gb_node *norm = gb_sqrt(g, sum), *limit = gb_scalar_like(g, sum, clip);
    gb_node *poison = gb_sub(g, norm, norm); /* 0, or NaN when the norm is inf or NaN */
    gb_node *scale = gb_stop_gradient(g, gb_add(g, gb_div(g, limit, gb_maximum(g, norm, limit)), poison));
    for (size_t i = 0; i < n; i++)
        if (grads[i]) grads[i] = gb_mul(g, grads[i], scale);
}

/* Whether n's output is a variable's storage: the variable or an assignment to it, seen directly
 * or through views (identity, reshape, stop_gradient). */
static int views_a_variable(const gb_node *n)
{
    while (n->op->aliases_input && n->n_inputs) n = n->inputs[0];
    return n->is_variable || n->op->output_is_variable;
}

gb_node *gb_minimize(gb_graph *g, gb_optimizer opt, gb_node *loss, gb_node *const *vars, size_t n_vars)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!loss) {
        gb_graph_fail(g, GB_EINVAL, "gb_minimize: loss is NULL");
        return NULL;
    }
    gb_node **list = NULL;
    if (!vars || n_vars == 0) {
        n_vars = gb_trainable_variables(g, NULL, 0);
        list = malloc((n_vars ? n_vars : 1) * sizeof *list);
        if (!list) {
            gb_graph_fail(g, GB_ENOMEM, "gb_minimize: out of memory");
            return NULL;
        }
        gb_trainable_variables(g, list, n_vars);
        vars = list;
    }
    if (n_vars == 0) {
        free(list);
        gb_graph_fail(g, GB_EINVAL, "gb_minimize: the graph has no trainable variables");
        return NULL;
    }
    gb_node **grads = calloc(n_vars, sizeof *grads);
    if (!grads) {
        free(list);
        gb_graph_fail(g, GB_ENOMEM, "gb_minimize: out of memory");
        return NULL;
    }
    gb_gradients(g, loss, vars, n_vars, grads);
    gb_node *train = gb_apply_gradients(g, opt, grads, vars, n_vars);
    free(grads);
    free(list);
    return train;
}

gb_node *gb_apply_gradients(gb_graph *g, gb_optimizer opt, gb_node *const *gradients, gb_node *const *vars,
                            size_t n_vars)
{
    if (!g || g->status != GB_OK) return NULL;
    if (!gradients || !vars || n_vars == 0) {
        gb_graph_fail(g, GB_EINVAL, "gb_apply_gradients: no variables given");
        return NULL;
    }
    gb_dtype dtype = GB_DTYPE_INVALID;
    for (size_t i = 0; i < n_vars; i++) {
        if (!vars[i] || !gb_node_is_variable(vars[i])) {
            gb_graph_fail(g, GB_EINVAL, "gb_apply_gradients: entry %zu is not a variable", i);
            return NULL;
        }
        if (gradients[i] && dtype == GB_DTYPE_INVALID) dtype = gradients[i]->dtype;
    }
    if (dtype == GB_DTYPE_INVALID) {
        gb_graph_fail(g, GB_EINVAL, "gb_apply_gradients: every gradient is NULL (nothing depends on the variables)");
        return NULL;
    }
    gb_node **grads = calloc(n_vars, sizeof *grads), **updates = calloc(n_vars + 1, sizeof *updates);
    if (!grads || !updates) {
        free(grads), free(updates);
        gb_graph_fail(g, GB_ENOMEM, "gb_apply_gradients: out of memory");
        return NULL;
    }
    memcpy(grads, gradients, n_vars * sizeof *grads);
    const char *name = optimizer_name(opt.kind);
    if (opt.kind == GB_OPT_ADAGRAD && !(opt.initial_accumulator > 0)) {
        free(grads), free(updates);
        gb_graph_fail(g, GB_EINVAL, "gb_apply_gradients: Adagrad's initial accumulator must be positive (it is %g)",
                      opt.initial_accumulator);
        return NULL;
    }
    if (opt.clip_norm > 0) clip_by_global_norm(g, grads, n_vars, opt.clip_norm);
    gb_node *step = gb_global_step(g);

    gb_node *beta1_power = NULL, *beta2_power = NULL;
    int adam = opt.kind == GB_OPT_ADAM || opt.kind == GB_OPT_ADAMW;
    if (adam && g->status == GB_OK) {
        beta1_power = variable_at(g, NULL, "beta1_power", dtype, gb_dims(0), gb_init_constant(opt.beta1), 0);
        beta2_power = variable_at(g, NULL, "beta2_power", dtype, gb_dims(0), gb_init_constant(opt.beta2), 0);
    }
    gb_scope_push(g, name);
    gb_node *lr = opt.learning_rate_node ? opt.learning_rate_node : gb_scalar_of(g, dtype, opt.learning_rate);
    if (lr && lr->dtype != dtype) lr = gb_cast(g, lr, dtype);
    /* Every gradient is taken before any variable changes: a gradient may read another variable
     * (d(ab)/da reads b), and a step is a step from one point, as in PyTorch's backward-then-step. */
    size_t n_grads = 0;
    for (size_t i = 0; i < n_vars; i++) {
        /* a gradient that is a variable's memory (the variable, or a view of it) would be read
         * when its update runs, after other updates may have changed it: copy it before */
        if (grads[i] && views_a_variable(grads[i])) grads[i] = gb_snapshot(g, grads[i]);
        if (grads[i]) updates[n_grads++] = grads[i];
    }
    gb_node *ready = g->status == GB_OK ? gb_group(g, "gradients_ready", n_grads, updates) : NULL;
    size_t n_updates = 0;
    for (size_t i = 0; i < n_vars && g->status == GB_OK; i++) {
        gb_node *v = vars[i];
        if (!grads[i]) continue; /* the loss does not depend on it */
        gb_attrs attrs = {0};
        attrs.variable = v;
        const gb_op_def *op = &gb_op_apply_sgd;
        if (opt.kind == GB_OPT_MOMENTUM) {
            op = &gb_op_apply_momentum;
            attrs.alpha = opt.momentum;
            attrs.flag = opt.nesterov;
            attrs.slots[0] = variable_at(g, v->name, "Momentum", v->dtype, v->shape, gb_init_zeros(), 0);
        } else if (adam) {
            op = &gb_op_apply_adam;
            attrs.alpha = opt.beta1, attrs.beta = opt.beta2, attrs.epsilon = opt.epsilon;
            attrs.delta = opt.kind == GB_OPT_ADAMW ? opt.weight_decay : 0;
            attrs.slots[0] = variable_at(g, v->name, name, v->dtype, v->shape, gb_init_zeros(), 0);
            char second[16];
            snprintf(second, sizeof second, "%s_1", name);
            attrs.slots[1] = variable_at(g, v->name, second, v->dtype, v->shape, gb_init_zeros(), 0);
            attrs.slots[2] = beta1_power;
            attrs.slots[3] = beta2_power;
        } else if (opt.kind == GB_OPT_RMSPROP) {
            op = &gb_op_apply_rmsprop;
            attrs.alpha = opt.rho, attrs.beta = opt.momentum, attrs.epsilon = opt.epsilon;
            attrs.slots[0] = variable_at(g, v->name, "RMSProp", v->dtype, v->shape, gb_init_ones(), 0);
            attrs.slots[1] = variable_at(g, v->name, "RMSProp_1", v->dtype, v->shape, gb_init_zeros(), 0);
        } else if (opt.kind == GB_OPT_ADAGRAD) {
            op = &gb_op_apply_adagrad;
            attrs.slots[0] = variable_at(g, v->name, "Adagrad", v->dtype, v->shape,
                                         gb_init_constant(opt.initial_accumulator), 0);
        }
        char update_name[300];
        const char *slash = strrchr(v->name, '/');
        snprintf(update_name, sizeof update_name, "update_%s", slash ? slash + 1 : v->name);
        gb_node *inputs[2] = {lr, grads[i]};
        gb_node *update = gb_node_create(g, op, update_name, inputs, 2, &attrs);
        updates[n_updates++] = update ? gb_control_deps(update, 1, &ready) : NULL;
    }
    gb_node *finish[3];
    size_t n_finish = 0;
    if (adam && g->status == GB_OK) {
        /* the powers advance after every variable used them */
        gb_node *b1 = gb_mul(g, beta1_power, gb_scalar_of(g, dtype, opt.beta1));
        gb_node *b2 = gb_mul(g, beta2_power, gb_scalar_of(g, dtype, opt.beta2));
        gb_control_deps(b1, n_updates, updates);
        gb_control_deps(b2, n_updates, updates);
        finish[n_finish++] = gb_assign(g, beta1_power, b1);
        finish[n_finish++] = gb_assign(g, beta2_power, b2);
    }
    gb_node *increment = gb_assign_add(g, step, gb_scalar_of(g, GB_I64, 1));
    gb_control_deps(increment, n_updates, updates);
    gb_scope_pop(g);
    finish[n_finish++] = increment;
    gb_node *train = gb_group(g, name, n_finish, finish);
    free(grads);
    free(updates);
    return g->status == GB_OK ? train : NULL;
}
