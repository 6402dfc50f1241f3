/* IDX parsing, kept apart from file reading so the parser can be fuzzed on bytes. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int fm_idx_parse(const uint8_t *bytes, size_t len, int rank, fm_idx *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (len < 4) {
        snprintf(err, err_size, "%zu bytes, too short for an IDX header", len);
        return -1;
    }
    if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
        snprintf(err, err_size, "not an IDX file of unsigned bytes (magic %02x %02x %02x %02x)", bytes[0],
                 bytes[1], bytes[2], bytes[3]);
        return -1;
    }
    if (bytes[3] != rank) {
        snprintf(err, err_size, "an IDX file of rank %d where rank %d was expected", bytes[3], rank);
        return -1;
    }
    size_t header = 4 + 4 * (size_t)rank;
    if (len < header) {
        snprintf(err, err_size, "the header is cut short (%zu of %zu bytes)", len, header);
        return -1;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        out->dims[i] = read_be32(bytes + 4 + 4 * i);
        if (out->dims[i] != 0 && count > FM_IDX_MAX_BYTES / out->dims[i]) {
            snprintf(err, err_size, "dimension %d (%u) makes the data larger than %zu bytes", i, out->dims[i],
                     FM_IDX_MAX_BYTES);
            return -1;
        }
        count *= out->dims[i];
    }
    if (len - header != count) {
        snprintf(err, err_size, "the header promises %zu bytes of data but %zu follow", count, len - header);
        return -1;
    }
    out->data = malloc(count ? count : 1);
    if (!out->data) {
        snprintf(err, err_size, "out of memory for %zu bytes", count);
        return -1;
    }
    memcpy(out->data, bytes + header, count);
    out->rank = rank;
    out->count = count;
    return 0;
}

/* The whole (decompressed) content of path, at most limit bytes. */
static uint8_t *read_gzip(const char *path, size_t limit, size_t *len, char *err, size_t err_size)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return NULL;
    }
    size_t cap = 1 << 20, used = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            snprintf(err, err_size, "%s: out of memory", path);
            break;
        }
        if (used == cap) {
            if (cap > limit) {
                snprintf(err, err_size, "%s: larger than %zu bytes once decompressed", path, limit);
                break;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                snprintf(err, err_size, "%s: out of memory", path);
                break;
            }
            buf = bigger, cap *= 2;
        }
        unsigned want = cap - used > (1u << 30) ? 1u << 30 : (unsigned)(cap - used);
        int got = gzread(f, buf + used, want);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            snprintf(err, err_size, "%s: %s", path, code == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        if (got == 0) {
            /* gzread returns 0 both at the end and on a stream cut short; gzerror tells them apart */
            int code;
            const char *msg = gzerror(f, &code);
            if (code != Z_OK && code != Z_STREAM_END) {
                snprintf(err, err_size, "%s: %s", path, msg);
                break;
            }
            gzclose(f);
            *len = used;
            return buf;
        }
        used += (size_t)got;
    }
    free(buf);
    gzclose(f);
    return NULL;
}

int fm_idx_load(const char *path, int rank, fm_idx *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    size_t len;
    errno = 0;
    uint8_t *bytes = read_gzip(path, FM_IDX_MAX_BYTES + 64, &len, err, err_size);
    if (!bytes) return -1;
    char why[200];
    int rc = fm_idx_parse(bytes, len, rank, out, why, sizeof why);
    if (rc != 0) snprintf(err, err_size, "%s: %s", path, why);
    free(bytes);
    return rc;
}

void fm_idx_free(fm_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
