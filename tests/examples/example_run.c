#include "example_run.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/event_reader.h"
#include "test_fs.h"

int run_example(const char *args, char **out)
{
    size_t size = strlen(GB_EXAMPLE) + strlen(args) + 2;
    char *command = malloc(size);
    cr_assert_not_null(command);
    snprintf(command, size, "%s %s", GB_EXAMPLE, args);
    char *captured = NULL;
    int status = test_run(command, &captured);
    free(command);
    cr_assert_not_null(captured, "could not run %s %s", GB_EXAMPLE, args);
    if (out)
        *out = captured;
    else
        free(captured);
    return status;
}

/* Calls visit on every value of every event of the run; fails the test on a read error. */
static void each_value(const char *logdir, void (*visit)(const gb_event *ev, size_t i, void *ctx), void *ctx)
{
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, logdir), GB_OK, "%s", gb_errmsg());
    const gb_event *ev;
    gb_status st;
    while ((st = gb_event_reader_next(r, &ev)) == GB_OK)
        for (size_t i = 0; i < gb_event_value_count(ev); i++) visit(ev, i, ctx);
    cr_assert_eq(st, GB_END, "%s", gb_errmsg());
    gb_event_reader_close(r);
}

typedef struct scalar_series {
    const char *tag;
    int64_t *steps;
    double *values;
    size_t max, count;
} scalar_series;

static void collect_scalar(const gb_event *ev, size_t i, void *ctx)
{
    scalar_series *series = ctx;
    if (strcmp(gb_event_value_tag(ev, i), series->tag) != 0) return;
    cr_assert_eq(gb_event_value_kind(ev, i), GB_VALUE_SCALAR, "%s is not a scalar", series->tag);
    if (series->count < series->max) {
        series->steps[series->count] = gb_event_step(ev);
        cr_assert_eq(gb_event_value_scalar(ev, i, &series->values[series->count]), GB_OK);
    }
    series->count++;
}

size_t read_scalars(const char *logdir, const char *tag, int64_t *steps, double *values, size_t max)
{
    scalar_series series = {tag, steps, values, max, 0};
    each_value(logdir, collect_scalar, &series);
    return series.count;
}

static void count_graph(const gb_event *ev, size_t i, void *ctx)
{
    if (gb_event_value_kind(ev, i) == GB_VALUE_GRAPH) ++*(size_t *)ctx;
}

size_t count_graphs(const char *logdir)
{
    size_t count = 0;
    each_value(logdir, count_graph, &count);
    return count;
}

char *read_text_file(const char *path)
{
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    cr_assert_not_null(bytes, "cannot read %s", path);
    char *text = realloc(bytes, len + 1);
    cr_assert_not_null(text);
    text[len] = '\0';
    return text;
}
