/* The graph and session API at its edges: nodes of another graph, renames, shapes too large to
 * hold, NULL data, integer scalars out of range, zero-element tensors, feeds given twice, and
 * variables touched through a session of another graph. Each was a crash, undefined behaviour
 * or a silent wrong answer before it was a test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gradboard/engine.h"

static gb_shape shape2(int64_t a, int64_t b)
{
    gb_shape s = {2, {a, b}};
    return s;
}

Test(api_edges, control_dependencies_on_another_graphs_node_are_refused)
{
    gb_graph *g = gb_graph_new(), *other = gb_graph_new();
    gb_node *mine = gb_scalar(g, 1), *foreign = gb_scalar(other, 2);
    cr_assert_null(gb_control_deps(mine, 1, &foreign));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    cr_assert(strstr(gb_graph_errmsg(g), "belongs to another graph"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);

    g = gb_graph_new();
    cr_assert_null(gb_group(g, "step", 1, &foreign));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    gb_graph_free(other); /* g keeps no pointer into it: printing it reads only its own nodes */
    gb_graph_free(g);
}

Test(api_edges, renames_report_the_clash_by_its_full_name_and_free_nothing_they_should_not)
{
    gb_graph *g = gb_graph_new();
    gb_node *a = gb_placeholder(g, "a", GB_F32, gb_dims(1, 3));
    gb_node *x = gb_add(g, a, a);
    cr_assert_eq(gb_name(x, "add"), x, "renaming a node to its own name changes nothing");
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_name(gb_add(g, a, a), "mine");
    cr_assert_null(gb_name(x, "mine"));
    cr_assert_str_eq(gb_graph_errmsg(g),
                     "gb_name: add: a node named \"mine\" already exists (or did: names are never reused)");
    gb_graph_free(g);

    g = gb_graph_new();
    a = gb_placeholder(g, "a", GB_F32, gb_dims(1, 3));
    x = gb_add(g, a, a);
    cr_assert_eq(gb_name(x, "n1"), x);
    cr_assert_eq(gb_name(x, "n2"), x);
    cr_assert_null(gb_graph_find(g, "add"), "the old name no longer finds the node");
    cr_assert_null(gb_graph_find(g, "n1"));
    cr_assert_eq(gb_graph_find(g, "n2"), x);
    cr_assert_str_eq(gb_node_name(gb_add(g, a, a)), "add_1", "an old name is not handed out again");
    cr_assert_null(gb_name(x, NULL));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    gb_graph_free(g);
}

Test(api_edges, shapes_whose_element_count_overflows_are_refused_when_built)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_placeholder(g, "x", GB_F32, shape2((int64_t)1 << 40, (int64_t)1 << 40)));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE);
    cr_assert(strstr(gb_graph_errmsg(g), "too many elements"), "%s", gb_graph_errmsg(g));
    gb_graph_free(g);

    g = gb_graph_new();
    gb_node *labels = gb_placeholder(g, "labels", GB_I32, gb_dims(1, 4));
    cr_assert_null(gb_one_hot(g, labels, (int64_t)1 << 62));
    cr_assert_eq(gb_graph_status(g), GB_ESHAPE, "%s", gb_graph_errmsg(g));
    gb_graph_free(g);

    g = gb_graph_new(); /* an unknown side counts as one; zero elements are never too many */
    cr_assert_not_null(gb_placeholder(g, "y", GB_F32, shape2(-1, (int64_t)1 << 40)));
    cr_assert_not_null(gb_placeholder(g, "z", GB_F32, (gb_shape){3, {(int64_t)1 << 62, (int64_t)1 << 62, 0}}));
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_graph_free(g);
}

Test(api_edges, a_negative_dimension_other_than_unknown_is_named_in_the_error)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_placeholder(g, "x", GB_F32, gb_dims(2, 3, -5)));
    cr_assert_str_eq(gb_graph_errmsg(g),
                     "placeholder x: invalid shape [3, -5]: dimension 1 is -5 (only -1, unknown, may be negative)");
    gb_graph_free(g);
}

Test(api_edges, constants_need_data_and_integer_scalars_must_fit)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_constant_f32(g, "c", gb_dims(1, 3), NULL));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    gb_graph_free(g);

    double bad[] = {1e10, -3e9, NAN, 2.5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = gb_graph_new();
        cr_assert_null(gb_scalar_of(g, GB_I32, bad[i]), "int32 %g", bad[i]);
        cr_assert_eq(gb_graph_status(g), GB_EINVAL);
        gb_graph_free(g);
    }
    g = gb_graph_new();
    cr_assert_null(gb_scalar_of(g, GB_I64, 0x1p63));
    gb_graph_free(g);

    g = gb_graph_new();
    gb_node *small = gb_scalar_of(g, GB_I32, INT32_MIN), *big = gb_scalar_of(g, GB_I64, -0x1p63);
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out[2];
    cr_assert_eq(gb_session_run(s, NULL, 0, (gb_node *[]){small, big}, 2, out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(*(const int32_t *)gb_tensor_data(out[0]), INT32_MIN);
    cr_assert_eq(*(const int64_t *)gb_tensor_data(out[1]), INT64_MIN);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(api_edges, zero_element_constants_variables_and_assignments_run)
{
    gb_graph *g = gb_graph_new();
    gb_node *c = gb_constant_f32(g, "c", gb_dims(2, 0, 3), NULL);
    gb_node *v = gb_variable(g, "v", GB_F32, gb_dims(2, 0, 3), gb_init_zeros());
    gb_node *set = gb_assign(g, v, c);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, NULL, 0, &set, 1, &out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_tensor_shape(out)->dim[0], 0);
    gb_tensor *empty = gb_tensor_new(GB_F32, gb_dims(2, 0, 3));
    cr_assert_eq(gb_session_assign(s, v, empty), GB_OK, "%s", gb_errmsg());
    gb_tensor_free(empty);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(api_edges, integer_assign_add_wraps_around_like_tensorflow)
{
    gb_graph *g = gb_graph_new();
    gb_node *v = gb_variable(g, "v", GB_I32, gb_dims(0), gb_init_constant(INT32_MAX));
    gb_node *bump = gb_assign_add(g, v, gb_scalar_of(g, GB_I32, 1));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, NULL, 0, &bump, 1, &out), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(*(const int32_t *)gb_tensor_data(out), INT32_MIN);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(api_edges, a_placeholder_fed_twice_in_one_run_is_an_error)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(0));
    gb_node *y = gb_mul(g, x, gb_scalar(g, 2));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *a = gb_tensor_from(GB_F32, gb_dims(0), (float[]){1}), *b = gb_tensor_from(GB_F32, gb_dims(0), (float[]){2});
    gb_feed feeds[] = {{x, a}, {x, b}};
    cr_assert_eq(gb_session_run(s, feeds, 2, &y, 1, NULL), GB_EINVAL);
    cr_assert_str_eq(gb_errmsg(), "gb_session_run: x is fed twice (feeds 0 and 1)");
    gb_tensor_free(a);
    gb_tensor_free(b);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(api_edges, a_session_refuses_another_graphs_variables)
{
    gb_graph *g1 = gb_graph_new(), *g2 = gb_graph_new();
    gb_node *w1 = gb_variable(g1, "weights", GB_F32, gb_dims(1, 2), gb_init_constant(1));
    gb_node *w2 = gb_variable(g2, "weights", GB_F32, gb_dims(1, 2), gb_init_constant(7));
    gb_node *init = gb_global_variables_initializer(g1);
    gb_session *s = gb_session_new(g1, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *t = gb_tensor_from(GB_F32, gb_dims(1, 2), (float[]){42, 43});
    cr_assert_eq(gb_session_assign(s, w2, t), GB_EINVAL);
    gb_tensor_free(t);
    cr_assert_null(gb_session_variable(s, w2));
    const gb_tensor *mine = gb_session_variable(s, w1);
    cr_assert_not_null(mine);
    cr_assert_eq(((const float *)gb_tensor_data(mine))[0], 1.0f, "g1's weights must be untouched");
    gb_session_free(s);
    gb_graph_free(g1);
    gb_graph_free(g2);
}

Test(api_edges, variables_refuse_initialisers_and_updates_their_dtype_cannot_take_when_built)
{
    gb_graph *g = gb_graph_new();
    cr_assert_null(gb_variable(g, "steps", GB_I32, gb_dims(0), gb_init_normal(0, 1, 1)));
    cr_assert_str_eq(gb_graph_errmsg(g), "variable steps: random initialisers need a float variable, not int32");
    gb_graph_free(g);

    g = gb_graph_new();
    cr_assert_null(gb_variable(g, "big", GB_I32, gb_dims(0), gb_init_constant(1e10)));
    cr_assert_eq(gb_graph_status(g), GB_EINVAL);
    gb_graph_free(g);

    g = gb_graph_new();
    gb_node *flag = gb_variable(g, "flag", GB_BOOL, gb_dims(0), gb_init_zeros());
    cr_assert_null(gb_assign_add(g, flag, flag));
    cr_assert_str_eq(gb_graph_errmsg(g), "AssignAdd: cannot add to the bool variable flag");
    gb_graph_free(g);
}

Test(api_edges, an_empty_name_is_no_name)
{
    gb_graph *g = gb_graph_new();
    cr_assert_str_eq(gb_node_name(gb_placeholder(g, "", GB_F32, gb_dims(0))), "Placeholder");
    cr_assert_str_eq(gb_node_name(gb_placeholder(g, "", GB_F32, gb_dims(0))), "Placeholder_1");
    gb_graph_free(g);
}

Test(api_edges, a_control_dependency_added_after_a_run_is_honoured_by_the_next)
{
    gb_graph *g = gb_graph_new();
    gb_node *v = gb_variable(g, "v", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *counter = gb_variable(g, "counter", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *step = gb_assign_add(g, v, gb_scalar(g, 1)), *tick = gb_assign_add(g, counter, gb_scalar(g, 1));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg()); /* a plan for {step} */
    gb_control_deps(step, 1, &tick);
    for (int i = 0; i < 3; i++) cr_assert_eq(gb_session_run(s, NULL, 0, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(*(const float *)gb_tensor_data(gb_session_variable(s, counter)), 3.0f,
                 "the plan made before the dependency must not be reused");
    gb_session_free(s);
    gb_graph_free(g);
}

Test(api_edges, a_run_that_fails_on_a_bad_label_assigns_nothing)
{
    /* on the CPU the run stops at the bad label; on CUDA the label is found on the device and the
     * later Assigns must be skipped as the updates are (the suite runs forced onto CUDA too) */
    gb_graph *g = gb_graph_new();
    gb_node *logits = gb_variable(g, "logits", GB_F32, gb_dims(2, 1, 3), gb_init_ones());
    gb_node *labels = gb_placeholder(g, "labels", GB_I32, gb_dims(1, 1));
    gb_node *loss = gb_reduce_sum(g, gb_sparse_softmax_cross_entropy(g, logits, labels), GB_ALL_AXES, 0);
    gb_node *total = gb_variable(g, "total", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *last = gb_variable(g, "last", GB_F32, gb_dims(0), gb_init_zeros()); /* never initialised */
    gb_node *step = gb_group(g, "step", 2, (gb_node *[]){gb_assign(g, total, gb_add(g, total, loss)), gb_assign(g, last, loss)});
    gb_node *init_total = gb_graph_find(g, "total/Assign");
    cr_assert_not_null(init_total);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_node *init_logits = gb_graph_find(g, "logits/Assign");
    cr_assert_eq(gb_session_run(s, NULL, 0, (gb_node *[]){init_logits, init_total}, 2, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *bad = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){9}), *good = gb_tensor_from(GB_I32, gb_dims(1, 1), (int32_t[]){0});
    for (int run = 0; run < 3; run++) { /* eager, then (on CUDA) captured and replayed */
        gb_feed feed = {labels, bad};
        cr_assert_eq(gb_session_run(s, &feed, 1, &step, 1, NULL), GB_EINVAL);
        cr_assert_eq(*(const float *)gb_tensor_data(gb_session_variable(s, total)), 0.0f, "run %d", run);
        cr_assert_null(gb_session_variable(s, last), "a failed run initialises nothing");
    }
    gb_feed feed = {labels, good};
    cr_assert_eq(gb_session_run(s, &feed, 1, &step, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_float_eq(*(const float *)gb_tensor_data(gb_session_variable(s, total)), logf(3.0f), 1e-6);
    cr_assert_not_null(gb_session_variable(s, last));
    gb_tensor_free(bad);
    gb_tensor_free(good);
    gb_session_free(s);
    gb_graph_free(g);
}
