#include "png_decode.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static const char *unfilter(const uint8_t *raw, int w, int h, int channels, uint8_t *pixels)
{
    size_t stride = (size_t)w * (size_t)channels;
    for (int y = 0; y < h; y++) {
        uint8_t filter = raw[(size_t)y * (stride + 1)];
        if (filter > 4) return "unknown row filter";
        const uint8_t *in = raw + (size_t)y * (stride + 1) + 1;
        uint8_t *row = pixels + (size_t)y * stride, *up = y ? row - stride : NULL;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)channels ? row[i - (size_t)channels] : 0, b = up ? up[i] : 0;
            int c = up && i >= (size_t)channels ? up[i - (size_t)channels] : 0;
            int pred = filter == 0 ? 0 : filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2 : paeth(a, b, c);
            row[i] = (uint8_t)(in[i] + pred);
        }
    }
    return NULL;
}

const char *test_png_decode(const uint8_t *png, size_t len, int *w, int *h, int *channels, uint8_t **pixels)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *pixels = NULL;
    if (len <= 8 || memcmp(png, signature, 8) != 0) return "bad signature";
    size_t at = 8, idat_len = 0;
    uint8_t *idat = NULL;
    int seen_end = 0, color = -1;
    const char *problem = NULL;
    while (at + 12 <= len && !seen_end && !problem) {
        uint32_t n = be32(png + at);
        if (n > len - at - 12) {
            problem = "a chunk runs past the end";
            break;
        }
        const uint8_t *type = png + at + 4, *data = png + at + 8;
        if (crc32(0L, type, 4 + n) != be32(data + n)) problem = "a chunk's CRC does not match";
        else if (!memcmp(type, "IHDR", 4)) {
            *w = (int)be32(data), *h = (int)be32(data + 4), color = data[9];
            if (n != 13 || data[8] != 8 || (data[10] | data[11] | data[12])) problem = "IHDR: not 8-bit, or compressed, filtered or interlaced oddly";
        } else if (!memcmp(type, "IDAT", 4)) {
            uint8_t *grown = realloc(idat, idat_len + n + 1);
            if (!grown) problem = "out of memory";
            else memcpy(grown + idat_len, data, n), idat = grown, idat_len += n;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_end = 1;
        }
        at += 12 + n;
    }
    if (!problem && (!seen_end || at != len)) problem = "IEND missing, or bytes after it";
    *channels = color == 0 ? 1 : color == 4 ? 2 : color == 2 ? 3 : color == 6 ? 4 : -1;
    if (!problem && (*channels < 0 || *w <= 0 || *h <= 0)) problem = "bad colour type or size";
    size_t stride = problem ? 0 : (size_t)*w * (size_t)*channels;
    uLongf raw_len = problem ? 0 : (uLongf)((stride + 1) * (size_t)*h), got = raw_len;
    uint8_t *raw = problem ? NULL : malloc(raw_len);
    if (!problem && (!raw || uncompress(raw, &got, idat, (uLong)idat_len) != Z_OK || got != raw_len))
        problem = "the image data do not inflate to the size the header gives";
    if (!problem) {
        *pixels = malloc(stride * (size_t)*h);
        problem = *pixels ? unfilter(raw, *w, *h, *channels, *pixels) : "out of memory";
        if (problem) free(*pixels), *pixels = NULL;
    }
    free(raw);
    free(idat);
    return problem;
}
