/* The optimizers' updates on CUDA are queued and launched together, one kernel for every variable
 * a step updates (small models are bound by launches). Queued updates must still run before any
 * later node reads what they write or overwrites what they read. Needs a GPU or the emulator;
 * the launch count needs the emulator. */
#include <criterion/criterion.h>
#include <dlfcn.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

enum { LAYERS = 3, BATCH = 16 };

typedef struct mlp {
    gb_graph *g;
    gb_node *x, *labels, *train, *init, *vars[2 * LAYERS], *after;
} mlp;

/* 12-8-6-3 with biases (6 variables); `after` reads every variable after the step's updates. */
static mlp build_mlp(gb_optimizer opt)
{
    static const int widths[] = {12, 8, 6, 3};
    mlp m = {.g = gb_graph_new()};
    m.x = gb_placeholder(m.g, "x", GB_F32, S(2, -1, widths[0]));
    m.labels = gb_placeholder(m.g, "labels", GB_I32, S(1, -1));
    gb_node *h = m.x;
    for (int l = 0; l < LAYERS; l++) {
        char wname[8], bname[8];
        snprintf(wname, sizeof wname, "w%d", l);
        snprintf(bname, sizeof bname, "b%d", l);
        gb_node *w = gb_variable(m.g, wname, GB_F32, S(2, widths[l], widths[l + 1]), gb_init_glorot_uniform(5 + (uint64_t)l));
        gb_node *b = gb_variable(m.g, bname, GB_F32, S(1, widths[l + 1]), gb_init_constant(0.01 * l));
        m.vars[2 * l] = w, m.vars[2 * l + 1] = b;
        h = gb_add(m.g, gb_matmul(m.g, h, w, 0, 0), b);
        if (l + 1 < LAYERS) h = gb_tanh(m.g, h);
    }
    gb_node *loss = gb_reduce_mean(m.g, gb_sparse_softmax_cross_entropy(m.g, h, m.labels), GB_ALL_AXES, 0);
    m.train = gb_minimize(m.g, opt, loss, NULL, 0);
    gb_node *total = gb_scalar(m.g, 0), *deps[] = {m.train};
    for (int v = 0; v < 2 * LAYERS; v++) {
        gb_node *square = gb_control_deps(gb_square(m.g, m.vars[v]), 1, deps); /* reads v after the updates */
        total = gb_add(m.g, total, gb_reduce_sum(m.g, square, GB_ALL_AXES, 0));
    }
    m.after = total;
    m.init = gb_global_variables_initializer(m.g);
    cr_assert_eq(gb_graph_status(m.g), GB_OK, "%s", gb_graph_errmsg(m.g));
    return m;
}

typedef struct batch {
    gb_tensor *x, *labels;
} batch;

static batch make_batch(void)
{
    batch b = {gb_tensor_new(GB_F32, S(2, BATCH, 12)), gb_tensor_new(GB_I32, S(1, BATCH))};
    for (int i = 0; i < BATCH * 12; i++) ((float *)gb_tensor_data(b.x))[i] = (float)((i * 37) % 23) / 23.0f - 0.5f;
    for (int i = 0; i < BATCH; i++) ((int32_t *)gb_tensor_data(b.labels))[i] = (i * 7) % 3;
    return b;
}

static size_t (*emulator_launches(void **driver))(const char *)
{
    *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    return *driver ? (size_t(*)(const char *))dlsym(*driver, "gb_emu_launches") : NULL;
}

/* Trains both devices in step and compares, run by run (eager, captured, replayed): the value
 * read after the updates, then every variable. */
static void compare_steps(gb_optimizer opt, const char *name, int steps)
{
    mlp m = build_mlp(opt);
    batch b = make_batch();
    gb_feed feeds[] = {{m.x, b.x}, {m.labels, b.labels}};
    gb_session *s[2] = {gb_session_new(m.g, GB_CPU), gb_session_new(m.g, GB_CUDA)};
    for (int d = 0; d < 2; d++) {
        cr_assert_not_null(s[d], "%s", gb_errmsg());
        cr_assert_eq(gb_session_run(s[d], NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    }
    for (int step = 0; step < steps; step++) {
        double after[2];
        for (int d = 0; d < 2; d++) {
            const gb_tensor *out;
            cr_assert_eq(gb_session_run(s[d], feeds, 2, &m.after, 1, &out), GB_OK, "%s: %s", name, gb_errmsg());
            after[d] = gb_tensor_get(out, 0);
        }
        cr_assert_leq(fabs(after[0] - after[1]), 1e-5 * fabs(after[0]),
                      "%s step %d: the sum of squares read after the updates: CPU %.9g, CUDA %.9g", name, step, after[0],
                      after[1]);
    }
    for (int v = 0; v < 2 * LAYERS; v++) {
        const gb_tensor *cpu = gb_session_variable(s[0], m.vars[v]);
        gb_tensor *want = gb_tensor_from(GB_F32, *gb_tensor_shape(cpu), gb_tensor_data(cpu));
        char why[256];
        cr_assert_null(mismatch(want, gb_session_variable(s[1], m.vars[v]), 0, why, sizeof why), "%s: %s: %s", name,
                       gb_node_name(m.vars[v]), why);
        gb_tensor_free(want);
    }
    gb_session_free(s[0]);
    gb_session_free(s[1]);
    gb_tensor_free(b.x);
    gb_tensor_free(b.labels);
    gb_graph_free(m.g);
}

Test(cuda_updates, a_read_after_the_updates_in_the_same_run_sees_them)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    compare_steps(gb_adam(0.05), "adam", 5);
    compare_steps(gb_momentum(0.1, 0.9, 1), "nesterov momentum", 5);
    compare_steps(gb_gradient_descent(0.2), "gradient descent", 5);
}

/* Launches of gb_k_apply in each of three training steps (eager, captured, replayed), and of
 * the kernels the batch replaces. */
static void count_update_launches(gb_optimizer opt, const char *name, size_t want, const char *what)
{
    void *driver;
    size_t (*launches)(const char *) = emulator_launches(&driver);
    if (!launches) cr_skip_test("counting launches needs the emulator (on a GPU: nsys shows them)");
    mlp m = build_mlp(opt);
    batch b = make_batch();
    gb_feed feeds[] = {{m.x, b.x}, {m.labels, b.labels}};
    gb_session *s = gb_session_new(m.g, GB_CUDA);
    cr_assert_eq(gb_session_run(s, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    for (int run = 0; run < 3; run++) {
        size_t before = launches("gb_k_apply"), binary = launches("gb_k_binary"), fill = launches("gb_k_fill");
        cr_assert_eq(gb_session_run(s, feeds, 2, &m.train, 1, NULL), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(launches("gb_k_apply") - before, want, "%s, run %d: %zu launches for %s", name, run,
                     launches("gb_k_apply") - before, what);
        /* the step's one elementwise kernel is the last layer's bias add: no Mul for the powers */
        cr_assert_eq(launches("gb_k_binary") - binary, 1, "%s, run %d: %zu elementwise launches", name, run,
                     launches("gb_k_binary") - binary);
        /* one fill: the loss's OnesLike; global_step += 1 goes with the updates */
        cr_assert_eq(launches("gb_k_fill") - fill, 1, "%s, run %d: %zu fills", name, run, launches("gb_k_fill") - fill);
    }
    gb_session_free(s);
    gb_tensor_free(b.x);
    gb_tensor_free(b.labels);
    gb_graph_free(m.g);
    dlclose(driver);
}

Test(cuda_updates, a_step_updates_every_variable_in_one_launch)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    count_update_launches(gb_momentum(0.1, 0.9, 0), "momentum", 1, "6 variables");
    /* Adam's beta powers advance after every variable used them: one more launch scales both */
    count_update_launches(gb_adam(0.01), "adam", 2, "6 variables and the 2 beta powers");
}

/* AssignAdd is queued too: the value it adds must survive until the batch runs, even when later
 * nodes of the run could take its buffer. */
Test(cuda_updates, an_assign_add_of_a_computed_value_adds_what_was_computed)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    enum { N = 4096 };
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(1, N));
    gb_node *v = gb_variable(g, "v", GB_F32, S(1, N), gb_init_constant(1));
    gb_node *added = gb_assign_add(g, v, gb_mul(g, x, gb_scalar_of(g, GB_F32, 2)));
    gb_node *deps[] = {added};
    gb_node *later = gb_square(g, gb_control_deps(gb_mul(g, x, gb_scalar_of(g, GB_F32, 3)), 1, deps));
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CUDA);
    cr_assert_not_null(s, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *xt = gb_tensor_new(GB_F32, S(1, N));
    for (int i = 0; i < N; i++) ((float *)gb_tensor_data(xt))[i] = (float)(i % 17);
    gb_feed feeds[] = {{x, xt}};
    gb_node *fetches[] = {added, later};
    for (int run = 1; run <= 3; run++) { /* eager, captured, replayed */
        const gb_tensor *out[2];
        cr_assert_eq(gb_session_run(s, feeds, 1, fetches, 2, out), GB_OK, "%s", gb_errmsg());
        const float *sum = gb_tensor_data(gb_session_variable(s, v)), *sq = gb_tensor_data(out[1]);
        for (int i = 0; i < N; i++) {
            float xi = (float)(i % 17);
            cr_assert_eq(sum[i], 1 + run * 2 * xi, "run %d: v[%d] = %g", run, i, sum[i]);
            cr_assert_eq(sq[i], 9 * xi * xi, "run %d: later[%d] = %g", run, i, sq[i]);
        }
    }
    gb_tensor_free(xt);
    gb_session_free(s);
    gb_graph_free(g);
}
