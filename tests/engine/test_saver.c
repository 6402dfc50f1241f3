/* The saver: resume bit for bit, max_to_keep, the state file, all-or-nothing restores, a full disk. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "gradboard/engine.h"
#include "test_fs.h"

TestSuite(saver, .init = test_dir_setup, .fini = test_dir_teardown);

typedef struct model {
    gb_graph *g;
    gb_node *x, *y, *loss, *train, *init;
    gb_session *s;
    gb_tensor *xv, *yv;
} model;

/* An MLP with dropout trained by Adam: every kind of state a resume must carry. */
static void build(model *m)
{
    m->g = gb_graph_new();
    gb_graph *g = m->g;
    m->x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 6));
    m->y = gb_placeholder(g, "y", GB_I32, gb_dims(1, -1));
    gb_scope_push(g, "dense");
    gb_node *w1 = gb_variable(g, "kernel", GB_F32, gb_dims(2, 6, 16), gb_init_glorot_uniform(1));
    gb_node *b1 = gb_variable(g, "bias", GB_F32, gb_dims(1, 16), gb_init_zeros());
    gb_scope_pop(g);
    gb_node *h = gb_dropout(g, gb_relu(g, gb_add(g, gb_matmul(g, m->x, w1, 0, 0), b1)), 0.3, 7);
    gb_scope_push(g, "logits");
    gb_node *w2 = gb_variable(g, "kernel", GB_F32, gb_dims(2, 16, 3), gb_init_glorot_uniform(2));
    gb_scope_pop(g);
    m->loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, gb_matmul(g, h, w2, 0, 0), m->y), GB_ALL_AXES, 0);
    m->train = gb_minimize(g, gb_adam(0.05), m->loss, NULL, 0);
    m->init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    m->s = gb_session_new(g, GB_CPU);
    m->xv = gb_tensor_new(GB_F32, gb_dims(2, 24, 6));
    m->yv = gb_tensor_new(GB_I32, gb_dims(1, 24));
    for (int i = 0; i < 24 * 6; i++) ((float *)gb_tensor_data(m->xv))[i] = (float)((i * 37) % 11) / 11 - 0.5f;
    for (int i = 0; i < 24; i++) ((int32_t *)gb_tensor_data(m->yv))[i] = i % 3;
}

static float step(model *m)
{
    gb_feed feeds[] = {{m->x, m->xv}, {m->y, m->yv}};
    gb_node *fetches[] = {m->loss, m->train};
    const gb_tensor *out[2];
    cr_assert_eq(gb_session_run(m->s, feeds, 2, fetches, 2, out), GB_OK, "%s", gb_errmsg());
    return *(const float *)gb_tensor_data(out[0]);
}

static void destroy(model *m)
{
    gb_tensor_free(m->xv), gb_tensor_free(m->yv);
    gb_session_free(m->s);
    gb_graph_free(m->g);
}

Test(saver, a_restored_run_continues_bit_for_bit)
{
    char base[600];
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    model a;
    build(&a);
    gb_saver *sv = gb_saver_new(a.g, base, 5);
    cr_assert_eq(gb_session_run(a.s, NULL, 0, &a.init, 1, NULL), GB_OK);
    float losses[20];
    char *saved = NULL;
    for (int i = 0; i < 20; i++) {
        losses[i] = step(&a);
        if (i == 9) cr_assert_eq(gb_saver_save(sv, a.s, 10, &saved), GB_OK, "%s", gb_errmsg());
    }
    gb_saver_free(sv);
    destroy(&a);

    model b; /* a new process, in effect */
    build(&b);
    sv = gb_saver_new(b.g, base, 5);
    char *latest = gb_latest_checkpoint(test_dir);
    cr_assert_not_null(latest, "%s", gb_errmsg());
    cr_assert_str_eq(latest, saved);
    cr_assert_eq(gb_saver_restore(sv, b.s, latest), GB_OK, "%s", gb_errmsg());
    for (int i = 10; i < 20; i++) {
        float loss = step(&b);
        cr_assert(memcmp(&loss, &losses[i], sizeof loss) == 0, "step %d: %.9g after the restore, %.9g before", i, loss,
                  losses[i]);
    }
    free(latest), free(saved);
    gb_saver_free(sv);
    destroy(&b);
}

Test(saver, keeps_the_newest_and_lists_them_in_the_state_file)
{
    char base[600], path[700];
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    model m;
    build(&m);
    gb_session_run(m.s, NULL, 0, &m.init, 1, NULL);
    gb_saver *sv = gb_saver_new(m.g, base, 3);
    for (int s = 1; s <= 7; s++) cr_assert_eq(gb_saver_save(sv, m.s, s * 100, NULL), GB_OK, "%s", gb_errmsg());
    for (int s = 1; s <= 7; s++) {
        snprintf(path, sizeof path, "%s-%d.index", base, s * 100);
        struct stat sb;
        cr_assert_eq(stat(path, &sb) == 0, s >= 5, "checkpoint of step %d %s", s * 100, s >= 5 ? "missing" : "kept");
    }
    snprintf(path, sizeof path, "%s/checkpoint", test_dir);
    size_t len;
    char *state = (char *)test_read_file(path, &len);
    state = realloc(state, len + 1);
    state[len] = '\0';
    cr_assert_str_eq(state, "model_checkpoint_path: \"model.ckpt-700\"\n"
                            "all_model_checkpoint_paths: \"model.ckpt-500\"\n"
                            "all_model_checkpoint_paths: \"model.ckpt-600\"\n"
                            "all_model_checkpoint_paths: \"model.ckpt-700\"\n");
    free(state);
    gb_saver_free(sv);
    destroy(&m);
}

Test(saver, a_failed_restore_changes_nothing_and_says_why)
{
    char base[600];
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    model m;
    build(&m);
    gb_session_run(m.s, NULL, 0, &m.init, 1, NULL);
    gb_saver *sv = gb_saver_new(m.g, base, 0);
    char *prefix;
    cr_assert_eq(gb_saver_save(sv, m.s, 1, &prefix), GB_OK);
    /* a graph with one more variable, and one of another shape */
    gb_graph *g = gb_graph_new();
    gb_scope_push(g, "dense");
    gb_node *k = gb_variable(g, "kernel", GB_F32, gb_dims(2, 6, 16), gb_init_ones());
    gb_node *b = gb_variable(g, "bias", GB_F32, gb_dims(1, 17), gb_init_ones());
    gb_scope_pop(g);
    gb_node *extra = gb_variable(g, "extra", GB_F32, gb_dims(0), gb_init_ones());
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_session_run(s, NULL, 0, &init, 1, NULL);
    gb_saver *sv2 = gb_saver_new(g, base, 0);
    cr_assert_eq(gb_saver_restore(sv2, s, prefix), GB_ESHAPE);
    cr_assert(strstr(gb_errmsg(), "dense/bias is float32 [16] in the checkpoint") && strstr(gb_errmsg(), "[17]"), "%s",
              gb_errmsg());
    cr_assert_eq(((const float *)gb_tensor_data(gb_session_variable(s, k)))[0], 1.0f, "the kernel was changed");
    gb_node *vars[] = {k, extra};
    const char *names[] = {"dense/kernel", "extra"};
    cr_assert_eq(gb_restore_variables(s, prefix, 2, names, vars), GB_ENOTFOUND);
    cr_assert(strstr(gb_errmsg(), "no tensor extra"), "%s", gb_errmsg());
    const char *renamed[] = {"dense/kernel", "logits/kernel"};
    gb_node *kernel_only[] = {k};
    cr_assert_eq(gb_restore_variables(s, prefix, 1, renamed, kernel_only), GB_OK, "%s", gb_errmsg());
    cr_assert_neq(((const float *)gb_tensor_data(gb_session_variable(s, k)))[0], 1.0f);
    (void)b;
    free(prefix);
    gb_saver_free(sv2), gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
    destroy(&m);
}

/* A full disk (a file size limit) during a save: an error, and the previous checkpoint and the
 * state file naming it untouched. */
Test(saver, a_full_disk_keeps_the_previous_checkpoint)
{
    signal(SIGXFSZ, SIG_IGN);
    char base[600];
    snprintf(base, sizeof base, "%s/big.ckpt", test_dir);
    gb_graph *g = gb_graph_new();
    gb_variable(g, "w", GB_F32, gb_dims(2, 512, 512), gb_init_uniform(-1, 1, 3)); /* 1 MiB */
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_session_run(s, NULL, 0, &init, 1, NULL);
    gb_saver *sv = gb_saver_new(g, base, 5);
    cr_assert_eq(gb_saver_save(sv, s, 1, NULL), GB_OK);
    struct rlimit limit = {512 * 1024, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    cr_assert_eq(gb_saver_save(sv, s, 2, NULL), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "cannot write"), "%s", gb_errmsg());
    limit.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &limit);
    char *latest = gb_latest_checkpoint(test_dir);
    char want[700];
    snprintf(want, sizeof want, "%s-1", base);
    cr_assert_str_eq(latest, want);
    cr_assert_eq(gb_saver_restore(sv, s, latest), GB_OK, "%s", gb_errmsg());
    char path[720];
    snprintf(path, sizeof path, "%s-2.index", base);
    struct stat sb;
    cr_assert_neq(stat(path, &sb), 0, "a half-written checkpoint was left behind");
    snprintf(path, sizeof path, "%s-2.data-00000-of-00001", base);
    cr_assert_neq(stat(path, &sb), 0, "its data file was left behind");
    free(latest);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}

#include <sys/wait.h>
#include <unistd.h>

#include "internal/ckpt_hooks.h"

static const char *kill_at;

static void die_at_stage(const char *stage)
{
    if (!strcmp(stage, kill_at)) raise(SIGKILL);
}

/* A process killed at each durable step of a save: the latest checkpoint always restores, and it
 * is the new one exactly when the state file was replaced. */
Test(saver, a_save_killed_at_any_step_leaves_a_loadable_checkpoint)
{
    const char *stages[] = {"data_written", "data_renamed", "index_written", "index_renamed", "state_written", "old_deleted"};
    for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++) {
        char dir[700], base[800];
        snprintf(dir, sizeof dir, "%s/kill%zu", test_dir, k);
        mkdir(dir, 0755);
        snprintf(base, sizeof base, "%s/model.ckpt", dir);
        pid_t child = fork();
        cr_assert_geq(child, 0);
        if (child == 0) {
            model m;
            build(&m);
            gb_session_run(m.s, NULL, 0, &m.init, 1, NULL);
            gb_saver *sv = gb_saver_new(m.g, base, 1);
            if (gb_saver_save(sv, m.s, 1, NULL) != GB_OK) _exit(3);
            step(&m);
            kill_at = stages[k];
            gb_ckpt_test_hook = die_at_stage;
            gb_saver_save(sv, m.s, 2, NULL);
            _exit(4); /* the hook did not fire */
        }
        int status;
        waitpid(child, &status, 0);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "stage %s: the child was not killed (%d)", stages[k],
                  status);
        char *latest = gb_latest_checkpoint(dir);
        cr_assert_not_null(latest, "stage %s: no loadable checkpoint: %s", stages[k], gb_errmsg());
        char want[900];
        snprintf(want, sizeof want, "%s-%d", base, k >= 4 ? 2 : 1);
        cr_assert_str_eq(latest, want, "stage %s", stages[k]);
        model m;
        build(&m);
        gb_saver *sv = gb_saver_new(m.g, base, 1);
        cr_assert_eq(gb_saver_restore(sv, m.s, latest), GB_OK, "stage %s: %s", stages[k], gb_errmsg());
        gb_saver_free(sv);
        destroy(&m);
        free(latest);
    }
}

Test(saver, keep_every_n_hours_preserves_old_checkpoints)
{
    char base[600], path[700];
    snprintf(base, sizeof base, "%s/k.ckpt", test_dir);
    model m;
    build(&m);
    gb_session_run(m.s, NULL, 0, &m.init, 1, NULL);
    gb_saver *sv = gb_saver_new(m.g, base, 1);
    /* 2 s, for the test: long enough that a durable save (fsync) on a loaded machine stays under it */
    gb_saver_set_keep_every_n_hours(sv, 2.0 / 3600);
    usleep(2100000);
    cr_assert_eq(gb_saver_save(sv, m.s, 1, NULL), GB_OK); /* 2.1 s after the saver: preserved */
    cr_assert_eq(gb_saver_save(sv, m.s, 2, NULL), GB_OK); /* right after 1: not */
    cr_assert_eq(gb_saver_save(sv, m.s, 3, NULL), GB_OK);
    struct stat sb;
    for (int s = 1; s <= 3; s++) {
        snprintf(path, sizeof path, "%s-%d.index", base, s);
        cr_assert_eq(stat(path, &sb) == 0, s != 2, "checkpoint %d", s);
    }
    gb_saver_free(sv);
    destroy(&m);
}

/* A graph of n scalar variables, all initialised to value. */
static gb_session *scalars(gb_graph *g, int n, const char *name_format, float value, gb_node **vars)
{
    char name[200];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, name_format, i);
        vars[i] = gb_variable(g, name, GB_F32, gb_dims(0), gb_init_constant(value));
    }
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    return s;
}

static void assign_all(gb_session *s, gb_node **vars, int n, float value)
{
    gb_tensor *t = gb_tensor_scalar_f32(value);
    for (int i = 0; i < n; i++) cr_assert_eq(gb_session_assign(s, vars[i], t), GB_OK, "%s", gb_errmsg());
    gb_tensor_free(t);
}

static float value_of(gb_session *s, gb_node *v)
{
    const gb_tensor *t = gb_session_variable(s, v);
    cr_assert_not_null(t, "%s has no value", gb_node_name(v));
    return ((const float *)gb_tensor_data(t))[0];
}

/* Saving a step again (a retry, a last save after a restart) that fails for a full disk: the
 * checkpoint of that step stays as it was, loadable, and nothing else is left. */
Test(saver, a_failed_save_at_the_same_step_keeps_that_steps_checkpoint)
{
    signal(SIGXFSZ, SIG_IGN);
    enum { N = 40 };
    gb_node *v[N];
    gb_graph *g = gb_graph_new();
    /* long names: an index of kilobytes beside 160 bytes of data, so the limit below hits the index */
    gb_session *s = scalars(g, N, "layer_%02d_with_a_long_name_that_makes_the_index_larger_than_the_data", 7, v);
    char base[600];
    snprintf(base, sizeof base, "%s/m", test_dir);
    gb_saver *sv = gb_saver_new(g, base, 5);
    cr_assert_eq(gb_saver_save(sv, s, 100, NULL), GB_OK, "%s", gb_errmsg());
    assign_all(s, v, N, 9);
    struct rlimit limit = {400, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    cr_assert_eq(gb_saver_save(sv, s, 100, NULL), GB_EIO);
    limit.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &limit);
    char *files = test_listing(test_dir);
    cr_assert_str_eq(files, "checkpoint m-100.data-00000-of-00001 m-100.index ");
    char *latest = gb_latest_checkpoint(test_dir);
    cr_assert_not_null(latest, "%s", gb_errmsg());
    gb_session *s2 = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_saver_restore(sv, s2, latest), GB_OK, "%s", gb_errmsg());
    for (int i = 0; i < N; i++) cr_assert_eq(value_of(s2, v[i]), 7.0f);
    free(files), free(latest);
    gb_saver_free(sv);
    gb_session_free(s2), gb_session_free(s);
    gb_graph_free(g);
}

static int hook_calls, kill_at_call;

static void die_at_call(const char *stage)
{
    (void)stage;
    if (++hook_calls == kill_at_call) raise(SIGKILL);
}

/* Saving a step again, killed at each durable step in turn: the state file's checkpoint always
 * restores, to the old values or the new ones; once the save is done, the new, with nothing
 * else left in the directory. */
Test(saver, a_save_at_the_same_step_killed_at_any_point_leaves_it_loadable)
{
    int finished = 0;
    for (int call = 1; call <= 30 && !finished; call++) {
        char dir[700], base[800];
        snprintf(dir, sizeof dir, "%s/kill%d", test_dir, call);
        mkdir(dir, 0755);
        snprintf(base, sizeof base, "%s/m", dir);
        pid_t child = fork();
        cr_assert_geq(child, 0);
        if (child == 0) {
            gb_node *v;
            gb_graph *g = gb_graph_new();
            gb_session *s = scalars(g, 1, "v%d", 7, &v);
            gb_saver *sv = gb_saver_new(g, base, 5);
            if (gb_saver_save(sv, s, 100, NULL) != GB_OK) _exit(3);
            assign_all(s, &v, 1, 9);
            kill_at_call = call;
            gb_ckpt_test_hook = die_at_call;
            _exit(gb_saver_save(sv, s, 100, NULL) == GB_OK ? 0 : 5);
        }
        int status;
        waitpid(child, &status, 0);
        finished = WIFEXITED(status);
        cr_assert(finished ? WEXITSTATUS(status) == 0 : WTERMSIG(status) == SIGKILL, "call %d: status %d", call, status);
        char *latest = gb_latest_checkpoint(dir);
        cr_assert_not_null(latest, "killed at call %d: no loadable checkpoint: %s", call, gb_errmsg());
        gb_node *v;
        gb_graph *g = gb_graph_new();
        gb_session *s = scalars(g, 1, "v%d", 0, &v);
        gb_saver *sv = gb_saver_new(g, base, 5);
        cr_assert_eq(gb_saver_restore(sv, s, latest), GB_OK, "killed at call %d: %s", call, gb_errmsg());
        float value = value_of(s, v);
        cr_assert(value == 7 || value == 9, "killed at call %d: %g restored", call, value);
        if (finished) {
            cr_assert_eq(value, 9.0f);
            char *files = test_listing(dir);
            cr_assert_str_eq(files, "checkpoint m-100.data-00000-of-00001 m-100.index ");
            free(files);
        }
        free(latest);
        gb_saver_free(sv);
        gb_session_free(s);
        gb_graph_free(g);
    }
    cr_assert(finished, "the save never finished");
}

/* A prefix naming a directory would put the state file in its parent, and there rewrite another
 * run's list and delete its checkpoints. */
Test(saver, a_prefix_ending_in_a_slash_is_refused)
{
    gb_node *v;
    gb_graph *g = gb_graph_new();
    gb_session *s = scalars(g, 1, "v%d", 7, &v);
    char base[700];
    snprintf(base, sizeof base, "%s/exp1/", test_dir);
    mkdir(base, 0755);
    cr_assert_null(gb_saver_new(g, base, 1));
    cr_assert(strstr(gb_errmsg(), "ends in '/'"), "%s", gb_errmsg());
    gb_session_free(s);
    gb_graph_free(g);
}

/* "dir//m" is dir/m: its state file in dir names "m-<step>", relative, as TensorFlow writes it. */
Test(saver, repeated_slashes_in_the_prefix_give_the_same_relative_paths)
{
    gb_node *v;
    gb_graph *g = gb_graph_new();
    gb_session *s = scalars(g, 1, "v%d", 7, &v);
    char base[700], want[800], path[800];
    snprintf(base, sizeof base, "%s//m", test_dir);
    gb_saver *sv = gb_saver_new(g, base, 1);
    char *prefix;
    cr_assert_eq(gb_saver_save(sv, s, 1, NULL), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_saver_save(sv, s, 2, &prefix), GB_OK, "%s", gb_errmsg());
    snprintf(want, sizeof want, "%s/m-2", test_dir);
    cr_assert_str_eq(prefix, want);
    char *latest = gb_latest_checkpoint(test_dir);
    cr_assert_not_null(latest, "%s", gb_errmsg());
    cr_assert_str_eq(latest, want);
    snprintf(path, sizeof path, "%s/checkpoint", test_dir);
    size_t len;
    char *state = (char *)test_read_file(path, &len);
    state = realloc(state, len + 1);
    state[len] = '\0';
    cr_assert_str_eq(state, "model_checkpoint_path: \"m-2\"\nall_model_checkpoint_paths: \"m-2\"\n");
    char *files = test_listing(test_dir);
    cr_assert_str_eq(files, "checkpoint m-2.data-00000-of-00001 m-2.index ", "max_to_keep 1 deletes m-1");
    free(files), free(state), free(latest), free(prefix);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}

/* Nodes of another graph, or not variables: refused before anything changes, saying which. */
Test(saver, restores_refuse_nodes_of_another_graph_and_non_variables)
{
    gb_node *w, *other;
    gb_graph *g = gb_graph_new(), *h = gb_graph_new();
    gb_session *s = scalars(g, 1, "w%d", 1, &w);
    gb_session *hs = scalars(h, 1, "other%d", 5, &other);
    char base[700];
    snprintf(base, sizeof base, "%s/m", test_dir);
    gb_saver *sv = gb_saver_new(g, base, 0);
    char *prefix;
    cr_assert_eq(gb_saver_save(sv, s, 1, &prefix), GB_OK, "%s", gb_errmsg());
    assign_all(s, &w, 1, 0);
    const char *names[] = {"w0", "w0"};
    gb_node *foreign[] = {other};
    cr_assert_eq(gb_restore_variables(s, prefix, 1, names, foreign), GB_EINVAL);
    gb_node *mixed[] = {w, other};
    cr_assert_eq(gb_restore_variables(s, prefix, 2, names, mixed), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "other0") && strstr(gb_errmsg(), "graph"), "%s", gb_errmsg());
    cr_assert_eq(value_of(s, w), 0.0f, "w was restored");
    cr_assert_eq(value_of(hs, other), 5.0f, "the other graph's variable changed");
    /* a saver of g with a session of h: h's variables are not g's */
    cr_assert_neq(gb_saver_restore(sv, hs, prefix), GB_OK);
    cr_assert_eq(value_of(hs, other), 5.0f);

    gb_node *fed = gb_placeholder(g, "fed", GB_I32, gb_dims(1, 3));
    gb_node *not_variable[] = {fed};
    cr_assert_eq(gb_restore_variables(s, prefix, 1, names, not_variable), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "is not a variable"), "%s", gb_errmsg());
    gb_node *null_node[] = {NULL};
    cr_assert_eq(gb_restore_variables(s, prefix, 1, names, null_node), GB_EINVAL);
    cr_assert_eq(value_of(s, w), 0.0f);
    free(prefix);
    gb_saver_free(sv);
    gb_session_free(s), gb_session_free(hs);
    gb_graph_free(g), gb_graph_free(h);
}

/* A reset frees the nodes the saver holds: it says so instead of reading them. */
Test(saver, a_saver_of_a_graph_since_reset_refuses)
{
    char base[700];
    snprintf(base, sizeof base, "%s/m", test_dir);
    gb_graph *g = gb_graph_new();
    gb_variable(g, "w", GB_F32, gb_dims(1, 2), gb_init_constant(1));
    gb_saver *sv = gb_saver_new(g, base, 0);
    gb_graph_reset(g);
    gb_node *w;
    gb_session *s = scalars(g, 1, "w%d", 1, &w);
    cr_assert_eq(gb_saver_save(sv, s, 1, NULL), GB_ESTATE);
    cr_assert(strstr(gb_errmsg(), "reset"), "%s", gb_errmsg());
    char *files = test_listing(test_dir);
    cr_assert_str_eq(files, "");
    cr_assert_eq(gb_saver_restore(sv, s, base), GB_ESTATE);
    cr_assert(strstr(gb_errmsg(), "reset"), "%s", gb_errmsg());
    free(files);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}

/* A save whose state file cannot be replaced (here a directory is in its way) fails and takes
 * its checkpoint files with it. */
Test(saver, a_failed_save_removes_what_it_wrote)
{
    gb_node *v;
    gb_graph *g = gb_graph_new();
    gb_session *s = scalars(g, 1, "v%d", 7, &v);
    char base[700], path[800];
    snprintf(base, sizeof base, "%s/m", test_dir);
    snprintf(path, sizeof path, "%s/checkpoint", test_dir);
    mkdir(path, 0755);
    gb_saver *sv = gb_saver_new(g, base, 0);
    cr_assert_eq(gb_saver_save(sv, s, 1, NULL), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "checkpoint"), "%s", gb_errmsg());
    char *files = test_listing(test_dir);
    cr_assert_str_eq(files, "checkpoint ");
    free(files);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}

Test(saver, a_failed_first_save_reports_its_own_error_and_leaves_nothing)
{
    /* the state file's place is taken by a directory: the save fails at its rename, and the
     * message must say so rather than what the cleanup found (no state file to read) */
    model m;
    build(&m);
    cr_assert_eq(gb_session_run(m.s, NULL, 0, &m.init, 1, NULL), GB_OK, "%s", gb_errmsg());
    char blocker[4200], base[4200];
    snprintf(blocker, sizeof blocker, "%s/checkpoint", test_dir);
    cr_assert_eq(mkdir(blocker, 0755), 0);
    snprintf(blocker, sizeof blocker, "%s/checkpoint/inside", test_dir);
    cr_assert_eq(mkdir(blocker, 0755), 0);
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    gb_saver *sv = gb_saver_new(m.g, base, 5);
    cr_assert_neq(gb_saver_save(sv, m.s, 1, NULL), GB_OK);
    cr_assert(strstr(gb_errmsg(), "rename"), "the save's own failure, not the cleanup's: %s", gb_errmsg());
    char index[4300];
    snprintf(index, sizeof index, "%s-1.index", base);
    struct stat sb;
    cr_assert_neq(stat(index, &sb), 0, "what the failed save wrote is removed");
    gb_saver_free(sv);
    destroy(&m);
}
