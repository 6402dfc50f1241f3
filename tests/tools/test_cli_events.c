/* `gradboard events` run as a user runs it: the real binary, real files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summary.h"
#include "test_fs.h"

TestSuite(cli_events, .init = test_dir_setup, .fini = test_dir_teardown);

/* Runs `gradboard <args>`; stdout in *out, stderr in *err (both malloc'd). Returns the exit code. */
static int gradboard(char **out, char **err, const char *fmt, ...)
{
    char args[2048], command[4096], err_path[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(err_path, sizeof err_path, "%s/.stderr", test_dir);
    snprintf(command, sizeof command, "%s %s 2>%s", GB_TOOL_PATH, args, err_path);
    int code = test_run(command, out);
    size_t len;
    char *e = (char *)test_read_file(err_path, &len);
    cr_assert_not_null(e);
    e = realloc(e, len + 1);
    e[len] = '\0';
    if (err)
        *err = e;
    else
        free(e);
    return code;
}

static char *write_run(const char *run, int steps)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/%s", test_dir, run);
    double now = 1700000000.5;
    gb_writer_opts opts = gb_writer_opts_default();
    opts.clock = test_fixed_clock;
    opts.clock_ctx = &now;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK, "%s", gb_errmsg());
    for (int step = 0; step < steps; step++) {
        cr_assert_eq(gb_summary_scalar(w, "loss", step, 1.0 / (step + 1)), GB_OK);
        cr_assert_eq(gb_summary_scalar(w, "acc", step, step / 100.0), GB_OK);
    }
    char *path = strdup(gb_writer_path(w));
    cr_assert_eq(gb_writer_close(w), GB_OK);
    return path;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(cli_events, help_version_and_usage_errors)
{
    char *out, *err;
    cr_assert_eq(gradboard(&out, NULL, "--help"), 0);
    cr_assert(strstr(out, "usage: gradboard"), "%s", out);
    free(out);
    cr_assert_eq(gradboard(&out, NULL, "--version"), 0);
    cr_assert_str_eq(out, "gradboard " GB_VERSION_STRING "\n");
    free(out);
    cr_assert_eq(gradboard(&out, NULL, "events --help"), 0);
    cr_assert(strstr(out, "--check"), "%s", out);
    free(out);

    const char *usage_errors[] = {"", "frobnicate", "events", "events --bogus x", "events a b",
                                  "events --csv x", "events --json --check x", "events --tag"};
    for (size_t i = 0; i < sizeof usage_errors / sizeof usage_errors[0]; i++) {
        cr_assert_eq(gradboard(&out, &err, "%s", usage_errors[i]), 2, "'gradboard %s'", usage_errors[i]);
        cr_assert_str_eq(out, "", "'gradboard %s' wrote to stdout", usage_errors[i]);
        cr_assert_neq(strlen(err), 0, "'gradboard %s' gave no message", usage_errors[i]);
        free(out), free(err);
    }
    cr_assert_eq(gradboard(&out, &err, "events %s/missing", test_dir), 1);
    cr_assert(strstr(err, "No such file"), "%s", err);
    free(out), free(err);
    cr_assert_eq(gradboard(&out, &err, "events %s", test_dir), 1, "an empty directory is a data error");
    cr_assert(strstr(err, "no event files"), "%s", err);
    free(out), free(err);
}

Test(cli_events, lists_the_pytorch_writer_files)
{
    char *out;
    cr_assert_eq(gradboard(&out, NULL, "events %s/torch_writer_logs", GB_TESTDATA_DIR), 0);
    cr_assert(strstr(out, "run run_a  (1 event file, "), "%s", out);
    cr_assert(strstr(out, "run run_b/"), "%s", out);
    char want[256];
    /* tag, plugin, kind, count, first, last, last value (exp(-4.9) as float32) */
    const char *rows[][7] = {{"train/loss", "scalars", "scalar", "50", "0", "49", "0.007446583"},
                             {"weights/dense1", "histograms", "histogram", "5", "0", "40", "-"},
                             {"samples/rgb", "images", "image", "1", "0", "0", "-"},
                             {"notes/text_summary", "text", "text", "1", "0", "0", "-"},
                             {"pr", "pr_curves", "pr_curve", "1", "0", "0", "-"},
                             {"hparam/acc", "scalars", "scalar", "1", "0", "0", "0.9"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *line = strstr(out, rows[i][0]);
        cr_assert_not_null(line, "no row for %s", rows[i][0]);
        char tag[64], plugin[64], kind[64], count[16], first[16], last[16], value[32];
        cr_assert_eq(sscanf(line, "%63s %63s %63s %15s %15s %15s %31s", tag, plugin, kind, count, first, last, value), 7);
        snprintf(want, sizeof want, "%s %s %s %s %s %s %s", rows[i][0], rows[i][1], rows[i][2], rows[i][3],
                 rows[i][4], rows[i][5], rows[i][6]);
        char got[512];
        snprintf(got, sizeof got, "%s %s %s %s %s %s %s", tag, plugin, kind, count, first, last, value);
        cr_assert_str_eq(got, want);
    }
    free(out);
}

Test(cli_events, json_lines_for_every_value)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/special", test_dir);
    double now = 1700000000.5;
    gb_writer_opts opts = gb_writer_opts_default();
    opts.clock = test_fixed_clock;
    opts.clock_ctx = &now;
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, &opts), GB_OK);
    const double values[] = {1e-30, 1e30, -0.0, NAN, INFINITY, -INFINITY, 0.5};
    for (int i = 0; i < 7; i++) cr_assert_eq(gb_summary_scalar(w, "odd \"tag\"\\", i, values[i]), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);

    char *out;
    cr_assert_eq(gradboard(&out, NULL, "events --json %s", test_dir), 0);
    const char *want[] = {
        "{\"run\":\"special\",\"tag\":\"odd \\\"tag\\\"\\\\\",\"step\":0,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":1.0000000031710769e-30}",
        "\"step\":1,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":1.0000000150474662e+30}",
        "\"step\":2,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":-0}",
        "\"step\":3,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":\"NaN\"}",
        "\"step\":4,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":\"Infinity\"}",
        "\"step\":5,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":\"-Infinity\"}",
        "\"step\":6,\"wall_time\":1700000000.5,\"kind\":\"scalar\",\"value\":0.5}"};
    cr_assert_eq(count_lines(out), 7, "%s", out);
    char *line = out;
    for (int i = 0; i < 7; i++) {
        char *end = strchr(line, '\n');
        *end = '\0';
        cr_assert(strstr(line, want[i]), "line %d: %s\nwant: %s", i, line, want[i]);
        line = end + 1;
    }
    free(out);

    cr_assert_eq(gradboard(&out, NULL, "events --json %s/torch_writer_logs --run run_a --tag notes/text_summary",
                           GB_TESTDATA_DIR), 0);
    cr_assert(strstr(out, "\"kind\":\"text\",\"value\":\"hello **markdown** text\"}"), "%s", out);
    free(out);
}

Test(cli_events, csv_exports_one_series_and_refuses_an_ambiguous_tag)
{
    char *out, *err;
    cr_assert_eq(gradboard(&out, NULL, "events --csv --tag train/loss %s/torch_writer_logs", GB_TESTDATA_DIR), 0);
    cr_assert_eq(count_lines(out), 51);
    cr_assert_eq(strncmp(out, "wall_time,step,value\n", 21), 0, "%s", out);
    char *line = out + 21;
    for (int i = 0; i < 50; i++) {
        double wall_time, value;
        long step;
        cr_assert_eq(sscanf(line, "%lf,%ld,%lf", &wall_time, &step, &value), 3, "%s", line);
        cr_assert_eq(step, i);
        cr_assert_eq((float)value, (float)exp(-i / 10.0), "step %d: %.9g", i, value);
        cr_assert_gt(wall_time, 1.7e9);
        line = strchr(line, '\n') + 1;
    }
    free(out);

    free(write_run("train", 5));
    free(write_run("eval", 5));
    cr_assert_eq(gradboard(&out, &err, "events --csv --tag loss %s", test_dir), 2);
    cr_assert(strstr(err, "several runs") && strstr(err, "--run"), "%s", err);
    free(out), free(err);
    cr_assert_eq(gradboard(&out, NULL, "events --csv --tag loss --run eval %s", test_dir), 0);
    cr_assert_str_eq(out, "wall_time,step,value\n1700000000.5,0,1\n1700000000.5,1,0.5\n"
                          "1700000000.5,2,0.3333333432674408\n1700000000.5,3,0.25\n1700000000.5,4,0.20000000298023224\n");
    free(out);
    cr_assert_eq(gradboard(&out, &err, "events --csv --tag nope %s", test_dir), 1);
    cr_assert(strstr(err, "no scalar tag 'nope'"), "%s", err);
    free(out), free(err);
}

Test(cli_events, check_passes_good_files_and_names_the_first_bad_record)
{
    char *path = write_run("run", 100);
    char *out, *err;
    cr_assert_eq(gradboard(&out, &err, "events --check %s", test_dir), 0, "%s", err);
    cr_assert(strstr(out, "checked 201 records"), "%s", out);
    cr_assert(strstr(out, "all ok"), "%s", out);
    free(out), free(err);

    size_t len;
    uint8_t *bytes = test_read_file(path, &len);
    /* record 0 is the file version; records 1.. are scalar events; damage record 3's data */
    size_t offset = 0;
    for (int record = 0; record < 3; record++) {
        uint64_t n = bytes[offset] | (uint64_t)bytes[offset + 1] << 8;
        offset += 16 + n;
    }
    bytes[offset + 14] ^= 1;
    cr_assert_eq(test_write_file(path, bytes, len), 0);
    cr_assert_eq(gradboard(&out, &err, "events --check %s", test_dir), 1);
    char want[800];
    snprintf(want, sizeof want, "%s: corrupt record at byte offset %zu: data checksum mismatch", path, offset);
    cr_assert(strstr(err, want), "stderr: %s\nwant: %s", err, want);
    cr_assert(strstr(out, "BAD"), "%s", out);
    free(out), free(err);

    /* a listing still shows what precedes the damage, and fails */
    cr_assert_eq(gradboard(&out, &err, "events %s", test_dir), 1);
    cr_assert(strstr(out, "loss"), "%s", out);
    free(out), free(err);

    /* a truncated tail: a warning when listing (a writer may be appending), an error for --check */
    bytes[offset + 14] ^= 1;
    cr_assert_eq(test_write_file(path, bytes, len - 5), 0);
    cr_assert_eq(gradboard(&out, &err, "events %s", test_dir), 0);
    cr_assert(strstr(err, "warning") && strstr(err, "truncated record"), "%s", err);
    free(out), free(err);
    cr_assert_eq(gradboard(&out, &err, "events --check %s", path), 1);
    cr_assert(strstr(err, "truncated record at byte offset"), "%s", err);
    free(out), free(err);
    free(bytes);
    free(path);
}

Test(cli_events, lists_every_summary_kind)
{
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/kinds", test_dir);
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, logdir, NULL), GB_OK);
    float values[4] = {1, 2, 3, 4};
    uint8_t px[12] = {0};
    gb_image img = {2, 2, 3, GB_PIXELS_U8, px};
    uint8_t labels[4] = {0, 1, 1, 0};
    gb_hparam hp = gb_hparam_number("lr", 0.1);
    const char *tags[] = {"x"};
    gb_custom_chart chart = {"c", 1, tags, NULL, NULL, NULL};
    gb_custom_category category = {"cat", 1, &chart, 0};
    gb_graphdef *gd = gb_graphdef_new();
    gb_graphdef_node(gd, "a", "Const", NULL);
    cr_assert_eq(gb_summary_scalar(w, "x", 0, 1), GB_OK);
    cr_assert_eq(gb_summary_histogram(w, "h", 0, values, 4, 0), GB_OK);
    cr_assert_eq(gb_summary_images(w, "i", 0, &img, 1), GB_OK);
    cr_assert_eq(gb_summary_text(w, "t", 0, "hi"), GB_OK);
    cr_assert_eq(gb_summary_audio(w, "a", 0, values, 4, 1, 8000), GB_OK);
    cr_assert_eq(gb_summary_pr_curve(w, "p", 0, labels, values, 4, 0), GB_OK);
    cr_assert_eq(gb_summary_hparams_start(w, &hp, 1, NULL), GB_OK);
    cr_assert_eq(gb_summary_custom_scalars(w, 1, &category), GB_OK);
    cr_assert_eq(gb_writer_add_graphdef(w, gd), GB_OK);
    gb_graphdef_free(gd);
    cr_assert_eq(gb_writer_close(w), GB_OK);
    char *out;
    cr_assert_eq(gradboard(&out, NULL, "events %s", logdir), 0);
    const char *kinds[] = {"scalar", "histogram", "image", "text", "audio", "pr_curve", "hparams", "custom_scalars", "graph"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) cr_assert(strstr(out, kinds[i]), "%s missing:\n%s", kinds[i], out);
    free(out);
    cr_assert_eq(gradboard(&out, NULL, "events --json %s", logdir), 0);
    cr_assert(strstr(out, "\"kind\":\"histogram\"") && strstr(out, "\"kind\":\"graph\""), "%s", out);
    free(out);
}

Test(cli_events, tag_filters_every_mode_and_a_missing_tag_is_an_error)
{
    free(write_run("train", 3));
    free(write_run("eval", 2));
    char *out, *err;
    cr_assert_eq(gradboard(&out, &err, "events %s --tag loss", test_dir), 0, "%s", err);
    cr_assert(strstr(out, "run train") && strstr(out, "run eval"), "%s", out);
    cr_assert(strstr(out, "  loss "), "%s", out);
    cr_assert_null(strstr(out, "acc"), "the listing shows other tags:\n%s", out);
    free(out), free(err);

    cr_assert_eq(gradboard(&out, &err, "events %s --tag loss --run eval", test_dir), 0, "%s", err);
    cr_assert(strstr(out, "run eval") && !strstr(out, "run train"), "%s", out);
    free(out), free(err);

    cr_assert_eq(gradboard(&out, &err, "events %s --tag nope", test_dir), 1);
    cr_assert(strstr(err, "no tag 'nope'"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out), free(err);

    cr_assert_eq(gradboard(&out, &err, "events --json %s --tag nope", test_dir), 1);
    cr_assert(strstr(err, "no tag 'nope'"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out), free(err);

    cr_assert_eq(gradboard(&out, NULL, "events --json %s --tag acc", test_dir), 0);
    cr_assert_eq(count_lines(out), 5, "%s", out);
    cr_assert_null(strstr(out, "\"loss\""), "%s", out);
    free(out);

    cr_assert_eq(gradboard(&out, &err, "events --check %s --tag loss", test_dir), 2);
    cr_assert(strstr(err, "--check") && strstr(err, "--tag"), "%s", err);
    free(out), free(err);
}

Test(cli_events, json_writes_an_empty_text_as_an_empty_string)
{
    gb_writer *w;
    cr_assert_eq(gb_writer_open(&w, test_dir, NULL), GB_OK);
    cr_assert_eq(gb_summary_text(w, "empty", 0, ""), GB_OK);
    cr_assert_eq(gb_writer_close(w), GB_OK);
    char *out;
    cr_assert_eq(gradboard(&out, NULL, "events --json %s --tag empty", test_dir), 0);
    cr_assert(strstr(out, "\"kind\":\"text\",\"value\":\"\"}"), "%s", out);
    free(out);
}
