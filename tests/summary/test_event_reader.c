#include <criterion/criterion.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "event.pb-c.h"
#include "gradboard/summary.h"
#include "test_fs.h"

TestSuite(event_reader, .init = test_dir_setup, .fini = test_dir_teardown);

/* Writes steps 0..steps-1 of "a" = step and "b" = -step under logdir; returns the file path. */
static char *write_run(const char *logdir, int steps, double wall_time)
{
    gb_writer_opts opts = gb_writer_opts_default();
    opts.clock = test_fixed_clock;
    opts.clock_ctx = &wall_time;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK, "%s", gb_errmsg());
    for (int step = 0; step < steps; step++) {
        cr_assert_eq(gb_summary_scalar(w, "a", step, step), GB_OK);
        cr_assert_eq(gb_summary_scalar(w, "b", step, -step), GB_OK);
    }
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);
    return path;
}

Test(event_reader, reads_back_what_the_writer_wrote)
{
    char *path = write_run(test_dir, 100, 1700000000.5);
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, test_dir), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_event_reader_file_count(r), 1);
    const gb_event *ev;
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_OK);
    cr_assert_eq(gb_event_type_of(ev), GB_EVENT_FILE_VERSION);
    cr_assert_str_eq(gb_event_file_version(ev), "brain.Event:2");
    cr_assert_str_eq(gb_event_reader_file(r), path);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(gb_event_reader_next(r, &ev), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_event_type_of(ev), GB_EVENT_SUMMARY);
        cr_assert_eq(gb_event_step(ev), i / 2);
        cr_assert_eq(gb_event_wall_time(ev), 1700000000.5);
        cr_assert_eq(gb_event_value_count(ev), 1);
        cr_assert_str_eq(gb_event_value_tag(ev, 0), i % 2 ? "b" : "a");
        cr_assert_str_eq(gb_event_value_plugin(ev, 0), "scalars");
        cr_assert_eq(gb_event_value_kind(ev, 0), GB_VALUE_SCALAR);
        cr_assert_eq(gb_event_value_tag_index(ev, 0), (size_t)(i % 2));
        double v;
        cr_assert_eq(gb_event_value_scalar(ev, 0, &v), GB_OK);
        cr_assert_eq(v, i % 2 ? -(i / 2) : i / 2);
    }
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_END);
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_END);
    cr_assert_eq(gb_event_reader_tag_count(r), 2);
    cr_assert_str_eq(gb_event_reader_tag(r, 1), "b");
    gb_event_reader_close(r);
    free(path);
}

/* Counts events and scalar values of a run until the end; returns how many errors were seen. */
static int count_run(const char *path, size_t *events, size_t *scalars, gb_status *first_error)
{
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, path), GB_OK, "%s", gb_errmsg());
    const gb_event *ev;
    gb_status st;
    int errors = 0;
    *events = *scalars = 0;
    *first_error = GB_OK;
    while ((st = gb_event_reader_next(r, &ev)) != GB_END) {
        if (st != GB_OK) {
            if (!errors++) *first_error = st;
            continue;
        }
        (*events)++;
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            double v;
            if (gb_event_value_scalar(ev, i, &v) == GB_OK) (*scalars)++;
        }
    }
    gb_event_reader_close(r);
    return errors;
}

Test(event_reader, a_corrupt_file_is_reported_and_the_runs_next_file_still_read)
{
    char *first = write_run(test_dir, 50, 1700000000.0);
    char *second = write_run(test_dir, 30, 1700000001.0);
    if (strcmp(first, second) > 0) { /* files are read in name order */
        char *t = first;
        first = second, second = t;
    }
    size_t len;
    uint8_t *bytes = test_read_file(first, &len);
    bytes[len / 2] ^= 0x40;
    cr_assert_eq(test_write_file(first, bytes, len), 0);

    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, test_dir), GB_OK);
    cr_assert_eq(gb_event_reader_file_count(r), 2);
    const gb_event *ev;
    gb_status st;
    size_t before = 0;
    while ((st = gb_event_reader_next(r, &ev)) == GB_OK) before++;
    cr_assert_eq(st, GB_ECORRUPT, "%s", gb_status_name(st));
    cr_assert(strstr(gb_errmsg(), first), "the message names the file: %s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "byte offset"), "%s", gb_errmsg());
    cr_assert_lt(before, 101);
    size_t after = 0;
    while ((st = gb_event_reader_next(r, &ev)) == GB_OK) after++;
    cr_assert_eq(st, GB_END, "%s", gb_errmsg());
    cr_assert_eq(after, 1 + 60, "the second file's events");
    gb_event_reader_close(r);
    free(bytes);
    free(first);
    free(second);
}

Test(event_reader, a_truncated_tail_is_a_truncation_not_corruption)
{
    char *path = write_run(test_dir, 20, 1700000000.0);
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    cr_assert_eq(test_write_file(path, bytes, len - 3), 0);
    size_t events, scalars;
    gb_status first_error;
    cr_assert_eq(count_run(path, &events, &scalars, &first_error), 1);
    cr_assert_eq(first_error, GB_ETRUNCATED);
    cr_assert_eq(events, 1 + 39);
    free(bytes);
    free(path);
}

Test(event_reader, a_record_that_is_not_an_event_is_corruption)
{
    char path[512];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1.x", test_dir);
    gb_record_writer *rw;
    cr_assert_eq(gb_record_writer_open(&rw, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert_eq(gb_record_writer_append(rw, "\x0a\x05" "ab", 4), GB_OK); /* length runs past the end */
    cr_assert_eq(gb_record_writer_close(rw), GB_OK);
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, path), GB_OK);
    const gb_event *ev;
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "does not parse as an Event"), "%s", gb_errmsg());
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_END);
    gb_event_reader_close(r);
}

Test(event_reader, legacy_simple_values_are_scalars)
{
    Gbpb__Summary__Value value = GBPB__SUMMARY__VALUE__INIT;
    value.tag = "legacy";
    value.value_case = GBPB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    value.simple_value = 2.5f;
    Gbpb__Summary__Value *values[] = {&value};
    Gbpb__Summary summary = GBPB__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    uint8_t bytes[256];
    size_t len = gbpb__summary__pack(&summary, bytes);

    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_writer_add_summary_bytes(w, 7, bytes, len), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);

    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, test_dir), GB_OK);
    const gb_event *ev;
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_OK);
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_OK);
    cr_assert_eq(gb_event_step(ev), 7);
    cr_assert_eq(gb_event_value_kind(ev, 0), GB_VALUE_SCALAR);
    cr_assert_str_eq(gb_event_value_plugin(ev, 0), "scalars");
    double v;
    cr_assert_eq(gb_event_value_scalar(ev, 0, &v), GB_OK);
    cr_assert_eq(v, 2.5);
    gb_event_reader_close(r);
}

Test(event_reader, event_check_walks_the_top_level_fields)
{
    static const uint8_t record_a[24] = {0x09, 0x00, 0x00, 0x00, 0x40, 0xfc, 0x54, 0xd9, 0x41, 0x1a, 0x0d, 0x62,
                                         0x72, 0x61, 0x69, 0x6e, 0x2e, 0x45, 0x76, 0x65, 0x6e, 0x74, 0x3a, 0x32};
    cr_assert_eq(gb_event_check(record_a, sizeof record_a), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_event_check(record_a, 0), GB_OK);
    cr_assert_eq(gb_event_check(record_a, sizeof record_a - 1), GB_ECORRUPT);
    cr_assert_eq(gb_event_check(record_a, 5), GB_ECORRUPT);
    uint8_t nan_time[9] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    cr_assert_eq(gb_event_check(nan_time, 9), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "wall_time"), "%s", gb_errmsg());
    uint8_t wrong_wire[2] = {0x0d, 0x00}; /* field 1 as fixed32 */
    cr_assert_eq(gb_event_check(wrong_wire, 2), GB_ECORRUPT);
}

Test(event_reader, finds_runs_at_any_depth_in_sorted_order)
{
    char path[600];
    const char *runs[] = {"b", "a/nested/deep", "a", "."};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", test_dir, runs[i]);
        free(write_run(path, 1, 1700000000.0));
    }
    snprintf(path, sizeof path, "%s/empty_dir", test_dir);
    mkdir(path, 0755);
    char **names;
    size_t n;
    cr_assert_eq(gb_logdir_runs(test_dir, &names, &n), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(n, 4);
    cr_assert_str_eq(names[0], ".");
    cr_assert_str_eq(names[1], "a");
    cr_assert_str_eq(names[2], "a/nested/deep");
    cr_assert_str_eq(names[3], "b");
    gb_string_list_free(names, n);
    cr_assert(gb_is_event_file_name("events.out.tfevents.1700000000.host.1.0"));
    cr_assert(gb_is_event_file_name("x.tfevents.y"));
    cr_assert(!gb_is_event_file_name("events.out"));
}

/* ---- files from another writer (PyTorch's SummaryWriter; see ../shared/testdata/README.md) ---- */

typedef struct tag_seen {
    const char *tag;
    const char *plugin;
    gb_value_kind kind;
    int count;
    int64_t steps[64];
    double values[64];
} tag_seen;

static tag_seen *find_tag(tag_seen *seen, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(seen[i].tag, tag)) return &seen[i];
    cr_assert_fail("tag %s not found", tag);
    return NULL;
}

Test(event_reader, reads_pytorch_summary_writer_files)
{
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, GB_TESTDATA_DIR "/torch_writer_logs/run_a"), GB_OK, "%s", gb_errmsg());
    tag_seen seen[16] = {0};
    size_t n_seen = 0;
    char *text = NULL;
    const gb_event *ev;
    gb_status st;
    while ((st = gb_event_reader_next(r, &ev)) != GB_END) {
        cr_assert_eq(st, GB_OK, "%s", gb_errmsg());
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            size_t index = gb_event_value_tag_index(ev, i);
            cr_assert_lt(index, 16);
            tag_seen *t = &seen[index];
            if (index >= n_seen) n_seen = index + 1;
            t->tag = gb_event_reader_tag(r, index);
            t->plugin = gb_event_value_plugin(ev, i);
            t->kind = gb_event_value_kind(ev, i);
            double v = NAN;
            gb_event_value_scalar(ev, i, &v);
            if (t->count < 64) t->steps[t->count] = gb_event_step(ev), t->values[t->count] = v;
            t->count++;
            size_t len;
            const char *s = gb_event_value_string(ev, i, &len);
            if (t->kind == GB_VALUE_TEXT && s) text = strndup(s, len);
        }
    }

    tag_seen *loss = find_tag(seen, n_seen, "train/loss"), *acc = find_tag(seen, n_seen, "train/acc");
    cr_assert_eq(loss->count, 50);
    cr_assert_eq(acc->count, 50);
    cr_assert_str_eq(loss->plugin, "scalars");
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(loss->steps[i], i);
        cr_assert_eq(loss->values[i], (double)(float)exp(-i / 10.0), "train/loss step %d: %.9g", i, loss->values[i]);
        cr_assert_eq(acc->values[i], (double)(float)(1 - exp(-i / 10.0)), "train/acc step %d: %.9g", i,
                     acc->values[i]);
    }
    tag_seen *hist = find_tag(seen, n_seen, "weights/dense1");
    cr_assert_eq(hist->kind, GB_VALUE_HISTOGRAM);
    cr_assert_str_eq(hist->plugin, "histograms");
    cr_assert_eq(hist->count, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(hist->steps[i], 10 * i);
    cr_assert_eq(find_tag(seen, n_seen, "samples/rgb")->kind, GB_VALUE_IMAGE);
    cr_assert_eq(find_tag(seen, n_seen, "notes/text_summary")->kind, GB_VALUE_TEXT);
    cr_assert_str_eq(text, "hello **markdown** text");
    cr_assert_eq(find_tag(seen, n_seen, "__run_graph__")->kind, GB_VALUE_GRAPH);
    cr_assert_eq(find_tag(seen, n_seen, "step1")->kind, GB_VALUE_RUN_METADATA);
    cr_assert_eq(find_tag(seen, n_seen, "pr")->kind, GB_VALUE_PR_CURVE);
    gb_event_reader_close(r); /* owns the tag names */
    free(text);
}

Test(event_reader, finds_the_hparams_sub_run_of_pytorch_files)
{
    char **names;
    size_t n;
    cr_assert_eq(gb_logdir_runs(GB_TESTDATA_DIR "/torch_writer_logs", &names, &n), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(n, 3);
    cr_assert_str_eq(names[0], "run_a");
    cr_assert_str_eq(names[1], "run_b");
    cr_assert_eq(strncmp(names[2], "run_b/", 6), 0, "%s", names[2]);
    char path[1024];
    snprintf(path, sizeof path, "%s/torch_writer_logs/%s", GB_TESTDATA_DIR, names[2]);
    gb_string_list_free(names, n);

    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, path), GB_OK);
    const gb_event *ev;
    int hparams = 0, found_acc = 0;
    while (gb_event_reader_next(r, &ev) == GB_OK) {
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            if (gb_event_value_kind(ev, i) == GB_VALUE_HPARAMS) hparams++;
            double v;
            if (!strcmp(gb_event_value_tag(ev, i), "hparam/acc") && gb_event_value_scalar(ev, i, &v) == GB_OK) {
                cr_assert_eq(v, (double)0.9f);
                found_acc = 1;
            }
        }
    }
    gb_event_reader_close(r);
    cr_assert_eq(hparams, 3);
    cr_assert(found_acc);
}

/* field 5 (summary) holding `depth` levels of unknown field 15 nested in one another: protobuf-c
 * keeps unknown fields as bytes, so depth costs no recursion and no memory beyond the record. */
static size_t nested_unknown(uint8_t *out, int depth)
{
    /* built inside out: each level is tag 0x7a (field 15, length-delimited), a length, the level inside */
    size_t cap = (size_t)depth * 6 + 16, at = cap;
    uint8_t *buf = out;
    size_t inner = 0;
    for (int level = 0; level < depth; level++) {
        uint8_t varint[5];
        int n = 0;
        for (size_t v = inner; ; v >>= 7) {
            varint[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
        at -= (size_t)n, memcpy(buf + at, varint, (size_t)n);
        buf[--at] = 0x7a;
        inner = cap - at;
    }
    size_t body = inner; /* now the summary's tag and length go in front */
    uint8_t head[8];
    int n = 0;
    head[n++] = 0x2a; /* field 5, length-delimited */
    for (size_t v = body; ; v >>= 7) {
        head[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) break;
    }
    memmove(out + n, out + cap - body, body);
    memcpy(out, head, (size_t)n);
    return (size_t)n + body;
}

Test(event_reader, hostile_protobufs_give_errors_with_bounded_memory)
{
    char path[512];
    snprintf(path, sizeof path, "%s/events.out.tfevents.1.x", test_dir);
    enum { DEPTH = 20000 };
    uint8_t *deep = malloc(DEPTH * 6 + 32);
    size_t deep_len = nested_unknown(deep, DEPTH);
    /* a summary claiming 2^62 bytes; a tensor claiming a huge repeated field in a tiny record */
    static const uint8_t huge_summary[] = {0x2a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x01};
    gb_record_writer *rw;
    cr_assert_eq(gb_record_writer_open(&rw, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert_eq(gb_record_writer_append(rw, deep, deep_len), GB_OK);
    cr_assert_eq(gb_record_writer_append(rw, huge_summary, sizeof huge_summary), GB_OK);
    cr_assert_eq(gb_record_writer_close(rw), GB_OK);
    free(deep);

    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, path), GB_OK);
    const gb_event *ev;
    gb_status st = gb_event_reader_next(r, &ev);
    cr_assert_eq(st, GB_OK, "20000 levels of unknown fields: %s", gb_errmsg());
    cr_assert_eq(gb_event_value_count(ev), 0, "unknown fields are no values");
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_ECORRUPT, "a length past the record must not parse");
    cr_assert(strstr(gb_errmsg(), "does not parse"), "%s", gb_errmsg());
    cr_assert_eq(gb_event_reader_next(r, &ev), GB_END);
    gb_event_reader_close(r);
}

Test(event_reader, only_a_missing_path_is_not_found)
{
    char missing[512], loop_a[512], loop_b[512];
    snprintf(missing, sizeof missing, "%s/no-such-run", test_dir);
    snprintf(loop_a, sizeof loop_a, "%s/loop_a", test_dir);
    snprintf(loop_b, sizeof loop_b, "%s/loop_b", test_dir);
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, missing), GB_ENOTFOUND);
    cr_assert(strstr(gb_errmsg(), "no-such-run") && strstr(gb_errmsg(), "No such file"), "%s", gb_errmsg());
    cr_assert_eq(symlink(loop_b, loop_a), 0);
    cr_assert_eq(symlink(loop_a, loop_b), 0);
    cr_assert_eq(gb_event_reader_open(&r, loop_a), GB_EIO, "a symlink loop exists but cannot be read: %s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "loop_a"), "%s", gb_errmsg());
}

Test(event_reader, an_empty_text_reads_back_as_an_empty_string)
{
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_summary_text(w, "empty", 0, ""), GB_OK);
    cr_assert_eq(gb_summary_text(w, "full", 0, "hi"), GB_OK);
    cr_assert_eq(gb_summary_scalar(w, "x", 0, 1), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);
    gb_event_reader *r;
    cr_assert_eq(gb_event_reader_open(&r, test_dir), GB_OK);
    const gb_event *ev;
    const char *want[] = {"", "hi", NULL};
    int values = 0;
    while (gb_event_reader_next(r, &ev) == GB_OK) {
        if (gb_event_value_count(ev) == 0) continue;
        size_t len = 99;
        const char *s = gb_event_value_string(ev, 0, &len);
        if (!want[values]) {
            cr_assert_null(s, "a scalar holds no string");
            cr_assert_eq(len, 99, "len changed for no string");
        } else {
            cr_assert_not_null(s, "value %d (\"%s\") read back as no string", values, want[values]);
            cr_assert_eq(len, strlen(want[values]));
            cr_assert_eq(memcmp(s, want[values], len), 0);
        }
        values++;
    }
    cr_assert_eq(values, 3);
    gb_event_reader_close(r);
}
