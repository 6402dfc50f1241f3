/* Gather on CUDA in a training step: an embedding model's step stays on the device (captured
 * and replayed, trained as on the CPU), and a bad index fails the run as it does on the CPU.
 * Needs a GPU or the emulator; counting graph replays needs the emulator. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

/* An embedding model's step (rows gathered from a variable, their gradient added back at the
 * indices, a slice and a concat on the way) runs all on the device: it is captured as a CUDA
 * graph and replayed, and trains as on the CPU. */
Test(cuda_gather, an_embedding_step_is_captured_and_replayed)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *ids = gb_placeholder(g, "ids", GB_I32, S(1, -1)), *labels = gb_placeholder(g, "labels", GB_I32, S(1, -1));
    gb_node *table = gb_variable(g, "embeddings", GB_F32, S(2, 50, 8), gb_init_uniform(-1, 1, 7));
    gb_node *rows = gb_gather(g, table, ids);
    gb_node *both[] = {gb_slice(g, rows, S(2, 0, 0), S(2, -1, 3)), gb_tanh(g, rows)};
    gb_node *w = gb_variable(g, "w", GB_F32, S(2, 11, 5), gb_init_glorot_uniform(8));
    gb_node *logits = gb_matmul(g, gb_concat(g, 2, both, 1), w, 0, 0);
    gb_node *loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, logits, labels), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(g, gb_adam(0.05), loss, NULL, 0), *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *iv = gb_tensor_from(GB_I32, S(1, 6), (int32_t[]){3, 17, 3, 49, 0, 17});
    gb_tensor *lv = gb_tensor_from(GB_I32, S(1, 6), (int32_t[]){0, 1, 0, 4, 2, 1});
    gb_feed feeds[] = {{ids, iv}, {labels, lv}};
    gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
    cr_assert_eq(gb_session_run(cpu, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(cuda, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    size_t (*replays)(void) = driver ? (size_t(*)(void))dlsym(driver, "gb_emu_graph_launches") : NULL;
    size_t before = replays ? replays() : 0;
    for (int step = 0; step < 5; step++) {
        cr_assert_eq(gb_session_run(cpu, feeds, 2, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_session_run(cuda, feeds, 2, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
    }
    /* run 1 eager; run 2 captured, then launched as a graph like runs 3 to 5 */
    if (replays) cr_assert_eq(replays() - before, 4, "%zu of 5 steps ran as a graph", replays() - before);
    gb_node *vars[] = {table, w};
    for (int v = 0; v < 2; v++) {
        char why[256];
        const char *bad = mismatch(gb_session_variable(cpu, vars[v]), gb_session_variable(cuda, vars[v]), 1, why,
                                   sizeof why);
        cr_assert_null(bad, "%s after 5 steps: %s", gb_node_name(vars[v]), why);
    }
    if (driver) dlclose(driver);
    gb_session_free(cuda);
    gb_session_free(cpu);
    gb_tensor_free(iv);
    gb_tensor_free(lv);
    gb_graph_free(g);
}

/* A gather with an index outside the table fails the run with the CPU's message, naming the
 * first bad index even when several threads find one; the CPU stops there, so a Print after it
 * (a host op) prints nothing, and with numeric checks on the gathered rows hold no leftovers
 * that could be blamed instead. */
Test(cuda_gather, a_bad_index_fails_the_run_as_on_the_cpu, .init = cr_redirect_stderr)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *table = gb_placeholder(g, "table", GB_F32, S(2, 20, 64)), *ids = gb_placeholder(g, "ids", GB_I32, S(1, -1));
    gb_node *rows = gb_gather(g, table, ids);
    gb_node *printed = gb_print(g, rows, "rows: ", 1, &rows, 3);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *tv = gb_tensor_new(GB_F32, S(2, 20, 64));
    int32_t bad[300];
    for (int i = 0; i < 300; i++) bad[i] = i % 20;
    bad[77] = 25, bad[290] = -1, bad[150] = 99; /* three bad ones, in different blocks' reach */
    gb_tensor *iv = gb_tensor_from(GB_I32, S(1, 300), bad);
    gb_feed feeds[] = {{table, tv}, {ids, iv}};
    for (int checking = 0; checking < 2; checking++) {
        char want[512];
        gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
        gb_session_set_check_numerics(cpu, checking);
        gb_session_set_check_numerics(cuda, checking);
        cr_assert_eq(gb_session_run(cpu, feeds, 2, &printed, 1, NULL), GB_EINVAL);
        snprintf(want, sizeof want, "%s", gb_errmsg());
        cr_assert(strstr(want, "index 25 at position 77 is outside [0, 20)"), "%s", want);
        for (int run = 0; run < 2; run++) {
            cr_assert_eq(gb_session_run(cuda, feeds, 2, &printed, 1, NULL), GB_EINVAL, "%s", gb_errmsg());
            cr_assert_str_eq(gb_errmsg(), want);
            cr_assert_eq(gb_session_run(cuda, feeds, 2, &rows, 1, NULL), GB_EINVAL, "%s", gb_errmsg());
            cr_assert(strstr(gb_errmsg(), "index 25 at position 77 is outside [0, 20)"), "%s", gb_errmsg());
        }
        gb_session_free(cuda);
        gb_session_free(cpu);
    }
    fflush(stderr);
    cr_assert_stderr_eq_str("", "a Print after the failed gather printed");
    gb_tensor_free(tv);
    gb_tensor_free(iv);
    gb_graph_free(g);
}

/* d(table) of y = gather(table, ids) for the fed ids and dy, copied out of the session (the caller
 * frees it). With reverse given (the emulator), its blocks and threads run last to first if
 * reversed is set. */
static gb_tensor *table_gradient(gb_session *s, gb_node *dx, const gb_feed *feeds, void (*reverse)(int), int reversed)
{
    if (reverse) reverse(reversed);
    const gb_tensor *out[1];
    gb_status st = gb_session_run(s, feeds, 3, &dx, 1, out);
    if (reverse) reverse(0);
    cr_assert_eq(st, GB_OK, "%s", gb_errmsg());
    return gb_tensor_from(gb_tensor_dtype(out[0]), *gb_tensor_shape(out[0]), gb_tensor_data(out[0]));
}

/* Float sums depend on their order. Rows that share an index are added in the indices' order,
 * as on the CPU, whatever order the GPU runs its blocks in: the gradient is the same bits run to
 * run (PyTorch's embedding gradient is too), and the CPU's bits while an index repeats at most
 * 128 times. Longer runs of one index (a padding id) are added in fixed chunks. */
Test(cuda_gather, repeated_rows_add_in_index_order_whatever_the_schedule)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    void (*reverse)(int) = driver ? (void (*)(int))dlsym(driver, "gb_emu_set_reverse_order") : NULL;
    enum { ROWS = 7, WIDTH = 40, SHORT = 600, LONG = 5000 };
    gb_graph *g = gb_graph_new();
    gb_node *table = gb_placeholder(g, "table", GB_F32, S(2, ROWS, WIDTH)), *ids = gb_placeholder(g, "ids", GB_I32, S(1, -1));
    gb_node *dy = gb_placeholder(g, "dy", GB_F32, S(2, -1, WIDTH)), *dx;
    cr_assert_eq(gb_gradients_with(g, gb_gather(g, table, ids), dy, &table, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    static int32_t index[LONG];
    static float rows[LONG * WIDTH];
    uint32_t seed = 12345;
    for (int64_t i = 0; i < (int64_t)LONG * WIDTH; i++) { /* magnitudes from 1e-4 to 1e8, either sign */
        seed = seed * 1664525u + 1013904223u;
        rows[i] = (float)((seed >> 8) / 16777216.0 - 0.5) * powf(10.0f, (float)(seed % 13) - 4);
    }
    for (int n = SHORT; n <= LONG; n += LONG - SHORT) {
        for (int i = 0; i < n; i++) /* SHORT: about 86 of each; LONG: most are row 2 (padding) */
            index[i] = n == SHORT ? (i * 5 + i / 7) % ROWS : (i % 9 == 4 ? i % ROWS : 2);
        index[17] = -1, index[400] = ROWS + 3; /* skipped, as on the CPU (dy fed: no gather ran to refuse them) */
        gb_tensor *tv = gb_tensor_new(GB_F32, S(2, ROWS, WIDTH)), *iv = gb_tensor_from(GB_I32, S(1, n), index);
        gb_tensor *dv = gb_tensor_from(GB_F32, S(2, n, WIDTH), rows);
        gb_feed feeds[] = {{table, tv}, {ids, iv}, {dy, dv}};
        gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
        gb_tensor *want = table_gradient(cpu, dx, feeds, NULL, 0);
        gb_tensor *forward = table_gradient(cuda, dx, feeds, reverse, 0);
        gb_tensor *backward = table_gradient(cuda, dx, feeds, reverse, 1);
        cr_assert_eq(memcmp(gb_tensor_data(forward), gb_tensor_data(backward), gb_tensor_bytes(want)), 0,
                     "%d indices: the gradient changed with the order blocks ran in", n);
        char why[256];
        if (n == SHORT)
            cr_assert_eq(memcmp(gb_tensor_data(want), gb_tensor_data(forward), gb_tensor_bytes(want)), 0,
                         "%d indices: not the CPU's bits (%s)", n,
                         mismatch(want, forward, 0, why, sizeof why) ? why : "within tolerance");
        else
            cr_assert_null(mismatch(want, forward, 0, why, sizeof why), "%d indices: %s", n, why);
        gb_tensor *results[] = {want, forward, backward, tv, iv, dv};
        for (int i = 0; i < 6; i++) gb_tensor_free(results[i]);
        gb_session_free(cuda);
        gb_session_free(cpu);
    }
    if (driver) dlclose(driver);
    gb_graph_free(g);
}

static void set_element(gb_tensor *t, int64_t i, double v)
{
    switch (gb_tensor_dtype(t)) {
    case GB_F32: ((float *)gb_tensor_data(t))[i] = (float)v; break;
    case GB_F64: ((double *)gb_tensor_data(t))[i] = v; break;
    case GB_I32: ((int32_t *)gb_tensor_data(t))[i] = (int32_t)v; break;
    default: ((int64_t *)gb_tensor_data(t))[i] = (int64_t)v; break;
    }
}

/* The sort behind gather's gradient, at the counts around its block size (512 keys) and powers of
 * two: the CPU's bits for indices drawn at random, int32 and int64, float32 and float64. */
Test(cuda_gather, the_gradient_sorts_any_count_of_indices)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    enum { ROWS = 300, WIDTH = 3 };
    const int counts[] = {1, 2, 3, 31, 32, 33, 255, 511, 512, 513, 1023, 1025, 2048, 4097};
    const gb_dtype index_types[] = {GB_I32, GB_I64}, value_types[] = {GB_F32, GB_F64};
    uint32_t seed = 99;
    for (int t = 0; t < 2; t++) {
        gb_graph *g = gb_graph_new();
        gb_node *table = gb_placeholder(g, "table", value_types[t], S(2, ROWS, WIDTH));
        gb_node *ids = gb_placeholder(g, "ids", index_types[t], S(1, -1));
        gb_node *dy = gb_placeholder(g, "dy", value_types[t], S(2, -1, WIDTH)), *dx;
        cr_assert_eq(gb_gradients_with(g, gb_gather(g, table, ids), dy, &table, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
        gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            int n = counts[c];
            gb_tensor *tv = gb_tensor_new(value_types[t], S(2, ROWS, WIDTH)), *iv = gb_tensor_new(index_types[t], S(1, n));
            gb_tensor *dv = gb_tensor_new(value_types[t], S(2, n, WIDTH));
            for (int i = 0; i < n; i++) {
                seed = seed * 1664525u + 1013904223u;
                set_element(iv, i, (double)(seed % ROWS));
            }
            for (int i = 0; i < n * WIDTH; i++) {
                seed = seed * 1664525u + 1013904223u;
                set_element(dv, i, ((seed >> 8) / 16777216.0 - 0.5) * pow(10.0, (double)(seed % 9) - 3));
            }
            gb_feed feeds[] = {{table, tv}, {ids, iv}, {dy, dv}};
            gb_tensor *want = table_gradient(cpu, dx, feeds, NULL, 0), *got = table_gradient(cuda, dx, feeds, NULL, 0);
            char why[256];
            cr_assert_eq(memcmp(gb_tensor_data(want), gb_tensor_data(got), gb_tensor_bytes(want)), 0,
                         "%d indices, %s: not the CPU's bits (%s)", n, gb_dtype_name(value_types[t]),
                         mismatch(want, got, 0, why, sizeof why) ? why : "within tolerance");
            gb_tensor *made[] = {want, got, tv, iv, dv};
            for (int i = 0; i < 5; i++) gb_tensor_free(made[i]);
        }
        gb_session_free(cuda);
        gb_session_free(cpu);
        gb_graph_free(g);
    }
}
