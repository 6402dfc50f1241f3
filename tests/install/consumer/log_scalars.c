/* consumer_log LOGDIR: an outside program that links gradboard's logger alone (gradboard::summary
 * or gradboard-summary.pc). It logs a few scalars, reads them back and exits 0 when every value
 * came back as written. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gradboard/summary.h>

static int fail(const char *what)
{
    fprintf(stderr, "consumer_log: %s: %s\n", what, gb_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer_log LOGDIR\n");
        return 2;
    }
    /* The header and the library linked at run time must be the same release. */
    if (strcmp(gb_version(), GB_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer_log: header says %s, library says %s\n", GB_VERSION_STRING, gb_version());
        return 1;
    }

    gb_writer *w;
    if (gb_writer_open(&w, argv[1], NULL) != GB_OK)
        return fail("open");
    enum { STEPS = 10 };
    for (int64_t step = 0; step < STEPS; step++)
        if (gb_summary_scalar(w, "train/loss", step, 1.0 / (double)(step + 1)) != GB_OK)
            return fail("scalar");
    const char *tags[] = {"test/loss", "test/accuracy"};
    double values[] = {0.25, 0.875};
    if (gb_summary_scalars(w, STEPS, 2, tags, values) != GB_OK)
        return fail("scalars");
    if (gb_writer_close(w) != GB_OK)
        return fail("close");

    /* Read the run back: every value must be there, as float32 keeps it. */
    gb_event_reader *r;
    if (gb_event_reader_open(&r, argv[1]) != GB_OK)
        return fail("reader open");
    int seen = 0, wrong = 0;
    const gb_event *ev;
    gb_status st;
    while ((st = gb_event_reader_next(r, &ev)) == GB_OK) {
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            double v, want;
            if (gb_event_value_scalar(ev, i, &v) != GB_OK)
                continue;
            const char *tag = gb_event_value_tag(ev, i);
            if (strcmp(tag, "train/loss") == 0)
                want = 1.0 / (double)(gb_event_step(ev) + 1);
            else if (strcmp(tag, "test/loss") == 0)
                want = values[0];
            else
                want = values[1];
            if (fabs(v - want) > 1e-6 * fabs(want))
                wrong++;
            seen++;
        }
    }
    gb_event_reader_close(r);
    if (st != GB_END)
        return fail("read");
    if (seen != STEPS + 2 || wrong) {
        fprintf(stderr, "consumer_log: read %d scalars (%d wrong), wanted %d\n", seen, wrong, STEPS + 2);
        return 1;
    }
    printf("consumer_log: gradboard %s, %d scalars written and read back\n", gb_version(), seen);
    return 0;
}
