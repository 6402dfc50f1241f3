/* Autodiff and optimizers at their edges: an upstream gradient of the wrong shape, a Jacobian
 * row that does not depend on x, an op on the way with no gradient, clipping non-finite
 * gradients, and Adagrad's starting accumulator. Reference values are worked out by hand (or
 * are TensorFlow 1.x's documented behaviour). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradboard/engine.h"

/* runs the initializer, then fetches one float32 node */
static const float *run_f32(gb_session *s, gb_graph *g, gb_node *fetch)
{
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, NULL, 0, &fetch, 1, &out), GB_OK, "%s", gb_errmsg());
    return gb_tensor_data(out);
}

Test(autodiff_edges, an_upstream_gradient_must_have_ys_dtype_and_shape)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(1, 6), gb_init_ones());
    gb_node *y = gb_mul(g, x, x);
    gb_node *dy = gb_placeholder(g, "dy", GB_F32, gb_dims(2, 6, 6)), *dx;
    cr_assert_eq(gb_gradients_with(g, y, dy, &x, 1, &dx), GB_ESHAPE);
    cr_assert_null(dx);
    cr_assert(strstr(gb_graph_errmsg(g), "does not fit y"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);

    g = gb_graph_new(); /* an unknown side fits any length; the dtype must still match */
    x = gb_variable(g, "x", GB_F32, gb_dims(1, 6), gb_init_ones());
    y = gb_mul(g, x, x);
    cr_assert_eq(gb_gradients_with(g, y, gb_placeholder(g, "dy", GB_F32, gb_dims(1, -1)), &x, 1, &dx), GB_OK);
    cr_assert_eq(gb_gradients_with(g, y, gb_placeholder(g, "dy64", GB_F64, gb_dims(1, 6)), &x, 1, &dx), GB_ESHAPE);
    gb_graph_free(g);
}

Test(autodiff_edges, a_jacobian_of_a_y_that_does_not_depend_on_x_is_zero)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(1, 3), gb_init_ones());
    gb_node *c = gb_constant_f32(g, "c", gb_dims(1, 3), (float[]){1, 2, 3});
    gb_node *j = gb_jacobian(g, gb_exp(g, c), x);
    cr_assert_not_null(j, "%s", gb_graph_errmsg(g));
    gb_shape s = gb_node_shape(j);
    cr_assert(s.rank == 2 && s.dim[0] == 3 && s.dim[1] == 3);
    gb_session *sess = gb_session_new(g, GB_CPU);
    const float *v = run_f32(sess, g, j);
    for (int i = 0; i < 9; i++) cr_assert_eq(v[i], 0.0f, "element %d is %g", i, v[i]);
    gb_session_free(sess);
    gb_graph_free(g);
}

Test(autodiff_edges, an_op_without_a_gradient_between_x_and_y_is_an_error_not_a_missing_term)
{
    /* d/dx of the sparse cross-entropy's gradient would need that gradient op's own gradient:
     * without one the derivative must fail, not come out as if that term were zero */
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(2, 1, 3), gb_init_constant(0.5));
    gb_tensor *one = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){1});
    gb_node *labels = gb_constant(g, "labels", one);
    gb_tensor_free(one);
    gb_node *loss = gb_reduce_sum(g, gb_sparse_softmax_cross_entropy(g, x, labels), GB_ALL_AXES, 0);
    gb_node *dx, *d2;
    cr_assert_eq(gb_gradients(g, loss, &x, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    gb_status st = gb_gradients(g, gb_reduce_sum(g, gb_mul(g, dx, dx), GB_ALL_AXES, 0), &x, 1, &d2);
    if (st == GB_OK) { /* a second derivative the op supports must be the true one: checked by value */
        gb_session *s = gb_session_new(g, GB_CPU);
        const float *h = run_f32(s, g, d2);
        /* p = softmax(0.5, 0.5, 0.5) = 1/3 each, g = p - onehot(1) = (1/3, -2/3, 1/3);
         * d/dx sum(g^2) = 2 (J g) with J = diag(p) - p p^T: J g = p*g - p (p.g) = (1/9, -2/9, 1/9) - 0 */
        const float want[3] = {2.0f / 9, -4.0f / 9, 2.0f / 9};
        for (int i = 0; i < 3; i++) cr_assert_float_eq(h[i], want[i], 1e-6, "element %d: %g", i, h[i]);
        gb_session_free(s);
    } else {
        cr_assert_eq(st, GB_EUNSUPPORTED, "%s", gb_graph_errmsg(g));
        cr_assert(strstr(gb_graph_errmsg(g), "no gradient is defined"), "%s", gb_graph_errmsg(g));
        cr_assert_null(d2);
    }
    gb_graph_free(g);
}

Test(autodiff_edges, stop_gradient_still_cuts_the_path_silently)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(3));
    gb_node *y = gb_add(g, gb_mul(g, x, x), gb_stop_gradient(g, gb_mul(g, x, x)));
    gb_node *dx;
    cr_assert_eq(gb_gradients(g, y, &x, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_float_eq(*run_f32(s, g, dx), 6.0f, 0);
    gb_session_free(s);
    gb_graph_free(g);
}

/* one step of plain gradient descent (lr 1) with clipping at 1 on two variables whose
 * gradients are given by the feeds; returns the variables after it */
static void clipped_step(float g1, float g2, float *w1, float *w2)
{
    gb_graph *g = gb_graph_new();
    gb_node *a = gb_variable(g, "a", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *b = gb_variable(g, "b", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *ga = gb_placeholder(g, "ga", GB_F32, gb_dims(0)), *gbb = gb_placeholder(g, "gb", GB_F32, gb_dims(0));
    gb_optimizer opt = gb_gradient_descent(1.0);
    opt.clip_norm = 1.0;
    gb_node *train = gb_apply_gradients(g, opt, (gb_node *[]){ga, gbb}, (gb_node *[]){a, b}, 2);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *ta = gb_tensor_from(GB_F32, gb_dims(0), &g1), *tb = gb_tensor_from(GB_F32, gb_dims(0), &g2);
    gb_feed feeds[] = {{ga, ta}, {gbb, tb}};
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, feeds, 2, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
    *w1 = *(const float *)gb_tensor_data(gb_session_variable(s, a));
    *w2 = *(const float *)gb_tensor_data(gb_session_variable(s, b));
    gb_tensor_free(ta);
    gb_tensor_free(tb);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(autodiff_edges, clipping_a_non_finite_global_norm_makes_every_gradient_nan)
{
    float w1, w2;
    clipped_step(3, 4, &w1, &w2); /* norm 5: scaled to 0.6, 0.8 */
    cr_assert_float_eq(w1, -0.6f, 1e-6);
    cr_assert_float_eq(w2, -0.8f, 1e-6);
    const float bad[] = {NAN, INFINITY, 1e20f}; /* 1e20 squared overflows float32 */
    for (int i = 0; i < 3; i++) {
        clipped_step(bad[i], 4, &w1, &w2);
        cr_assert(isnan(w1) && isnan(w2), "gradient %g: got %g, %g", bad[i], w1, w2);
    }
}

Test(autodiff_edges, adagrad_needs_a_positive_initial_accumulator)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(1));
    gb_optimizer opt = gb_adagrad(0.1);
    opt.initial_accumulator = 0;
    cr_assert_null(gb_minimize(g, opt, gb_mul(g, x, x), NULL, 0));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    cr_assert(strstr(gb_graph_errmsg(g), "initial accumulator must be positive"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);
}
