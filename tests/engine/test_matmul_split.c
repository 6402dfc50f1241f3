/* MatMul split across the worker pool during runs (internal/blas_threads.h): every shape and
 * transpose, rows or columns split, batched or not, float32 and float64, gives the product a
 * float64 reference gives; sessions on several threads at once do too; and OpenBLAS's own
 * thread count is back to the caller's after every run. */
#include <cblas.h>
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "gradboard/engine.h"
#include "internal/parallel.h"

typedef struct case_ {
    int batches; /* 0: rank 2 */
    int m, n, k, ta, tb;
    gb_dtype dtype;
} case_;

static const case_ cases[] = {
    {0, 128, 256, 784, 0, 0, GB_F32}, /* the small MLP's layers: columns split */
    {0, 784, 256, 128, 1, 0, GB_F32}, /* its weight gradient: rows split */
    {0, 128, 256, 128, 0, 1, GB_F32},
    {0, 127, 33, 200, 1, 1, GB_F32},  /* odd sizes: the last part is short */
    {0, 17, 300, 64, 0, 0, GB_F32},
    {0, 1000, 10, 64, 0, 0, GB_F32},  /* skinny (internal/skinny_gemm.h): few columns */
    {0, 300, 2048, 10, 0, 1, GB_F32}, /* a shallow sum: columns split */
    {0, 2048, 10, 300, 1, 0, GB_F32}, /* few columns, A transposed: rows split */
    {2, 100, 12, 300, 0, 1, GB_F32},  /* batched */
    {0, 40, 70, 0, 0, 0, GB_F32},     /* empty sums: zeros, skinny */
    {0, 5, 7, 0, 1, 0, GB_F64},       /* and through OpenBLAS's side */
    {0, 8, 8, 8, 0, 0, GB_F32},       /* under the split threshold */
    {0, 130, 70, 90, 0, 1, GB_F64},
    {3, 64, 96, 80, 0, 0, GB_F32},    /* batched: fewer batches than... or more than threads */
    {1, 200, 64, 128, 1, 0, GB_F32},
    {5, 40, 50, 60, 1, 1, GB_F64},
};

static double element(const gb_tensor *t, int64_t i)
{
    return gb_tensor_dtype(t) == GB_F32 ? ((const float *)gb_tensor_data(t))[i]
                                        : ((const double *)gb_tensor_data(t))[i];
}

static gb_tensor *random_tensor(gb_dtype dtype, gb_shape shape, uint32_t seed)
{
    gb_tensor *t = gb_tensor_new(dtype, shape);
    int64_t n = gb_shape_elements(&shape);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double v = (double)(seed >> 8) / 16777216.0 - 0.5;
        if (dtype == GB_F32)
            ((float *)gb_tensor_data(t))[i] = (float)v;
        else
            ((double *)gb_tensor_data(t))[i] = v;
    }
    return t;
}

static gb_shape operand_shape(const case_ *c, int rows, int cols)
{
    return c->batches ? gb_dims(3, c->batches, rows, cols) : gb_dims(2, rows, cols);
}

/* Runs the case `runs` times in a fresh session; checks each result against float64 sums. */
static void check_case(const case_ *c, int runs)
{
    gb_shape sa = c->ta ? operand_shape(c, c->k, c->m) : operand_shape(c, c->m, c->k);
    gb_shape sb = c->tb ? operand_shape(c, c->n, c->k) : operand_shape(c, c->k, c->n);
    gb_tensor *a = random_tensor(c->dtype, sa, 7u + (uint32_t)c->m), *b = random_tensor(c->dtype, sb, 11u + (uint32_t)c->n);
    gb_graph *g = gb_graph_new();
    gb_node *pa = gb_placeholder(g, "a", c->dtype, sa), *pb = gb_placeholder(g, "b", c->dtype, sb);
    gb_node *y = gb_matmul(g, pa, pb, c->ta, c->tb);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_not_null(s, "%s", gb_errmsg());
    gb_feed feeds[] = {{pa, a}, {pb, b}};
    int batches = c->batches ? c->batches : 1;
    int64_t a_rows = c->ta ? c->k : c->m, a_cols = c->ta ? c->m : c->k;
    int64_t b_rows = c->tb ? c->n : c->k, b_cols = c->tb ? c->k : c->n;
    double tolerance = c->dtype == GB_F32 ? 1e-5 : 1e-12;
    for (int run = 0; run < runs; run++) {
        const gb_tensor *out;
        cr_assert_eq(gb_session_run(s, feeds, 2, &y, 1, &out), GB_OK, "%s", gb_errmsg());
        for (int bt = 0; bt < batches; bt++)
            for (int i = 0; i < c->m; i++)
                for (int j = 0; j < c->n; j++) {
                    double sum = 0, magnitude = 0;
                    for (int kk = 0; kk < c->k; kk++) {
                        int64_t ia = bt * a_rows * a_cols + (c->ta ? (int64_t)kk * a_cols + i : (int64_t)i * a_cols + kk);
                        int64_t ib = bt * b_rows * b_cols + (c->tb ? (int64_t)j * b_cols + kk : (int64_t)kk * b_cols + j);
                        double term = element(a, ia) * element(b, ib);
                        sum += term, magnitude += fabs(term);
                    }
                    double got = element(out, ((int64_t)bt * c->m + i) * c->n + j);
                    cr_assert_leq(fabs(got - sum), tolerance * (magnitude + 1e-30),
                                  "%dx[%d x %d x %d] ta %d tb %d: C[%d][%d][%d] = %.9g, want %.9g", batches, c->m,
                                  c->n, c->k, c->ta, c->tb, bt, i, j, got, sum);
                }
    }
    gb_session_free(s);
    gb_graph_free(g);
    gb_tensor_free(a);
    gb_tensor_free(b);
}

Test(matmul_split, every_shape_matches_a_float64_reference)
{
    int before = openblas_get_num_threads();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check_case(&cases[i], 2);
        cr_assert_eq(openblas_get_num_threads(), before, "OpenBLAS's thread count is the caller's after a run");
    }
}

static void *run_cases(void *arg)
{
    (void)arg;
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < 3; i++) check_case(&cases[i], 3);
    return NULL;
}

Test(matmul_split, sessions_on_several_threads_at_once)
{
    int before = openblas_get_num_threads();
    pthread_t t[3];
    for (int i = 0; i < 3; i++) cr_assert_eq(pthread_create(&t[i], NULL, run_cases, NULL), 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    cr_assert_eq(openblas_get_num_threads(), before, "the last run to finish restores OpenBLAS's threads");
    cr_assert_geq(gb_parallel_threads(), 1);
}
