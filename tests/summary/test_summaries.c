/* Histogram bucketing, the PNG encoder (decoded here by an independent inflate + unfilter) and
 * the summaries' argument checks. TensorBoard's reading of them is in tests/interop. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gradboard/summary.h"
#include "internal/histogram_simd.h"
#include "png_decode.h"
#include "test_fs.h"
#include "writer_read.h"

Test(histogram, tensorboard_bucketing)
{
    double out[3 * 4];
    double values[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(gb_histogram_buckets(values, 9, 4, out), 9);
    const double want[] = {0, 2, 2, 2, 4, 2, 4, 6, 2, 6, 8, 3}; /* the max falls in the last bucket */
    for (int i = 0; i < 12; i++) cr_assert_eq(out[i], want[i], "entry %d: %g, want %g", i, out[i], want[i]);

    double same[] = {2.5, 2.5, 2.5};
    cr_assert_eq(gb_histogram_buckets(same, 3, 4, out), 3);
    for (int b = 0; b < 4; b++) {
        cr_assert_eq(out[3 * b], 2.5);
        cr_assert_eq(out[3 * b + 1], 2.5);
        cr_assert_eq(out[3 * b + 2], b == 3 ? 3 : 0);
    }
    double none[] = {NAN, INFINITY};
    cr_assert_eq(gb_histogram_buckets(none, 2, 4, out), 0);
    for (int i = 0; i < 12; i++) cr_assert_eq(out[i], 0);
    cr_assert_eq(gb_histogram_buckets(NULL, 0, 4, out), 0);

    double extreme[] = {-DBL_MAX, DBL_MAX, 0, NAN, -INFINITY};
    cr_assert_eq(gb_histogram_buckets(extreme, 5, 4, out), 3);
    cr_assert_eq(out[0], -DBL_MAX);
    cr_assert_eq(out[3 * 3 + 1], DBL_MAX);
    double total = 0;
    for (int b = 0; b < 4; b++) {
        cr_assert(isfinite(out[3 * b]) && isfinite(out[3 * b + 1]), "bucket %d edges overflow", b);
        total += out[3 * b + 2];
    }
    cr_assert_eq(total, 3);
    cr_assert_eq(out[3 * 2 + 2], 1, "0 lies at the start of bucket 2");

    /* a range so small that its bucket width rounds to 0: no index out of bounds */
    double tiny[] = {0, 4.94e-324, 4.94e-324};
    cr_assert_eq(gb_histogram_buckets(tiny, 3, 4, out), 3);
}

/* Buckets of n floats through the AVX2 passes and through the portable loops: equal entry for entry. */
static void assert_simd_matches_portable(const char *what, const float *values, size_t n, int buckets)
{
    double *fast = calloc((size_t)buckets * 3, sizeof *fast), *plain = calloc((size_t)buckets * 3, sizeof *plain);
    gb_histogram_allow_simd(1);
    size_t counted_fast = gb_histogram_buckets_f32(values, n, buckets, fast);
    gb_histogram_allow_simd(0);
    size_t counted_plain = gb_histogram_buckets_f32(values, n, buckets, plain);
    gb_histogram_allow_simd(1);
    cr_assert_eq(counted_fast, counted_plain, "%s: %zu counted, portable %zu", what, counted_fast, counted_plain);
    for (int i = 0; i < buckets * 3; i++)
        cr_assert_eq(fast[i], plain[i], "%s: bucket %d field %d: %.17g, portable %.17g", what, i / 3, i % 3, fast[i],
                     plain[i]);
    free(fast);
    free(plain);
}

Test(histogram, simd_passes_match_portable)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) cr_assert(gb_histogram_simd_enabled(), "AVX2 CPU, but the SIMD passes are off");
#endif
    enum { N = 100003 }; /* not a multiple of 8: the tail runs too */
    float *v = malloc(N * sizeof *v);
    uint64_t r = 7;
    for (size_t i = 0; i < N; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 6 - 3);
    }
    v[5] = NAN, v[77] = INFINITY, v[N - 1] = -INFINITY, v[1000] = NAN;
    assert_simd_matches_portable("uniform with NaN and infinities", v, N, 30);
    assert_simd_matches_portable("uniform, 1000 buckets", v, N, 1000);
    assert_simd_matches_portable("uniform, 1 bucket", v, N, 1);
    for (size_t i = 0; i < N; i++) v[i] = (float)(i % 30); /* every value on a bucket edge */
    assert_simd_matches_portable("integers 0..29", v, N, 30);
    assert_simd_matches_portable("integers 0..29, 7 buckets", v, N, 7);
    for (size_t i = 0; i < N; i++) v[i] = (float)(i % 301) * 0.1f - 10; /* edges that decimals miss by an ulp */
    assert_simd_matches_portable("tenths", v, N, 30);
    assert_simd_matches_portable("tenths, 3 buckets", v, N, 3);
    /* ranges where x * (1 / width) floors to the bucket below or above x / width (found by search) */
    static const float edge_cases[][3] = {{-0x1.de2e8cp+0f, 0x1.1dbb6ep+0f, -0x1.80e63cp-2f},
                                          {-0x1.1dca3ep-1f, 0x1.72f038p+1f, 0x1.2448ep-6f},
                                          {-0x1.603a54p+0f, 0x1.89f486p+0f, -0x1.95fb84p-1f},
                                          {-0x1.4118dcp+1f, 0x1.dd0946p-2f, -0x1.0d1e0ep-1f}};
    for (size_t c = 0; c < sizeof edge_cases / sizeof *edge_cases; c++) {
        float few[16];
        for (int i = 0; i < 16; i++) few[i] = edge_cases[c][i % 3 == 2 ? 2 : i % 3];
        assert_simd_matches_portable("a value the reciprocal puts in the wrong bucket", few, 16, 30);
    }
    for (size_t i = 0; i < N; i++) v[i] = i % 2 ? FLT_MAX : -FLT_MAX;
    v[3] = 0;
    assert_simd_matches_portable("the whole float range", v, N, 30);
    for (size_t i = 0; i < N; i++) v[i] = (float)(i % 3) * 1e-45f; /* subnormals: the width cannot be inverted */
    assert_simd_matches_portable("subnormals", v, N, 30);
    for (size_t i = 0; i < N; i++) v[i] = 0.25f;
    assert_simd_matches_portable("one value", v, N, 30);
    for (size_t i = 0; i < N; i++) v[i] = NAN;
    assert_simd_matches_portable("only NaN", v, N, 30);
    free(v);
}

/* ---- PNG: decoded by the independent reader in tests/common ---- */

static void decode_png(const uint8_t *png, size_t len, int *w, int *h, int *channels, uint8_t **pixels)
{
    const char *problem = test_png_decode(png, len, w, h, channels, pixels);
    cr_assert_null(problem, "PNG: %s", problem);
}

Test(png, round_trips_every_channel_count_and_odd_sizes)
{
    uint64_t r = 99;
    const int sizes[][2] = {{1, 1}, {3, 7}, {64, 33}, {257, 5}};
    for (int channels = 1; channels <= 4; channels++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int w = sizes[s][0], h = sizes[s][1];
            size_t n = (size_t)w * (size_t)h * (size_t)channels;
            uint8_t *pixels = malloc(n);
            for (size_t i = 0; i < n; i++) { /* smooth areas and noise, so every filter gets used */
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                pixels[i] = (i / 50) % 2 ? (uint8_t)(r >> 56) : (uint8_t)(i % 251);
            }
            gb_image img = {w, h, channels, GB_PIXELS_U8, pixels};
            uint8_t *png, *decoded;
            size_t len;
            cr_assert_eq(gb_png_encode(&img, &png, &len), GB_OK, "%s", gb_errmsg());
            int dw, dh, dc;
            decode_png(png, len, &dw, &dh, &dc, &decoded);
            cr_assert(dw == w && dh == h && dc == channels, "%dx%dx%d came back %dx%dx%d", w, h, channels, dw, dh, dc);
            cr_assert_eq(memcmp(decoded, pixels, n), 0, "%dx%dx%d: pixels differ", w, h, channels);
            free(png), free(decoded), free(pixels);
        }
}

Test(png, float_pixels_are_clamped_and_rounded)
{
    float px[6] = {-0.5f, 0.0f, 0.5f, 1.0f, 2.0f, NAN};
    gb_image img = {6, 1, 1, GB_PIXELS_F32, px};
    uint8_t *png, *decoded;
    size_t len;
    cr_assert_eq(gb_png_encode(&img, &png, &len), GB_OK);
    int w, h, c;
    decode_png(png, len, &w, &h, &c, &decoded);
    const uint8_t want[6] = {0, 0, 128, 255, 255, 0};
    cr_assert_arr_eq(decoded, want, 6);
    free(png), free(decoded);
    gb_image bad = {0, 4, 3, GB_PIXELS_U8, px};
    cr_assert_eq(gb_png_encode(&bad, &png, &len), GB_EINVAL);
    bad = (gb_image){4, 4, 5, GB_PIXELS_U8, px};
    cr_assert_eq(gb_png_encode(&bad, &png, &len), GB_EINVAL);
}

TestSuite(summaries, .init = test_dir_setup, .fini = test_dir_teardown);

Test(summaries, tensors_and_metadata_as_tensorboard_writes_them)
{
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    float values[100];
    for (int i = 0; i < 100; i++) values[i] = (float)i;
    cr_assert_eq(gb_summary_histogram(w, "h", 0, values, 100, 0), GB_OK);
    cr_assert_eq(gb_summary_histogram(w, "h", 1, values, 100, 0), GB_OK);
    uint8_t px[2 * 3 * 3] = {0};
    gb_image imgs[2] = {{3, 2, 3, GB_PIXELS_U8, px}, {3, 2, 3, GB_PIXELS_U8, px}};
    cr_assert_eq(gb_summary_images(w, "i", 0, imgs, 2), GB_OK);
    cr_assert_eq(gb_summary_text(w, "t", 0, "*hi*"), GB_OK);
    gb_image other = {4, 2, 3, GB_PIXELS_U8, px};
    gb_image mixed[2] = {imgs[0], other};
    cr_assert_eq(gb_summary_images(w, "i", 1, mixed, 2), GB_EINVAL);
    cr_assert_eq(gb_summary_text(w, "t", 1, "bad \xff"), GB_EINVAL);
    cr_assert_eq(gb_summary_histogram(w, "h", 2, values, 100, -1), GB_EINVAL);
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);

    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 5);
    const Gbpb__Summary__Value *h0 = d.events[1]->summary->value[0], *h1 = d.events[2]->summary->value[0];
    cr_assert_str_eq(h0->metadata->plugin_data->plugin_name, "histograms");
    cr_assert_eq(h0->metadata->data_class, GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
    cr_assert_null(h1->metadata, "metadata only on the tag's first value");
    cr_assert_eq(h0->tensor->dtype, GBPB__DATA_TYPE__DT_DOUBLE);
    cr_assert_eq(h0->tensor->tensor_shape->n_dim, 2);
    cr_assert_eq(h0->tensor->tensor_shape->dim[0]->size, 30);
    cr_assert_eq(h0->tensor->tensor_content.len, 30 * 3 * 8);
    const Gbpb__Summary__Value *iv = d.events[3]->summary->value[0];
    cr_assert_str_eq(iv->metadata->plugin_data->plugin_name, "images");
    cr_assert_eq(iv->metadata->data_class, GBPB__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE);
    cr_assert_eq(iv->tensor->dtype, GBPB__DATA_TYPE__DT_STRING);
    cr_assert_eq(iv->tensor->n_string_val, 4);
    cr_assert_eq(memcmp(iv->tensor->string_val[0].data, "3", 1), 0);
    cr_assert_eq(memcmp(iv->tensor->string_val[1].data, "2", 1), 0);
    const Gbpb__Summary__Value *tv = d.events[4]->summary->value[0];
    cr_assert_str_eq(tv->metadata->plugin_data->plugin_name, "text");
    cr_assert_eq(tv->tensor->tensor_shape->n_dim, 0);
    cr_assert_eq(tv->tensor->string_val[0].len, 4);
    decoded_events_free(&d);
    free(path);
}

Test(png, grids_of_batches_and_weight_columns)
{
    /* 3 images of 2x2 gray: values 0..3, 4..7, 8..11; a batch [3, 4] and the same as columns [4, 3] */
    float batch[12], columns[12];
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 4; p++) batch[k * 4 + p] = columns[p * 3 + k] = (float)(k * 4 + p);
    gb_image a, b;
    cr_assert_eq(gb_image_grid(batch, 3, 2, 2, 1, 4, 1, 2, 1, 1, &a), GB_OK);
    cr_assert_eq(gb_image_grid(columns, 3, 2, 2, 1, 1, 3, 2, 1, 1, &b), GB_OK);
    cr_assert_eq(a.width, 5);  /* 2 columns: 2 + 1 + 2 */
    cr_assert_eq(a.height, 5); /* 2 rows */
    cr_assert_eq(memcmp(a.pixels, b.pixels, 25), 0, "batch and weight-column layouts differ");
    const uint8_t *px = a.pixels;
    /* each image normalised to 0..255 on its own: 0, 85, 170, 255 */
    cr_assert_eq(px[0], 0);
    cr_assert_eq(px[1], 85);
    cr_assert_eq(px[5], 170);
    cr_assert_eq(px[6], 255);
    cr_assert_eq(px[2], 0, "padding is black");
    cr_assert_eq(px[3], 0);
    cr_assert_eq(px[3 * 5 + 1], 85, "the third image starts the second row");
    cr_assert_eq(px[4 * 5 + 4], 0, "the empty cell stays black");
    free((void *)a.pixels);
    free((void *)b.pixels);
    cr_assert_eq(gb_image_grid(batch, 0, 2, 2, 1, 4, 1, 0, 0, 0, &a), GB_EINVAL);
}
