/* Float32 GEMMs with a side of at most 16 (internal/skinny_gemm.h), in three loops:
 *
 *  - shallow (k <= 16): vectors run along C's rows; the k rows of op(B) for 16 columns sit in
 *    registers and serve 8 rows of C at a time.
 *  - narrow (n <= 16, A not transposed): one vector holds a whole row of C; each step over k
 *    loads one row of op(B) and broadcasts one element of each of 8 rows of A into it.
 *  - narrow transposed (n <= 16, A transposed): vectors run down 32 of C's rows, which are
 *    contiguous in A; the n sums for each sit in registers and are written out row by row.
 *
 * The small side is a compile-time constant in each loop (switch over 1..16), so the
 * compiler keeps the accumulators in registers; transposes stay run-time strides, which keeps
 * the file to 32 expansions (it compiles in seconds, not minutes, under the sanitizers). */
#include "internal/skinny_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define SKINNY __attribute__((target("avx512f")))
/* each loop keeps its stack blocks in its own frame, never in one shared with the others */
#define SKINNY_LOOP static __attribute__((noinline, target("avx512f")))
#define SKINNY_INLINE static inline __attribute__((always_inline, target("avx512f")))

enum {
    SMALL = 16,               /* the largest skinny side: one vector */
    GROUP = 8,                /* rows of C sharing each load of op(B) */
    TRANSPOSED_FLOATS = 8192, /* a transposed op(B) copied a block at a time: 32 KiB of stack */
    DEPTH_BLOCK = 256,        /* rows of a transposed op(B) copied at a time */
    STRIP = 32,               /* rows of C per pass of the narrow transposed loop */
    STRIP_DEPTH = 512,        /* k per pass there: bounds the pages of A a pass touches */
    PREFETCH_ROWS = 8         /* how far ahead in A that loop asks for its rows */
};

int gb_skinny_sgemm_fits(int64_t m, int64_t n, int64_t k)
{
    int shallow = k <= SMALL && n >= 2 * SMALL && m >= GROUP;
    int narrow = n <= SMALL && k >= 2 * SMALL && m >= SMALL;
    return (shallow || narrow) && __builtin_cpu_supports("avx512f");
}

static inline __mmask16 first_lanes(int64_t count)
{
    if (count <= 0) return 0;
    return count >= SMALL ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
}

SKINNY_INLINE void write_c(float *c, __mmask16 lanes, __m512 sum, float alpha, int accumulate)
{
    __m512 scaled = _mm512_mul_ps(_mm512_set1_ps(alpha), sum);
    if (accumulate) scaled = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, c), scaled);
    _mm512_mask_storeu_ps(c, lanes, scaled);
}

/* ---- shallow: k <= 16 ---- */

/* C's columns [0, cols); the K rows of op(B) start at bt, ldbt apart; op(A)'s row i starts at
 * a + i * row_step, its elements depth_step apart. Eight rows of C at a time, each written from
 * start to end: C streams out as eight sequential runs. */
SKINNY_INLINE void shallow_rows(const int K, int64_t m, int64_t cols, const float *a, int64_t row_step,
                                int64_t depth_step, const float *bt, int64_t ldbt, float alpha, int accumulate, float *c,
                                int64_t ldc)
{
    for (int64_t i0 = 0; i0 < m; i0 += GROUP) {
        int64_t group = m - i0 < GROUP ? m - i0 : GROUP;
        for (int64_t j = 0; j < cols; j += SMALL) {
            __mmask16 lanes = first_lanes(cols - j);
            __m512 w[SMALL];
#pragma GCC unroll 16
            for (int kk = 0; kk < K; kk++) w[kk] = _mm512_maskz_loadu_ps(lanes, bt + kk * ldbt + j);
            for (int64_t i = i0; i < i0 + group; i++) {
                const float *ai = a + i * row_step;
                __m512 sum = _mm512_mul_ps(_mm512_set1_ps(ai[0]), w[0]);
#pragma GCC unroll 16
                for (int kk = 1; kk < K; kk++) sum = _mm512_fmadd_ps(_mm512_set1_ps(ai[kk * depth_step]), w[kk], sum);
                write_c(c + i * ldc + j, lanes, sum, alpha, accumulate);
            }
        }
    }
}

SKINNY_INLINE void shallow(const int K, int ta, int tb, int64_t m, int64_t n, float alpha, const float *a,
                           int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    float bt[TRANSPOSED_FLOATS]; /* a transposed op(B) for a block of columns, rows contiguous */
    const int64_t block = tb ? TRANSPOSED_FLOATS / K / SMALL * SMALL : n;
    for (int64_t j0 = 0; j0 < n; j0 += block) {
        int64_t cols = n - j0 < block ? n - j0 : block;
        const float *rows_of_b = b + j0;
        int64_t ld = ldb;
        if (tb) {
            for (int64_t j = 0; j < cols; j++)
                for (int kk = 0; kk < K; kk++) bt[kk * block + j] = b[(j0 + j) * ldb + kk];
            rows_of_b = bt, ld = block;
        }
        shallow_rows(K, m, cols, a, ta ? 1 : lda, ta ? lda : 1, rows_of_b, ld, alpha, accumulate, c + j0, ldc);
    }
}

/* ---- narrow: n <= 16, A not transposed ---- */

/* R rows of C from A's row a, over depth [0, depth); op(B)'s rows start at brow, ldbr apart. */
SKINNY_INLINE void narrow_rows(const int R, int64_t depth, const float *a, int64_t lda, const float *brow,
                               int64_t ldbr, __mmask16 lanes, float alpha, int accumulate, float *c, int64_t ldc)
{
    __m512 even[GROUP], odd[GROUP]; /* two chains per row: an FMA's latency is four of its issues */
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) even[r] = odd[r] = _mm512_setzero_ps();
    int64_t kk = 0;
    for (; kk + 2 <= depth; kk += 2) {
        __m512 b0 = _mm512_maskz_loadu_ps(lanes, brow + kk * ldbr);
        __m512 b1 = _mm512_maskz_loadu_ps(lanes, brow + (kk + 1) * ldbr);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            even[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + kk]), b0, even[r]);
            odd[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + kk + 1]), b1, odd[r]);
        }
    }
    if (kk < depth) {
        __m512 b0 = _mm512_maskz_loadu_ps(lanes, brow + kk * ldbr);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) even[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + kk]), b0, even[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) write_c(c + r * ldc, lanes, _mm512_add_ps(even[r], odd[r]), alpha, accumulate);
}

/* n <= 16 columns of C. */
SKINNY_INLINE void narrow(int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                          const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    __mmask16 lanes = first_lanes(n);
    float bt[DEPTH_BLOCK * SMALL]; /* a transposed op(B)'s rows for a block of depth */
    int64_t block = tb ? DEPTH_BLOCK : k;
    for (int64_t k0 = 0; k0 < k; k0 += block) {
        int64_t depth = k - k0 < block ? k - k0 : block;
        const float *brow = b + k0 * ldb;
        int64_t ldbr = ldb;
        if (tb) {
            for (int64_t cc = 0; cc < n; cc++)
                for (int64_t kk = 0; kk < depth; kk++) bt[kk * SMALL + cc] = b[cc * ldb + k0 + kk];
            brow = bt, ldbr = SMALL;
        }
        int add = accumulate || k0 > 0;
        int64_t i = 0;
        for (; i + GROUP <= m; i += GROUP)
            narrow_rows(GROUP, depth, a + i * lda + k0, lda, brow, ldbr, lanes, alpha, add, c + i * ldc, ldc);
        for (; i < m; i++) narrow_rows(1, depth, a + i * lda + k0, lda, brow, ldbr, lanes, alpha, add, c + i * ldc, ldc);
    }
}

/* ---- narrow transposed: n <= 16, A transposed (A is k x m) ---- */

SKINNY_INLINE void narrow_transposed(const int N, int tb, int64_t m, int64_t k, float alpha, const float *a,
                                     int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    const int64_t column_step = tb ? ldb : 1, depth_step = tb ? 1 : ldb; /* op(B)'s (kk, cc) */
    enum { HALF = STRIP / 2 };
    const int halves = N <= 12 ? 2 : 1; /* 2N accumulators must leave registers for the loads */
    for (int64_t k0 = 0; k0 < k; k0 += STRIP_DEPTH) {
        int64_t k1 = k - k0 < STRIP_DEPTH ? k : k0 + STRIP_DEPTH;
        int add = accumulate || k0 > 0;
        for (int64_t i0 = 0; i0 < m; i0 += HALF * halves) {
            int64_t width = m - i0 < HALF * halves ? m - i0 : HALF * halves;
            __mmask16 lanes0 = first_lanes(width), lanes1 = first_lanes(width - HALF);
            __m512 sum[SMALL][2];
#pragma GCC unroll 16
            for (int cc = 0; cc < N; cc++) sum[cc][0] = sum[cc][1] = _mm512_setzero_ps();
            for (int64_t kk = k0; kk < k1; kk++) {
                const float *ak = a + kk * lda + i0;
                /* A's rows are far apart: without this the loop waits on memory half the time */
                _mm_prefetch((const char *)(ak + PREFETCH_ROWS * lda), _MM_HINT_T0);
                _mm_prefetch((const char *)(ak + PREFETCH_ROWS * lda + HALF), _MM_HINT_T0);
                __m512 x0 = _mm512_maskz_loadu_ps(lanes0, ak);
                __m512 x1 = halves == 2 ? _mm512_maskz_loadu_ps(lanes1, ak + HALF) : x0;
#pragma GCC unroll 16
                for (int cc = 0; cc < N; cc++) {
                    __m512 s = _mm512_set1_ps(b[cc * column_step + kk * depth_step]);
                    sum[cc][0] = _mm512_fmadd_ps(x0, s, sum[cc][0]);
                    if (halves == 2) sum[cc][1] = _mm512_fmadd_ps(x1, s, sum[cc][1]);
                }
            }
            float t[SMALL][STRIP]; /* the sums, transposed into C's rows below */
#pragma GCC unroll 16
            for (int cc = 0; cc < N; cc++) {
                _mm512_storeu_ps(t[cc], sum[cc][0]);
                if (halves == 2) _mm512_storeu_ps(t[cc] + HALF, sum[cc][1]);
            }
            for (int64_t ii = 0; ii < width; ii++) {
                float *ci = c + (i0 + ii) * ldc;
                if (add)
                    for (int cc = 0; cc < N; cc++) ci[cc] += alpha * t[cc][ii];
                else
                    for (int cc = 0; cc < N; cc++) ci[cc] = alpha * t[cc][ii];
            }
        }
    }
}

/* ---- dispatch: the small side becomes a constant ---- */

#define SMALL_SIZES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)

SKINNY_LOOP void shallow_any(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                               int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    switch (k) {
#define SHALLOW_CASE(K) \
    case K: shallow(K, ta, tb, m, n, alpha, a, lda, b, ldb, accumulate, c, ldc); break;
        SMALL_SIZES(SHALLOW_CASE)
#undef SHALLOW_CASE
    default:
        break;
    }
}

SKINNY_LOOP void narrow_transposed_any(int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                                         int64_t lda, const float *b, int64_t ldb, int accumulate, float *c,
                                         int64_t ldc)
{
    switch (n) {
#define NARROW_CASE(N) \
    case N: narrow_transposed(N, tb, m, k, alpha, a, lda, b, ldb, accumulate, c, ldc); break;
        SMALL_SIZES(NARROW_CASE)
#undef NARROW_CASE
    default:
        break;
    }
}

SKINNY_LOOP void narrow_any(int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                            const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    narrow(tb, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
}

SKINNY void gb_skinny_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                            int64_t lda, const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) { /* an empty sum */
        for (int64_t i = 0; i < m && !accumulate; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = 0;
        return;
    }
    if (k <= SMALL) {
        shallow_any(ta, tb, m, n, k, alpha, a, lda, b, ldb, accumulate, c, ldc);
        return;
    }
    for (int64_t j0 = 0; j0 < n; j0 += SMALL) { /* n <= 16 when chosen by gb_skinny_sgemm_fits */
        int64_t cols = n - j0 < SMALL ? n - j0 : SMALL;
        const float *bj = tb ? b + j0 * ldb : b + j0;
        if (ta)
            narrow_transposed_any(tb, m, cols, k, alpha, a, lda, bj, ldb, accumulate, c + j0, ldc);
        else
            narrow_any(tb, m, cols, k, alpha, a, lda, bj, ldb, accumulate, c + j0, ldc);
    }
}

#else /* not x86-64: OpenBLAS does every product */

int gb_skinny_sgemm_fits(int64_t m, int64_t n, int64_t k)
{
    (void)m, (void)n, (void)k;
    return 0;
}

void gb_skinny_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc)
{
    (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b, (void)ldb;
    (void)accumulate, (void)c, (void)ldc;
}

#endif
