/* Write faults the file system rarely gives on demand: a write that stops part-way, an ftruncate
 * that then fails, a disk that is full for a while. write and ftruncate of the library go
 * through the wrappers below (linked with --wrap), which fail on request. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "gradboard/summary.h"
#include "gradboard/tfrecord.h"
#include "test_fs.h"
#include "writer_read.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_ftruncate(int fd, off_t length);
int __real_fsync(int fd);

static atomic_int failing_fsyncs; /* > 0: fsync fails with EIO */

int __wrap_fsync(int fd)
{
    if (atomic_load(&failing_fsyncs) > 0) {
        atomic_fetch_sub(&failing_fsyncs, 1);
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

static int short_writes;      /* > 0: the next writes stop after 10 bytes, then fail with ENOSPC */
static int failing_truncates; /* > 0: ftruncate fails with EIO */
static atomic_int disk_full;   /* non-zero: every write fails with ENOSPC */

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (atomic_load(&disk_full)) {
        errno = ENOSPC;
        return -1;
    }
    if (short_writes > 0) {
        static int wrote_part;
        if (!wrote_part && n > 10) {
            wrote_part = 1;
            return __real_write(fd, buf, 10);
        }
        wrote_part = 0;
        short_writes--;
        errno = ENOSPC;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_ftruncate(int fd, off_t length)
{
    if (failing_truncates > 0) {
        failing_truncates--;
        errno = EIO;
        return -1;
    }
    return __real_ftruncate(fd, length);
}

TestSuite(tfrecord_faults, .init = test_dir_setup, .fini = test_dir_teardown);

Test(tfrecord_faults, a_torn_record_that_cannot_be_cut_off_stops_all_later_writes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/records", test_dir);
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert_eq(gb_record_writer_append(w, "first record", 12), GB_OK);
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_OK);
    cr_assert_eq(gb_record_writer_append(w, "second record", 13), GB_OK);

    short_writes = 1, failing_truncates = 1;
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "could not be removed"), "%s", gb_errmsg());
    /* the file now ends in 10 torn bytes: appending after them would hide every later record
     * from readers, so the writer refuses from now on, saying why */
    cr_assert_eq(gb_record_writer_append(w, "third", 5), GB_OK, "buffering still works");
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "torn record"), "%s", gb_errmsg());
    cr_assert_eq(gb_record_writer_close(w), GB_EIO);

    gb_record_reader *r;
    cr_assert_eq(gb_record_reader_open(&r, path), GB_OK);
    const uint8_t *data;
    size_t len;
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK);
    cr_assert_eq(len, 12);
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_ETRUNCATED, "only the torn tail follows");
    gb_record_reader_close(r);
}

Test(tfrecord_faults, a_torn_record_that_is_cut_off_is_retried_whole)
{
    char path[512];
    snprintf(path, sizeof path, "%s/records", test_dir);
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert_eq(gb_record_writer_append(w, "first record", 12), GB_OK);
    short_writes = 1;
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_EIO);
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_record_writer_close(w), GB_OK);
    gb_record_reader *r;
    cr_assert_eq(gb_record_reader_open(&r, path), GB_OK);
    const uint8_t *data;
    size_t len;
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK);
    cr_assert(len == 12 && !memcmp(data, "first record", 12));
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_END);
    gb_record_reader_close(r);
}

/* A background flush that fails is not blamed on the calls that buffered events meanwhile (they
 * succeeded: a caller retrying them would log them twice); gb_writer_flush and close retry and
 * report, and once a flush succeeds nothing is lost and nothing is reported. */
Test(tfrecord_faults, a_failed_background_flush_is_reported_by_flush_not_by_later_calls)
{
    gb_writer_opts opts = gb_writer_opts_default();
    opts.flush_secs = 0.01;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_OK, "%s", gb_errmsg());
    char *path = strdup(gb_writer_path(w));
    atomic_store(&disk_full, 1);
    cr_assert_eq(gb_summary_scalar(w, "loss", 1, 0.5), GB_OK);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL); /* several background flushes fail meanwhile */
    cr_assert_eq(gb_summary_scalar(w, "loss", 2, 0.25), GB_OK, "the event was buffered: %s", gb_errmsg());
    cr_assert_eq(gb_writer_flush(w), GB_EIO);
    cr_assert(strstr(gb_errmsg(), path) && strstr(gb_errmsg(), "No space"), "%s", gb_errmsg());
    atomic_store(&disk_full, 0);
    cr_assert_eq(gb_writer_flush(w), GB_OK, "the disk has room again: %s", gb_errmsg());
    cr_assert_eq(gb_summary_scalar(w, "loss", 3, 0.125), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_writer_close(w), GB_OK, "%s", gb_errmsg());
    decoded_events d = decode_event_file(path);
    cr_assert_eq(d.count, 4, "the version event and each scalar exactly once, got %zu events", d.count);
    decoded_events_free(&d);
    free(path);
}

/* A failed fsync in the background is reported by the next gb_writer_flush even when that
 * flush's own fsync succeeds: the bytes of the failed one may never have reached the disk. */
Test(tfrecord_faults, a_failed_background_fsync_is_reported_once)
{
    gb_writer_opts opts = gb_writer_opts_default();
    opts.flush_secs = 0.01;
    opts.fsync_on_flush = 1;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, &opts), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_writer_flush(w), GB_OK, "%s", gb_errmsg());
    atomic_store(&failing_fsyncs, 1);
    cr_assert_eq(gb_summary_scalar(w, "loss", 1, 0.5), GB_OK);
    struct timespec pause = {0, 10 * 1000 * 1000};
    while (atomic_load(&failing_fsyncs) > 0) nanosleep(&pause, NULL);
    nanosleep(&pause, NULL);
    cr_assert_eq(gb_summary_scalar(w, "loss", 2, 0.25), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_writer_flush(w), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "earlier background flush failed") && strstr(gb_errmsg(), "fsync"), "%s", gb_errmsg());
    cr_assert_eq(gb_writer_flush(w), GB_OK, "reported once: %s", gb_errmsg());
    cr_assert_eq(gb_writer_close(w), GB_OK, "%s", gb_errmsg());
}
