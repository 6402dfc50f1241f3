/* `gradboard events PATH`: list, export (JSON lines, CSV) or check TensorBoard event files. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gradboard/summary.h"

typedef enum { MODE_LIST, MODE_JSON, MODE_CSV, MODE_CHECK } events_mode;

typedef struct events_args {
    events_mode mode;
    const char *path;
    const char *tag;  /* NULL: every tag */
    const char *run;  /* NULL: every run */
} events_args;

/* One run to read: its name relative to PATH ("." for PATH itself) and where it is. */
typedef struct run_ref {
    const char *name;
    char *path;
    int is_file;
} run_ref;

static void events_usage(FILE *out)
{
    fprintf(out,
            "usage: gradboard events PATH [--json | --csv --tag TAG | --check] [--tag TAG] [--run RUN]\n"
            "\n"
            "PATH is a log directory (every run under it), a run directory or one event file.\n"
            "\n"
            "  (default)    per run: every tag with its plugin, kind, count, first/last step, last value\n"
            "  --json       one JSON object per line for every value:\n"
            "               {\"run\",\"tag\",\"step\",\"wall_time\",\"kind\",\"value\"} (value for scalars, text)\n"
            "  --csv        the scalar series of --tag as CSV: wall_time,step,value\n"
            "  --check      verify every record's checksums and framing; names the file and byte\n"
            "               offset of the first bad record of each file\n"
            "  --tag TAG    only this tag (listing, --json, --csv); a tag no run has is an error\n"
            "  --run RUN    only this run (its name as the listing shows it)\n"
            "  -h, --help   this help\n"
            "\n"
            "exit codes: 0 ok, 1 data error (unreadable, corrupt or truncated data; tag not found),\n"
            "            2 usage error\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("gradboard events: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see 'gradboard events --help')\n", stderr);
    return EXIT_USAGE;
}

/* Returns -1 when the arguments are fine, else the exit code (help or usage error). */
static int parse_args(int argc, char **argv, events_args *args)
{
    memset(args, 0, sizeof *args);
    int modes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            events_usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            args->mode = MODE_JSON, modes++;
        } else if (!strcmp(a, "--csv")) {
            args->mode = MODE_CSV, modes++;
        } else if (!strcmp(a, "--check")) {
            args->mode = MODE_CHECK, modes++;
        } else if (!strcmp(a, "--tag") || !strcmp(a, "--run")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            *(a[2] == 't' ? &args->tag : &args->run) = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (args->path) {
            return usage_error("one PATH only; '%s' is a second one", a);
        } else {
            args->path = a;
        }
    }
    if (!args->path) return usage_error("%s", "missing PATH");
    if (modes > 1) return usage_error("%s", "--json, --csv and --check exclude each other");
    if (args->mode == MODE_CSV && !args->tag) return usage_error("%s", "--csv needs --tag TAG");
    if (args->mode == MODE_CHECK && args->tag) /* it checks whole files: a tag would be ignored */
        return usage_error("%s", "--check verifies whole files and takes no --tag");
    return -1;
}

/* ---- finding the runs ---- */

static void free_runs(run_ref *runs, size_t n, char **names, size_t name_count)
{
    for (size_t i = 0; i < n; i++) free(runs[i].path);
    free(runs);
    gb_string_list_free(names, name_count);
}

/* Resolves PATH into runs. Returns EXIT_OK or EXIT_DATA_ERROR (message printed). */
static int find_runs(const events_args *args, run_ref **out, size_t *count, char ***names_out,
                     size_t *name_count)
{
    *out = NULL, *count = 0, *names_out = NULL, *name_count = 0;
    struct stat st;
    if (stat(args->path, &st) != 0) {
        fprintf(stderr, "gradboard events: %s: %s\n", args->path, strerror(errno));
        return EXIT_DATA_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_ref *one = calloc(1, sizeof *one);
        if (!one || !(one->path = strdup(args->path))) {
            free(one);
            fprintf(stderr, "gradboard events: out of memory\n");
            return EXIT_DATA_ERROR;
        }
        one->name = ".";
        one->is_file = 1;
        *out = one, *count = 1;
        return EXIT_OK;
    }
    char **names;
    size_t n;
    if (gb_logdir_runs(args->path, &names, &n) != GB_OK) {
        fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
        return EXIT_DATA_ERROR;
    }
    run_ref *runs = calloc(n ? n : 1, sizeof *runs);
    size_t kept = 0;
    for (size_t i = 0; runs && i < n; i++) {
        if (args->run && strcmp(args->run, names[i]) != 0) continue;
        size_t len = strlen(args->path) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (!p) break;
        if (!strcmp(names[i], "."))
            snprintf(p, len, "%s", args->path);
        else
            snprintf(p, len, "%s/%s", args->path, names[i]);
        runs[kept].name = names[i];
        runs[kept].path = p;
        kept++;
    }
    if (!runs || (kept < n && !args->run)) {
        free_runs(runs, kept, names, n);
        fprintf(stderr, "gradboard events: out of memory\n");
        return EXIT_DATA_ERROR;
    }
    if (n == 0) {
        free_runs(runs, kept, names, n);
        fprintf(stderr, "gradboard events: %s: no event files (names containing 'tfevents') in it or below\n",
                args->path);
        return EXIT_DATA_ERROR;
    }
    if (kept == 0) {
        free_runs(runs, kept, names, n);
        fprintf(stderr, "gradboard events: no run named '%s' under %s\n", args->run, args->path);
        return EXIT_DATA_ERROR;
    }
    *out = runs, *count = kept, *names_out = names, *name_count = n;
    return EXIT_OK;
}

/* ---- reading a run, whatever the mode does with each event ---- */

typedef int (*event_fn)(void *ctx, const run_ref *run, const gb_event *ev);

/* Reads every event of run. A truncated tail is a warning (a writer may still be appending);
 * any other error is reported and makes the result EXIT_DATA_ERROR. */
static int read_run(const run_ref *run, gb_event_reader **reader_out, event_fn fn, void *ctx)
{
    gb_event_reader *r;
    if (gb_event_reader_open(&r, run->path) != GB_OK) {
        fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
        return EXIT_DATA_ERROR;
    }
    int result = EXIT_OK;
    const gb_event *ev;
    gb_status st;
    while ((st = gb_event_reader_next(r, &ev)) != GB_END) {
        if (st == GB_ETRUNCATED) {
            fprintf(stderr, "gradboard events: warning: %s (incomplete last record ignored)\n", gb_errmsg());
            continue;
        }
        if (st != GB_OK) {
            fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
            result = EXIT_DATA_ERROR;
            continue;
        }
        if (fn(ctx, run, ev) != 0) {
            fprintf(stderr, "gradboard events: out of memory\n");
            result = EXIT_DATA_ERROR;
            break;
        }
    }
    if (reader_out)
        *reader_out = r;
    else
        gb_event_reader_close(r);
    return result;
}

/* ---- listing ---- */

static int table_add(void *ctx, const run_ref *run, const gb_event *ev)
{
    (void)run;
    return events_table_add(ctx, ev);
}

static int run_has_tag(const gb_event_reader *r, const char *tag)
{
    for (size_t i = 0; i < gb_event_reader_tag_count(r); i++)
        if (!strcmp(gb_event_reader_tag(r, i), tag)) return 1;
    return 0;
}

/* Prints the run's table (with --tag: only that row, and nothing for a run without the tag).
 * *listed counts the runs printed, which also decides the blank line between them. */
static int list_run(const run_ref *run, const char *tag, size_t *listed)
{
    events_table *table = events_table_new();
    if (!table) {
        fprintf(stderr, "gradboard events: out of memory\n");
        return EXIT_DATA_ERROR;
    }
    gb_event_reader *r = NULL;
    int result = read_run(run, &r, table_add, table);
    if (r && (!tag || run_has_tag(r, tag))) {
        if ((*listed)++) putchar('\n');
        size_t files = gb_event_reader_file_count(r);
        printf("run %s  (%zu event file%s, %zu events)\n", run->name, files, files == 1 ? "" : "s",
               events_table_event_count(table));
        events_table_print(table, r, tag, stdout);
    }
    gb_event_reader_close(r);
    events_table_free(table);
    return result;
}

/* ---- JSON lines ---- */

static const char *session_status_name(int status)
{
    switch (status) {
    case 1: return "START";
    case 2: return "STOP";
    case 3: return "CHECKPOINT";
    default: return "UNKNOWN";
    }
}

static void json_head(const run_ref *run)
{
    fputs("{\"run\":", stdout);
    json_string(stdout, run->name, strlen(run->name));
}

static void json_step_time(const gb_event *ev)
{
    printf(",\"step\":%lld,\"wall_time\":", (long long)gb_event_step(ev));
    json_number(stdout, gb_event_wall_time(ev));
}

typedef struct json_filter {
    const char *tag;   /* NULL: every value and session log */
    uint64_t matched;  /* values written that have that tag */
} json_filter;

static int json_event(void *ctx, const run_ref *run, const gb_event *ev)
{
    json_filter *filter = ctx;
    const char *tag_filter = filter->tag;
    gb_event_type type = gb_event_type_of(ev);
    if (type == GB_EVENT_SESSION_LOG && !tag_filter) {
        json_head(run);
        json_step_time(ev);
        printf(",\"kind\":\"session_log\",\"status\":\"%s\"}\n",
               session_status_name(gb_event_session_status(ev)));
        return 0;
    }
    for (size_t i = 0; i < gb_event_value_count(ev); i++) {
        const char *tag = gb_event_value_tag(ev, i);
        if (tag_filter && strcmp(tag, tag_filter) != 0) continue;
        filter->matched++;
        json_head(run);
        fputs(",\"tag\":", stdout);
        json_string(stdout, tag, strlen(tag));
        json_step_time(ev);
        gb_value_kind kind = gb_event_value_kind(ev, i);
        printf(",\"kind\":\"%s\"", gb_value_kind_name(kind));
        double v;
        size_t len;
        const char *text;
        if (gb_event_value_scalar(ev, i, &v) == GB_OK) {
            fputs(",\"value\":", stdout);
            json_number(stdout, v);
        } else if (kind == GB_VALUE_TEXT && (text = gb_event_value_string(ev, i, &len)) != NULL) {
            fputs(",\"value\":", stdout);
            json_string(stdout, text, len);
        }
        fputs("}\n", stdout);
    }
    return 0;
}

/* ---- CSV of one series ---- */

typedef struct series_point {
    double wall_time;
    int64_t step;
    double value;
} series_point;

typedef struct series {
    const char *tag;
    series_point *points;
    size_t count, capacity;
} series;

static int series_add(void *ctx, const run_ref *run, const gb_event *ev)
{
    (void)run;
    series *s = ctx;
    for (size_t i = 0; i < gb_event_value_count(ev); i++) {
        double v;
        if (strcmp(gb_event_value_tag(ev, i), s->tag) != 0 || gb_event_value_scalar(ev, i, &v) != GB_OK)
            continue;
        if (s->count == s->capacity) {
            size_t capacity = s->capacity ? 2 * s->capacity : 1024;
            series_point *p = realloc(s->points, capacity * sizeof *p);
            if (!p) return -1;
            s->points = p, s->capacity = capacity;
        }
        s->points[s->count++] = (series_point){gb_event_wall_time(ev), gb_event_step(ev), v};
    }
    return 0;
}

static void csv_number(double v)
{
    if (isnan(v)) {
        fputs("nan", stdout);
    } else if (isinf(v)) {
        fputs(v > 0 ? "inf" : "-inf", stdout);
    } else {
        char buf[40];
        format_double(buf, sizeof buf, v);
        fputs(buf, stdout);
    }
}

static int export_csv(const events_args *args, const run_ref *runs, size_t run_count)
{
    series found = {0}, current = {.tag = args->tag};
    const char *found_run = NULL;
    int result = EXIT_OK;
    for (size_t i = 0; i < run_count && result == EXIT_OK; i++) {
        current.count = 0;
        if (read_run(&runs[i], NULL, series_add, &current) != EXIT_OK) result = EXIT_DATA_ERROR;
        if (current.count == 0) continue;
        if (found_run) {
            fprintf(stderr,
                    "gradboard events: tag '%s' is in several runs ('%s' and '%s'); choose one with --run\n",
                    args->tag, found_run, runs[i].name);
            result = EXIT_USAGE;
            break;
        }
        found_run = runs[i].name;
        series swap = found;
        found = current;
        current = swap;
        current.tag = args->tag;
    }
    if (result == EXIT_OK && !found_run) {
        fprintf(stderr, "gradboard events: no scalar tag '%s' in %s\n", args->tag, args->path);
        result = EXIT_DATA_ERROR;
    }
    if (result == EXIT_OK) {
        puts("wall_time,step,value");
        for (size_t i = 0; i < found.count; i++) {
            csv_number(found.points[i].wall_time);
            printf(",%lld,", (long long)found.points[i].step);
            csv_number(found.points[i].value);
            putchar('\n');
        }
    }
    free(found.points);
    free(current.points);
    return result;
}

/* ---- checking every record ---- */

typedef struct check_totals {
    uint64_t records, bytes;
    size_t files, bad_files;
} check_totals;

static int check_file(const char *path, check_totals *totals)
{
    gb_record_reader *rr;
    totals->files++;
    if (gb_record_reader_open(&rr, path) != GB_OK) {
        fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
        totals->bad_files++;
        return EXIT_DATA_ERROR;
    }
    const uint8_t *data;
    size_t len;
    uint64_t records = 0, bytes = 0;
    gb_status st;
    int bad_event = 0;
    while ((st = gb_record_reader_next(rr, &data, &len)) == GB_OK) {
        if (gb_event_check(data, len) != GB_OK) {
            fprintf(stderr, "gradboard events: %s: record at byte offset %llu is not an Event: %s\n", path,
                    (unsigned long long)gb_record_reader_offset(rr), gb_errmsg());
            bad_event = 1;
            break;
        }
        records++;
        bytes += len + GB_RECORD_OVERHEAD;
    }
    if (!bad_event && st != GB_END) fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
    gb_record_reader_close(rr);
    totals->records += records;
    totals->bytes += bytes;
    if (st != GB_END) {
        totals->bad_files++;
        printf("BAD %s  (%llu good records before the bad one)\n", path, (unsigned long long)records);
        return EXIT_DATA_ERROR;
    }
    printf("ok  %s  (%llu records, %llu bytes)\n", path, (unsigned long long)records,
           (unsigned long long)bytes);
    return EXIT_OK;
}

static int check_runs(const run_ref *runs, size_t run_count)
{
    check_totals totals = {0};
    int result = EXIT_OK;
    for (size_t i = 0; i < run_count; i++) {
        if (runs[i].is_file) {
            if (check_file(runs[i].path, &totals) != EXIT_OK) result = EXIT_DATA_ERROR;
            continue;
        }
        char **files;
        size_t n;
        if (gb_run_event_files(runs[i].path, &files, &n) != GB_OK) {
            fprintf(stderr, "gradboard events: %s\n", gb_errmsg());
            result = EXIT_DATA_ERROR;
            continue;
        }
        for (size_t k = 0; k < n; k++)
            if (check_file(files[k], &totals) != EXIT_OK) result = EXIT_DATA_ERROR;
        gb_string_list_free(files, n);
    }
    printf("checked %llu records (%llu bytes) in %zu file%s: %s\n", (unsigned long long)totals.records,
           (unsigned long long)totals.bytes, totals.files, totals.files == 1 ? "" : "s",
           totals.bad_files ? "BAD" : "all ok");
    if (totals.bad_files) printf("%zu file%s with errors\n", totals.bad_files, totals.bad_files == 1 ? "" : "s");
    return result;
}

/* A --tag that no run has is a data error, as the help says; nothing else was printed for it. */
static int no_such_tag(const events_args *args)
{
    fprintf(stderr, "gradboard events: no tag '%s' in %s%s%s\n", args->tag, args->path, args->run ? ", run " : "",
            args->run ? args->run : "");
    return EXIT_DATA_ERROR;
}

int cmd_events(int argc, char **argv)
{
    events_args args;
    int early = parse_args(argc, argv, &args);
    if (early >= 0) return early;

    run_ref *runs;
    size_t run_count, name_count;
    char **names;
    int result = find_runs(&args, &runs, &run_count, &names, &name_count);
    if (result != EXIT_OK) return result;

    switch (args.mode) {
    case MODE_LIST: {
        size_t listed = 0;
        for (size_t i = 0; i < run_count; i++)
            if (list_run(&runs[i], args.tag, &listed) != EXIT_OK) result = EXIT_DATA_ERROR;
        if (args.tag && listed == 0) result = no_such_tag(&args);
        break;
    }
    case MODE_JSON: {
        json_filter filter = {args.tag, 0};
        for (size_t i = 0; i < run_count; i++)
            if (read_run(&runs[i], NULL, json_event, &filter) != EXIT_OK) result = EXIT_DATA_ERROR;
        if (args.tag && filter.matched == 0) result = no_such_tag(&args);
        break;
    }
    case MODE_CSV:
        result = export_csv(&args, runs, run_count);
        break;
    case MODE_CHECK:
        result = check_runs(runs, run_count);
        break;
    }
    free_runs(runs, run_count, names, name_count);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gradboard events: writing the output failed: %s\n", strerror(errno));
        return EXIT_DATA_ERROR;
    }
    return result;
}
