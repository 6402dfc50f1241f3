/* seed_optimize with a log directory: the same table, plus the graph and the values of the
 * table as the scalars curr_x and curr_f (the seed's tf.summary.scalar + FileWriter). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_run.h"
#include "test_fs.h"

TestSuite(seed_optimize, .init = test_dir_setup, .fini = test_dir_teardown);

enum { EPOCHS = 30 };

/* The x and f columns of the expected table (NumPy's float32 values). */
static void expected_table(float x[EPOCHS], float f[EPOCHS])
{
    char *table = read_text_file(GB_ENGINE_TESTDATA "/seed_optimize.expected");
    const char *line = table;
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        int got;
        cr_assert_eq(sscanf(line, "Epoch : %d [%f, %f]", &got, &x[epoch], &f[epoch]), 3, "line %d", epoch);
        cr_assert_eq(got, epoch);
        line = strchr(line, '\n') + 1;
    }
    free(table);
}

Test(seed_optimize, logs_the_table_as_scalars_and_the_graph)
{
    char args[4096], *out;
    snprintf(args, sizeof args, "%s/run", test_dir);
    cr_assert_eq(run_example(args, &out), 0);
    char *want = read_text_file(GB_ENGINE_TESTDATA "/seed_optimize.expected");
    cr_assert_str_eq(out, want, "the table does not change when logging");
    free(out);
    free(want);

    float x[EPOCHS], f[EPOCHS];
    expected_table(x, f);
    int64_t steps[EPOCHS + 1];
    double values[EPOCHS + 1];
    cr_assert_eq(read_scalars(args, "curr_x", steps, values, EPOCHS + 1), EPOCHS);
    for (int i = 0; i < EPOCHS; i++) {
        cr_assert_eq(steps[i], i);
        cr_assert_eq((float)values[i], x[i], "curr_x at %d: %.9g, want %.9g", i, values[i], x[i]);
    }
    cr_assert_eq(read_scalars(args, "curr_f", steps, values, EPOCHS + 1), EPOCHS);
    for (int i = 0; i < EPOCHS; i++) {
        cr_assert_eq(steps[i], i);
        cr_assert_eq((float)values[i], f[i], "curr_f at %d: %.9g, want %.9g", i, values[i], f[i]);
    }
    cr_assert_eq(count_graphs(args), 1);
}

Test(seed_optimize, usage_errors_exit_2_and_an_unwritable_logdir_exits_1)
{
    char *out;
    cr_assert_eq(run_example("--help", &out), 0);
    cr_assert_not_null(strstr(out, "usage: seed_optimize [LOGDIR]"), "%s", out);
    free(out);
    cr_assert_eq(run_example("a b 2>&1", &out), 2);
    cr_assert_not_null(strstr(out, "too many arguments"), "%s", out);
    free(out);
    cr_assert_eq(run_example("--verbose 2>&1", &out), 2);
    cr_assert_not_null(strstr(out, "unknown option"), "%s", out);
    free(out);

    char file[4096], args[4200];
    snprintf(file, sizeof file, "%s/a_file", test_dir);
    cr_assert_eq(test_write_file(file, "x", 1), 0);
    snprintf(args, sizeof args, "%s/logs 2>&1", file);
    cr_assert_eq(run_example(args, &out), 1);
    cr_assert_not_null(strstr(out, "seed_optimize: "), "%s", out);
    cr_assert_not_null(strstr(out, "a_file"), "the message names the directory: %s", out);
    free(out);
}
