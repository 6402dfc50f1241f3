#include "gradboard/tfrecord.h"
#include "internal/bytes.h"
#include "internal/error.h"
#include "internal/record_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DEFAULT_BUFFER_BYTES = 256 * 1024 };

struct gb_record_writer {
    int fd;
    char *path;
    uint8_t *buf;
    size_t cap;
    size_t used;          /* bytes of whole records in buf */
    size_t open_len;      /* length of the record between begin and commit */
    uint64_t file_bytes;  /* what the file holds: everything flushed so far */
    int torn;             /* the file ends in part of a record that could not be cut off */
};

/* Records appended after a torn last record (a crash mid-write) would be unreachable: readers
 * stop at the torn one. So an append first reads the file through and cuts a torn tail off; it
 * refuses a file that is corrupt or no TFRecord at all rather than cut away what it cannot read. */
static gb_status cut_torn_tail(gb_record_writer *w, uint64_t size)
{
    gb_record_reader *r;
    gb_status st = gb_record_reader_open(&r, w->path);
    if (st != GB_OK) return gb_fail_context(st, "%s: cannot read the file to append to it", w->path);
    const uint8_t *data;
    size_t len;
    while ((st = gb_record_reader_next(r, &data, &len)) == GB_OK) continue;
    uint64_t end = gb_record_reader_offset(r);
    gb_record_reader_close(r);
    if (st == GB_END) return GB_OK;
    if (st == GB_ECORRUPT)
        return gb_fail_context(GB_ECORRUPT, end == 0 ? "%s is corrupt or not a TFRecord file; not appending to it"
                                                     : "%s: not appending after a corrupt record",
                               w->path);
    if (st != GB_ETRUNCATED) return st;
    if (end == 0 && size < GB_RECORD_HEADER_BYTES) /* too short to tell a torn header from other data */
        return gb_fail(GB_ECORRUPT, "%s is not a TFRecord file (%llu bytes, shorter than a record header); not appending to it",
                       w->path, (unsigned long long)size);
    if (ftruncate(w->fd, (off_t)end) != 0)
        return gb_fail_errno(GB_EIO, errno, "%s: cannot cut off the torn record at byte offset %llu", w->path,
                             (unsigned long long)end);
    w->file_bytes = end;
    return GB_OK;
}

gb_status gb_record_writer_open(gb_record_writer **out, const char *path, gb_record_open_mode mode)
{
    *out = NULL;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    switch (mode) {
    case GB_RECORD_TRUNCATE: flags |= O_TRUNC; break;
    case GB_RECORD_EXCLUSIVE: flags |= O_EXCL; break;
    case GB_RECORD_APPEND: flags |= O_APPEND; break;
    default: return gb_fail(GB_EINVAL, "record writer: unknown open mode %d", (int)mode);
    }
    gb_record_writer *w = calloc(1, sizeof *w);
    if (!w) return gb_fail(GB_ENOMEM, "record writer: out of memory");
    w->path = strdup(path);
    w->cap = DEFAULT_BUFFER_BYTES;
    w->buf = malloc(w->cap);
    if (!w->path || !w->buf) {
        free(w->path), free(w->buf), free(w);
        return gb_fail(GB_ENOMEM, "record writer: out of memory");
    }
    w->fd = open(path, flags, 0644);
    if (w->fd < 0) {
        int err = errno;
        free(w->path), free(w->buf), free(w);
        gb_fail_errno(GB_EIO, err, "cannot create %s", path);
        errno = err; /* callers tell "exists" (EEXIST) from other failures */
        return GB_EIO;
    }
    struct stat st;
    if (fstat(w->fd, &st) == 0) w->file_bytes = (uint64_t)st.st_size;
    if (mode == GB_RECORD_APPEND && w->file_bytes > 0) {
        gb_status cut = cut_torn_tail(w, w->file_bytes);
        if (cut != GB_OK) {
            close(w->fd);
            free(w->path), free(w->buf), free(w);
            return cut;
        }
    }
    *out = w;
    return GB_OK;
}

/* Makes room for `need` more bytes, flushing or growing the buffer. */
static gb_status reserve(gb_record_writer *w, size_t need)
{
    if (w->cap - w->used >= need) return GB_OK;
    if (w->used > 0) {
        gb_status st = gb_record_writer_flush(w, 0);
        if (st != GB_OK) return st;
    }
    if (w->cap >= need) return GB_OK;
    uint8_t *bigger = realloc(w->buf, need);
    if (!bigger) return gb_fail(GB_ENOMEM, "%s: no memory for a record of %zu bytes", w->path, need);
    w->buf = bigger;
    w->cap = need;
    return GB_OK;
}

gb_status gb_record_writer_begin(gb_record_writer *w, size_t len, uint8_t **payload)
{
    if (len > GB_RECORD_MAX_BYTES)
        return gb_fail(GB_EINVAL, "%s: a record of %zu bytes exceeds the 2 GiB limit", w->path, len);
    gb_status st = reserve(w, len + GB_RECORD_OVERHEAD);
    if (st != GB_OK) return st;
    w->open_len = len;
    *payload = w->buf + w->used + GB_RECORD_HEADER_BYTES;
    return GB_OK;
}

void gb_record_writer_commit(gb_record_writer *w)
{
    uint8_t *record = w->buf + w->used;
    gb_record_frame_header(record, w->open_len);
    gb_record_frame_footer(record + GB_RECORD_HEADER_BYTES + w->open_len,
                           record + GB_RECORD_HEADER_BYTES, w->open_len);
    w->used += w->open_len + GB_RECORD_OVERHEAD;
    w->open_len = 0;
}

gb_status gb_record_writer_append(gb_record_writer *w, const void *data, size_t len)
{
    uint8_t *payload;
    gb_status st = gb_record_writer_begin(w, len, &payload);
    if (st != GB_OK) return st;
    if (len) memcpy(payload, data, len);
    gb_record_writer_commit(w);
    return GB_OK;
}

gb_status gb_record_writer_flush(gb_record_writer *w, int do_fsync)
{
    /* Records appended after torn bytes would be unreachable: a reader stops at the torn one. */
    if (w->torn)
        return gb_fail(GB_EIO, "%s: the file ends in a torn record that could not be cut off; nothing more is written to it",
                       w->path);
    size_t done = 0;
    while (done < w->used) {
        ssize_t n = write(w->fd, w->buf + done, w->used - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : ENOSPC;
            /* All or nothing: a reader must never see half a record, so cut the partial write off
             * and keep every record buffered for the next attempt. */
            if (done > 0 && ftruncate(w->fd, (off_t)w->file_bytes) != 0) {
                w->torn = 1;
                return gb_fail_errno(GB_EIO, errno,
                                     "%s: write failed after %zu of %zu bytes (%s) and the partial "
                                     "record could not be removed",
                                     w->path, done, w->used, strerror(err));
            }
            /* O_APPEND writes go to the (restored) end; otherwise rewind to it. */
            lseek(w->fd, (off_t)w->file_bytes, SEEK_SET);
            return gb_fail_errno(GB_EIO, err, "%s: cannot write %zu buffered bytes", w->path, w->used);
        }
        done += (size_t)n;
    }
    w->file_bytes += w->used;
    w->used = 0;
    if (do_fsync && fsync(w->fd) != 0) return gb_fail_errno(GB_EIO, errno, "%s: fsync failed", w->path);
    return GB_OK;
}

size_t gb_record_writer_pending(const gb_record_writer *w) { return w->used; }

uint64_t gb_record_writer_size(const gb_record_writer *w) { return w->file_bytes + w->used; }

gb_status gb_record_writer_close(gb_record_writer *w)
{
    if (!w) return GB_OK;
    gb_status st = gb_record_writer_flush(w, 0);
    if (close(w->fd) != 0 && st == GB_OK) st = gb_fail_errno(GB_EIO, errno, "%s: close failed", w->path);
    free(w->buf);
    free(w->path);
    free(w);
    return st;
}

gb_status gb_record_writer_each_pending(gb_record_writer *w, gb_status (*fn)(void *ctx, const uint8_t *data, size_t len),
                                        void *ctx)
{
    for (size_t at = 0; at < w->used;) {
        size_t len = (size_t)gb_load_le64(w->buf + at);
        gb_status st = fn(ctx, w->buf + at + GB_RECORD_HEADER_BYTES, len);
        if (st != GB_OK) return st;
        at += len + GB_RECORD_OVERHEAD;
    }
    return GB_OK;
}

void gb_record_writer_drop_pending(gb_record_writer *w) { w->used = 0; }
