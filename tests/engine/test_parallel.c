/* The worker pool: every element visited exactly once whatever the split, small loops run on
 * the caller, and callers on several threads at once each get their whole loop done. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal/parallel.h"

typedef struct visits {
    atomic_int *count;
    pthread_t caller;
    atomic_int ran_elsewhere;
} visits;

static void visit(void *ctx, int64_t begin, int64_t end)
{
    visits *v = ctx;
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&v->count[i], 1);
    if (!pthread_equal(pthread_self(), v->caller)) atomic_store(&v->ran_elsewhere, 1);
}

static void expect_each_once(int64_t n, int64_t grain)
{
    visits v = {calloc((size_t)n + 1, sizeof *v.count), pthread_self(), 0};
    gb_parallel_for(n, grain, visit, &v);
    for (int64_t i = 0; i < n; i++) cr_assert_eq(atomic_load(&v.count[i]), 1, "n %lld grain %lld: element %lld visited %d times", (long long)n, (long long)grain, (long long)i, atomic_load(&v.count[i]));
    cr_assert_eq(atomic_load(&v.count[n]), 0);
    free(v.count);
}

Test(parallel, every_element_once)
{
    cr_assert_geq(gb_parallel_threads(), 1);
    static const int64_t sizes[][2] = {{0, 16}, {1, 16}, {31, 16}, {32, 16}, {33, 16}, {1000, 7}, {100000, 1024},
                                       {100000, 100000}, {5, 0}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int rep = 0; rep < 20; rep++) expect_each_once(sizes[k][0], sizes[k][1]);
}

Test(parallel, a_loop_under_two_chunks_runs_on_the_caller)
{
    visits v = {calloc(100, sizeof *v.count), pthread_self(), 0};
    gb_parallel_for(100, 64, visit, &v);
    cr_assert_eq(atomic_load(&v.ran_elsewhere), 0);
    free(v.count);
}

static void *many_loops(void *arg)
{
    (void)arg;
    for (int rep = 0; rep < 200; rep++) expect_each_once(4096 + rep, 256);
    return NULL;
}

Test(parallel, callers_on_several_threads)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, many_loops, NULL), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
}
