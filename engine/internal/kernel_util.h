/* Private: loops shared by the CPU kernels. */
#ifndef GB_ENGINE_KERNEL_UTIL_H
#define GB_ENGINE_KERNEL_UTIL_H

#include <stdint.h>

#include "internal/tensor_impl.h"

/* One row of a broadcast elementwise op: o[i] = f(a[i * sa], b[i * sb]) for i < n, where
 * sa and sb are 0 (broadcast) or 1. */
typedef void (*gb_binary_row)(const void *a, int64_t sa, const void *b, int64_t sb, void *o, int64_t n);

/* Applies row over out's shape with a and b broadcast to it; adjacent axes that are contiguous
 * in every operand are merged first, so the rows are as long as possible. */
void gb_broadcast_apply(const gb_tensor *a, const gb_tensor *b, gb_tensor *out, gb_binary_row row);

/* The same walk as data for another device: out's axes merged where every operand is
 * contiguous, as `rank` (>= 1, returned) dims with a's and b's strides along them (0 where
 * broadcast). The output is contiguous. */
int gb_broadcast_layout(const gb_tensor *a, const gb_tensor *b, const gb_tensor *out, int64_t *dim, int64_t *sa,
                        int64_t *sb);

/* Sums x over the axes where `to` has size 1 (or is missing) into out, whose shape is `to`'s:
 * the gradient of broadcasting. Float types only; float32 is accumulated in double (see
 * sum_to_shape.c). */
void gb_sum_to_shape(const gb_tensor *x, gb_tensor *out);

/* For the few loops bound by arithmetic rather than memory (square roots and divisions of the
 * optimizers, random numbers): a second copy built for AVX2, chosen at load time. Both copies do
 * the same IEEE operations (no FMA contraction), so results do not depend on the CPU. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang_analyzer__)
#define GB_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GB_SIMD_CLONES
#endif

/* Defines name##_f32 and name##_f64 row functions computing o = EXPR(x, y). The three loops
 * (both advancing, one broadcast) let the compiler vectorise the common cases. */
#define GB_DEFINE_BINARY_ROW(name, T, suffix, EXPR)                                                    \
    static void name##suffix(const void *a_, int64_t sa, const void *b_, int64_t sb, void *o_, int64_t n) \
    {                                                                                                  \
        const T *restrict a = a_, *restrict b = b_;                                                    \
        T *restrict o = o_;                                                                            \
        if (sa && sb) {                                                                                \
            for (int64_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (EXPR); }                   \
        } else if (sb) {                                                                               \
            T x = a[0];                                                                                \
            for (int64_t i = 0; i < n; i++) { T y = b[i]; o[i] = (EXPR); }                             \
        } else if (sa) {                                                                               \
            T y = b[0];                                                                                \
            for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); }                             \
        } else {                                                                                       \
            T x = a[0], y = b[0];                                                                      \
            for (int64_t i = 0; i < n; i++) o[i] = (EXPR);                                             \
        }                                                                                              \
    }

#endif
