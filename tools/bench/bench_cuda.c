/* bench_cuda: the engine on the GPU, on the workloads of the CUDA issue. Prints "name value unit"
 * lines that tools/gpu/run_checks.sh pairs with bench_cuda_torch.py's (PyTorch on the same GPU).
 *
 *   bench_cuda [--quick] [small|big]      (default: both)
 *
 * small: MLP 784-256-128-10, batch 128, Adam, ms per step (a captured CUDA graph per step).
 * big:   MLP 8192-8192-8192-10, batch 8192, SGD, TFLOP/s in float32 and with TF32 matmuls.
 * Inputs and labels are non-trainable variables, resident on the GPU like PyTorch's tensors, so
 * the steps copy nothing in; each session run ends with the GPU idle (the time includes that).
 * On the CUDA emulator with GB_EMU_NO_WORK=1 (kernels skipped), `small` gives the host's own
 * time per step: the floor under the GPU's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_mlp.h"
#include "bench_util.h"
#include "gradboard/engine.h"

static void check(gb_status st, const char *what)
{
    if (st != GB_OK) {
        fprintf(stderr, "bench_cuda: %s: %s\n", what, gb_errmsg());
        exit(1);
    }
}

static double time_steps(gb_session *s, gb_node *train, int warmup, int steps, int reps)
{
    for (int i = 0; i < warmup; i++) check(gb_session_run(s, NULL, 0, &train, 1, NULL), "warm-up");
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        for (int i = 0; i < steps; i++) check(gb_session_run(s, NULL, 0, &train, 1, NULL), "step");
        double t = (now_seconds() - t0) / steps;
        if (t < best) best = t;
    }
    return best;
}

/* Multiply-adds x2 of one step: every layer forward and its weight gradient, and the input
 * gradient of every layer but the first (the data needs none), as PyTorch computes them. */
static double step_flops(const int *widths, int layers, int batch)
{
    double flops = 0;
    for (int l = 1; l <= layers; l++) flops += 2.0 * batch * widths[l - 1] * widths[l] * (l == 1 ? 2 : 3);
    return flops;
}

/* Seconds per training step of an MLP (relu, sparse softmax cross-entropy) on the GPU. */
static double mlp_step(const int *widths, int layers, int batch, gb_optimizer opt, int tf32, int warmup, int steps)
{
    gb_graph *g = gb_graph_new();
    gb_tensor *xv = gb_tensor_new(GB_F32, gb_dims(2, batch, widths[0]));
    gb_tensor *yv = gb_tensor_new(GB_I32, gb_dims(1, batch));
    float *xd = gb_tensor_data(xv);
    uint32_t r = 1;
    for (int64_t i = 0; i < (int64_t)batch * widths[0]; i++) r = r * 1664525u + 1013904223u, xd[i] = (float)(r >> 8) / 16777216.0f;
    for (int i = 0; i < batch; i++) ((int32_t *)gb_tensor_data(yv))[i] = i % widths[layers];
    gb_node *x = gb_variable_ex(g, "x", GB_F32, gb_dims(2, batch, widths[0]), gb_init_values(xv), 0);
    gb_node *y = gb_variable_ex(g, "y", GB_I32, gb_dims(1, batch), gb_init_values(yv), 0);
    gb_node *loss = bench_mlp_loss(g, x, y, widths, layers);
    gb_node *train = gb_minimize(g, opt, loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    check(gb_graph_status(g), gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CUDA);
    if (!s) check(GB_EDEVICE, "a CUDA session");
    gb_session_set_tf32(s, tf32);
    check(gb_session_run(s, NULL, 0, &init, 1, NULL), "init");
    double t = time_steps(s, train, warmup, steps, 3);
    const gb_tensor *l;
    check(gb_session_run(s, NULL, 0, &loss, 1, &l), "loss");
    /* GB_EMU_NO_WORK (the CUDA emulator skipping every kernel, to time the host's share of a
     * step) leaves the loss undefined */
    if (gb_tensor_get(l, 0) != gb_tensor_get(l, 0) && !getenv("GB_EMU_NO_WORK")) check(GB_ENUMERIC, "the loss is NaN");
    gb_session_free(s);
    gb_graph_free(g);
    gb_tensor_free(xv);
    gb_tensor_free(yv);
    return t;
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
    check(gb_device_available(GB_CUDA), "no GPU to run on");
    {
        gb_graph *g = gb_graph_new();
        gb_session *s = gb_session_new(g, GB_CUDA);
        printf("device %s\n", s ? gb_session_device_name(s) : "?");
        gb_session_free(s);
        gb_graph_free(g);
    }
    if (!only || !strcmp(only, "small")) {
        const int small[] = {784, 256, 128, 10};
        double t = mlp_step(small, 3, 128, gb_adam(1e-3), 0, 20, quick ? 200 : 2000);
        printf("cuda_mlp_small_adam %.4f ms per step (batch 128)\n", t * 1e3);
    }
    if (!only || !strcmp(only, "big")) {
        const int big[] = {8192, 8192, 8192, 10};
        double flops = step_flops(big, 3, 8192);
        for (int tf32 = 0; tf32 <= 1; tf32++) {
            double t = mlp_step(big, 3, 8192, gb_gradient_descent(0.01), tf32, 2, quick ? 3 : 10);
            printf("cuda_mlp_big_sgd%s %.2f TFLOP/s (%.1f ms per step, batch 8192)\n", tf32 ? "_tf32" : "",
                   flops / t * 1e-12, t * 1e3);
        }
    }
    return 0;
}
