/* Gather on CUDA in a training step: an embedding model's step stays on the device (captured
 * and replayed, trained as on the CPU), and a bad index fails the run as it does on the CPU.
 * Needs a GPU or the emulator; counting graph replays needs the emulator. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dlfcn.h>
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
