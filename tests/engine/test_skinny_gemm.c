/* The skinny float32 GEMM loops (internal/skinny_gemm.h) against a float64 reference: every
 * transpose, assigning and accumulating, small sides 1..16, sizes that end inside a vector, a
 * register group or a stack block; and splitting C by rows or columns changes no bit. On a CPU
 * without AVX-512F the loops cannot run: the tests then check that they are not chosen. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/skinny_gemm.h"

static int runnable(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return 1;
#endif
    cr_log_warn("no AVX-512F here: the skinny loops cannot run, only their absence is checked");
    cr_assert_eq(gb_skinny_sgemm_fits(1024, 2048, 10), 0);
    cr_assert_eq(gb_skinny_sgemm_fits(1024, 10, 2048), 0);
    return 0;
}

static float *random_floats(int64_t n, uint32_t seed)
{
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)((double)(seed >> 8) / 16777216.0 - 0.5);
    }
    return v;
}

/* Runs one product and compares every element of C with the float64 reference. The operands sit
 * in buffers wider than they need (lda, ldb, ldc past the sizes), to catch a wrong stride. */
static void check(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, int accumulate)
{
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    int64_t lda = a_cols + 3, ldb = b_cols + 5, ldc = n + 7;
    float *a = random_floats(a_rows * lda, 1 + (uint32_t)(m * 7 + k)), *b = random_floats(b_rows * ldb, 2 + (uint32_t)n);
    float *c = random_floats(m * ldc, 3);
    float *before = malloc((size_t)(m * ldc) * sizeof *before);
    memcpy(before, c, (size_t)(m * ldc) * sizeof *c);
    gb_skinny_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double sum = 0, size = 0;
            for (int64_t kk = 0; kk < k; kk++) {
                double x = ta ? a[kk * lda + i] : a[i * lda + kk], y = tb ? b[j * ldb + kk] : b[kk * ldb + j];
                sum += x * y, size += fabs(x * y);
            }
            double want = alpha * sum + (accumulate ? before[i * ldc + j] : 0);
            double got = c[i * ldc + j], tolerance = 1e-6 * (fabs(alpha) * size + 1);
            cr_assert(fabs(got - want) <= tolerance,
                      "ta %d tb %d m %lld n %lld k %lld alpha %g accumulate %d: C[%lld][%lld] = %.9g, want %.9g", ta,
                      tb, (long long)m, (long long)n, (long long)k, alpha, accumulate, (long long)i, (long long)j, got,
                      want);
        }
        for (int64_t j = n; j < ldc; j++) /* past the row's end: untouched */
            cr_assert_eq(c[i * ldc + j], before[i * ldc + j], "wrote past C's row %lld at column %lld", (long long)i,
                         (long long)j);
    }
    free(a), free(b), free(c), free(before);
}

Test(skinny_gemm, a_small_depth_every_k_and_transpose)
{
    if (!runnable()) return;
    for (int k = 1; k <= 16; k++)
        for (int t = 0; t < 4; t++) check(t & 1, t >> 1, 19, 45, k, 1.0f, 0);
    /* past one stack block of a transposed B (8192 / k columns), and a row group's end */
    check(0, 1, 37, 1000, 10, -0.5f, 1);
    check(1, 1, 9, 2100, 16, 2.0f, 0);
    check(1, 0, 8, 4099, 3, 1.0f, 1);
}

Test(skinny_gemm, few_columns_every_n_and_transpose)
{
    if (!runnable()) return;
    for (int n = 1; n <= 16; n++)
        for (int t = 0; t < 4; t++) check(t & 1, t >> 1, 45, n, 70, 1.0f, t == 3);
    /* past a transposed B's depth block (256), the transposed loop's depth pass (512), its
     * 32-row strips and the 16-row halves of its wider cases */
    check(0, 1, 33, 10, 700, -0.01f, 1);
    check(1, 0, 47, 10, 1100, 1.0f, 0);
    check(1, 1, 17, 13, 600, 0.25f, 1);
    check(0, 0, 1025, 10, 2048, 1.0f, 0);
}

Test(skinny_gemm, wide_with_a_deep_sum_goes_sixteen_columns_at_a_time)
{
    if (!runnable()) return;
    check(0, 0, 20, 40, 50, 1.0f, 0);
    check(1, 1, 40, 33, 64, -1.0f, 1);
}

Test(skinny_gemm, an_empty_sum_gives_zeros_or_leaves_c)
{
    if (!runnable()) return;
    check(0, 0, 16, 40, 0, 1.0f, 0);
    check(1, 1, 16, 40, 0, 1.0f, 1);
}

Test(skinny_gemm, splitting_c_changes_no_bit)
{
    if (!runnable()) return;
    const struct { int ta, tb; int64_t m, n, k; } shapes[] = {{0, 1, 64, 2048, 10}, {1, 0, 2048, 10, 300},
                                                              {0, 0, 300, 10, 2048}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int ta = shapes[s].ta, tb = shapes[s].tb;
        int64_t m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        cr_assert(gb_skinny_sgemm_fits(m, n, k));
        int64_t lda = ta ? m : k, ldb = tb ? k : n;
        float *a = random_floats(m * k, 5), *b = random_floats(n * k, 6);
        float *whole = calloc((size_t)(m * n), sizeof *whole), *parts = calloc((size_t)(m * n), sizeof *parts);
        gb_skinny_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0, whole, n);
        if (n > m) { /* columns, at a multiple of 16 as the MatMul kernel splits them */
            int64_t half = n / 2 / 16 * 16;
            gb_skinny_sgemm(ta, tb, m, half, k, 1.0f, a, lda, b, ldb, 0, parts, n);
            gb_skinny_sgemm(ta, tb, m, n - half, k, 1.0f, a, lda, tb ? b + half * ldb : b + half, ldb, 0, parts + half,
                            n);
        } else {
            int64_t half = m / 2 / 16 * 16;
            gb_skinny_sgemm(ta, tb, half, n, k, 1.0f, a, lda, b, ldb, 0, parts, n);
            gb_skinny_sgemm(ta, tb, m - half, n, k, 1.0f, ta ? a + half : a + half * lda, lda, b, ldb, 0,
                            parts + half * n, n);
        }
        cr_assert(memcmp(whole, parts, (size_t)(m * n) * sizeof *whole) == 0, "shape %zu: the split C differs", s);
        free(a), free(b), free(whole), free(parts);
    }
}
