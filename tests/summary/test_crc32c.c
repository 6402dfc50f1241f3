#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/crc32c.h"
#include "internal/crc32c_impl.h"

typedef struct crc_vector {
    const char *name;
    uint8_t data[64];
    size_t len;
    uint32_t crc, masked;
} crc_vector;

/* The fact sheet's vectors (RFC 3720 B.4 and TensorBoard's masked_crc.rs). */
static crc_vector vectors[6];

static void fill_vectors(void)
{
    vectors[0] = (crc_vector){"empty", {0}, 0, 0x00000000, 0xA282EAD8};
    vectors[1] = (crc_vector){"123456789", {0}, 9, 0xE3069283, 0xC78AB0E5};
    memcpy(vectors[1].data, "123456789", 9);
    vectors[2] = (crc_vector){"32 zero bytes", {0}, 32, 0x8A9136AA, 0x0FD7FFFA};
    vectors[3] = (crc_vector){"32 0xFF bytes", {0}, 32, 0x62A8AB43, 0xF909B029};
    memset(vectors[3].data, 0xFF, 32);
    vectors[4] = (crc_vector){"bytes 0..31", {0}, 32, 0x46DD794E, 0x951F7892};
    for (int i = 0; i < 32; i++) vectors[4].data[i] = (uint8_t)i;
    vectors[5] = (crc_vector){"file_version event", {0}, 19, 0xF2D95A88, 0x5794D08A};
    memcpy(vectors[5].data, "\x1a\x11" "CRC test, one two", 19);
}

Test(crc32c, fact_sheet_vectors)
{
    fill_vectors();
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const crc_vector *v = &vectors[i];
        cr_expect_eq(gb_crc32c(v->data, v->len), v->crc, "%s: crc 0x%08X, want 0x%08X", v->name,
                     gb_crc32c(v->data, v->len), v->crc);
        cr_expect_eq(gb_crc32c_mask(v->crc), v->masked, "%s: masked 0x%08X, want 0x%08X", v->name,
                     gb_crc32c_mask(v->crc), v->masked);
        cr_expect_eq(gb_crc32c_unmask(v->masked), v->crc, "%s: unmask", v->name);
        cr_expect_eq(gb_crc32c_extend_portable(0, v->data, v->len), v->crc, "%s: portable path", v->name);
        uint32_t hw;
        if (gb_crc32c_extend_hw(0, v->data, v->len, &hw)) cr_expect_eq(hw, v->crc, "%s: sse4.2 path", v->name);
    }
}

Test(crc32c, picks_hardware_when_the_cpu_has_it)
{
    uint32_t hw;
    int has_hw = gb_crc32c_extend_hw(0, "a", 1, &hw);
    cr_expect_str_eq(gb_crc32c_implementation(), has_hw ? "sse4.2" : "portable");
}

/* Every length and alignment up to a few cache lines, in pieces and whole: both paths agree. */
Test(crc32c, hardware_and_portable_agree_at_every_length_and_alignment)
{
    uint8_t buf[600];
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < sizeof buf; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        buf[i] = (uint8_t)s;
    }
    for (size_t offset = 0; offset < 16; offset++) {
        for (size_t len = 0; len + offset <= sizeof buf; len += (len < 80 ? 1 : 37)) {
            uint32_t portable = gb_crc32c_extend_portable(0, buf + offset, len);
            uint32_t hw;
            if (gb_crc32c_extend_hw(0, buf + offset, len, &hw))
                cr_assert_eq(hw, portable, "offset %zu len %zu: hw 0x%08X portable 0x%08X", offset, len, hw,
                             portable);
            size_t cut = len / 3;
            uint32_t pieces = gb_crc32c_extend(gb_crc32c_extend(0, buf + offset, cut), buf + offset + cut, len - cut);
            cr_assert_eq(pieces, portable, "offset %zu len %zu: extend in pieces differs", offset, len);
        }
    }
}

/* Past 3 x 4 KiB the hardware path runs three streams and joins them: the joins must be exact,
 * from a nonzero starting CRC too, and with a tail of any length after the last group. */
Test(crc32c, three_stream_hardware_path_matches_portable)
{
    enum { SIZE = 3 * 4096 * 3 + 123 };
    uint8_t *buf = malloc(SIZE);
    uint64_t s = 0x2545F4914F6CDD1DULL;
    for (size_t i = 0; i < SIZE; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        buf[i] = (uint8_t)s;
    }
    static const size_t lengths[] = {3 * 4096 - 1, 3 * 4096, 3 * 4096 + 1, 3 * 4096 + 8, 2 * 3 * 4096 + 77,
                                     3 * 3 * 4096, SIZE - 7};
    for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++)
        for (size_t offset = 0; offset < 8; offset += 3) {
            size_t len = lengths[k];
            uint32_t start = k % 2 ? 0xDEADBEEFu : 0;
            uint32_t portable = gb_crc32c_extend_portable(start, buf + offset, len), hw;
            if (gb_crc32c_extend_hw(start, buf + offset, len, &hw))
                cr_assert_eq(hw, portable, "len %zu offset %zu: hw 0x%08X portable 0x%08X", len, offset, hw, portable);
        }
    memset(buf, 0, 3 * 4096);
    cr_assert_eq(gb_crc32c(buf, 32), 0x8A9136AA, "32 zero bytes, the fact sheet's vector");
    free(buf);
}

Test(crc32c, combine_joins_the_crcs_of_two_parts)
{
    uint8_t buf[5000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 131 + (i >> 5));
    static const size_t cuts[] = {0, 1, 7, 8, 100, 2500, 4999, 5000};
    uint32_t whole = gb_crc32c(buf, sizeof buf);
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        size_t cut = cuts[k];
        uint32_t joined = gb_crc32c_combine(gb_crc32c(buf, cut), gb_crc32c(buf + cut, sizeof buf - cut), sizeof buf - cut);
        cr_assert_eq(joined, whole, "cut at %zu: 0x%08X, want 0x%08X", cut, joined, whole);
    }
    cr_assert_eq(gb_crc32c_combine(gb_crc32c("12345", 5), gb_crc32c("6789", 4), 4), 0xE3069283);
}
