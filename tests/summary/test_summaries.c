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
#include "graph.pb-c.h"
#include "hparams.pb-c.h"
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

Test(histogram, bucket_counts_below_one_are_refused_and_nothing_written)
{
    double values[] = {1, 2, 3, 4};
    float values_f32[] = {1, 2, 3, 4};
    double out[3 * 4];
    const int bad[] = {0, -1, -30, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int k = 0; k < 12; k++) out[k] = 42;
        cr_assert_eq(gb_histogram_buckets(values, 4, bad[i], out), SIZE_MAX, "%d buckets", bad[i]);
        cr_assert(strstr(gb_errmsg(), "buckets"), "%s", gb_errmsg());
        cr_assert_eq(gb_histogram_buckets_f32(values_f32, 4, bad[i], out), SIZE_MAX, "%d buckets (f32)", bad[i]);
        for (int k = 0; k < 12; k++) cr_assert_eq(out[k], 42, "%d buckets: out[%d] written", bad[i], k);
    }
    cr_assert_eq(gb_histogram_buckets(values, 4, 4, NULL), SIZE_MAX);
    cr_assert_eq(gb_histogram_buckets(NULL, 4, 4, out), SIZE_MAX);
    cr_assert_eq(gb_histogram_buckets_f32(values_f32, 4, 4, out), 4, "a good call still works: %s", gb_errmsg());
    for (int b = 0; b < 4; b++) cr_assert_eq(out[3 * b + 2], 1, "bucket %d", b);
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

Test(png, an_unknown_pixel_format_is_refused)
{
    uint8_t px[2 * 2 * 3] = {0};
    gb_image img = {2, 2, 3, (gb_pixel_format)7, px};
    uint8_t *png = (uint8_t *)1;
    size_t len = 1;
    cr_assert_eq(gb_png_encode(&img, &png, &len), GB_EINVAL);
    cr_assert_null(png);
    cr_assert(strstr(gb_errmsg(), "pixel format 7"), "%s", gb_errmsg());
    img.format = (gb_pixel_format)-1;
    cr_assert_eq(gb_png_encode(&img, &png, &len), GB_EINVAL);
}

/* The events of the test's only event file, after closing w. */
static decoded_events close_and_decode(gb_writer *w)
{
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK, "%s", gb_errmsg());
    decoded_events d = decode_event_file(path);
    free(path);
    return d;
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

Test(summaries, audio_sizes_that_overflow_the_wav_header_are_refused)
{
    float samples[4] = {0, 0.5f, -0.5f, 1};
    uint8_t *wav = (uint8_t *)1;
    size_t len = 1;
    /* 2^62 frames x 2 channels x 2 bytes wraps to 0 in 64 bits */
    cr_assert_eq(gb_wav_encode(samples, (size_t)1 << 62, 2, 16000, &wav, &len), GB_EINVAL);
    cr_assert_null(wav);
    cr_assert_eq(len, 0);
    cr_assert(strstr(gb_errmsg(), "do not fit"), "%s", gb_errmsg());
    /* one frame more than a 4 GiB RIFF size can hold */
    cr_assert_eq(gb_wav_encode(samples, (UINT32_MAX - 44) / 2 + 1, 1, 16000, &wav, &len), GB_EINVAL);
    /* byte rate = sample_rate * channels * 2 must stay below 2^31 */
    cr_assert_eq(gb_wav_encode(samples, 4, 1, INT32_MAX, &wav, &len), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "byte rate"), "%s", gb_errmsg());
    cr_assert_eq(gb_wav_encode(samples, 2, 2, INT32_MAX / 4 + 1, &wav, &len), GB_EINVAL);
    cr_assert_eq(gb_wav_encode(samples, 2, 2, INT32_MAX / 4, &wav, &len), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(len, 44 + 8);
    cr_assert_eq(le32_at(wav + 24), (uint32_t)(INT32_MAX / 4));
    cr_assert_eq(le32_at(wav + 28), (uint32_t)(INT32_MAX / 4) * 4, "byte rate");
    cr_assert_eq(le32_at(wav + 40), 8, "data bytes");
    free(wav);

    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_summary_audio(w, "aud", 0, samples, (size_t)1 << 62, 2, 16000), GB_EINVAL);
    cr_assert_eq(gb_summary_audio(w, "aud", 0, samples, 4, 1, INT32_MAX), GB_EINVAL);
    decoded_events d = close_and_decode(w);
    cr_assert_eq(d.count, 1, "a refused clip wrote an event");
    decoded_events_free(&d);
}

/* The HParamsPluginData of value 0 of event e. */
static Gbpb__HParamsPluginData *hparams_of(const Gbpb__Event *e)
{
    const Gbpb__SummaryMetadata__PluginData *pd = e->summary->value[0]->metadata->plugin_data;
    cr_assert_str_eq(pd->plugin_name, "hparams");
    Gbpb__HParamsPluginData *data = gbpb__hparams_plugin_data__unpack(NULL, pd->content.len, pd->content.data);
    cr_assert_not_null(data);
    return data;
}

Test(summaries, hparams_strings_types_and_statuses_are_checked)
{
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    const gb_hparam bad_starts[][2] = {
        {gb_hparam_string("opt", "ad\xffm"), gb_hparam_number("lr", 0.1)}, /* value not UTF-8 */
        {gb_hparam_string("opt", NULL), gb_hparam_number("lr", 0.1)},      /* NULL string */
        {{"t", (gb_hparam_type)7, 1.0, NULL, 0}, gb_hparam_number("lr", 0.1)}, /* unknown type */
        {gb_hparam_number("l\xffr", 0.1), gb_hparam_number("lr", 0.1)},    /* name not UTF-8 */
        {gb_hparam_number(NULL, 0.1), gb_hparam_number("lr", 0.1)},        /* no name */
        {gb_hparam_number("lr", 0.1), gb_hparam_number("lr", 0.2)},        /* a name twice */
    };
    const char *what[] = {"UTF-8", "NULL", "unknown type 7", "UTF-8", "NULL", "twice"};
    for (size_t i = 0; i < sizeof bad_starts / sizeof bad_starts[0]; i++) {
        cr_assert_eq(gb_summary_hparams_start(w, bad_starts[i], 2, NULL), GB_EINVAL, "case %zu", i);
        cr_assert(strstr(gb_errmsg(), what[i]), "case %zu: %s", i, gb_errmsg());
    }
    gb_hparam good[] = {gb_hparam_number("lr", 0.1), gb_hparam_string("opt", "日本")};
    cr_assert_eq(gb_summary_hparams_start(w, good, 2, "g\xff"), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "group name"), "%s", gb_errmsg());
    cr_assert_eq(gb_summary_hparams_end(w, (gb_hparams_status)42), GB_EINVAL);
    cr_assert_eq(gb_summary_hparams_end(w, (gb_hparams_status)-1), GB_EINVAL);

    const char *bad_strings[] = {"adam", "s\xffgd"};
    const gb_hparam_info bad_infos[][1] = {
        {{"x\xff", GB_HPARAM_NUMBER, 0, 1, 0, NULL, NULL, NULL}},
        {{"x", (gb_hparam_type)9, 0, 1, 0, NULL, NULL, NULL}},
        {{"x", GB_HPARAM_STRING, 0, 0, 2, NULL, bad_strings, NULL}},
        {{"x", GB_HPARAM_STRING, 0, 0, 2, NULL, NULL, NULL}},
        {{"x", GB_HPARAM_NUMBER, 0, 0, 2, NULL, NULL, NULL}},
        {{"x", GB_HPARAM_NUMBER, 0, 1, 0, NULL, NULL, "disp\xff"}},
    };
    gb_metric_info metric = {"acc", NULL, NULL};
    for (size_t i = 0; i < sizeof bad_infos / sizeof bad_infos[0]; i++)
        cr_assert_eq(gb_summary_hparams_config(w, bad_infos[i], 1, &metric, 1), GB_EINVAL, "info case %zu", i);
    gb_hparam_info dup[] = {{"x", GB_HPARAM_NUMBER, 0, 0, 0, NULL, NULL, NULL},
                            {"x", GB_HPARAM_BOOL, 0, 0, 0, NULL, NULL, NULL}};
    cr_assert_eq(gb_summary_hparams_config(w, dup, 2, &metric, 1), GB_EINVAL);
    const gb_metric_info bad_metrics[] = {{"acc\xff", NULL, NULL}, {NULL, NULL, NULL}, {"acc", "val\xff", NULL},
                                          {"acc", NULL, "d\xff"}};
    for (size_t i = 0; i < sizeof bad_metrics / sizeof bad_metrics[0]; i++)
        cr_assert_eq(gb_summary_hparams_config(w, dup, 1, &bad_metrics[i], 1), GB_EINVAL, "metric case %zu", i);

    /* the good calls after all the refused ones: only they are in the file */
    cr_assert_eq(gb_summary_hparams_start(w, good, 2, "grp"), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_summary_hparams_end(w, GB_HPARAMS_RUNNING), GB_OK, "%s", gb_errmsg());
    decoded_events d = close_and_decode(w);
    cr_assert_eq(d.count, 3, "refused calls wrote events");
    Gbpb__HParamsPluginData *start = hparams_of(d.events[1]);
    cr_assert_str_eq(start->session_start_info->group_name, "grp");
    cr_assert_eq(start->session_start_info->n_hparams, 2);
    cr_assert_str_eq(start->session_start_info->hparams[1]->value->string_value, "日本");
    gbpb__hparams_plugin_data__free_unpacked(start, NULL);
    Gbpb__HParamsPluginData *end = hparams_of(d.events[2]);
    cr_assert_eq(end->session_end_info->status, GBPB__SESSION_STATUS__STATUS_RUNNING);
    gbpb__hparams_plugin_data__free_unpacked(end, NULL);
    decoded_events_free(&d);
}

Test(summaries, pr_curve_buckets_match_tensorboards_float32_arithmetic)
{
    /* 0.7f * 10 is 7.0f in float32 (TensorBoard's NumPy arithmetic) but 6.99999988 in double;
     * 0.9f * 10 likewise rounds up to 9.0f. The rows below are what
     * tensorboard.plugins.pr_curve.summary.pb gives for these inputs with 11 thresholds. */
    const float predictions[12] = {0.7f, 0.3f, 0.1f, 0.9f, 0.6f, 0.29f, 0.57f, 0.58f, 1.0f, 0.0f, 0.35f, 0.15f};
    const uint8_t labels[12] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    const float want[4][11] = {{6, 6, 5, 4, 3, 3, 3, 2, 1, 1, 0},  /* true positives */
                               {6, 5, 4, 4, 3, 3, 1, 1, 1, 1, 1},  /* false positives */
                               {0, 1, 2, 2, 3, 3, 5, 5, 5, 5, 5},  /* true negatives */
                               {0, 0, 1, 2, 3, 3, 3, 4, 5, 5, 6}}; /* false negatives */
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_summary_pr_curve(w, "pr", 0, labels, predictions, 12, 11), GB_OK, "%s", gb_errmsg());
    decoded_events d = close_and_decode(w);
    cr_assert_eq(d.count, 2);
    const Gbpb__TensorProto *t = d.events[1]->summary->value[0]->tensor;
    cr_assert_eq(t->tensor_content.len, 6 * 11 * sizeof(float));
    float rows[6][11];
    memcpy(rows, t->tensor_content.data, sizeof rows);
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 11; i++)
            cr_assert_eq(rows[r][i], want[r][i], "row %d threshold %d: %g, TensorBoard %g", r, i, rows[r][i], want[r][i]);
    for (int i = 0; i < 11; i++) {
        double tp = want[0][i], fp = want[1][i], fn = want[3][i];
        cr_assert_eq(rows[4][i], (float)(tp / fmax(1e-7, tp + fp)), "precision %d", i);
        cr_assert_eq(rows[5][i], (float)(tp / fmax(1e-7, tp + fn)), "recall %d", i);
    }
    decoded_events_free(&d);
}

Test(summaries, graph_attributes_that_do_not_fit_are_refused)
{
    const float values[4] = {1, 2, 3, 4};
    const int64_t dims[2] = {2, 2}, negative[2] = {2, -1}, unknown[2] = {-1, 784};
    struct {
        const char *what;
        int dtype, rank;
        const int64_t *dims;
        size_t bytes;
    } bad[] = {{"12 bytes for 2x2 floats", 1, 2, dims, 12},   {"17 bytes for 2x2 floats", 1, 2, dims, 17},
               {"dtype 999", 999, 2, dims, 16},               {"a string dtype", 7, 2, dims, 16},
               {"unknown rank with data", 1, -1, dims, 16},   {"a dimension of -1", 1, 2, negative, 16},
               {"rank 2, dims NULL", 1, 2, NULL, 16},         {"rank 255", 1, 255, dims, 16}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_graphdef *gd = gb_graphdef_new();
        int n = gb_graphdef_node(gd, "c", "Const", NULL);
        cr_assert_eq(gb_graphdef_attr_tensor(gd, n, "value", bad[i].dtype, bad[i].rank, bad[i].dims, values, bad[i].bytes),
                     GB_EINVAL, "%s", bad[i].what);
        cr_assert_eq(gb_graphdef_status(gd), GB_EINVAL, "%s: not sticky", bad[i].what);
        gb_graphdef_free(gd);
    }
    gb_graphdef *gd = gb_graphdef_new();
    int x = gb_graphdef_node(gd, "x", "Placeholder", NULL);
    cr_assert_eq(gb_graphdef_attr_shape(gd, x, "shape", 2, unknown), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_graphdef_attr_shape(gd, x, "any", -1, NULL), GB_OK, "%s", gb_errmsg());
    int c = gb_graphdef_node(gd, "c", "Const", NULL);
    cr_assert_eq(gb_graphdef_attr_tensor(gd, c, "value", 1, 2, dims, values, 16), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_graphdef_attr_tensor(gd, c, "scalar", 9, 0, NULL, "\1\0\0\0\0\0\0\0", 8), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_graphdef_node_count(gd), 2);
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_writer_add_graphdef(w, gd), GB_OK, "%s", gb_errmsg());
    gb_graphdef_free(gd);

    gd = gb_graphdef_new();
    x = gb_graphdef_node(gd, "x", "Placeholder", NULL);
    cr_assert_eq(gb_graphdef_attr_shape(gd, x, "shape", -2, NULL), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "rank -2"), "%s", gb_errmsg());
    cr_assert_eq(gb_writer_add_graphdef(w, gd), GB_EINVAL, "a graph with an error is not written");
    gb_graphdef_free(gd);
    const struct {
        const char *what;
        int rank;
        const int64_t *dims;
    } bad_shapes[] = {{"dimension -2", 2, (const int64_t[]){3, -2}}, {"rank 1, dims NULL", 1, NULL}};
    for (size_t i = 0; i < sizeof bad_shapes / sizeof bad_shapes[0]; i++) {
        gd = gb_graphdef_new();
        x = gb_graphdef_node(gd, "x", "Placeholder", NULL);
        cr_assert_eq(gb_graphdef_attr_shape(gd, x, "shape", bad_shapes[i].rank, bad_shapes[i].dims), GB_EINVAL, "%s",
                     bad_shapes[i].what);
        gb_graphdef_free(gd);
        gd = gb_graphdef_new();
        x = gb_graphdef_node(gd, "x", "Placeholder", NULL);
        const int64_t *shape_dims[1] = {bad_shapes[i].dims};
        cr_assert_eq(gb_graphdef_attr_output_shapes(gd, x, 1, &bad_shapes[i].rank, shape_dims), GB_EINVAL,
                     "_output_shapes: %s", bad_shapes[i].what);
        gb_graphdef_free(gd);
    }

    gd = gb_graphdef_new();
    cr_assert_eq(gb_graphdef_node(gd, "a", "Op", NULL), 0);
    cr_assert_eq(gb_graphdef_node(gd, "a", "Op", NULL), -1, "a second node named a");
    cr_assert_eq(gb_graphdef_status(gd), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "two nodes named \"a\""), "%s", gb_errmsg());
    gb_graphdef_free(gd);
    gd = gb_graphdef_new();
    x = gb_graphdef_node(gd, "x", "Op", NULL);
    cr_assert_eq(gb_graphdef_attr_int(gd, x, "k", 1), GB_OK);
    cr_assert_eq(gb_graphdef_attr_int(gd, x, "k", 2), GB_EINVAL, "an attribute key twice");
    gb_graphdef_free(gd);
    gd = gb_graphdef_new();
    cr_assert_eq(gb_graphdef_node(gd, "bad\xff", "Op", NULL), -1);
    gb_graphdef_free(gd);
    gd = gb_graphdef_new();
    x = gb_graphdef_node(gd, "x", "Op", NULL);
    cr_assert_eq(gb_graphdef_attr_string(gd, x, "s", NULL), GB_EINVAL);
    gb_graphdef_free(gd);

    const int64_t out_dims[2] = {3, 4};
    gb_node_exec no_name[] = {{"x", 1000, 5, 64, 1, 2, out_dims}, {NULL, 1005, 3, 0, 0, -1, NULL}};
    cr_assert_eq(gb_writer_add_run_metadata(w, "step_1", 1, NULL, no_name, 2), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "node 1"), "%s", gb_errmsg());
    gb_node_exec no_dims[] = {{"x", 1000, 5, 64, 1, 2, NULL}};
    cr_assert_eq(gb_writer_add_run_metadata(w, "step_1", 1, NULL, no_dims, 1), GB_EINVAL);
    cr_assert_eq(gb_writer_add_run_metadata(w, "step_1", 1, NULL, no_name, 1), GB_OK, "%s", gb_errmsg());

    decoded_events d = close_and_decode(w);
    cr_assert_eq(d.count, 3, "the file version, the good graph and the good run metadata");
    Gbpb__GraphDef *def = gbpb__graph_def__unpack(NULL, d.events[1]->graph_def.len, d.events[1]->graph_def.data);
    cr_assert_not_null(def);
    cr_assert_eq(def->n_node, 2);
    const Gbpb__NodeDef *cnode = def->node[1];
    cr_assert_str_eq(cnode->attr[0]->key, "value");
    cr_assert_eq(cnode->attr[0]->value->tensor->tensor_content.len, 16);
    cr_assert_eq(memcmp(cnode->attr[0]->value->tensor->tensor_content.data, values, 16), 0);
    cr_assert_eq(def->node[0]->attr[1]->value->shape->unknown_rank, 1);
    gbpb__graph_def__free_unpacked(def, NULL);
    cr_assert_str_eq(d.events[2]->tagged_run_metadata->tag, "step_1");
    decoded_events_free(&d);
}
