/* CUDA forward functions of the arithmetic ops: elementwise (unary, casts, broadcasting binary,
 * activation gradients, the fused bias + activation), reductions and matmul (cuBLAS). Each fills
 * a parameter block (cuda_params.h) from the run-time shapes and launches one kernel. */
#include <math.h>
#include <string.h>

#include "device/cuda/cuda_context.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/kernel_util.h"
#include "internal/op_kinds.h"
#include "internal/shape_util.h"

enum { THREADS = GB_CUDA_THREADS };

static gb_cuda_session *cuda_of(const gb_kernel_args *k) { return gb_session_cuda(k->session); }

static int64_t elements(const gb_tensor *t) { return gb_shape_elements(&t->shape); }

gb_status gb_cuda_unary_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_unary p = {k->in[0]->data, k->out->data, elements(k->out), k->node->attr.alpha, k->node->attr.flag,
                     (int32_t)k->out->dtype};
    if (p.n == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_UNARY, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_cast_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_cast p = {k->in[0]->data, k->out->data, elements(k->out), (int32_t)k->in[0]->dtype, (int32_t)k->out->dtype};
    if (p.n == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_CAST, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_binary_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_binary p = {.a = k->in[0]->data, .b = k->in[1]->data, .o = k->out->data, .n = elements(k->out)};
    if (p.n == 0) return GB_OK;
    p.rank = gb_broadcast_layout(k->in[0], k->in[1], k->out, p.dim, p.sa, p.sb);
    p.kind = k->node->attr.flag;
    p.dtype = (int32_t)k->in[0]->dtype;
    return gb_cuda_launch(cs, GB_KERNEL_BINARY, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_activation_grad_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_act_grad p = {k->in[0]->data, k->in[1]->data, k->out->data, elements(k->out), k->node->attr.alpha,
                        k->node->attr.flag, (int32_t)k->out->dtype};
    if (p.n == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_ACT_GRAD, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_bias_activation_forward(gb_session *s, const gb_node *activation, const gb_tensor *x,
                                          const gb_tensor *bias, gb_tensor *out)
{
    gb_cuda_session *cs = gb_session_cuda(s);
    int64_t cols = bias->shape.dim[0], total = elements(x);
    gb_cu_bias_act p = {x->data, bias->data, out->data, cols ? total / cols : 0, cols, activation->attr.flag,
                        (int32_t)x->dtype};
    if (total == 0) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_BIAS_ACT, gb_cuda_grid(cs, total), THREADS, &p);
}

/* ---- reductions ---- */

/* Splits the reduced elements among blocks when `units` blocks (rows, or tiles of 32 columns)
 * would leave the GPU below `enough` blocks: at most enough / units runs each, none shorter than
 * `least` elements, and no more partial results than the session's buffer holds. */
static void split_reduction(gb_cu_reduce *p, int64_t units, int64_t least, int64_t enough)
{
    int64_t runs = (enough + units - 1) / units, longest = (p->per_output + least - 1) / least;
    int64_t room = GB_REDUCE_PARTIALS / p->outputs;
    if (runs > longest) runs = longest;
    if (runs > room) runs = room;
    if (runs <= 1) return;
    p->chunk = (p->per_output + runs - 1) / runs;
    p->splits = (int32_t)((p->per_output + p->chunk - 1) / p->chunk); /* no empty last run */
}

/* With splits, the second pass: each output from its runs' partial results. */
static gb_status finish_split(gb_cuda_session *cs, const gb_cu_reduce *p)
{
    if (p->splits == 1) return GB_OK;
    return gb_cuda_launch(cs, GB_KERNEL_REDUCE_FINISH, gb_cuda_grid(cs, p->outputs), THREADS, p);
}

/* x reduced to `view` (x's rank, size 1 on the reduced axes): splits x's axes into kept and
 * reduced ones and picks the kernel by whether the innermost axis is reduced. */
static gb_status reduce_into(gb_cuda_session *cs, const gb_tensor *x, const gb_shape *view, void *y, int32_t kind,
                             double scale)
{
    gb_cu_reduce p = {.x = x->data, .y = y, .outputs = 1, .per_output = 1, .scale = scale, .kind = kind,
                      .dtype = (int32_t)x->dtype};
    int64_t strides[GB_MAX_RANK];
    gb_shape_strides(&x->shape, strides);
    int innermost_reduced = 0;
    for (int d = 0; d < x->shape.rank; d++) {
        int64_t n = x->shape.dim[d];
        if (n == 1) continue;
        if (view->dim[d] == n) {
            p.out_dim[p.out_rank] = n, p.out_stride[p.out_rank++] = strides[d];
            p.outputs *= n;
            innermost_reduced = 0;
        } else {
            p.red_dim[p.red_rank] = n, p.red_stride[p.red_rank++] = strides[d];
            p.per_output *= n;
            innermost_reduced = 1;
        }
    }
    if (p.outputs == 0) return GB_OK;
    if (p.per_output == 0) { /* nothing to reduce: sums are 0, maxima -inf (as on the CPU) */
        gb_cu_fill f = {.y = y, .n = p.outputs, .value = kind == GB_REDUCE_MAX ? -INFINITY : 0 * scale,
                      .dtype = p.dtype};
        return gb_cuda_launch(cs, GB_KERNEL_FILL, gb_cuda_grid(cs, p.outputs), THREADS, &f);
    }
    int64_t sms = cs->sm_count, most = sms * 64;
    p.splits = 1, p.partial = cs->reduce_partials;
    if (innermost_reduced) {
        /* a warp per row unless the rows are long and too few to give every SM 16 warps; then a
         * block per row, split further while that leaves SMs without 4 blocks */
        p.warp_per_output = p.per_output <= 1024 || p.outputs >= sms * 16;
        if (!p.warp_per_output) split_reduction(&p, p.outputs, 4096, sms * 4);
        int64_t per_block = p.warp_per_output ? THREADS / 32 : 1;
        int64_t blocks = (p.outputs * p.splits + per_block - 1) / per_block;
        gb_status st = gb_cuda_launch(cs, GB_KERNEL_REDUCE_ROWS, (unsigned)(blocks < most ? blocks : most), THREADS, &p);
        return st == GB_OK ? finish_split(cs, &p) : st;
    }
    int64_t tiles = (p.outputs + 31) / 32;
    split_reduction(&p, tiles, 256, sms * 4);
    int64_t blocks = tiles * p.splits;
    gb_status st = gb_cuda_launch(cs, GB_KERNEL_REDUCE_COLUMNS, (unsigned)(blocks < most ? blocks : most), THREADS, &p);
    return st == GB_OK ? finish_split(cs, &p) : st;
}

gb_status gb_cuda_reduce_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_shape view = gb_reduced_shape(&x->shape, k->node->attr.axes, 1);
    int32_t kind = k->node->attr.flag;
    int64_t outputs = gb_shape_elements(&view), total = elements(x);
    double scale = kind == GB_REDUCE_MEAN ? (outputs ? (double)outputs / (double)total : 0) : 1.0; /* as the CPU */
    return reduce_into(cuda_of(k), x, &view, k->out->data, kind == GB_REDUCE_MAX ? GB_REDUCE_MAX : GB_REDUCE_SUM,
                       scale);
}

/* x summed down to the output's shape (the gradient of broadcasting), scaled for means. */
gb_status gb_cuda_reduce_to_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_shape view = x->shape;
    int64_t strides[GB_MAX_RANK];
    gb_broadcast_strides(&k->out->shape, &x->shape, strides);
    for (int d = 0; d < x->shape.rank; d++)
        if (strides[d] == 0) view.dim[d] = 1;
    int64_t outputs = elements(k->out), total = elements(x);
    double scale = k->node->attr.flag == GB_REDUCE_MEAN ? (total ? (double)outputs / (double)total : 0) : 1.0;
    return reduce_into(cuda_of(k), x, &view, k->out->data, GB_REDUCE_SUM, scale);
}

/* dy spread to the output's shape, times 1 / (elements out / elements dy) for means. */
gb_status gb_cuda_broadcast_like_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    const gb_tensor *dy = k->in[0];
    gb_cu_broadcast p = {.x = dy->data, .y = k->out->data, .n = elements(k->out), .scale = 1.0,
                         .dtype = (int32_t)dy->dtype};
    if (p.n == 0) return GB_OK;
    if (k->node->attr.flag == GB_REDUCE_MEAN) {
        int64_t from = elements(dy);
        p.scale = (double)from / (double)p.n;
    }
    if (dy->dtype == GB_F32) p.scale = (float)p.scale; /* the CPU multiplies by the float32 factor */
    int64_t strides[GB_MAX_RANK];
    gb_broadcast_strides(&dy->shape, &k->out->shape, strides);
    p.rank = k->out->shape.rank;
    for (int d = 0; d < p.rank; d++) p.dim[d] = k->out->shape.dim[d], p.sx[d] = strides[d];
    if (p.rank == 0) p.rank = 1, p.dim[0] = 1, p.sx[0] = 0;
    return gb_cuda_launch(cs, GB_KERNEL_BROADCAST, gb_cuda_grid(cs, p.n), THREADS, &p);
}

/* ---- matmul: row-major C = op(A) op(B) as the column-major C^T = op(B)^T op(A)^T ---- */

gb_status gb_cuda_matmul_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    const gb_tensor *a = k->in[0], *b = k->in[1];
    gb_tensor *c = k->out;
    int ta = k->node->attr.transpose_a, tb = k->node->attr.transpose_b;
    int r = a->shape.rank - 2;
    int64_t batches = r ? a->shape.dim[0] : 1;
    int64_t a_rows = a->shape.dim[r], a_cols = a->shape.dim[r + 1], b_rows = b->shape.dim[r], b_cols = b->shape.dim[r + 1];
    int64_t m = ta ? a_cols : a_rows, kk = ta ? a_rows : a_cols, n = tb ? b_rows : b_cols;
    if (m == 0 || n == 0 || batches == 0) return GB_OK;
    if (m > INT32_MAX || n > INT32_MAX || kk > INT32_MAX || batches > INT32_MAX)
        return gb_fail(GB_EUNSUPPORTED, "CUDA matmul: dimensions past 2^31 (%lld x %lld x %lld)", (long long)m,
                       (long long)n, (long long)kk);
    if (kk == 0)
        return gb_cuda_check(cs->api->cuMemsetD8Async((CUdeviceptr)(uintptr_t)c->data, 0, gb_tensor_bytes(c), cs->stream),
                             "matmul of empty inner dimension");
    cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N, op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t status;
    if (c->dtype == GB_F64) {
        const double one = 1, zero = 0;
        status = cs->api->cublasDgemmStridedBatched(cs->blas, op_b, op_a, (int)n, (int)m, (int)kk, &one, b->data,
                                                    (int)b_cols, b_rows * b_cols, a->data, (int)a_cols, a_rows * a_cols,
                                                    &zero, c->data, (int)n, m * n, (int)batches);
    } else {
        const float one = 1, zero = 0;
        status = cs->api->cublasSgemmStridedBatched(cs->blas, op_b, op_a, (int)n, (int)m, (int)kk, &one, b->data,
                                                    (int)b_cols, b_rows * b_cols, a->data, (int)a_cols, a_rows * a_cols,
                                                    &zero, c->data, (int)n, m * n, (int)batches);
    }
    return gb_cublas_check(status, "matmul");
}
