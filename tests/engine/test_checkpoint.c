/* The checkpoint bundle: byte-exact against the fact sheet's vectors (one of them a real
 * TensorFlow-written index), round trips, and every kind of damage refused with its error. */
#include <criterion/criterion.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradboard/checkpoint.h"
#include "gradboard/crc32c.h"
#include "internal/sstable.h"
#include "test_fs.h"

TestSuite(checkpoint, .init = test_dir_setup, .fini = test_dir_teardown);

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ' || *p == '\n' || *p == '|') {
            p++;
            continue;
        }
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static char *path_of(const char *name)
{
    char *p = malloc(strlen(test_dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", test_dir, name);
    return p;
}

static void expect_file(const char *path, const uint8_t *want, size_t want_len)
{
    size_t len;
    uint8_t *got = test_read_file(path, &len);
    cr_assert_not_null(got, "%s missing", path);
    cr_assert_eq(len, want_len, "%s: %zu bytes, want %zu", path, len, want_len);
    for (size_t i = 0; i < len; i++) cr_assert_eq(got[i], want[i], "%s byte %zu: %02x, want %02x", path, i, got[i], want[i]);
    free(got);
}

/* A real TensorFlow-written index (TF Serving's saved_model_counter): one scalar float 0. */
Test(checkpoint, writes_tensorflows_own_counter_index_byte_for_byte)
{
    char *prefix = path_of("variables");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    float zero = 0;
    cr_assert_eq(gb_bundle_add(w, "counter", 1, 0, NULL, &zero, 4), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
    uint8_t want[200];
    size_t n = unhex("00 00 06 08 01 1a 02 08 01"
                     "00 07 0b 63 6f 75 6e 74 65 72 08 01 12 00 28 04 35 a6 7b 11 3a"
                     "00 00 00 00 01 00 00 00 00 5f a0 10 73"
                     "00 00 00 00 01 00 00 00 00 c0 f2 a1 b0"
                     "00 01 02 64 00 26 00 00 00 00 01 00 00 00 00 22 b1 61 03"
                     "2b 08 38 0e"
                     "000000000000000000000000000000000000000000000000000000000000000000000000"
                     "57 fb 80 8b 24 75 47 db",
                     want);
    cr_assert_eq(n, 123);
    char index[4096], data[4096];
    snprintf(index, sizeof index, "%s.index", prefix);
    snprintf(data, sizeof data, "%s.data-00000-of-00001", prefix);
    expect_file(index, want, n);
    expect_file(data, (const uint8_t[]){0, 0, 0, 0}, 4);
    free(prefix);
}

Test(checkpoint, writes_the_fact_sheets_derived_vectors)
{
    char *prefix = path_of("model.ckpt-1000");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    float bias = 0.25f, kernel[2] = {0.5f, -1.0f};
    int64_t step = 1000;
    cr_assert_eq(gb_bundle_add(w, "dense/bias", 1, 1, (int64_t[]){1}, &bias, 4), GB_OK);
    cr_assert_eq(gb_bundle_add(w, "dense/kernel", 1, 2, (int64_t[]){2, 1}, kernel, 8), GB_OK);
    cr_assert_eq(gb_bundle_add(w, "global_step", 9, 0, NULL, &step, 8), GB_OK);
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
    uint8_t want[300];
    size_t n = unhex("00000608011a020801000a0f64656e73652f6269617308011204120208012804355649d3310606156b65726e656c"
                     "0801120812020802120208012004280835c5af2152000b0d676c6f62616c5f7374657008091200200c2808350795"
                     "119a000000000100000000dc605bd5000000000100000000c0f2a1b0000102680066000000000100000000f6151b"
                     "a76b08780e00000000000000000000000000000000000000000000000000000000000000000000000057fb808b24"
                     "7547db",
                     want);
    cr_assert_eq(n, 187);
    char path[4096];
    snprintf(path, sizeof path, "%s.index", prefix);
    expect_file(path, want, n);
    n = unhex("0000803e 0000003f 000080bf e803000000000000", want);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    expect_file(path, want, n);

    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_reader_count(r), 3);
    const gb_bundle_entry *e = gb_bundle_reader_find(r, "dense/kernel");
    cr_assert_not_null(e);
    cr_assert_eq(e->rank, 2);
    cr_assert_eq(e->dims[0], 2);
    cr_assert_eq(e->crc32c, 0x6276d7cf);
    float back[2];
    cr_assert_eq(gb_bundle_reader_read(r, e, back, 8), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(back[1], -1.0f);
    e = gb_bundle_reader_find(r, "global_step");
    cr_assert_eq(e->dtype, 9);
    cr_assert_eq(e->crc32c, 0x5517fbc7);
    cr_assert_null(gb_bundle_reader_find(r, "nope"));
    gb_bundle_reader_close(r);
    free(prefix);
}

Test(checkpoint, an_empty_bundle_and_a_string_tensor)
{
    char *prefix = path_of("empty");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK);
    uint8_t want[200];
    size_t n = unhex("00000608011a020801000000000100000000629457f9000000000100000000c0f2a1b0000002001100000000010000"
                     "0000ccbf8b5d1608230d000000000000000000000000000000000000000000000000000000000000000000000000"
                     "57fb808b247547db",
                     want);
    char path[4096];
    snprintf(path, sizeof path, "%s.index", prefix);
    expect_file(path, want, n);
    free(prefix);

    prefix = path_of("strings");
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    const char *strings[] = {"hello", "", "x01"};
    const size_t lens[] = {5, 0, 3};
    cr_assert_eq(gb_bundle_add_strings(w, "s", 1, (int64_t[]){3}, strings, lens), GB_OK);
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK);
    n = unhex("050003 c166ac13 68656c6c6f 783031", want);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    expect_file(path, want, n);
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    const gb_bundle_entry *e = gb_bundle_reader_find(r, "s");
    cr_assert_eq(e->size, 15);
    cr_assert_eq(e->crc32c, 0x7b1880a7);
    char **got;
    size_t *got_lens;
    cr_assert_eq(gb_bundle_reader_read_strings(r, e, &got, &got_lens), GB_OK, "%s", gb_errmsg());
    cr_assert_str_eq(got[0], "hello");
    cr_assert_eq(got_lens[1], 0);
    cr_assert_str_eq(got[2], "x01");
    free(got), free(got_lens);
    gb_bundle_reader_close(r);
    free(prefix);
}

/* As TensorFlow's BundleWriter and tf.train.Checkpoint: the prefix's directory is made when it is
 * missing (deeper than one level too); a file where the directory must go is a clear error. */
Test(checkpoint, a_writer_makes_the_prefix_directory)
{
    char *prefix = path_of("new/deeper/model.ckpt-7");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_add(w, "x", 1, 1, (int64_t[]){2}, (float[]){1, 2}, 8), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_not_null(gb_bundle_reader_find(r, "x"));
    gb_bundle_reader_close(r);
    free(prefix);

    char *file = path_of("plain");
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    prefix = path_of("plain/model.ckpt");
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_EIO);
    cr_assert(strstr(gb_errmsg(), "plain/model.ckpt") && strstr(gb_errmsg(), "Not a directory"), "%s", gb_errmsg());
    free(prefix);
    free(file);
}

Test(checkpoint, restart_points_every_16_entries_and_many_blocks)
{
    gb_sstable_builder *b = gb_sstable_builder_new();
    cr_assert_eq(gb_sstable_add(b, "", 0, "h", 1), GB_OK);
    char key[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "var%02d", i);
        cr_assert_eq(gb_sstable_add(b, key, strlen(key), "v", 1), GB_OK);
    }
    cr_assert_eq(gb_sstable_add(b, "var00", 5, "v", 1), GB_EINVAL, "keys must increase");
    const uint8_t *file;
    size_t len;
    cr_assert_eq(gb_sstable_finish(b, &file, &len), GB_OK);
    /* the first block's restart count is the 4 bytes before its trailer: the footer's index
     * handle leads to the index block, whose one entry's handle gives the data block size */
    gb_sstable_entry *entries;
    size_t n;
    uint8_t *storage;
    cr_assert_eq(gb_sstable_parse(file, len, "t", &entries, &n, &storage), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(n, 41);
    cr_assert_eq(memcmp(entries[40].key, "var39", 5), 0);
    free(entries), free(storage);
    /* data block: offset 0; its size is in the index block's handle (2nd varint of the value) */
    uint8_t block_size_low = file[len - 48 + 2]; /* unused: checks below use the block itself */
    (void)block_size_low;
    gb_sstable_builder_free(b);

    /* thousands of large entries span many 256 KiB blocks and still read back in order */
    b = gb_sstable_builder_new();
    char *value = malloc(2000);
    memset(value, 'x', 2000);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "layer%05d/kernel", i);
        cr_assert_eq(gb_sstable_add(b, key, strlen(key), value, 2000), GB_OK);
    }
    cr_assert_eq(gb_sstable_finish(b, &file, &len), GB_OK);
    cr_assert_gt(len, 4 * 262144);
    cr_assert_eq(gb_sstable_parse(file, len, "big", &entries, &n, &storage), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(n, 2000);
    cr_assert_eq(memcmp(entries[1999].key, "layer01999/kernel", 17), 0);
    free(entries), free(storage), free(value);
    gb_sstable_builder_free(b);
}

/* An index whose data block is Snappy-compressed, as some TensorFlow builds wrote them. */
Test(checkpoint, reads_snappy_compressed_blocks)
{
    gb_sstable_builder *b = gb_sstable_builder_new();
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        cr_assert_eq(gb_sstable_add(b, key, strlen(key), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32), GB_OK);
    }
    const uint8_t *file;
    size_t len;
    cr_assert_eq(gb_sstable_finish(b, &file, &len), GB_OK);
    /* re-encode: data block 0 compressed; the metaindex, index and footer rebuilt around it */
    size_t data_len = 0;
    {
        gb_sstable_entry *e;
        size_t n;
        uint8_t *s;
        cr_assert_eq(gb_sstable_parse(file, len, "t", &e, &n, &s), GB_OK);
        free(e), free(s);
    }
    /* the data block is everything before its 5-byte trailer; find it via the footer's index handle */
    const uint8_t *footer = file + len - 48;
    size_t p = 0;
    uint64_t vals[4] = {0};
    for (int v = 0; v < 4; v++) {
        int shift = 0;
        while (footer[p] & 0x80) vals[v] |= (uint64_t)(footer[p++] & 0x7f) << shift, shift += 7;
        vals[v] |= (uint64_t)footer[p++] << shift;
    }
    data_len = (size_t)vals[0] - 5; /* the metaindex follows the only data block */
    size_t max = snappy_max_compressed_length(data_len), clen = max;
    char *compressed = malloc(max);
    cr_assert_eq(snappy_compress((const char *)file, data_len, compressed, &clen), SNAPPY_OK);
    uint8_t *out = malloc(len + max);
    size_t o = 0;
    memcpy(out, compressed, clen), o += clen;
    out[o] = 1;
    uint32_t crc = gb_crc32c_mask(gb_crc32c_extend(gb_crc32c(compressed, clen), out + o, 1));
    memcpy(out + o + 1, &crc, 4), o += 5;
    size_t meta_at = o;
    memcpy(out + o, file + data_len + 5, 13), o += 13; /* the empty metaindex and its trailer */
    /* index block: one entry "l" -> (0, clen), restart [0], count 1 */
    size_t index_at = o;
    uint8_t index[32];
    size_t i = 0;
    index[i++] = 0, index[i++] = 1;
    uint8_t handle[20];
    size_t h = 0;
    handle[h++] = 0;
    for (uint64_t v = clen;; v >>= 7) {
        handle[h++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) break;
    }
    index[i++] = (uint8_t)h, index[i++] = 'l';
    memcpy(index + i, handle, h), i += h;
    memset(index + i, 0, 4), i += 4;
    index[i++] = 1, index[i++] = 0, index[i++] = 0, index[i++] = 0;
    memcpy(out + o, index, i), o += i;
    out[o] = 0;
    crc = gb_crc32c_mask(gb_crc32c_extend(gb_crc32c(index, i), out + o, 1));
    memcpy(out + o + 1, &crc, 4), o += 5;
    uint8_t foot[48] = {0};
    size_t f = 0;
    const uint64_t handles[4] = {meta_at, 8, index_at, i};
    for (int k = 0; k < 4; k++)
        for (uint64_t v = handles[k];; v >>= 7) {
            foot[f++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
    uint64_t magic = GB_SSTABLE_MAGIC;
    memcpy(foot + 40, &magic, 8);
    memcpy(out + o, foot, 48), o += 48;
    gb_sstable_entry *e;
    size_t n;
    uint8_t *s;
    cr_assert_eq(gb_sstable_parse(out, o, "snappy", &e, &n, &s), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(n, 50);
    cr_assert_eq(e[49].value_len, 32);
    free(e), free(s), free(out), free(compressed);
    gb_sstable_builder_free(b);
}

/* Every byte of both files flipped, every truncation: an error naming the problem, never a crash. */
Test(checkpoint, damage_anywhere_is_an_error)
{
    char *prefix = path_of("ckpt");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    float values[6] = {1, 2, 3, 4, 5, 6};
    cr_assert_eq(gb_bundle_add(w, "a/kernel", 1, 2, (int64_t[]){2, 3}, values, 24), GB_OK);
    cr_assert_eq(gb_bundle_add(w, "b", 1, 0, NULL, values, 4), GB_OK);
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK);
    char index[4096], data[4096];
    snprintf(index, sizeof index, "%s.index", prefix);
    snprintf(data, sizeof data, "%s.data-00000-of-00001", prefix);
    size_t len, dlen;
    uint8_t *bytes = test_read_file(index, &len), *dbytes = test_read_file(data, &dlen);
    size_t handles_end = len - 48; /* the footer's four varints; the zero padding after them is not read */
    for (int k = 0; k < 4; k++)
        while (bytes[handles_end++] & 0x80) {
        }
    for (size_t at = 0; at < len; at++) {
        bytes[at] ^= 0x10;
        cr_assert_eq(test_write_file(index, bytes, len), 0);
        bytes[at] ^= 0x10;
        gb_bundle_reader *r;
        gb_status st = gb_bundle_reader_open(&r, prefix);
        if (st == GB_OK) { /* a flip in the zero padding of the footer changes nothing */
            cr_assert(at >= handles_end && at < len - 8, "flip at %zu of the index went unnoticed", at);
            gb_bundle_reader_close(r);
        } else {
            cr_assert(strstr(gb_errmsg(), index) || strstr(gb_errmsg(), prefix), "flip at %zu: %s", at, gb_errmsg());
        }
    }
    cr_assert_eq(test_write_file(index, bytes, len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        cr_assert_eq(test_write_file(index, bytes, cut), 0);
        gb_bundle_reader *r;
        cr_assert_neq(gb_bundle_reader_open(&r, prefix), GB_OK, "index cut at %zu accepted", cut);
    }
    cr_assert_eq(test_write_file(index, bytes, len), 0);
    for (size_t at = 0; at < dlen; at++) {
        dbytes[at] ^= 1;
        cr_assert_eq(test_write_file(data, dbytes, dlen), 0);
        dbytes[at] ^= 1;
        gb_bundle_reader *r;
        cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK);
        const gb_bundle_entry *e = gb_bundle_reader_find(r, at < 24 ? "a/kernel" : "b");
        float buf[6];
        cr_assert_eq(gb_bundle_reader_read(r, e, buf, e->size), GB_ECORRUPT, "data flip at %zu", at);
        cr_assert(strstr(gb_errmsg(), "checksum does not match"), "%s", gb_errmsg());
        gb_bundle_reader_close(r);
    }
    cr_assert_eq(test_write_file(data, dbytes, 10), 0);
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_ECORRUPT, "a short data file must be caught at open");
    cr_assert(strstr(gb_errmsg(), "past the end of its data file"), "%s", gb_errmsg());
    free(bytes), free(dbytes), free(prefix);
}

Test(checkpoint, huge_shapes_and_bad_arguments)
{
    char *prefix = path_of("huge");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    float v = 1;
    cr_assert_eq(gb_bundle_add(w, "x", 1, 2, (int64_t[]){1LL << 40, 1LL << 40}, &v, 4), GB_ESHAPE);
    cr_assert_eq(gb_bundle_add(w, "x", 1, 1, (int64_t[]){2}, &v, 4), GB_ESHAPE);
    cr_assert_eq(gb_bundle_add(w, "", 1, 0, NULL, &v, 4), GB_EINVAL);
    cr_assert_eq(gb_bundle_add(w, "x", 1, 0, NULL, &v, 4), GB_OK);
    cr_assert_eq(gb_bundle_add(w, "x", 1, 0, NULL, &v, 4), GB_EINVAL, "a duplicate name");
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK);

    /* an index claiming a [2^40, 2^40] float tensor: refused at open, nothing allocated for it */
    gb_sstable_builder *b = gb_sstable_builder_new();
    uint8_t header[] = {0x08, 0x01, 0x1a, 0x02, 0x08, 0x01};
    /* dtype 1, shape {dim 2^40, dim 2^40}, size 4 */
    uint8_t entry[] = {0x08, 0x01, 0x12, 0x12, 0x12, 0x07, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x12,
                       0x07, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x28, 0x04};
    cr_assert_eq(gb_sstable_add(b, "", 0, header, sizeof header), GB_OK);
    cr_assert_eq(gb_sstable_add(b, "x", 1, entry, sizeof entry), GB_OK);
    const uint8_t *file;
    size_t len;
    cr_assert_eq(gb_sstable_finish(b, &file, &len), GB_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s.index", prefix);
    cr_assert_eq(test_write_file(path, file, len), 0);
    gb_sstable_builder_free(b);
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_ECORRUPT);
    cr_assert(strstr(gb_errmsg(), "tensor x"), "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_reader_open(&r, "/nonexistent/ckpt"), GB_ENOTFOUND);
    free(prefix);
}

/* Tensors of a few MiB are checksummed on a second thread while written, and read back in two
 * halves on two threads: same bytes, same CRC as the one-thread path, and damage in either half
 * (or a file cut short after the reader opened it) is still caught. */
Test(checkpoint, large_tensors_through_the_two_thread_paths)
{
    char *prefix = path_of("large"), *data = path_of("large.data-00000-of-00001");
    enum { N = 3 << 20 }; /* 12 MiB of float32: both paths' thresholds */
    float *values = malloc(N * sizeof *values), *back = malloc(N * sizeof *back);
    for (size_t i = 0; i < N; i++) values[i] = (float)i * 0.25f - 7;
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_add(w, "big", 1, 2, (int64_t[]){N / 1024, 1024}, values, N * sizeof *values), GB_OK, "%s",
                 gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());

    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    const gb_bundle_entry *e = gb_bundle_reader_find(r, "big");
    cr_assert_eq(e->crc32c, gb_crc32c(values, N * sizeof *values), "the stored CRC is the whole tensor's");
    cr_assert_eq(gb_bundle_reader_read(r, e, back, e->size), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(memcmp(back, values, N * sizeof *values), 0);
    gb_bundle_reader_close(r);

    size_t len;
    uint8_t *bytes = test_read_file(data, &len);
    cr_assert_eq(len, N * sizeof *values);
    for (int half = 0; half < 2; half++) {
        size_t at = half ? len - 5 : 3;
        bytes[at] ^= 0x10;
        cr_assert_eq(test_write_file(data, bytes, len), 0);
        bytes[at] ^= 0x10;
        cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_bundle_reader_read(r, gb_bundle_reader_find(r, "big"), back, len), GB_ECORRUPT,
                     "a flip at %zu went unnoticed", at);
        cr_assert(strstr(gb_errmsg(), "checksum does not match"), "%s", gb_errmsg());
        gb_bundle_reader_close(r);
    }
    cr_assert_eq(test_write_file(data, bytes, len), 0);
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(truncate(data, (off_t)(len - 4096)), 0); /* cut after open: the second half's read ends early */
    cr_assert_eq(gb_bundle_reader_read(r, gb_bundle_reader_find(r, "big"), back, len), GB_ETRUNCATED, "%s", gb_errmsg());
    cr_assert(strstr(gb_errmsg(), "ends early"), "%s", gb_errmsg());
    gb_bundle_reader_close(r);
    free(bytes), free(values), free(back), free(prefix), free(data);
}

Test(checkpoint, a_non_durable_save_is_the_same_checkpoint)
{
    char *prefix = path_of("fast");
    float v[3] = {1, 2, 3}, back[3];
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    gb_bundle_writer_set_durable(w, 0);
    cr_assert_eq(gb_bundle_add(w, "v", 1, 1, (int64_t[]){3}, v, sizeof v), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_reader_read(r, gb_bundle_reader_find(r, "v"), back, sizeof back), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(memcmp(back, v, sizeof v), 0);
    gb_bundle_reader_close(r);
    free(prefix);
}

/* An empty tensor reads into no buffer at all: nothing to read, and the CRC of nothing. */
Test(checkpoint, an_empty_tensor_reads_into_a_null_buffer)
{
    char *prefix = path_of("empty");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_add(w, "zero", 1, 2, (int64_t[]){0, 3}, NULL, 0), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_OK, "%s", gb_errmsg());
    const gb_bundle_entry *e = gb_bundle_reader_find(r, "zero");
    cr_assert_not_null(e);
    cr_assert_eq(e->elements, 0);
    cr_assert_eq(e->size, 0);
    cr_assert_eq(gb_bundle_reader_read(r, e, NULL, 0), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_reader_read(r, e, NULL, 4), GB_EINVAL, "4 bytes into no buffer");
    gb_bundle_reader_close(r);
    free(prefix);
}

/* Dimensions each fine whose product overflows: the error says so, not that the last is bad. */
Test(checkpoint, an_overflowing_element_count_is_named_as_such)
{
    char *prefix = path_of("overflow");
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    float v = 1;
    cr_assert_eq(gb_bundle_add(w, "big", 1, 2, (int64_t[]){1LL << 62, 4}, &v, 0), GB_ESHAPE);
    cr_assert(strstr(gb_errmsg(), "tensor big") && strstr(gb_errmsg(), "overflows"), "%s", gb_errmsg());
    cr_assert_null(strstr(gb_errmsg(), "bad dimension"), "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_add(w, "neg", 1, 2, (int64_t[]){3, -2}, &v, 0), GB_ESHAPE);
    cr_assert(strstr(gb_errmsg(), "bad dimension -2"), "%s", gb_errmsg());
    gb_bundle_writer_abort(w);
    free(prefix);
}

#include <signal.h>
#include <sys/wait.h>

#include "internal/ckpt_hooks.h"

static void die_when_the_data_are_renamed(const char *stage)
{
    if (!strcmp(stage, "data_renamed")) raise(SIGKILL);
}

static void write_one(const char *prefix, float value)
{
    float v[4] = {value, value, value, value};
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_add(w, "v", 1, 1, (int64_t[]){4}, v, sizeof v), GB_OK, "%s", gb_errmsg());
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK, "%s", gb_errmsg());
}

/* Writing a bundle over an existing one and dying between the two renames: no index (no
 * checkpoint), never the old index over the new data. */
Test(checkpoint, a_bundle_rewritten_and_killed_midway_is_absent_not_corrupt)
{
    char *prefix = path_of("again");
    write_one(prefix, 7);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        gb_ckpt_test_hook = die_when_the_data_are_renamed;
        write_one(prefix, 9);
        _exit(4);
    }
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was not killed (%d)", status);
    gb_bundle_reader *r;
    cr_assert_eq(gb_bundle_reader_open(&r, prefix), GB_ENOTFOUND, "the old index is still there, over the new data");
    free(prefix);
}
