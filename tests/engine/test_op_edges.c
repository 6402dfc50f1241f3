/* Ops at the edges of their domain: empty tensors, NaN, values past an integer type's range,
 * arguments outside what an op accepts, and logits large enough to lose precision. Each case
 * gives TensorFlow's answer or an error naming what is wrong, never uninitialised memory. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

/* Runs fetch with up to two feeds; returns the status, *out the value (valid until the next run). */
static gb_status run(gb_session *s, gb_node *fetch, gb_feed *feeds, size_t n_feeds, const gb_tensor **out)
{
    const gb_tensor *ignored;
    return gb_session_run(s, feeds, n_feeds, &fetch, 1, out ? out : &ignored);
}

static void expect_message(const char *msg, const char *const *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) cr_assert(strstr(msg, parts[i]), "'%s' missing from: %s", parts[i], msg);
}

static void expect_values(const gb_tensor *t, const double *want, int64_t n, const char *what)
{
    cr_assert_eq(gb_tensor_elements(t), n, "%s: %lld elements", what, (long long)gb_tensor_elements(t));
    for (int64_t i = 0; i < n; i++) {
        double got = gb_tensor_get(t, i);
        if (isnan(want[i]))
            cr_assert(isnan(got), "%s[%lld]: %.9g, want NaN", what, (long long)i, got);
        else
            cr_assert_eq(got, want[i], "%s[%lld]: %.9g, want %.9g", what, (long long)i, got, want[i]);
    }
}

/* ---- empty inputs: an error, or an empty result ---- */

Test(op_edges, argmax_over_an_empty_axis_is_an_error)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_argmax(g, gb_placeholder(g, "known", GB_F32, gb_dims(2, 2, 0))));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    const char *built[] = {"ArgMax", "axis 1 is empty", "[2, 0]"};
    expect_message(gb_graph_errmsg(g), built, 3);

    gb_graph_reset(g);
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, 3, -1));
    gb_node *labels = gb_placeholder(g, "labels", GB_I32, gb_dims(1, 3));
    gb_node *fetches[] = {gb_argmax(g, x), gb_accuracy(g, x, labels)};
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *empty = gb_tensor_new(GB_F32, gb_dims(2, 3, 0));
    gb_tensor *lv = gb_tensor_from(GB_I32, gb_dims(1, 3), (int32_t[]){0, 0, 0});
    gb_feed feeds[] = {{x, empty}, {labels, lv}};
    gb_session *s = gb_session_new(g, GB_CPU);
    for (int f = 0; f < 2; f++) {
        cr_assert_eq(run(s, fetches[f], feeds, 2, NULL), GB_ESHAPE, "fetch %d", f);
        const char *at_run[] = {"axis 1 is empty", "[3, 0]"};
        expect_message(gb_errmsg(), at_run, 2);
    }
    gb_session_free(s);
    gb_tensor_free(empty);
    gb_tensor_free(lv);
    gb_graph_free(g);
}

Test(op_edges, softmax_cross_entropy_without_classes_is_an_error)
{
    gb_graph *g = gb_graph_new();
    gb_node *known = gb_placeholder(g, "known", GB_F32, gb_dims(2, 2, 0));
    cr_assert_null(gb_softmax_cross_entropy(g, known, known));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    const char *built[] = {"no classes", "[2, 0]"};
    expect_message(gb_graph_errmsg(g), built, 2);

    gb_graph_reset(g);
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, 2, -1));
    gb_node *loss = gb_softmax_cross_entropy(g, x, x);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *empty = gb_tensor_new(GB_F32, gb_dims(2, 2, 0));
    gb_feed feed = {x, empty};
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(run(s, loss, &feed, 1, NULL), GB_ESHAPE);
    cr_assert(strstr(gb_errmsg(), "no classes"), "%s", gb_errmsg());
    gb_session_free(s);
    gb_tensor_free(empty);
    gb_graph_free(g);
}

Test(op_edges, concat_of_no_inputs_is_an_error)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_concat(g, 0, NULL, 0));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    cr_assert(strstr(gb_graph_errmsg(g), "at least one input"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);
}

/* Zero-element tensors may have no memory at all: kernels must not hand it to memset or memcpy. */
Test(op_edges, ops_on_zero_element_tensors_give_empty_or_zero_results)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 3));
    gb_node *i = gb_placeholder(g, "i", GB_I32, gb_dims(1, -1));
    gb_node *rows = gb_reduce_sum(g, x, GB_AXIS(1), 0);
    gb_node *cols = gb_reduce_sum(g, x, GB_AXIS(0), 0);
    gb_node *hot = gb_one_hot(g, i, 3);
    gb_node *w = gb_constant_f32(g, "w", gb_dims(2, 2, 3), (float[]){1, 2, 3, 4, 5, 6});
    gb_node *picked = gb_gather(g, w, i);
    gb_node *dw;
    gb_gradients(g, gb_reduce_sum(g, picked, GB_ALL_AXES, 0), &w, 1, &dw);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *xv = gb_tensor_new(GB_F32, gb_dims(2, 0, 3)), *iv = gb_tensor_new(GB_I32, gb_dims(1, 0));
    gb_feed feeds[] = {{x, xv}, {i, iv}};
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, rows, feeds, 2, &out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_tensor_shape(out)->rank, 1);
    cr_assert_eq(gb_tensor_shape(out)->dim[0], 0);
    cr_assert_eq(run(s, cols, feeds, 2, &out), GB_OK, "%s", gb_errmsg());
    expect_values(out, (double[]){0, 0, 0}, 3, "sum over an empty axis");
    cr_assert_eq(run(s, hot, feeds, 2, &out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_tensor_shape(out)->rank, 2);
    cr_assert_eq(gb_tensor_shape(out)->dim[0], 0);
    cr_assert_eq(gb_tensor_shape(out)->dim[1], 3);
    cr_assert_eq(run(s, dw, feeds, 2, &out), GB_OK, "%s", gb_errmsg());
    expect_values(out, (double[]){0, 0, 0, 0, 0, 0}, 6, "gradient of gathering no rows");
    gb_session_free(s);
    gb_tensor_free(xv);
    gb_tensor_free(iv);
    gb_graph_free(g);
}

/* ---- casts and integer arithmetic: defined for every input ---- */

Test(op_edges, float_to_int_casts_saturate_and_map_nan_to_zero)
{
    const float in[] = {NAN, 1e10f, -1e10f, INFINITY, -INFINITY, 2.7f, -2.7f, 2147483520.0f, -2147483648.0f, 1e19f};
    const int32_t want32[] = {0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 2, -2, 2147483520, INT32_MIN, INT32_MAX};
    const int64_t want64[] = {0, 10000000000LL, -10000000000LL, INT64_MAX, INT64_MIN, 2, -2, 2147483520, -2147483648LL,
                              INT64_MAX};
    for (int d = 0; d < 2; d++) {
        gb_graph *g = gb_graph_new();
        gb_node *x = gb_constant_f32(g, "x", gb_dims(1, 10), in);
        if (d) x = gb_cast(g, x, GB_F64);
        gb_node *fetches[] = {gb_cast(g, x, GB_I32), gb_cast(g, x, GB_I64)};
        cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
        gb_session *s = gb_session_new(g, GB_CPU);
        const gb_tensor *out[2];
        cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 2, out), GB_OK, "%s", gb_errmsg());
        const int32_t *got32 = gb_tensor_data(out[0]);
        const int64_t *got64 = gb_tensor_data(out[1]);
        for (int i = 0; i < 10; i++) {
            cr_assert_eq(got32[i], want32[i], "%s %.9g -> int32: %d, want %d", d ? "float64" : "float32", in[i],
                         got32[i], want32[i]);
            cr_assert_eq(got64[i], want64[i], "%s %.9g -> int64: %lld, want %lld", d ? "float64" : "float32", in[i],
                         (long long)got64[i], (long long)want64[i]);
        }
        gb_session_free(s);
        gb_graph_free(g);
    }
}

Test(op_edges, integer_arithmetic_wraps_in_twos_complement)
{
    gb_graph *g = gb_graph_new();
    gb_tensor *t32 = gb_tensor_from(GB_I32, gb_dims(1, 3), (int32_t[]){INT32_MIN, 65536, INT32_MAX});
    gb_tensor *t64 = gb_tensor_from(GB_I64, gb_dims(1, 3), (int64_t[]){INT64_MIN, 4294967296LL, INT64_MAX});
    gb_node *a = gb_constant(g, "a", t32), *b = gb_constant(g, "b", t64);
    gb_node *one32 = gb_scalar_of(g, GB_I32, 1), *one64 = gb_scalar_of(g, GB_I64, 1);
    gb_node *fetches[] = {gb_neg(g, a), gb_abs(g, a), gb_square(g, a), gb_add(g, a, one32), gb_sub(g, a, one32),
                          gb_mul(g, a, a), gb_neg(g, b), gb_abs(g, b), gb_square(g, b), gb_add(g, b, one64),
                          gb_sub(g, b, one64), gb_mul(g, b, b)};
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    const int64_t want[12][3] = {
        {INT32_MIN, -65536, -INT32_MAX},     {INT32_MIN, 65536, INT32_MAX},      {0, 0, 1},
        {-INT32_MAX, 65537, INT32_MIN},      {INT32_MAX, 65535, INT32_MAX - 1}, {0, 0, 1},
        {INT64_MIN, -4294967296LL, -INT64_MAX}, {INT64_MIN, 4294967296LL, INT64_MAX}, {0, 0, 1},
        {-INT64_MAX, 4294967297LL, INT64_MIN}, {INT64_MAX, 4294967295LL, INT64_MAX - 1}, {0, 0, 1},
    };
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out[12];
    cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 12, out), GB_OK, "%s", gb_errmsg());
    for (int f = 0; f < 12; f++)
        for (int i = 0; i < 3; i++) {
            int64_t got = f < 6 ? ((const int32_t *)gb_tensor_data(out[f]))[i] : ((const int64_t *)gb_tensor_data(out[f]))[i];
            cr_assert_eq(got, want[f][i], "%s[%d]: %lld, want %lld", gb_node_name(fetches[f]), i, (long long)got,
                         (long long)want[f][i]);
        }
    gb_session_free(s);
    gb_tensor_free(t32);
    gb_tensor_free(t64);
    gb_graph_free(g);
}

/* ---- arguments an op does not accept ---- */

Test(op_edges, slice_sizes_below_minus_one_are_an_error)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, 4, 5));
    cr_assert_not_null(gb_slice(g, x, gb_dims(2, 1, 0), gb_dims(2, -1, 1)), "%s", gb_graph_errmsg(g));
    cr_assert_null(gb_slice(g, x, gb_dims(2, 1, 0), gb_dims(2, -2, 1)));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    const char *parts[] = {"Slice", "size -2", "axis 0"};
    expect_message(gb_graph_errmsg(g), parts, 3);
    gb_graph_free(g);
}

/* TF-1's tf.losses: predictions [N, 1] against targets [N] are a mistake, not an [N, N] loss. */
Test(op_edges, losses_refuse_shapes_that_would_broadcast)
{
    gb_graph *g = gb_graph_new();
    gb_node *p = gb_constant_f32(g, "pred", gb_dims(2, 3, 1), (float[]){1, 2, 3});
    gb_node *t = gb_constant_f32(g, "target", gb_dims(1, 3), (float[]){1, 2, 3});
    cr_assert_null(gb_mean_squared_error(g, p, t));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    const char *mse[] = {"mean_squared_error", "[3, 1]", "[3]"};
    expect_message(gb_graph_errmsg(g), mse, 3);

    gb_graph_reset(g);
    p = gb_constant_f32(g, "pred", gb_dims(2, 3, 1), (float[]){1, 2, 3});
    t = gb_constant_f32(g, "target", gb_dims(1, 3), (float[]){1, 2, 3});
    cr_assert_null(gb_sigmoid_cross_entropy(g, p, t));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    const char *xent[] = {"sigmoid_cross_entropy", "[3, 1]", "[3]"};
    expect_message(gb_graph_errmsg(g), xent, 3);

    /* unknown sizes are compatible with anything at build time ... */
    gb_graph_reset(g);
    gb_node *a = gb_placeholder(g, "a", GB_F32, gb_dims(2, -1, 1)), *b = gb_placeholder(g, "b", GB_F32, gb_dims(2, 3, 1));
    gb_node *c = gb_placeholder(g, "c", GB_F32, gb_dims(1, -1)), *d = gb_placeholder(g, "d", GB_F32, gb_dims(1, -1));
    gb_node *m = gb_mean_squared_error(g, a, b), *x = gb_sigmoid_cross_entropy(g, c, d);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *av = gb_tensor_from(GB_F32, gb_dims(2, 3, 1), (float[]){1, 2, 4});
    gb_tensor *bv = gb_tensor_from(GB_F32, gb_dims(2, 3, 1), (float[]){1, 2, 3});
    gb_tensor *cv = gb_tensor_from(GB_F32, gb_dims(1, 1), (float[]){0});
    gb_tensor *dv = gb_tensor_from(GB_F32, gb_dims(1, 3), (float[]){0, 1, 0});
    gb_feed feeds[] = {{a, av}, {b, bv}, {c, cv}, {d, dv}};
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, m, feeds, 2, &out), GB_OK, "%s", gb_errmsg());
    cr_assert_float_eq(gb_tensor_get(out, 0), 1.0 / 3, 1e-7);
    /* ... and must then match when run: [1] against [3] is refused */
    cr_assert_eq(run(s, x, feeds + 2, 2, NULL), GB_ESHAPE);
    const char *at_run[] = {"[1]", "[3]"};
    expect_message(gb_errmsg(), at_run, 2);
    gb_session_free(s);
    gb_tensor_free(av);
    gb_tensor_free(bv);
    gb_tensor_free(cv);
    gb_tensor_free(dv);
    gb_graph_free(g);
}

/* ---- NaN goes through, as in TensorFlow and NumPy ---- */

Test(op_edges, nan_propagates_through_relu_sign_maximum_and_minimum)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_constant_f32(g, "x", gb_dims(1, 4), (float[]){NAN, -2, 3, 0});
    gb_node *zero = gb_scalar(g, 0);
    gb_node *fetches[] = {gb_relu(g, x),          gb_sign(g, x),          gb_maximum(g, x, zero),
                          gb_maximum(g, zero, x), gb_minimum(g, x, zero), gb_minimum(g, zero, x),
                          gb_leaky_relu(g, x, 0.5), gb_relu(g, gb_cast(g, x, GB_F64))};
    const double want[][4] = {{NAN, 0, 3, 0},  {NAN, -1, 1, 0},  {NAN, 0, 3, 0},   {NAN, 0, 3, 0},
                              {NAN, -2, 0, 0}, {NAN, -2, 0, 0}, {NAN, -1, 3, 0}, {NAN, 0, 3, 0}};
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out[8];
    cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 8, out), GB_OK, "%s", gb_errmsg());
    for (int f = 0; f < 8; f++) expect_values(out[f], want[f], 4, gb_node_name(fetches[f]));
    gb_session_free(s);
    gb_graph_free(g);
}

Test(op_edges, argmax_ranks_nan_above_every_number_like_numpy)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_constant_f32(g, "x", gb_dims(2, 3, 4),
                                 (float[]){1, NAN, 3, NAN, /* the first NaN */ 2, 5, 5, -1, /* the first tie */
                                           -INFINITY, -INFINITY, -INFINITY, NAN});
    gb_node *best = gb_argmax(g, x);
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, best, NULL, 0, &out), GB_OK, "%s", gb_errmsg());
    expect_values(out, (const double[]){1, 1, 3}, 3, "argmax");
    gb_session_free(s);
    gb_graph_free(g);
}

/* relu(x + bias) runs fused when the sum is not fetched: the fused loop lets NaN through too. */
Test(op_edges, nan_propagates_through_a_fused_bias_relu)
{
    for (int d = 0; d < 2; d++) {
        gb_graph *g = gb_graph_new();
        gb_dtype dt = d ? GB_F64 : GB_F32;
        gb_node *x = gb_placeholder(g, "x", dt, gb_dims(2, -1, 2));
        gb_node *bias = gb_cast(g, gb_constant_f32(g, "bias", gb_dims(1, 2), (float[]){1, NAN}), dt);
        gb_node *y = gb_relu(g, gb_add(g, x, bias));
        gb_tensor *xv = gb_tensor_new(dt, gb_dims(2, 2, 2));
        const double v[] = {NAN, -5, -3, 1};
        for (int i = 0; i < 4; i++) {
            if (d) ((double *)gb_tensor_data(xv))[i] = v[i];
            else ((float *)gb_tensor_data(xv))[i] = (float)v[i];
        }
        gb_feed feed = {x, xv};
        gb_session *s = gb_session_new(g, GB_CPU);
        const gb_tensor *out;
        cr_assert_eq(run(s, y, &feed, 1, &out), GB_OK, "%s", gb_errmsg());
        expect_values(out, (double[]){NAN, NAN, 0, NAN}, 4, d ? "float64 relu(x + bias)" : "float32 relu(x + bias)");
        gb_session_free(s);
        gb_tensor_free(xv);
        gb_graph_free(g);
    }
}

/* ---- precision at extreme logits ---- */

Test(op_edges, sigmoid_cross_entropy_keeps_tiny_losses)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_constant_f32(g, "x", gb_dims(1, 5), (float[]){0, 30, -30, 100, -1e30f});
    gb_node *z = gb_constant_f32(g, "z", gb_dims(1, 5), (float[]){1, 1, 0, 0.5f, 1});
    gb_node *loss = gb_sigmoid_cross_entropy(g, x, z);
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, loss, NULL, 0, &out), GB_OK, "%s", gb_errmsg());
    const double want[] = {0.6931472, 9.357623e-14, 9.357623e-14, 50, 1e30}; /* TensorFlow's float32 values */
    for (int i = 0; i < 5; i++)
        cr_assert(fabs(gb_tensor_get(out, i) - want[i]) <= 1e-6 * want[i], "loss[%d]: %.9g, want %.9g", i,
                  gb_tensor_get(out, i), want[i]);
    gb_session_free(s);
    gb_graph_free(g);
}

/* log(softmax) as (x - max) - log(sum(exp(x - max))): x - (max + log(sum)) would lose log(2)
 * entirely next to 1e8 in float32. */
Test(op_edges, log_softmax_and_sparse_cross_entropy_keep_precision_at_large_logits)
{
    for (int d = 0; d < 2; d++) {
        gb_graph *g = gb_graph_new();
        gb_dtype dt = d ? GB_F64 : GB_F32;
        gb_node *x = gb_cast(g, gb_constant_f32(g, "x", gb_dims(2, 2, 2), (float[]){1e8f, 1e8f, 1e7f, 1e7f + 1}), dt);
        gb_tensor *lt = gb_tensor_from(GB_I32, gb_dims(1, 2), (int32_t[]){0, 0});
        gb_node *labels = gb_constant(g, "labels", lt);
        gb_tensor_free(lt);
        gb_node *fetches[] = {gb_log_softmax(g, x), gb_sparse_softmax_cross_entropy(g, x, labels)};
        cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
        gb_session *s = gb_session_new(g, GB_CPU);
        const gb_tensor *out[2];
        cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 2, out), GB_OK, "%s", gb_errmsg());
        const double lsm[] = {-0.6931471805599453, -0.6931471805599453, -1.3132616875182228, -0.31326168751822286};
        const double xent[] = {0.6931471805599453, 1.3132616875182228};
        double tolerance = d ? 1e-12 : 1e-6;
        for (int i = 0; i < 4; i++)
            cr_assert(fabs(gb_tensor_get(out[0], i) - lsm[i]) <= tolerance, "%s log_softmax[%d]: %.9g, want %.9g",
                      gb_dtype_name(dt), i, gb_tensor_get(out[0], i), lsm[i]);
        for (int i = 0; i < 2; i++)
            cr_assert(fabs(gb_tensor_get(out[1], i) - xent[i]) <= tolerance, "%s sparse xent[%d]: %.9g, want %.9g",
                      gb_dtype_name(dt), i, gb_tensor_get(out[1], i), xent[i]);
        gb_session_free(s);
        gb_graph_free(g);
    }
}

/* ---- long sums: float32 reductions accumulate in double, as exact as one final rounding ---- */

/* The sums of x [d0, d1, d2, d3] over the axes in `axes`, in double the plain way, into want
 * (zeroed here; one entry per output, row-major). */
static void reference_sums(const float *x, const int64_t *dim, unsigned axes, double *want, int64_t outputs)
{
    int64_t out_dim[4];
    for (int a = 0; a < 4; a++) out_dim[a] = axes >> a & 1 ? 1 : dim[a];
    memset(want, 0, (size_t)outputs * sizeof *want);
    int64_t at = 0;
    for (int64_t i0 = 0; i0 < dim[0]; i0++)
        for (int64_t i1 = 0; i1 < dim[1]; i1++)
            for (int64_t i2 = 0; i2 < dim[2]; i2++)
                for (int64_t i3 = 0; i3 < dim[3]; i3++) {
                    int64_t index[4] = {i0, i1, i2, i3}, o = 0;
                    for (int a = 0; a < 4; a++) o = o * out_dim[a] + (axes >> a & 1 ? 0 : index[a]);
                    want[o] += x[at++];
                }
}

/* Summed one after another in float32, 2^21 values near 1 came out 0.1% low and 2^25 stopped
 * growing at 33554432 (a mean of 1.001 read 1.118); a bias gradient over 4096 rows was off in
 * its fifth digit. Every axis pattern (innermost summed or kept, groups of each around it) now
 * lands within one float32 rounding of the exact sum. */
Test(op_edges, long_float32_sums_and_means_are_exact_to_a_rounding)
{
    static const int64_t shapes[][4] = {{1, 1, 1, 1 << 21}, {1, 1, 2048, 1024}, {32, 1, 4096, 16}, {8, 256, 1, 1024},
                                        {8, 3, 5, 7}};
    float *data = malloc(sizeof(float) << 21);
    double *wants = malloc(sizeof(double) << 21);
    for (int64_t i = 0; i < 1 << 21; i++) data[i] = 1.0f + (float)(i % 7) * 1e-3f - (float)(i % 5 == 0) * 0.5f;
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(4, -1, -1, -1, -1));
    gb_session *s = gb_session_new(g, GB_CPU);
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int64_t *dim = shapes[k];
        gb_tensor *xt = gb_tensor_from(GB_F32, gb_dims(4, dim[0], dim[1], dim[2], dim[3]), data);
        gb_feed feed = {x, xt};
        for (unsigned axes = 1; axes < 16; axes++) {
            int64_t outputs = 1;
            for (int a = 0; a < 4; a++) outputs *= axes >> a & 1 ? 1 : dim[a];
            /* skipped: nothing summed (only size-1 axes); layouts repeated with size-1 axes added;
             * over 4096 outputs, where the CUDA emulator spends about 0.1 ms per warp (131072
             * outputs take 30 s; the small shape covers those layouts) */
            int names_a_size_one_axis = 0;
            for (int a = 0; a < 4; a++) names_a_size_one_axis |= axes >> a & 1 && dim[a] == 1;
            if (outputs == gb_tensor_elements(xt) || outputs > 4096 || (names_a_size_one_axis && outputs > 64)) continue;
            gb_node *sum = gb_reduce_sum(g, x, axes, 0), *mean = gb_reduce_mean(g, x, axes, 1);
            cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
            gb_node *fetches[] = {sum, mean};
            const gb_tensor *out[2];
            cr_assert_eq(gb_session_run(s, &feed, 1, fetches, 2, out), GB_OK, "%s", gb_errmsg());
            int64_t count = gb_tensor_elements(xt) / outputs;
            reference_sums(data, dim, axes, wants, outputs);
            for (int64_t o = 0; o < outputs; o++) {
                double want = wants[o];
                double got = gb_tensor_get(out[0], o), got_mean = gb_tensor_get(out[1], o);
                cr_assert(fabs(got - want) <= fabs(want) * 0x1p-24, "shape [%lld, %lld, %lld, %lld] axes 0x%x sum[%lld]: %.9g, want %.9g",
                          (long long)dim[0], (long long)dim[1], (long long)dim[2], (long long)dim[3], axes, (long long)o, got, want);
                cr_assert(fabs(got_mean - want / (double)count) <= fabs(want / (double)count) * 0x1p-23,
                          "shape [%lld, %lld, %lld, %lld] axes 0x%x mean[%lld]: %.9g, want %.9g", (long long)dim[0],
                          (long long)dim[1], (long long)dim[2], (long long)dim[3], axes, (long long)o, got_mean,
                          want / (double)count);
            }
        }
        gb_tensor_free(xt);
    }
    gb_session_free(s);
    gb_graph_free(g);
    free(data);
    free(wants);
}

/* The row sums of softmax and the cross-entropies, over a vocabulary-sized row: summed one after
 * another in float32 they drifted in the fifth digit; in double they land within a rounding. */
Test(op_edges, softmax_and_cross_entropies_over_50000_classes_keep_float32_precision)
{
    enum { CLASSES = 50000 };
    float *logits = malloc(sizeof(float) * CLASSES), *one_hot = calloc(CLASSES, sizeof(float));
    double sum = 0;
    for (int c = 0; c < CLASSES; c++) {
        logits[c] = c == 7 ? 0.0f : -10.0f + (float)(c % 7) * 1e-3f;
        sum += exp((double)logits[c]); /* the row maximum is 0 */
    }
    one_hot[7] = 1;
    double want_loss = log(sum) - 0.0, want_p7 = 1 / sum;
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_constant_f32(g, "x", gb_dims(2, 1, CLASSES), logits);
    gb_node *z = gb_constant_f32(g, "z", gb_dims(2, 1, CLASSES), one_hot);
    gb_tensor *lt = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){7});
    gb_node *labels = gb_constant(g, "labels", lt);
    gb_tensor_free(lt);
    gb_node *sparse = gb_sparse_softmax_cross_entropy(g, x, labels), *dense = gb_softmax_cross_entropy(g, x, z);
    gb_node *d_sparse = NULL, *d_dense = NULL;
    gb_gradients(g, sparse, &x, 1, &d_sparse);
    gb_gradients(g, dense, &x, 1, &d_dense);
    gb_node *fetches[] = {gb_softmax(g, x), gb_log_softmax(g, x), sparse, dense, d_sparse, d_dense};
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out[6];
    cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 6, out), GB_OK, "%s", gb_errmsg());
    const struct { const char *what; double got, want; } checks[] = {
        {"softmax[7]", gb_tensor_get(out[0], 7), want_p7},
        {"log_softmax[7]", gb_tensor_get(out[1], 7), -want_loss},
        {"sparse cross-entropy", gb_tensor_get(out[2], 0), want_loss},
        {"one-hot cross-entropy", gb_tensor_get(out[3], 0), want_loss},
        {"sparse gradient[7]", gb_tensor_get(out[4], 7), want_p7 - 1},
        {"one-hot gradient[7]", gb_tensor_get(out[5], 7), want_p7 - 1},
    };
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
        cr_assert(fabs(checks[i].got - checks[i].want) <= fabs(checks[i].want) * 0x1p-23, "%s: %.9g, want %.9g",
                  checks[i].what, checks[i].got, checks[i].want);
    gb_session_free(s);
    gb_graph_free(g);
    free(logits);
    free(one_hot);
}

/* ---- gradients that must not manufacture NaN or overflow ---- */

/* maximum/minimum send dy to one input; as dy * mask, an infinite dy gave inf * 0 = NaN to the
 * other (and inf - inf to b everywhere). TensorFlow: where(a >= b, dy, 0). */
Test(op_edges, maximum_and_minimum_route_an_infinite_gradient_without_nan)
{
    gb_graph *g = gb_graph_new();
    gb_node *a = gb_constant_f32(g, "a", gb_dims(1, 4), (float[]){1, 2, 1, 2});
    gb_node *b = gb_constant_f32(g, "b", gb_dims(1, 4), (float[]){1, 1, 2, 2});
    gb_node *c = gb_constant_f32(g, "c", gb_dims(1, 4), (float[]){INFINITY, INFINITY, INFINITY, INFINITY});
    gb_node *ab[] = {a, b}, *d_max[2], *d_min[2];
    cr_assert_eq(gb_gradients(g, gb_reduce_sum(g, gb_mul(g, gb_maximum(g, a, b), c), GB_ALL_AXES, 0), ab, 2, d_max), GB_OK);
    cr_assert_eq(gb_gradients(g, gb_reduce_sum(g, gb_mul(g, gb_minimum(g, a, b), c), GB_ALL_AXES, 0), ab, 2, d_min), GB_OK);
    gb_node *fetches[] = {d_max[0], d_max[1], d_min[0], d_min[1]};
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out[4];
    cr_assert_eq(gb_session_run(s, NULL, 0, fetches, 4, out), GB_OK, "%s", gb_errmsg());
    const double inf = INFINITY;
    const double want[4][4] = {{inf, inf, 0, inf}, {0, 0, inf, 0}, {inf, 0, inf, inf}, {0, inf, 0, 0}};
    const char *names[] = {"d maximum / da", "d maximum / db", "d minimum / da", "d minimum / db"};
    for (int f = 0; f < 4; f++) expect_values(out[f], want[f], 4, names[f]);
    gb_session_free(s);
    gb_graph_free(g);
}

/* d(a/b)/db as (-(a/b) / b) * dy: dy * (a/b) first overflowed float32 (1e30 * 1e10 -> -inf) */
Test(op_edges, the_divisor_gradient_does_not_overflow_on_the_way)
{
    gb_graph *g = gb_graph_new();
    gb_node *a = gb_constant_f32(g, "a", gb_dims(1, 2), (float[]){1e30f, 1e20f});
    gb_node *b = gb_constant_f32(g, "b", gb_dims(1, 2), (float[]){1e30f, 1e10f});
    gb_node *up = gb_constant_f32(g, "up", gb_dims(1, 2), (float[]){1e30f, 1e30f});
    gb_node *db = NULL;
    cr_assert_eq(gb_gradients_with(g, gb_div(g, a, b), up, &b, 1, &db), GB_OK, "%s", gb_errmsg());
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, db, NULL, 0, &out), GB_OK, "%s", gb_errmsg());
    const double want[] = {-1, -1e30};
    for (int i = 0; i < 2; i++)
        cr_assert(fabs(gb_tensor_get(out, i) - want[i]) <= fabs(want[i]) * 1e-6, "db[%d]: %.9g, want %.9g", i,
                  gb_tensor_get(out, i), want[i]);
    gb_session_free(s);
    gb_graph_free(g);
}

/* argmax compares in the input's type: through double, int64 past 2^53 tied and picked the first */
Test(op_edges, argmax_of_large_int64_values_is_exact)
{
    gb_graph *g = gb_graph_new();
    int64_t v[] = {(int64_t)1 << 53, ((int64_t)1 << 53) + 1, INT64_MAX - 1, INT64_MAX, INT64_MIN + 1, INT64_MIN};
    gb_tensor *t = gb_tensor_from(GB_I64, gb_dims(2, 3, 2), v);
    gb_node *x = gb_constant(g, "x", t);
    gb_tensor_free(t);
    gb_node *am = gb_argmax(g, x);
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(run(s, am, NULL, 0, &out), GB_OK, "%s", gb_errmsg());
    expect_values(out, (const double[]){1, 1, 0}, 3, "argmax");
    gb_session_free(s);
    gb_graph_free(g);
}

/* gb_print shows int64 exactly (through double, 2^63 - 1 printed as 9223372036854775808) */
Test(op_edges, print_shows_int64_values_exactly, .init = cr_redirect_stderr)
{
    gb_graph *g = gb_graph_new();
    gb_tensor *t = gb_tensor_from(GB_I64, gb_dims(1, 2), (int64_t[]){INT64_MAX, ((int64_t)1 << 53) + 1});
    gb_node *x = gb_constant(g, "x", t);
    gb_tensor_free(t);
    gb_node *p = gb_print(g, x, "x = ", 1, &x, 2);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(run(s, p, NULL, 0, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_free(s);
    gb_graph_free(g);
    fflush(stderr);
    cr_assert_stderr_eq_str("x = [9223372036854775807 9007199254740993]\n");
}
