/* gradboard/summaries.h: histograms, images and text for TensorBoard's dashboards.
 *
 *   gb_summary_histogram(w, "dense1/kernel", step, weights, 784 * 256, 0);   // 30 buckets
 *   gb_image img = {28, 28, 1, GB_PIXELS_U8, pixels};
 *   gb_summary_images(w, "inputs", step, &img, 1);
 *   gb_summary_text(w, "config", 0, "lr **0.001**, batch 128");
 *
 * Each is written the way TensorBoard's own summary code writes it (see the fact sheet), with
 * the plugin metadata on each tag's first value in the file.
 */
#ifndef GRADBOARD_SUMMARIES_H
#define GRADBOARD_SUMMARIES_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- histograms ---- */

enum { GB_HISTOGRAM_DEFAULT_BUCKETS = 30 };

/* Buckets like TensorBoard's: `buckets` equal-width buckets from min to max of the finite values
 * (the last one closed); all values equal: every edge at that value, all counted in the last;
 * no finite value: all-zero rows. NaN and infinities are left out (TensorBoard cannot draw
 * them). Writes buckets rows of (left, right, count) into out (3 * buckets doubles); returns
 * the number of values counted. Returns SIZE_MAX, gb_errmsg() saying why, when buckets < 1
 * (unlike the summary calls, 0 is not a default here: out was sized for it), out is NULL,
 * values is NULL with n > 0 (nothing is written then), or memory for more than 30 buckets runs
 * out. */
size_t gb_histogram_buckets(const double *values, size_t n, int buckets, double *out);
size_t gb_histogram_buckets_f32(const float *values, size_t n, int buckets, double *out);

/* Logs a histogram of n values (plugin "histograms": a float64 [buckets, 3] tensor). buckets 0
 * means 30. Shown by both the Histograms and the Distributions dashboards. */
gb_status gb_summary_histogram(gb_writer *w, const char *tag, int64_t step, const float *values, size_t n, int buckets);
gb_status gb_summary_histogram_f64(gb_writer *w, const char *tag, int64_t step, const double *values, size_t n,
                                   int buckets);

/* ---- images ---- */

typedef enum gb_pixel_format {
    GB_PIXELS_U8 = 0,  /* uint8, 0..255 */
    GB_PIXELS_F32 = 1  /* float, 0..1 (clamped; NaN becomes 0) */
} gb_pixel_format;

typedef struct gb_image {
    int width, height;
    int channels;            /* 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA */
    gb_pixel_format format;
    const void *pixels;      /* row-major, channels interleaved: height * width * channels values */
} gb_image;

/* Encodes image as PNG (8 bits per channel). Returns a new buffer in *png (free with free()).
 * GB_EINVAL for a size <= 0, channels outside 1..4, NULL pixels or a format not in gb_pixel_format. */
gb_status gb_png_encode(const gb_image *image, uint8_t **png, size_t *len);

/* Logs n images of one size at step (plugin "images"); the dashboard shows each sample. */
gb_status gb_summary_images(gb_writer *w, const char *tag, int64_t step, const gb_image *images, size_t n);

/* Tiles n single images of height x width x channels floats into one grid image of `columns`
 * columns (0: about square) with `padding` pixels of black between them. Pixel p of image k is
 * at data[k * image_stride + p * pixel_stride]: a batch [n, h*w*c] has (h*w*c, 1); the columns
 * of a first-layer weight matrix [h*w, n] have (1, n). normalize scales each image's values to
 * [0, 1] by its own min and max; otherwise values are taken as [0, 1]. On success *grid is a
 * uint8 image whose pixels the caller frees (free((void *)grid->pixels)). */
gb_status gb_image_grid(const float *data, int n, int height, int width, int channels, size_t image_stride,
                        size_t pixel_stride, int columns, int padding, int normalize, gb_image *grid);

/* ---- text ---- */

/* Logs a Markdown string (plugin "text"), rendered by the Text dashboard. */
gb_status gb_summary_text(gb_writer *w, const char *tag, int64_t step, const char *markdown);

/* Logs a rows x cols table of strings (cells row-major), shown as a table. cols 0: a list. */
gb_status gb_summary_text_table(gb_writer *w, const char *tag, int64_t step, size_t rows, size_t cols,
                                const char *const *cells);

/* ---- PR curves ---- */

enum { GB_PR_DEFAULT_THRESHOLDS = 201 };

/* Logs the precision-recall curve of n predictions in [0, 1] against labels (non-zero = positive),
 * at num_thresholds thresholds i / (num_thresholds - 1) (0 means 201), as TensorBoard's pr_curves
 * summary computes it. The tag becomes "<tag>/pr_curves", as TensorBoard names it. */
gb_status gb_summary_pr_curve(gb_writer *w, const char *tag, int64_t step, const uint8_t *labels,
                              const float *predictions, size_t n, int num_thresholds);

/* ---- custom scalars ---- */

typedef struct gb_custom_chart {
    const char *title;
    /* a multiline chart: n_tags regular expressions of scalar tags ... */
    size_t n_tags;
    const char *const *tags;
    /* ... or a margin chart (when value is set): a tag with its lower and upper bounds */
    const char *value, *lower, *upper;
} gb_custom_chart;

typedef struct gb_custom_category {
    const char *title;
    size_t n_charts;
    const gb_custom_chart *charts;
    int closed;
} gb_custom_category;

/* Logs the layout of the Custom Scalars dashboard (tag "custom_scalars__config__"). */
gb_status gb_summary_custom_scalars(gb_writer *w, size_t n, const gb_custom_category *categories);

/* ---- audio ---- */

/* Logs frames x channels interleaved samples in [-1, 1] (clamped) as a 16-bit PCM WAV.
 * GB_EINVAL unless 1 <= channels <= 64, sample_rate > 0, the samples fit a WAV file (4 GiB) and
 * the byte rate sample_rate * channels * 2 is below 2^31. */
gb_status gb_summary_audio(gb_writer *w, const char *tag, int64_t step, const float *samples, size_t frames,
                           int channels, int sample_rate);

/* Encodes the same WAV into a new buffer (free with free()). */
gb_status gb_wav_encode(const float *samples, size_t frames, int channels, int sample_rate, uint8_t **wav, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
