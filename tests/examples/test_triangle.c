/* triangle learns its triangle and logs, at every epoch, the loss, the accuracy and a
 * 128 x 128 RGB picture of the decision region. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.pb-c.h"
#include "example_run.h"
#include "gradboard/event_reader.h"
#include "test_fs.h"

TestSuite(triangle, .init = test_dir_setup, .fini = test_dir_teardown);

enum { EPOCHS = 100, SIZE = 128 };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An image value as TensorBoard's image plugin stores it: the strings [width, height, png...].
 * Checks them, and that the PNG itself is SIZE x SIZE RGB. */
static void check_image(const gb_event *ev, size_t i)
{
    size_t len;
    const uint8_t *payload = gb_event_payload(ev, &len);
    Gbpb__Event *e = gbpb__event__unpack(NULL, len, payload);
    cr_assert_not_null(e);
    const Gbpb__TensorProto *t = e->summary->value[i]->tensor;
    cr_assert_not_null(t);
    cr_assert_eq(t->n_string_val, 3, "width, height and one image");
    cr_assert_eq(t->string_val[0].len, 3);
    cr_assert_eq(memcmp(t->string_val[0].data, "128", 3), 0, "width");
    cr_assert_eq(t->string_val[1].len, 3);
    cr_assert_eq(memcmp(t->string_val[1].data, "128", 3), 0, "height");
    const uint8_t *png = t->string_val[2].data;
    cr_assert_gt(t->string_val[2].len, 33);
    cr_assert_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_assert_eq(memcmp(png + 12, "IHDR", 4), 0);
    cr_assert_eq(be32(png + 16), SIZE, "PNG width");
    cr_assert_eq(be32(png + 20), SIZE, "PNG height");
    cr_assert_eq(png[24], 8, "bit depth");
    cr_assert_eq(png[25], 2, "colour type RGB");
    gbpb__event__free_unpacked(e, NULL);
}

Test(triangle, learns_the_triangle_and_logs_its_decision_region)
{
    char logdir[4096], *out;
    snprintf(logdir, sizeof logdir, "%s/run", test_dir);
    cr_assert_eq(run_example(logdir, &out), 0);
    free(out);

    int64_t steps[EPOCHS + 1];
    double accuracy[EPOCHS + 1], loss[EPOCHS + 1];
    cr_assert_eq(read_scalars(logdir, "accuracy", steps, accuracy, EPOCHS + 1), EPOCHS);
    cr_assert_eq(steps[0], 1);
    cr_assert_eq(steps[EPOCHS - 1], EPOCHS);
    /* 99.2% on this machine; a little room for other BLAS kernels' rounding */
    cr_assert_geq(accuracy[EPOCHS - 1], 0.98, "final accuracy %g", accuracy[EPOCHS - 1]);
    cr_assert_eq(read_scalars(logdir, "loss", steps, loss, EPOCHS + 1), EPOCHS);
    cr_assert_lt(loss[EPOCHS - 1], loss[0] / 5, "loss %g -> %g", loss[0], loss[EPOCHS - 1]);

    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, logdir), GB_OK, "%s", gb_errmsg());
    const gb_event *ev;
    gb_status st;
    int64_t images = 0;
    while ((st = gb_event_reader_next(r, &ev)) == GB_OK)
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            if (strcmp(gb_event_value_tag(ev, i), "decision_region") != 0) continue;
            cr_assert_eq(gb_event_value_kind(ev, i), GB_VALUE_IMAGE);
            cr_assert_str_eq(gb_event_value_plugin(ev, i), "images");
            cr_assert_eq(gb_event_step(ev), ++images, "one image per epoch, in order");
            check_image(ev, i);
        }
    cr_assert_eq(st, GB_END, "%s", gb_errmsg());
    gb_event_reader_close(r);
    cr_assert_eq(images, EPOCHS);
    cr_assert_eq(count_graphs(logdir), 1);
}

Test(triangle, usage_errors_exit_2_and_an_unwritable_logdir_exits_1)
{
    char *out;
    cr_assert_eq(run_example("--help", &out), 0);
    cr_assert_not_null(strstr(out, "usage: triangle [LOGDIR]"), "%s", out);
    free(out);
    cr_assert_eq(run_example("a b 2>&1", &out), 2);
    cr_assert_not_null(strstr(out, "too many arguments"), "%s", out);
    free(out);

    char file[4096], args[4200];
    snprintf(file, sizeof file, "%s/a_file", test_dir);
    cr_assert_eq(test_write_file(file, "x", 1), 0);
    snprintf(args, sizeof args, "%s/logs 2>&1", file);
    cr_assert_eq(run_example(args, &out), 1);
    cr_assert_not_null(strstr(out, "triangle: "), "%s", out);
    free(out);
}
