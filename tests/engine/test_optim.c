/* Optimizers against closed-form updates, and a regression that must recover its weights. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

/* loss = sum(0.5 * w^2 * c) for w = [1, -2, 3] and c = [1, 2, 0.5]: grad = c * w. */
static const double start[3] = {1, -2, 3}, coef[3] = {1, 2, 0.5};

typedef struct trained {
    double w[8][3];          /* w after each step */
    gb_graph *g;
} trained;

static void train(gb_optimizer opt, int steps, trained *t)
{
    gb_graph *g = gb_graph_new();
    gb_tensor *w0 = gb_tensor_from(GB_F64, gb_dims(1, 3), start);
    gb_node *w = gb_variable(g, "w", GB_F64, gb_dims(1, 3), gb_init_values(w0));
    gb_tensor *c0 = gb_tensor_from(GB_F64, gb_dims(1, 3), coef);
    gb_node *loss = gb_reduce_sum(g, gb_mul(g, gb_mul(g, gb_scalar_of(g, GB_F64, 0.5), gb_square(g, w)),
                                            gb_constant(g, "c", c0)), GB_ALL_AXES, 0);
    gb_node *step = gb_minimize(g, opt, loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    for (int i = 0; i < steps; i++) {
        cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
        memcpy(t->w[i], gb_tensor_data(gb_session_variable(s, w)), sizeof t->w[i]);
    }
    const gb_tensor *gs = gb_session_variable(s, gb_global_step(g));
    cr_assert_eq(*(int64_t *)gb_tensor_data(gs), steps, "global_step after %d steps", steps);
    gb_session_free(s);
    gb_tensor_free(w0);
    gb_tensor_free(c0);
    t->g = g;
}

static void expect_close(const trained *t, double want[][3], int steps, const char *what)
{
    for (int i = 0; i < steps; i++)
        for (int k = 0; k < 3; k++)
            cr_assert(fabs(t->w[i][k] - want[i][k]) <= 1e-12 * fmax(1, fabs(want[i][k])),
                      "%s step %d w[%d] = %.15g, want %.15g", what, i + 1, k, t->w[i][k], want[i][k]);
}

Test(optim, gradient_descent)
{
    trained t;
    train(gb_gradient_descent(0.1), 5, &t);
    double want[5][3], w[3] = {start[0], start[1], start[2]};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++) want[i][k] = w[k] -= 0.1 * coef[k] * w[k];
    expect_close(&t, want, 5, "sgd");
    gb_graph_free(t.g);
}

Test(optim, momentum_and_nesterov)
{
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        trained t;
        train(gb_momentum(0.1, 0.9, nesterov), 6, &t);
        double want[6][3], w[3] = {start[0], start[1], start[2]}, acc[3] = {0};
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 3; k++) {
                double g = coef[k] * w[k];
                acc[k] = 0.9 * acc[k] + g;
                w[k] -= nesterov ? 0.1 * g + 0.1 * 0.9 * acc[k] : 0.1 * acc[k];
                want[i][k] = w[k];
            }
        expect_close(&t, want, 6, nesterov ? "nesterov" : "momentum");
        cr_assert_not_null(gb_graph_find(t.g, "w/Momentum"));
        gb_graph_free(t.g);
    }
}

Test(optim, adam_with_tensorflow_1_slots)
{
    trained t;
    train(gb_adam(0.01), 8, &t);
    double want[8][3], w[3] = {start[0], start[1], start[2]}, m[3] = {0}, v[3] = {0};
    double b1 = 0.9, b2 = 0.999, eps = 1e-8, b1p = b1, b2p = b2;
    for (int i = 0; i < 8; i++) {
        double lr_t = 0.01 * sqrt(1 - b2p) / (1 - b1p);
        for (int k = 0; k < 3; k++) {
            double g = coef[k] * w[k];
            m[k] += (g - m[k]) * (1 - b1);
            v[k] += (g * g - v[k]) * (1 - b2);
            w[k] -= lr_t * m[k] / (sqrt(v[k]) + eps);
            want[i][k] = w[k];
        }
        b1p *= b1, b2p *= b2;
    }
    expect_close(&t, want, 8, "adam");
    cr_assert_not_null(gb_graph_find(t.g, "w/Adam"));
    cr_assert_not_null(gb_graph_find(t.g, "w/Adam_1"));
    cr_assert_not_null(gb_graph_find(t.g, "beta1_power"));
    cr_assert_not_null(gb_graph_find(t.g, "beta2_power"));
    cr_assert_not_null(gb_graph_find(t.g, "global_step"));
    gb_graph_free(t.g);
}

/* y = X w + b on synthetic data, fitted by gradient descent on the mean squared error. */
Test(optim, linear_regression_recovers_the_weights)
{
    enum { N = 256, D = 3 };
    const float true_w[D] = {2.0f, -3.0f, 0.5f}, true_b = 1.0f;
    float *xs = malloc(N * D * sizeof *xs), *ys = malloc(N * sizeof *ys);
    uint64_t r = 12345;
    for (int i = 0; i < N; i++) {
        ys[i] = true_b;
        for (int k = 0; k < D; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            xs[i * D + k] = (float)((double)(r >> 11) / 9007199254740992.0 * 2 - 1);
            ys[i] += true_w[k] * xs[i * D + k];
        }
    }
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, D));
    gb_node *y = gb_placeholder(g, "y", GB_F32, gb_dims(2, -1, 1));
    gb_node *w = gb_variable(g, "w", GB_F32, gb_dims(2, D, 1), gb_init_normal(0, 0.1, 1));
    gb_node *b = gb_variable(g, "b", GB_F32, gb_dims(1, 1), gb_init_zeros());
    gb_node *pred = gb_add(g, gb_matmul(g, x, w, 0, 0), b);
    gb_node *loss = gb_reduce_mean(g, gb_square(g, gb_sub(g, pred, y)), GB_ALL_AXES, 0);
    gb_node *step = gb_minimize(g, gb_gradient_descent(0.3), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *xt = gb_tensor_from(GB_F32, gb_dims(2, N, D), xs), *yt = gb_tensor_from(GB_F32, gb_dims(2, N, 1), ys);
    gb_feed feeds[] = {{x, xt}, {y, yt}};
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK);
    for (int i = 0; i < 500; i++) cr_assert_eq(gb_session_run(s, feeds, 2, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
    const float *wv = gb_tensor_data(gb_session_variable(s, w)), *bv = gb_tensor_data(gb_session_variable(s, b));
    for (int k = 0; k < D; k++) cr_assert_float_eq(wv[k], true_w[k], 1e-3, "w[%d] = %g, want %g", k, wv[k], true_w[k]);
    cr_assert_float_eq(bv[0], true_b, 1e-3, "b = %g", bv[0]);
    const gb_tensor *final_loss;
    cr_assert_eq(gb_session_run(s, feeds, 2, &loss, 1, &final_loss), GB_OK);
    cr_assert_lt(gb_tensor_get(final_loss, 0), 1e-8);
    gb_tensor_free(xt);
    gb_tensor_free(yt);
    gb_session_free(s);
    gb_graph_free(g);
    free(xs);
    free(ys);
}

Test(optim, rmsprop_adagrad_adamw)
{
    trained t;
    train(gb_rmsprop(0.01), 5, &t);
    double want[8][3], w[3], s1[3], s2[3];
    for (int k = 0; k < 3; k++) w[k] = start[k], s1[k] = 1, s2[k] = 0;
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++) {
            double g = coef[k] * w[k];
            s1[k] += (g * g - s1[k]) * (1 - 0.9);
            s2[k] = 0 * s2[k] + 0.01 * g / sqrt(s1[k] + 1e-10);
            want[i][k] = w[k] -= s2[k];
        }
    expect_close(&t, want, 5, "rmsprop");
    cr_assert_not_null(gb_graph_find(t.g, "w/RMSProp_1"));
    gb_graph_free(t.g);

    train(gb_adagrad(0.1), 5, &t);
    for (int k = 0; k < 3; k++) w[k] = start[k], s1[k] = 0.1;
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++) {
            double g = coef[k] * w[k];
            s1[k] += g * g;
            want[i][k] = w[k] -= 0.1 * g / sqrt(s1[k]);
        }
    expect_close(&t, want, 5, "adagrad");
    gb_graph_free(t.g);

    train(gb_adamw(0.01, 0.1), 6, &t);
    double m[3] = {0}, v[3] = {0}, b1p = 0.9, b2p = 0.999;
    for (int k = 0; k < 3; k++) w[k] = start[k];
    for (int i = 0; i < 6; i++) {
        double lr_t = 0.01 * sqrt(1 - b2p) / (1 - b1p);
        for (int k = 0; k < 3; k++) {
            double g = coef[k] * w[k];
            w[k] -= 0.01 * 0.1 * w[k];
            m[k] += (g - m[k]) * 0.1;
            v[k] += (g * g - v[k]) * 0.001;
            want[i][k] = w[k] -= lr_t * m[k] / (sqrt(v[k]) + 1e-8);
        }
        b1p *= 0.9, b2p *= 0.999;
    }
    expect_close(&t, want, 6, "adamw");
    cr_assert_not_null(gb_graph_find(t.g, "w/AdamW_1"));
    gb_graph_free(t.g);
}

Test(optim, clipping_by_global_norm)
{
    gb_optimizer opt = gb_gradient_descent(0.1);
    opt.clip_norm = 1.0;
    trained t;
    train(opt, 3, &t);
    double want[3][3], w[3] = {start[0], start[1], start[2]};
    for (int i = 0; i < 3; i++) {
        double g[3], norm = 0;
        for (int k = 0; k < 3; k++) g[k] = coef[k] * w[k], norm += g[k] * g[k];
        norm = sqrt(norm);
        double scale = 1.0 / fmax(norm, 1.0);
        for (int k = 0; k < 3; k++) want[i][k] = w[k] -= 0.1 * g[k] * scale;
    }
    expect_close(&t, want, 3, "clipped sgd");
    gb_graph_free(t.g);
}

Test(optim, learning_rate_schedules_follow_global_step)
{
    gb_graph *g = gb_graph_new();
    gb_node *w = gb_variable(g, "w", GB_F32, gb_dims(0), gb_init_ones());
    gb_node *exp_lr = gb_exponential_decay(g, 0.1, 10, 0.5, 0);
    gb_node *stair = gb_exponential_decay(g, 0.1, 10, 0.5, 1);
    gb_node *cosine = gb_cosine_decay(g, 0.1, 100, 0.0);
    gb_node *stepped = gb_step_decay(g, 0.1, 30, 0.1);
    gb_optimizer opt = gb_gradient_descent(0);
    opt.learning_rate_node = exp_lr;
    gb_node *train_op = gb_minimize(g, opt, gb_square(g, w), NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_session_run(s, NULL, 0, &init, 1, NULL);
    gb_node *fetches[] = {exp_lr, stair, cosine, stepped};
    for (int step = 0; step < 50; step++) {
        const gb_tensor *out[4];
        cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 4, out), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_tensor_get(out[0], 0), (double)(float)(0.1 * pow(0.5, step / 10.0)));
        cr_assert_eq(gb_tensor_get(out[1], 0), (double)(float)(0.1 * pow(0.5, floor(step / 10.0))));
        cr_assert_eq(gb_tensor_get(out[2], 0), (double)(float)(0.1 * 0.5 * (1 + cos(M_PI * step / 100.0))));
        cr_assert_eq(gb_tensor_get(out[3], 0), (double)(float)(0.1 * pow(0.1, floor(step / 30.0))));
        cr_assert_eq(gb_session_run(s, NULL, 0, &train_op, 1, NULL), GB_OK);
    }
    gb_session_free(s);
    gb_graph_free(g);
}

/* gb_gradients + gb_apply_gradients is gb_minimize with the gradients in the caller's hands: the
 * gradient fetched in the same run is the one the update used. */
Test(optim, apply_gradients_uses_the_fetched_gradient)
{
    gb_graph *g = gb_graph_new();
    gb_tensor *w0 = gb_tensor_from(GB_F64, gb_dims(1, 3), start);
    gb_node *w = gb_variable(g, "w", GB_F64, gb_dims(1, 3), gb_init_values(w0));
    gb_tensor *c0 = gb_tensor_from(GB_F64, gb_dims(1, 3), coef);
    gb_node *loss = gb_reduce_sum(g, gb_mul(g, gb_mul(g, gb_scalar_of(g, GB_F64, 0.5), gb_square(g, w)),
                                            gb_constant(g, "c", c0)), GB_ALL_AXES, 0);
    gb_node *grad;
    gb_gradients(g, loss, &w, 1, &grad);
    gb_node *train = gb_apply_gradients(g, gb_gradient_descent(0.1), &grad, &w, 1);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    double w_now[3] = {start[0], start[1], start[2]};
    for (int step = 0; step < 3; step++) {
        gb_node *fetches[2] = {train, grad};
        const gb_tensor *out[2];
        cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 2, out), GB_OK, "%s", gb_errmsg());
        const double *got = gb_tensor_data(out[1]);
        const double *w_after = gb_tensor_data(gb_session_variable(s, w));
        for (int k = 0; k < 3; k++) {
            cr_assert_float_eq(got[k], coef[k] * w_now[k], 1e-12, "step %d grad[%d]", step, k);
            w_now[k] -= 0.1 * coef[k] * w_now[k];
            cr_assert_float_eq(w_after[k], w_now[k], 1e-12, "step %d w[%d]", step, k);
        }
    }
    cr_assert_eq(gb_tensor_get(gb_session_variable(s, gb_global_step(g)), 0), 3);
    gb_session_free(s);
    gb_tensor_free(w0);
    gb_tensor_free(c0);
    gb_graph_free(g);
}

Test(optim, apply_gradients_refuses_a_non_variable)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_scalar(g, 2.0);
    gb_node *grad = gb_scalar(g, 1.0);
    cr_assert_null(gb_apply_gradients(g, gb_gradient_descent(0.1), &grad, &x, 1));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    cr_assert(strstr(gb_graph_errmsg(g), "not a variable"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);
}
