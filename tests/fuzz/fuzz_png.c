/* The PNG encoder, round trip: the first bytes choose width, height, channels and pixel format,
 * the rest are the pixels; the independent decoder of the tests must give back exactly the
 * pixels (float input as the encoder documents it: clamped to [0, 1], scaled, rounded). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summaries.h"
#include "png_decode.h"

static uint8_t expected_byte(const gb_image *img, size_t i)
{
    if (img->format == GB_PIXELS_U8) return ((const uint8_t *)img->pixels)[i];
    float v = ((const float *)img->pixels)[i];
    return !(v > 0) ? 0 : v >= 1 ? 255 : (uint8_t)(v * 255.0f + 0.5f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    int width = 1 + data[0] % 96, height = 1 + data[1] % 96, channels = 1 + data[2] % 4, as_float = data[3] & 1;
    data += 4, size -= 4;
    size_t count = (size_t)width * (size_t)height * (size_t)channels, element = as_float ? sizeof(float) : 1;
    void *pixels = malloc(count * element);
    if (!pixels) return 0;
    for (size_t i = 0; i < count * element; i++) ((uint8_t *)pixels)[i] = size ? data[i % size] : (uint8_t)i;
    gb_image img = {width, height, channels, as_float ? GB_PIXELS_F32 : GB_PIXELS_U8, pixels};
    uint8_t *png;
    size_t len;
    if (gb_png_encode(&img, &png, &len) != GB_OK) abort(); /* every such image is valid input */
    int w, h, c;
    uint8_t *decoded;
    const char *problem = test_png_decode(png, len, &w, &h, &c, &decoded);
    if (problem || w != width || h != height || c != channels) abort();
    for (size_t i = 0; i < count; i++)
        if (decoded[i] != expected_byte(&img, i)) abort();
    free(decoded);
    free(png);
    free(pixels);
    return 0;
}
