#include <criterion/criterion.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradboard/summary.h"
#include "test_fs.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef UNDER_ADDRESS_SANITIZER
#define UNDER_ADDRESS_SANITIZER 0
#endif

static char *path_in(const char *name)
{
    char *p = malloc(strlen(test_dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", test_dir, name);
    return p;
}

/* The fact sheet's record A: Event{wall_time 1700000000.0, file_version "brain.Event:2"}. */
static const uint8_t record_a_payload[24] = {0x09, 0x00, 0x00, 0x00, 0x40, 0xfc, 0x54, 0xd9, 0x41, 0x1a, 0x0d, 0x62,
                                             0x72, 0x61, 0x69, 0x6e, 0x2e, 0x45, 0x76, 0x65, 0x6e, 0x74, 0x3a, 0x32};
static const uint8_t record_a_header[12] = {0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22};
static const uint8_t record_a_footer[4] = {0xec, 0xed, 0x8f, 0x9d};

static void write_records(const char *path, size_t count, size_t size_step)
{
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK, "%s", gb_errmsg());
    for (size_t i = 0; i < count; i++) {
        size_t len = i * size_step;
        uint8_t *data = malloc(len + 1);
        for (size_t k = 0; k < len; k++) data[k] = (uint8_t)(i * 31 + k);
        cr_assert_eq(gb_record_writer_append(w, data, len), GB_OK, "%s", gb_errmsg());
        free(data);
    }
    cr_assert_eq(gb_record_writer_close(w), GB_OK, "%s", gb_errmsg());
}

/* Reads records until the end or an error; returns the final status and counts good records. */
static gb_status read_all(const char *path, size_t *good, size_t size_step)
{
    gb_record_reader *r;
    gb_status st = gb_record_reader_open(&r, path);
    cr_assert_eq(st, GB_OK, "%s", gb_errmsg());
    const uint8_t *data;
    size_t len;
    *good = 0;
    while ((st = gb_record_reader_next(r, &data, &len)) == GB_OK) {
        cr_assert_eq(len, *good * size_step, "record %zu has %zu bytes", *good, len);
        for (size_t k = 0; k < len; k++)
            cr_assert_eq(data[k], (uint8_t)(*good * 31 + k), "record %zu byte %zu", *good, k);
        (*good)++;
    }
    gb_record_reader_close(r);
    return st;
}

TestSuite(tfrecord, .init = test_dir_setup, .fini = test_dir_teardown);

Test(tfrecord, frames_record_a_exactly_as_the_fact_sheet)
{
    uint8_t header[12], footer[4];
    gb_record_frame_header(header, sizeof record_a_payload);
    gb_record_frame_footer(footer, record_a_payload, sizeof record_a_payload);
    cr_assert_arr_eq(header, record_a_header, 12);
    cr_assert_arr_eq(footer, record_a_footer, 4);

    char *path = path_in("a.tfrecord");
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert_eq(gb_record_writer_append(w, record_a_payload, sizeof record_a_payload), GB_OK);
    cr_assert_eq(gb_record_writer_pending(w), 40);
    cr_assert_eq(gb_record_writer_close(w), GB_OK);
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    cr_assert_eq(len, 40);
    cr_assert_arr_eq(bytes, record_a_header, 12);
    cr_assert_arr_eq(bytes + 12, record_a_payload, 24);
    cr_assert_arr_eq(bytes + 36, record_a_footer, 4);
    free(bytes);
    free(path);
}

Test(tfrecord, round_trips_many_sizes_including_records_larger_than_the_buffers)
{
    char *path = path_in("many.tfrecord");
    /* sizes 0, 40000, ..., 2 MB: crosses the writer's 256 KiB and the reader's 1 MiB chunks */
    write_records(path, 60, 40000);
    size_t good;
    cr_assert_eq(read_all(path, &good, 40000), GB_END, "%s", gb_errmsg());
    cr_assert_eq(good, 60);
    free(path);
}

Test(tfrecord, an_empty_file_has_no_records)
{
    char *path = path_in("empty.tfrecord");
    cr_assert_eq(test_write_file(path, "", 0), 0);
    size_t good;
    cr_assert_eq(read_all(path, &good, 1), GB_END);
    cr_assert_eq(good, 0);
    free(path);
}

Test(tfrecord, a_truncated_tail_is_reported_as_truncated_at_every_cut)
{
    char *path = path_in("cut.tfrecord");
    write_records(path, 4, 10); /* records of 0, 10, 20, 30 bytes: the last starts at 16+26+36 */
    size_t whole;
    uint8_t *bytes = test_read_file(path, &whole);
    size_t last_start = 16 + 26 + 36;
    cr_assert_eq(whole, last_start + 46);
    for (size_t cut = last_start + 1; cut < whole; cut++) {
        cr_assert_eq(test_write_file(path, bytes, cut), 0);
        size_t good;
        gb_status st = read_all(path, &good, 10);
        cr_assert_eq(st, GB_ETRUNCATED, "cut at %zu: %s", cut, gb_status_name(st));
        cr_assert_eq(good, 3, "cut at %zu", cut);
        cr_assert(strstr(gb_errmsg(), "truncated record at byte offset 78"), "cut at %zu: %s", cut, gb_errmsg());
        cr_assert(strstr(gb_errmsg(), path), "message names the file: %s", gb_errmsg());
    }
    free(bytes);
    free(path);
}

Test(tfrecord, a_truncated_record_is_read_once_the_writer_completes_it)
{
    char *path = path_in("growing.tfrecord");
    write_records(path, 3, 100);
    size_t whole;
    uint8_t *bytes = test_read_file(path, &whole);
    cr_assert_eq(test_write_file(path, bytes, whole - 7), 0);

    gb_record_reader *r;
    cr_assert_eq(gb_record_reader_open(&r, path), GB_OK);
    const uint8_t *data;
    size_t len;
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK);
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK);
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_ETRUNCATED);
    cr_assert_eq(test_write_file(path, bytes, whole), 0); /* the rest arrives */
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(len, 200);
    cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_END);
    gb_record_reader_close(r);
    free(bytes);
    free(path);
}

Test(tfrecord, a_flipped_byte_is_corruption_and_nothing_after_it_is_read)
{
    char *path = path_in("flip.tfrecord");
    write_records(path, 4, 10);
    size_t whole;
    uint8_t *bytes = test_read_file(path, &whole);
    size_t second_start = 16, third_start = 16 + 26;
    for (size_t at = second_start; at < third_start; at++) {
        for (int bit = 0; bit < 8; bit += 3) {
            bytes[at] ^= (uint8_t)(1u << bit);
            cr_assert_eq(test_write_file(path, bytes, whole), 0);
            bytes[at] ^= (uint8_t)(1u << bit);

            gb_record_reader *r;
            cr_assert_eq(gb_record_reader_open(&r, path), GB_OK);
            const uint8_t *data;
            size_t len;
            cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_OK);
            gb_status st = gb_record_reader_next(r, &data, &len);
            size_t byte_in_record = at - second_start;
            /* A flip in the length may make it claim more than the file holds, but the length
             * CRC catches it first. */
            cr_assert_eq(st, GB_ECORRUPT, "flip at %zu bit %d: %s", at, bit, gb_status_name(st));
            cr_assert(strstr(gb_errmsg(), "corrupt record at byte offset 16"), "%s", gb_errmsg());
            const char *which = byte_in_record < 12 ? "length checksum mismatch" : "data checksum mismatch";
            cr_assert(strstr(gb_errmsg(), which), "flip at %zu: %s", at, gb_errmsg());
            cr_assert_eq(gb_record_reader_offset(r), 16);
            /* sticky: never reads past it */
            cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_ECORRUPT);
            cr_assert_eq(gb_record_reader_next(r, &data, &len), GB_ECORRUPT);
            gb_record_reader_close(r);
        }
    }
    free(bytes);
    free(path);
}

Test(tfrecord, a_zero_filled_tail_is_corruption)
{
    char *path = path_in("zeros.tfrecord");
    write_records(path, 2, 10);
    size_t whole;
    uint8_t *bytes = test_read_file(path, &whole);
    uint8_t *padded = calloc(whole + 4096, 1);
    memcpy(padded, bytes, whole);
    cr_assert_eq(test_write_file(path, padded, whole + 4096), 0);
    size_t good;
    cr_assert_eq(read_all(path, &good, 10), GB_ECORRUPT);
    cr_assert_eq(good, 2);
    cr_assert(strstr(gb_errmsg(), "length checksum mismatch"), "%s", gb_errmsg());
    free(padded);
    free(bytes);
    free(path);
}

Test(tfrecord, huge_lengths_with_valid_checksums_are_refused_without_allocating_them)
{
    char *path = path_in("huge.tfrecord");
    uint8_t header[12];
    gb_record_frame_header(header, (uint64_t)1 << 40);
    cr_assert_eq(test_write_file(path, header, 12), 0);
    size_t good;
    cr_assert_eq(read_all(path, &good, 1), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "exceeds the 2 GiB limit"), "%s", gb_errmsg());

    /* 1.5 GB claimed by a 12-byte file: truncated, and the reader must not try to hold it
     * (an address-space limit proves it; AddressSanitizer's shadow memory cannot live under one). */
    if (!UNDER_ADDRESS_SANITIZER) {
        struct rlimit small = {512u << 20, 512u << 20};
        cr_assert_eq(setrlimit(RLIMIT_AS, &small), 0);
    }
    gb_record_frame_header(header, 1500000000u);
    cr_assert_eq(test_write_file(path, header, 12), 0);
    cr_assert_eq(read_all(path, &good, 1), GB_ETRUNCATED, "%s", gb_errmsg());
    free(path);
}

Test(tfrecord, exclusive_mode_refuses_an_existing_file_and_append_mode_adds)
{
    char *path = path_in("modes.tfrecord");
    write_records(path, 2, 10);
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_EXCLUSIVE), GB_EIO);
    cr_assert_eq(errno, EEXIST);
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_APPEND), GB_OK);
    uint8_t more[20];
    for (int k = 0; k < 20; k++) more[k] = (uint8_t)(2 * 31 + k);
    cr_assert_eq(gb_record_writer_append(w, more, 20), GB_OK);
    cr_assert_eq(gb_record_writer_size(w), 16 + 26 + 36);
    cr_assert_eq(gb_record_writer_close(w), GB_OK);
    size_t good;
    cr_assert_eq(read_all(path, &good, 10), GB_END);
    cr_assert_eq(good, 3);
    free(path);
}

/* Appends one record of 20 bytes (the third of write_records(path, 2, 10)'s pattern). */
static gb_status append_third(const char *path)
{
    gb_record_writer *w;
    gb_status st = gb_record_writer_open(&w, path, GB_RECORD_APPEND);
    if (st != GB_OK) return st;
    uint8_t more[20];
    for (int k = 0; k < 20; k++) more[k] = (uint8_t)(2 * 31 + k);
    cr_assert_eq(gb_record_writer_append(w, more, 20), GB_OK);
    cr_assert_eq(gb_record_writer_close(w), GB_OK, "%s", gb_errmsg());
    return GB_OK;
}

Test(tfrecord, append_cuts_a_torn_tail_and_refuses_a_file_it_cannot_read)
{
    char *path = path_in("torn.tfrecord");
    size_t good;
    /* the records are 16 and 26 bytes; cut inside record 1's data, then inside its header */
    const size_t cuts[] = {42 - 5, 16 + 7, 16 + 12};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_records(path, 2, 10);
        cr_assert_eq(truncate(path, (off_t)cuts[i]), 0);
        cr_assert_eq(append_third(path), GB_OK, "cut at %zu: %s", cuts[i], gb_errmsg());
        size_t len;
        free(test_read_file(path, &len));
        cr_assert_eq(len, 16 + 36, "cut at %zu: the torn bytes stayed (%zu bytes)", cuts[i], len);
        gb_record_reader *r;
        cr_assert_eq(gb_record_reader_open(&r, path), GB_OK);
        const uint8_t *data;
        size_t n;
        cr_assert_eq(gb_record_reader_next(r, &data, &n), GB_OK);
        cr_assert_eq(n, 0);
        cr_assert_eq(gb_record_reader_next(r, &data, &n), GB_OK, "cut at %zu: %s", cuts[i], gb_errmsg());
        cr_assert_eq(n, 20, "the appended record follows the last whole one");
        cr_assert_eq(gb_record_reader_next(r, &data, &n), GB_END);
        gb_record_reader_close(r);
    }
    /* a record torn inside the file's very first record: cut back to empty */
    write_records(path, 2, 10);
    cr_assert_eq(truncate(path, 14), 0);
    cr_assert_eq(append_third(path), GB_OK, "%s", gb_errmsg());

    /* what cannot be read is refused and left exactly as it was */
    const struct {
        const char *what, *bytes;
        size_t len;
    } refused[] = {{"a text file", "hello world, this is not a TFRecord file", 40}, {"5 bytes", "hello", 5}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cr_assert_eq(test_write_file(path, refused[i].bytes, refused[i].len), 0);
        gb_record_writer *w = (gb_record_writer *)1;
        cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_APPEND), GB_ECORRUPT, "%s", refused[i].what);
        cr_assert_null(w);
        cr_assert(strstr(gb_errmsg(), "not a TFRecord file") && strstr(gb_errmsg(), path), "%s: %s", refused[i].what,
                  gb_errmsg());
        size_t len;
        uint8_t *after = test_read_file(path, &len);
        cr_assert(len == refused[i].len && !memcmp(after, refused[i].bytes, len), "%s was changed", refused[i].what);
        free(after);
    }
    write_records(path, 3, 10);
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    bytes[16 + 14] ^= 1; /* record 1's data */
    cr_assert_eq(test_write_file(path, bytes, len), 0);
    cr_assert_eq(append_third(path), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "corrupt record at byte offset 16"), "%s", gb_errmsg());
    uint8_t *after = test_read_file(path, &good);
    cr_assert(good == len && !memcmp(after, bytes, len), "a corrupt file was changed");
    free(after), free(bytes), free(path);
}

Test(tfrecord, an_unwritable_place_fails_at_open_naming_the_path)
{
    char *path = path_in("no/such/dir/x.tfrecord");
    gb_record_writer *w;
    cr_assert_neq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK);
    cr_assert(strstr(gb_errmsg(), path), "%s", gb_errmsg());
    free(path);
}

/* A full disk, played by a file size limit: the flush fails, the file keeps only whole records,
 * and everything buffered is written once there is room again. */
Test(tfrecord, a_full_disk_loses_nothing_and_leaves_no_half_record)
{
    signal(SIGXFSZ, SIG_IGN);
    char *path = path_in("full.tfrecord");
    gb_record_writer *w;
    cr_assert_eq(gb_record_writer_open(&w, path, GB_RECORD_TRUNCATE), GB_OK);
    uint8_t data[1000];
    for (int i = 0; i < 5; i++) {
        for (size_t k = 0; k < sizeof data; k++) data[k] = (uint8_t)(i * 31 + k);
        cr_assert_eq(gb_record_writer_append(w, data, 100 * (size_t)i), GB_OK);
    }
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_OK);
    uint64_t flushed = gb_record_writer_size(w);
    for (int i = 5; i < 8; i++) {
        for (size_t k = 0; k < sizeof data; k++) data[k] = (uint8_t)(i * 31 + k);
        cr_assert_eq(gb_record_writer_append(w, data, 100 * (size_t)i), GB_OK);
    }
    struct rlimit limit = {(rlim_t)flushed + 700, RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    cr_assert_eq(gb_record_writer_flush(w, 0), GB_EIO);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq((uint64_t)sb.st_size, flushed, "the partial write was not cut off: %lld bytes", (long long)sb.st_size);
    size_t good;
    cr_assert_eq(read_all(path, &good, 100), GB_END);
    cr_assert_eq(good, 5);

    limit.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    cr_assert_eq(gb_record_writer_close(w), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(read_all(path, &good, 100), GB_END);
    cr_assert_eq(good, 8);
    free(path);
}
