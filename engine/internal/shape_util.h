/* Private: shape rules shared by the ops (broadcasting, reductions, strides). */
#ifndef GB_ENGINE_SHAPE_UTIL_H
#define GB_ENGINE_SHAPE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/status.h"
#include "gradboard/tensor.h"

/* NumPy broadcasting of a and b into out; -1 (unknown) stays unknown unless the other side
 * fixes it. GB_ESHAPE with a reason in err when the shapes cannot broadcast. */
gb_status gb_broadcast_shape(const gb_shape *a, const gb_shape *b, gb_shape *out, char *err, size_t err_size);

/* Strides (in elements) of `in` read as if broadcast to `out`: 0 along broadcast axes.
 * strides has out->rank entries. */
void gb_broadcast_strides(const gb_shape *in, const gb_shape *out, int64_t *strides);

/* 1 if the known dimensions of shape multiply to more elements than any tensor can hold (its
 * bytes must fit in int64 with room for the widest dtype); unknown dimensions count as 1. */
int gb_shape_too_large(const gb_shape *shape);

/* Row-major strides of shape. */
void gb_shape_strides(const gb_shape *shape, int64_t *strides);

/* The shape after reducing `axes` (bit i = axis i; 0 = every axis) of in. */
gb_shape gb_reduced_shape(const gb_shape *in, unsigned axes, int keepdims);

/* 1 when axis i is reduced by the mask (0 = all). */
static inline int gb_axis_reduced(unsigned axes, int i)
{
    return axes == 0 || (axes >> i) & 1u;
}

#endif
