/* log_scalars logs its three scalar series, and answers --help and bad arguments with its usage
 * rather than taking them for a log directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "example_run.h"
#include "test_fs.h"

TestSuite(log_scalars, .init = test_dir_setup, .fini = test_dir_teardown);

Test(log_scalars, logs_the_steps_it_is_asked_for)
{
    char args[4200];
    snprintf(args, sizeof args, "%s/run 20", test_dir);
    cr_assert_eq(run_example(args, NULL), 0);
    char run[4200];
    snprintf(run, sizeof run, "%s/run", test_dir);
    int64_t steps[32];
    double values[32];
    cr_assert_eq(read_scalars(run, "train/loss", steps, values, 32), 20);
    cr_assert_eq(steps[19], 19);
    cr_assert_eq(read_scalars(run, "train/learning_rate", steps, values, 32), 20);
}

Test(log_scalars, help_and_bad_arguments_print_the_usage_and_create_nothing)
{
    char *out = NULL, cmd[4200];
    snprintf(cmd, sizeof cmd, "--help");
    cr_assert_eq(run_example(cmd, &out), 0);
    cr_assert(strstr(out, "usage: log_scalars"), "%s", out);
    free(out);
    struct stat sb;
    cr_assert_neq(stat("--help", &sb), 0, "--help must not become a log directory");
    snprintf(cmd, sizeof cmd, "%s/run 5x 2>/dev/null", test_dir);
    cr_assert_eq(run_example(cmd, NULL), 2);
    snprintf(cmd, sizeof cmd, "--bogus 2>/dev/null");
    cr_assert_eq(run_example(cmd, NULL), 2);
    cr_assert_neq(stat("--bogus", &sb), 0);
}
