/* A training step allocates nothing once its plan exists: buffers are planned once per
 * (fetches, feed shapes) and reused. Initialising holds no second copy of the variables. Linked with --wrap for the allocation functions. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

static atomic_long allocations, bytes_asked;

static void count(size_t bytes)
{
    allocations++;
    bytes_asked += (long)bytes;
}

void *__wrap_malloc(size_t size) { count(size); return __real_malloc(size); }
void *__wrap_calloc(size_t n, size_t size) { count(n * size); return __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t size) { count(size); return __real_realloc(p, size); }
void *__wrap_aligned_alloc(size_t alignment, size_t size) { count(size); return __real_aligned_alloc(alignment, size); }

Test(session_alloc, training_steps_allocate_nothing_after_the_first)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 20));
    gb_node *y = gb_placeholder(g, "y", GB_F32, gb_dims(2, -1, 1));
    gb_scope_push(g, "dense1");
    gb_node *w1 = gb_variable(g, "kernel", GB_F32, gb_dims(2, 20, 16), gb_init_glorot_uniform(1));
    gb_node *b1 = gb_variable(g, "bias", GB_F32, gb_dims(1, 16), gb_init_zeros());
    gb_node *h = gb_tanh(g, gb_add(g, gb_matmul(g, x, w1, 0, 0), b1));
    gb_scope_pop(g);
    gb_node *w2 = gb_variable(g, "w2", GB_F32, gb_dims(2, 16, 1), gb_init_glorot_uniform(2));
    gb_node *loss = gb_reduce_mean(g, gb_square(g, gb_sub(g, gb_matmul(g, h, w2, 0, 0), y)), GB_ALL_AXES, 0);
    gb_node *step = gb_minimize(g, gb_adam(1e-3), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *xt = gb_tensor_new(GB_F32, gb_dims(2, 32, 20)), *yt = gb_tensor_new(GB_F32, gb_dims(2, 32, 1));
    for (int i = 0; i < 32 * 20; i++) ((float *)gb_tensor_data(xt))[i] = (float)(i % 7) * 0.1f;
    gb_feed feeds[] = {{x, xt}, {y, yt}};
    gb_node *fetches[] = {step, loss};
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK);
    long planning = allocations;
    cr_assert_eq(gb_session_run(s, feeds, 2, fetches, 2, NULL), GB_OK, "%s", gb_errmsg()); /* plans */
    cr_assert_gt(allocations - planning, 0, "the counting wrappers see nothing: the test would prove nothing");
    long before = allocations;
    for (int i = 0; i < 200; i++) cr_assert_eq(gb_session_run(s, feeds, 2, fetches, 2, NULL), GB_OK);
    long during = allocations - before;
    cr_assert_eq(during, 0, "%ld allocations in 200 training steps", during);
    gb_tensor_free(xt);
    gb_tensor_free(yt);
    gb_session_free(s);
    gb_graph_free(g);
}

/* The initialisers write straight into their variables: initialising 4 variables of 1 MiB asks
 * for their 4 MiB and a little bookkeeping, not a buffer for the initial values besides (which a
 * cached plan would keep for the session's life: 256 MiB for an 8192 x 8192 layer). */
Test(session_alloc, initialising_keeps_no_copy_of_the_initial_values)
{
    gb_graph *g = gb_graph_new();
    gb_initializer inits[] = {gb_init_glorot_uniform(1), gb_init_truncated_normal(0, 0.1, 2), gb_init_zeros(),
                              gb_init_constant(0.5)};
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        gb_variable(g, name, GB_F32, gb_dims(2, 512, 512), inits[i]);
    }
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    long before = bytes_asked;
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    long asked = bytes_asked - before, variables = 4L << 20;
    cr_assert_lt(asked, variables + (64L << 10), "initialising 4 MiB of variables asked for %ld bytes", asked);
    const gb_tensor *w0 = gb_session_variable(s, gb_graph_find(g, "w0"));
    const gb_tensor *w3 = gb_session_variable(s, gb_graph_find(g, "w3"));
    cr_assert_not_null(w0);
    cr_assert_eq(((const float *)gb_tensor_data(w3))[777], 0.5f);
    gb_session_free(s);
    gb_graph_free(g);
}
