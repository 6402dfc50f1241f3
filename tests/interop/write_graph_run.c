/* Writes the interop run for the graph dashboard: an MLP trained by the engine, its graph, and
 * one profiled step as run metadata. Beside the logs, expected_graph.txt lists every node
 * ("name op input input ...") and executed.txt the nodes the profiled step ran.
 *
 *   write_graph_run LOGDIR OUT_DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "gradboard/engine.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "write_graph_run: %s: %s\n", what, gb_errmsg());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: write_graph_run LOGDIR OUT_DIR\n");
        return 2;
    }
    gb_graph *g = gb_graph_new();
    gb_scope_push(g, "input");
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 8));
    gb_node *y = gb_placeholder(g, "y", GB_I32, gb_dims(1, -1));
    gb_scope_pop(g);
    gb_node *h = x;
    const int widths[] = {8, 16, 4};
    for (int l = 1; l <= 2; l++) {
        char scope[16];
        snprintf(scope, sizeof scope, "dense%d", l);
        gb_scope_push(g, scope);
        gb_node *w = gb_variable(g, "kernel", GB_F32, gb_dims(2, widths[l - 1], widths[l]), gb_init_glorot_uniform(l));
        gb_node *b = gb_variable(g, "bias", GB_F32, gb_dims(1, widths[l]), gb_init_zeros());
        h = gb_add(g, gb_matmul(g, h, w, 0, 0), b);
        if (l == 1) h = gb_relu(g, h);
        gb_scope_pop(g);
    }
    gb_scope_push(g, "loss");
    gb_node *loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, h, y), GB_ALL_AXES, 0);
    gb_scope_pop(g);
    gb_scope_push(g, "metrics"); /* in the graph, never run: its casts and comparison's type attributes */
    gb_accuracy(g, h, y);
    gb_scope_pop(g);
    gb_node *train = gb_minimize(g, gb_adam(0.01), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    check(gb_graph_status(g) == GB_OK, gb_graph_errmsg(g));

    char path[4096];
    snprintf(path, sizeof path, "%s/expected_graph.txt", argv[2]);
    FILE *f = fopen(path, "w");
    check(f != NULL, path);
    gb_graphdef *gd = gb_graph_to_graphdef(g);
    check(gd != NULL, "graphdef");
    gb_graphdef_free(gd);
    for (size_t i = 0; i < gb_graph_node_count(g); i++) {
        gb_node *n = gb_graph_node(g, i);
        fprintf(f, "%s %s", gb_node_name(n), gb_node_op(n));
        for (size_t k = 0; k < gb_node_control_count(n); k++) fprintf(f, " ^%s", gb_node_name(gb_node_control(n, k)));
        fputc('\n', f);
    }
    fclose(f);

    char run[4096];
    snprintf(run, sizeof run, "%s/graph_run", argv[1]);
    gb_writer *w;
    check(gb_writer_open(&w, run, NULL) == GB_OK, "open");
    check(gb_writer_add_graph(w, g) == GB_OK, "graph");
    gb_session *s = gb_session_new(g, GB_CPU);
    check(s && gb_session_run(s, NULL, 0, &init, 1, NULL) == GB_OK, "init");
    gb_tensor *xv = gb_tensor_new(GB_F32, gb_dims(2, 32, 8)), *yv = gb_tensor_new(GB_I32, gb_dims(1, 32));
    for (int i = 0; i < 32 * 8; i++) ((float *)gb_tensor_data(xv))[i] = (float)(i % 13) / 13;
    for (int i = 0; i < 32; i++) ((int32_t *)gb_tensor_data(yv))[i] = i % 4;
    gb_feed feeds[] = {{x, xv}, {y, yv}};
    gb_session_set_stats(s, 1);
    check(gb_session_run(s, feeds, 2, &train, 1, NULL) == GB_OK, "step");
    check(gb_writer_add_session_stats(w, s, 1) == GB_OK, "run metadata");
    snprintf(path, sizeof path, "%s/executed.txt", argv[2]);
    f = fopen(path, "w");
    check(f != NULL, path);
    size_t count;
    const gb_node_stats *stats = gb_session_stats(s, &count);
    for (size_t i = 0; i < count; i++) fprintf(f, "%s\n", gb_node_name(stats[i].node));
    fclose(f);
    check(gb_writer_close(w) == GB_OK, "close");
    gb_tensor_free(xv);
    gb_tensor_free(yv);
    gb_session_free(s);
    gb_graph_free(g);
    return 0;
}
