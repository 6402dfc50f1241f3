/* Histogram summaries: TensorBoard's bucketing, written as plugin "histograms" float64 [k, 3]. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summaries.h"
#include "internal/error.h"
#include "internal/histogram_simd.h"
#include "internal/writer_impl.h"
#include "plugin_data.pb-c.h"

enum { CHUNK = 1024 };

/* The two per-element passes, portable, for each element type: the finite values' range, and
 * each value's bucket index as TensorBoard computes it (in double). */
#define DEFINE_PASSES(T, suffix)                                                                    \
    static size_t range_##suffix(const void *values_, size_t n, double *lo, double *hi)            \
    {                                                                                               \
        const T *values = values_;                                                                  \
        T lo_t = (T)INFINITY, hi_t = -(T)INFINITY;                                                  \
        size_t counted = 0;                                                                         \
        for (size_t i = 0; i < n; i++) {                                                            \
            T v = values[i];                                                                        \
            int finite = v - v == 0; /* false for NaN and infinities */                            \
            lo_t = (v < lo_t) & finite ? v : lo_t;                                                  \
            hi_t = (v > hi_t) & finite ? v : hi_t;                                                  \
            counted += (size_t)finite;                                                              \
        }                                                                                           \
        *lo = (double)lo_t, *hi = (double)hi_t;                                                     \
        return counted;                                                                             \
    }                                                                                               \
    static void index_##suffix(const void *values_, size_t m, double scale, double shift, double width, int buckets, \
                               int32_t *index)                                                      \
    {                                                                                               \
        const T *values = values_;                                                                  \
        for (size_t j = 0; j < m; j++) {                                                            \
            double v = (double)values[j];                                                           \
            int finite = v - v == 0;                                                                \
            /* v >= lo, so truncation is the floor (and needs no libm call) */                      \
            double q = finite ? (v * scale - shift) / width : 0;                                    \
            int32_t b = !(q < buckets - 1) ? buckets - 1 : q > 0 ? (int32_t)q : 0; /* NaN: last */  \
            index[j] = finite ? b : buckets; /* non-finite: the spare slot */                       \
        }                                                                                           \
    }

DEFINE_PASSES(double, f64)
DEFINE_PASSES(float, f32)

static size_t range_f32_simd(const void *values, size_t n, double *lo, double *hi)
{
    float lo_f, hi_f;
    size_t counted = gb_histogram_range_f32_avx2(values, n, &lo_f, &hi_f);
    *lo = lo_f, *hi = hi_f;
    return counted;
}

static void index_f32_simd(const void *values, size_t m, double scale, double shift, double width, int buckets,
                           int32_t *index)
{
    gb_histogram_index_f32_avx2(values, m, scale, shift, width, buckets, index);
}

typedef size_t range_fn(const void *values, size_t n, double *lo, double *hi);
typedef void index_fn(const void *values, size_t m, double scale, double shift, double width, int buckets,
                      int32_t *index);

/* The range, then each chunk's bucket indices into a small buffer, then the counts, spread over
 * four tables so consecutive increments do not wait on each other. */
static size_t bucket(const void *values, size_t n, size_t element_size, range_fn *range, index_fn *index_of,
                     int buckets, double *out)
{
    memset(out, 0, (size_t)buckets * 3 * sizeof *out);
    double lo, hi;
    size_t counted = range(values, n, &lo, &hi);
    if (counted == 0) return 0;
    if (hi == lo) { /* one value: every edge there, all counted in the last bucket */
        for (int b = 0; b < buckets; b++) out[3 * b] = out[3 * b + 1] = lo;
        out[3 * (buckets - 1) + 2] = (double)counted;
        return counted;
    }
    /* as TensorBoard (NumPy): width = (hi - lo) / k, index = floor((v - lo) / width), edges
     * lo + b * width; in halves when hi - lo overflows a double */
    double range_v = hi - lo, scale = 1;
    if (!isfinite(range_v)) range_v = hi / 2 - lo / 2, scale = 0.5;
    double width = range_v / buckets, shift = lo * scale;
    uint32_t counts[4][GB_HISTOGRAM_DEFAULT_BUCKETS + 1];
    uint64_t *big_counts = NULL;
    int small = buckets <= GB_HISTOGRAM_DEFAULT_BUCKETS && n < UINT32_MAX;
    if (small) memset(counts, 0, sizeof counts);
    else if (!(big_counts = calloc((size_t)buckets + 1, sizeof *big_counts)))
        return gb_fail(GB_ENOMEM, "histogram: no memory to count %d buckets", buckets), SIZE_MAX;
    int32_t index[CHUNK];
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        index_of((const char *)values + start * element_size, m, scale, shift, width, buckets, index);
        if (small) {
            size_t j = 0;
            for (; j + 4 <= m; j += 4) {
                counts[0][index[j]]++, counts[1][index[j + 1]]++;
                counts[2][index[j + 2]]++, counts[3][index[j + 3]]++;
            }
            for (; j < m; j++) counts[0][index[j]]++;
        } else {
            for (size_t j = 0; j < m; j++) big_counts[index[j]]++;
        }
    }
    for (int b = 0; b < buckets; b++)
        out[3 * b + 2] = small ? (double)counts[0][b] + counts[1][b] + counts[2][b] + counts[3][b] : (double)big_counts[b];
    free(big_counts);
    for (int b = 0; b <= buckets; b++) {
        double edge = scale == 1 ? lo + b * width : lo + b * width + b * width;
        if (b < buckets) out[3 * b] = edge;
        if (b > 0) out[3 * (b - 1) + 1] = b == buckets ? hi : edge;
    }
    return counted;
}

/* The public entry points' argument check: without it a bucket count below 1 sizes a memset
 * and indexes the last bucket from a negative number. */
static int bad_bucket_args(const void *values, size_t n, int buckets, const double *out)
{
    if (buckets < 1) {
        gb_fail(GB_EINVAL, "histogram: %d buckets (at least 1)", buckets);
        return 1;
    }
    if (!out || (!values && n)) {
        gb_fail(GB_EINVAL, "histogram: %s is NULL", out ? "values" : "out");
        return 1;
    }
    return 0;
}

size_t gb_histogram_buckets(const double *values, size_t n, int buckets, double *out)
{
    if (bad_bucket_args(values, n, buckets, out)) return SIZE_MAX;
    return bucket(values, n, sizeof *values, range_f64, index_f64, buckets, out);
}

size_t gb_histogram_buckets_f32(const float *values, size_t n, int buckets, double *out)
{
    if (bad_bucket_args(values, n, buckets, out)) return SIZE_MAX;
    int simd = gb_histogram_simd_enabled();
    return bucket(values, n, sizeof *values, simd ? range_f32_simd : range_f32, simd ? index_f32_simd : index_f32,
                  buckets, out);
}

static gb_status write_histogram(gb_writer *w, const char *tag, int64_t step, const void *values, size_t n, int buckets,
                                 int is_f32)
{
    if (buckets == 0) buckets = GB_HISTOGRAM_DEFAULT_BUCKETS;
    if (buckets < 1 || buckets > 100000) return gb_fail(GB_EINVAL, "histogram %s: %d buckets (1..100000)", tag, buckets);
    if (!values && n) return gb_fail(GB_EINVAL, "histogram %s: values is NULL", tag);
    double stack_rows[3 * GB_HISTOGRAM_DEFAULT_BUCKETS];
    double *rows = buckets <= GB_HISTOGRAM_DEFAULT_BUCKETS ? stack_rows : malloc((size_t)buckets * 3 * sizeof *rows);
    if (!rows) return gb_fail(GB_ENOMEM, "histogram %s: out of memory", tag);
    size_t counted = is_f32 ? gb_histogram_buckets_f32(values, n, buckets, rows) : gb_histogram_buckets(values, n, buckets, rows);
    if (counted == SIZE_MAX) {
        if (rows != stack_rows) free(rows);
        return gb_fail_context(GB_ENOMEM, "histogram %s", tag);
    }

    Gbpb__TensorShapeProto__Dim dims[2] = {GBPB__TENSOR_SHAPE_PROTO__DIM__INIT, GBPB__TENSOR_SHAPE_PROTO__DIM__INIT};
    dims[0].size = buckets;
    dims[1].size = 3;
    Gbpb__TensorShapeProto__Dim *dim_ptrs[2] = {&dims[0], &dims[1]};
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dim_ptrs;
    Gbpb__TensorProto tensor = GBPB__TENSOR_PROTO__INIT;
    tensor.dtype = GBPB__DATA_TYPE__DT_DOUBLE;
    tensor.tensor_shape = &shape;
    /* tensor_content is little-endian; so is every machine this builds on (checked at configure) */
    tensor.tensor_content.data = (uint8_t *)rows;
    tensor.tensor_content.len = (size_t)buckets * 3 * sizeof(double);

    Gbpb__HistogramPluginData content = GBPB__HISTOGRAM_PLUGIN_DATA__INIT;
    uint8_t content_bytes[16];
    size_t content_len = gbpb__histogram_plugin_data__pack(&content, content_bytes);
    gb_status st = gb_writer_write_tensor_value(w, step, tag, &tensor, "histograms", content_bytes, content_len,
                                                GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
    if (rows != stack_rows) free(rows);
    return st;
}

gb_status gb_summary_histogram(gb_writer *w, const char *tag, int64_t step, const float *values, size_t n, int buckets)
{
    return write_histogram(w, tag, step, values, n, buckets, 1);
}

gb_status gb_summary_histogram_f64(gb_writer *w, const char *tag, int64_t step, const double *values, size_t n,
                                   int buckets)
{
    return write_histogram(w, tag, step, values, n, buckets, 0);
}
