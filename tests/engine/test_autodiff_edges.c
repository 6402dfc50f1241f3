/* Autodiff and optimizers at their edges: an upstream gradient of the wrong shape, a Jacobian
 * row that does not depend on x, an op on the way with no gradient, clipping non-finite
 * gradients, and Adagrad's starting accumulator. Reference values are worked out by hand (or
 * are TensorFlow 1.x's documented behaviour). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradboard/engine.h"

/* runs the initializer, then fetches one node: its data (valid until the next run) */
static const void *run_once(gb_session *s, gb_graph *g, gb_node *fetch)
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
    const float *v = (const float *)run_once(sess, g, j);
    for (int i = 0; i < 9; i++) cr_assert_eq(v[i], 0.0f, "element %d is %g", i, v[i]);
    gb_session_free(sess);
    gb_graph_free(g);
}

static gb_node *gradient(gb_graph *g, gb_node *y, gb_node *x)
{
    gb_node *dx = NULL;
    cr_assert_eq(gb_gradients(g, y, &x, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    return dx;
}

/* d/dx <w, d loss/dx> (a Hessian-vector product), x = w = (0.5, -1, 2), float64 */
static void check_hessian_vector(gb_node *(*loss)(gb_graph *, gb_node *), const double want[3])
{
    gb_graph *g = gb_graph_new();
    gb_tensor *xv = gb_tensor_from(GB_F64, gb_dims(1, 3), (double[]){0.5, -1, 2});
    gb_node *x = gb_variable(g, "x", GB_F64, gb_dims(1, 3), gb_init_values(xv)), *w = gb_constant(g, "w", xv);
    gb_tensor_free(xv);
    gb_node *hw = gradient(g, gb_reduce_sum(g, gb_mul(g, gradient(g, loss(g, x), x), w), GB_ALL_AXES, 0), x);
    gb_session *s = gb_session_new(g, GB_CPU);
    const double *v = (const double *)run_once(s, g, hw);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(v[i], want[i], 1e-7, "element %d: %.9g, want %.9g", i, v[i], want[i]);
    gb_session_free(s);
    gb_graph_free(g);
}

static gb_node *sparse_xent_loss(gb_graph *g, gb_node *x)
{
    gb_tensor *zero = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){0});
    gb_node *labels = gb_constant(g, "labels", zero);
    gb_tensor_free(zero);
    return gb_reduce_sum(g, gb_sparse_softmax_cross_entropy(g, gb_reshape(g, x, gb_dims(2, 1, 3)), labels), GB_ALL_AXES, 0);
}

static gb_node *squares_plus_dense_xent_loss(gb_graph *g, gb_node *x)
{
    gb_tensor *onehot = gb_tensor_from(GB_F64, gb_dims(2, 1, 3), (double[]){1, 0, 0});
    gb_node *labels = gb_constant(g, "labels", onehot);
    gb_tensor_free(onehot);
    gb_node *xent = gb_softmax_cross_entropy(g, gb_reshape(g, x, gb_dims(2, 1, 3)), labels);
    return gb_add(g, gb_reduce_sum(g, gb_square(g, x), GB_ALL_AXES, 0), gb_reduce_sum(g, xent, GB_ALL_AXES, 0));
}

static gb_node *cubed_gather_loss(gb_graph *g, gb_node *x)
{
    gb_tensor *rows = gb_tensor_from(GB_I32, gb_dims(1, 2), (int32_t[]){0, 2});
    gb_node *ids = gb_constant(g, "ids", rows);
    gb_tensor_free(rows);
    gb_node *picked = gb_gather(g, x, ids);
    return gb_reduce_sum(g, gb_mul(g, picked, gb_mul(g, picked, picked)), GB_ALL_AXES, 0);
}

Test(autodiff_edges, second_derivatives_pass_through_the_cross_entropy_and_gather_gradients)
{
    /* the gradient ops of the fused cross-entropies and of gather had no gradient of their own:
     * autodiff dropped their term and answered 2w for the mixed loss. References: TensorFlow
     * 2.x GradientTape (dense, gather) and (diag(p) - p pᵀ) w by hand (sparse, label 0) */
    check_hessian_vector(sparse_xent_loss, (const double[]){-0.19627733, -0.10246425, 0.29874158});
    check_hessian_vector(squares_plus_dense_xent_loss, (const double[]){0.80372267, -2.10246425, 4.29874158});
    check_hessian_vector(cubed_gather_loss, (const double[]){6 * 0.5 * 0.5, 0, 6 * 2 * 2});
}

Test(autodiff_edges, stop_gradient_still_cuts_the_path_silently)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(3));
    gb_node *y = gb_add(g, gb_mul(g, x, x), gb_stop_gradient(g, gb_mul(g, x, x)));
    gb_node *dx;
    cr_assert_eq(gb_gradients(g, y, &x, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_float_eq(*(const float *)run_once(s, g, dx), 6.0f, 0);
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

Test(autodiff_edges, gradients_given_as_views_of_variables_are_taken_before_any_update)
{
    /* d(w1 w2)/dw1 = w2 and /dw2 = w1, given by hand as identity views of the variables: each
     * update must see the other variable as it was before the step, as autodiff's would */
    gb_graph *g = gb_graph_new();
    gb_node *w1 = gb_variable(g, "w1", GB_F32, gb_dims(0), gb_init_constant(10));
    gb_node *w2 = gb_variable(g, "w2", GB_F32, gb_dims(0), gb_init_constant(3));
    gb_node *train = gb_apply_gradients(g, gb_gradient_descent(1.0), (gb_node *[]){gb_identity(g, w2), gb_identity(g, w1)},
                                        (gb_node *[]){w1, w2}, 2);
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    float a = 10, b = 3;
    for (int step = 0; step < 2; step++) {
        cr_assert_eq(gb_session_run(s, NULL, 0, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
        float next_a = a - b, next_b = b - a;
        a = next_a, b = next_b;
        cr_assert_eq(*(const float *)gb_tensor_data(gb_session_variable(s, w1)), a, "step %d", step);
        cr_assert_eq(*(const float *)gb_tensor_data(gb_session_variable(s, w2)), b, "step %d", step);
    }
    gb_session_free(s);
    gb_graph_free(g);
}

Test(autodiff_edges, dropout_draws_one_mask_per_run_even_when_the_run_steps_twice)
{
    /* two train ops fetched together (a GAN's two steps) each add 1 to global_step; the second's
     * dropout gradient runs after the first's increment and must still use the forward mask:
     * with x = 1 and a = 1, d(sum h)/da[j] = sum_i h[i][j] */
    enum { N = 8, D = 32 };
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, N, D));
    gb_node *a = gb_variable(g, "a", GB_F32, gb_dims(1, D), gb_init_ones());
    gb_node *b = gb_variable(g, "b", GB_F32, gb_dims(1, D), gb_init_ones());
    gb_node *h = gb_dropout(g, gb_mul(g, x, a), 0.5, 7);
    gb_node *train1 = gb_minimize(g, gb_gradient_descent(0.0), gb_reduce_sum(g, gb_mul(g, h, b), GB_ALL_AXES, 0), &b, 1);
    gb_node *grad_a = gradient(g, gb_reduce_sum(g, h, GB_ALL_AXES, 0), a);
    gb_node *train2 = gb_apply_gradients(g, gb_gradient_descent(0.0), &grad_a, &a, 1);
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    float ones[N * D];
    for (int i = 0; i < N * D; i++) ones[i] = 1;
    gb_tensor *xt = gb_tensor_from(GB_F32, gb_dims(2, N, D), ones);
    gb_feed feed = {x, xt};
    for (int step = 0; step < 3; step++) {
        const gb_tensor *out[4];
        gb_session_set_stats(s, step == 0); /* node by node, then (on CUDA) captured and replayed */
        cr_assert_eq(gb_session_run(s, &feed, 1, (gb_node *[]){train1, train2, h, grad_a}, 4, out), GB_OK, "%s",
                     gb_errmsg());
        const float *hv = gb_tensor_data(out[2]), *gv = gb_tensor_data(out[3]);
        for (int j = 0; j < D; j++) {
            float want = 0;
            for (int i = 0; i < N; i++) want += hv[i * D + j];
            cr_assert_eq(gv[j], want, "step %d, column %d: the gradient's mask differs from the forward's", step, j);
        }
    }
    gb_tensor_free(xt);
    gb_session_free(s);
    gb_graph_free(g);
}

static gb_node *cubed_maximum_loss(gb_graph *g, gb_node *x)
{
    gb_node *m = gb_maximum(g, x, gb_scalar_of(g, GB_F64, 0));
    return gb_reduce_sum(g, gb_mul(g, m, gb_mul(g, m, m)), GB_ALL_AXES, 0);
}

/* maximum's gradient routes dy with a mask select (KeepWhere), whose own gradient carries second
 * derivatives: 6 max(x, 0) w where x >= 0 */
Test(autodiff_edges, second_derivatives_pass_through_maximum)
{
    check_hessian_vector(cubed_maximum_loss, (const double[]){6 * 0.5 * 0.5, 0, 6 * 2 * 2});
}

/* y = sign(x) depends on x: its gradient is zeros (TensorFlow's), not NULL, which callers read as
 * "y does not depend on x" (and gb_apply_gradients refused) */
Test(autodiff_edges, the_gradient_of_sign_is_zeros)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(1, 3), gb_init_constant(2));
    gb_node *dx = NULL;
    cr_assert_eq(gb_gradients(g, gb_sign(g, x), &x, 1, &dx), GB_OK, "%s", gb_graph_errmsg(g));
    cr_assert_not_null(dx);
    gb_session *s = gb_session_new(g, GB_CPU);
    const float *v = run_once(s, g, dx);
    for (int i = 0; i < 3; i++) cr_assert_eq(v[i], 0.0f, "dx[%d] = %g", i, v[i]);
    gb_session_free(s);
    gb_graph_free(g);
}

/* A step that fetches only its train op still computes the loss, and so whatever hangs off it (a
 * Print, a counter as a control dependency), as in TensorFlow. A constant seed gradient in place
 * of OnesLike(loss) once skipped both. */
Test(autodiff_edges, a_train_step_computes_its_loss_and_what_hangs_off_it)
{
    gb_graph *g = gb_graph_new();
    gb_node *w = gb_variable(g, "w", GB_F32, gb_dims(1, 3), gb_init_constant(0.5));
    gb_node *steps = gb_variable_ex(g, "loss_evaluations", GB_I64, gb_dims(0), gb_init_zeros(), 0);
    gb_node *count[] = {gb_assign_add(g, steps, gb_scalar_of(g, GB_I64, 1))};
    gb_node *loss = gb_control_deps(gb_reduce_sum(g, gb_square(g, w), GB_ALL_AXES, 0), 1, count);
    gb_node *train = gb_minimize(g, gb_gradient_descent(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    for (int i = 0; i < 3; i++) cr_assert_eq(gb_session_run(s, NULL, 0, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_tensor_get(gb_session_variable(s, steps), 0), 3, "the loss ran %g times in 3 steps",
                 gb_tensor_get(gb_session_variable(s, steps), 0));
    cr_assert_float_eq(gb_tensor_get(gb_session_variable(s, w), 0), 0.5 * 0.8 * 0.8 * 0.8, 1e-7);
    gb_session_free(s);
    gb_graph_free(g);
}
