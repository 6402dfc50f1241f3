/* Reads a checkpoint bundle: the whole index parsed and checked at open, tensors read on demand
 * with their size and CRC checked. A partitioned variable's entry lists its slices, which
 * bundle_slices.c finds, checks and assembles, as TensorFlow's reader does. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradboard/checkpoint.h"
#include "gradboard/crc32c.h"
#include "internal/bundle_reader_impl.h"
#include "internal/error.h"
#include "internal/sstable.h"
#include "tensor_bundle.pb-c.h"

void gb_bundle_reader_close(gb_bundle_reader *r)
{
    if (!r) return;
    for (int i = 0; i < r->num_shards; i++)
        if (r->fds && r->fds[i] >= 0) close(r->fds[i]);
    free(r->fds), free(r->shard_sizes), free(r->entries), free(r->names), free(r->dims), free(r->prefix);
    free(r->slices), free(r->first_slice), free(r->slice_extents);
    free(r);
}

static gb_status read_file(const char *path, uint8_t **out, size_t *len)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gb_fail_errno(errno == ENOENT ? GB_ENOTFOUND : GB_EIO, errno, "checkpoint: cannot open %s", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > (1ULL << 31)) {
        close(fd);
        return gb_fail(GB_ECORRUPT, "checkpoint: %s is not a checkpoint index (size)", path);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return gb_fail(GB_ENOMEM, "checkpoint: no memory for %s", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            free(buf);
            close(fd);
            return gb_fail_errno(GB_EIO, n < 0 ? errno : EIO, "checkpoint: cannot read %s", path);
        }
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = size;
    return GB_OK;
}

static char *data_path(const char *prefix, int shard, int shards)
{
    size_t len = strlen(prefix) + 32;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.data-%05d-of-%05d", prefix, shard, shards);
    return p;
}

/* A TensorFlow V1 checkpoint is one table file at the prefix itself (TensorSliceWriter's, no
 * .index); it ends with the same table magic number as a V2 index. */
static int is_v1_checkpoint(const char *prefix)
{
    int fd = open(prefix, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat sb;
    uint8_t tail[8];
    int found = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= GB_SSTABLE_FOOTER_BYTES &&
                pread(fd, tail, sizeof tail, sb.st_size - (off_t)sizeof tail) == (ssize_t)sizeof tail;
    close(fd);
    uint64_t magic = 0;
    for (int k = 0; found && k < 8; k++) magic |= (uint64_t)tail[k] << (8 * k);
    return found && magic == GB_SSTABLE_MAGIC;
}

gb_status gb_bundle_reader_open(gb_bundle_reader **out, const char *prefix)
{
    *out = NULL;
    if (!prefix || !*prefix) return gb_fail(GB_EINVAL, "checkpoint: empty prefix");
    size_t plen = strlen(prefix);
    char *index_path = malloc(plen + 7);
    if (!index_path) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    memcpy(index_path, prefix, plen);
    memcpy(index_path + plen, ".index", 7);
    uint8_t *file = NULL;
    size_t len = 0;
    gb_status st = read_file(index_path, &file, &len);
    const char *data_part = strstr(prefix, ".data-");
    size_t stem = plen > 6 && !strcmp(prefix + plen - 6, ".index") ? plen - 6 : data_part ? (size_t)(data_part - prefix) : 0;
    if (st == GB_ENOTFOUND && stem) /* one of a checkpoint's files, whose index is also an SSTable */
        st = gb_fail(GB_ENOTFOUND, "checkpoint %s: that is one of a checkpoint's files; pass its prefix, %.*s", prefix,
                     (int)stem, prefix);
    else if (st == GB_ENOTFOUND && is_v1_checkpoint(prefix))
        st = gb_fail(GB_EUNSUPPORTED, "checkpoint %s is in TensorFlow's V1 format (one file, no .index), which gradboard "
                                      "does not read; TensorFlow can re-save it in the V2 format (its default since 1.2)",
                     prefix);
    if (st != GB_OK) {
        free(index_path);
        return st;
    }
    gb_sstable_entry *entries;
    size_t n;
    uint8_t *storage;
    st = gb_sstable_parse(file, len, index_path, &entries, &n, &storage);
    free(file);
    if (st != GB_OK) {
        free(index_path);
        return st;
    }
    gb_bundle_reader *r = calloc(1, sizeof *r);
    if (!r) {
        st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    r->prefix = strdup(prefix);
    if (n == 0 || entries[0].key_len != 0) {
        st = gb_fail(GB_ECORRUPT, "%s: the index has no header entry", index_path);
        goto done;
    }
    Gbpb__BundleHeaderProto *header = gbpb__bundle_header_proto__unpack(NULL, entries[0].value_len, entries[0].value);
    if (!header) {
        st = gb_fail(GB_ECORRUPT, "%s: the header does not parse", index_path);
        goto done;
    }
    int shards = header->num_shards, big = header->endianness != GBPB__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE;
    int bad_version = header->version && (header->version->producer < 0 || header->version->min_consumer > 1);
    for (size_t i = 0; header->version && i < header->version->n_bad_consumers; i++)
        bad_version |= header->version->bad_consumers[i] == 1;
    gbpb__bundle_header_proto__free_unpacked(header, NULL);
    if (shards < 1 || shards > 100000) st = gb_fail(GB_ECORRUPT, "%s: %d shards", index_path, shards);
    else if (big) st = gb_fail(GB_EUNSUPPORTED, "%s: a big-endian checkpoint", index_path);
    else if (bad_version) st = gb_fail(GB_EUNSUPPORTED, "%s: written for readers newer than this one", index_path);
    if (st != GB_OK) goto done;
    r->num_shards = shards;
    r->fds = malloc((size_t)shards * sizeof *r->fds);
    r->shard_sizes = calloc((size_t)shards, sizeof *r->shard_sizes);
    r->entries = calloc(n, sizeof *r->entries);
    size_t names_len = 0, n_dims = 0, n_slices = 0, n_extents = 0;
    for (size_t i = 1; i < n; i++) names_len += entries[i].key_len + 1;
    r->names = malloc(names_len + 1);
    if (!r->prefix || !r->fds || !r->shard_sizes || !r->entries || !r->names) {
        st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    for (int i = 0; i < shards; i++) {
        r->fds[i] = -1;
        char *path = data_path(prefix, i, shards);
        struct stat sb;
        if (!path || stat(path, &sb) != 0) {
            st = gb_fail_errno(GB_ENOTFOUND, errno, "checkpoint %s: data file %s is missing", prefix, path ? path : "");
            free(path);
            goto done;
        }
        r->shard_sizes[i] = (uint64_t)sb.st_size;
        free(path);
    }
    /* entries, checked one by one */
    Gbpb__BundleEntryProto **protos = calloc(n, sizeof *protos);
    if (!protos) {
        st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        goto done;
    }
    for (size_t i = 1; i < n && st == GB_OK; i++) {
        protos[i] = gbpb__bundle_entry_proto__unpack(NULL, entries[i].value_len, entries[i].value);
        if (!protos[i]) st = gb_fail(GB_ECORRUPT, "%s: the entry of %.*s does not parse", index_path, (int)entries[i].key_len,
                                     (const char *)entries[i].key);
        else if (protos[i]->shape) n_dims += protos[i]->shape->n_dim;
        if (st == GB_OK && !(entries[i].key_len && entries[i].key[0] == 0)) {
            n_slices += protos[i]->n_slices;
            for (size_t k = 0; k < protos[i]->n_slices; k++) n_extents += 2 * protos[i]->slices[k]->n_extent;
        }
    }
    if (st == GB_OK && !(r->dims = malloc((n_dims + 1) * sizeof *r->dims))) st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    if (st == GB_OK && (!(r->slices = malloc((n_slices + 1) * sizeof *r->slices)) ||
                        !(r->slice_extents = malloc((n_extents + 1) * sizeof *r->slice_extents)) ||
                        !(r->first_slice = calloc(n + 1, sizeof *r->first_slice))))
        st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    size_t name_at = 0, dim_at = 0;
    for (size_t i = 1; i < n && st == GB_OK; i++) {
        const Gbpb__BundleEntryProto *p = protos[i];
        gb_bundle_entry *e = &r->entries[r->n];
        memcpy(r->names + name_at, entries[i].key, entries[i].key_len);
        r->names[name_at + entries[i].key_len] = '\0';
        e->name = r->names + name_at;
        name_at += entries[i].key_len + 1;
        if (entries[i].key_len && entries[i].key[0] == 0) continue; /* a partition's slice: listed via its tensor */
        r->first_slice[r->n] = r->n_slices;
        e->dtype = (int)p->dtype;
        e->sliced = p->n_slices > 0;
        e->rank = p->shape ? (int)p->shape->n_dim : 0;
        e->dims = r->dims + dim_at;
        e->elements = 1;
        if (p->shape && p->shape->unknown_rank) st = gb_fail(GB_ECORRUPT, "%s: tensor %s has an unknown rank", index_path, e->name);
        for (int d = 0; d < e->rank && st == GB_OK; d++) {
            int64_t size = p->shape->dim[d]->size;
            if (size < 0 || (size && e->elements > INT64_MAX / size))
                st = gb_fail(GB_ECORRUPT, "%s: tensor %s has a bad dimension %lld", index_path, e->name, (long long)size);
            else
                e->elements *= size, r->dims[dim_at++] = size;
        }
        if (st != GB_OK) break;
        e->offset = (uint64_t)p->offset;
        e->size = (uint64_t)p->size;
        e->shard = p->shard_id;
        e->crc32c = gb_crc32c_unmask(p->crc32c);
        size_t esize = gb_tf_dtype_size(e->dtype);
        if (e->sliced) {
            e->offset = 0, e->shard = 0, e->crc32c = 0;
            st = gb_bundle_load_slices(r, e, entries, n, i, protos, index_path);
        } else if (p->offset < 0 || p->size < 0 || p->shard_id < 0 || p->shard_id >= shards) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s has a bad offset, size or shard", index_path, e->name);
        } else if (esize && (uint64_t)e->elements > UINT64_MAX / esize) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: its shape is too large", index_path, e->name);
        } else if (esize && (uint64_t)e->elements * esize != e->size) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: invalid size in bundle entry (%llu bytes for %lld %s elements)",
                         index_path, e->name, (unsigned long long)e->size, (long long)e->elements, gb_tf_dtype_name(e->dtype));
        } else if (!esize && e->dtype != GB_DT_STRING) {
            /* variants, resources: listed, not readable */
        } else if (e->offset > r->shard_sizes[e->shard] || e->size > r->shard_sizes[e->shard] - e->offset) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s lies past the end of its data file (bytes %llu..%llu of %llu)", index_path,
                         e->name, (unsigned long long)e->offset, (unsigned long long)(e->offset + e->size),
                         (unsigned long long)r->shard_sizes[e->shard]);
        }
        r->n++;
    }
    if (r->first_slice) r->first_slice[r->n] = r->n_slices;
    for (size_t i = 1; i < n; i++)
        if (protos[i]) gbpb__bundle_entry_proto__free_unpacked(protos[i], NULL);
    free(protos);
done:
    free(entries);
    free(storage);
    free(index_path);
    if (st != GB_OK) {
        gb_bundle_reader_close(r);
        return st;
    }
    *out = r;
    return GB_OK;
}

size_t gb_bundle_reader_count(const gb_bundle_reader *r) { return r ? r->n : 0; }
const gb_bundle_entry *gb_bundle_reader_entry(const gb_bundle_reader *r, size_t i) { return r && i < r->n ? &r->entries[i] : NULL; }

const gb_bundle_entry *gb_bundle_reader_find(const gb_bundle_reader *r, const char *name)
{
    size_t lo = 0, hi = r ? r->n : 0;
    while (lo < hi) { /* entries are in bytewise name order */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->entries[mid].name, name);
        if (c == 0) return &r->entries[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Reads bytes at offset into buf, 1 MiB at a time, each piece checksummed while in cache.
 * Returns 0, or -1 with errno for a read error, or 1 when the file ends early. */
static int read_and_checksum(int fd, uint8_t *buf, size_t bytes, uint64_t offset, uint32_t *crc_out)
{
    size_t got = 0;
    uint32_t crc = 0;
    while (got < bytes) {
        size_t want = bytes - got < (1u << 20) ? bytes - got : (1u << 20);
        ssize_t n = pread(fd, buf + got, want, (off_t)(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 1;
        crc = gb_crc32c_extend(crc, buf + got, (size_t)n);
        got += (size_t)n;
    }
    *crc_out = crc;
    return 0;
}

typedef struct read_job {
    int fd;
    uint8_t *buf;
    size_t bytes;
    uint64_t offset;
    uint32_t crc;
    int result, error;
} read_job;

static void *read_in_background(void *arg)
{
    read_job *job = arg;
    job->result = read_and_checksum(job->fd, job->buf, job->bytes, job->offset, &job->crc);
    job->error = errno;
    return NULL;
}

enum { PARALLEL_BYTES = 2 << 20 };

/* Reads the size bytes at offset of shard (data of tensor name) into buf; their CRC32C goes to
 * r->last_crc. */
gb_status gb_bundle_read_stored(gb_bundle_reader *r, const char *name, int shard, uint64_t offset, uint64_t size, void *buf)
{
    if (r->fds[shard] < 0) {
        char *path = data_path(r->prefix, shard, r->num_shards);
        if (!path) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        r->fds[shard] = open(path, O_RDONLY | O_CLOEXEC);
        gb_status st = r->fds[shard] < 0 ? gb_fail_errno(GB_EIO, errno, "checkpoint: cannot open %s", path) : GB_OK;
        free(path);
        if (st != GB_OK) return st;
    }
    int fd = r->fds[shard];
    size_t bytes = (size_t)size, first = bytes / 2;
    if (bytes == 0) { /* an empty tensor may come with no buffer at all: not even buf + 0 */
        r->last_crc = 0;
        return GB_OK;
    }
    read_job second = {fd, (uint8_t *)buf + first, bytes - first, offset + first, 0, 0, 0};
    pthread_t helper;
    int result, error = 0;
    uint32_t crc = 0;
    if (bytes >= PARALLEL_BYTES && pthread_create(&helper, NULL, read_in_background, &second) == 0) {
        /* a large tensor: its second half read and checked on another core (reads of one file
         * run in parallel; the copies out of the page cache are most of the time) */
        result = read_and_checksum(fd, buf, first, offset, &crc);
        error = errno;
        pthread_join(helper, NULL);
        if (result == 0) result = second.result, error = second.error;
        crc = gb_crc32c_combine(crc, second.crc, bytes - first);
    } else {
        result = read_and_checksum(fd, buf, bytes, offset, &crc);
        error = errno;
    }
    if (result < 0) return gb_fail_errno(GB_EIO, error, "checkpoint %s: tensor %s: cannot read the data file", r->prefix, name);
    if (result > 0) return gb_fail(GB_ETRUNCATED, "checkpoint %s: tensor %s: the data file ends early", r->prefix, name);
    r->last_crc = crc;
    return GB_OK;
}

static gb_status read_raw(gb_bundle_reader *r, const gb_bundle_entry *e, void *buf)
{
    return gb_bundle_read_stored(r, e->name, e->shard, e->offset, e->size, buf);
}

gb_status gb_bundle_reader_read(gb_bundle_reader *r, const gb_bundle_entry *e, void *buf, size_t bytes)
{
    if (!r || !e || (!buf && bytes)) return gb_fail(GB_EINVAL, "checkpoint: NULL argument");
    if (e->sliced && !gb_tf_dtype_size(e->dtype))
        return gb_fail(GB_EUNSUPPORTED, "checkpoint %s: tensor %s is a partitioned %s tensor, which gradboard cannot assemble",
                       r->prefix, e->name, gb_tf_dtype_name(e->dtype));
    if (bytes != e->size)
        return gb_fail(GB_ESHAPE, "checkpoint %s: tensor %s has %llu bytes, the buffer %zu", r->prefix, e->name,
                       (unsigned long long)e->size, bytes);
    if (e->sliced) return gb_bundle_read_slices(r, e, buf);
    gb_status st = read_raw(r, e, buf);
    if (st != GB_OK) return st;
    uint32_t crc = r->last_crc;
    if (crc != e->crc32c)
        return gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: checksum does not match (stored 0x%08x, computed 0x%08x)",
                       r->prefix, e->name, e->crc32c, crc);
    return GB_OK;
}

gb_status gb_bundle_reader_read_strings(gb_bundle_reader *r, const gb_bundle_entry *e, char ***strings_out, size_t **lens_out)
{
    *strings_out = NULL, *lens_out = NULL;
    if (e->dtype != GB_DT_STRING) return gb_fail(GB_EINVAL, "checkpoint %s: tensor %s is not a string tensor", r->prefix, e->name);
    if (e->sliced)
        return gb_fail(GB_EUNSUPPORTED, "checkpoint %s: tensor %s is a partitioned string tensor, which gradboard cannot assemble",
                       r->prefix, e->name);
    if ((uint64_t)e->elements > e->size) return gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: too small for its strings", r->prefix, e->name);
    uint8_t *raw = malloc((size_t)e->size + 1);
    size_t *lens = malloc(((size_t)e->elements + 1) * sizeof *lens);
    char **strings = NULL;
    gb_status st = raw && lens ? read_raw(r, e, raw) : gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    const uint8_t *p = raw, *end = raw ? raw + e->size : NULL;
    uint32_t crc = 0;
    uint64_t total = 0;
    for (int64_t i = 0; i < e->elements && st == GB_OK; i++) {
        uint64_t v = 0;
        int shift = 0, done = 0;
        while (p < end && shift < 64 && !done) {
            v |= (uint64_t)(*p & 0x7f) << shift;
            done = !(*p++ & 0x80);
            shift += 7;
        }
        if (!done || v > e->size) {
            st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: bad string length", r->prefix, e->name);
            break;
        }
        uint8_t fixed[8];
        int width = v > 0xFFFFFFFFu ? 8 : 4;
        for (int k = 0; k < width; k++) fixed[k] = (uint8_t)(v >> (8 * k));
        crc = gb_crc32c_extend(crc, fixed, (size_t)width);
        lens[i] = (size_t)v;
        total += v;
    }
    if (st == GB_OK && (end - p < 4 || total != (uint64_t)(end - p - 4)))
        st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: the string lengths do not add up", r->prefix, e->name);
    if (st == GB_OK) {
        uint32_t stored = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (gb_crc32c_unmask(stored) != crc)
            st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: the string lengths' checksum does not match", r->prefix, e->name);
        crc = gb_crc32c_extend(crc, p, (size_t)(end - p));
        if (st == GB_OK && crc != e->crc32c)
            st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: checksum does not match", r->prefix, e->name);
        p += 4;
    }
    if (st == GB_OK) {
        /* one block: the pointer array, then the strings, each NUL-terminated */
        size_t n = (size_t)e->elements;
        strings = malloc(n * sizeof *strings + (size_t)total + n + 1);
        if (!strings) st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        char *dst = strings ? (char *)(strings + n) : NULL;
        for (size_t i = 0; i < n && st == GB_OK; i++) {
            strings[i] = dst;
            memcpy(dst, p, lens[i]);
            dst[lens[i]] = '\0';
            dst += lens[i] + 1;
            p += lens[i];
        }
    }
    free(raw);
    if (st != GB_OK) {
        free(lens);
        free(strings);
        return st;
    }
    *strings_out = strings;
    *lens_out = lens;
    return GB_OK;
}

/* A DT_VARIANT entry as TensorFlow writes it: per element a varint length, the serialized
 * VariantTensorDataProto, then the entry's running CRC so far (masked). That CRC covers each
 * length as a fixed 8-byte integer, the bytes, and each running CRC written. */
static gb_status check_variant(gb_bundle_reader *r, const gb_bundle_entry *e)
{
    uint8_t *raw = malloc((size_t)e->size + 1);
    gb_status st = raw ? read_raw(r, e, raw) : gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    const uint8_t *p = raw, *end = raw ? raw + e->size : NULL;
    uint32_t crc = 0;
    for (int64_t i = 0; i < e->elements && st == GB_OK; i++) {
        uint64_t len = 0;
        int shift = 0, done = 0;
        while (p < end && shift < 64 && !done) {
            len |= (uint64_t)(*p & 0x7f) << shift;
            done = !(*p++ & 0x80);
            shift += 7;
        }
        if (!done || len > (uint64_t)(end - p) || (uint64_t)(end - p) - len < 4) {
            st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: element %lld has a bad length", r->prefix, e->name, (long long)i);
            break;
        }
        uint8_t fixed[8];
        for (int k = 0; k < 8; k++) fixed[k] = (uint8_t)(len >> (8 * k));
        crc = gb_crc32c_extend(crc, fixed, sizeof fixed);
        crc = gb_crc32c_extend(crc, p, (size_t)len);
        uint32_t stored = (uint32_t)p[len] | (uint32_t)p[len + 1] << 8 | (uint32_t)p[len + 2] << 16 | (uint32_t)p[len + 3] << 24;
        if (gb_crc32c_unmask(stored) != crc)
            st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: element %lld: checksum does not match", r->prefix, e->name,
                         (long long)i);
        crc = gb_crc32c_extend(crc, p + len, 4);
        p += len + 4;
    }
    if (st == GB_OK && p != end)
        st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: %zu bytes after its last element", r->prefix, e->name, (size_t)(end - p));
    if (st == GB_OK && crc != e->crc32c)
        st = gb_fail(GB_ECORRUPT, "checkpoint %s: tensor %s: checksum does not match (stored 0x%08x, computed 0x%08x)", r->prefix,
                     e->name, e->crc32c, crc);
    free(raw);
    return st;
}

gb_status gb_bundle_reader_check(gb_bundle_reader *r, const gb_bundle_entry *e)
{
    if (!r || !e) return gb_fail(GB_EINVAL, "checkpoint: NULL argument");
    gb_status st;
    if (gb_tf_dtype_size(e->dtype)) {
        void *data = malloc(e->size ? (size_t)e->size : 1);
        st = data ? gb_bundle_reader_read(r, e, data, (size_t)e->size) : gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        free(data);
    } else if (e->dtype == GB_DT_STRING) {
        char **strings;
        size_t *lens;
        st = gb_bundle_reader_read_strings(r, e, &strings, &lens);
        if (st == GB_OK) free(strings), free(lens);
    } else if (e->dtype == GB_DT_VARIANT && !e->sliced) {
        st = check_variant(r, e);
    } else {
        st = gb_fail(GB_EUNSUPPORTED, "checkpoint %s: tensor %s: gradboard cannot check a%s %s tensor", r->prefix, e->name,
                     e->sliced ? " partitioned" : "", gb_tf_dtype_name(e->dtype));
    }
    return st;
}
