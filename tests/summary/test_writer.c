#include <criterion/criterion.h>
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gradboard/summary.h"
#include "test_fs.h"
#include "writer_read.h"

TestSuite(writer, .init = test_dir_setup, .fini = test_dir_teardown);

static size_t file_size(const char *path)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s", path);
    return (size_t)sb.st_size;
}

static gb_writer *open_writer(const char *logdir, double flush_secs)
{
    gb_writer_opts opts = gb_writer_opts_default();
    opts.flush_secs = flush_secs;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK, "%s", gb_errmsg());
    return w;
}

Test(writer, creates_the_directory_and_names_the_file_like_tensorflow)
{
    char logdir[512];
    snprintf(logdir, sizeof logdir, "%s/a/b/run1", test_dir);
    gb_writer_opts opts = gb_writer_opts_default();
    opts.filename_suffix = ".train";
    gb_writer *w;
    /* time() reads a clock that can lag clock_gettime(CLOCK_REALTIME)'s by a tick, so the
       bounds come from the clock the writer stamps the file name with */
    struct timespec before, after;
    clock_gettime(CLOCK_REALTIME, &before);
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK, "%s", gb_errmsg());
    clock_gettime(CLOCK_REALTIME, &after);

    char host[256];
    gethostname(host, sizeof host);
    const char *name = strrchr(gb_writer_path(w), '/') + 1;
    cr_assert_eq(strncmp(gb_writer_path(w), logdir, strlen(logdir)), 0);
    regex_t re;
    cr_assert_eq(regcomp(&re, "^events\\.out\\.tfevents\\.([0-9]{10})\\.(.+)\\.([0-9]+)\\.([0-9]+)\\.train$",
                         REG_EXTENDED), 0);
    regmatch_t m[5];
    cr_assert_eq(regexec(&re, name, 5, m, 0), 0, "file name %s", name);
    long long seconds = strtoll(name + m[1].rm_so, NULL, 10);
    cr_assert(seconds >= before.tv_sec && seconds <= after.tv_sec, "seconds %lld, between %lld and %lld", seconds,
              (long long)before.tv_sec, (long long)after.tv_sec);
    cr_assert_eq((size_t)(m[2].rm_eo - m[2].rm_so), strlen(host));
    cr_assert_eq(strncmp(name + m[2].rm_so, host, strlen(host)), 0);
    cr_assert_eq(strtol(name + m[3].rm_so, NULL, 10), (long)getpid());
    regfree(&re);

    /* a second writer in the same directory in the same second gets its own file */
    gb_writer *w2 = open_writer(logdir, 10);
    cr_assert_str_neq(gb_writer_path(w), gb_writer_path(w2));
    cr_assert_eq(gb_writer_close(w2), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);
}

Test(writer, the_first_event_is_the_file_version_and_is_on_disk_at_once)
{
    gb_writer *w = open_writer(test_dir, 10);
    char *path = strdup(gb_writer_path(w));
    decoded_events d = decode_event_file(path); /* before any flush or close */
    cr_assert_eq(d.count, 1);
    cr_assert_eq(d.events[0]->what_case, GBPB__EVENT__WHAT_FILE_VERSION);
    cr_assert_str_eq(d.events[0]->file_version, "brain.Event:2");
    cr_assert_gt(d.events[0]->wall_time, 1.6e9);
    cr_assert_not_null(d.events[0]->source_metadata);
    cr_assert_str_eq(d.events[0]->source_metadata->writer, "gradboard");
    decoded_events_free(&d);
    cr_assert_eq(gb_writer_close(w), GB_OK);
    free(path);
}

static void expect_scalar_value(const Gbpb__Summary__Value *v, const char *tag, float value, int with_metadata)
{
    cr_assert_str_eq(v->tag, tag);
    cr_assert_eq(v->value_case, GBPB__SUMMARY__VALUE__VALUE_TENSOR, "%s: not a tensor", tag);
    const Gbpb__TensorProto *t = v->tensor;
    cr_assert_eq(t->dtype, GBPB__DATA_TYPE__DT_FLOAT);
    cr_assert_not_null(t->tensor_shape);
    cr_assert_eq(t->tensor_shape->n_dim, 0, "%s: rank %zu", tag, t->tensor_shape->n_dim);
    cr_assert_eq(t->n_float_val, 1);
    cr_assert(memcmp(&t->float_val[0], &value, 4) == 0 || (isnan(value) && isnan(t->float_val[0])),
              "%s: %g, want %g", tag, t->float_val[0], value);
    if (with_metadata) {
        cr_assert_not_null(v->metadata, "%s: the first value carries no metadata", tag);
        cr_assert_str_eq(v->metadata->plugin_data->plugin_name, "scalars");
        cr_assert_eq(v->metadata->data_class, GBPB__DATA_CLASS__DATA_CLASS_SCALAR);
    } else {
        cr_assert_null(v->metadata, "%s: metadata repeated after the first value", tag);
    }
}

Test(writer, scalars_are_float_tensors_with_plugin_metadata_on_each_tags_first_value)
{
    double now = 1700000000.25;
    gb_writer_opts opts = gb_writer_opts_default();
    opts.clock = test_fixed_clock;
    opts.clock_ctx = &now;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_OK);
    const double specials[] = {1e-30, 1e30, -0.0, NAN, INFINITY, -INFINITY, 0.1, 3e38, 1e39};
    for (int step = 0; step < 9; step++) {
        cr_assert_eq(gb_summary_scalar(w, "loss", step, specials[step]), GB_OK);
        const char *tags[] = {"acc", "lr", "loss2"};
        double values[] = {step, step * 0.5, -step};
        cr_assert_eq(gb_summary_scalars(w, step, 3, tags, values), GB_OK);
    }
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);

    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 1 + 18);
    for (int step = 0; step < 9; step++) {
        const Gbpb__Event *single = d.events[1 + 2 * step], *multi = d.events[2 + 2 * step];
        cr_assert_eq(single->step, step);
        cr_assert_eq(single->wall_time, now);
        cr_assert_eq(single->what_case, GBPB__EVENT__WHAT_SUMMARY);
        cr_assert_eq(single->summary->n_value, 1);
        expect_scalar_value(single->summary->value[0], "loss", (float)specials[step], step == 0);
        cr_assert_eq(multi->step, step);
        cr_assert_eq(multi->summary->n_value, 3);
        expect_scalar_value(multi->summary->value[0], "acc", (float)step, step == 0);
        expect_scalar_value(multi->summary->value[1], "lr", (float)(step * 0.5), step == 0);
        expect_scalar_value(multi->summary->value[2], "loss2", (float)-step, step == 0);
    }
    cr_assert(signbit(d.events[1 + 2 * 2]->summary->value[0]->tensor->float_val[0]), "-0.0 lost its sign");
    decoded_events_free(&d);
    free(path);
}

Test(writer, events_wait_in_memory_until_a_flush)
{
    gb_writer *w = open_writer(test_dir, 1000);
    size_t header_only = file_size(gb_writer_path(w));
    cr_assert_eq(gb_summary_scalar(w, "x", 1, 1.0), GB_OK);
    cr_assert_eq(file_size(gb_writer_path(w)), header_only);
    cr_assert_eq(gb_writer_flush(w), GB_OK);
    cr_assert_gt(file_size(gb_writer_path(w)), header_only);
    cr_assert_eq(gb_writer_close(w), GB_OK);
}

Test(writer, the_background_thread_flushes_every_flush_secs)
{
    gb_writer *w = open_writer(test_dir, 0.2);
    size_t header_only = file_size(gb_writer_path(w));
    cr_assert_eq(gb_summary_scalar(w, "x", 1, 1.0), GB_OK);
    size_t size = header_only;
    for (int i = 0; i < 100 && size == header_only; i++) {
        usleep(20000);
        size = file_size(gb_writer_path(w));
    }
    cr_assert_gt(size, header_only, "nothing flushed within 2 s with flush_secs 0.2");
    cr_assert_eq(gb_writer_close(w), GB_OK);
}

Test(writer, flush_secs_zero_writes_through_and_fsync_works)
{
    gb_writer_opts opts = gb_writer_opts_default();
    opts.flush_secs = 0;
    opts.fsync_on_flush = 1;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_OK);
    size_t header_only = file_size(gb_writer_path(w));
    cr_assert_eq(gb_summary_scalar(w, "x", 1, 1.0), GB_OK);
    cr_assert_gt(file_size(gb_writer_path(w)), header_only);
    cr_assert_eq(gb_writer_flush(w), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);
}

Test(writer, an_unwritable_logdir_fails_at_open_with_the_path)
{
    char blocker[512], logdir[600];
    snprintf(blocker, sizeof blocker, "%s/a_file", test_dir);
    cr_assert_eq(test_write_file(blocker, "x", 1), 0);
    snprintf(logdir, sizeof logdir, "%s/run", blocker);
    gb_writer *w = (gb_writer *)1;
    gb_status st = gb_writer_open(&w, logdir, NULL);
    cr_assert_eq(st, GB_EIO, "%s", gb_status_name(st));
    cr_assert_null(w);
    cr_assert(strstr(gb_errmsg(), blocker), "message does not name the place: %s", gb_errmsg());
}

Test(writer, bad_arguments_are_refused_with_a_message)
{
    gb_writer *w = open_writer(test_dir, 10);
    cr_assert_eq(gb_summary_scalar(w, "", 0, 1.0), GB_EINVAL);
    cr_assert_eq(gb_summary_scalar(w, NULL, 0, 1.0), GB_EINVAL);
    cr_assert_eq(gb_summary_scalar(w, "bad\xff utf8", 0, 1.0), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "UTF-8"), "%s", gb_errmsg());
    const char *tags[] = {"ok", ""};
    double values[] = {1, 2};
    cr_assert_eq(gb_summary_scalars(w, 0, 2, tags, values), GB_EINVAL);
    cr_assert_eq(gb_summary_scalar(NULL, "x", 0, 1.0), GB_EINVAL);
    /* sizes whose arithmetic would wrap: refused before any is computed or allocated */
    cr_assert_eq(gb_summary_scalars(w, 0, SIZE_MAX / 2, tags, values), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "cannot fit"), "%s", gb_errmsg());
    cr_assert_eq(gb_writer_add_summary_bytes(w, 0, "x", SIZE_MAX - 3), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "2 GiB"), "%s", gb_errmsg());
    const char *cells[] = {"a"};
    cr_assert_eq(gb_summary_text_table(w, "t", 0, (size_t)1 << 33, (size_t)1 << 33, cells), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "cannot fit"), "%s", gb_errmsg());
    gb_writer_opts opts = gb_writer_opts_default();
    opts.filename_suffix = "a/b";
    gb_writer *w2;
    cr_assert_eq(gb_writer_open(&w2, test_dir, &opts), GB_EINVAL);
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);
    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 1, "a refused call wrote an event");
    decoded_events_free(&d);
    free(path);
}

Test(writer, a_clock_giving_nan_is_refused)
{
    double now = NAN;
    gb_writer_opts opts = gb_writer_opts_default();
    opts.clock = test_fixed_clock;
    opts.clock_ctx = &now;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "finite"), "%s", gb_errmsg());
    /* before the file exists the message names the log directory */
    cr_assert(strstr(gb_errmsg(), test_dir), "%s", gb_errmsg());
    cr_assert_null(strstr(gb_errmsg(), "(null)"), "%s", gb_errmsg());
}

typedef struct thread_job {
    gb_writer *w;
    int id;
} thread_job;

enum { THREADS = 4, STEPS_PER_THREAD = 5000 };

static void *log_from_thread(void *arg)
{
    thread_job *job = arg;
    char tag[32];
    snprintf(tag, sizeof tag, "thread%d/value", job->id);
    for (int step = 0; step < STEPS_PER_THREAD; step++) {
        if (gb_summary_scalar(job->w, tag, step, job->id * 100000 + step) != GB_OK) return (void *)1;
        if (step % 1000 == 0 && gb_writer_flush(job->w) != GB_OK) return (void *)1;
    }
    return NULL;
}

Test(writer, many_threads_on_one_writer_lose_and_mix_nothing)
{
    gb_writer *w = open_writer(test_dir, 0.01);
    pthread_t threads[THREADS];
    thread_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (thread_job){w, i};
        cr_assert_eq(pthread_create(&threads[i], NULL, log_from_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        cr_assert_null(result, "thread %d failed: %s", i, gb_errmsg());
    }
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);

    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 1 + THREADS * STEPS_PER_THREAD);
    int next_step[THREADS] = {0};
    for (size_t i = 1; i < d.count; i++) {
        const Gbpb__Summary__Value *v = d.events[i]->summary->value[0];
        int id = v->tag[6] - '0';
        cr_assert_eq(d.events[i]->step, next_step[id], "thread %d out of order", id);
        cr_assert_eq(v->tensor->float_val[0], (float)(id * 100000 + next_step[id]));
        cr_assert_eq(v->metadata != NULL, next_step[id] == 0);
        next_step[id]++;
    }
    decoded_events_free(&d);
    free(path);
}

Test(writer, non_finite_flush_secs_are_refused)
{
    gb_writer_opts opts = gb_writer_opts_default();
    gb_writer *w;
    opts.flush_secs = INFINITY;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_EINVAL);
    opts.flush_secs = NAN;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_EINVAL);
}

Test(writer, malformed_event_and_summary_bytes_are_refused_and_nothing_written)
{
    gb_writer *w = open_writer(test_dir, 10);
    cr_assert_eq(gb_summary_scalar(w, "before", 0, 1), GB_OK);
    cr_assert_eq(gb_writer_add_event_bytes(w, "\xff\xff\xff\xff", 4), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "do not parse as an Event") && strstr(gb_errmsg(), "nothing written"), "%s",
              gb_errmsg());
    cr_assert_eq(gb_writer_add_summary_bytes(w, 1, "\xff\xff\xff\xff", 4), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "Summary"), "%s", gb_errmsg());
    /* Event{wall_time: NaN} */
    const uint8_t nan_event[9] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    cr_assert_eq(gb_writer_add_event_bytes(w, nan_event, sizeof nan_event), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "wall_time"), "%s", gb_errmsg());
    /* Summary{value{tag: "\xff", simple_value: 1}} */
    const uint8_t bad_tag[10] = {0x0a, 0x08, 0x0a, 0x01, 0xff, 0x15, 0, 0, 0x80, 0x3f};
    cr_assert_eq(gb_writer_add_summary_bytes(w, 2, bad_tag, sizeof bad_tag), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "Value.tag is not valid UTF-8"), "%s", gb_errmsg());
    /* the same Summary inside an Event, and a plugin name deeper down:
     * Event{summary{value{tag: "t", metadata{plugin_data{plugin_name: "\xff"}}}}} */
    uint8_t event[2 + sizeof bad_tag] = {0x2a, sizeof bad_tag};
    memcpy(event + 2, bad_tag, sizeof bad_tag);
    cr_assert_eq(gb_writer_add_event_bytes(w, event, sizeof event), GB_EINVAL);
    const uint8_t bad_plugin[] = {0x2a, 0x0c, 0x0a, 0x0a, 0x0a, 0x01, 't', 0x4a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff};
    cr_assert_eq(gb_writer_add_event_bytes(w, bad_plugin, sizeof bad_plugin), GB_EINVAL);
    cr_assert(strstr(gb_errmsg(), "PluginData.plugin_name"), "%s", gb_errmsg());
    /* a wire type Event does not declare for its field: step (2) as fixed64 */
    const uint8_t bad_wire[9] = {0x11, 1, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(gb_writer_add_event_bytes(w, bad_wire, sizeof bad_wire), GB_ECORRUPT);

    /* what is well formed still goes in: the same event with a good tag, an empty one, an empty summary */
    uint8_t good[sizeof event];
    memcpy(good, event, sizeof event);
    good[6] = 'x';
    cr_assert_eq(gb_writer_add_event_bytes(w, good, sizeof good), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_writer_add_event_bytes(w, NULL, 0), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_writer_add_summary_bytes(w, 3, good + 2, sizeof bad_tag), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_summary_scalar(w, "after", 5, 2), GB_OK);
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);

    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 6, "version, before, 3 good byte events, after");
    cr_assert_str_eq(d.events[2]->summary->value[0]->tag, "x");
    cr_assert_eq(d.events[3]->what_case, GBPB__EVENT__WHAT__NOT_SET);
    cr_assert_eq(d.events[4]->step, 3);
    cr_assert_str_eq(d.events[5]->summary->value[0]->tag, "after");
    decoded_events_free(&d);
    free(path);
}

/* The steps of the scalar events of path, and whether each value carries plugin metadata. */
static size_t scalar_steps(const char *path, int64_t *steps, int *metadata, size_t cap)
{
    decoded_events d = decode_event_file(path);
    cr_assert_str_eq(d.events[0]->file_version, "brain.Event:2", "%s does not start with the file version", path);
    size_t n = 0;
    for (size_t i = 1; i < d.count && n < cap; i++, n++) {
        steps[n] = d.events[i]->step;
        metadata[n] = d.events[i]->summary->value[0]->metadata != NULL;
    }
    decoded_events_free(&d);
    return n;
}

Test(writer, a_deleted_log_directory_is_recreated_and_the_buffered_events_kept)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/run", test_dir);
    gb_writer *w = open_writer(logdir, 1e6); /* flushed by the test only */
    for (int step = 0; step < 5; step++) cr_assert_eq(gb_summary_scalar(w, "loss", step, step), GB_OK);
    cr_assert_eq(gb_summary_text(w, "notes", 0, "first"), GB_OK);
    cr_assert_eq(gb_writer_flush(w), GB_OK);
    const char *first_path = gb_writer_path(w);
    char *first_copy = strdup(first_path);

    test_rmtree(logdir);
    for (int step = 5; step < 8; step++) cr_assert_eq(gb_summary_scalar(w, "loss", step, step), GB_OK);
    cr_assert_eq(gb_summary_text(w, "notes", 5, "second"), GB_OK);
    /* a file where the directory was: the new file cannot be made, and nothing buffered is lost */
    cr_assert_eq(test_write_file(logdir, "x", 1), 0);
    cr_assert_eq(gb_writer_flush(w), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "was deleted") && strstr(gb_errmsg(), logdir), "%s", gb_errmsg());
    cr_assert_eq(unlink(logdir), 0);
    cr_assert_eq(gb_summary_scalar(w, "loss", 8, 8), GB_OK);
    cr_assert_eq(gb_writer_flush(w), GB_OK, "%s", gb_errmsg());

    const char *second_path = gb_writer_path(w);
    cr_assert_str_neq(second_path, first_copy, "the new file has a new name");
    cr_assert_str_eq(first_path, first_copy, "an earlier gb_writer_path result stays valid");
    cr_assert_eq(strncmp(second_path, logdir, strlen(logdir)), 0, "%s is not in %s", second_path, logdir);
    cr_assert_eq(gb_summary_scalar(w, "loss", 9, 9), GB_OK);
    char *second_copy = strdup(second_path);
    cr_assert_eq(gb_writer_close(w), GB_OK, "%s", gb_errmsg());

    /* the events buffered when the deletion was seen were encoded without metadata (the old file
     * had it): the move gives each tag's first value in the new file its metadata again */
    decoded_events d = decode_event_file(second_copy);
    cr_assert_eq(d.count, 1 + 6, "the file version, loss 5..7, notes 5, loss 8..9");
    cr_assert_str_eq(d.events[0]->file_version, "brain.Event:2");
    const int64_t want_steps[] = {5, 6, 7, 5, 8, 9};
    const char *want_tags[] = {"loss", "loss", "loss", "notes", "loss", "loss"};
    for (size_t i = 0; i < 6; i++) {
        const Gbpb__Summary__Value *v = d.events[i + 1]->summary->value[0];
        cr_assert_eq(d.events[i + 1]->step, want_steps[i], "event %zu", i + 1);
        cr_assert_str_eq(v->tag, want_tags[i]);
        int first = i == 0 || i == 3;
        cr_assert_eq(v->metadata != NULL, first, "event %zu (%s step %lld): metadata %s", i + 1, v->tag,
                     (long long)want_steps[i], v->metadata ? "repeated" : "missing");
        if (first) cr_assert_str_eq(v->metadata->plugin_data->plugin_name, i == 0 ? "scalars" : "text");
    }
    cr_assert_eq(d.events[1]->summary->value[0]->metadata->data_class, GBPB__DATA_CLASS__DATA_CLASS_SCALAR);
    cr_assert_eq(d.events[4]->summary->value[0]->metadata->data_class, GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
    cr_assert_eq(d.events[2]->summary->value[0]->tensor->float_val[0], 6.0f);
    decoded_events_free(&d);
    free(first_copy);
    free(second_copy);
}

Test(writer, a_replaced_event_file_is_noticed_too)
{
    gb_writer *w = open_writer(test_dir, 0); /* write-through: every call flushes */
    char *first = strdup(gb_writer_path(w));
    cr_assert_eq(unlink(first), 0);
    cr_assert_eq(test_write_file(first, "someone else's", 14), 0);
    cr_assert_eq(gb_summary_scalar(w, "loss", 0, 1), GB_OK, "%s", gb_errmsg());
    cr_assert_str_neq(gb_writer_path(w), first);
    char *second = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);
    size_t len;
    uint8_t *other = test_read_file(first, &len);
    cr_assert(len == 14 && !memcmp(other, "someone else's", 14), "the other file was written to");
    int64_t steps[4];
    int metadata[4];
    cr_assert_eq(scalar_steps(second, steps, metadata, 4), 1);
    cr_assert_eq(metadata[0], 1);
    free(other), free(first), free(second);
}

/* A clock that asks the writer for its path, as a logging callback might: the path must name a
 * file at every call, even while the writer is replacing a deleted one. */
typedef struct path_watching_clock {
    gb_writer *w; /* NULL until the writer is open */
    int calls, without_path;
} path_watching_clock;

static double clock_reading_the_path(void *ctx)
{
    path_watching_clock *c = ctx;
    if (c->w) {
        c->calls++;
        const char *path = gb_writer_path(c->w);
        if (!path || !*path) c->without_path++;
    }
    return 1.7e9;
}

Test(writer, the_path_stays_readable_while_a_deleted_file_is_replaced)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/run", test_dir);
    path_watching_clock clock = {0};
    gb_writer_opts opts = gb_writer_opts_default();
    opts.flush_secs = 1e6;
    opts.clock = clock_reading_the_path;
    opts.clock_ctx = &clock;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK, "%s", gb_errmsg());
    clock.w = w;
    cr_assert_eq(gb_summary_scalar(w, "loss", 0, 1), GB_OK);
    cr_assert_eq(gb_writer_flush(w), GB_OK);
    test_rmtree(logdir);
    cr_assert_eq(gb_summary_scalar(w, "loss", 1, 1), GB_OK);
    cr_assert_eq(gb_writer_flush(w), GB_OK, "%s", gb_errmsg()); /* the replacement reads the clock */
    cr_assert_gt(clock.calls, 2);
    cr_assert_eq(clock.without_path, 0, "%d of %d clock calls found no path", clock.without_path, clock.calls);
    cr_assert_eq(gb_writer_close(w), GB_OK, "%s", gb_errmsg());
}
