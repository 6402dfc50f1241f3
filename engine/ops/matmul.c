/* MatMul through OpenBLAS, with the transposes folded into the GEMM call (no copies). */
#include <cblas.h>
#include <string.h>
#include <stdio.h>

#include "gradboard/ops.h"
#include "internal/grad_util.h"

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

static gb_status matmul_forward(const gb_kernel_args *k)
{
    const gb_tensor *a = k->in[0], *b = k->in[1];
    gb_tensor *c = k->out;
    int ta = k->node->attr.transpose_a, tb = k->node->attr.transpose_b;
    int r = a->shape.rank - 2;
    int64_t batches = r ? a->shape.dim[0] : 1;
    int64_t a_rows = a->shape.dim[r], a_cols = a->shape.dim[r + 1];
    int64_t b_rows = b->shape.dim[r], b_cols = b->shape.dim[r + 1];
    int64_t m = ta ? a_cols : a_rows, kk = ta ? a_rows : a_cols, n = tb ? b_rows : b_cols;
    enum CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
    /* C = A B + 1 * zeros rather than beta = 0: OpenBLAS clears C for beta = 0 with a scalar loop
     * on every thread, several times slower than memset (a tenth of a small MLP's step). */
    memset(c->data, 0, gb_tensor_bytes(c));
    for (int64_t i = 0; i < batches; i++) {
        if (m == 0 || n == 0) break;
        if (c->dtype == GB_F32) {
            const float *pa = (const float *)a->data + i * a_rows * a_cols;
            const float *pb = (const float *)b->data + i * b_rows * b_cols;
            float *pc = (float *)c->data + i * m * n;
            cblas_sgemm(CblasRowMajor, opa, opb, (blasint)m, (blasint)n, (blasint)kk, 1.0f, pa, (blasint)a_cols, pb,
                        (blasint)b_cols, 1.0f, pc, (blasint)n);
        } else {
            const double *pa = (const double *)a->data + i * a_rows * a_cols;
            const double *pb = (const double *)b->data + i * b_rows * b_cols;
            double *pc = (double *)c->data + i * m * n;
            cblas_dgemm(CblasRowMajor, opa, opb, (blasint)m, (blasint)n, (blasint)kk, 1.0, pa, (blasint)a_cols, pb,
                        (blasint)b_cols, 1.0, pc, (blasint)n);
        }
    }
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

static const gb_op_def op_matmul = {"MatMul", matmul_infer, matmul_forward, matmul_gradient, 0, 0, 0, 0};
static const gb_op_def op_batch_matmul = {"BatchMatMulV2", matmul_infer, matmul_forward, matmul_gradient, 0, 0, 0, 0};

gb_node *gb_matmul(gb_graph *g, gb_node *a, gb_node *b, int transpose_a, int transpose_b)
{
    gb_attrs attrs = {0};
    attrs.transpose_a = transpose_a != 0;
    attrs.transpose_b = transpose_b != 0;
    gb_node *inputs[2] = {a, b};
    int batched = a && a->shape.rank == 3;
    return gb_node_create(g, batched ? &op_batch_matmul : &op_matmul, batched ? "MatMul" : "MatMul", inputs, 2, &attrs);
}
