#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/error.h"
#include "internal/tensor_impl.h"

size_t gb_dtype_size(gb_dtype dtype)
{
    switch (dtype) {
    case GB_F32: case GB_I32: return 4;
    case GB_F64: case GB_I64: return 8;
    case GB_BOOL: return 1;
    default: return 0;
    }
}

const char *gb_dtype_name(gb_dtype dtype)
{
    switch (dtype) {
    case GB_F32: return "float32";
    case GB_F64: return "float64";
    case GB_I32: return "int32";
    case GB_I64: return "int64";
    case GB_BOOL: return "bool";
    default: return "invalid";
    }
}

gb_shape gb_dims(int rank, ...)
{
    gb_shape s = {0, {0}};
    if (rank < 0 || rank > GB_MAX_RANK) {
        s.rank = -1; /* invalid: every consumer rejects it */
        return s;
    }
    s.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) s.dim[i] = (int64_t)va_arg(ap, int);
    va_end(ap);
    return s;
}

int64_t gb_shape_elements(const gb_shape *shape)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) {
        if (shape->dim[i] < 0) return -1;
        n *= shape->dim[i];
    }
    return n;
}

char *gb_shape_format(const gb_shape *shape, char *buf, size_t size)
{
    size_t used = 0;
    int n = snprintf(buf, size, "[");
    used = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < shape->rank && used < size; i++) {
        if (shape->dim[i] == -1)
            n = snprintf(buf + used, size - used, "%s?", i ? ", " : "");
        else
            n = snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)shape->dim[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

int gb_shape_equal(const gb_shape *a, const gb_shape *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i]) return 0;
    return 1;
}

void *gb_aligned_alloc(size_t bytes)
{
    size_t rounded = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, rounded ? rounded : 64);
}

gb_tensor *gb_tensor_new(gb_dtype dtype, gb_shape shape)
{
    char buf[128];
    if (gb_dtype_size(dtype) == 0) {
        gb_fail(GB_EINVAL, "gb_tensor_new: invalid dtype %d", (int)dtype);
        return NULL;
    }
    if (shape.rank < 0 || shape.rank > GB_MAX_RANK) {
        gb_fail(GB_ESHAPE, "gb_tensor_new: rank %d is outside 0..%d", shape.rank, GB_MAX_RANK);
        return NULL;
    }
    int64_t n = 1;
    for (int i = 0; i < shape.rank; i++) {
        if (shape.dim[i] < 0) {
            gb_fail(GB_ESHAPE, "gb_tensor_new: shape %s is not fully known", gb_shape_format(&shape, buf, sizeof buf));
            return NULL;
        }
        if (shape.dim[i] && n > INT64_MAX / 8 / shape.dim[i]) {
            gb_fail(GB_ESHAPE, "gb_tensor_new: shape %s is too large", gb_shape_format(&shape, buf, sizeof buf));
            return NULL;
        }
        n *= shape.dim[i];
    }
    gb_tensor *t = calloc(1, sizeof *t);
    size_t bytes = (size_t)n * gb_dtype_size(dtype);
    void *data = t ? gb_aligned_alloc(bytes) : NULL;
    if (!data) {
        free(t);
        gb_fail(GB_ENOMEM, "gb_tensor_new: no memory for %s %s (%zu bytes)", gb_dtype_name(dtype),
                gb_shape_format(&shape, buf, sizeof buf), bytes);
        return NULL;
    }
    memset(data, 0, bytes);
    *t = (gb_tensor){dtype, shape, data, bytes, 1};
    return t;
}

gb_tensor *gb_tensor_from(gb_dtype dtype, gb_shape shape, const void *data)
{
    gb_tensor *t = gb_tensor_new(dtype, shape);
    if (t && t->bytes) memcpy(t->data, data, t->bytes);
    return t;
}

gb_tensor *gb_tensor_scalar_f32(float value)
{
    return gb_tensor_from(GB_F32, gb_dims(0), &value);
}

void gb_tensor_free(gb_tensor *t)
{
    if (!t) return;
    if (t->owns_data) free(t->data);
    free(t);
}

gb_dtype gb_tensor_dtype(const gb_tensor *t) { return t->dtype; }
const gb_shape *gb_tensor_shape(const gb_tensor *t) { return &t->shape; }
int64_t gb_tensor_elements(const gb_tensor *t) { return gb_shape_elements(&t->shape); }
size_t gb_tensor_bytes(const gb_tensor *t) { return (size_t)gb_tensor_elements(t) * gb_dtype_size(t->dtype); }
void *gb_tensor_data(const gb_tensor *t) { return t->data; }

double gb_tensor_get(const gb_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case GB_F32: return ((const float *)t->data)[i];
    case GB_F64: return ((const double *)t->data)[i];
    case GB_I32: return ((const int32_t *)t->data)[i];
    case GB_I64: return (double)((const int64_t *)t->data)[i];
    case GB_BOOL: return ((const uint8_t *)t->data)[i];
    default: return 0;
    }
}

char *gb_format_f32(char *buf, size_t size, float v)
{
    if (isnan(v)) return snprintf(buf, size, "nan"), buf;
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf"), buf;
    /* shortest round-trip digits, as d.ddde+XX */
    char sci[48];
    int precision = 0;
    for (; precision < 9; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision, (double)v);
        if (strtof(sci, NULL) == v) break;
    }
    char *e = strchr(sci, 'e');
    int exponent = atoi(e + 1);
    *e = '\0';
    char digits[16];
    size_t n = 0;
    int negative = sci[0] == '-';
    for (const char *p = sci + negative; *p; p++)
        if (*p != '.') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0') n--; /* trailing zeros carry nothing */
    digits[n] = '\0';
    float magnitude = fabsf(v);
    size_t used = 0;
#define PUT(...) used += (size_t)snprintf(buf + used, used < size ? size - used : 0, __VA_ARGS__)
    if (negative) PUT("-");
    if (magnitude != 0 && (magnitude < 1e-4f || magnitude >= 1e16f)) {
        PUT("%c", digits[0]);
        if (n > 1) PUT(".%s", digits + 1);
        PUT("e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
    } else if (exponent < 0) {
        PUT("0.");
        for (int i = -1; i > exponent; i--) PUT("0");
        PUT("%s", digits);
    } else {
        for (int i = 0; i <= exponent; i++) PUT("%c", (size_t)i < n ? digits[i] : '0');
        PUT(".");
        if ((size_t)exponent + 1 < n)
            PUT("%s", digits + exponent + 1);
        else
            PUT("0");
    }
#undef PUT
    return buf;
}
