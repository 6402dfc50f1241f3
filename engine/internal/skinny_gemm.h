/* Private: float32 GEMMs with one side of at most 16, on AVX-512.
 *
 * A classifier's last layer makes three such products per step: logits = h·W (n = 10),
 * dh = dlogits·Wᵀ (k = 10) and dW = hᵀ·dlogits (n = 10). OpenBLAS packs and blocks them like
 * square ones and reaches a third of what the memory allows; these loops keep the small side in
 * registers and stream the big operand once.
 *
 *   if (gb_skinny_sgemm_fits(m, n, k))          // decided once, on the whole product
 *       gb_skinny_sgemm(ta, tb, m, n, k, ...);   // then on the whole C or on any rows or columns of it
 *   else
 *       cblas_sgemm(...);
 *
 * Row-major, like cblas_sgemm(CblasRowMajor, ...). Each element's sum over k is taken in the
 * same order whatever part of C a call covers, so splitting C across threads changes no bit. */
#ifndef GB_INTERNAL_SKINNY_GEMM_H
#define GB_INTERNAL_SKINNY_GEMM_H

#include <stdint.h>

/* 1 if a product of these sizes should take the skinny loops: k <= 16 or n <= 16 with the
 * other sides large enough to matter, on x86-64 where the CPU (and OS) run AVX-512F. */
int gb_skinny_sgemm_fits(int64_t m, int64_t n, int64_t k);

/* C = alpha op(A) op(B), or C += alpha op(A) op(B) when accumulate is nonzero; op(A) is m x k
 * and op(B) is k x n. Any sizes, but only where the CPU runs AVX-512F (see above). */
void gb_skinny_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                     const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc);

#endif
