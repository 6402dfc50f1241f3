/* Writes a checkpoint bundle: tensors appended to a temporary data file as they come, the
 * index (sorted by name, as TensorFlow's writer sorts it) built at the end; then fsync and
 * rename, data first, so the index's appearance is what makes the checkpoint exist. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradboard/checkpoint.h"
#include "gradboard/crc32c.h"
#include "internal/ckpt_hooks.h"
#include "internal/error.h"
#include "internal/fs.h"
#include "internal/sstable.h"
#include "internal/strmap.h"
#include "tensor_bundle.pb-c.h"

enum { CHUNK = 1 << 20, PARALLEL_BYTES = 2 << 20 };

typedef struct pending_entry {
    char *name;
    uint8_t *proto;   /* serialized BundleEntryProto */
    size_t proto_len;
} pending_entry;

void (*gb_ckpt_test_hook)(const char *stage);

struct gb_bundle_writer {
    char *prefix, *data_path, *data_temp, *index_path, *index_temp;
    int fd;
    int durable; /* fsync files and directory (the default) */
    uint64_t offset;
    pending_entry *entries;
    size_t n, cap;
    gb_strmap *names;
};

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) memcpy(s, a, la), memcpy(s + la, b, lb + 1);
    return s;
}

static void free_writer(gb_bundle_writer *w)
{
    for (size_t i = 0; i < w->n; i++) free(w->entries[i].name), free(w->entries[i].proto);
    free(w->entries);
    gb_strmap_free(w->names, NULL);
    free(w->prefix), free(w->data_path), free(w->data_temp), free(w->index_path), free(w->index_temp);
    free(w);
}

void gb_bundle_writer_abort(gb_bundle_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->data_temp) unlink(w->data_temp);
    if (w->index_temp) unlink(w->index_temp);
    free_writer(w);
}

/* The directory part of prefix and its parents (none: the working directory, which exists). */
static gb_status make_prefix_directory(const char *prefix)
{
    const char *slash = strrchr(prefix, '/');
    if (!slash || slash == prefix) return GB_OK;
    char *dir = strndup(prefix, (size_t)(slash - prefix));
    if (!dir) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    gb_status st = gb_mkdir_p(dir);
    if (st != GB_OK) gb_fail_context(st, "checkpoint %s", prefix);
    free(dir);
    return st;
}

gb_status gb_bundle_writer_open(gb_bundle_writer **out, const char *prefix)
{
    *out = NULL;
    if (!prefix || !*prefix) return gb_fail(GB_EINVAL, "checkpoint: empty prefix");
    static atomic_uint counter;
    gb_bundle_writer *w = calloc(1, sizeof *w);
    if (!w) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    w->fd = -1;
    w->durable = 1;
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".tempstate%ld_%u", (long)getpid(), atomic_fetch_add(&counter, 1));
    w->prefix = strdup(prefix);
    w->data_path = concat(prefix, ".data-00000-of-00001");
    w->index_path = concat(prefix, ".index");
    w->data_temp = w->data_path ? concat(w->data_path, suffix) : NULL;
    w->index_temp = w->index_path ? concat(w->index_path, suffix) : NULL;
    w->names = gb_strmap_new();
    if (!w->prefix || !w->data_temp || !w->index_temp || !w->names) {
        free_writer(w);
        return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    }
    w->fd = open(w->data_temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0 && errno == ENOENT) { /* the directory is missing: made, as TensorFlow's writer does */
        gb_status st = make_prefix_directory(prefix);
        if (st != GB_OK) {
            free_writer(w);
            return st;
        }
        w->fd = open(w->data_temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (w->fd < 0) {
        gb_status st = gb_fail_errno(GB_EIO, errno, "checkpoint %s: cannot create %s", prefix, w->data_temp);
        free_writer(w);
        return st;
    }
    *out = w;
    return GB_OK;
}

static gb_status write_all(int fd, const void *data, size_t len, const char *path)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return gb_fail_errno(GB_EIO, n < 0 ? errno : ENOSPC, "checkpoint: cannot write %s", path);
        p += n, len -= (size_t)n;
    }
    return GB_OK;
}

/* Records the entry of a tensor just written at offset with size bytes and CRC crc. */
static gb_status add_entry(gb_bundle_writer *w, const char *name, int dtype, int rank, const int64_t *dims, uint64_t size,
                           uint32_t crc)
{
    Gbpb__TensorShapeProto__Dim dim_values[64];
    Gbpb__TensorShapeProto__Dim *dim_ptrs[64];
    for (int i = 0; i < rank; i++) {
        gbpb__tensor_shape_proto__dim__init(&dim_values[i]);
        dim_values[i].size = dims[i];
        dim_ptrs[i] = &dim_values[i];
    }
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = (size_t)rank;
    shape.dim = dim_ptrs;
    Gbpb__BundleEntryProto e = GBPB__BUNDLE_ENTRY_PROTO__INIT;
    e.dtype = (Gbpb__DataType)dtype;
    e.shape = &shape; /* present even for a scalar, as TensorFlow writes it */
    e.offset = (int64_t)(w->offset - size);
    e.size = (int64_t)size;
    e.crc32c = gb_crc32c_mask(crc);
    size_t len = gbpb__bundle_entry_proto__get_packed_size(&e);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 32;
        pending_entry *entries = realloc(w->entries, cap * sizeof *entries);
        if (!entries) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        w->entries = entries, w->cap = cap;
    }
    pending_entry *p = &w->entries[w->n];
    p->name = strdup(name);
    p->proto = malloc(len ? len : 1);
    if (!p->name || !p->proto || gb_strmap_insert(w->names, name, strlen(name), NULL) != GB_OK) {
        free(p->name), free(p->proto);
        return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    }
    p->proto_len = gbpb__bundle_entry_proto__pack(&e, p->proto);
    w->n++;
    return GB_OK;
}

static gb_status check_new(gb_bundle_writer *w, const char *name, int rank, const int64_t *dims, int64_t *elements)
{
    if (!w) return gb_fail(GB_EINVAL, "checkpoint: writer is NULL");
    if (!name || !*name) return gb_fail(GB_EINVAL, "checkpoint %s: a tensor name must not be empty", w->prefix);
    if (gb_strmap_find(w->names, name, strlen(name)))
        return gb_fail(GB_EINVAL, "checkpoint %s: tensor %s added twice", w->prefix, name);
    if (rank < 0 || rank > 64 || (rank && !dims))
        return gb_fail(GB_ESHAPE, "checkpoint %s: tensor %s: bad rank %d", w->prefix, name, rank);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return gb_fail(GB_ESHAPE, "checkpoint %s: tensor %s: bad dimension %lld", w->prefix, name, (long long)dims[i]);
        if (dims[i] && n > INT64_MAX / dims[i])
            return gb_fail(GB_ESHAPE, "checkpoint %s: tensor %s: its element count overflows int64 at dimension %d (%lld)",
                           w->prefix, name, i, (long long)dims[i]);
        n *= dims[i];
    }
    *elements = n;
    return GB_OK;
}

typedef struct crc_job {
    const void *data;
    size_t bytes;
    uint32_t crc;
} crc_job;

static void *crc_in_background(void *arg)
{
    crc_job *job = arg;
    job->crc = gb_crc32c(job->data, job->bytes);
    return NULL;
}

gb_status gb_bundle_add(gb_bundle_writer *w, const char *name, int dtype, int rank, const int64_t *dims, const void *data,
                        size_t bytes)
{
    int64_t elements;
    gb_status st = check_new(w, name, rank, dims, &elements);
    if (st != GB_OK) return st;
    size_t esize = gb_tf_dtype_size(dtype);
    if (esize == 0) return gb_fail(GB_EUNSUPPORTED, "checkpoint %s: tensor %s: dtype %s is not stored raw", w->prefix, name,
                                   gb_tf_dtype_name(dtype));
    if ((uint64_t)elements > SIZE_MAX / esize || (size_t)elements * esize != bytes)
        return gb_fail(GB_ESHAPE, "checkpoint %s: tensor %s: %zu bytes given, its shape needs %lld x %zu", w->prefix, name,
                       bytes, (long long)elements, esize);
    if (bytes && !data) return gb_fail(GB_EINVAL, "checkpoint %s: tensor %s: data is NULL", w->prefix, name);
    uint32_t crc = 0;
    crc_job job = {data, bytes, 0};
    pthread_t helper;
    if (bytes >= PARALLEL_BYTES && pthread_create(&helper, NULL, crc_in_background, &job) == 0) {
        /* a large tensor: its checksum on a second core while this one copies it to the file */
        st = write_all(w->fd, data, bytes, w->data_temp);
        pthread_join(helper, NULL);
        crc = job.crc;
    } else {
        /* the checksum of each 1 MiB goes just before its write: the kernel's copy then reads
         * bytes still in cache, and the data are read from memory once */
        for (size_t at = 0; at < bytes && st == GB_OK; at += CHUNK) {
            size_t n = bytes - at < CHUNK ? bytes - at : CHUNK;
            crc = gb_crc32c_extend(crc, (const uint8_t *)data + at, n);
            st = write_all(w->fd, (const uint8_t *)data + at, n, w->data_temp);
        }
    }
    if (st != GB_OK) return st;
    w->offset += bytes;
    return add_entry(w, name, dtype, rank, dims, bytes, crc);
}

static void le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

gb_status gb_bundle_add_strings(gb_bundle_writer *w, const char *name, int rank, const int64_t *dims,
                                const char *const *strings, const size_t *lens)
{
    int64_t elements;
    gb_status st = check_new(w, name, rank, dims, &elements);
    if (st != GB_OK) return st;
    if (elements && (!strings || !lens)) return gb_fail(GB_EINVAL, "checkpoint %s: tensor %s: strings are NULL", w->prefix, name);
    /* varint lengths, then the masked CRC of the lengths (as fixed 4/8-byte integers), then the bytes */
    size_t header_cap = (size_t)elements * 10 + 4, header_len = 0;
    uint8_t *header = malloc(header_cap);
    if (!header) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    uint32_t length_crc = 0;
    uint64_t total = 0;
    for (int64_t i = 0; i < elements; i++) {
        uint64_t len = lens[i];
        for (uint64_t v = len;; v >>= 7) {
            header[header_len++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
        uint8_t fixed[8];
        int width = len > 0xFFFFFFFFu ? 8 : 4;
        le(fixed, len, width);
        length_crc = gb_crc32c_extend(length_crc, fixed, (size_t)width);
        total += len;
    }
    le(header + header_len, gb_crc32c_mask(length_crc), 4);
    uint32_t crc = gb_crc32c_extend(length_crc, header + header_len, 4);
    header_len += 4;
    st = write_all(w->fd, header, header_len, w->data_temp);
    free(header);
    for (int64_t i = 0; i < elements && st == GB_OK; i++) {
        st = write_all(w->fd, strings[i], lens[i], w->data_temp);
        crc = gb_crc32c_extend(crc, strings[i], lens[i]);
    }
    if (st != GB_OK) return st;
    w->offset += header_len + total;
    return add_entry(w, name, GB_DT_STRING, rank, dims, header_len + total, crc);
}

static int compare_entries(const void *a, const void *b)
{
    const pending_entry *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    int c = memcmp(x->name, y->name, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static gb_status sync_directory(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    gb_status st = GB_OK;
    if (fd < 0 || fsync(fd) != 0) st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot sync the directory of %s", path);
    if (fd >= 0) close(fd);
    free(copy);
    return st;
}

void gb_bundle_writer_set_durable(gb_bundle_writer *w, int durable)
{
    if (w) w->durable = durable != 0;
}

gb_status gb_bundle_writer_finish(gb_bundle_writer *w)
{
    if (!w) return gb_fail(GB_EINVAL, "checkpoint: writer is NULL");
    gb_status st = GB_OK;
    if (w->durable && fsync(w->fd) != 0) st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot sync %s", w->data_temp);
    if (close(w->fd) != 0 && st == GB_OK) st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot close %s", w->data_temp);
    w->fd = -1;
    if (st == GB_OK) gb_ckpt_stage("data_written");
    /* A checkpoint written again loses its index first: a crash before the new index is in place
     * then leaves no checkpoint here, never the old index over the new data. (The saver moves
     * the state file off a checkpoint before writing it again.) */
    if (st == GB_OK && unlink(w->index_path) != 0 && errno != ENOENT)
        st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot remove the old %s", w->index_path);
    int replaced = st == GB_OK ? gb_ckpt_open_for_release(w->data_path) : -1;
    if (st == GB_OK && rename(w->data_temp, w->data_path) != 0)
        st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot rename %s", w->data_temp);
    gb_ckpt_close_in_background(replaced);
    if (st != GB_OK) {
        gb_bundle_writer_abort(w);
        return st;
    }
    free(w->data_temp);
    w->data_temp = NULL; /* in place now: an abort must not remove it... */
    gb_ckpt_stage("data_renamed");

    if (w->n) qsort(w->entries, w->n, sizeof *w->entries, compare_entries);
    gb_sstable_builder *b = gb_sstable_builder_new();
    if (!b) st = gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    Gbpb__VersionDef version = GBPB__VERSION_DEF__INIT;
    version.producer = 1;
    Gbpb__BundleHeaderProto header = GBPB__BUNDLE_HEADER_PROTO__INIT;
    header.num_shards = 1;
    header.version = &version;
    uint8_t header_bytes[32];
    size_t header_len = gbpb__bundle_header_proto__pack(&header, header_bytes);
    if (st == GB_OK) st = gb_sstable_add(b, "", 0, header_bytes, header_len);
    for (size_t i = 0; i < w->n && st == GB_OK; i++)
        st = gb_sstable_add(b, w->entries[i].name, strlen(w->entries[i].name), w->entries[i].proto, w->entries[i].proto_len);
    const uint8_t *index;
    size_t index_len;
    if (st == GB_OK) st = gb_sstable_finish(b, &index, &index_len);
    int index_renamed = 0;
    if (st == GB_OK) {
        int fd = open(w->index_temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot create %s", w->index_temp);
        } else {
            st = write_all(fd, index, index_len, w->index_temp);
            if (st == GB_OK && w->durable && fsync(fd) != 0) st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot sync %s", w->index_temp);
            if (close(fd) != 0 && st == GB_OK) st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot close %s", w->index_temp);
            if (st == GB_OK) gb_ckpt_stage("index_written");
            if (st == GB_OK && rename(w->index_temp, w->index_path) != 0)
                st = gb_fail_errno(GB_EIO, errno, "checkpoint: cannot rename %s", w->index_temp);
            index_renamed = st == GB_OK;
        }
    }
    if (st == GB_OK && w->durable) st = sync_directory(w->index_path);
    if (st == GB_OK) gb_ckpt_stage("index_renamed");
    gb_sstable_builder_free(b);
    if (st != GB_OK) {
        /* ...but data without their index are no checkpoint: remove them. Once the index is in
         * place the checkpoint exists; only the directory sync failed, which the status reports. */
        if (!index_renamed) unlink(w->data_path);
        gb_bundle_writer_abort(w);
        return st;
    }
    free(w->index_temp);
    w->index_temp = NULL;
    free_writer(w);
    return GB_OK;
}
