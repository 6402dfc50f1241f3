/* `gradboard ckpt`: list, show, verify, compare TensorFlow-format checkpoints; find the latest. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"
#include "gradboard/tensor.h"
#include "gradboard/writer.h"

/* verify and diff: nothing wrong or different found, but some tensors could not be checked or
 * compared (dtypes the tool cannot read): never 0, which would claim they were. */
enum { EXIT_NOT_CHECKED = 3 };

static void ckpt_usage(FILE *out)
{
    fprintf(out,
            "usage: gradboard ckpt <command> ...\n"
            "\n"
            "  ls PREFIX|DIR [--json]            tensors: name, dtype, shape, bytes\n"
            "  show PREFIX|DIR NAME [--all] [--json]\n"
            "                                    a tensor's values (large ones summarised unless --all);\n"
            "                                    strings print as Python bytes literals (b'a\\xff')\n"
            "  verify PREFIX|DIR                 read every tensor (partitioned ones' slices too) and\n"
            "                                    check every checksum\n"
            "  diff A B                          per tensor: max |a - b| (integers exactly, complex\n"
            "                                    numbers per part), differing strings, names only in one\n"
            "  latest DIR                        the newest checkpoint named by DIR/checkpoint\n"
            "  export PREFIX|DIR --safetensors OUT   write the tensors as a .safetensors file\n"
            "  import SAFETENSORS --to PREFIX    write a checkpoint from a .safetensors file\n"
            "\n"
            "PREFIX is what TensorFlow calls the checkpoint path (model.ckpt-1000, without .index);\n"
            "a directory means its latest checkpoint.\n"
            "show --json writes {\"name\",\"dtype\",\"shape\",\"values\"}: integers exact, NaN and infinities\n"
            "as the strings \"NaN\", \"Infinity\", \"-Infinity\", complex numbers as [real, imaginary]; a\n"
            "string tensor adds \"encoding\": \"utf-8\" (values are JSON strings) or, when any value is\n"
            "not UTF-8, \"base64\" (every value is its bytes in base64).\n"
            "exit codes: 0 ok (diff: no differences), 1 data error (unreadable or corrupt; diff: the\n"
            "checkpoints differ), 2 usage error, 3 verify/diff found nothing wrong or different but\n"
            "could not check or compare some tensors (dtypes it cannot read; each is named)\n");
}

static int usage_error(const char *message)
{
    fprintf(stderr, "gradboard ckpt: %s\n(see 'gradboard ckpt --help')\n", message);
    return EXIT_USAGE;
}

/* PREFIX or DIR (latest checkpoint) or PREFIX.index, as a new string. */
static char *resolve(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        char *latest = gb_latest_checkpoint(path);
        if (!latest) fprintf(stderr, "gradboard ckpt: %s: no checkpoint (%s)\n", path, gb_errmsg());
        return latest;
    }
    char *prefix = strdup(path);
    size_t len = prefix ? strlen(prefix) : 0;
    if (len > 6 && !strcmp(prefix + len - 6, ".index")) prefix[len - 6] = '\0';
    return prefix;
}

static gb_bundle_reader *open_checkpoint(const char *path, char **prefix_out)
{
    char *prefix = resolve(path);
    if (!prefix) return NULL;
    gb_bundle_reader *r;
    if (gb_bundle_reader_open(&r, prefix) != GB_OK) {
        fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
        free(prefix);
        return NULL;
    }
    if (prefix_out)
        *prefix_out = prefix;
    else
        free(prefix);
    return r;
}

static void print_shape(FILE *out, const gb_bundle_entry *e, int json)
{
    fputc('[', out);
    for (int d = 0; d < e->rank; d++) fprintf(out, "%s%lld", d ? (json ? "," : ", ") : "", (long long)e->dims[d]);
    fputc(']', out);
}

static int cmd_ls(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') return usage_error("ls: unknown option");
        else if (path) return usage_error("ls: one checkpoint only");
        else path = argv[i];
    }
    if (!path) return usage_error("ls: missing PREFIX or DIR");
    gb_bundle_reader *r = open_checkpoint(path, NULL);
    if (!r) return EXIT_DATA_ERROR;
    int width = 4;
    for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
        int len = (int)strlen(gb_bundle_reader_entry(r, i)->name);
        if (len > width) width = len;
    }
    if (!json) printf("%-*s  %-10s %-20s %12s\n", width, "name", "dtype", "shape", "bytes");
    for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
        const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
        if (json) {
            fputs("{\"name\":", stdout);
            json_string(stdout, e->name, strlen(e->name));
            printf(",\"dtype\":\"%s\",\"shape\":", gb_tf_dtype_name(e->dtype));
            print_shape(stdout, e, 1);
            printf(",\"bytes\":%llu}\n", (unsigned long long)e->size);
        } else {
            char shape[256];
            FILE *m = fmemopen(shape, sizeof shape, "w");
            print_shape(m, e, 0);
            fclose(m);
            printf("%-*s  %-10s %-20s %12llu\n", width, e->name, gb_tf_dtype_name(e->dtype), shape, (unsigned long long)e->size);
        }
    }
    gb_bundle_reader_close(r);
    return EXIT_OK;
}

/* How the tool reads a dtype's elements. Integers stay integers end to end: through a double,
 * int64 and uint64 values past 2^53 would print and compare wrong. */
typedef enum { KIND_NONE, KIND_INT, KIND_UINT, KIND_BOOL, KIND_FLOAT, KIND_COMPLEX, KIND_STRING } value_kind;

static value_kind kind_of(int dtype)
{
    switch (dtype) {
    case 3: case 5: case 6: case 9: case 11: case 13: case 15: return KIND_INT; /* int32/16/8/64, qint8/32/16 */
    case 4: case 12: case 16: case 17: case 22: case 23: return KIND_UINT;       /* uint8, quint8/16, uint16/32/64 */
    case 10: return KIND_BOOL;
    case 1: case 2: case 14: case 19: case 24: case 25: return KIND_FLOAT; /* float32/64, bfloat16, half, float8s */
    case 8: case 18: return KIND_COMPLEX;
    case GB_DT_STRING: return KIND_STRING;
    default: return KIND_NONE; /* resources, variants, unknown */
    }
}

static int64_t int_at(const void *data, int dtype, int64_t i)
{
    switch (dtype) {
    case 3: case 13: return ((const int32_t *)data)[i];
    case 5: case 15: return ((const int16_t *)data)[i];
    case 6: case 11: return ((const int8_t *)data)[i];
    default: return ((const int64_t *)data)[i];
    }
}

static uint64_t uint_at(const void *data, int dtype, int64_t i)
{
    switch (dtype) {
    case 4: case 12: return ((const uint8_t *)data)[i];
    case 10: return ((const uint8_t *)data)[i] != 0;
    case 16: case 17: return ((const uint16_t *)data)[i];
    case 22: return ((const uint32_t *)data)[i];
    default: return ((const uint64_t *)data)[i];
    }
}

/* A float of `mantissa` fraction bits and an exponent of `bias`, from its sign, biased exponent
 * field and fraction; all_ones_inf: the largest exponent means inf/NaN (IEEE), else only the
 * all-ones pattern is NaN (float8_e4m3fn). */
static double small_float(unsigned sign, unsigned exponent, unsigned fraction, int exponent_bits, int mantissa, int bias,
                          int all_ones_inf)
{
    unsigned top = (1u << exponent_bits) - 1;
    double v;
    if (all_ones_inf && exponent == top) v = fraction ? NAN : INFINITY;
    else if (!all_ones_inf && exponent == top && fraction == (1u << mantissa) - 1) v = NAN;
    else if (exponent == 0) v = ldexp(fraction, 1 - bias - mantissa);
    else v = ldexp(fraction | 1u << mantissa, (int)exponent - bias - mantissa);
    return sign ? -v : v;
}

static double float_at(const void *data, int dtype, int64_t i)
{
    switch (dtype) {
    case 1: return ((const float *)data)[i];
    case 2: return ((const double *)data)[i];
    case 14: { /* bfloat16: the top half of a float32 */
        uint32_t bits = (uint32_t)((const uint16_t *)data)[i] << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    case 19: {
        uint16_t h = ((const uint16_t *)data)[i];
        return small_float(h >> 15, h >> 10 & 0x1f, h & 0x3ff, 5, 10, 15, 1);
    }
    case 24: { /* float8_e5m2: the top byte of a half */
        uint8_t b = ((const uint8_t *)data)[i];
        return small_float(b >> 7, b >> 2 & 0x1f, b & 0x3, 5, 2, 15, 1);
    }
    default: {
        uint8_t b = ((const uint8_t *)data)[i];
        return small_float(b >> 7, b >> 3 & 0xf, b & 0x7, 4, 3, 7, 0);
    }
    }
}

/* Part 0 (real) or 1 (imaginary) of complex element i. */
static double complex_at(const void *data, int dtype, int64_t i, int part)
{
    return dtype == 8 ? ((const float *)data)[2 * i + part] : ((const double *)data)[2 * i + part];
}

/* A floating value in text: float64 with all its digits, narrower types as the float32 they
 * convert to exactly. */
static void print_float(FILE *out, int dtype, double v)
{
    char buf[48];
    if (dtype == 2 || dtype == 18) {
        if (isnan(v)) fputs("nan", out);
        else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", out);
        else format_double(buf, sizeof buf, v), fputs(buf, out);
    } else {
        fputs(gb_format_f32(buf, sizeof buf, (float)v), out);
    }
}

/* A floating value in JSON: whole numbers as integers (30, not 3e+01), others as json_number. */
static void json_float(FILE *out, double v)
{
    if (v == trunc(v) && fabs(v) < 0x1p53 && !(v == 0 && signbit(v))) fprintf(out, "%.0f", v);
    else json_number(out, v);
}

static void base64(FILE *out, const unsigned char *s, size_t len)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < len ? s[i + 2] : 0);
        fputc(digits[v >> 18], out), fputc(digits[v >> 12 & 63], out);
        fputc(i + 1 < len ? digits[v >> 6 & 63] : '=', out), fputc(i + 2 < len ? digits[v & 63] : '=', out);
    }
    fputc('"', out);
}

/* A string as a Python bytes literal, as TensorFlow and NumPy print string tensors: every byte
 * shows (b'w\x00rld\xff'), so nothing is lost or changed. */
static void print_bytes(FILE *out, const unsigned char *s, size_t len)
{
    fputs("b'", out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '\\' || c == '\'') fputc('\\', out), fputc(c, out);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c == '\r') fputs("\\r", out);
        else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\x%02x", c);
        else fputc(c, out);
    }
    fputc('\'', out);
}

/* A tensor's values as read: raw data, or for strings the strings. */
typedef struct tensor_values {
    const gb_bundle_entry *e;
    const void *data;
    char **strings;
    size_t *lens;
    int base64; /* JSON: strings are base64 (some are not UTF-8) */
} tensor_values;

static void print_element(FILE *out, const tensor_values *t, int64_t i, int json)
{
    int dtype = t->e->dtype;
    switch (kind_of(dtype)) {
    case KIND_INT: fprintf(out, "%lld", (long long)int_at(t->data, dtype, i)); break;
    case KIND_UINT: fprintf(out, "%llu", (unsigned long long)uint_at(t->data, dtype, i)); break;
    case KIND_BOOL: fputs(uint_at(t->data, dtype, i) ? (json ? "true" : "True") : (json ? "false" : "False"), out); break;
    case KIND_FLOAT:
        if (json) json_float(out, float_at(t->data, dtype, i));
        else print_float(out, dtype, float_at(t->data, dtype, i));
        break;
    case KIND_COMPLEX: {
        double re = complex_at(t->data, dtype, i, 0), im = complex_at(t->data, dtype, i, 1);
        if (json) {
            fputc('[', out), json_float(out, re), fputc(',', out), json_float(out, im), fputc(']', out);
        } else { /* NumPy's (1+2j) */
            fputc('(', out), print_float(out, dtype, re);
            if (!signbit(im) || isnan(im)) fputc('+', out);
            print_float(out, dtype, im), fputs("j)", out);
        }
        break;
    }
    case KIND_STRING:
        if (!json) print_bytes(out, (const unsigned char *)t->strings[i], t->lens[i]);
        else if (t->base64) base64(out, (const unsigned char *)t->strings[i], t->lens[i]);
        else json_string(out, t->strings[i], t->lens[i]);
        break;
    case KIND_NONE: break;
    }
}

/* NumPy-like nested printing of dims[axis..]; summarised axes show their first and last 3. */
static void print_array(FILE *out, const tensor_values *t, int axis, int64_t offset, int summarise, int json)
{
    const gb_bundle_entry *e = t->e;
    if (axis == e->rank) {
        print_element(out, t, offset, json);
        return;
    }
    int64_t stride = 1;
    for (int d = axis + 1; d < e->rank; d++) stride *= e->dims[d];
    fputc('[', out);
    int64_t n = e->dims[axis];
    for (int64_t i = 0; i < n; i++) {
        if (summarise && !json && n > 6 && i == 3) {
            fputs(axis == e->rank - 1 ? " ..." : "\n" "...", out);
            i = n - 3;
        }
        if (i) fputs(json ? "," : axis == e->rank - 1 ? " " : "\n ", out);
        print_array(out, t, axis + 1, offset + i * stride, summarise, json);
    }
    fputc(']', out);
}

/* Reads e's values into t (free with free_values). Returns the read's status. */
static gb_status read_values(gb_bundle_reader *r, const gb_bundle_entry *e, tensor_values *t)
{
    *t = (tensor_values){.e = e};
    if (e->dtype == GB_DT_STRING) {
        gb_status st = gb_bundle_reader_read_strings(r, e, &t->strings, &t->lens);
        for (int64_t i = 0; st == GB_OK && i < e->elements; i++) t->base64 |= !gb_utf8_valid(t->strings[i], t->lens[i]);
        return st;
    }
    void *data = malloc(e->size ? (size_t)e->size : 1);
    t->data = data;
    if (!data) return GB_ENOMEM;
    return gb_bundle_reader_read(r, e, data, (size_t)e->size);
}

static void free_values(tensor_values *t)
{
    free((void *)t->data), free(t->strings), free(t->lens);
}

static int cmd_show(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    int all = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--all")) all = 1;
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') return usage_error("show: unknown option");
        else if (!path) path = argv[i];
        else if (!name) name = argv[i];
        else return usage_error("show: PREFIX NAME only");
    }
    if (!path || !name) return usage_error("show: needs PREFIX (or DIR) and NAME");
    gb_bundle_reader *r = open_checkpoint(path, NULL);
    if (!r) return EXIT_DATA_ERROR;
    const gb_bundle_entry *e = gb_bundle_reader_find(r, name);
    int result = EXIT_OK;
    tensor_values t = {0};
    if (!e) {
        fprintf(stderr, "gradboard ckpt: no tensor named %s in %s\n", name, path);
        result = EXIT_DATA_ERROR;
    } else if (kind_of(e->dtype) == KIND_NONE) {
        fprintf(stderr, "gradboard ckpt: %s is %s, which this tool cannot print\n", name, gb_tf_dtype_name(e->dtype));
        result = EXIT_DATA_ERROR;
    } else if (read_values(r, e, &t) != GB_OK) {
        fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
        result = EXIT_DATA_ERROR;
    } else if (json) {
        fputs("{\"name\":", stdout);
        json_string(stdout, e->name, strlen(e->name));
        printf(",\"dtype\":\"%s\",\"shape\":", gb_tf_dtype_name(e->dtype));
        print_shape(stdout, e, 1);
        if (e->dtype == GB_DT_STRING) printf(",\"encoding\":\"%s\"", t.base64 ? "base64" : "utf-8");
        fputs(",\"values\":", stdout);
        print_array(stdout, &t, 0, 0, 0, 1);
        puts("}");
    } else {
        printf("tensor_name: %s (%s ", e->name, gb_tf_dtype_name(e->dtype));
        print_shape(stdout, e, 0);
        puts(")");
        print_array(stdout, &t, 0, 0, !all && e->elements > 1000, 0);
        putchar('\n');
    }
    free_values(&t);
    gb_bundle_reader_close(r);
    return result;
}

static int cmd_verify(int argc, char **argv)
{
    if (argc != 2) return usage_error("verify: needs exactly one PREFIX or DIR");
    char *prefix;
    gb_bundle_reader *r = open_checkpoint(argv[1], &prefix);
    if (!r) return EXIT_DATA_ERROR;
    size_t bad = 0, unchecked = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
        const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
        gb_status st = gb_bundle_reader_check(r, e);
        if (st == GB_EUNSUPPORTED) {
            fprintf(stderr, "gradboard ckpt: not checked: %s\n", gb_errmsg());
            unchecked++;
            continue;
        }
        if (st != GB_OK) {
            fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
            bad++;
        }
        bytes += e->size;
    }
    printf("%s: %zu tensors, %llu bytes: ", prefix, gb_bundle_reader_count(r), (unsigned long long)bytes);
    if (bad) printf("BAD (%zu tensors)\n", bad);
    else if (unchecked) printf("checksums ok, but %zu tensors not checked\n", unchecked);
    else puts("all checksums ok");
    gb_bundle_reader_close(r);
    free(prefix);
    return bad ? EXIT_DATA_ERROR : unchecked ? EXIT_NOT_CHECKED : EXIT_OK;
}

/* |x - y| for floating values, where equal values (infinities too) and two NaNs differ by 0 and
 * a NaN against a number by NaN. */
static double float_difference(double x, double y)
{
    if (x == y || (isnan(x) && isnan(y))) return 0;
    return fabs(x - y);
}

/* The larger difference, NaN counting as the largest. */
static double worse(double worst, double d)
{
    return isnan(worst) || d <= worst ? worst : d;
}

/* Compares two tensors of e's dtype and shape and prints one line. Returns 1 when they differ. */
static int compare_values(const char *name, const tensor_values *a, const tensor_values *b)
{
    int dtype = a->e->dtype;
    int64_t n = a->e->elements;
    value_kind kind = kind_of(dtype);
    if (kind == KIND_STRING) {
        int64_t differ = 0;
        for (int64_t k = 0; k < n; k++)
            differ += a->lens[k] != b->lens[k] || memcmp(a->strings[k], b->strings[k], a->lens[k]) != 0;
        if (differ) printf("%s: %lld of %lld strings differ\n", name, (long long)differ, (long long)n);
        else printf("%s: all %lld strings equal\n", name, (long long)n);
        return differ != 0;
    }
    if (kind == KIND_INT || kind == KIND_UINT || kind == KIND_BOOL) {
        uint64_t worst = 0; /* exact: the difference of two int64s fits in a uint64 */
        for (int64_t k = 0; k < n; k++) {
            uint64_t x, y;
            if (kind == KIND_INT) {
                int64_t sx = int_at(a->data, dtype, k), sy = int_at(b->data, dtype, k);
                x = (uint64_t)sx, y = (uint64_t)sy;
                if (sx < sy) x = (uint64_t)sy, y = (uint64_t)sx;
            } else {
                uint64_t ux = uint_at(a->data, dtype, k), uy = uint_at(b->data, dtype, k);
                x = ux < uy ? uy : ux, y = ux < uy ? ux : uy;
            }
            if (x - y > worst) worst = x - y;
        }
        printf("%s: max |a - b| = %llu\n", name, (unsigned long long)worst);
        return worst != 0;
    }
    double worst = 0;
    for (int64_t k = 0; k < n; k++) {
        if (kind == KIND_COMPLEX) {
            for (int part = 0; part < 2; part++)
                worst = worse(worst, float_difference(complex_at(a->data, dtype, k, part), complex_at(b->data, dtype, k, part)));
        } else {
            worst = worse(worst, float_difference(float_at(a->data, dtype, k), float_at(b->data, dtype, k)));
        }
    }
    char buf[40];
    format_double(buf, sizeof buf, worst);
    printf("%s: max |a - b| = %s%s\n", name, buf, kind == KIND_COMPLEX ? " (over real and imaginary parts)" : "");
    return worst != 0;
}

static int cmd_diff(int argc, char **argv)
{
    if (argc != 3) return usage_error("diff: needs two checkpoints");
    gb_bundle_reader *a = open_checkpoint(argv[1], NULL), *b = a ? open_checkpoint(argv[2], NULL) : NULL;
    if (!a || !b) {
        gb_bundle_reader_close(a);
        return EXIT_DATA_ERROR;
    }
    size_t differ = 0, not_compared = 0, errors = 0;
    for (size_t i = 0; i < gb_bundle_reader_count(a); i++) {
        const gb_bundle_entry *ea = gb_bundle_reader_entry(a, i), *eb = gb_bundle_reader_find(b, ea->name);
        if (!eb) {
            printf("%s: only in %s\n", ea->name, argv[1]);
            differ++;
            continue;
        }
        int same_shape = ea->rank == eb->rank && ea->dtype == eb->dtype;
        for (int d = 0; same_shape && d < ea->rank; d++) same_shape = ea->dims[d] == eb->dims[d];
        if (!same_shape) {
            printf("%s: %s vs %s, shapes or dtypes differ\n", ea->name, gb_tf_dtype_name(ea->dtype), gb_tf_dtype_name(eb->dtype));
            differ++;
            continue;
        }
        if (kind_of(ea->dtype) == KIND_NONE) {
            printf("%s: %s, cannot compare\n", ea->name, gb_tf_dtype_name(ea->dtype));
            not_compared++;
            continue;
        }
        tensor_values va, vb;
        gb_status st = read_values(a, ea, &va);
        if (st == GB_OK) st = read_values(b, eb, &vb);
        else vb = (tensor_values){0};
        if (st == GB_EUNSUPPORTED) {
            printf("%s: cannot compare (%s)\n", ea->name, gb_errmsg());
            not_compared++;
        } else if (st != GB_OK) {
            /* one unreadable tensor: said, and the others still compared */
            printf("%s: cannot compare, unreadable\n", ea->name);
            fprintf(stderr, "gradboard ckpt: %s\n", st == GB_ENOMEM ? "out of memory" : gb_errmsg());
            errors++;
        } else {
            differ += (size_t)compare_values(ea->name, &va, &vb);
        }
        free_values(&va), free_values(&vb);
    }
    for (size_t i = 0; i < gb_bundle_reader_count(b); i++)
        if (!gb_bundle_reader_find(a, gb_bundle_reader_entry(b, i)->name)) {
            printf("%s: only in %s\n", gb_bundle_reader_entry(b, i)->name, argv[2]);
            differ++;
        }
    if (not_compared || errors)
        fprintf(stderr, "gradboard ckpt: diff: %zu tensors not compared%s\n", not_compared + errors,
                differ ? "" : "; no differences in the others");
    gb_bundle_reader_close(a), gb_bundle_reader_close(b);
    return differ || errors ? EXIT_DATA_ERROR : not_compared ? EXIT_NOT_CHECKED : EXIT_OK;
}

static int cmd_latest(int argc, char **argv)
{
    if (argc != 2) return usage_error("latest: needs one DIR");
    char *latest = gb_latest_checkpoint(argv[1]);
    if (!latest) {
        fprintf(stderr, "gradboard ckpt: %s: no checkpoint (%s)\n", argv[1], gb_errmsg());
        return EXIT_DATA_ERROR;
    }
    puts(latest);
    free(latest);
    return EXIT_OK;
}

int cmd_ckpt(int argc, char **argv)
{
    if (argc < 2) {
        ckpt_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        ckpt_usage(stdout);
        return EXIT_OK;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            ckpt_usage(stdout);
            return EXIT_OK;
        }
    if (!strcmp(sub, "ls")) return cmd_ls(argc - 1, argv + 1);
    if (!strcmp(sub, "show")) return cmd_show(argc - 1, argv + 1);
    if (!strcmp(sub, "verify")) return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "diff")) return cmd_diff(argc - 1, argv + 1);
    if (!strcmp(sub, "latest")) return cmd_latest(argc - 1, argv + 1);
    if (!strcmp(sub, "export")) {
        if (argc != 5 || strcmp(argv[3], "--safetensors")) return usage_error("export: PREFIX --safetensors OUT");
        char *prefix = resolve(argv[2]);
        if (!prefix) return EXIT_DATA_ERROR;
        int result = ckpt_export_safetensors(prefix, argv[4]);
        free(prefix);
        return result;
    }
    if (!strcmp(sub, "import")) {
        if (argc != 5 || strcmp(argv[3], "--to")) return usage_error("import: SAFETENSORS --to PREFIX");
        return ckpt_import_safetensors(argv[2], argv[4]);
    }
    fprintf(stderr, "gradboard ckpt: unknown command '%s'\n", sub);
    ckpt_usage(stderr);
    return EXIT_USAGE;
}
