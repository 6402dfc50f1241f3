#include "gradboard/init.h"

#include <math.h>
#include <string.h>

#include "internal/error.h"
#include "internal/parallel.h"
#include "internal/philox.h"
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

/* A standard normal from one Philox block (Box-Muller). */
static double normal_of(const uint32_t w[4])
{
    double u1 = unit(w[0], w[1]), u2 = unit(w[2], w[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
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

/* Element i's standard normal within two standard deviations: its first draw (from block
 * first, counter (0, i)), else draws 1, 2, ... (counters (draw, i)) until one falls inside. */
static double truncated(uint64_t seed, uint64_t i, const uint32_t first[4])
{
    double z = normal_of(first);
    for (uint64_t draw = 1; fabs(z) > 2.0; draw++) {
        uint32_t w[4];
        gb_philox4x32(seed, draw, i, w);
        z = normal_of(w);
    }
    return z;
}

/* One fill's parameters, shared by the chunks that write it. */
typedef struct fill_job {
    const gb_initializer *init;
    gb_tensor *t;
    double constant;
    double limit; /* Glorot uniform's bound */
    double scale; /* Glorot and He normal's: the standard deviation over the truncation's */
    int random;   /* a random kind: Philox blocks are drawn */
} fill_job;

enum { FILL_BATCH = 256 }; /* elements whose first Philox blocks are drawn together (SIMD lanes) */

/* Element i's value, from w: its first Philox block (counter (0, i)). */
static double element_value(const fill_job *job, int64_t i, const uint32_t w[4], double *high)
{
    const gb_initializer *init = job->init;
    uint64_t seed = init->seed;
    switch (init->kind) {
    case GB_INIT_UNIFORM: *high = init->b; return init->a + (init->b - init->a) * unit(w[0], w[1]);
    case GB_INIT_NORMAL: return init->a + init->b * normal_of(w);
    case GB_INIT_TRUNCATED_NORMAL: return init->a + init->b * truncated(seed, (uint64_t)i, w);
    case GB_INIT_GLOROT_UNIFORM: *high = job->limit; return -job->limit + 2 * job->limit * unit(w[0], w[1]);
    case GB_INIT_GLOROT_NORMAL: case GB_INIT_HE_NORMAL: return job->scale * truncated(seed, (uint64_t)i, w);
    default: return job->constant;
    }
}

/* Elements [begin, end): each draws from its own counters, so chunks can run anywhere. */
static void fill_range(void *ctx, int64_t begin, int64_t end)
{
    const fill_job *job = ctx;
    gb_tensor *t = job->t;
    uint32_t words[4 * FILL_BATCH] = {0};
    for (int64_t at = begin; at < end; at += FILL_BATCH) {
        int64_t count = end - at < FILL_BATCH ? end - at : FILL_BATCH;
        if (job->random) gb_philox4x32_blocks(job->init->seed, 0, (uint64_t)at, 1, (size_t)count, words);
        for (int64_t j = 0; j < count; j++) {
            int64_t i = at + j;
            double high = INFINITY; /* the uniform kinds' bound, which float32 must stay under */
            double v = element_value(job, i, words + 4 * j, &high);
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
    fill_job job = {init, t, 0, 0, 0, 0};
    double fan_in, fan_out;
    fans(&t->shape, &fan_in, &fan_out);
    job.limit = sqrt(6.0 / (fan_in + fan_out));
    /* 0.8796...: the standard deviation of a standard normal truncated at two */
    job.scale = sqrt(2.0 / (init->kind == GB_INIT_HE_NORMAL ? fan_in : fan_in + fan_out)) / 0.87962566103423978;
    job.constant = init->kind == GB_INIT_ONES ? 1.0 : init->kind == GB_INIT_CONSTANT ? init->a : 0.0;
    int is_constant = init->kind == GB_INIT_ZEROS || init->kind == GB_INIT_ONES || init->kind == GB_INIT_CONSTANT;
    if (!is_constant && t->dtype != GB_F32 && t->dtype != GB_F64)
        return gb_fail(GB_EINVAL, "random initialisers need a float variable, not %s", gb_dtype_name(t->dtype));
    if (is_constant && !gb_value_fits_dtype(job.constant, t->dtype))
        return gb_fail(GB_EINVAL, "the constant %g is not a %s value", job.constant, gb_dtype_name(t->dtype));
    job.random = !is_constant;
    gb_parallel_for(n, is_constant ? 1 << 18 : 1 << 14, fill_range, &job);
    return GB_OK;
}
