/* The float32 histogram passes in AVX2. The bucket index is computed with a reciprocal multiply,
 * and where that lands within a few ulps of an integer (where it could floor differently from
 * the division TensorBoard does) the lanes are redone with the division: the buckets match the
 * portable code exactly while the common case avoids the slow divide. */
#include "internal/histogram_simd.h"

#include <math.h>
#include <stdatomic.h>

static atomic_int simd_allowed = 1;

void gb_histogram_allow_simd(int allow) { atomic_store(&simd_allowed, allow); }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

int gb_histogram_simd_enabled(void) { return atomic_load(&simd_allowed) && __builtin_cpu_supports("avx2"); }

__attribute__((target("avx2,popcnt"))) size_t gb_histogram_range_f32_avx2(const float *values, size_t n, float *lo,
                                                                            float *hi)
{
    const __m256 zero = _mm256_setzero_ps(), pos_inf = _mm256_set1_ps(INFINITY), neg_inf = _mm256_set1_ps(-INFINITY);
    __m256 lo_v = pos_inf, hi_v = neg_inf;
    size_t counted = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(values + i);
        __m256 finite = _mm256_cmp_ps(_mm256_sub_ps(v, v), zero, _CMP_EQ_OQ);
        lo_v = _mm256_min_ps(lo_v, _mm256_blendv_ps(pos_inf, v, finite));
        hi_v = _mm256_max_ps(hi_v, _mm256_blendv_ps(neg_inf, v, finite));
        counted += (size_t)__builtin_popcount((unsigned)_mm256_movemask_ps(finite));
    }
    float lanes_lo[8], lanes_hi[8];
    _mm256_storeu_ps(lanes_lo, lo_v);
    _mm256_storeu_ps(lanes_hi, hi_v);
    float l = INFINITY, h = -INFINITY;
    for (int k = 0; k < 8; k++) {
        l = lanes_lo[k] < l ? lanes_lo[k] : l;
        h = lanes_hi[k] > h ? lanes_hi[k] : h;
    }
    for (; i < n; i++) {
        float v = values[i];
        if (v - v != 0) continue;
        l = v < l ? v : l;
        h = v > h ? v : h;
        counted++;
    }
    *lo = l, *hi = h;
    return counted;
}

/* Four buckets from four values already widened to double; finite is the mask of finite lanes. */
__attribute__((target("avx2"))) static inline __m128i four_buckets(__m256d v, __m128i finite, __m256d scale,
                                                                    __m256d shift, __m256d width, __m256d inverse,
                                                                    __m256d last, __m128i spare)
{
    const __m256d zero = _mm256_setzero_pd();
    const __m256d sign = _mm256_set1_pd(-0.0), tolerance = _mm256_set1_pd(0x1p-44);
    __m256d x = _mm256_sub_pd(_mm256_mul_pd(v, scale), shift);
    __m256d q = _mm256_mul_pd(x, inverse);
    /* |q - nearest integer| <= |q| 2^-44: the reciprocal's error (a few ulps) could cross it */
    __m256d nearest = _mm256_round_pd(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d gap = _mm256_andnot_pd(sign, _mm256_sub_pd(q, nearest));
    __m256d bound = _mm256_mul_pd(_mm256_andnot_pd(sign, q), tolerance);
    if (_mm256_movemask_pd(_mm256_cmp_pd(gap, bound, _CMP_LE_OQ))) q = _mm256_div_pd(x, width);
    /* below the last bucket: floor (q >= 0); at or past it, or NaN: the last bucket */
    __m256d below = _mm256_cmp_pd(q, last, _CMP_LT_OQ);
    __m256d clamped = _mm256_blendv_pd(last, _mm256_max_pd(q, zero), below);
    __m128i bucket = _mm256_cvttpd_epi32(clamped);
    return _mm_blendv_epi8(spare, bucket, finite);
}

__attribute__((target("avx2"))) void gb_histogram_index_f32_avx2(const float *values, size_t n, double scale,
                                                                 double shift, double width, int buckets,
                                                                 int32_t *index)
{
    double inverse_s = 1.0 / width;
    size_t i = 0;
    if (isfinite(inverse_s)) {
        const __m256d scale_v = _mm256_set1_pd(scale), shift_v = _mm256_set1_pd(shift), width_v = _mm256_set1_pd(width);
        const __m256d inverse = _mm256_set1_pd(inverse_s), last = _mm256_set1_pd((double)(buckets - 1));
        const __m128i spare = _mm_set1_epi32(buckets);
        const __m256 zero = _mm256_setzero_ps();
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_loadu_ps(values + i);
            __m256i finite = _mm256_castps_si256(_mm256_cmp_ps(_mm256_sub_ps(v, v), zero, _CMP_EQ_OQ));
            __m128i low = four_buckets(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_castsi256_si128(finite),
                                       scale_v, shift_v, width_v, inverse, last, spare);
            __m128i high = four_buckets(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), _mm256_extracti128_si256(finite, 1),
                                        scale_v, shift_v, width_v, inverse, last, spare);
            _mm_storeu_si128((__m128i *)(index + i), low);
            _mm_storeu_si128((__m128i *)(index + i + 4), high);
        }
    }
    for (; i < n; i++) { /* the tail, and every value when the width is too small to invert */
        double v = (double)values[i];
        if (v - v != 0) {
            index[i] = buckets;
            continue;
        }
        double q = (v * scale - shift) / width;
        index[i] = !(q < buckets - 1) ? buckets - 1 : q > 0 ? (int32_t)q : 0;
    }
}

#else

int gb_histogram_simd_enabled(void) { return 0; }

size_t gb_histogram_range_f32_avx2(const float *values, size_t n, float *lo, float *hi)
{
    (void)values, (void)n, (void)lo, (void)hi;
    return 0;
}

void gb_histogram_index_f32_avx2(const float *values, size_t n, double scale, double shift, double width, int buckets,
                                 int32_t *index)
{
    (void)values, (void)n, (void)scale, (void)shift, (void)width, (void)buckets, (void)index;
}

#endif
