/* consumer_train LOGDIR: an outside program that links the whole library (gradboard::gradboard or
 * gradboard.pc). It fits y = 3x - 2 by linear regression with gradient descent, logs the loss,
 * saves a checkpoint and exits 0 when the loss fell at every step and ends near zero. */
#include <stdio.h>
#include <stdlib.h>

#include <gradboard/engine.h>

static int fail(const char *what)
{
    fprintf(stderr, "consumer_train: %s: %s\n", what, gb_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer_train LOGDIR\n");
        return 2;
    }
    enum { N = 8, STEPS = 60 };
    float xs[N], ys[N];
    for (int i = 0; i < N; i++) {
        xs[i] = -1.0f + 2.0f * (float)i / (N - 1);
        ys[i] = 3.0f * xs[i] - 2.0f;
    }

    gb_graph *g = gb_graph_new();
    if (!g)
        return fail("graph");
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 1));
    gb_node *y = gb_placeholder(g, "y", GB_F32, gb_dims(2, -1, 1));
    gb_scope_push(g, "linear");
    gb_node *w = gb_variable(g, "kernel", GB_F32, gb_dims(2, 1, 1), gb_init_zeros());
    gb_node *b = gb_variable(g, "bias", GB_F32, gb_dims(1, 1), gb_init_zeros());
    gb_node *pred = gb_add(g, gb_matmul(g, x, w, 0, 0), b);
    gb_scope_pop(g);
    gb_node *loss = gb_reduce_mean(g, gb_square(g, gb_sub(g, pred, y)), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(g, gb_gradient_descent(0.2), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "consumer_train: %s\n", gb_graph_errmsg(g));
        return 1;
    }

    gb_session *s = gb_session_new(g, GB_CPU);
    if (!s || gb_session_run(s, NULL, 0, &init, 1, NULL) != GB_OK)
        return fail("init");
    gb_writer *log;
    if (gb_writer_open(&log, argv[1], NULL) != GB_OK || gb_writer_add_graph(log, g) != GB_OK)
        return fail("writer");

    gb_tensor *xt = gb_tensor_from(GB_F32, gb_dims(2, N, 1), xs);
    gb_tensor *yt = gb_tensor_from(GB_F32, gb_dims(2, N, 1), ys);
    if (!xt || !yt)
        return fail("tensors");
    gb_feed feeds[] = {{x, xt}, {y, yt}};
    gb_node *fetches[] = {loss, train};
    double first = 0, last = 0;
    for (int step = 0; step < STEPS; step++) {
        const gb_tensor *out[2];
        if (gb_session_run(s, feeds, 2, fetches, 2, out) != GB_OK)
            return fail("step");
        double value = gb_tensor_get(out[0], 0);   /* the loss before this step's update */
        if (step == 0)
            first = value;
        else if (!(value < last)) {
            fprintf(stderr, "consumer_train: loss rose at step %d: %g -> %g\n", step, last, value);
            return 1;
        }
        last = value;
        if (gb_summary_scalar(log, "loss", step, value) != GB_OK)
            return fail("log");
    }
    if (!(last < 1e-3 * first)) {
        fprintf(stderr, "consumer_train: loss only fell from %g to %g\n", first, last);
        return 1;
    }

    /* A checkpoint exercises the engine's private protobuf-c code and Snappy. */
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", argv[1]);
    gb_saver *sv = gb_saver_new(g, prefix, 1);
    char *latest = NULL;
    if (!sv || gb_saver_save(sv, s, STEPS, NULL) != GB_OK || !(latest = gb_latest_checkpoint(argv[1])) ||
        gb_saver_restore(sv, s, latest) != GB_OK)
        return fail("checkpoint");
    free(latest);
    gb_saver_free(sv);

    const float *kernel = gb_tensor_data(gb_session_variable(s, w));
    printf("consumer_train: loss %g -> %g in %d steps, kernel %.3f\n", first, last, STEPS, kernel[0]);
    gb_tensor_free(xt);
    gb_tensor_free(yt);
    gb_session_free(s);
    gb_graph_free(g);
    return gb_writer_close(log) == GB_OK ? 0 : fail("close");
}
