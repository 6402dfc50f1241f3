/* CUDA forward functions of the training ops: softmax and the cross-entropies, dropout, one_hot
 * and argmax, assignments, the learning-rate schedules and the optimizers' updates. */
#include <math.h>
#include <string.h>

#include "device/cuda/cuda_context.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/session_impl.h"

enum { THREADS = GB_CUDA_THREADS, ROW_WARPS = GB_CUDA_ROW_WARPS };

static gb_cuda_session *cuda_of(const gb_kernel_args *k) { return gb_session_cuda(k->session); }

static int64_t elements(const gb_tensor *t) { return gb_shape_elements(&t->shape); }

/* One warp per row, ROW_WARPS rows per block. */
static gb_status launch_rows(gb_cuda_session *cs, gb_cuda_kernel kernel, const gb_cu_rows *p)
{
    if (p->rows == 0 || p->cols == 0) return GB_OK;
    int64_t blocks = (p->rows + ROW_WARPS - 1) / ROW_WARPS;
    if (blocks > INT32_MAX) return gb_fail(GB_EUNSUPPORTED, "CUDA: %lld rows are too many", (long long)p->rows);
    return gb_cuda_launch(cs, kernel, (unsigned)blocks, 32 * ROW_WARPS, p);
}

static gb_cu_rows rows_of(const gb_tensor *x, void *y)
{
    const gb_shape *s = &x->shape;
    int64_t cols = s->rank ? s->dim[s->rank - 1] : 1, total = gb_shape_elements(s);
    gb_cu_rows p = {.x = x->data, .y = y, .rows = cols ? total / cols : 0, .cols = cols, .dtype = (int32_t)x->dtype};
    return p;
}

gb_status gb_cuda_softmax_forward(const gb_kernel_args *k)
{
    gb_cu_rows p = rows_of(k->in[0], k->out->data);
    p.log_form = k->node->attr.flag;
    return launch_rows(cuda_of(k), GB_KERNEL_SOFTMAX, &p);
}

static gb_status sparse_xent(const gb_kernel_args *k, const void *dy)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_rows p = rows_of(k->in[0], k->out->data);
    p.rows = k->in[0]->shape.dim[0]; /* [N, classes]: N even when there are no classes */
    if (p.cols == 0 && p.rows) return gb_fail(GB_EINVAL, "no classes: the logits are [%lld, 0]", (long long)p.rows);
    p.labels = k->in[1]->data, p.labels_dtype = (int32_t)k->in[1]->dtype;
    p.dy = dy;
    p.error = cs->error, p.node_id = k->node->id;
    gb_status st = gb_cuda_flush_updates(cs); /* queued updates see only earlier failures */
    return st == GB_OK ? launch_rows(cs, GB_KERNEL_SPARSE_XENT, &p) : st;
}

gb_status gb_cuda_sparse_xent_forward(const gb_kernel_args *k) { return sparse_xent(k, NULL); }

gb_status gb_cuda_sparse_xent_grad_forward(const gb_kernel_args *k) { return sparse_xent(k, k->in[2]->data); }

gb_status gb_cuda_dense_xent_forward(const gb_kernel_args *k)
{
    gb_cu_rows p = rows_of(k->in[0], k->out->data);
    p.labels = k->in[1]->data, p.labels_dtype = (int32_t)k->in[1]->dtype;
    p.dy = k->node->attr.flag ? k->in[2]->data : NULL;
    return launch_rows(cuda_of(k), GB_KERNEL_DENSE_XENT, &p);
}

/* The mask's counter, as on the CPU: global_step when the graph has one (read on the device, so
 * a captured step reads each replay's value), else the run count (which ties the launch to this
 * run: such a plan is never captured). */
gb_status gb_cuda_dropout_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    double rate = k->node->attr.alpha;
    gb_cu_dropout p = {.x = k->in[0]->data, .y = k->out->data, .n = elements(k->out),
                       .seed = (uint64_t)k->node->attr.count, .threshold = (uint64_t)ceil(rate * 4294967296.0),
                       .scale = 1.0 / (1.0 - rate), .dtype = (int32_t)k->out->dtype};
    if (p.dtype == GB_F32) p.scale = (float)p.scale;
    if (cs->dropout_step_set) { /* global_step as the run started: cuda_plan.c copy_in */
        p.step = cs->dropout_step;
    } else {
        p.run = gb_session_run_count(k->session);
        cs->run_dependent = 1;
    }
    if (p.n == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_DROPOUT, gb_cuda_grid(cs, (p.n + 3) / 4), THREADS, &p);
}

gb_status gb_cuda_one_hot_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_index p = {k->in[0]->data, k->out->data, elements(k->in[0]), k->node->attr.count, (int32_t)k->in[0]->dtype,
                     (int32_t)k->out->dtype};
    if (p.n * p.depth == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_ONE_HOT, gb_cuda_grid(cs, p.n * p.depth), THREADS, &p);
}

gb_status gb_cuda_argmax_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    const gb_shape *s = &k->in[0]->shape;
    int64_t cols = s->dim[s->rank - 1], rows = cols ? gb_shape_elements(s) / cols : 0;
    gb_cu_index p = {k->in[0]->data, k->out->data, rows, cols, (int32_t)k->in[0]->dtype, (int32_t)k->out->dtype};
    if (rows == 0) return GB_OK; /* an empty last axis never gets here: the shape rule refuses it */
    int64_t blocks = (rows + ROW_WARPS - 1) / ROW_WARPS, most = (int64_t)cs->sm_count * 64; /* a warp per row */
    return gb_cuda_launch(cs, GB_KERNEL_ARGMAX, (unsigned)(blocks < most ? blocks : most), 32 * ROW_WARPS, &p);
}

/* ---- state ---- */

/* With the queued updates: a kernel's error earlier in the run (bad labels) skips it, as the CPU
 * stops before it. A variable it would initialise is remembered, and marked uninitialised again
 * when the run turns out to have failed (cuda_plan.c). */
gb_status gb_cuda_assign_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    const gb_node *v = k->node->attr.variable;
    if (k->out->data != k->in[0]->data) {
        gb_cu_apply p = {.var = k->out->data, .error = cs->error, .grad = k->in[0]->data, .lr = k->in[0]->data,
                         .n = elements(k->out), .kind = GB_CU_APPLY_COPY, .dtype = (int32_t)k->out->dtype};
        gb_status st = gb_cuda_queue_update(cs, &p);
        if (st != GB_OK) return st;
    }
    if (!gb_session_is_initialized(k->session, v)) {
        if (cs->n_fresh == cs->fresh_cap) {
            size_t cap = cs->fresh_cap ? 2 * cs->fresh_cap : 8;
            const gb_node **fresh = realloc(cs->fresh, cap * sizeof *fresh);
            if (!fresh) return gb_fail(GB_ENOMEM, "CUDA: out of memory");
            cs->fresh = fresh, cs->fresh_cap = cap;
        }
        cs->fresh[cs->n_fresh++] = v;
    }
    gb_session_mark_initialized(k->session, v);
    return GB_OK;
}

gb_status gb_cuda_snapshot_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    size_t bytes = gb_tensor_bytes(k->in[0]);
    if (bytes == 0 || k->out->data == k->in[0]->data) return GB_OK;
    return gb_cuda_check(cs->api->cuMemcpyDtoDAsync((CUdeviceptr)(uintptr_t)k->out->data,
                                                    (CUdeviceptr)(uintptr_t)k->in[0]->data, bytes, cs->stream),
                         "snapshot");
}

gb_status gb_cuda_assign_add_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    if (!gb_session_is_initialized(k->session, k->node->attr.variable))
        return gb_fail(GB_ESTATE, "variable %s is updated before it is initialised", k->node->attr.variable->name);
    if (k->out->dtype == GB_BOOL) return gb_fail(GB_EINVAL, "cannot add to a bool variable");
    /* every other dtype (f32, f64, i32, i64) goes with the queued updates */
    gb_cu_apply p = {.var = k->out->data, .error = cs->error, .grad = k->in[0]->data, .lr = k->in[0]->data,
                     .n = elements(k->out), .kind = GB_CU_APPLY_ADD, .dtype = (int32_t)k->out->dtype};
    return gb_cuda_queue_update(cs, &p);
}

gb_status gb_cuda_ones_like_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_fill p = {.y = k->out->data, .n = elements(k->out), .value = 1.0, .dtype = (int32_t)k->out->dtype};
    if (p.n == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_FILL, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_noop_forward(const gb_kernel_args *k)
{
    (void)k;
    return GB_OK;
}

gb_status gb_cuda_schedule_forward(const gb_kernel_args *k)
{
    const gb_attrs *a = &k->node->attr;
    gb_cu_schedule p = {k->in[0]->data, k->out->data, a->alpha, a->beta, a->gamma, a->flag, a->keepdims};
    return gb_cuda_launch(cuda_of(k), GB_KERNEL_SCHEDULE, 1, 32, &p);
}

/* ---- the optimizers ---- */

/* Device storage of a variable the update touches, checked initialised (as on the CPU). */
static gb_status slot(const gb_kernel_args *k, const gb_node *v, void **out)
{
    if (!gb_session_is_initialized(k->session, v))
        return gb_fail(GB_ESTATE, "variable %s is updated before it is initialised", v->name);
    CUdeviceptr d;
    gb_status st = gb_cuda_variable(cuda_of(k), v, &d);
    *out = (void *)(uintptr_t)d;
    return st;
}

static gb_status apply(const gb_kernel_args *k, int32_t kind, int slots)
{
    const gb_attrs *a = &k->node->attr;
    gb_cu_apply p = {.var = k->out->data, .error = gb_session_cuda(k->session)->error, .grad = k->in[1]->data,
                     .lr = k->in[0]->data, .n = elements(k->out),
                     .alpha = a->alpha, .beta = a->beta, .epsilon = a->epsilon, .delta = a->delta, .kind = kind,
                     .dtype = (int32_t)k->out->dtype, .flag = a->flag};
    void *storage[4] = {NULL, NULL, NULL, NULL}, *var = NULL;
    gb_status st = slot(k, a->variable, &var);
    for (int i = 0; i < slots && st == GB_OK; i++) st = slot(k, a->slots[i], &storage[i]);
    if (st != GB_OK) return st;
    p.slot0 = storage[0], p.slot1 = storage[1], p.beta1_power = storage[2], p.beta2_power = storage[3];
    return gb_cuda_queue_update(cuda_of(k), &p);
}

gb_status gb_cuda_scale_variable_forward(const gb_kernel_args *k, const gb_tensor *factor)
{
    gb_cu_apply p = {.var = k->out->data, .error = gb_session_cuda(k->session)->error, .grad = factor->data,
                     .lr = factor->data, .n = elements(k->out), .kind = GB_CU_APPLY_SCALE,
                     .dtype = (int32_t)k->out->dtype};
    return gb_cuda_queue_update(cuda_of(k), &p);
}

gb_status gb_cuda_apply_sgd_forward(const gb_kernel_args *k) { return apply(k, GB_CU_APPLY_SGD, 0); }
gb_status gb_cuda_apply_momentum_forward(const gb_kernel_args *k) { return apply(k, GB_CU_APPLY_MOMENTUM, 1); }
gb_status gb_cuda_apply_adam_forward(const gb_kernel_args *k) { return apply(k, GB_CU_APPLY_ADAM, 4); }
gb_status gb_cuda_apply_rmsprop_forward(const gb_kernel_args *k) { return apply(k, GB_CU_APPLY_RMSPROP, 2); }
gb_status gb_cuda_apply_adagrad_forward(const gb_kernel_args *k) { return apply(k, GB_CU_APPLY_ADAGRAD, 1); }
