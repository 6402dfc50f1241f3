/* linear_regression recovers the weights of its synthetic data, logs the loss curve and leaves a
 * checkpoint that the checkpoint reader reads. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_run.h"
#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"
#include "test_fs.h"

TestSuite(linear_regression, .init = test_dir_setup, .fini = test_dir_teardown);

enum { STEPS = 100 };

/* Reads a float32 tensor of the checkpoint, checking its shape. */
static void read_floats(gb_bundle_reader *r, const char *name, int rank, const int64_t *dims, float *out)
{
    const gb_bundle_entry *e = gb_bundle_reader_find(r, name);
    cr_assert_not_null(e, "no %s in the checkpoint", name);
    cr_assert_eq(e->dtype, 1, "%s is float32", name);
    cr_assert_eq(e->rank, rank, "%s rank", name);
    for (int i = 0; i < rank; i++) cr_assert_eq(e->dims[i], dims[i], "%s dim %d", name, i);
    cr_assert_eq(gb_bundle_reader_read(r, e, out, e->size), GB_OK, "%s", gb_errmsg());
}

Test(linear_regression, recovers_the_weights_and_saves_them)
{
    char logdir[4096], *out;
    snprintf(logdir, sizeof logdir, "%s/run", test_dir);
    cr_assert_eq(run_example(logdir, &out), 0);
    cr_assert_not_null(strstr(out, "w[1]  -3.400000"), "prints true and learned weights: %s", out);
    free(out);

    char *prefix = gb_latest_checkpoint(logdir);
    cr_assert_not_null(prefix, "no checkpoint in %s", logdir);
    cr_assert_not_null(strstr(prefix, "model.ckpt-100"), "%s", prefix);
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    float kernel[2], bias[1];
    read_floats(r, "linear/kernel", 2, (int64_t[]){2, 1}, kernel);
    read_floats(r, "linear/bias", 1, (int64_t[]){1}, bias);
    /* the least-squares fit of 1000 points with noise 0.01 is within about 3e-4 of the truth */
    cr_assert_float_eq(kernel[0], 2.0f, 1e-3, "w0 = %.6f", kernel[0]);
    cr_assert_float_eq(kernel[1], -3.4f, 1e-3, "w1 = %.6f", kernel[1]);
    cr_assert_float_eq(bias[0], 4.2f, 1e-3, "b = %.6f", bias[0]);
    const gb_bundle_entry *step = gb_bundle_reader_find(r, "global_step");
    cr_assert_not_null(step);
    int64_t global_step;
    cr_assert_eq(gb_bundle_reader_read(r, step, &global_step, sizeof global_step), GB_OK);
    cr_assert_eq(global_step, STEPS);
    gb_bundle_reader_close(r);
    free(prefix);

    int64_t steps[STEPS + 1];
    double loss[STEPS + 1];
    cr_assert_eq(read_scalars(logdir, "loss", steps, loss, STEPS + 1), STEPS);
    cr_assert_eq(steps[0], 0);
    cr_assert_eq(steps[STEPS - 1], STEPS - 1);
    cr_assert_gt(loss[0], 10.0, "starts from zero weights: %g", loss[0]);
    /* ends at the noise's variance, 1e-4 */
    cr_assert_lt(loss[STEPS - 1], 2e-4, "%g", loss[STEPS - 1]);
    cr_assert_eq(count_graphs(logdir), 1);
}

Test(linear_regression, usage_errors_exit_2_and_an_unwritable_logdir_exits_1)
{
    char *out;
    cr_assert_eq(run_example("--help", &out), 0);
    cr_assert_not_null(strstr(out, "usage: linear_regression [LOGDIR]"), "%s", out);
    free(out);
    cr_assert_eq(run_example("a b 2>&1", &out), 2);
    cr_assert_not_null(strstr(out, "too many arguments"), "%s", out);
    free(out);
    cr_assert_eq(run_example("-x 2>&1", &out), 2);
    free(out);

    char file[4096], args[4200];
    snprintf(file, sizeof file, "%s/a_file", test_dir);
    cr_assert_eq(test_write_file(file, "x", 1), 0);
    snprintf(args, sizeof args, "%s/logs 2>&1", file);
    cr_assert_eq(run_example(args, &out), 1);
    cr_assert_not_null(strstr(out, "linear_regression: "), "%s", out);
    free(out);
}
