/* bench_engine: time per training step of the engine, on the workloads of the engine issue.
 * Prints "name value unit" lines that tools/bench/run.sh compares with PyTorch's.
 *
 *   bench_engine [--quick] [seed|small|big|init]     (default: all four)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_mlp.h"
#include "bench_util.h"
#include "gradboard/engine.h"

static void check(gb_status st, const char *what)
{
    if (st != GB_OK) {
        fprintf(stderr, "bench_engine: %s: %s\n", what, gb_errmsg());
        exit(1);
    }
}

/* Runs fetch `steps` times after `warmup` runs; returns seconds per run (best of `reps`). */
static double time_runs(gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *fetch, int warmup, int steps, int reps)
{
    for (int i = 0; i < warmup; i++) check(gb_session_run(s, feeds, n_feeds, &fetch, 1, NULL), "warm-up");
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        for (int i = 0; i < steps; i++) check(gb_session_run(s, feeds, n_feeds, &fetch, 1, NULL), "step");
        double t = (now_seconds() - t0) / steps;
        if (t < best) best = t;
    }
    return best;
}

static void bench_seed(int quick)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(3.0));
    gb_node *f = gb_sub(g, gb_add(g, gb_mul(g, x, x), x), gb_scalar(g, 1.0));
    gb_node *step = gb_minimize(g, gb_gradient_descent(0.1), f, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    check(s ? gb_session_run(s, NULL, 0, &init, 1, NULL) : GB_EINVAL, "seed init");
    double t = time_runs(s, NULL, 0, step, 1000, quick ? 20000 : 200000, 3);
    printf("seed_step %.3f us (x^2 + x - 1, gradient descent, one session run per step)\n", t * 1e6);
    gb_session_free(s);
    gb_graph_free(g);
}

/* BENCH_PROFILE=1: where a step's time goes, by op type, from the session's per-node stats;
 * BENCH_PROFILE=nodes adds the last step node by node. */
static void profile(gb_session *s, const gb_feed *feeds, gb_node *train, const char *label)
{
    enum { STEPS = 50, MAX_TYPES = 64 };
    const char *types[MAX_TYPES];
    double micros[MAX_TYPES] = {0}, total = 0;
    int n_types = 0;
    gb_session_set_stats(s, 1);
    double started = now_seconds();
    for (int step = 0; step < STEPS; step++) {
        check(gb_session_run(s, feeds, 2, &train, 1, NULL), "profiled step");
        size_t count;
        const gb_node_stats *st = gb_session_stats(s, &count);
        for (size_t i = 0; i < count; i++) {
            const char *type = gb_node_op(st[i].node);
            int k = 0;
            while (k < n_types && strcmp(types[k], type)) k++;
            if (k == n_types && n_types < MAX_TYPES) types[n_types++] = type;
            if (k < n_types) micros[k] += st[i].duration_micros / STEPS;
            total += st[i].duration_micros / STEPS;
        }
    }
    double wall = (now_seconds() - started) / STEPS * 1e6;
    if (!strcmp(getenv("BENCH_PROFILE"), "nodes")) { /* the last step, node by node */
        size_t count;
        const gb_node_stats *st = gb_session_stats(s, &count);
        for (size_t i = 0; i < count; i++) {
            char shape[96];
            printf("  %-44s %-22s %-16s %8.1f us\n", gb_node_name(st[i].node), gb_node_op(st[i].node),
                   gb_shape_format(&st[i].shape, shape, sizeof shape), st[i].duration_micros);
        }
    }
    gb_session_set_stats(s, 0);
    printf("%s profile: %.1f us per step in ops, %.1f us per step with the clock reads\n", label, total, wall);
    for (int k = 0; k < n_types; k++)
        if (micros[k] >= total * 0.01) printf("  %-34s %9.1f us %5.1f%%\n", types[k], micros[k], 100 * micros[k] / total);
}

/* An MLP with relu hidden layers and a sparse softmax cross-entropy loss. */
static void bench_mlp(const char *label, const int *widths, int layers, int batch, gb_optimizer opt, int steps,
                      double *seconds_out)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, widths[0]));
    gb_node *y = gb_placeholder(g, "y", GB_I32, gb_dims(1, -1));
    gb_node *loss = bench_mlp_loss(g, x, y, widths, layers);
    gb_node *train = gb_minimize(g, opt, loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "bench_engine: %s\n", gb_graph_errmsg(g));
        exit(1);
    }
    gb_session *s = gb_session_new(g, GB_CPU);
    check(gb_session_run(s, NULL, 0, &init, 1, NULL), "init");
    gb_tensor *xt = gb_tensor_new(GB_F32, gb_dims(2, batch, widths[0]));
    gb_tensor *yt = gb_tensor_new(GB_I32, gb_dims(1, batch));
    float *xd = gb_tensor_data(xt);
    int32_t *yd = gb_tensor_data(yt);
    uint32_t r = 1;
    for (int64_t i = 0; i < (int64_t)batch * widths[0]; i++) r = r * 1664525u + 1013904223u, xd[i] = (float)(r >> 8) / 16777216.0f;
    for (int i = 0; i < batch; i++) yd[i] = i % widths[layers];
    gb_feed feeds[] = {{x, xt}, {y, yt}};
    double t = time_runs(s, feeds, 2, train, 5, steps, 3);
    *seconds_out = t;
    printf("%s %.3f ms per step (batch %d)\n", label, t * 1e3, batch);
    if (getenv("BENCH_PROFILE")) {
        profile(s, feeds, train, label);
        printf("%s again without stats: %.3f ms per step\n", label, time_runs(s, feeds, 2, train, 5, steps, 3) * 1e3);
    }
    gb_tensor_free(xt);
    gb_tensor_free(yt);
    gb_session_free(s);
    gb_graph_free(g);
}

/* The rate OpenBLAS reaches on the big MLP's own GEMM shapes (forward and both backward). */
static void bench_sgemm(const int *widths, int layers, int batch, double step_seconds)
{
    double flops = 0, step_flops = 0, seconds = 1e30;
    size_t biggest = 0;
    for (int l = 1; l <= layers; l++) {
        size_t n = (size_t)(widths[l - 1] > widths[l] ? widths[l - 1] : widths[l]);
        if (n > biggest) biggest = n;
        flops += 3.0 * 2.0 * batch * widths[l - 1] * widths[l];
        /* a step needs no gradient for the input: the first layer has two products, not three */
        step_flops += (l == 1 ? 2.0 : 3.0) * 2.0 * batch * widths[l - 1] * widths[l];
    }
    size_t big = biggest * (size_t)(batch > (int)biggest ? batch : (int)biggest);
    float *a = calloc(big, sizeof *a), *b = calloc(big, sizeof *b), *c = calloc(big, sizeof *c);
    for (int rep = 0; rep < 6; rep++) { /* the first touches the pages; the best of the rest counts */
        double t0 = now_seconds();
        for (int l = 1; l <= layers; l++) {
            int m = batch, k = widths[l - 1], n = widths[l];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);     /* forward */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1, c, n, b, n, 0, a, k);       /* d input */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1, a, k, c, n, 0, b, n);       /* d weight */
        }
        double t = now_seconds() - t0;
        if (rep > 0 && t < seconds) seconds = t;
    }
    free(a), free(b), free(c);
    printf("sgemm_rate %.2f GFLOP/s (OpenBLAS on the same GEMMs, %d threads)\n", flops / seconds * 1e-9,
           openblas_get_num_threads());
    printf("big_mlp_rate %.2f GFLOP/s (engine: the step's GEMM work over its whole time)\n",
           step_flops / step_seconds * 1e-9);
}

/* Initialising an 8192 x 8192 layer (256 MiB), as PyTorch's init functions fill a tensor:
 * Glorot uniform, and Glorot normal (a normal truncated at two standard deviations). */
static void bench_init(int quick)
{
    const gb_initializer kinds[] = {gb_init_glorot_uniform(1), gb_init_glorot_normal(2)};
    const char *names[] = {"init_glorot_uniform", "init_glorot_normal"};
    int64_t side = quick ? 2048 : 8192;
    for (int k = 0; k < 2; k++) {
        gb_graph *g = gb_graph_new();
        gb_variable(g, "kernel", GB_F32, gb_dims(2, side, side), kinds[k]);
        gb_node *init = gb_global_variables_initializer(g);
        gb_session *s = gb_session_new(g, GB_CPU);
        double t = time_runs(s, NULL, 0, init, 1, 1, 3);
        printf("%s %.3f ms (a %lld x %lld float32 variable)\n", names[k], t * 1e3, (long long)side, (long long)side);
        gb_session_free(s);
        gb_graph_free(g);
    }
}

int main(int argc, char **argv)
{
    int quick = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else
            only = argv[i];
    }
    if (!only || !strcmp(only, "seed")) bench_seed(quick);
    double t;
    if (!only || !strcmp(only, "small")) {
        const int small[] = {784, 256, 128, 10};
        bench_mlp("mlp_small_adam", small, 3, 128, gb_adam(1e-3), quick ? 50 : 300, &t);
    }
    if (!only || !strcmp(only, "big")) {
        const int big[] = {2048, 2048, 2048, 10};
        bench_mlp("mlp_big_sgd", big, 3, 1024, gb_gradient_descent(0.01), quick ? 2 : 8, &t);
        printf("mlp_big_samples %.0f samples/s\n", 1024 / t);
        bench_sgemm(big, 3, 1024, t);
    }
    if (!only || !strcmp(only, "init")) bench_init(quick);
    return 0;
}
