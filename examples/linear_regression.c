/* linear_regression: fit y = x . w + b by gradient descent on synthetic data, as the seed does.
 *
 *   linear_regression [LOGDIR]        (default runs/linear_regression)
 *
 * The data are 1000 points x ~ N(0, 1)^2 with y = 2 x0 - 3.4 x1 + 4.2 plus noise of standard
 * deviation 0.01, drawn from the engine's seeded generator, so every run sees the same numbers.
 * The model is one dense layer ("linear/kernel" [2, 1], "linear/bias" [1]) trained on the mean
 * squared error with full-batch gradient descent. LOGDIR gets the graph, the "loss" of every
 * step and, at the end, a checkpoint (LOGDIR/model.ckpt-<steps>) that TensorFlow can read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

enum { EXAMPLES = 1000, FEATURES = 2, STEPS = 100 };

static const float true_w[FEATURES] = {2.0f, -3.4f};
static const float true_b = 4.2f;

/* Fills x with N(0, 1) features and y with the noisy targets. */
static gb_status make_data(gb_tensor *x, gb_tensor *y)
{
    gb_tensor *noise = gb_tensor_new(GB_F32, gb_dims(2, EXAMPLES, 1));
    if (!noise) return GB_ENOMEM;
    gb_initializer features = gb_init_normal(0.0, 1.0, 1), noise_init = gb_init_normal(0.0, 0.01, 2);
    gb_status st = gb_init_fill(&features, x);
    if (st == GB_OK) st = gb_init_fill(&noise_init, noise);
    if (st == GB_OK) {
        const float *xv = gb_tensor_data(x), *nv = gb_tensor_data(noise);
        float *yv = gb_tensor_data(y);
        for (int i = 0; i < EXAMPLES; i++) {
            yv[i] = true_b + nv[i];
            for (int j = 0; j < FEATURES; j++) yv[i] += xv[i * FEATURES + j] * true_w[j];
        }
    }
    gb_tensor_free(noise);
    return st;
}

static int usage_error(const char *why)
{
    fprintf(stderr, "linear_regression: %s\nusage: linear_regression [LOGDIR]   (--help for more)\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: linear_regression [LOGDIR]\n"
               "Fits y = 2 x0 - 3.4 x1 + 4.2 (+ noise) by gradient descent and prints the learned weights.\n"
               "LOGDIR (default runs/linear_regression) gets the loss curve, the graph and a checkpoint.\n");
        return 0;
    }
    if (argc > 2) return usage_error("too many arguments");
    if (argc == 2 && argv[1][0] == '-') return usage_error("unknown option");
    const char *logdir = argc == 2 ? argv[1] : "runs/linear_regression";
    char ckpt_base[4096];
    if ((size_t)snprintf(ckpt_base, sizeof ckpt_base, "%s/model.ckpt", logdir) >= sizeof ckpt_base)
        return usage_error("LOGDIR is too long");

    int exit_code = 1;
    gb_graph *g = NULL;
    gb_session *s = NULL;
    gb_writer *w = NULL;
    gb_saver *saver = NULL;
    char *saved = NULL;
    gb_tensor *x_data = gb_tensor_new(GB_F32, gb_dims(2, EXAMPLES, FEATURES));
    gb_tensor *y_data = gb_tensor_new(GB_F32, gb_dims(2, EXAMPLES, 1));
    if (!x_data || !y_data || make_data(x_data, y_data) != GB_OK) goto failed;

    g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, FEATURES));
    gb_node *y = gb_placeholder(g, "y", GB_F32, gb_dims(2, -1, 1));
    gb_scope_push(g, "linear");
    gb_node *kernel = gb_variable(g, "kernel", GB_F32, gb_dims(2, FEATURES, 1), gb_init_zeros());
    gb_node *bias = gb_variable(g, "bias", GB_F32, gb_dims(1, 1), gb_init_zeros());
    gb_node *prediction = gb_add(g, gb_matmul(g, x, kernel, 0, 0), bias);
    gb_scope_pop(g);
    gb_node *loss = gb_name(gb_mean_squared_error(g, prediction, y), "loss");
    gb_node *train = gb_minimize(g, gb_gradient_descent(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (!g || gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "linear_regression: %s\n", g ? gb_graph_errmsg(g) : gb_errmsg());
        goto done;
    }

    s = gb_session_new(g, GB_CPU);
    if (!s || gb_session_run(s, NULL, 0, &init, 1, NULL) != GB_OK) goto failed;
    /* the writer creates LOGDIR, which the saver needs to exist */
    if (gb_writer_open(&w, logdir, NULL) != GB_OK || gb_writer_add_graph(w, g) != GB_OK) goto failed;
    saver = gb_saver_new(g, ckpt_base, 5);
    if (!saver) goto failed;

    gb_feed feeds[] = {{x, x_data}, {y, y_data}};
    gb_node *fetches[] = {train, loss};
    for (int step = 0; step < STEPS; step++) {
        const gb_tensor *out[2];
        /* the loss comes from the same run as the update, so it is the loss before it */
        if (gb_session_run(s, feeds, 2, fetches, 2, out) != GB_OK) goto failed;
        double step_loss = gb_tensor_get(out[1], 0);
        if (gb_summary_scalar(w, "loss", step, step_loss) != GB_OK) goto failed;
        if (step % 20 == 0) printf("step %3d  loss %.6f\n", step, step_loss);
    }
    if (gb_saver_save(saver, s, STEPS, &saved) != GB_OK) goto failed;

    const gb_tensor *learned_w = gb_session_variable(s, kernel), *learned_b = gb_session_variable(s, bias);
    printf("\n         true     learned\n");
    for (int j = 0; j < FEATURES; j++)
        printf("w[%d]  %9.6f  %9.6f\n", j, true_w[j], gb_tensor_get(learned_w, j));
    printf("b     %9.6f  %9.6f\n", true_b, gb_tensor_get(learned_b, 0));
    printf("\ncheckpoint %s\nevents     %s\n", saved, gb_writer_path(w));
    exit_code = 0;
    goto done;
failed:
    fprintf(stderr, "linear_regression: %s\n", gb_errmsg());
done:
    if (w && gb_writer_close(w) != GB_OK && exit_code == 0) {
        fprintf(stderr, "linear_regression: %s\n", gb_errmsg());
        exit_code = 1;
    }
    free(saved);
    gb_saver_free(saver);
    gb_session_free(s);
    gb_graph_free(g);
    gb_tensor_free(x_data);
    gb_tensor_free(y_data);
    return exit_code;
}
