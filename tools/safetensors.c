/* `gradboard ckpt export --safetensors` and `import`: the safetensors format (an 8-byte header
 * length, a JSON header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"

static const struct {
    int tf;
    const char *st;
} dtype_names[] = {{1, "F32"}, {2, "F64"}, {3, "I32"}, {9, "I64"}, {10, "BOOL"}, {4, "U8"}, {6, "I8"},
                   {5, "I16"}, {17, "U16"}, {22, "U32"}, {23, "U64"}, {19, "F16"}, {14, "BF16"}};

static const char *st_dtype(int tf)
{
    for (size_t i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
        if (dtype_names[i].tf == tf) return dtype_names[i].st;
    return NULL;
}

static int tf_dtype(const char *st, size_t len)
{
    for (size_t i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
        if (strlen(dtype_names[i].st) == len && !memcmp(dtype_names[i].st, st, len)) return dtype_names[i].tf;
    return 0;
}

int ckpt_export_safetensors(const char *prefix, const char *out_path)
{
    gb_bundle_reader *r;
    if (gb_bundle_reader_open(&r, prefix) != GB_OK) {
        fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
        return EXIT_DATA_ERROR;
    }
    /* the header, with offsets, in a memory stream */
    char *header;
    size_t header_len;
    FILE *h = open_memstream(&header, &header_len);
    uint64_t offset = 0;
    int first = 1;
    fputc('{', h);
    for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
        const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
        const char *dtype = st_dtype(e->dtype);
        if (!dtype) { /* a partitioned tensor is written whole: the reader assembles its slices */
            fprintf(stderr, "gradboard ckpt: %s (%s) has no safetensors form; left out\n", e->name, gb_tf_dtype_name(e->dtype));
            continue;
        }
        fputs(first ? "" : ",", h);
        first = 0;
        json_string(h, e->name, strlen(e->name));
        fprintf(h, ":{\"dtype\":\"%s\",\"shape\":[", dtype);
        for (int d = 0; d < e->rank; d++) fprintf(h, "%s%lld", d ? "," : "", (long long)e->dims[d]);
        fprintf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset, (unsigned long long)(offset + e->size));
        offset += e->size;
    }
    fprintf(h, "%s\"__metadata__\":{\"format\":\"pt\",\"source\":\"gradboard\"}}", first ? "" : ",");
    fclose(h);
    while (header_len % 8) header = realloc(header, header_len + 1), header[header_len++] = ' '; /* 8-byte aligned data */
    /* written under a temporary name and renamed when whole: a failed export leaves no half file,
     * and an earlier file of that name stays until the new one is complete */
    char *temp = malloc(strlen(out_path) + 32);
    if (temp) sprintf(temp, "%s.tmp%ld", out_path, (long)getpid());
    FILE *out = temp ? fopen(temp, "wb") : NULL;
    int result = EXIT_OK;
    if (!out) {
        fprintf(stderr, "gradboard ckpt: cannot create %s: %s\n", temp ? temp : out_path, temp ? strerror(errno) : "out of memory");
        result = EXIT_DATA_ERROR;
    } else {
        uint8_t n[8];
        for (int i = 0; i < 8; i++) n[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
        fwrite(n, 1, 8, out);
        fwrite(header, 1, header_len, out);
        for (size_t i = 0; i < gb_bundle_reader_count(r) && result == EXIT_OK; i++) {
            const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
            if (!st_dtype(e->dtype)) continue;
            void *data = malloc(e->size + 1);
            if (!data || gb_bundle_reader_read(r, e, data, (size_t)e->size) != GB_OK) {
                fprintf(stderr, "gradboard ckpt: %s\n", data ? gb_errmsg() : "out of memory");
                result = EXIT_DATA_ERROR;
            } else if (fwrite(data, 1, (size_t)e->size, out) != e->size) {
                fprintf(stderr, "gradboard ckpt: cannot write %s: %s\n", temp, strerror(errno));
                result = EXIT_DATA_ERROR;
            }
            free(data);
        }
        if (result == EXIT_OK && (fflush(out) != 0 || fsync(fileno(out)) != 0)) {
            fprintf(stderr, "gradboard ckpt: cannot write %s: %s\n", temp, strerror(errno));
            result = EXIT_DATA_ERROR;
        }
        if (fclose(out) != 0 && result == EXIT_OK) {
            fprintf(stderr, "gradboard ckpt: cannot write %s: %s\n", temp, strerror(errno));
            result = EXIT_DATA_ERROR;
        }
        if (result == EXIT_OK && rename(temp, out_path) != 0) {
            fprintf(stderr, "gradboard ckpt: cannot rename %s to %s: %s\n", temp, out_path, strerror(errno));
            result = EXIT_DATA_ERROR;
        }
        if (result != EXIT_OK) unlink(temp);
    }
    free(temp);
    free(header);
    gb_bundle_reader_close(r);
    return result;
}

/* ---- a small JSON reader for the header: objects, arrays, strings, integers ---- */

typedef struct json {
    const char *p, *end;
    int error;
} json;

static void skip_space(json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')) j->p++;
}

static int expect(json *j, char c)
{
    skip_space(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    j->error = 1;
    return 0;
}

/* A string without escapes beyond \" and \\ (names from PyTorch/safetensors writers); returns its
 * bytes in a new buffer. */
static char *parse_string(json *j, size_t *len)
{
    if (!expect(j, '"')) return NULL;
    char *out = malloc((size_t)(j->end - j->p) + 1);
    size_t n = 0;
    while (out && j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\' && j->p < j->end) {
            c = *j->p++;
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'u') { /* \uXXXX of ASCII only */
                unsigned v = 0;
                if (j->end - j->p < 4 || sscanf(j->p, "%4x", &v) != 1 || v > 0x7f) {
                    j->error = 1;
                    break;
                }
                j->p += 4;
                c = (char)v;
            }
        }
        out[n++] = c;
    }
    if (!out || j->p >= j->end || j->error) {
        free(out);
        j->error = 1;
        return NULL;
    }
    j->p++;
    out[n] = '\0';
    *len = n;
    return out;
}

static int parse_uint(json *j, uint64_t *out)
{
    skip_space(j);
    uint64_t v = 0;
    int digits = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9' && digits < 19) v = v * 10 + (uint64_t)(*j->p++ - '0'), digits++;
    if (!digits) j->error = 1;
    *out = v;
    return digits > 0;
}

static void skip_value(json *j, int depth)
{
    skip_space(j);
    if (j->p >= j->end || depth > 32) {
        j->error = 1;
        return;
    }
    char c = *j->p;
    if (c == '"') {
        size_t len;
        free(parse_string(j, &len));
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        skip_space(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return;
        }
        do {
            if (c == '{') {
                size_t len;
                free(parse_string(j, &len));
                expect(j, ':');
            }
            skip_value(j, depth + 1);
            skip_space(j);
        } while (!j->error && j->p < j->end && *j->p == ',' && j->p++);
        expect(j, close);
    } else {
        while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']') j->p++;
    }
}

int ckpt_import_safetensors(const char *in_path, const char *prefix)
{
    size_t size;
    FILE *f = fopen(in_path, "rb");
    if (!f) {
        fprintf(stderr, "gradboard ckpt: cannot open %s: %s\n", in_path, strerror(errno));
        return EXIT_DATA_ERROR;
    }
    fseek(f, 0, SEEK_END);
    long file_len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = file_len > 0 ? malloc((size_t)file_len) : NULL;
    size = bytes ? fread(bytes, 1, (size_t)file_len, f) : 0;
    fclose(f);
    uint64_t header_len = 0;
    for (int i = 0; i < 8 && size >= 8; i++) header_len |= (uint64_t)bytes[i] << (8 * i);
    if (!bytes || size < 8 || header_len > size - 8) {
        fprintf(stderr, "gradboard ckpt: %s: not a safetensors file (header length)\n", in_path);
        free(bytes);
        return EXIT_DATA_ERROR;
    }
    const uint8_t *data = bytes + 8 + header_len;
    uint64_t data_len = size - 8 - header_len;
    json j = {(const char *)bytes + 8, (const char *)data, 0};
    gb_bundle_writer *w;
    if (gb_bundle_writer_open(&w, prefix) != GB_OK) {
        fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
        free(bytes);
        return EXIT_DATA_ERROR;
    }
    int result = EXIT_OK;
    expect(&j, '{');
    skip_space(&j);
    while (!j.error && j.p < j.end && *j.p != '}' && result == EXIT_OK) {
        size_t name_len;
        char *name = parse_string(&j, &name_len);
        expect(&j, ':');
        if (!name || j.error) break;
        if (!strcmp(name, "__metadata__")) {
            skip_value(&j, 0);
        } else {
            char *dtype = NULL;
            size_t dtype_len = 0;
            int64_t dims[64];
            int rank = 0;
            uint64_t begin = 0, end = 0;
            int have_offsets = 0;
            expect(&j, '{');
            while (!j.error) {
                size_t key_len;
                char *key = parse_string(&j, &key_len);
                expect(&j, ':');
                if (!key) break;
                if (!strcmp(key, "dtype")) {
                    free(dtype);
                    dtype = parse_string(&j, &dtype_len);
                } else if (!strcmp(key, "shape")) {
                    expect(&j, '[');
                    skip_space(&j);
                    while (!j.error && j.p < j.end && *j.p != ']' && rank < 64) {
                        uint64_t v;
                        parse_uint(&j, &v);
                        dims[rank++] = (int64_t)v;
                        skip_space(&j);
                        if (j.p < j.end && *j.p == ',') j.p++;
                    }
                    expect(&j, ']');
                } else if (!strcmp(key, "data_offsets")) {
                    expect(&j, '[');
                    parse_uint(&j, &begin);
                    expect(&j, ',');
                    parse_uint(&j, &end);
                    expect(&j, ']');
                    have_offsets = 1;
                } else {
                    skip_value(&j, 1);
                }
                free(key);
                skip_space(&j);
                if (j.p < j.end && *j.p == ',') {
                    j.p++;
                    continue;
                }
                break;
            }
            expect(&j, '}');
            int tf = dtype ? tf_dtype(dtype, dtype_len) : 0;
            if (j.error || !tf || !have_offsets || begin > end || end > data_len) {
                fprintf(stderr, "gradboard ckpt: %s: tensor %s: a bad header entry\n", in_path, name);
                result = EXIT_DATA_ERROR;
            } else if (gb_bundle_add(w, name, tf, rank, dims, data + begin, (size_t)(end - begin)) != GB_OK) {
                fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
                result = EXIT_DATA_ERROR;
            }
            free(dtype);
        }
        free(name);
        skip_space(&j);
        if (j.p < j.end && *j.p == ',') j.p++;
        skip_space(&j);
    }
    if (j.error && result == EXIT_OK) {
        fprintf(stderr, "gradboard ckpt: %s: the JSON header does not parse\n", in_path);
        result = EXIT_DATA_ERROR;
    }
    free(bytes);
    if (result != EXIT_OK) {
        gb_bundle_writer_abort(w);
        return result;
    }
    if (gb_bundle_writer_finish(w) != GB_OK) {
        fprintf(stderr, "gradboard ckpt: %s\n", gb_errmsg());
        return EXIT_DATA_ERROR;
    }
    return EXIT_OK;
}
