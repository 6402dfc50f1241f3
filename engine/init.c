#include "gradboard/init.h"

#include <math.h>
#include <string.h>

#include "internal/error.h"
#include "internal/tensor_impl.h"

gb_initializer gb_init_zeros(void) { return (gb_initializer){GB_INIT_ZEROS, 0, 0, 0, NULL}; }
gb_initializer gb_init_ones(void) { return (gb_initializer){GB_INIT_ONES, 1, 0, 0, NULL}; }
gb_initializer gb_init_constant(double value) { return (gb_initializer){GB_INIT_CONSTANT, value, 0, 0, NULL}; }
gb_initializer gb_init_uniform(double low, double high, uint64_t seed)
{
    return (gb_initializer){GB_INIT_UNIFORM, low, high, seed, NULL};
}
gb_initializer gb_init_normal(double mean, double stddev, uint64_t seed)
{
    return (gb_initializer){GB_INIT_NORMAL, mean, stddev, seed, NULL};
}
gb_initializer gb_init_truncated_normal(double mean, double stddev, uint64_t seed)
{
    return (gb_initializer){GB_INIT_TRUNCATED_NORMAL, mean, stddev, seed, NULL};
}
gb_initializer gb_init_glorot_uniform(uint64_t seed) { return (gb_initializer){GB_INIT_GLOROT_UNIFORM, 0, 0, seed, NULL}; }
gb_initializer gb_init_glorot_normal(uint64_t seed) { return (gb_initializer){GB_INIT_GLOROT_NORMAL, 0, 0, seed, NULL}; }
gb_initializer gb_init_he_normal(uint64_t seed) { return (gb_initializer){GB_INIT_HE_NORMAL, 0, 0, seed, NULL}; }
gb_initializer gb_init_values(const gb_tensor *values) { return (gb_initializer){GB_INIT_VALUES, 0, 0, 0, values}; }

/* Uniform in (0, 1): 53 bits from two words, never exactly 0 (log of it is taken) nor 1 (the
 * top value, (2^53 - 1 + 0.5) / 2^53, would round up to it). */
static double unit(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)hi << 21) ^ (lo >> 11);
    double u = ((double)(bits & ((1ULL << 53) - 1)) + 0.5) / 9007199254740992.0;
    return u < 1.0 ? u : 0x1.fffffffffffffp-1;
}

/* Element i's standard normal; draw r of it for truncated redraws. */
static double standard_normal(uint64_t seed, uint64_t i, uint64_t draw)
{
    uint32_t w[4];
    gb_philox4x32(seed, draw, i, w);
    double u1 = unit(w[0], w[1]), u2 = unit(w[2], w[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double uniform01(uint64_t seed, uint64_t i)
{
    uint32_t w[4];
    gb_philox4x32(seed, 0, i, w);
    return unit(w[0], w[1]);
}

static void fans(const gb_shape *s, double *fan_in, double *fan_out)
{
    if (s->rank == 0) {
        *fan_in = *fan_out = 1;
    } else if (s->rank == 1) {
        *fan_in = *fan_out = (double)s->dim[0];
    } else {
        double receptive = 1;
        for (int i = 0; i < s->rank - 2; i++) receptive *= (double)s->dim[i];
        *fan_in = (double)s->dim[s->rank - 2] * receptive;
        *fan_out = (double)s->dim[s->rank - 1] * receptive;
    }
}

static double truncated(uint64_t seed, uint64_t i)
{
    for (uint64_t draw = 0;; draw++) {
        double z = standard_normal(seed, i, draw);
        if (fabs(z) <= 2.0) return z;
    }
}

gb_status gb_init_fill(const gb_initializer *init, gb_tensor *t)
{
    int64_t n = gb_shape_elements(&t->shape);
    if (init->kind == GB_INIT_VALUES) {
        const gb_tensor *v = init->values;
        if (!v || v->dtype != t->dtype || !gb_shape_equal(&v->shape, &t->shape))
            return gb_fail(GB_ESHAPE, "the initial value does not match the variable's dtype and shape");
        memcpy(t->data, v->data, (size_t)n * gb_dtype_size(t->dtype));
        return GB_OK;
    }
    double fan_in, fan_out;
    fans(&t->shape, &fan_in, &fan_out);
    double constant = init->kind == GB_INIT_ONES ? 1.0 : init->kind == GB_INIT_CONSTANT ? init->a : 0.0;
    int is_constant = init->kind == GB_INIT_ZEROS || init->kind == GB_INIT_ONES || init->kind == GB_INIT_CONSTANT;
    if (!is_constant && t->dtype != GB_F32 && t->dtype != GB_F64)
        return gb_fail(GB_EINVAL, "random initialisers need a float variable, not %s", gb_dtype_name(t->dtype));
    if (is_constant && !gb_value_fits_dtype(constant, t->dtype))
        return gb_fail(GB_EINVAL, "the constant %g is not a %s value", constant, gb_dtype_name(t->dtype));
    for (int64_t i = 0; i < n; i++) {
        double v, high = INFINITY; /* the uniform kinds' bound, which float32 must stay under */
        uint64_t k = (uint64_t)i, seed = init->seed;
        switch (init->kind) {
        case GB_INIT_UNIFORM:
            v = init->a + (init->b - init->a) * uniform01(seed, k);
            high = init->b;
            break;
        case GB_INIT_NORMAL: v = init->a + init->b * standard_normal(seed, k, 0); break;
        case GB_INIT_TRUNCATED_NORMAL: v = init->a + init->b * truncated(seed, k); break;
        case GB_INIT_GLOROT_UNIFORM: {
            double limit = sqrt(6.0 / (fan_in + fan_out));
            v = -limit + 2 * limit * uniform01(seed, k);
            high = limit;
            break;
        }
        case GB_INIT_GLOROT_NORMAL: v = sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978 * truncated(seed, k); break;
        case GB_INIT_HE_NORMAL: v = sqrt(2.0 / fan_in) / 0.87962566103423978 * truncated(seed, k); break;
        default: v = constant; break;
        }
        switch (t->dtype) {
        case GB_F32: { /* a draw within half a float32 step of high would round up to it */
            float f = (float)v;
            ((float *)t->data)[i] = (double)f >= high && v < high ? nextafterf(f, -INFINITY) : f;
            break;
        }
        case GB_F64: ((double *)t->data)[i] = v; break;
        case GB_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;
        case GB_I64: ((int64_t *)t->data)[i] = (int64_t)v; break;
        case GB_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
        default: break;
        }
    }
    return GB_OK;
}
