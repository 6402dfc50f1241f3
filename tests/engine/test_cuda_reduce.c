/* Long reductions with few outputs on CUDA (a whole-tensor sum, a bias gradient over many rows):
 * their elements are split among blocks and a second kernel combines the blocks' results. They
 * must match the CPU within a float32 rounding, NaN and infinities included, and give the same
 * bits in every run (eager, captured, replayed). argmax over long rows (a warp per row) must pick
 * the CPU's index. Needs a GPU or the emulator; counting the second kernel needs the emulator. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

typedef struct reduction {
    const char *name;
    gb_shape shape;
    unsigned axes;
    int max; /* reduce_max, else reduce_mean */
} reduction;

/* The emulator's count of the combining kernel's runs; NULL on a GPU. */
static size_t (*emulator_launches(void))(const char *)
{
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    return driver ? (size_t(*)(const char *))dlsym(driver, "gb_emu_launches") : NULL;
}

static void check(const reduction *r, float special)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, r->shape);
    gb_node *y = r->max ? gb_reduce_max(g, x, r->axes, 0) : gb_reduce_mean(g, x, r->axes, 0);
    gb_tensor *value = gb_tensor_new(GB_F32, r->shape);
    float *data = gb_tensor_data(value);
    int64_t n = gb_tensor_elements(value);
    for (int64_t i = 0; i < n; i++) data[i] = 1.0f + (float)(i % 13) * 0.01f - (float)(i % 7 == 0) * 0.75f;
    if (special == special) data[n / 2 + 3] = special;
    else data[n / 3] = special;
    gb_feed feed = {x, value};
    gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
    const gb_tensor *want, *got;
    cr_assert_eq(gb_session_run(cpu, &feed, 1, &y, 1, &want), GB_OK, "%s", gb_errmsg());
    gb_tensor *first = NULL;
    size_t (*launches)(const char *) = emulator_launches();
    for (int run = 0; run < 3; run++) {
        size_t before = launches ? launches("gb_k_reduce_finish") : 0;
        cr_assert_eq(gb_session_run(cuda, &feed, 1, &y, 1, &got), GB_OK, "%s", gb_errmsg());
        cr_assert(!launches || launches("gb_k_reduce_finish") == before + 1, "%s: not split", r->name);
        for (int64_t o = 0; o < gb_tensor_elements(want); o++) {
            double a = gb_tensor_get(want, o), b = gb_tensor_get(got, o);
            int same = isnan(a) ? isnan(b) : isinf(a) ? a == b : fabs(a - b) <= fabs(a) * 0x1p-23;
            cr_assert(same, "%s (special %g), run %d, output %lld: CUDA %.9g, CPU %.9g", r->name, special, run,
                      (long long)o, b, a);
        }
        if (!first) first = gb_tensor_from(GB_F32, *gb_tensor_shape(got), gb_tensor_data(got));
        cr_assert_eq(memcmp(gb_tensor_data(first), gb_tensor_data(got), gb_tensor_elements(got) * sizeof(float)), 0,
                     "%s: run %d differs from the first", r->name, run);
    }
    gb_tensor_free(first);
    gb_session_free(cuda);
    gb_session_free(cpu);
    gb_tensor_free(value);
    gb_graph_free(g);
}

Test(cuda_reduce, few_outputs_over_many_elements_split_among_blocks)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    const reduction cases[] = {
        {"mean of everything", S(2, 1024, 1024), GB_ALL_AXES, 0},
        {"max of everything", S(2, 1024, 1024), GB_ALL_AXES, 1},
        {"row means of 5 long rows", S(2, 5, 300007), GB_AXIS(1), 0},
        {"bias gradient over 131072 rows", S(2, 131072, 16), GB_AXIS(0), 0},
        {"column maxima over 131072 rows", S(2, 131072, 16), GB_AXIS(0), 1},
        {"strided: axes 0 and 2 of [64, 3, 4099]", S(3, 64, 3, 4099), GB_AXIS(0) | GB_AXIS(2), 0},
    };
    const float specials[] = {1.5f, NAN, INFINITY, -INFINITY};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t s = 0; s < sizeof specials / sizeof *specials; s++) check(&cases[c], specials[s]);
}

/* Rows of 50 000 with the maximum tied at several places, a NaN late in the row, two NaNs: the
 * first maximum, the first NaN, as on the CPU (and NumPy). */
Test(cuda_reduce, argmax_over_long_rows_picks_the_cpus_index)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    enum { ROWS = 6, COLS = 50000 };
    static const gb_dtype dtypes[] = {GB_F32, GB_F64, GB_I32, GB_I64};
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++) {
        int is_float = dtypes[d] == GB_F32 || dtypes[d] == GB_F64;
        gb_graph *g = gb_graph_new();
        gb_node *x = gb_placeholder(g, "x", dtypes[d], S(2, ROWS, COLS)), *y = gb_argmax(g, x);
        gb_tensor *value = gb_tensor_new(dtypes[d], S(2, ROWS, COLS));
        double *row = malloc(sizeof(double) * COLS);
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) row[c] = (double)((c * 7919 + r) % 1000);
            if (r == 1) row[40001] = row[777] = row[33] = 5000;      /* ties: 33 */
            if (r == 2) row[COLS - 1] = 5000;                        /* the last element */
            if (r == 3 && is_float) row[45000] = NAN;                /* a NaN beats every number */
            if (r == 4 && is_float) row[49999] = row[31] = NAN;      /* the first NaN: 31 */
            if (r == 5) row[0] = 5000, row[32] = 5000;               /* lane 0 holds both */
            for (int c = 0; c < COLS; c++) {
                int64_t i = (int64_t)r * COLS + c;
                switch (dtypes[d]) {
                case GB_F32: ((float *)gb_tensor_data(value))[i] = (float)row[c]; break;
                case GB_F64: ((double *)gb_tensor_data(value))[i] = row[c]; break;
                case GB_I32: ((int32_t *)gb_tensor_data(value))[i] = (int32_t)row[c]; break;
                default: ((int64_t *)gb_tensor_data(value))[i] = (int64_t)row[c]; break;
                }
            }
        }
        gb_feed feed = {x, value};
        gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
        const gb_tensor *want, *got;
        cr_assert_eq(gb_session_run(cpu, &feed, 1, &y, 1, &want), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_session_run(cuda, &feed, 1, &y, 1, &got), GB_OK, "%s", gb_errmsg());
        for (int r = 0; r < ROWS; r++)
            cr_assert_eq(gb_tensor_get(got, r), gb_tensor_get(want, r), "%s row %d: CUDA %g, CPU %g",
                         gb_dtype_name(dtypes[d]), r, gb_tensor_get(got, r), gb_tensor_get(want, r));
        cr_assert_eq(gb_tensor_get(want, 1), 33);
        cr_assert_eq(gb_tensor_get(want, 5), 0);
        if (is_float) cr_assert_eq(gb_tensor_get(want, 4), 31);
        free(row);
        gb_session_free(cuda);
        gb_session_free(cpu);
        gb_tensor_free(value);
        gb_graph_free(g);
    }
}
