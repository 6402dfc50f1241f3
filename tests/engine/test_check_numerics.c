/* check_numerics: the first NaN or infinity stops the run and is blamed on the op that made it
 * from finite inputs, or on the feed or variable that already held it; off, nothing is checked. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradboard/engine.h"

static void expect_error_mentions(const char *const *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) cr_assert(strstr(gb_errmsg(), parts[i]), "'%s' missing from: %s", parts[i], gb_errmsg());
}

Test(check_numerics, names_the_op_that_made_the_infinity)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(1, 3));
    gb_node *y = gb_mul(g, gb_log(g, x), gb_scalar(g, 2.0)); /* log(0) = -inf, then -inf * 2 */
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *value = gb_tensor_from(GB_F32, gb_dims(1, 3), (float[]){1, 0, 2});
    gb_feed feed = {x, value};
    const gb_tensor *out;

    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "unchecked, -inf is just a value: %s", gb_errmsg());
    cr_assert(isinf(gb_tensor_get(out, 1)) && gb_tensor_get(out, 1) < 0);

    gb_session_set_check_numerics(s, 1);
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_ENUMERIC);
    const char *parts[] = {"check_numerics", "(Log)", "-Inf", "element 1", "[3]"};
    expect_error_mentions(parts, 5);
    cr_assert_null(strstr(gb_errmsg(), "(Mul)"), "the Mul only passed the -inf on: %s", gb_errmsg());

    float fine[3] = {1, 2, 3};
    gb_tensor *ok = gb_tensor_from(GB_F32, gb_dims(1, 3), fine);
    feed.value = ok;
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "%s", gb_errmsg());
    gb_tensor_free(ok);
    gb_tensor_free(value);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(check_numerics, blames_a_feed_or_a_variable_that_holds_nan)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "inputs", GB_F64, gb_dims(1, 2));
    gb_node *w = gb_variable(g, "w", GB_F64, gb_dims(1, 2), gb_init_constant(1.0));
    gb_node *y = gb_sqrt(g, gb_mul(g, x, w));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_set_check_numerics(s, 1);

    gb_tensor *bad = gb_tensor_from(GB_F64, gb_dims(1, 2), (double[]){4, NAN});
    gb_feed feed = {x, bad};
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, NULL), GB_ENUMERIC);
    const char *feed_parts[] = {"fed to", "inputs", "NaN", "element 1"};
    expect_error_mentions(feed_parts, 4);

    gb_tensor *good = gb_tensor_from(GB_F64, gb_dims(1, 2), (double[]){4, 9});
    feed.value = good;
    gb_tensor *poisoned = gb_tensor_from(GB_F64, gb_dims(1, 2), (double[]){1, INFINITY});
    cr_assert_eq(gb_session_assign(s, w, poisoned), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, NULL), GB_ENUMERIC);
    const char *variable_parts[] = {"variable w", "holds", "+Inf"};
    expect_error_mentions(variable_parts, 3);

    gb_tensor *negative = gb_tensor_from(GB_F64, gb_dims(1, 2), (double[]){1, -1});
    cr_assert_eq(gb_session_assign(s, w, negative), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, NULL), GB_ENUMERIC);
    const char *sqrt_parts[] = {"(Sqrt)", "NaN", "element 1"};
    expect_error_mentions(sqrt_parts, 3);
    cr_assert_str_eq(gb_status_name(GB_ENUMERIC), "GB_ENUMERIC");

    gb_tensor_free(bad), gb_tensor_free(good), gb_tensor_free(poisoned), gb_tensor_free(negative);
    gb_session_free(s);
    gb_graph_free(g);
}
