/* Private: the two passes of a float32 histogram in AVX2, and a switch to force the portable
 * loops so tests can compare both. Both give the same buckets as the portable code, bit for bit. */
#ifndef GB_INTERNAL_HISTOGRAM_SIMD_H
#define GB_INTERNAL_HISTOGRAM_SIMD_H

#include <stddef.h>
#include <stdint.h>

/* Nonzero when the CPU runs the AVX2 kernels below and they are not disabled. */
int gb_histogram_simd_enabled(void);

/* For tests: 0 forces the portable loops, 1 (the default) allows the AVX2 ones. */
void gb_histogram_allow_simd(int allow);

/* The finite values' minimum and maximum; returns how many values are finite. */
size_t gb_histogram_range_f32_avx2(const float *values, size_t n, float *lo, float *hi);

/* index[j] = bucket of values[j] exactly as (v * scale - shift) / width floored and clamped to
 * buckets - 1, or buckets for a NaN or infinity. */
void gb_histogram_index_f32_avx2(const float *values, size_t n, double scale, double shift, double width, int buckets,
                                 int32_t *index);

#endif
