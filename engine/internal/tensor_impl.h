/* Private: the tensor layout shared by the engine's files. */
#ifndef GB_ENGINE_TENSOR_IMPL_H
#define GB_ENGINE_TENSOR_IMPL_H

#include "gradboard/tensor.h"

struct gb_tensor {
    gb_dtype dtype;
    gb_shape shape;
    void *data;
    size_t bytes;
    int owns_data;  /* 0 for views into a session's buffers, variables or feeds */
};

/* A tensor header describing memory owned elsewhere (no allocation). */
static inline gb_tensor gb_tensor_view(gb_dtype dtype, gb_shape shape, void *data)
{
    gb_tensor t = {dtype, shape, data, 0, 0};
    return t;
}

/* 64-byte aligned allocation of bytes (at least 1); free with free(). NULL when out of memory. */
void *gb_aligned_alloc(size_t bytes);

/* Whether c is one of dtype's values exactly (any value for floats; 0/1 and the rest for bool,
 * which keeps c != 0; a whole number in range for the integers; never NaN). */
static inline int gb_value_fits_dtype(double c, gb_dtype dtype)
{
    switch (dtype) {
    case GB_I32: return c >= INT32_MIN && c <= INT32_MAX && c == (double)(int64_t)c;
    case GB_I64: return c >= -0x1p63 && c < 0x1p63 && c == (double)(int64_t)c;
    default: return 1;
    }
}

#endif
