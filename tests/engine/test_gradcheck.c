/* Every op's gradient against central finite differences in float64, at random shapes
 * (broadcasting included). A failure names the op, the input and the worst element. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

enum { MAX_INPUTS = 3, TRIALS = 4 };

typedef gb_node *(*build_fn)(gb_graph *g, gb_node **in);

/* A dimension > 0 is fixed; a negative one, -k, is the random size number k (1..4), shared by
 * every input of the case so that they broadcast. */
typedef struct grad_case {
    const char *name;
    int n_inputs;
    gb_shape shapes[MAX_INPUTS];
    double lo, hi;      /* input values are uniform in [lo, hi) ... */
    int away_from_zero; /* ... and kept at least 0.1 from 0 (abs, relu kinks) */
    build_fn build;
} grad_case;

static uint64_t rng = 88172645463325252ULL;
static double uniform(double lo, double hi)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static gb_shape concrete(const gb_shape *spec, const int64_t *sizes)
{
    gb_shape s = *spec;
    for (int i = 0; i < s.rank; i++)
        if (s.dim[i] < 0) s.dim[i] = sizes[-s.dim[i]];
    return s;
}

/* y = sum(op(inputs) * weights): random weights make every output element matter differently. */
static void check_case(const grad_case *c)
{
    for (int trial = 0; trial < TRIALS; trial++) {
        int64_t sizes[8];
        for (int k = 0; k < 8; k++) sizes[k] = 1 + (int64_t)uniform(0, 4);
        gb_graph *g = gb_graph_new();
        gb_node *in[MAX_INPUTS];
        gb_tensor *values[MAX_INPUTS];
        gb_feed feeds[MAX_INPUTS];
        for (int i = 0; i < c->n_inputs; i++) {
            gb_shape s = concrete(&c->shapes[i], sizes);
            char name[8];
            snprintf(name, sizeof name, "in%d", i);
            in[i] = gb_placeholder(g, name, GB_F64, s);
            values[i] = gb_tensor_new(GB_F64, s);
            double *d = gb_tensor_data(values[i]);
            for (int64_t j = 0; j < gb_shape_elements(&s); j++) {
                double v = uniform(c->lo, c->hi);
                if (c->away_from_zero && fabs(v) < 0.1) v = v < 0 ? v - 0.1 : v + 0.1;
                d[j] = v;
            }
            feeds[i] = (gb_feed){in[i], values[i]};
        }
        gb_node *out = c->build(g, in);
        cr_assert_eq(gb_graph_status(g), GB_OK, "%s: %s", c->name, gb_graph_errmsg(g));
        gb_shape out_shape = gb_node_shape(out);
        /* the output's run-time shape may hold unknowns: evaluate once to get it */
        gb_session *s = gb_session_new(g, GB_CPU);
        cr_assert_not_null(s, "%s: %s", c->name, gb_errmsg());
        const gb_tensor *out_value;
        cr_assert_eq(gb_session_run(s, feeds, (size_t)c->n_inputs, &out, 1, &out_value), GB_OK, "%s: %s", c->name, gb_errmsg());
        out_shape = *gb_tensor_shape(out_value);
        gb_tensor *weights = gb_tensor_new(GB_F64, out_shape);
        for (int64_t j = 0; j < gb_tensor_elements(weights); j++) ((double *)gb_tensor_data(weights))[j] = uniform(-1, 1);
        gb_node *y = gb_reduce_sum(g, gb_mul(g, out, gb_constant(g, "weights", weights)), GB_ALL_AXES, 0);
        gb_node *grads[MAX_INPUTS];
        gb_gradients(g, y, in, (size_t)c->n_inputs, grads);
        cr_assert_eq(gb_graph_status(g), GB_OK, "%s: %s", c->name, gb_graph_errmsg(g));

        for (int i = 0; i < c->n_inputs; i++) {
            if (!grads[i]) continue; /* no gradient (e.g. an index input) */
            const gb_tensor *analytic;
            cr_assert_eq(gb_session_run(s, feeds, (size_t)c->n_inputs, &grads[i], 1, &analytic), GB_OK, "%s: %s",
                         c->name, gb_errmsg());
            cr_assert(gb_shape_equal(gb_tensor_shape(analytic), gb_tensor_shape(values[i])),
                      "%s: the gradient of input %d has the wrong shape", c->name, i);
            int64_t n = gb_tensor_elements(values[i]);
            double *analytic_copy = malloc((size_t)(n + 1) * sizeof(double));
            memcpy(analytic_copy, gb_tensor_data(analytic), (size_t)n * sizeof(double));
            double worst = 0, worst_analytic = 0, worst_numeric = 0;
            int64_t worst_at = -1;
            double *x = gb_tensor_data(values[i]);
            for (int64_t j = 0; j < n; j++) {
                const double eps = 1e-6;
                double saved = x[j];
                const gb_tensor *yv;
                x[j] = saved + eps;
                cr_assert_eq(gb_session_run(s, feeds, (size_t)c->n_inputs, &y, 1, &yv), GB_OK);
                double up = gb_tensor_get(yv, 0);
                x[j] = saved - eps;
                cr_assert_eq(gb_session_run(s, feeds, (size_t)c->n_inputs, &y, 1, &yv), GB_OK);
                double down = gb_tensor_get(yv, 0);
                x[j] = saved;
                double numeric = (up - down) / (2 * eps);
                double error = fabs(numeric - analytic_copy[j]) / fmax(1.0, fabs(numeric));
                if (error > worst) worst = error, worst_at = j, worst_analytic = analytic_copy[j], worst_numeric = numeric;
            }
            free(analytic_copy);
            cr_assert_lt(worst, 1e-6, "%s (trial %d): input %d element %lld: autodiff %.10g, finite differences %.10g",
                         c->name, trial, i, (long long)worst_at, worst_analytic, worst_numeric);
        }
        gb_session_free(s);
        for (int i = 0; i < c->n_inputs; i++) gb_tensor_free(values[i]);
        gb_tensor_free(weights);
        gb_graph_free(g);
    }
}

#define S(...) gb_dims(__VA_ARGS__)

static gb_node *b_add(gb_graph *g, gb_node **in) { return gb_add(g, in[0], in[1]); }
static gb_node *b_sub(gb_graph *g, gb_node **in) { return gb_sub(g, in[0], in[1]); }
static gb_node *b_mul(gb_graph *g, gb_node **in) { return gb_mul(g, in[0], in[1]); }
static gb_node *b_div(gb_graph *g, gb_node **in) { return gb_div(g, in[0], in[1]); }
static gb_node *b_pow(gb_graph *g, gb_node **in) { return gb_pow(g, in[0], in[1]); }
static gb_node *b_pow_scalar(gb_graph *g, gb_node **in) { return gb_pow_scalar(g, in[0], 3.0); }
static gb_node *b_maximum(gb_graph *g, gb_node **in) { return gb_maximum(g, in[0], in[1]); }
static gb_node *b_minimum(gb_graph *g, gb_node **in) { return gb_minimum(g, in[0], in[1]); }

Test(gradcheck, binary_ops_with_broadcasting)
{
    const grad_case cases[] = {
        {"add [a,b]+[b]", 2, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, b_add},
        {"add [a,1,b]+[c,1]", 2, {S(3, -1, 1, -2), S(2, -3, 1)}, -2, 2, 0, b_add},
        {"sub scalar-[a,b]", 2, {S(0), S(2, -1, -2)}, -2, 2, 0, b_sub},
        {"mul [a,b]*[a,1]", 2, {S(2, -1, -2), S(2, -1, 1)}, -2, 2, 0, b_mul},
        {"mul [a,b]*[a,b]", 2, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, b_mul},
        {"div [a,b]/[b]", 2, {S(2, -1, -2), S(1, -2)}, 0.5, 2, 0, b_div},
        {"pow [a,b]^[b]", 2, {S(2, -1, -2), S(1, -2)}, 0.5, 2, 0, b_pow},
        {"pow [a,b]^3", 1, {S(2, -1, -2)}, -2, 2, 0, b_pow_scalar},
        {"maximum [a,b],[b]", 2, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, b_maximum},
        {"minimum [a,b],[a,b]", 2, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, b_minimum},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

static gb_node *u_neg(gb_graph *g, gb_node **in) { return gb_neg(g, in[0]); }
static gb_node *u_square(gb_graph *g, gb_node **in) { return gb_square(g, in[0]); }
static gb_node *u_sqrt(gb_graph *g, gb_node **in) { return gb_sqrt(g, in[0]); }
static gb_node *u_exp(gb_graph *g, gb_node **in) { return gb_exp(g, in[0]); }
static gb_node *u_log(gb_graph *g, gb_node **in) { return gb_log(g, in[0]); }
static gb_node *u_abs(gb_graph *g, gb_node **in) { return gb_abs(g, in[0]); }
static gb_node *u_relu(gb_graph *g, gb_node **in) { return gb_relu(g, in[0]); }
static gb_node *u_leaky(gb_graph *g, gb_node **in) { return gb_leaky_relu(g, in[0], 0.2); }
static gb_node *u_sigmoid(gb_graph *g, gb_node **in) { return gb_sigmoid(g, in[0]); }
static gb_node *u_tanh(gb_graph *g, gb_node **in) { return gb_tanh(g, in[0]); }
static gb_node *u_identity(gb_graph *g, gb_node **in) { return gb_identity(g, in[0]); }

Test(gradcheck, unary_ops)
{
    const grad_case cases[] = {
        {"neg", 1, {S(2, -1, -2)}, -2, 2, 0, u_neg},
        {"square", 1, {S(2, -1, -2)}, -2, 2, 0, u_square},
        {"sqrt", 1, {S(2, -1, -2)}, 0.5, 3, 0, u_sqrt},
        {"exp", 1, {S(2, -1, -2)}, -2, 2, 0, u_exp},
        {"log", 1, {S(2, -1, -2)}, 0.5, 3, 0, u_log},
        {"abs", 1, {S(2, -1, -2)}, -2, 2, 1, u_abs},
        {"relu", 1, {S(2, -1, -2)}, -2, 2, 1, u_relu},
        {"leaky_relu", 1, {S(2, -1, -2)}, -2, 2, 1, u_leaky},
        {"sigmoid", 1, {S(2, -1, -2)}, -4, 4, 0, u_sigmoid},
        {"tanh", 1, {S(2, -1, -2)}, -3, 3, 0, u_tanh},
        {"identity", 1, {S(2, -1, -2)}, -3, 3, 0, u_identity},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

static gb_node *m_nn(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 0, 0); }
static gb_node *m_nt(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 0, 1); }
static gb_node *m_tn(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 1, 0); }
static gb_node *m_tt(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 1, 1); }

Test(gradcheck, matmul_with_every_transpose_and_batched)
{
    const grad_case cases[] = {
        {"matmul", 2, {S(2, -1, -2), S(2, -2, -3)}, -1, 1, 0, m_nn},
        {"matmul transpose_b", 2, {S(2, -1, -2), S(2, -3, -2)}, -1, 1, 0, m_nt},
        {"matmul transpose_a", 2, {S(2, -2, -1), S(2, -2, -3)}, -1, 1, 0, m_tn},
        {"matmul both transposed", 2, {S(2, -2, -1), S(2, -3, -2)}, -1, 1, 0, m_tt},
        {"batched matmul", 2, {S(3, -4, -1, -2), S(3, -4, -2, -3)}, -1, 1, 0, m_nn},
        {"batched matmul transpose_b", 2, {S(3, -4, -1, -2), S(3, -4, -3, -2)}, -1, 1, 0, m_nt},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

static gb_node *r_sum_all(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_ALL_AXES, 0); }
static gb_node *r_sum_1(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_AXIS(1), 0); }
static gb_node *r_sum_02_keep(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_AXIS(0) | GB_AXIS(2), 1); }
static gb_node *r_mean_0(gb_graph *g, gb_node **in) { return gb_reduce_mean(g, in[0], GB_AXIS(0), 0); }
static gb_node *r_mean_all_keep(gb_graph *g, gb_node **in) { return gb_reduce_mean(g, in[0], GB_ALL_AXES, 1); }
static gb_node *r_max_1(gb_graph *g, gb_node **in) { return gb_reduce_max(g, in[0], GB_AXIS(1), 0); }
static gb_node *r_max_all(gb_graph *g, gb_node **in) { return gb_reduce_max(g, in[0], GB_ALL_AXES, 0); }

Test(gradcheck, reductions_over_axes)
{
    const grad_case cases[] = {
        {"sum all", 1, {S(3, -1, -2, -3)}, -2, 2, 0, r_sum_all},
        {"sum axis 1", 1, {S(3, -1, -2, -3)}, -2, 2, 0, r_sum_1},
        {"sum axes 0,2 keepdims", 1, {S(3, -1, -2, -3)}, -2, 2, 0, r_sum_02_keep},
        {"mean axis 0", 1, {S(2, -1, -2)}, -2, 2, 0, r_mean_0},
        {"mean all keepdims", 1, {S(3, -1, -2, -3)}, -2, 2, 0, r_mean_all_keep},
        {"max axis 1", 1, {S(3, -1, -2, -3)}, -2, 2, 0, r_max_1},
        {"max all", 1, {S(2, -1, -2)}, -2, 2, 0, r_max_all},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

static gb_node *s_reshape(gb_graph *g, gb_node **in) { return gb_reshape(g, in[0], S(2, -1, 2)); }
static gb_node *s_transpose(gb_graph *g, gb_node **in) { return gb_transpose(g, in[0], (int[]){2, 0, 1}); }
static gb_node *s_slice(gb_graph *g, gb_node **in) { return gb_slice(g, in[0], S(2, 1, 0), S(2, 2, -1)); }
static gb_node *s_concat(gb_graph *g, gb_node **in) { return gb_concat(g, 2, in, 1); }

Test(gradcheck, data_movement)
{
    const grad_case cases[] = {
        {"reshape", 1, {S(3, -1, 2, -2)}, -2, 2, 0, s_reshape},
        {"transpose", 1, {S(3, -1, -2, -3)}, -2, 2, 0, s_transpose},
        {"slice", 1, {S(2, 4, -2)}, -2, 2, 0, s_slice},
        {"concat axis 1", 2, {S(2, -1, 2), S(2, -1, 3)}, -2, 2, 0, s_concat},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* Second derivatives: the gradient's own gradient, checked the same way. */
static gb_node *grad_of(gb_graph *g, gb_node *y, gb_node *x)
{
    gb_node *d;
    gb_gradients(g, gb_reduce_sum(g, y, GB_ALL_AXES, 0), &x, 1, &d);
    return d;
}
static gb_node *d_tanh(gb_graph *g, gb_node **in) { return grad_of(g, gb_tanh(g, in[0]), in[0]); }
static gb_node *d_sigmoid(gb_graph *g, gb_node **in) { return grad_of(g, gb_sigmoid(g, in[0]), in[0]); }
static gb_node *d_cube(gb_graph *g, gb_node **in) { return grad_of(g, gb_mul(g, in[0], gb_square(g, in[0])), in[0]); }
static gb_node *d_matmul(gb_graph *g, gb_node **in)
{
    return grad_of(g, gb_square(g, gb_matmul(g, in[0], in[1], 0, 0)), in[0]);
}
static gb_node *d_mean_max(gb_graph *g, gb_node **in)
{
    return grad_of(g, gb_square(g, gb_reduce_mean(g, gb_mul(g, in[0], in[1]), GB_AXIS(0), 0)), in[1]);
}

Test(gradcheck, second_derivatives)
{
    const grad_case cases[] = {
        {"d/dx tanh", 1, {S(2, -1, -2)}, -2, 2, 0, d_tanh},
        {"d/dx sigmoid", 1, {S(2, -1, -2)}, -2, 2, 0, d_sigmoid},
        {"d/dx x^3", 1, {S(2, -1, -2)}, -2, 2, 0, d_cube},
        {"d/dA (AB)^2", 2, {S(2, -1, -2), S(2, -2, -3)}, -1, 1, 0, d_matmul},
        {"d/dB mean(A*B)^2", 2, {S(2, -1, -2), S(1, -2)}, -1, 1, 0, d_mean_max},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* Integer labels for the first dimension of x, as a constant of the graph. */
static gb_node *labels_for(gb_graph *g, gb_node *x, int64_t classes)
{
    int64_t rows = gb_node_shape(x).dim[0];
    int32_t labels[16];
    for (int64_t i = 0; i < rows; i++) labels[i] = (int32_t)uniform(0, (double)classes);
    gb_tensor *t = gb_tensor_from(GB_I32, gb_dims(1, (int)rows), labels);
    gb_node *c = gb_constant(g, "labels", t);
    gb_tensor_free(t);
    return c;
}

static gb_node *n_softmax(gb_graph *g, gb_node **in) { return gb_softmax(g, in[0]); }
static gb_node *n_log_softmax(gb_graph *g, gb_node **in) { return gb_log_softmax(g, in[0]); }
static gb_node *n_sparse_xent(gb_graph *g, gb_node **in)
{
    return gb_sparse_softmax_cross_entropy(g, in[0], labels_for(g, in[0], 5));
}
static gb_node *n_xent(gb_graph *g, gb_node **in) { return gb_softmax_cross_entropy(g, in[0], in[1]); }
static gb_node *n_sigmoid_xent(gb_graph *g, gb_node **in) { return gb_sigmoid_cross_entropy(g, in[0], in[1]); }
static gb_node *n_mse(gb_graph *g, gb_node **in) { return gb_mean_squared_error(g, in[0], in[1]); }
static gb_node *n_gather(gb_graph *g, gb_node **in)
{
    int32_t idx[] = {4, 0, 4, 2};
    gb_tensor *t = gb_tensor_from(GB_I32, gb_dims(1, 4), idx);
    gb_node *c = gb_constant(g, "indices", t);
    gb_tensor_free(t);
    return gb_gather(g, in[0], c);
}
static gb_node *n_dense_relu(gb_graph *g, gb_node **in) { return gb_relu(g, gb_add(g, gb_matmul(g, in[0], in[1], 0, 0), in[2])); }
static gb_node *n_dense_tanh(gb_graph *g, gb_node **in) { return gb_tanh(g, gb_add(g, gb_matmul(g, in[0], in[1], 0, 0), in[2])); }
static gb_node *n_print(gb_graph *g, gb_node **in) { return gb_print(g, gb_square(g, in[0]), "", 0, NULL, 0); }

Test(gradcheck, neural_network_ops)
{
    const grad_case cases[] = {
        {"softmax", 1, {S(2, -1, -2)}, -3, 3, 0, n_softmax},
        {"log_softmax", 1, {S(3, -1, -2, -3)}, -3, 3, 0, n_log_softmax},
        {"sparse softmax cross-entropy", 1, {S(2, -1, 5)}, -3, 3, 0, n_sparse_xent},
        {"softmax cross-entropy (soft labels too)", 2, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, n_xent},
        {"sigmoid cross-entropy", 2, {S(2, -1, -2), S(2, -1, -2)}, -0.9, 0.9, 0, n_sigmoid_xent},
        {"mean squared error", 2, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, n_mse},
        {"gather rows", 1, {S(2, 5, -2)}, -2, 2, 0, n_gather},
        {"print passes through", 1, {S(1, -1)}, -2, 2, 0, n_print},
        {"dense + relu (fused bias add)", 3, {S(2, -1, -2), S(2, -2, -3), S(1, -3)}, -1, 1, 0, n_dense_relu},
        {"dense + tanh (fused bias add)", 3, {S(2, -1, -2), S(2, -2, -3), S(1, -3)}, -1, 1, 0, n_dense_tanh},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

Test(gradcheck, dropout_masks_gradient_like_the_output)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(1, 1000));
    gb_node *y = gb_dropout(g, x, 0.3, 42);
    gb_node *dx;
    gb_gradients(g, y, &x, 1, &dx);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *xv = gb_tensor_new(GB_F32, gb_dims(1, 1000));
    for (int i = 0; i < 1000; i++) ((float *)gb_tensor_data(xv))[i] = 1.0f;
    gb_feed feed = {x, xv};
    gb_node *fetches[] = {y, dx};
    const gb_tensor *out[2];
    float first_mask[1000];
    for (int run = 0; run < 2; run++) {
        cr_assert_eq(gb_session_run(s, &feed, 1, fetches, 2, out), GB_OK, "%s", gb_errmsg());
        const float *yv = gb_tensor_data(out[0]), *gv = gb_tensor_data(out[1]);
        int kept = 0, same_as_first = 0;
        for (int i = 0; i < 1000; i++) {
            cr_assert(yv[i] == 0 || fabsf(yv[i] - 1 / 0.7f) < 1e-6f, "y[%d] = %g", i, yv[i]);
            cr_assert_eq(yv[i], gv[i], "the gradient's mask differs from the output's at %d", i);
            kept += yv[i] != 0;
            if (run == 0) first_mask[i] = yv[i];
            else same_as_first += first_mask[i] == yv[i];
        }
        cr_assert(kept > 640 && kept < 760, "kept %d of 1000 at rate 0.3", kept);
        if (run == 1) cr_assert_lt(same_as_first, 1000, "the mask must change from one run to the next");
    }
    gb_tensor_free(xv);
    gb_session_free(s);
    gb_graph_free(g);
}

/* ---- gradients at points where the formula needs care, against TensorFlow's values ---- */

typedef gb_node *(*fixed_fn)(gb_graph *g, gb_node *x, gb_node *other);

/* d(sum(f(x, other)))/dx (of_other: d/dother) at fixed values of one dtype, within a relative
 * tolerance (exactly where want is 0); want NAN for NaN. */
static void expect_gradient(gb_dtype dt, fixed_fn f, const double *x, const double *other, int n, int of_other,
                            const double *want, const char *what)
{
    gb_graph *g = gb_graph_new();
    gb_node *in[2] = {gb_placeholder(g, "x", dt, gb_dims(1, n)), gb_placeholder(g, "other", dt, gb_dims(1, n))};
    gb_tensor *values[2] = {gb_tensor_new(dt, gb_dims(1, n)), gb_tensor_new(dt, gb_dims(1, n))};
    for (int i = 0; i < n; i++) {
        double v[2] = {x[i], other ? other[i] : 0};
        for (int k = 0; k < 2; k++) {
            if (dt == GB_F64) ((double *)gb_tensor_data(values[k]))[i] = v[k];
            else ((float *)gb_tensor_data(values[k]))[i] = (float)v[k];
        }
    }
    gb_node *y = gb_reduce_sum(g, f(g, in[0], in[1]), GB_ALL_AXES, 0), *d;
    gb_gradients(g, y, &in[of_other], 1, &d);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s: %s", what, gb_graph_errmsg(g));
    cr_assert_not_null(d, "%s: no gradient", what);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_feed feeds[] = {{in[0], values[0]}, {in[1], values[1]}};
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, feeds, 2, &d, 1, &out), GB_OK, "%s: %s", what, gb_errmsg());
    double tolerance = dt == GB_F64 ? 1e-12 : 1e-6;
    for (int i = 0; i < n; i++) {
        double got = gb_tensor_get(out, i);
        if (isnan(want[i]))
            cr_assert(isnan(got), "%s %s[%d]: %.9g, want NaN", gb_dtype_name(dt), what, i, got);
        else
            cr_assert(fabs(got - want[i]) <= tolerance * fabs(want[i]), "%s %s[%d]: %.9g, want %.9g",
                      gb_dtype_name(dt), what, i, got, want[i]);
    }
    gb_session_free(s);
    gb_tensor_free(values[0]);
    gb_tensor_free(values[1]);
    gb_graph_free(g);
}

static gb_node *f_sigmoid_xent(gb_graph *g, gb_node *x, gb_node *z) { return gb_sigmoid_cross_entropy(g, x, z); }

/* sigmoid(x) - z everywhere, logit 0 included (a max/abs composite has kinks there); -x for the
 * labels. */
Test(gradcheck, sigmoid_cross_entropy_gradient_is_sigmoid_minus_labels)
{
    const double x[] = {0, 0, 30, -30, 100, -1e30, 1e30}, z[] = {0, 1, 1, 0, 0.5, 1, 0};
    const double dx[] = {0.5, -0.5, -9.357622968840175e-14, 9.357622968840175e-14, 0.5, -1, 1};
    const double dz[] = {-0, -0, -30, 30, -100, 1e30, -1e30};
    for (int d = 0; d < 2; d++) {
        gb_dtype dt = d ? GB_F64 : GB_F32;
        expect_gradient(dt, f_sigmoid_xent, x, z, 7, 0, dx, "d/dlogits");
        expect_gradient(dt, f_sigmoid_xent, x, z, 7, 1, dz, "d/dlabels");
    }
}

static gb_node *f_pow(gb_graph *g, gb_node *a, gb_node *w) { return gb_pow(g, a, w); }

/* d(a^w)/dw = a^w log(a), taken as 0 where a <= 0 (TensorFlow), in float32 too. */
Test(gradcheck, pow_gradient_for_the_exponent_is_zero_where_the_base_is_not_positive)
{
    const double a[] = {-2, 0, 0, 2}, w[] = {3, 3, 0, 3};
    const double dw[] = {0, 0, 0, 8 * 0.69314718055994531};
    expect_gradient(GB_F32, f_pow, a, w, 4, 1, dw, "d/dexponent");
    expect_gradient(GB_F64, f_pow, a, w, 4, 1, dw, "d/dexponent");
}

static gb_node *f_relu(gb_graph *g, gb_node *x, gb_node *unused)
{
    (void)unused;
    return gb_relu(g, x);
}

/* relu lets NaN through, its gradient does not (x > 0 is false for NaN, as in TensorFlow). */
Test(gradcheck, relu_gradient_at_nan_is_zero)
{
    const double x[] = {NAN, -1, 2}, dx[] = {0, 0, 1};
    expect_gradient(GB_F32, f_relu, x, NULL, 3, 0, dx, "d relu");
}

static gb_node *f_log_softmax_picked(gb_graph *g, gb_node *x, gb_node *z)
{
    return gb_mul(g, gb_log_softmax(g, gb_reshape(g, x, gb_dims(2, 1, 2))), gb_reshape(g, z, gb_dims(2, 1, 2)));
}
static gb_node *f_sparse_xent(gb_graph *g, gb_node *x, gb_node *unused)
{
    (void)unused;
    gb_tensor *t = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){0});
    gb_node *labels = gb_constant(g, "labels", t);
    gb_tensor_free(t);
    return gb_sparse_softmax_cross_entropy(g, gb_reshape(g, x, gb_dims(2, 1, 2)), labels);
}

/* Logits so large that x - (max + log(sum)) rounds log(2) away in float32. */
Test(gradcheck, log_softmax_gradients_at_large_logits)
{
    const double x[] = {1e8, 1e8}, z[] = {1, 0};
    const double through_log_softmax[] = {0.5, -0.5}, sparse[] = {-0.5, 0.5};
    for (int d = 0; d < 2; d++) {
        gb_dtype dt = d ? GB_F64 : GB_F32;
        expect_gradient(dt, f_log_softmax_picked, x, z, 2, 0, through_log_softmax, "d sum(z * log_softmax)");
        expect_gradient(dt, f_sparse_xent, x, NULL, 2, 0, sparse, "d sparse xent");
    }
}
