/* Where checkpoints go: savers sharing a directory or one prefix from several threads, a missing
 * checkpoint directory, and one of a checkpoint's files given for its prefix. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"
#include "test_fs.h"

TestSuite(saver_places, .init = test_dir_setup, .fini = test_dir_teardown);

typedef struct saving_thread {
    const char *base;
    int failures;
    char first_error[300];
} saving_thread;

static void *save_many(void *arg)
{
    saving_thread *t = arg;
    gb_graph *g = gb_graph_new();
    gb_variable(g, "v", GB_F32, gb_dims(1, 100), gb_init_constant(1));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_session_run(s, NULL, 0, &init, 1, NULL);
    gb_saver *sv = gb_saver_new(g, t->base, 3);
    gb_saver_set_durable(sv, 0);
    for (int i = 0; i < 150; i++)
        if (gb_saver_save(sv, s, i, NULL) != GB_OK && !t->failures++)
            snprintf(t->first_error, sizeof t->first_error, "%s", gb_errmsg());
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
    return NULL;
}

/* Two savers saving into one directory at once: every save succeeds, and at the end the state
 * file lists the three newest and the directory holds those and nothing else. */
Test(saver_places, two_threads_saving_into_one_directory)
{
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/modelA", test_dir);
    snprintf(b, sizeof b, "%s/modelB", test_dir);
    saving_thread threads[2] = {{.base = a}, {.base = b}};
    pthread_t ids[2];
    for (int k = 0; k < 2; k++) cr_assert_eq(pthread_create(&ids[k], NULL, save_many, &threads[k]), 0);
    for (int k = 0; k < 2; k++) pthread_join(ids[k], NULL);
    for (int k = 0; k < 2; k++)
        cr_assert_eq(threads[k].failures, 0, "thread %d: %d saves failed, the first: %s", k, threads[k].failures,
                     threads[k].first_error);
    char command[800], *listed = NULL, *files = test_listing(test_dir);
    snprintf(command, sizeof command,
             "(echo checkpoint; sed -n 's/^all_model_checkpoint_paths: \"\\(.*\\)\"$/\\1.data-00000-of-00001\\n\\1.index/p' "
             "'%s/checkpoint') | sort | tr '\\n' ' '",
             test_dir);
    cr_assert_eq(test_run(command, &listed), 0);
    cr_assert_eq(strlen(listed) > 0 && strstr(listed, ".index") != NULL, 1, "%s", listed);
    cr_assert_str_eq(files, listed);
    free(files), free(listed);
}


/* ---- savers sharing one prefix ---- */

enum { SAME_PREFIX_SAVERS = 3, SAME_PREFIX_VARS = 1000, SAME_PREFIX_ROUNDS = 150 };

typedef struct same_prefix_saver {
    gb_graph *g;
    gb_session *s;
    gb_saver *sv;
    pthread_barrier_t *barrier;
    int failures;
} same_prefix_saver;

static void *save_each_round(void *arg)
{
    same_prefix_saver *x = arg;
    for (int round = 1; round <= SAME_PREFIX_ROUNDS; round++) {
        pthread_barrier_wait(x->barrier);
        x->failures += gb_saver_save(x->sv, x->s, round, NULL) != GB_OK;
        pthread_barrier_wait(x->barrier); /* the main thread checks the round's checkpoint */
        pthread_barrier_wait(x->barrier);
    }
    return NULL;
}

/* Three savers of one prefix (three copies of a model, one thread each) saving the same step at
 * once: the save's data and index were renamed into place outside the directory's lock, and the
 * latest checkpoint could pair one save's index with another's data (1 to 5 rounds in 40 failed
 * their checksums, with every save returning GB_OK). Now a whole save takes the lock. */
Test(saver_places, savers_of_one_prefix_saving_the_same_step_leave_a_whole_checkpoint)
{
    char base[700];
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, SAME_PREFIX_SAVERS + 1);
    same_prefix_saver savers[SAME_PREFIX_SAVERS];
    pthread_t ids[SAME_PREFIX_SAVERS];
    for (int i = 0; i < SAME_PREFIX_SAVERS; i++) {
        same_prefix_saver *x = &savers[i];
        *x = (same_prefix_saver){.g = gb_graph_new(), .barrier = &barrier};
        for (int k = 0; k < SAME_PREFIX_VARS; k++) {
            char name[32];
            snprintf(name, sizeof name, "v%d", k);
            gb_variable(x->g, name, GB_F32, gb_dims(1, 1024), gb_init_constant(i + 1));
        }
        gb_node *init = gb_global_variables_initializer(x->g);
        x->s = gb_session_new(x->g, GB_CPU);
        cr_assert_eq(gb_session_run(x->s, NULL, 0, &init, 1, NULL), GB_OK);
        x->sv = gb_saver_new(x->g, base, 0);
        gb_saver_set_durable(x->sv, 0);
        cr_assert_eq(pthread_create(&ids[i], NULL, save_each_round, x), 0);
    }
    int bad = 0;
    char first[400] = "";
    for (int round = 1; round <= SAME_PREFIX_ROUNDS; round++) {
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        char *latest = gb_latest_checkpoint(test_dir);
        gb_bundle_reader *r = NULL;
        gb_status st = latest ? gb_bundle_reader_open(&r, latest) : GB_EIO;
        for (size_t k = 0; st == GB_OK && k < gb_bundle_reader_count(r); k++)
            st = gb_bundle_reader_check(r, gb_bundle_reader_entry(r, k));
        if (st != GB_OK && !bad++) snprintf(first, sizeof first, "round %d, %s: %s", round, latest ? latest : "(none)", gb_errmsg());
        if (r) gb_bundle_reader_close(r);
        free(latest);
        pthread_barrier_wait(&barrier);
    }
    for (int i = 0; i < SAME_PREFIX_SAVERS; i++) {
        pthread_join(ids[i], NULL);
        cr_expect_eq(savers[i].failures, 0, "saver %d: %d saves failed", i, savers[i].failures);
        gb_saver_free(savers[i].sv);
        gb_session_free(savers[i].s);
        gb_graph_free(savers[i].g);
    }
    pthread_barrier_destroy(&barrier);
    cr_assert_eq(bad, 0, "%d of %d rounds left a latest checkpoint that does not load; the first: %s", bad,
                 SAME_PREFIX_ROUNDS, first);
}

/* A checkpoint's own file given for its prefix: the index is an SSTable, which the V1 check took
 * for a V1 checkpoint ("TensorFlow can re-save it"); now the message names the prefix to pass. */
Test(saver_places, one_of_a_checkpoints_files_for_its_prefix_names_the_prefix)
{
    gb_graph *g = gb_graph_new();
    gb_variable(g, "v", GB_F32, gb_dims(1, 4), gb_init_constant(1));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK);
    char base[700], *prefix = NULL;
    snprintf(base, sizeof base, "%s/model.ckpt", test_dir);
    gb_saver *sv = gb_saver_new(g, base, 5);
    cr_assert_eq(gb_saver_save(sv, s, 8, &prefix), GB_OK, "%s", gb_errmsg());
    const char *suffixes[] = {".index", ".data-00000-of-00001"};
    for (int k = 0; k < 2; k++) {
        char file[800], want[900];
        snprintf(file, sizeof file, "%s%s", prefix, suffixes[k]);
        snprintf(want, sizeof want, "pass its prefix, %s", prefix);
        cr_assert_eq(gb_saver_restore(sv, s, file), GB_ENOTFOUND, "%s", file);
        cr_assert(strstr(gb_errmsg(), want), "%s", gb_errmsg());
    }
    free(prefix);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}

/* The saver makes its directory, as gb_writer_open makes a log directory (it failed naming its
 * temporary file: "cannot create new/sub/model.ckpt-1.data-00000-of-00001.tempstate..."). */
Test(saver_places, saving_into_a_missing_directory_makes_it)
{
    gb_graph *g = gb_graph_new();
    gb_variable(g, "v", GB_F32, gb_dims(1, 4), gb_init_constant(3));
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s = gb_session_new(g, GB_CPU);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK);
    char base[800], dir[700];
    snprintf(dir, sizeof dir, "%s/new/sub", test_dir);
    snprintf(base, sizeof base, "%s/model.ckpt", dir);
    gb_saver *sv = gb_saver_new(g, base, 5);
    char *prefix = NULL;
    cr_assert_eq(gb_saver_save(sv, s, 1, &prefix), GB_OK, "%s", gb_errmsg());
    char *latest = gb_latest_checkpoint(dir);
    cr_assert_str_eq(latest, prefix);
    cr_assert_eq(gb_saver_restore(sv, s, latest), GB_OK, "%s", gb_errmsg());
    free(latest), free(prefix);
    /* a path through a file cannot become a directory: the error says which */
    snprintf(base, sizeof base, "%s/new/sub/model.ckpt-1.index/x/model.ckpt", test_dir);
    gb_saver *blocked = gb_saver_new(g, base, 5);
    cr_assert_eq(gb_saver_save(blocked, s, 2, NULL), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "checkpoint directory"), "%s", gb_errmsg());
    gb_saver_free(blocked);
    gb_saver_free(sv);
    gb_session_free(s);
    gb_graph_free(g);
}
