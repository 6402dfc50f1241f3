/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), one
 * counter at a time for initialisers and eight side by side for dropout. The eight-lane form is
 * plain C that compilers turn into 32x32->64-bit vector multiplies; it is built twice (AVX2 and
 * baseline) and picked at load time. */
#include <string.h>

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

GB_SIMD_CLONES
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

void gb_philox4x32_blocks(uint64_t key, uint64_t counter_hi, uint64_t lo_first, uint64_t lo_stride, size_t n_blocks,
                          uint32_t *out)
{
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    uint32_t hi0 = (uint32_t)counter_hi, hi1 = (uint32_t)(counter_hi >> 32);
    size_t b = 0;
    for (; b + LANES <= n_blocks; b += LANES)
        eight_blocks(k0, k1, hi0, hi1, lo_first + b * lo_stride, lo_stride, out + 4 * b);
    for (; b < n_blocks; b++) gb_philox4x32(key, counter_hi, lo_first + b * lo_stride, out + 4 * b);
}
