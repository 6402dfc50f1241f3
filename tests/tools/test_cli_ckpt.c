/* `gradboard ckpt` as a user runs it: exit codes, errors, listings. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/checkpoint.h"
#include "test_fs.h"

TestSuite(cli_ckpt, .init = test_dir_setup, .fini = test_dir_teardown);

static int ckpt(char **out, char **err, const char *args)
{
    char command[4096], err_path[700];
    snprintf(err_path, sizeof err_path, "%s/.stderr", test_dir);
    snprintf(command, sizeof command, "%s ckpt %s 2>%s", GB_TOOL_PATH, args, err_path);
    int code = test_run(command, out);
    size_t len;
    char *e = (char *)test_read_file(err_path, &len);
    e = realloc(e, len + 1);
    e[len] = '\0';
    if (err)
        *err = e;
    else
        free(e);
    return code;
}

static void write_ckpt(const char *name, float scale)
{
    char prefix[700];
    snprintf(prefix, sizeof prefix, "%s/%s", test_dir, name);
    gb_bundle_writer *w;
    cr_assert_eq(gb_bundle_writer_open(&w, prefix), GB_OK);
    float v[4] = {1 * scale, 2, 3, 4};
    cr_assert_eq(gb_bundle_add(w, "w", 1, 2, (int64_t[]){2, 2}, v, 16), GB_OK);
    cr_assert_eq(gb_bundle_writer_finish(w), GB_OK);
}

Test(cli_ckpt, listing_showing_verifying_and_comparing)
{
    write_ckpt("a", 1), write_ckpt("b", 1.5f);
    char *out, *err, args[1400];
    cr_assert_eq(ckpt(&out, NULL, "--help"), 0);
    cr_assert(strstr(out, "verify"), "%s", out);
    free(out);
    cr_assert_eq(ckpt(&out, &err, "frobnicate"), 2);
    free(out), free(err);
    cr_assert_eq(ckpt(&out, &err, "ls"), 2);
    free(out), free(err);
    snprintf(args, sizeof args, "ls %s/a", test_dir);
    cr_assert_eq(ckpt(&out, NULL, args), 0);
    cr_assert(strstr(out, "w") && strstr(out, "float32") && strstr(out, "[2, 2]") && strstr(out, "16"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "show %s/a.index w", test_dir);
    cr_assert_eq(ckpt(&out, NULL, args), 0);
    cr_assert(strstr(out, "[[1.0 2.0]\n [3.0 4.0]]"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "show %s/a nope", test_dir);
    cr_assert_eq(ckpt(&out, &err, args), 1);
    cr_assert(strstr(err, "no tensor named nope"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "diff %s/a %s/b", test_dir, test_dir);
    cr_assert_eq(ckpt(&out, NULL, args), 1);
    cr_assert(strstr(out, "w: max |a - b| = 0.5"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "verify %s/a", test_dir);
    cr_assert_eq(ckpt(&out, NULL, args), 0);
    free(out);
    char data[800];
    snprintf(data, sizeof data, "%s/a.data-00000-of-00001", test_dir);
    size_t len;
    uint8_t *bytes = test_read_file(data, &len);
    bytes[3] ^= 1;
    test_write_file(data, bytes, len);
    free(bytes);
    cr_assert_eq(ckpt(&out, &err, args), 1);
    cr_assert(strstr(err, "checksum does not match") && strstr(out, "BAD"), "%s\n%s", out, err);
    free(out), free(err);
    snprintf(args, sizeof args, "latest %s", test_dir);
    cr_assert_eq(ckpt(&out, &err, args), 1, "no state file in the directory");
    free(out), free(err);
}

/* ---- TensorFlow-written checkpoints (tests/tools/data/tf_checkpoints, see its README) ---- */

#define TF_DTYPES GB_TF_CHECKPOINTS "/dtypes/model.ckpt-7"
#define TF_DTYPES_B GB_TF_CHECKPOINTS "/dtypes_b/model.ckpt-7"
#define TF_ITERATOR GB_TF_CHECKPOINTS "/iterator/ckpt"

/* `gradboard ckpt` with printf-style arguments; stdout and stderr as in ckpt(). */
static int ckptf(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ckptf(char **out, char **err, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return ckpt(out, err, args);
}

/* Copies checkpoint prefix (index and its one data file) to test_dir/name. */
static void copy_ckpt(const char *prefix, const char *name)
{
    const char *suffixes[] = {".index", ".data-00000-of-00001"};
    for (int i = 0; i < 2; i++) {
        char from[800], to[800];
        snprintf(from, sizeof from, "%s%s", prefix, suffixes[i]);
        snprintf(to, sizeof to, "%s/%s%s", test_dir, name, suffixes[i]);
        size_t len;
        uint8_t *bytes = test_read_file(from, &len);
        cr_assert(bytes, "%s", from);
        cr_assert_eq(test_write_file(to, bytes, len), 0);
        free(bytes);
    }
}

/* Flips one bit of the data file of test_dir/name, in the first place holding pattern. */
static void corrupt_data_at(const char *name, const void *pattern, size_t pattern_len)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s.data-00000-of-00001", test_dir, name);
    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    cr_assert(bytes);
    uint8_t *at = memmem(bytes, len, pattern, pattern_len);
    cr_assert(at, "pattern not in %s", path);
    at[pattern_len / 2] ^= 1;
    cr_assert_eq(test_write_file(path, bytes, len), 0);
    free(bytes);
}

Test(cli_ckpt, show_prints_64_bit_integers_exactly_in_text_and_json)
{
    char *out;
    cr_assert_eq(ckptf(&out, NULL, "show %s i64", TF_DTYPES), 0);
    cr_assert_str_eq(out, "tensor_name: i64 (int64 [3])\n[9007199254740993 -9223372036854775808 9223372036854775807]\n");
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s u64 --json", TF_DTYPES), 0);
    cr_assert_str_eq(out, "{\"name\":\"u64\",\"dtype\":\"uint64\",\"shape\":[2],\"values\":[18446744073709551615,30]}\n");
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s i64 --json", TF_DTYPES), 0);
    cr_assert(strstr(out, "\"values\":[9007199254740993,-9223372036854775808,9223372036854775807]}"), "%s", out);
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s i32 --json", TF_DTYPES), 0);
    cr_assert(strstr(out, "\"values\":[30,-2147483648]}"), "%s", out);
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s f32 --json", TF_DTYPES), 0);
    cr_assert(strstr(out, "\"values\":[30,0.10000000149011612]}"), "%s", out);
    free(out);
}

Test(cli_ckpt, show_prints_half_bfloat16_and_complex_values)
{
    char *out;
    cr_assert_eq(ckptf(&out, NULL, "show %s f16", TF_DTYPES), 0);
    cr_assert_str_eq(out, "tensor_name: f16 (float16 [4])\n[1.5 -65504.0 inf nan]\n");
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s f16 --json", TF_DTYPES), 0);
    cr_assert(strstr(out, "\"values\":[1.5,-65504,\"Infinity\",\"NaN\"]}"), "%s", out);
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s bf16 --json", TF_DTYPES), 0);
    /* bfloat16 keeps 8 bits of 1e30: 1.0002555517425873e+30 is what TensorFlow stores */
    cr_assert(strstr(out, "\"values\":[1.5,-3,1.0002555517425873e+30]}"), "%s", out);
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s c128", TF_DTYPES), 0);
    cr_assert_str_eq(out, "tensor_name: c128 (complex128 [1])\n[(1+2j)]\n");
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s c64 --json", TF_DTYPES), 0);
    cr_assert(strstr(out, "\"values\":[[1,2],[0,-3.5]]}"), "%s", out);
    free(out);
}

Test(cli_ckpt, show_of_strings_is_lossless_and_one_json_object)
{
    char *out;
    cr_assert_eq(ckptf(&out, NULL, "show %s strv", TF_DTYPES), 0);
    cr_assert_str_eq(out, "tensor_name: strv (string [4])\n[b'hello' b'' b'w\\x00rld\\xff' b'\\xc3\\xa9\"\\n']\n");
    free(out);
    /* a byte 0xff is not UTF-8: every value is base64, and the object says so */
    cr_assert_eq(ckptf(&out, NULL, "show %s strv --json", TF_DTYPES), 0);
    cr_assert_str_eq(out, "{\"name\":\"strv\",\"dtype\":\"string\",\"shape\":[4],\"encoding\":\"base64\","
                          "\"values\":[\"aGVsbG8=\",\"\",\"dwBybGT/\",\"w6kiCg==\"]}\n");
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "show %s utf8 --json", TF_DTYPES), 0);
    cr_assert_str_eq(out, "{\"name\":\"utf8\",\"dtype\":\"string\",\"shape\":[2],\"encoding\":\"utf-8\","
                          "\"values\":[\"abc\",\"\xc3\xa9\"]}\n");
    free(out);
}

Test(cli_ckpt, show_assembles_a_partitioned_variable)
{
    char *out;
    cr_assert_eq(ckptf(&out, NULL, "show %s part --json", TF_DTYPES), 0);
    cr_assert_str_eq(out, "{\"name\":\"part\",\"dtype\":\"float32\",\"shape\":[10,4],\"values\":[[0,1,2,3],[4,5,6,7],"
                          "[8,9,10,11],[12,13,14,15],[16,17,18,19],[20,21,22,23],[24,25,26,27],[28,29,30,31],"
                          "[32,33,34,35],[36,37,38,39]]}\n");
    free(out);
    /* part_big's second slice starts at row 100: a two-byte number in its index key */
    cr_assert_eq(ckptf(&out, NULL, "show %s part_big --json", TF_DTYPES_B), 0);
    cr_assert(strstr(out, "[1,1],[1,3],[1,1]"), "%s", out);
    free(out);
    cr_assert_eq(ckptf(&out, NULL, "ls %s", TF_DTYPES), 0);
    cr_assert(strstr(out, "part      float32    [10, 4]                       160\n"), "%s", out);
    free(out);
}

Test(cli_ckpt, diff_compares_every_dtype_and_partitioned_variables)
{
    char *out;
    cr_assert_eq(ckptf(&out, NULL, "diff %s %s", TF_DTYPES, TF_DTYPES_B), 1);
    cr_assert_str_eq(out, "bf16: max |a - b| = 1\n"
                          "c128: max |a - b| = 0 (over real and imaginary parts)\n"
                          "c64: max |a - b| = 0.5 (over real and imaginary parts)\n"
                          "f16: max |a - b| = 1\n"
                          "f32: max |a - b| = 0\n"
                          "flags: max |a - b| = 0\n"
                          "i32: max |a - b| = 0\n"
                          "i64: max |a - b| = 1\n" /* 2^53+1 vs 2^53+2: equal as doubles */
                          "part: max |a - b| = 1\n"
                          "part_big: max |a - b| = 2\n"
                          "strv: 1 of 4 strings differ\n"
                          "u64: max |a - b| = 0\n"
                          "utf8: all 2 strings equal\n");
    free(out);
    /* with itself: equal, NaNs and infinities included */
    char *err;
    cr_assert_eq(ckptf(&out, &err, "diff %s %s", TF_DTYPES, TF_DTYPES), 0, "%s%s", out, err);
    cr_assert(strstr(out, "f16: max |a - b| = 0\n") && strstr(out, "part: max |a - b| = 0\n"), "%s", out);
    free(out), free(err);
}

Test(cli_ckpt, diff_says_what_it_cannot_compare_and_never_exits_0)
{
    char *out, *err;
    cr_assert_eq(ckptf(&out, &err, "diff %s %s", TF_ITERATOR, TF_ITERATOR), 3);
    cr_assert(strstr(out, "it/.ATTRIBUTES/ITERATOR_STATE: variant, cannot compare\n"), "%s", out);
    cr_assert(strstr(out, "v/.ATTRIBUTES/VARIABLE_VALUE: max |a - b| = 0\n"), "%s", out);
    cr_assert(strstr(err, "1 tensors not compared"), "%s", err);
    free(out), free(err);
    cr_assert_eq(ckpt(&out, NULL, "--help"), 0);
    cr_assert(strstr(out, "3 verify/diff found nothing wrong or different but"), "%s", out);
    free(out);
}

Test(cli_ckpt, verify_checks_the_slices_of_partitioned_variables)
{
    copy_ckpt(TF_DTYPES, "part");
    char *out, *err;
    cr_assert_eq(ckptf(&out, NULL, "verify %s/part", test_dir), 0);
    /* 1898: every byte of the data file, the slices' included */
    cr_assert(strstr(out, "13 tensors, 1898 bytes: all checksums ok"), "%s", out);
    free(out);
    float first_rows[16]; /* part's first slice: rows 0..3 */
    for (int i = 0; i < 16; i++) first_rows[i] = (float)i;
    corrupt_data_at("part", first_rows, sizeof first_rows);
    cr_assert_eq(ckptf(&out, &err, "verify %s/part", test_dir), 1);
    cr_assert(strstr(out, "BAD (1 tensors)"), "%s", out);
    cr_assert(strstr(err, "tensor part: slice 0") && strstr(err, "checksum does not match"), "%s", err);
    free(out), free(err);
    /* diff goes on past the unreadable tensor, and exits 1 for it */
    cr_assert_eq(ckptf(&out, &err, "diff %s %s/part", TF_DTYPES, test_dir), 1);
    cr_assert(strstr(out, "part: cannot compare, unreadable\n") && strstr(out, "utf8: all 2 strings equal\n"), "%s", out);
    cr_assert(strstr(err, "checksum does not match"), "%s", err);
    free(out), free(err);
}

Test(cli_ckpt, verify_checks_variant_tensors)
{
    copy_ckpt(TF_ITERATOR, "it");
    char *out, *err;
    cr_assert_eq(ckptf(&out, NULL, "verify %s/it", test_dir), 0);
    cr_assert(strstr(out, "3 tensors, 650 bytes: all checksums ok"), "%s", out);
    free(out);
    corrupt_data_at("it", "tensorflow::Iterator", 20); /* inside the first element of the state */
    cr_assert_eq(ckptf(&out, &err, "verify %s/it", test_dir), 1);
    cr_assert(strstr(err, "ITERATOR_STATE") && strstr(err, "checksum does not match"), "%s", err);
    free(out), free(err);
}

Test(cli_ckpt, a_v1_checkpoint_is_named_as_unsupported)
{
    char *out, *err;
    cr_assert_eq(ckptf(&out, &err, "ls %s/v1/model.ckpt", GB_TF_CHECKPOINTS), 1);
    cr_assert(strstr(err, "is in TensorFlow's V1 format (one file, no .index), which gradboard does not read"), "%s", err);
    free(out), free(err);
    cr_assert_eq(ckptf(&out, &err, "ls %s/v1", GB_TF_CHECKPOINTS), 1);
    cr_assert(strstr(err, "V1 format") && !strstr(err, "index is missing"), "%s", err);
    free(out), free(err);
}

Test(cli_ckpt, export_writes_partitioned_variables_whole)
{
    /* safetensors has no slices: the partitioned variable goes out assembled, and comes back
     * through import with the values show gives for TensorFlow's own checkpoint */
    char *out, *err, *want;
    cr_assert_eq(ckptf(&out, &err, "export %s --safetensors %s/all.safetensors", TF_DTYPES, test_dir), 0, "%s", err);
    cr_assert_null(strstr(err, "part (float"), "part must not be left out: %s", err);
    free(out), free(err);
    cr_assert_eq(ckptf(&out, &err, "import %s/all.safetensors --to %s/back", test_dir, test_dir), 0, "%s", err);
    free(out), free(err);
    cr_assert_eq(ckptf(&want, NULL, "show %s part --json", TF_DTYPES), 0);
    cr_assert_eq(ckptf(&out, NULL, "show %s/back part --json", test_dir), 0);
    cr_assert_str_eq(out, want);
    free(out);
    /* into a directory that does not exist yet, as tf.train.Checkpoint saves */
    cr_assert_eq(ckptf(&out, &err, "import %s/all.safetensors --to %s/fresh/dir/model.ckpt-3", test_dir, test_dir), 0,
                 "%s", err);
    free(out), free(err);
    cr_assert_eq(ckptf(&out, NULL, "show %s/fresh/dir/model.ckpt-3 part --json", test_dir), 0);
    cr_assert_str_eq(out, want);
    free(out), free(want);
}
