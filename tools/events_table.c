#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct tag_row {
    const char *plugin;    /* borrowed from the reader's tag table, which outlives the row */
    gb_value_kind kind;
    uint64_t count;
    int64_t first_step, last_step;
    double last_value;
    int has_value;
} tag_row;

struct events_table {
    tag_row *rows;
    size_t row_count, row_capacity;
    uint64_t event_count;
};

events_table *events_table_new(void)
{
    return calloc(1, sizeof(events_table));
}

void events_table_free(events_table *t)
{
    if (!t) return;
    free(t->rows);
    free(t);
}

size_t events_table_event_count(const events_table *t)
{
    return (size_t)t->event_count;
}

static tag_row *row_for(events_table *t, size_t index)
{
    if (index >= t->row_capacity) {
        size_t capacity = t->row_capacity ? t->row_capacity : 16;
        while (capacity <= index) capacity *= 2;
        tag_row *rows = realloc(t->rows, capacity * sizeof *rows);
        if (!rows) return NULL;
        memset(rows + t->row_capacity, 0, (capacity - t->row_capacity) * sizeof *rows);
        t->rows = rows;
        t->row_capacity = capacity;
    }
    if (index >= t->row_count) t->row_count = index + 1;
    return &t->rows[index];
}

int events_table_add(events_table *t, const gb_event *ev)
{
    t->event_count++;
    int64_t step = gb_event_step(ev);
    for (size_t i = 0; i < gb_event_value_count(ev); i++) {
        tag_row *row = row_for(t, gb_event_value_tag_index(ev, i));
        if (!row) return -1;
        if (row->count == 0) {
            row->plugin = gb_event_value_plugin(ev, i);
            row->kind = gb_event_value_kind(ev, i);
            row->first_step = step;
        }
        row->count++;
        row->last_step = step;
        double v;
        if (gb_event_value_scalar(ev, i, &v) == GB_OK) {
            row->last_value = v;
            row->has_value = 1;
        }
    }
    return 0;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

size_t events_table_print(const events_table *t, const gb_event_reader *r, const char *tag, FILE *out)
{
    int tag_width = 3, plugin_width = 6;
    size_t rows = 0;
    for (size_t i = 0; i < t->row_count; i++) {
        if (t->rows[i].count == 0 || (tag && strcmp(gb_event_reader_tag(r, i), tag) != 0)) continue;
        rows++;
        tag_width = max_int(tag_width, (int)strlen(gb_event_reader_tag(r, i)));
        plugin_width = max_int(plugin_width, (int)strlen(t->rows[i].plugin));
    }
    if (rows == 0) {
        if (!tag) fputs("  (no tagged values)\n", out);
        return 0;
    }
    fprintf(out, "  %-*s  %-*s  %-12s %8s %10s %10s  %s\n", tag_width, "tag", plugin_width, "plugin",
            "kind", "count", "first", "last", "last value");
    for (size_t i = 0; i < t->row_count; i++) {
        const tag_row *row = &t->rows[i];
        if (row->count == 0 || (tag && strcmp(gb_event_reader_tag(r, i), tag) != 0)) continue;
        fprintf(out, "  %-*s  %-*s  %-12s %8llu %10lld %10lld  ", tag_width, gb_event_reader_tag(r, i),
                plugin_width, row->plugin[0] ? row->plugin : "-", gb_value_kind_name(row->kind),
                (unsigned long long)row->count, (long long)row->first_step, (long long)row->last_step);
        if (row->has_value) {
            char buf[40];
            format_value(buf, sizeof buf, row->last_value);
            fputs(buf, out);
        } else {
            fputc('-', out);
        }
        fputc('\n', out);
    }
    return rows;
}
