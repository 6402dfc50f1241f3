#include "gradboard/crc32c.h"
#include "internal/crc32c_impl.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define GB_HAVE_X86_CRC 1
#else
#define GB_HAVE_X86_CRC 0
#endif

enum { REFLECTED_POLY = 0x82F63B78u };

/* Slicing-by-8: table[k][b] is the CRC contribution of byte b followed by k zero bytes. */
static uint32_t slice_table[8][256];
static int cpu_has_crc_instruction;

/* The hardware loop runs three streams of STREAM bytes at once (the instruction's latency is
 * three times its issue rate), then joins them: a register followed by STREAM zero bytes is
 * linear in the register, so shift_table[k][b] holds the result for byte b at position k. */
enum { STREAM = 4096 };
static uint32_t shift_table[4][256];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_crc32c(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int i = 0; i < 8; i++) c = (c >> 1) ^ ((c & 1u) ? REFLECTED_POLY : 0u);
        slice_table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            slice_table[k][b] = (slice_table[k - 1][b] >> 8) ^ slice_table[0][slice_table[k - 1][b] & 0xFFu];
    uint32_t basis[32]; /* each single-bit register after STREAM zero bytes, eight at a time */
    for (int bit = 0; bit < 32; bit++) {
        uint32_t c = 1u << bit;
        for (int i = 0; i < STREAM / 8; i++)
            c = slice_table[7][c & 0xFF] ^ slice_table[6][(c >> 8) & 0xFF] ^ slice_table[5][(c >> 16) & 0xFF] ^
                slice_table[4][c >> 24];
        basis[bit] = c;
    }
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t c = 0;
            for (int bit = 0; bit < 8; bit++)
                if (b >> bit & 1) c ^= basis[8 * k + bit];
            shift_table[k][b] = c;
        }
#if GB_HAVE_X86_CRC
    __builtin_cpu_init();
    cpu_has_crc_instruction = __builtin_cpu_supports("sse4.2");
#endif
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint32_t gb_crc32c_extend_portable(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&init_once, init_crc32c);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint64_t w = load_le64(p) ^ c;
        c = slice_table[7][w & 0xFF] ^ slice_table[6][(w >> 8) & 0xFF] ^
            slice_table[5][(w >> 16) & 0xFF] ^ slice_table[4][(w >> 24) & 0xFF] ^
            slice_table[3][(w >> 32) & 0xFF] ^ slice_table[2][(w >> 40) & 0xFF] ^
            slice_table[1][(w >> 48) & 0xFF] ^ slice_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) c = (c >> 8) ^ slice_table[0][(c ^ *p++) & 0xFF];
    return ~c;
}

#if GB_HAVE_X86_CRC
static uint32_t after_stream_of_zeros(uint32_t c)
{
    return shift_table[0][c & 0xFF] ^ shift_table[1][(c >> 8) & 0xFF] ^ shift_table[2][(c >> 16) & 0xFF] ^
           shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = ~crc;
    for (; len >= 3 * STREAM; p += 3 * STREAM, len -= 3 * STREAM) {
        uint64_t a = c, b = 0, d = 0;
        for (size_t i = 0; i < STREAM; i += 8) {
            uint64_t wa, wb, wd;
            memcpy(&wa, p + i, 8), memcpy(&wb, p + STREAM + i, 8), memcpy(&wd, p + 2 * STREAM + i, 8);
            a = _mm_crc32_u64(a, wa), b = _mm_crc32_u64(b, wb), d = _mm_crc32_u64(d, wd);
        }
        c = after_stream_of_zeros(after_stream_of_zeros((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)d;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c32 = _mm_crc32_u32(c32, w);
        p += 4;
        len -= 4;
    }
    while (len--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
#endif

int gb_crc32c_extend_hw(uint32_t crc, const void *data, size_t len, uint32_t *out)
{
    pthread_once(&init_once, init_crc32c);
#if GB_HAVE_X86_CRC
    if (cpu_has_crc_instruction) {
        *out = crc32c_sse42(crc, data, len);
        return 1;
    }
#endif
    (void)crc, (void)data, (void)len, (void)out;
    return 0;
}

uint32_t gb_crc32c_extend(uint32_t crc, const void *data, size_t len)
{
    uint32_t result;
    if (gb_crc32c_extend_hw(crc, data, len, &result)) return result;
    return gb_crc32c_extend_portable(crc, data, len);
}

uint32_t gb_crc32c(const void *data, size_t len) { return gb_crc32c_extend(0, data, len); }

/* a * b modulo the polynomial, both reflected: bit 31 is the coefficient of x^0. */
static uint32_t multiply_mod_poly(uint32_t a, uint32_t b)
{
    uint32_t product = 0;
    for (int power = 0; power < 32; power++) { /* b holds (original b) * x^power */
        if (a >> (31 - power) & 1u) product ^= b;
        b = (b >> 1) ^ ((b & 1u) ? REFLECTED_POLY : 0u);
    }
    return product;
}

uint32_t gb_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
    /* crc(a||b) = crc_a * x^(8 len_b) + crc_b: the initial and final inversions cancel out */
    uint32_t shift = 1u << 31, square = 1u << 23; /* x^0 and x^8 */
    for (size_t n = len_b; n; n >>= 1) {
        if (n & 1) shift = multiply_mod_poly(shift, square);
        square = multiply_mod_poly(square, square);
    }
    return multiply_mod_poly(shift, crc_a) ^ crc_b;
}

const char *gb_crc32c_implementation(void)
{
    pthread_once(&init_once, init_crc32c);
    return cpu_has_crc_instruction ? "sse4.2" : "portable";
}
