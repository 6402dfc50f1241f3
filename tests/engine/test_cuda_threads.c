/* CUDA sessions and threads: a session freed on a thread that never used the GPU, and sessions
 * on several threads capturing and training at once. Needs a GPU or the emulator. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

#define S(...) gb_dims(__VA_ARGS__)

/* A session made and run on one thread and freed on another gives every device and pinned
 * allocation back (the driver needs the context current on the freeing thread). Counted through
 * the emulator's gb_emu_live_allocations; on a real GPU compute-sanitizer --leak-check does it. */
typedef struct trained {
    gb_graph *g;
    gb_session *s;
} trained;

static void *train_on_a_thread(void *arg)
{
    trained *t = arg;
    t->g = gb_graph_new();
    gb_node *x = gb_placeholder(t->g, "x", GB_F32, S(2, -1, 5));
    gb_node *w = gb_variable(t->g, "w", GB_F32, S(2, 5, 2), gb_init_glorot_uniform(1));
    gb_node *loss = gb_reduce_mean(t->g, gb_square(t->g, gb_matmul(t->g, x, w, 0, 0)), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(t->g, gb_adam(0.1), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(t->g);
    gb_tensor *xv = gb_tensor_new(GB_F32, S(2, 4, 5));
    gb_feed feed = {x, xv};
    t->s = gb_session_new(t->g, GB_CUDA);
    cr_assert_eq(gb_session_run(t->s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    for (int i = 0; i < 4; i++) cr_assert_eq(gb_session_run(t->s, &feed, 1, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor_free(xv);
    return NULL;
}

static void *read_on_a_thread(void *arg)
{
    trained *t = arg;
    cr_assert_not_null(gb_session_variable(t->s, gb_graph_find(t->g, "w")), "%s", gb_errmsg());
    return NULL;
}

static void *free_on_a_thread(void *arg) /* a thread that never touched the GPU */
{
    trained *t = arg;
    gb_session_free(t->s);
    return NULL;
}

Test(cuda_ops, a_session_freed_on_another_thread_leaves_nothing_allocated)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    size_t (*live)(void) = driver ? (size_t(*)(void))dlsym(driver, "gb_emu_live_allocations") : NULL;
    if (!live) cr_skip_test("counting allocations needs the emulator (on a GPU: compute-sanitizer --leak-check full)");
    size_t before = live();
    trained t = {0};
    pthread_t a, b, c;
    pthread_create(&a, NULL, train_on_a_thread, &t);
    pthread_join(a, NULL);
    cr_assert_gt(live(), before, "the session allocated on the device");
    pthread_create(&b, NULL, read_on_a_thread, &t);
    pthread_join(b, NULL);
    pthread_create(&c, NULL, free_on_a_thread, &t);
    pthread_join(c, NULL);
    cr_assert_eq(live(), before, "%zu allocations left after gb_session_free", live() - before);
    gb_graph_free(t.g);
    dlclose(driver);
}

/* Sessions on several threads at once, each capturing its own step as a CUDA graph, must neither
 * refuse each other's allocations (a capture forbids them only on its own thread) nor disturb each
 * other's results. Threads report instead of asserting: Criterion asserts only on its own thread. */
typedef struct concurrent {
    int seed;
    char error[256];
} concurrent;

static void *train_both_devices(void *arg)
{
    concurrent *c = arg;
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(2, -1, 6));
    gb_node *w = gb_variable(g, "w", GB_F32, S(2, 6, 4), gb_init_glorot_uniform((uint64_t)c->seed));
    gb_node *h = gb_relu(g, gb_matmul(g, x, w, 0, 0));
    gb_node *loss = gb_reduce_mean(g, gb_square(g, h), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(g, gb_adam(0.05), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    gb_tensor *xv = gb_tensor_new(GB_F32, S(2, 8, 6));
    for (int i = 0; i < 48; i++) ((float *)gb_tensor_data(xv))[i] = (float)((i * 7 + c->seed) % 13) / 13.0f - 0.4f;
    gb_feed feed = {x, xv};
    gb_session *s[2] = {NULL, NULL};
    for (int d = 0; d < 2 && !c->error[0]; d++) {
        s[d] = gb_session_new(g, d ? GB_CUDA : GB_CPU);
        if (!s[d] || gb_session_run(s[d], NULL, 0, &init, 1, NULL) != GB_OK) {
            snprintf(c->error, sizeof c->error, "thread %d, device %d: %s", c->seed, d, gb_errmsg());
            break;
        }
        for (int step = 0; step < 12 && !c->error[0]; step++)
            if (gb_session_run(s[d], &feed, 1, &train, 1, NULL) != GB_OK)
                snprintf(c->error, sizeof c->error, "thread %d, device %d, step %d: %s", c->seed, d, step, gb_errmsg());
    }
    if (!c->error[0]) {
        gb_tensor *on_cpu = gb_tensor_from(GB_F32, S(2, 6, 4), gb_tensor_data(gb_session_variable(s[0], w)));
        char why[200];
        if (mismatch(on_cpu, gb_session_variable(s[1], w), 0, why, sizeof why))
            snprintf(c->error, sizeof c->error, "thread %d: w after 12 steps: %s", c->seed, why);
        gb_tensor_free(on_cpu);
    }
    gb_session_free(s[0]);
    gb_session_free(s[1]);
    gb_tensor_free(xv);
    gb_graph_free(g);
    return NULL;
}

Test(cuda_ops, sessions_on_several_threads_capture_and_train_at_once)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    enum { THREADS = 4, ROUNDS = 5 };
    for (int round = 0; round < ROUNDS; round++) {
        concurrent c[THREADS] = {{0}};
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
            c[i].seed = round * THREADS + i + 1;
            cr_assert_eq(pthread_create(&t[i], NULL, train_both_devices, &c[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < THREADS; i++) cr_assert_eq(c[i].error[0], 0, "round %d: %s", round, c[i].error);
    }
}
