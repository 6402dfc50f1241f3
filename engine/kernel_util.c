#include "internal/kernel_util.h"

#include <string.h>

#include "internal/parallel.h"
#include "internal/shape_util.h"

typedef struct coalesced {
    int rank;
    int64_t dim[GB_MAX_RANK];
    int64_t sa[GB_MAX_RANK], sb[GB_MAX_RANK], so[GB_MAX_RANK];
} coalesced;

static coalesced coalesce(const gb_tensor *a, const gb_tensor *b, const gb_tensor *out)
{
    coalesced c = {0};
    int64_t sa[GB_MAX_RANK], sb[GB_MAX_RANK], so[GB_MAX_RANK];
    gb_broadcast_strides(&a->shape, &out->shape, sa);
    gb_broadcast_strides(&b->shape, &out->shape, sb);
    gb_shape_strides(&out->shape, so);
    for (int i = 0; i < out->shape.rank; i++) {
        int64_t d = out->shape.dim[i];
        if (d == 1) continue; /* size-1 axes change nothing */
        if (c.rank > 0) {
            int k = c.rank - 1;
            if (c.sa[k] == sa[i] * d && c.sb[k] == sb[i] * d && c.so[k] == so[i] * d) {
                c.dim[k] *= d;
                c.sa[k] = sa[i], c.sb[k] = sb[i], c.so[k] = so[i];
                continue;
            }
        }
        c.dim[c.rank] = d;
        c.sa[c.rank] = sa[i], c.sb[c.rank] = sb[i], c.so[c.rank] = so[i];
        c.rank++;
    }
    if (c.rank == 0) { /* a scalar result */
        c.rank = 1;
        c.dim[0] = 1;
        c.sa[0] = c.sb[0] = c.so[0] = 1;
    }
    return c;
}

int gb_broadcast_layout(const gb_tensor *a, const gb_tensor *b, const gb_tensor *out, int64_t *dim, int64_t *sa,
                        int64_t *sb)
{
    coalesced c = coalesce(a, b, out);
    for (int i = 0; i < c.rank; i++) dim[i] = c.dim[i], sa[i] = c.sa[i], sb[i] = c.sb[i];
    return c.rank;
}

void gb_broadcast_apply(const gb_tensor *a, const gb_tensor *b, gb_tensor *out, gb_binary_row row)
{
    if (gb_shape_elements(&out->shape) == 0) return;
    coalesced c = coalesce(a, b, out);
    size_t ea = gb_dtype_size(a->dtype), eb = gb_dtype_size(b->dtype), eo = gb_dtype_size(out->dtype);
    int last = c.rank - 1;
    int64_t n = c.dim[last];
    int64_t row_sa = c.sa[last] ? 1 : 0, row_sb = c.sb[last] ? 1 : 0;
    /* rows: iterate the outer axes with a counter */
    int64_t index[GB_MAX_RANK] = {0};
    const char *pa = a->data, *pb = b->data;
    char *po = out->data;
    for (;;) {
        row(pa, row_sa, pb, row_sb, po, n);
        int k = last - 1;
        for (; k >= 0; k--) {
            index[k]++;
            pa += c.sa[k] * (int64_t)ea, pb += c.sb[k] * (int64_t)eb, po += c.so[k] * (int64_t)eo;
            if (index[k] < c.dim[k]) break;
            pa -= c.sa[k] * c.dim[k] * (int64_t)ea, pb -= c.sb[k] * c.dim[k] * (int64_t)eb;
            po -= c.so[k] * c.dim[k] * (int64_t)eo;
            index[k] = 0;
        }
        if (k < 0) break;
    }
}

#define SUM_TO_SHAPE(T)                                                                   \
    {                                                                                     \
        const T *src = x->data;                                                           \
        T *dst = out->data;                                                               \
        memset(dst, 0, (size_t)gb_shape_elements(&out->shape) * sizeof(T));               \
        int64_t inner = x->shape.rank ? x->shape.dim[x->shape.rank - 1] : 1;              \
        int64_t inner_stride = x->shape.rank ? dst_strides[x->shape.rank - 1] : 0;        \
        int64_t index[GB_MAX_RANK] = {0};                                                 \
        int64_t offset = 0;                                                               \
        for (int64_t at = 0; at < total; at += inner) {                                   \
            if (inner_stride)                                                             \
                for (int64_t i = 0; i < inner; i++) dst[offset + i] += src[at + i];       \
            else {                                                                        \
                T acc = 0;                                                                \
                for (int64_t i = 0; i < inner; i++) acc += src[at + i];                   \
                dst[offset] += acc;                                                       \
            }                                                                             \
            for (int k = x->shape.rank - 2; k >= 0; k--) {                                \
                index[k]++;                                                               \
                offset += dst_strides[k];                                                 \
                if (index[k] < x->shape.dim[k]) break;                                    \
                offset -= dst_strides[k] * x->shape.dim[k];                               \
                index[k] = 0;                                                             \
            }                                                                             \
        }                                                                                 \
    }

/* The bias gradient: x [rows, cols] summed over rows. Column ranges go to the pool's threads; each
 * column is still summed row by row, as in the general loop. */
typedef struct column_sums {
    const void *x;
    void *out;
    int64_t rows, cols;
    int f64;
} column_sums;

#define COLUMN_SUMS(T)                                                        \
    {                                                                         \
        const T *src = j->x;                                                  \
        T *restrict dst = (T *)j->out + begin;                                \
        for (int64_t c = 0; c < end - begin; c++) dst[c] = 0;                 \
        for (int64_t r = 0; r < j->rows; r++) {                               \
            const T *restrict row = src + r * j->cols + begin;                \
            for (int64_t c = 0; c < end - begin; c++) dst[c] += row[c];       \
        }                                                                     \
    }

GB_SIMD_CLONES static void column_sums_range(void *ctx, int64_t begin, int64_t end)
{
    const column_sums *j = ctx;
    if (j->f64)
        COLUMN_SUMS(double)
    else
        COLUMN_SUMS(float)
}

/* One block of columns per thread (at least 256): a thread's sums stay in L1 while the rows stream
 * by, and its rows are read in long runs (blocks of 64 columns ran 2x slower than 1024). */
enum { MIN_COLUMN_GRAIN = 256, PARALLEL_MIN_ELEMENTS = 1 << 16 };

void gb_sum_to_shape(const gb_tensor *x, gb_tensor *out)
{
    int64_t dst_strides[GB_MAX_RANK];
    gb_broadcast_strides(&out->shape, &x->shape, dst_strides);
    int64_t total = gb_shape_elements(&x->shape), outputs = gb_shape_elements(&out->shape);
    if (total == 0) {
        if (outputs) memset(out->data, 0, (size_t)outputs * gb_dtype_size(out->dtype)); /* no outputs: maybe no memory */
        return;
    }
    int rank = x->shape.rank;
    if (rank >= 2 && total >= PARALLEL_MIN_ELEMENTS && outputs == x->shape.dim[rank - 1] && dst_strides[rank - 1] == 1) {
        column_sums j = {x->data, out->data, total / outputs, outputs, x->dtype == GB_F64};
        int64_t threads = gb_parallel_threads(), grain = ((outputs + threads - 1) / threads + 15) / 16 * 16;
        gb_parallel_for(outputs, grain > MIN_COLUMN_GRAIN ? grain : MIN_COLUMN_GRAIN, column_sums_range, &j);
        return;
    }
    if (x->dtype == GB_F64)
        SUM_TO_SHAPE(double)
    else
        SUM_TO_SHAPE(float)
}
