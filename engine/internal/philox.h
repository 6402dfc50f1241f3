/* Philox4x32-10 for many counters at once (dropout masks, initialisers).
 *
 *   uint32_t words[4 * 64];
 *   gb_philox4x32_blocks(seed, 0, first, 1, 64, words);   // blocks of counters first .. first + 63
 */
#ifndef GB_INTERNAL_PHILOX_H
#define GB_INTERNAL_PHILOX_H
#include <stddef.h>
#include <stdint.h>

/* out[4 * b + j] = word j of gb_philox4x32(key, counter_hi, lo_first + b * lo_stride), for b < n_blocks.
 * Identical to calling gb_philox4x32 n_blocks times, only faster (SIMD lanes where the CPU has AVX2). */
void gb_philox4x32_blocks(uint64_t key, uint64_t counter_hi, uint64_t lo_first, uint64_t lo_stride, size_t n_blocks,
                          uint32_t *out);

/* The same without AVX2, which other CPUs run (tests compare the two). */
void gb_philox4x32_blocks_portable(uint64_t key, uint64_t counter_hi, uint64_t lo_first, uint64_t lo_stride,
                                   size_t n_blocks, uint32_t *out);

#endif
