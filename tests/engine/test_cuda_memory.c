/* A CUDA session out of device memory: a run that does not fit fails with GB_ENOMEM saying how
 * much it asked and how much was free, and changes nothing; a new plan takes the memory of the
 * other cached plans (other batch sizes, other fetches) before giving up, as PyTorch's allocator
 * empties its cache. Shrinking the device needs the CUDA emulator's hooks. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <string.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

enum { WIDTH = 256 };

typedef struct emulator {
    void *driver;
    size_t (*in_use)(void);
    void (*set_memory)(size_t bytes);
} emulator;

static emulator open_emulator(void)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    emulator e = {.driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD)};
    if (e.driver) {
        e.in_use = (size_t(*)(void))dlsym(e.driver, "gb_emu_device_bytes_in_use");
        e.set_memory = (void (*)(size_t))dlsym(e.driver, "gb_emu_set_device_memory");
    }
    if (!e.in_use || !e.set_memory) cr_skip_test("limiting the device's memory needs the CUDA emulator");
    return e;
}

static void close_emulator(emulator *e)
{
    e->set_memory(0);
    dlclose(e->driver);
}

typedef struct model {
    gb_graph *g;
    gb_node *x, *w, *train, *init;
} model;

/* loss = mean((x w)^2), w [256, 256], plain SGD. */
static model build_model(void)
{
    model m = {.g = gb_graph_new()};
    m.x = gb_placeholder(m.g, "x", GB_F32, S(2, -1, WIDTH));
    m.w = gb_variable(m.g, "w", GB_F32, S(2, WIDTH, WIDTH), gb_init_glorot_uniform(3));
    gb_node *loss = gb_reduce_mean(m.g, gb_square(m.g, gb_matmul(m.g, m.x, m.w, 0, 0)), GB_ALL_AXES, 0);
    m.train = gb_minimize(m.g, gb_gradient_descent(0.01), loss, NULL, 0);
    m.init = gb_global_variables_initializer(m.g);
    cr_assert_eq(gb_graph_status(m.g), GB_OK, "%s", gb_graph_errmsg(m.g));
    return m;
}

static gb_tensor *batch_of(int64_t rows)
{
    gb_tensor *t = gb_tensor_new(GB_F32, S(2, rows, WIDTH));
    float *d = gb_tensor_data(t);
    for (int64_t i = 0; i < rows * WIDTH; i++) d[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    return t;
}

static gb_status step(gb_session *s, const model *m, int64_t rows)
{
    gb_tensor *x = batch_of(rows);
    gb_feed feed = {m->x, x};
    gb_status st = gb_session_run(s, &feed, 1, &m->train, 1, NULL);
    gb_tensor_free(x);
    return st;
}

static gb_tensor *weights(gb_session *s, const model *m)
{
    const gb_tensor *w = gb_session_variable(s, m->w);
    cr_assert_not_null(w, "%s", gb_errmsg());
    return gb_tensor_from(GB_F32, *gb_tensor_shape(w), gb_tensor_data(w));
}

Test(cuda_memory, a_run_that_does_not_fit_fails_with_the_sizes_and_changes_nothing)
{
    emulator e = open_emulator();
    model m = build_model();
    gb_session *s = gb_session_new(m.g, GB_CUDA);
    cr_assert_eq(gb_session_run(s, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(step(s, &m, 64), GB_OK, "%s", gb_errmsg());
    gb_tensor *before = weights(s, &m);
    e.set_memory(e.in_use() + (64 << 10)); /* a batch of 4096 rows alone is 4 MiB */
    cr_assert_eq(step(s, &m, 4096), GB_ENOMEM, "a plan past the device's memory: %s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "out of device memory for this run's tensors") && strstr(gb_errmsg(), "MiB asked") &&
                  strstr(gb_errmsg(), "MiB free of"),
              "%s", gb_errmsg());
    gb_tensor *after = weights(s, &m);
    cr_assert_eq(memcmp(gb_tensor_data(before), gb_tensor_data(after), WIDTH * WIDTH * sizeof(float)), 0,
                 "the failed run changed w");
    /* the batch that fitted still does, its plan prepared again if it gave its memory away */
    cr_assert_eq(step(s, &m, 64), GB_OK, "%s", gb_errmsg());
    gb_tensor_free(before);
    gb_tensor_free(after);
    gb_session_free(s);
    gb_graph_free(m.g);
    close_emulator(&e);
}

Test(cuda_memory, a_new_plan_takes_the_memory_of_the_other_cached_plans)
{
    emulator e = open_emulator();
    model m = build_model();
    gb_session *gpu = gb_session_new(m.g, GB_CUDA), *cpu = gb_session_new(m.g, GB_CPU);
    cr_assert_eq(gb_session_run(gpu, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(cpu, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    size_t before_plans = e.in_use();
    cr_assert_eq(step(gpu, &m, 2048), GB_OK, "%s", gb_errmsg());
    size_t one_plan = e.in_use() - before_plans;
    cr_assert_gt(one_plan, (size_t)2048 * WIDTH * sizeof(float), "the plan holds at least its input");
    /* room for one such plan, not two: each new batch size must take the last one's memory */
    e.set_memory(e.in_use() + one_plan / 2);
    static const int64_t sizes[] = {2040, 2048, 2000, 2040, 2048};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (int repeat = 0; repeat < 3; repeat++) { /* eager, captured, replayed */
            cr_assert_eq(step(gpu, &m, sizes[i]), GB_OK, "batch %lld: %s", (long long)sizes[i], gb_errmsg());
            cr_assert_eq(step(cpu, &m, sizes[i]), GB_OK, "%s", gb_errmsg());
        }
    }
    gb_tensor *want = weights(cpu, &m), *got = weights(gpu, &m);
    char why[256];
    cr_assert_null(mismatch(want, got, 1, why, sizeof why), "w after the steps: %s", why);
    gb_tensor_free(want);
    gb_tensor_free(got);
    gb_session_free(gpu);
    gb_session_free(cpu);
    gb_graph_free(m.g);
    close_emulator(&e);
}

Test(cuda_memory, a_variable_that_does_not_fit_is_named)
{
    emulator e = open_emulator();
    gb_graph *g = gb_graph_new();
    gb_node *big = gb_variable(g, "big", GB_F32, S(2, 2048, 2048), gb_init_zeros()); /* 16 MiB */
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CUDA);
    gb_tensor *value = gb_tensor_new(GB_F32, S(2, 2048, 2048));
    e.set_memory(e.in_use() + (8 << 20));
    cr_assert_eq(gb_session_assign(s, big, value), GB_ENOMEM, "%s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "out of device memory for variable big: 16.0 MiB asked, 8.0 MiB free of"), "%s",
              gb_errmsg());
    e.set_memory(0);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "with the memory back: %s", gb_errmsg());
    gb_tensor_free(value);
    gb_session_free(s);
    gb_graph_free(g);
    close_emulator(&e);
}

/* The outputs of the last run stay valid (session.h) when an allocation outside a run, here a
 * variable's first assignment, runs out of memory and the cached plans give theirs back. */
Test(cuda_memory, an_allocation_between_runs_keeps_the_last_runs_outputs)
{
    emulator e = open_emulator();
    model m = build_model();
    gb_node *big = gb_variable(m.g, "big", GB_F32, S(2, 1024, 1024), gb_init_zeros()); /* 4 MiB */
    gb_node *y = gb_matmul(m.g, m.x, m.w, 0, 0);
    gb_session *s = gb_session_new(m.g, GB_CUDA);
    cr_assert_eq(gb_session_run(s, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *x = batch_of(8);
    gb_feed feed = {m.x, x};
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "%s", gb_errmsg());
    double first = gb_tensor_get(out, 0), last = gb_tensor_get(out, 8 * WIDTH - 1);
    e.set_memory(e.in_use() + (1 << 20));
    gb_tensor *value = gb_tensor_new(GB_F32, S(2, 1024, 1024));
    cr_assert_eq(gb_session_assign(s, big, value), GB_ENOMEM, "%s", gb_errmsg());
    cr_assert_eq(gb_tensor_get(out, 0), first);
    cr_assert_eq(gb_tensor_get(out, 8 * WIDTH - 1), last);
    gb_tensor_free(value);
    gb_tensor_free(x);
    gb_session_free(s);
    gb_graph_free(m.g);
    close_emulator(&e);
}

/* A constant first placed by a run that also trains: it gets its memory before any node runs,
 * so running out fails the run before an update is queued. */
Test(cuda_memory, a_run_out_of_memory_for_a_constant_changes_no_variable)
{
    emulator e = open_emulator();
    model m = build_model();
    gb_tensor *ones = gb_tensor_new(GB_F32, S(2, 1024, 1024)); /* 4 MiB */
    gb_node *z = gb_reduce_sum(m.g, gb_constant(m.g, "big", ones), GB_ALL_AXES, 0);
    gb_session *s = gb_session_new(m.g, GB_CUDA);
    cr_assert_eq(gb_session_run(s, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *before = weights(s, &m), *x = batch_of(64);
    gb_feed feed = {m.x, x};
    gb_node *fetches[] = {m.train, z};
    e.set_memory(e.in_use() + (2 << 20)); /* the run's tensors fit, the constant does not */
    cr_assert_eq(gb_session_run(s, &feed, 1, fetches, 2, NULL), GB_ENOMEM, "%s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "out of device memory for constant big"), "%s", gb_errmsg());
    gb_tensor *after = weights(s, &m);
    cr_assert_eq(memcmp(gb_tensor_data(before), gb_tensor_data(after), WIDTH * WIDTH * sizeof(float)), 0,
                 "the failed run changed w");
    gb_tensor_free(before);
    gb_tensor_free(after);
    gb_tensor_free(ones);
    gb_tensor_free(x);
    gb_session_free(s);
    gb_graph_free(m.g);
    close_emulator(&e);
}
