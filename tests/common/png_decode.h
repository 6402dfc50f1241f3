/* An independent PNG reader for tests: chunks and their CRCs, zlib inflate, the five row
 * filters. Knows nothing of gradboard's encoder, so a round trip through both proves the file. */
#ifndef GB_TEST_PNG_DECODE_H
#define GB_TEST_PNG_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes an 8-bit, non-interlaced PNG into *pixels (malloc'd, rows of w * channels bytes).
 * Returns NULL, or what is wrong with the file (static text; *pixels is then NULL). */
const char *test_png_decode(const uint8_t *png, size_t len, int *w, int *h, int *channels, uint8_t **pixels);

#endif
