/* Assign(v, Mul(v, c)) with a scalar c runs as v = v * c in place (plan.c fuse_scale_assigns):
 * the Mul does not run, the result is the Mul's bit for bit, and the fusion stays away when the
 * product is read elsewhere or the factor is not a scalar. Adam's beta powers take this path. */
#include <criterion/criterion.h>
#include <string.h>

#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

/* How many nodes of op type `op` the last run executed (stats on). */
static size_t ran(const gb_session *s, const char *op)
{
    size_t count, found = 0;
    const gb_node_stats *st = gb_session_stats(s, &count);
    for (size_t i = 0; i < count; i++) found += strcmp(gb_node_op(st[i].node), op) == 0;
    return found;
}

static float value_of(const gb_session *s, const gb_node *v, int64_t i)
{
    return ((const float *)gb_tensor_data(gb_session_variable(s, v)))[i];
}

Test(scale_assign, a_variable_times_a_scalar_is_scaled_in_place)
{
    gb_graph *g = gb_graph_new();
    gb_node *v = gb_variable(g, "power", GB_F32, S(1, 3), gb_init_constant(0.9));
    gb_node *step = gb_assign(g, v, gb_mul(g, v, gb_scalar_of(g, GB_F32, 0.999)));
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_stats(s, 1);
    float want = 0.9f;
    for (int run = 0; run < 5; run++) {
        cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
        want = want * 0.999f;
        cr_assert_eq(ran(s, "Mul"), 0, "run %d: the Mul ran beside the fused Assign", run);
        cr_assert_eq(ran(s, "Assign"), 1);
        for (int i = 0; i < 3; i++)
            cr_assert_eq(value_of(s, v, i), want, "run %d: element %d is %.9g, want %.9g", run, i, value_of(s, v, i),
                         want);
    }
    gb_session_free(s);
    gb_graph_free(g);
}

Test(scale_assign, a_fetched_product_or_a_tensor_factor_runs_the_mul)
{
    gb_graph *g = gb_graph_new();
    gb_node *v = gb_variable(g, "v", GB_F32, S(1, 2), gb_init_constant(2));
    gb_node *product = gb_mul(g, v, gb_scalar_of(g, GB_F32, 3));
    gb_node *scaled = gb_assign(g, v, product);
    const float factors[] = {5, 7};
    gb_node *w = gb_variable(g, "w", GB_F32, S(1, 2), gb_init_constant(1));
    gb_node *by_tensor = gb_assign(g, w, gb_mul(g, w, gb_constant_f32(g, "factors", S(1, 2), factors)));
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_stats(s, 1);

    gb_node *both[] = {scaled, product};
    const gb_tensor *out[2];
    cr_assert_eq(gb_session_run(s, NULL, 0, both, 2, out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(ran(s, "Mul"), 1, "the fetched product must be computed");
    cr_assert_eq(((const float *)gb_tensor_data(out[1]))[1], 6.0f);
    cr_assert_eq(value_of(s, v, 0), 6.0f);

    cr_assert_eq(gb_session_run(s, NULL, 0, &by_tensor, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(ran(s, "Mul"), 1, "a factor of two elements is not a scale");
    cr_assert_eq(value_of(s, w, 0), 5.0f);
    cr_assert_eq(value_of(s, w, 1), 7.0f);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(scale_assign, adam_beta_powers_advance_without_a_mul)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, S(1, 4), gb_init_constant(1));
    gb_node *loss = gb_reduce_sum(g, x, GB_ALL_AXES, 0); /* a gradient without a Mul of its own */
    gb_node *train = gb_minimize(g, gb_adam(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_node *beta1_power = gb_graph_find(g, "beta1_power"), *beta2_power = gb_graph_find(g, "beta2_power");
    cr_assert(beta1_power && beta2_power, "Adam's beta powers are not where TensorFlow names them");
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_stats(s, 1);
    float b1 = 0.9f, b2 = 0.999f;
    for (int step = 0; step < 3; step++) {
        cr_assert_eq(gb_session_run(s, NULL, 0, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
        b1 = b1 * 0.9f, b2 = b2 * 0.999f;
        cr_assert_eq(ran(s, "Mul"), 0, "step %d: a Mul ran in the Adam step", step);
        cr_assert_eq(value_of(s, beta1_power, 0), b1);
        cr_assert_eq(value_of(s, beta2_power, 0), b2);
    }
    gb_session_free(s);
    gb_graph_free(g);
}
