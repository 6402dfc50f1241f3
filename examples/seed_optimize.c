/* seed_optimize: minimise f(x) = x^2 + x - 1 from x = 3 by gradient descent (learning rate
 * 0.1), printing "Epoch : i [x, f]" before each of 30 steps, like the seed program.
 *
 *   seed_optimize [LOGDIR]
 *
 * With LOGDIR it also does what the seed's tf.summary.scalar + FileWriter(logdir, s.graph) did:
 * logs the graph and, at each epoch, the scalars "curr_x" and "curr_f" (the printed values), so
 * `tensorboard --logdir LOGDIR` shows the descent. The printed table is the same either way. */
#include <stdio.h>
#include <string.h>

#include "gradboard/engine.h"

static int usage_error(const char *why)
{
    fprintf(stderr, "seed_optimize: %s\nusage: seed_optimize [LOGDIR]   (--help for more)\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: seed_optimize [LOGDIR]\n"
               "Minimises x^2 + x - 1 from x = 3 by gradient descent, printing x and f at each of 30 epochs.\n"
               "With LOGDIR, also logs the graph and the scalars curr_x and curr_f there for TensorBoard.\n");
        return 0;
    }
    if (argc > 2) return usage_error("too many arguments");
    if (argc == 2 && argv[1][0] == '-') return usage_error("unknown option");
    const char *logdir = argc == 2 ? argv[1] : NULL;

    int exit_code = 1;
    gb_session *s = NULL;
    gb_writer *w = NULL;
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(3.0));
    gb_node *f = gb_sub(g, gb_add(g, gb_mul(g, x, x), x), gb_scalar(g, 1.0));
    gb_node *step = gb_minimize(g, gb_gradient_descent(0.1), f, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (!g || gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "seed_optimize: %s\n", g ? gb_graph_errmsg(g) : gb_errmsg());
        goto done;
    }
    s = gb_session_new(g, GB_CPU);
    if (!s || gb_session_run(s, NULL, 0, &init, 1, NULL) != GB_OK) goto failed;
    if (logdir && (gb_writer_open(&w, logdir, NULL) != GB_OK || gb_writer_add_graph(w, g) != GB_OK)) goto failed;

    gb_node *fetches[] = {x, f};
    for (int epoch = 0; epoch < 30; epoch++) {
        const gb_tensor *out[2];
        if (gb_session_run(s, NULL, 0, fetches, 2, out) != GB_OK) goto failed;
        /* read now: the fetched x is the variable itself, which the step changes */
        float curr_x = ((const float *)gb_tensor_data(out[0]))[0];
        float curr_f = ((const float *)gb_tensor_data(out[1]))[0];
        char xs[32], fs[32];
        printf("Epoch : %d [%s, %s]\n", epoch, gb_format_f32(xs, sizeof xs, curr_x),
               gb_format_f32(fs, sizeof fs, curr_f));
        if (w) {
            const char *tags[] = {"curr_x", "curr_f"};
            const double values[] = {curr_x, curr_f};
            if (gb_summary_scalars(w, epoch, 2, tags, values) != GB_OK) goto failed;
        }
        if (gb_session_run(s, NULL, 0, &step, 1, NULL) != GB_OK) goto failed;
    }
    exit_code = 0;
    goto done;
failed:
    fprintf(stderr, "seed_optimize: %s\n", gb_errmsg());
done:
    /* closing flushes the events: a failure there loses them, so it fails the run too */
    if (w && gb_writer_close(w) != GB_OK && exit_code == 0) {
        fprintf(stderr, "seed_optimize: %s\n", gb_errmsg());
        exit_code = 1;
    }
    gb_session_free(s);
    gb_graph_free(g);
    return exit_code;
}
