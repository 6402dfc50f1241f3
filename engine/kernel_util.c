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
