/* MatMul through OpenBLAS, with the transposes folded into the GEMM call (no copies), split
 * across the worker pool during session runs. */
#include <cblas.h>
#include <string.h>
#include <stdio.h>

#include "gradboard/ops.h"
#include "internal/cuda_kernels.h"
#include "internal/blas_threads.h"
#include "internal/grad_util.h"
#include "internal/parallel.h"
#include "internal/skinny_gemm.h"

static gb_status matmul_infer(const gb_node *n, const gb_dtype *dt, const gb_shape *sh, gb_dtype *dtype,
                              gb_shape *shape, char *err, size_t err_size)
{
    char sa[96], sb[96];
    if (dt[0] != dt[1] || !gb_is_float(dt[0])) {
        snprintf(err, err_size, "needs two float32 or two float64 inputs, got %s and %s", gb_dtype_name(dt[0]),
                 gb_dtype_name(dt[1]));
        return GB_EINVAL;
    }
    int rank = sh[0].rank;
    if ((rank != 2 && rank != 3) || sh[1].rank != rank) {
        snprintf(err, err_size, "needs two rank-2 (or two rank-3, batched) inputs, got %s and %s",
                 gb_shape_format(&sh[0], sa, sizeof sa), gb_shape_format(&sh[1], sb, sizeof sb));
        return GB_ESHAPE;
    }
    int r = rank - 2;
    int64_t m = sh[0].dim[r + (n->attr.transpose_a ? 1 : 0)], ka = sh[0].dim[r + (n->attr.transpose_a ? 0 : 1)];
    int64_t kb = sh[1].dim[r + (n->attr.transpose_b ? 1 : 0)], nn = sh[1].dim[r + (n->attr.transpose_b ? 0 : 1)];
    if (ka >= 0 && kb >= 0 && ka != kb) {
        snprintf(err, err_size, "inner dimensions differ: %lld (of %s%s) vs %lld (of %s%s)", (long long)ka,
                 gb_shape_format(&sh[0], sa, sizeof sa), n->attr.transpose_a ? ", transposed" : "", (long long)kb,
                 gb_shape_format(&sh[1], sb, sizeof sb), n->attr.transpose_b ? ", transposed" : "");
        return GB_ESHAPE;
    }
    if (rank == 3 && sh[0].dim[0] >= 0 && sh[1].dim[0] >= 0 && sh[0].dim[0] != sh[1].dim[0]) {
        snprintf(err, err_size, "batch sizes differ: %lld vs %lld", (long long)sh[0].dim[0], (long long)sh[1].dim[0]);
        return GB_ESHAPE;
    }
    *dtype = dt[0];
    shape->rank = rank;
    if (rank == 3) shape->dim[0] = sh[0].dim[0] >= 0 ? sh[0].dim[0] : sh[1].dim[0];
    shape->dim[r] = m;
    shape->dim[r + 1] = nn;
    return GB_OK;
}

/* One GEMM call per (batch, part): the parts split C's longer side, so that the pool's threads
 * each run a single-threaded OpenBLAS call on their own rows or columns (internal/blas_threads.h).
 * Each element's sum over k is computed as in an unsplit call. */
typedef struct gemm_job {
    const void *a, *b;
    void *c;
    int ta, tb, f64;
    int64_t m, n, k, a_rows, a_cols, b_rows, b_cols;
    int64_t parts, part_size; /* part_size rows of C (split_rows) or columns */
    int split_rows;
    int skinny;     /* a side of at most 16: internal/skinny_gemm.h rather than OpenBLAS */
    int accumulate; /* C += alpha op(A) op(B), else C = alpha op(A) op(B) */
    double alpha;
} gemm_job;

static void gemm_task(const gemm_job *j, int64_t task)
{
    int64_t batch = task / j->parts, part = task % j->parts;
    int64_t side = j->split_rows ? j->m : j->n, lo = part * j->part_size;
    int64_t hi = lo + j->part_size < side ? lo + j->part_size : side;
    if (lo >= hi) return;
    int64_t m = j->split_rows ? hi - lo : j->m, n = j->split_rows ? j->n : hi - lo;
    /* where the part starts in A (rows of op(A)) or B (columns of op(B)), in elements */
    int64_t a_off = batch * j->a_rows * j->a_cols, b_off = batch * j->b_rows * j->b_cols;
    int64_t c_off = batch * j->m * j->n;
    if (j->split_rows) {
        a_off += j->ta ? lo : lo * j->a_cols;
        c_off += lo * j->n;
    } else {
        b_off += j->tb ? lo * j->b_cols : lo;
        c_off += lo;
    }
    if (j->skinny) {
        gb_skinny_sgemm(j->ta, j->tb, m, n, j->k, (float)j->alpha, (const float *)j->a + a_off, j->a_cols,
                        (const float *)j->b + b_off, j->b_cols, j->accumulate, (float *)j->c + c_off, j->n);
        return;
    }
    enum CBLAS_TRANSPOSE opa = j->ta ? CblasTrans : CblasNoTrans, opb = j->tb ? CblasTrans : CblasNoTrans;
    /* C = A B + 1 * C on a cleared C rather than beta = 0: OpenBLAS clears C for beta = 0 with a
     * scalar loop on every thread, several times slower than memset (a tenth of a small MLP's step).
     * Each part clears its own rows, on the thread that is about to fill them. */
    if (!j->accumulate) {
        size_t element = j->f64 ? sizeof(double) : sizeof(float), row = (size_t)n * element;
        char *c = (char *)j->c + (size_t)c_off * element;
        if (n == j->n)
            memset(c, 0, row * (size_t)m);
        else
            for (int64_t i = 0; i < m; i++) memset(c + (size_t)i * (size_t)j->n * element, 0, row);
    }
    if (j->f64)
        cblas_dgemm(CblasRowMajor, opa, opb, (blasint)m, (blasint)n, (blasint)j->k, j->alpha, (const double *)j->a + a_off,
                    (blasint)j->a_cols, (const double *)j->b + b_off, (blasint)j->b_cols, 1.0,
                    (double *)j->c + c_off, (blasint)j->n);
    else
        cblas_sgemm(CblasRowMajor, opa, opb, (blasint)m, (blasint)n, (blasint)j->k, (float)j->alpha, (const float *)j->a + a_off,
                    (blasint)j->a_cols, (const float *)j->b + b_off, (blasint)j->b_cols, 1.0f,
                    (float *)j->c + c_off, (blasint)j->n);
}

static void gemm_range(void *ctx, int64_t begin, int64_t end)
{
    for (int64_t t = begin; t < end; t++) gemm_task(ctx, t);
}

/* Below this many multiply-adds a GEMM runs on one thread (a split costs a few microseconds). */
enum { SPLIT_MIN_MACS = 1 << 18, PART_ALIGN = 16 };

/* C = alpha op(A) op(B), or C += that when accumulate is nonzero. */
static void gemm(const gb_node *node, const gb_tensor *a, const gb_tensor *b, double alpha, int accumulate,
                 gb_tensor *c)
{
    gemm_job j = {.a = a->data, .b = b->data, .c = c->data, .f64 = c->dtype == GB_F64, .alpha = alpha};
    j.ta = node->attr.transpose_a, j.tb = node->attr.transpose_b;
    int r = a->shape.rank - 2;
    int64_t batches = r ? a->shape.dim[0] : 1;
    j.a_rows = a->shape.dim[r], j.a_cols = a->shape.dim[r + 1];
    j.b_rows = b->shape.dim[r], j.b_cols = b->shape.dim[r + 1];
    j.m = j.ta ? j.a_cols : j.a_rows, j.k = j.ta ? j.a_rows : j.a_cols, j.n = j.tb ? j.b_rows : j.b_cols;
    j.skinny = !j.f64 && gb_skinny_sgemm_fits(j.m, j.n, j.k);
    j.accumulate = accumulate;
    if (j.m == 0 || j.n == 0 || batches == 0) return;
    if (j.k == 0 && !j.skinny) { /* an empty sum: nothing to add (OpenBLAS would reject lda = 0) */
        if (!accumulate) memset(c->data, 0, gb_tensor_bytes(c));
        return;
    }
    /* each thread reads all of the operand not split: split the one that is larger (for the
     * small MLP's first layer, columns ran in 220 us, rows in 350) */
    j.split_rows = j.m >= j.n;
    int64_t side = j.split_rows ? j.m : j.n, threads = gb_blas_threads_split() ? gb_parallel_threads() : 1;
    j.parts = 1, j.part_size = side;
    if (threads > 1 && j.m * j.n * j.k >= SPLIT_MIN_MACS && batches < threads && side >= 2 * PART_ALIGN) {
        j.part_size = ((side + threads - 1) / threads + PART_ALIGN - 1) / PART_ALIGN * PART_ALIGN;
        j.parts = (side + j.part_size - 1) / j.part_size;
    }
    int64_t tasks = batches * j.parts;
    if (tasks > 1 && batches * j.m * j.n * j.k >= SPLIT_MIN_MACS)
        gb_parallel_for(tasks, 1, gemm_range, &j);
    else
        gemm_range(&j, 0, tasks);
}

void gb_matmul_accumulate(const gb_node *node, const gb_tensor *a, const gb_tensor *b, double alpha, gb_tensor *c)
{
    gemm(node, a, b, alpha, 1, c);
}

static gb_status matmul_forward(const gb_kernel_args *k)
{
    gemm(k->node, k->in[0], k->in[1], 1.0, 0, k->out);
    return GB_OK;
}

/* C = op(A) op(B); the four cases of TensorFlow's MatMul gradient. */
static void matmul_gradient(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx)
{
    gb_node *a = n->inputs[0], *b = n->inputs[1];
    int ta = n->attr.transpose_a, tb = n->attr.transpose_b;
    if (!ta && !tb) {
        dx[0] = gb_matmul(g, dy, b, 0, 1);
        dx[1] = gb_matmul(g, a, dy, 1, 0);
    } else if (!ta && tb) {
        dx[0] = gb_matmul(g, dy, b, 0, 0);
        dx[1] = gb_matmul(g, dy, a, 1, 0);
    } else if (ta && !tb) {
        dx[0] = gb_matmul(g, b, dy, 0, 1);
        dx[1] = gb_matmul(g, a, dy, 0, 0);
    } else {
        dx[0] = gb_matmul(g, b, dy, 1, 1);
        dx[1] = gb_matmul(g, dy, a, 1, 1);
    }
}

static const gb_op_def op_matmul = {"MatMul", matmul_infer, matmul_forward, matmul_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_matmul_forward)};
static const gb_op_def op_batch_matmul = {"BatchMatMulV2", matmul_infer, matmul_forward, matmul_gradient, 0, 0, 0, 0, GB_CUDA_KERNEL(gb_cuda_matmul_forward)};

int gb_is_matmul(const gb_node *n) { return n->op == &op_matmul; }

gb_node *gb_matmul(gb_graph *g, gb_node *a, gb_node *b, int transpose_a, int transpose_b)
{
    gb_attrs attrs = {0};
    attrs.transpose_a = transpose_a != 0;
    attrs.transpose_b = transpose_b != 0;
    gb_node *inputs[2] = {a, b};
    int batched = a && a->shape.rank == 3;
    return gb_node_create(g, batched ? &op_batch_matmul : &op_matmul, batched ? "MatMul" : "MatMul", inputs, 2, &attrs);
}
