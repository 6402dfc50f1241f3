/* Shared by the CUDA tests: CUDA results against the CPU's, and whether a device is here. */
#ifndef GB_TEST_CUDA_COMPARE_H
#define GB_TEST_CUDA_COMPARE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gradboard/engine.h"

static inline int is_float(gb_dtype t) { return t == GB_F32 || t == GB_F64; }

/* The element-wise comparison; returns a description of the first mismatch, or NULL. Float
 * errors are relative to the element or to `scale` (the mean magnitude of the values involved),
 * whichever is larger: sums that cancel keep the absolute error of their terms. */
static inline const char *mismatch(const gb_tensor *cpu, const gb_tensor *cuda, double scale, char *why, size_t size)
{
    if (gb_tensor_dtype(cpu) != gb_tensor_dtype(cuda) || !gb_shape_equal(gb_tensor_shape(cpu), gb_tensor_shape(cuda))) {
        snprintf(why, size, "dtype or shape differs");
        return why;
    }
    int64_t n = gb_tensor_elements(cpu);
    gb_dtype t = gb_tensor_dtype(cpu);
    double mean = 0;
    for (int64_t i = 0; i < n; i++) mean += fabs(gb_tensor_get(cpu, i)) / (double)n;
    mean = fmax(mean, scale);
    double tolerance = t == GB_F32 ? 1e-5 : 1e-10;
    for (int64_t i = 0; i < n; i++) {
        double a = gb_tensor_get(cpu, i), b = gb_tensor_get(cuda, i);
        int same = is_float(t) ? (isnan(a) && isnan(b)) || a == b || fabs(a - b) <= tolerance * fmax(fabs(a), mean)
                               : a == b;
        if (!same) {
            snprintf(why, size, "element %lld: CPU %.9g, CUDA %.9g (mean magnitude %.3g)", (long long)i, a, b, mean);
            return why;
        }
    }
    return NULL;
}

static inline int cuda_ready(void)
{
    unsetenv("GB_FORCE_DEVICE"); /* this test picks each session's device itself */
    return gb_device_available(GB_CUDA) == GB_OK;
}

#endif
