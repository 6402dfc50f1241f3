/* The optimizers' fused update kernels: one op per variable and step, updating the variable
 * and its slots in place. Inputs (learning rate, gradient); attr.variable is the variable,
 * attr.slots its slot variables; the output is the variable. */
#include <math.h>
#include <stdio.h>

#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/grad_util.h"
#include "internal/kernel_util.h"
#include "internal/parallel.h"
#include "internal/optim_impl.h"
#include "internal/session_impl.h"

/* ---- the fused update kernels: inputs (learning rate, gradient); the output is the variable ---- */

static gb_status apply_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                             gb_shape *shape, char *err, size_t err_size)
{
    const gb_node *v = n->attr.variable;
    char want[96], got[96];
    int ok = dt[1] == v->dtype && gb_is_float(v->dtype) && sh[1].rank == v->shape.rank && dt[0] == v->dtype &&
             sh[0].rank == 0;
    for (int i = 0; ok && i < v->shape.rank; i++) ok = sh[1].dim[i] < 0 || sh[1].dim[i] == v->shape.dim[i];
    if (!ok) {
        snprintf(err, err_size, "the gradient (%s %s) or learning rate (%s) does not fit variable %s (%s %s)",
                 gb_dtype_name(dt[1]), gb_shape_format(&sh[1], got, sizeof got), gb_dtype_name(dt[0]), v->name,
                 gb_dtype_name(v->dtype), gb_shape_format(&v->shape, want, sizeof want));
        return GB_ESHAPE;
    }
    *dtype = v->dtype;
    *shape = v->shape;
    return GB_OK;
}

/* Storage of every variable an update touches, checked initialised. */
static gb_status storage(const gb_kernel_args *k, const gb_node *v, void **data)
{
    if (!gb_session_is_initialized(k->session, v))
        return gb_fail(GB_ESTATE, "variable %s is updated before it is initialised", v->name);
    gb_tensor *t = gb_session_variable_storage(k->session, v);
    if (!t) return gb_fail(GB_ENOMEM, "no memory for %s", v->name);
    *data = t->data;
    return GB_OK;
}

/* Updates read and write every element of the variable and its slots once: bound by memory,
 * so large variables are split across the pool's threads, in chunks of UPDATE_GRAIN elements. */
enum { UPDATE_GRAIN = 1 << 14 };

typedef struct sgd_args {
    void *w;
    const void *g;
    double lr;
    int f64;
} sgd_args;

static void sgd_range(void *ctx, int64_t begin, int64_t end)
{
    const sgd_args *a = ctx;
    if (a->f64) {
        double *restrict w = (double *)a->w + begin;
        const double *restrict g = (const double *)a->g + begin, lr = a->lr;
        for (int64_t i = 0; i < end - begin; i++) w[i] -= lr * g[i];
    } else {
        float *restrict w = (float *)a->w + begin;
        const float *restrict g = (const float *)a->g + begin;
        float lr = (float)a->lr;
        for (int64_t i = 0; i < end - begin; i++) w[i] -= lr * g[i];
    }
}

static gb_status apply_sgd_forward(const gb_kernel_args *k)
{
    void *var = NULL;
    gb_status st = storage(k, k->node->attr.variable, &var);
    if (st != GB_OK) return st;
    int f64 = k->out->dtype == GB_F64;
    sgd_args a = {var, k->in[1]->data, f64 ? *(const double *)k->in[0]->data : *(const float *)k->in[0]->data, f64};
    gb_parallel_for(gb_shape_elements(&k->out->shape), UPDATE_GRAIN, sgd_range, &a);
    return GB_OK;
}

gb_status gb_apply_sgd_matmul_forward(const gb_kernel_args *k, const gb_node *matmul, const gb_tensor *a,
                                      const gb_tensor *b)
{
    void *var = NULL;
    gb_status st = storage(k, k->node->attr.variable, &var);
    if (st != GB_OK) return st;
    double lr = k->out->dtype == GB_F64 ? *(const double *)k->in[0]->data : *(const float *)k->in[0]->data;
    gb_tensor w = *k->out;
    w.data = var;
    gb_matmul_accumulate(matmul, a, b, -lr, &w);
    return GB_OK;
}

#define MOMENTUM_LOOP(T)                                                             \
    {                                                                                \
        T *restrict w = var, *restrict acc = accum;                                                    \
        const T *restrict g = k->in[1]->data;                                                 \
        T lr = *(const T *)k->in[0]->data, mu = (T)k->node->attr.alpha;              \
        if (k->node->attr.flag)                                                      \
            for (int64_t i = 0; i < n; i++) {                                        \
                acc[i] = acc[i] * mu + g[i];                                         \
                w[i] -= g[i] * lr + acc[i] * mu * lr;                                \
            }                                                                        \
        else                                                                         \
            for (int64_t i = 0; i < n; i++) {                                        \
                acc[i] = acc[i] * mu + g[i];                                         \
                w[i] -= lr * acc[i];                                                 \
            }                                                                        \
    }

static gb_status apply_momentum_forward(const gb_kernel_args *k)
{
    void *var = NULL, *accum = NULL;
    gb_status st = storage(k, k->node->attr.variable, &var);
    if (st == GB_OK) st = storage(k, k->node->attr.slots[0], &accum);
    if (st != GB_OK) return st;
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        MOMENTUM_LOOP(double)
    else
        MOMENTUM_LOOP(float)
    return GB_OK;
}

/* TensorFlow 1.x ApplyAdam: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), with the powers kept
 * in the beta1_power and beta2_power variables (updated after every variable's update). */
#define DEFINE_ADAM(name, T, SQRT)                                                                   \
    GB_SIMD_CLONES static void name(T *restrict w, T *restrict m, T *restrict v, const T *restrict g,        \
                                    int64_t n, T lr_t, T b1, T b2, T eps, T decay)                           \
    {                                                                                                        \
        if (decay != 0) /* AdamW: decoupled weight decay */                                                  \
            for (int64_t i = 0; i < n; i++) w[i] -= decay * w[i];                                            \
        for (int64_t i = 0; i < n; i++) {                                                                    \
            m[i] += (g[i] - m[i]) * (1 - b1);                                                                \
            v[i] += (g[i] * g[i] - v[i]) * (1 - b2);                                                         \
            w[i] -= lr_t * m[i] / (SQRT(v[i]) + eps);                                                        \
        }                                                                                                    \
    }
DEFINE_ADAM(adam_f64, double, sqrt)
DEFINE_ADAM(adam_f32, float, sqrtf)

typedef struct adam_args {
    void *w, *m, *v;
    const void *g;
    double lr_t, b1, b2, eps, decay;
    int f64;
} adam_args;

static void adam_range(void *ctx, int64_t b, int64_t e)
{
    const adam_args *a = ctx;
    if (a->f64)
        adam_f64((double *)a->w + b, (double *)a->m + b, (double *)a->v + b, (const double *)a->g + b, e - b, a->lr_t,
                 a->b1, a->b2, a->eps, a->decay);
    else
        adam_f32((float *)a->w + b, (float *)a->m + b, (float *)a->v + b, (const float *)a->g + b, e - b,
                 (float)a->lr_t, (float)a->b1, (float)a->b2, (float)a->eps, (float)a->decay);
}

static gb_status apply_adam_forward(const gb_kernel_args *k)
{
    void *var = NULL, *m_ = NULL, *v_ = NULL, *b1p_ = NULL, *b2p_ = NULL;
    const gb_attrs *a = &k->node->attr;
    gb_status st = storage(k, a->variable, &var);
    if (st == GB_OK) st = storage(k, a->slots[0], &m_);
    if (st == GB_OK) st = storage(k, a->slots[1], &v_);
    if (st == GB_OK) st = storage(k, a->slots[2], &b1p_);
    if (st == GB_OK) st = storage(k, a->slots[3], &b2p_);
    if (st != GB_OK) return st;
    adam_args args = {var, m_, v_, k->in[1]->data, 0, a->alpha, a->beta, a->epsilon, 0, k->out->dtype == GB_F64};
    if (args.f64) {
        double lr = *(const double *)k->in[0]->data, b1p = *(const double *)b1p_, b2p = *(const double *)b2p_;
        args.lr_t = lr * sqrt(1 - b2p) / (1 - b1p);
        args.decay = lr * a->delta;
    } else { /* the step size in float, as the single loop computed it */
        float lr = *(const float *)k->in[0]->data, b1p = *(const float *)b1p_, b2p = *(const float *)b2p_;
        args.lr_t = lr * sqrtf(1 - b2p) / (1 - b1p);
        args.decay = lr * (float)a->delta;
    }
    gb_parallel_for(gb_shape_elements(&k->out->shape), UPDATE_GRAIN, adam_range, &args);
    return GB_OK;
}

const gb_op_def gb_op_apply_sgd = {"ApplyGradientDescent", apply_infer, apply_sgd_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_apply_sgd_forward)};
const gb_op_def gb_op_apply_momentum = {"ApplyMomentum", apply_infer, apply_momentum_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_apply_momentum_forward)};
const gb_op_def gb_op_apply_adam = {"ApplyAdam", apply_infer, apply_adam_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_apply_adam_forward)};

/* TensorFlow 1.x ApplyRMSProp: ms = rho ms + (1 - rho) g^2; mom = momentum mom + lr g / sqrt(ms + eps);
 * w -= mom. Slots: ms (starts at 1), mom. */
#define RMSPROP_LOOP(T, SQRT)                                                                  \
    {                                                                                          \
        T *restrict w = var, *restrict ms = ms_, *restrict mom = mom_;                                                    \
        const T *restrict g = k->in[1]->data;                                                           \
        T lr = *(const T *)k->in[0]->data, rho = (T)a->alpha, mu = (T)a->beta, eps = (T)a->epsilon; \
        for (int64_t i = 0; i < n; i++) {                                                      \
            ms[i] += (g[i] * g[i] - ms[i]) * (1 - rho);                                        \
            mom[i] = mom[i] * mu + lr * g[i] / SQRT(ms[i] + eps);                              \
            w[i] -= mom[i];                                                                    \
        }                                                                                      \
    }

static gb_status apply_rmsprop_forward(const gb_kernel_args *k)
{
    void *var = NULL, *ms_ = NULL, *mom_ = NULL;
    const gb_attrs *a = &k->node->attr;
    gb_status st = storage(k, a->variable, &var);
    if (st == GB_OK) st = storage(k, a->slots[0], &ms_);
    if (st == GB_OK) st = storage(k, a->slots[1], &mom_);
    if (st != GB_OK) return st;
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        RMSPROP_LOOP(double, sqrt)
    else
        RMSPROP_LOOP(float, sqrtf)
    return GB_OK;
}

/* TensorFlow 1.x ApplyAdagrad: accum += g^2; w -= lr g / sqrt(accum). */
#define ADAGRAD_LOOP(T, SQRT)                                                                  \
    {                                                                                          \
        T *restrict w = var, *restrict acc = acc_;                                                               \
        const T *restrict g = k->in[1]->data;                                                           \
        T lr = *(const T *)k->in[0]->data;                                                     \
        for (int64_t i = 0; i < n; i++) {                                                      \
            acc[i] += g[i] * g[i];                                                             \
            w[i] -= lr * g[i] / SQRT(acc[i]);                                                  \
        }                                                                                      \
    }

static gb_status apply_adagrad_forward(const gb_kernel_args *k)
{
    void *var = NULL, *acc_ = NULL;
    const gb_attrs *a = &k->node->attr;
    gb_status st = storage(k, a->variable, &var);
    if (st == GB_OK) st = storage(k, a->slots[0], &acc_);
    if (st != GB_OK) return st;
    int64_t n = gb_shape_elements(&k->out->shape);
    if (k->out->dtype == GB_F64)
        ADAGRAD_LOOP(double, sqrt)
    else
        ADAGRAD_LOOP(float, sqrtf)
    return GB_OK;
}

const gb_op_def gb_op_apply_rmsprop = {"ApplyRMSProp", apply_infer, apply_rmsprop_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_apply_rmsprop_forward)};
const gb_op_def gb_op_apply_adagrad = {"ApplyAdagrad", apply_infer, apply_adagrad_forward, NULL, 0, 1, 0, 0, GB_CUDA_KERNEL(gb_cuda_apply_adagrad_forward)};
