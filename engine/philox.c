/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), one
 * counter at a time, and eight or sixteen side by side for dropout masks and initialisers: in
 * AVX2 where the CPU has it (each round two 32x32->64-bit multiplies of eight lanes, the high and
 * low halves split with shifts and blends), else plain C that compilers vectorise as they can. */
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GB_PHILOX_AVX2 1
#endif

#include "gradboard/init.h"
#include "internal/kernel_util.h"
#include "internal/philox.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void gb_philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)counter_lo, c1 = (uint32_t)(counter_lo >> 32);
    uint32_t c2 = (uint32_t)counter_hi, c3 = (uint32_t)(counter_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += PHILOX_W0, k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

enum { LANES = 8 };

static void eight_blocks(uint32_t k0, uint32_t k1, uint32_t hi0, uint32_t hi1, uint64_t lo, uint64_t stride,
                         uint32_t *out)
{
    uint32_t c0[LANES], c1[LANES], c2[LANES], c3[LANES];
    for (int l = 0; l < LANES; l++) {
        uint64_t counter = lo + (uint64_t)l * stride;
        c0[l] = (uint32_t)counter, c1[l] = (uint32_t)(counter >> 32), c2[l] = hi0, c3[l] = hi1;
    }
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < LANES; l++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n1 = (uint32_t)p1;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1, n3 = (uint32_t)p0;
            c0[l] = n0, c1[l] = n1, c2[l] = n2, c3[l] = n3;
        }
        k0 += PHILOX_W0, k1 += PHILOX_W1;
    }
    for (int l = 0; l < LANES; l++) {
        out[4 * l] = c0[l], out[4 * l + 1] = c1[l], out[4 * l + 2] = c2[l], out[4 * l + 3] = c3[l];
    }
}

#ifdef GB_PHILOX_AVX2
/* The high and low 32 bits of the eight products m * c (unsigned). */
__attribute__((target("avx2"))) static inline void multiply_halves(__m256i c, __m256i m, __m256i *hi, __m256i *lo)
{
    __m256i even = _mm256_mul_epu32(c, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* Sixteen blocks: two groups of eight lanes side by side, so that one group's multiplies run
 * while the other's wait (a round is a chain of a multiply, a blend and two xors). */
__attribute__((target("avx2"))) static void sixteen_blocks_avx2(uint32_t k0, uint32_t k1, uint32_t hi0, uint32_t hi1,
                                                                uint64_t lo, uint64_t stride, uint32_t *out)
{
    enum { GROUPS = 2 };
    uint32_t low[GROUPS * LANES], high[GROUPS * LANES];
    for (int l = 0; l < GROUPS * LANES; l++) {
        uint64_t counter = lo + (uint64_t)l * stride;
        low[l] = (uint32_t)counter, high[l] = (uint32_t)(counter >> 32);
    }
    __m256i c0[GROUPS], c1[GROUPS], c2[GROUPS], c3[GROUPS];
    for (int g = 0; g < GROUPS; g++) {
        c0[g] = _mm256_loadu_si256((const __m256i *)(low + LANES * g));
        c1[g] = _mm256_loadu_si256((const __m256i *)(high + LANES * g));
        c2[g] = _mm256_set1_epi32((int)hi0), c3[g] = _mm256_set1_epi32((int)hi1);
    }
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    for (int round = 0; round < 10; round++) {
        const __m256i key0 = _mm256_set1_epi32((int)k0), key1 = _mm256_set1_epi32((int)k1);
        for (int g = 0; g < GROUPS; g++) {
            __m256i hi_a, lo_a, hi_b, lo_b;
            multiply_halves(c0[g], m0, &hi_a, &lo_a);
            multiply_halves(c2[g], m1, &hi_b, &lo_b);
            c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi_b, c1[g]), key0);
            c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi_a, c3[g]), key1);
            c1[g] = lo_b, c3[g] = lo_a;
        }
        k0 += PHILOX_W0, k1 += PHILOX_W1;
    }
    for (int g = 0; g < GROUPS; g++) { /* lanes to blocks: out[4 * l + j] is word j of lane l */
        uint32_t *o = out + 4 * LANES * g;
        __m256i t0 = _mm256_unpacklo_epi32(c0[g], c1[g]), t1 = _mm256_unpackhi_epi32(c0[g], c1[g]);
        __m256i t2 = _mm256_unpacklo_epi32(c2[g], c3[g]), t3 = _mm256_unpackhi_epi32(c2[g], c3[g]);
        __m256i b04 = _mm256_unpacklo_epi64(t0, t2), b15 = _mm256_unpackhi_epi64(t0, t2);
        __m256i b26 = _mm256_unpacklo_epi64(t1, t3), b37 = _mm256_unpackhi_epi64(t1, t3);
        _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(b04, b15, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 8), _mm256_permute2x128_si256(b26, b37, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 16), _mm256_permute2x128_si256(b04, b15, 0x31));
        _mm256_storeu_si256((__m256i *)(o + 24), _mm256_permute2x128_si256(b26, b37, 0x31));
    }
}
#endif

void gb_philox4x32_blocks_portable(uint64_t key, uint64_t counter_hi, uint64_t lo_first, uint64_t lo_stride,
                                   size_t n_blocks, uint32_t *out)
{
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    uint32_t hi0 = (uint32_t)counter_hi, hi1 = (uint32_t)(counter_hi >> 32);
    size_t b = 0;
    for (; b + LANES <= n_blocks; b += LANES)
        eight_blocks(k0, k1, hi0, hi1, lo_first + b * lo_stride, lo_stride, out + 4 * b);
    for (; b < n_blocks; b++) gb_philox4x32(key, counter_hi, lo_first + b * lo_stride, out + 4 * b);
}

void gb_philox4x32_blocks(uint64_t key, uint64_t counter_hi, uint64_t lo_first, uint64_t lo_stride, size_t n_blocks,
                          uint32_t *out)
{
#ifdef GB_PHILOX_AVX2
    if (__builtin_cpu_supports("avx2")) {
        uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
        uint32_t hi0 = (uint32_t)counter_hi, hi1 = (uint32_t)(counter_hi >> 32);
        size_t b = 0;
        for (; b + 2 * LANES <= n_blocks; b += 2 * LANES)
            sixteen_blocks_avx2(k0, k1, hi0, hi1, lo_first + b * lo_stride, lo_stride, out + 4 * b);
        for (; b + LANES <= n_blocks; b += LANES)
            eight_blocks(k0, k1, hi0, hi1, lo_first + b * lo_stride, lo_stride, out + 4 * b);
        for (; b < n_blocks; b++) gb_philox4x32(key, counter_hi, lo_first + b * lo_stride, out + 4 * b);
        return;
    }
#endif
    gb_philox4x32_blocks_portable(key, counter_hi, lo_first, lo_stride, n_blocks, out);
}
