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
