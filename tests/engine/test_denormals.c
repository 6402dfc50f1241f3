/* Subnormal floats are flushed to zero inside runs (TensorFlow's CPU behaviour), on the pool's
 * workers too, can be kept on request, and the caller's floating-point mode survives a run. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>

#include "gradboard/engine.h"
#include "internal/fp_mode.h"

static float scaled_by_one(gb_session *s, gb_node *x, gb_node *y, float value)
{
    gb_tensor *t = gb_tensor_from(GB_F32, gb_dims(1, 1), &value);
    gb_feed feed = {x, t};
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "%s", gb_errmsg());
    float result = (float)gb_tensor_get(out, 0);
    gb_tensor_free(t);
    return result;
}

Test(denormals, flushed_in_runs_unless_asked_and_the_callers_mode_is_kept)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(1, 1));
    gb_node *y = gb_mul(g, x, gb_scalar(g, 1.0));
    gb_session *s = gb_session_new(g, GB_CPU);
    float tiny = FLT_MIN / 4; /* subnormal */
    cr_assert(fpclassify(tiny) == FP_SUBNORMAL);
    unsigned before = gb_fp_mode_get();
    cr_assert_eq(scaled_by_one(s, x, y, tiny), 0.0f, "flushed by default");
    cr_assert_eq(gb_fp_mode_get(), before, "the caller's mode is restored");
    cr_assert_eq(scaled_by_one(s, x, y, 1.5f), 1.5f);
    gb_session_set_flush_denormals(s, 0);
    cr_assert_eq(scaled_by_one(s, x, y, tiny), tiny, "kept when asked");
    gb_session_free(s);
    gb_graph_free(g);
}

Test(denormals, the_pools_workers_take_the_runs_mode)
{
    enum { N = 1 << 18 }; /* large enough for the update to be split across the pool */
    gb_graph *g = gb_graph_new();
    gb_node *w = gb_variable(g, "w", GB_F32, gb_dims(1, N), gb_init_constant(FLT_MIN / 4));
    gb_node *loss = gb_reduce_sum(g, gb_mul(g, w, gb_scalar(g, 0.0)), GB_ALL_AXES, 0);
    gb_node *step = gb_minimize(g, gb_gradient_descent(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_session_set_flush_denormals(s, 0);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
    const gb_tensor *v = gb_session_variable(s, w);
    for (int64_t i = 0; i < N; i += 997) cr_assert_eq((float)gb_tensor_get(v, i), FLT_MIN / 4, "kept at %lld", (long long)i);
    gb_session_set_flush_denormals(s, 1);
    cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
    v = gb_session_variable(s, w);
    for (int64_t i = 0; i < N; i++)
        if (gb_tensor_get(v, i) != 0) cr_assert_fail("element %lld not flushed: %g", (long long)i, gb_tensor_get(v, i));
    gb_session_free(s);
    gb_graph_free(g);
}
