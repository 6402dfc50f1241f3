/* Plain gradient descent on a matmul's gradient runs as one GEMM into the variable on the CPU
 * (plan.c, fuse_sgd_matmuls): the variable after the step must be the one the fetched gradient
 * gives, and the fusion must stand aside when the product reads a variable (an update between
 * the gradient and its use could change it). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

static gb_tensor *filled(gb_shape shape, double scale, int salt)
{
    gb_tensor *t = gb_tensor_new(GB_F64, shape);
    for (int64_t i = 0; i < gb_tensor_elements(t); i++)
        ((double *)gb_tensor_data(t))[i] = scale * (double)((i * 7 + salt) % 11 - 5) / 5.0;
    return t;
}

/* MatMul nodes the last run executed (stats on). */
static int matmuls_run(const gb_session *s)
{
    size_t count;
    const gb_node_stats *stats = gb_session_stats(s, &count);
    int found = 0;
    for (size_t i = 0; i < count; i++) found += strcmp(gb_node_op(stats[i].node), "MatMul") == 0;
    return found;
}

/* Each step: the gradients fetched alone (their own plan), the expected variables computed from
 * them, then the training op run (a plan where nothing else reads the gradients). */
static void check_steps(gb_graph *g, gb_node **vars, gb_node **grads, int n, gb_node *train, const gb_feed *feeds,
                        size_t n_feeds, int steps, int fused, int unfused)
{
    gb_session *s = gb_session_new(g, GB_CPU);
    int want_matmuls = gb_session_device(s) == GB_CPU ? fused : unfused; /* GB_FORCE_DEVICE=cuda: apart */
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_stats(s, 1);
    for (int step = 0; step < steps; step++) {
        gb_tensor *want[4];
        const gb_tensor *g_out[4];
        cr_assert_eq(gb_session_run(s, feeds, n_feeds, grads, (size_t)n, g_out), GB_OK, "%s", gb_errmsg());
        for (int v = 0; v < n; v++) {
            const gb_tensor *w = gb_session_variable(s, vars[v]);
            want[v] = gb_tensor_from(GB_F64, *gb_tensor_shape(w), gb_tensor_data(w));
            for (int64_t i = 0; i < gb_tensor_elements(w); i++)
                ((double *)gb_tensor_data(want[v]))[i] -= 0.1 * gb_tensor_get(g_out[v], i);
        }
        cr_assert_eq(gb_session_run(s, feeds, n_feeds, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(matmuls_run(s), want_matmuls, "step %d: %d MatMul nodes ran", step, matmuls_run(s));
        for (int v = 0; v < n; v++) {
            const gb_tensor *w = gb_session_variable(s, vars[v]);
            for (int64_t i = 0; i < gb_tensor_elements(w); i++) {
                double got = gb_tensor_get(w, i), expected = gb_tensor_get(want[v], i);
                cr_assert_leq(fabs(got - expected), 1e-12 * fmax(1, fabs(expected)), "step %d, %s[%lld] = %.17g, want %.17g",
                              step, gb_node_name(vars[v]), (long long)i, got, expected);
            }
            gb_tensor_free(want[v]);
        }
    }
    gb_session_free(s);
}

Test(sgd_matmul, a_dense_layer_updated_in_its_gemm_equals_the_gradient_step)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F64, S(2, -1, 5)), *t = gb_placeholder(g, "t", GB_F64, S(2, -1, 3));
    gb_node *w = gb_variable(g, "w", GB_F64, S(2, 5, 3), gb_init_glorot_uniform(2));
    gb_node *b = gb_variable(g, "b", GB_F64, S(1, 3), gb_init_zeros());
    gb_node *y = gb_add(g, gb_matmul(g, x, w, 0, 0), b);
    gb_node *loss = gb_reduce_mean(g, gb_square(g, gb_sub(g, y, t)), GB_ALL_AXES, 0);
    gb_node *vars[] = {w, b}, *grads[2];
    cr_assert_eq(gb_gradients(g, loss, vars, 2, grads), GB_OK, "%s", gb_errmsg());
    gb_node *train = gb_apply_gradients(g, gb_gradient_descent(0.1), grads, vars, 2);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *xv = filled(S(2, 7, 5), 1.0, 1), *tv = filled(S(2, 7, 3), 2.0, 4);
    gb_feed feeds[] = {{x, xv}, {t, tv}};
    /* the forward MatMul runs; w's gradient MatMul is the update's GEMM */
    check_steps(g, vars, grads, 2, train, feeds, 2, 4, 1, 2);
    gb_tensor_free(xv);
    gb_tensor_free(tv);
    gb_graph_free(g);
}

Test(sgd_matmul, a_product_of_two_variables_keeps_its_gradients_apart)
{
    gb_graph *g = gb_graph_new();
    gb_node *a = gb_variable(g, "a", GB_F64, S(2, 3, 4), gb_init_glorot_uniform(5));
    gb_node *b = gb_variable(g, "b", GB_F64, S(2, 4, 2), gb_init_glorot_uniform(6));
    gb_tensor *tv = filled(S(2, 3, 2), 1.5, 3);
    gb_node *target = gb_constant(g, "target", tv); /* copies tv */
    gb_node *loss = gb_reduce_sum(g, gb_square(g, gb_sub(g, gb_matmul(g, a, b, 0, 0), target)), GB_ALL_AXES, 0);
    gb_node *vars[] = {a, b}, *grads[2];
    cr_assert_eq(gb_gradients(g, loss, vars, 2, grads), GB_OK, "%s", gb_errmsg());
    gb_node *train = gb_apply_gradients(g, gb_gradient_descent(0.1), grads, vars, 2);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    /* da = dy b^T reads b and db = a^T dy reads a: both run as MatMuls, before either update */
    check_steps(g, vars, grads, 2, train, NULL, 0, 4, 3, 3);
    gb_tensor_free(tv);
    gb_graph_free(g);
}

/* check_numerics still stops at the gradient: a fused update whose product overflows names the
 * gradient's MatMul and leaves the variable as it was. */
Test(sgd_matmul, check_numerics_names_the_gradient_and_keeps_the_variable)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(2, -1, 5));
    gb_node *w = gb_variable(g, "w", GB_F32, S(2, 5, 3), gb_init_constant(1e-3));
    gb_node *loss = gb_reduce_sum(g, gb_matmul(g, x, w, 0, 0), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(g, gb_gradient_descent(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *xv = gb_tensor_new(GB_F32, S(2, 7, 5));
    for (int i = 0; i < 35; i++) ((float *)gb_tensor_data(xv))[i] = 3e38f; /* x w is finite, x^T 1 is not */
    gb_feed feed = {x, xv};
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_check_numerics(s, 1);
    cr_assert_eq(gb_session_run(s, &feed, 1, &train, 1, NULL), GB_ENUMERIC, "%s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "(MatMul)") && strstr(gb_errmsg(), "gradients/") && strstr(gb_errmsg(), "+Inf"),
              "%s", gb_errmsg());
    const gb_tensor *after = gb_session_variable(s, w);
    for (int i = 0; i < 15; i++) cr_assert_eq(gb_tensor_get(after, i), (double)1e-3f, "w[%d] changed", i);
    gb_session_free(s);
    gb_tensor_free(xv);
    gb_graph_free(g);
}
