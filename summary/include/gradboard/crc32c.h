/* gradboard/crc32c.h: CRC32C (Castagnoli), the checksum of TFRecord files and TensorFlow checkpoints.
 *
 *   uint32_t crc = gb_crc32c(data, len);                 // whole buffer
 *   uint32_t part = gb_crc32c_extend(0, a, alen);         // or in pieces:
 *   part = gb_crc32c_extend(part, b, blen);               //   same as gb_crc32c(a||b)
 *   uint32_t stored = gb_crc32c_mask(crc);                // what TFRecord stores on disk
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run time) and a
 * table-driven portable loop otherwise. Thread-safe; no allocation.
 */
#ifndef GRADBOARD_CRC32C_H
#define GRADBOARD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CRC32C of len bytes (polynomial 0x1EDC6F41, reflected, init and final xor 0xFFFFFFFF).
 * gb_crc32c("123456789", 9) == 0xE3069283. */
uint32_t gb_crc32c(const void *data, size_t len);

/* Continues a CRC: gb_crc32c_extend(gb_crc32c(a), b) == gb_crc32c(a followed by b).
 * Start from crc = 0. */
uint32_t gb_crc32c_extend(uint32_t crc, const void *data, size_t len);

/* The CRC of a followed by b from the CRCs of each part and b's length (for checksums computed
 * in parallel): gb_crc32c_combine(gb_crc32c(a), gb_crc32c(b), blen) == gb_crc32c(a||b). */
uint32_t gb_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

/* The masking TFRecord and LevelDB apply before storing a CRC, and its inverse. */
static inline uint32_t gb_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}
static inline uint32_t gb_crc32c_unmask(uint32_t masked)
{
    uint32_t r = masked - 0xA282EAD8u;
    return (r >> 17) | (r << 15);
}

/* Which implementation gb_crc32c uses on this CPU: "sse4.2" or "portable". Static storage. */
const char *gb_crc32c_implementation(void);

#ifdef __cplusplus
}
#endif
#endif
