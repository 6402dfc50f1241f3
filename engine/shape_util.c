#include "internal/shape_util.h"

#include <stdint.h>
#include <stdio.h>

gb_status gb_broadcast_shape(const gb_shape *a, const gb_shape *b, gb_shape *out, char *err, size_t err_size)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        int64_t da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
        int64_t d;
        if (da == db) d = da;
        else if (da == 1) d = db;
        else if (db == 1) d = da;
        else if (da < 0) d = db;   /* unknown: must turn out to be db or 1 at run time */
        else if (db < 0) d = da;
        else {
            char sa[96], sb[96];
            snprintf(err, err_size, "shapes %s and %s do not broadcast (axis %d: %lld vs %lld)",
                     gb_shape_format(a, sa, sizeof sa), gb_shape_format(b, sb, sizeof sb), i, (long long)da,
                     (long long)db);
            return GB_ESHAPE;
        }
        out->dim[i] = d;
    }
    return GB_OK;
}

int gb_shape_too_large(const gb_shape *shape)
{
    const int64_t limit = INT64_MAX / 16;
    for (int i = 0; i < shape->rank; i++)
        if (shape->dim[i] == 0) return 0; /* no elements, whatever the other sides */
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dim[i];
        if (d < 0) continue;
        if (n > limit / d) return 1;
        n *= d;
    }
    return 0;
}

void gb_shape_strides(const gb_shape *shape, int64_t *strides)
{
    int64_t s = 1;
    for (int i = shape->rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape->dim[i];
    }
}

void gb_broadcast_strides(const gb_shape *in, const gb_shape *out, int64_t *strides)
{
    int64_t own[GB_MAX_RANK];
    gb_shape_strides(in, own);
    for (int i = 0; i < out->rank; i++) {
        int k = i - (out->rank - in->rank);
        strides[i] = (k < 0 || in->dim[k] == 1) ? 0 : own[k];
    }
}

gb_shape gb_reduced_shape(const gb_shape *in, unsigned axes, int keepdims)
{
    gb_shape out = {0, {0}};
    for (int i = 0; i < in->rank; i++) {
        if (gb_axis_reduced(axes, i)) {
            if (keepdims) out.dim[out.rank++] = 1;
        } else {
            out.dim[out.rank++] = in->dim[i];
        }
    }
    return out;
}
