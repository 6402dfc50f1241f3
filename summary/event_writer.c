#include "gradboard/tfrecord.h"
#include "gradboard/writer.h"
#include "internal/error.h"
#include "internal/fs.h"
#include "internal/pb_check.h"
#include "internal/pb_wire.h"
#include "internal/record_writer.h"
#include "internal/scalar_encode.h"
#include "internal/strmap.h"
#include "internal/writer_impl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_FILE_ATTEMPTS = 1000, STACK_ITEMS = 16 };

struct gb_writer {
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* tells the flusher thread to stop */
    pthread_t flusher;
    int has_flusher;
    int closing;

    gb_record_writer *file;
    char *_Atomic path;             /* read by gb_writer_path without the lock, which the clock */
    char *logdir;                   /* callback (called with it held) may call */
    dev_t file_dev;                 /* the file's identity, to notice when path no longer names it */
    ino_t file_ino;
    int identity_known;
    char **old_paths;               /* paths of files given up after a deletion: gb_writer_path */
    size_t old_path_count;          /* returned them, and they stay valid until close */
    gb_strmap *tags_with_metadata;  /* tags whose first value (with metadata) is in the file, each
                                     * with that metadata (see tag_metadata) */
    gb_writer_opts opts;
    gb_status deferred;             /* a background fsync failure, reported by the next caller flush */
    char *deferred_message;
};

/* The SummaryMetadata a tag's first value in the file carried, kept so that a new file started
 * after a deletion can give it to the tag's first value there. Scalars all share
 * SCALAR_METADATA (gb_scalar_metadata's bytes); a NULL value kept none (out of memory). */
typedef struct tag_metadata {
    size_t len;
    uint8_t bytes[];
} tag_metadata;

static char scalar_metadata_mark;
#define SCALAR_METADATA ((void *)&scalar_metadata_mark)

static void free_tag_metadata(void *p)
{
    if (p != SCALAR_METADATA) free(p);
}

static tag_metadata *pack_metadata(const Gbpb__SummaryMetadata *md)
{
    size_t len = gbpb__summary_metadata__get_packed_size(md);
    tag_metadata *t = malloc(sizeof *t + len);
    if (t) t->len = len, gbpb__summary_metadata__pack(md, t->bytes);
    return t;
}

static double system_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

gb_writer_opts gb_writer_opts_default(void)
{
    return (gb_writer_opts){.flush_secs = 10.0, .filename_suffix = NULL, .fsync_on_flush = 0,
                            .clock = NULL, .clock_ctx = NULL};
}

static gb_status read_clock(gb_writer *w, double *wall_time)
{
    *wall_time = w->opts.clock(w->opts.clock_ctx);
    if (!isfinite(*wall_time)) /* no file yet while the writer opens: name the log directory */
        return gb_fail(GB_EINVAL, "%s: the writer's clock returned %g; wall times must be finite",
                       w->path ? w->path : w->logdir, *wall_time);
    return GB_OK;
}

static gb_status create_event_file(gb_writer *w, const char *logdir, double wall_time);
static gb_status write_file_version(gb_writer *w, double wall_time);

/* 1 when the writer's path no longer names its file: deleted (often with its whole log
 * directory, to clear a run while training goes on) or replaced. Writes to it would succeed and
 * be lost. A stat that fails for another reason (EACCES) proves nothing: 0. */
static int file_is_gone(const gb_writer *w)
{
    struct stat sb;
    if (stat(w->path, &sb) != 0) return errno == ENOENT || errno == ENOTDIR;
    return w->identity_known && (sb.st_dev != w->file_dev || sb.st_ino != w->file_ino);
}

static void remember_identity(gb_writer *w)
{
    struct stat sb;
    w->identity_known = stat(w->path, &sb) == 0;
    if (w->identity_known) w->file_dev = sb.st_dev, w->file_ino = sb.st_ino;
}

typedef struct record_move {
    gb_writer *w;          /* its file and tags_with_metadata are the new file's */
    gb_strmap *old_tags;   /* the deleted file's */
} record_move;

/* Copies one buffered record into the new file. A tag's first value there gets the metadata its
 * first value in the deleted file had, if it has none: readers (TensorBoard's fast loader most
 * strictly) take a tag's plugin from its first value, and would not show the tag otherwise. */
static gb_status move_record(void *ctx, const uint8_t *data, size_t len)
{
    record_move *m = ctx;
    gb_writer *w = m->w;
    Gbpb__Event *e = gbpb__event__unpack(NULL, len, data); /* this writer packed or checked it */
    if (!e) return gb_fail(GB_ENOMEM, "out of memory re-reading a buffered event");
    int changed = 0;
    gb_status st = GB_OK;
    for (size_t i = 0; e->what_case == GBPB__EVENT__WHAT_SUMMARY && i < e->summary->n_value && st == GB_OK; i++) {
        Gbpb__Summary__Value *v = e->summary->value[i];
        size_t tag_len = strlen(v->tag);
        void **old = gb_strmap_find(m->old_tags, v->tag, tag_len);
        if (!old || gb_strmap_find(w->tags_with_metadata, v->tag, tag_len)) continue; /* not ours, or done */
        if (!v->metadata && *old) {
            size_t md_len = 0;
            const uint8_t *md = *old == SCALAR_METADATA ? gb_scalar_metadata(&md_len) : ((tag_metadata *)*old)->bytes;
            if (*old != SCALAR_METADATA) md_len = ((tag_metadata *)*old)->len;
            v->metadata = gbpb__summary_metadata__unpack(NULL, md_len, md);
            if (!v->metadata) st = gb_fail(GB_ENOMEM, "out of memory re-reading a tag's metadata");
            changed = 1;
        }
        /* shared with the old map until the move succeeds */
        if (st == GB_OK) st = gb_strmap_insert(w->tags_with_metadata, v->tag, tag_len, *old);
    }
    if (st == GB_OK && changed) {
        uint8_t *payload;
        size_t packed_len = gbpb__event__get_packed_size(e);
        st = gb_record_writer_begin(w->file, packed_len, &payload);
        if (st == GB_OK) {
            gbpb__event__pack(e, payload);
            gb_record_writer_commit(w->file);
        }
    } else if (st == GB_OK) {
        st = gb_record_writer_append(w->file, data, len);
    }
    gbpb__event__free_unpacked(e, NULL);
    return st;
}

/* Does what TensorFlow's EventsWriter does when its file vanishes: recreates the log directory
 * and starts a new event file (with its own file-version record) that receives the events still
 * buffered. On failure the events stay buffered for the next flush to try again. */
static gb_status reopen_vanished_file(gb_writer *w)
{
    gb_record_writer *old_file = w->file;
    char *old_path = w->path;
    gb_strmap *old_tags = w->tags_with_metadata;
    char **old_paths = realloc(w->old_paths, (w->old_path_count + 1) * sizeof *old_paths);
    if (old_paths) w->old_paths = old_paths;
    gb_strmap *tags = gb_strmap_new();
    if (!old_paths || !tags) {
        gb_strmap_free(tags, NULL);
        return gb_fail(GB_ENOMEM, "%s was deleted; no memory to start a new file", old_path);
    }
    double wall_time = 0;
    gb_status st = read_clock(w, &wall_time); /* while w->path still names a file: the clock may ask */
    w->file = NULL;
    w->tags_with_metadata = tags;
    if (st == GB_OK) st = gb_mkdir_p(w->logdir);
    if (st == GB_OK) st = create_event_file(w, w->logdir, wall_time);
    if (st == GB_OK) st = write_file_version(w, wall_time);
    if (st == GB_OK) st = gb_record_writer_each_pending(old_file, move_record, &(record_move){w, old_tags});
    if (st != GB_OK) {
        if (w->file) {
            gb_record_writer_close(w->file);
            unlink(w->path);
        }
        /* a path gb_writer_path may have handed out meanwhile stays valid until close */
        if (w->path != old_path) w->old_paths[w->old_path_count++] = w->path;
        w->file = old_file;
        w->path = old_path;
        w->tags_with_metadata = old_tags;
        gb_strmap_free(tags, NULL); /* its metadata is the old map's */
        return gb_fail_context(st, "%s was deleted and a new event file could not be started", old_path);
    }
    for (size_t i = 0; i < gb_strmap_size(tags); i++) { /* the new map owns what it shares now */
        const char *tag = gb_strmap_key(tags, i);
        *gb_strmap_find(old_tags, tag, strlen(tag)) = NULL;
    }
    gb_strmap_free(old_tags, free_tag_metadata);
    gb_record_writer_drop_pending(old_file);
    (void)gb_record_writer_close(old_file);
    w->old_paths[w->old_path_count++] = old_path;
    remember_identity(w);
    return GB_OK;
}

/* Called with the lock held. Every flush looks for a deleted file first, as TensorFlow's
 * EventsWriter does: one stat (about a third of a write-through event's cost, nothing beside a
 * buffered flush), and no event written after a deletion is lost with the old file. */
static gb_status flush_locked(gb_writer *w)
{
    if (gb_record_writer_pending(w->file) == 0 && !w->opts.fsync_on_flush) return GB_OK;
    if (file_is_gone(w)) {
        gb_status st = reopen_vanished_file(w);
        if (st != GB_OK) return st;
    }
    return gb_record_writer_flush(w->file, w->opts.fsync_on_flush);
}

/* A flush by the caller (gb_writer_flush, close). It retries whatever the background thread
 * could not write (those events are still buffered), so its own result covers them. An fsync
 * that failed in the background is different: its bytes had left the buffer, and a later fsync
 * may succeed without them reaching the disk, so that failure is reported here, once. */
static gb_status flush_for_caller(gb_writer *w)
{
    gb_status st = flush_locked(w);
    if (st == GB_OK && w->deferred != GB_OK) {
        st = gb_fail(w->deferred, "an earlier background flush failed: %s", w->deferred_message);
        w->deferred = GB_OK;
        free(w->deferred_message);
        w->deferred_message = NULL;
    }
    return st;
}

/* Called with the lock held at the end of every public call that adds an event. A failure of
 * the background thread is not returned here: this call's event is buffered, and a caller who
 * took an error for "not logged" would log it twice. gb_writer_flush and close report it, and
 * a full buffer makes the next call flush (and fail) itself. */
static gb_status finish_call(gb_writer *w, gb_status st)
{
    if (st == GB_OK && w->opts.flush_secs <= 0) st = flush_for_caller(w);
    return st;
}

static void *flusher_main(void *arg)
{
    gb_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->closing) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        double whole = floor(w->opts.flush_secs);
        deadline.tv_sec += (time_t)whole;
        deadline.tv_nsec += (long)((w->opts.flush_secs - whole) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
        int rc = 0;
        while (!w->closing && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&w->wake, &w->lock, &deadline);
        if (w->closing) break;
        /* a failed write keeps its events buffered for the next flush; a failed fsync does not */
        if (flush_locked(w) != GB_OK && gb_record_writer_pending(w->file) == 0 && w->deferred == GB_OK) {
            w->deferred = GB_EIO;
            free(w->deferred_message);
            w->deferred_message = strdup(gb_errmsg());
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Creates the file with a name no other writer has: the counter separates writers of one process
 * within one second, O_EXCL the rest. */
static gb_status create_event_file(gb_writer *w, const char *logdir, double wall_time)
{
    static atomic_uint file_counter;
    char host[256];
    if (gethostname(host, sizeof host) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    const char *suffix = w->opts.filename_suffix ? w->opts.filename_suffix : "";
    for (int attempt = 0; attempt < MAX_FILE_ATTEMPTS; attempt++) {
        char name[512];
        int n = snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%ld.%u%s",
                         (long long)wall_time, host, (long)getpid(), atomic_fetch_add(&file_counter, 1),
                         suffix);
        if (n < 0 || (size_t)n >= sizeof name) return gb_fail(GB_EINVAL, "event file name too long");
        char *path = gb_path_join(logdir, name);
        if (!path) return gb_fail(GB_ENOMEM, "out of memory");
        gb_status st = gb_record_writer_open(&w->file, path, GB_RECORD_EXCLUSIVE);
        if (st == GB_OK) {
            w->path = path;
            return GB_OK;
        }
        free(path);
        if (errno != EEXIST) return st;
    }
    return gb_fail(GB_EIO, "%s: could not find an unused event file name", logdir);
}

static gb_status write_file_version(gb_writer *w, double wall_time)
{
    Gbpb__SourceMetadata source = GBPB__SOURCE_METADATA__INIT;
    source.writer = "gradboard";
    Gbpb__Event e = GBPB__EVENT__INIT;
    e.wall_time = wall_time;
    e.what_case = GBPB__EVENT__WHAT_FILE_VERSION;
    e.file_version = "brain.Event:2";
    e.source_metadata = &source;
    uint8_t *payload;
    size_t len = gbpb__event__get_packed_size(&e);
    gb_status st = gb_record_writer_begin(w->file, len, &payload);
    if (st != GB_OK) return st;
    gbpb__event__pack(&e, payload);
    gb_record_writer_commit(w->file);
    return gb_record_writer_flush(w->file, w->opts.fsync_on_flush);
}

static void free_writer(gb_writer *w)
{
    gb_strmap_free(w->tags_with_metadata, free_tag_metadata);
    free(w->path);
    free(w->logdir);
    for (size_t i = 0; i < w->old_path_count; i++) free(w->old_paths[i]);
    free(w->old_paths);
    free(w->deferred_message);
    free((char *)w->opts.filename_suffix);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

gb_status gb_writer_open(gb_writer **out, const char *logdir, const gb_writer_opts *opts)
{
    if (!out) return gb_fail(GB_EINVAL, "gb_writer_open: out is NULL");
    *out = NULL;
    if (!logdir || !*logdir) return gb_fail(GB_EINVAL, "gb_writer_open: empty log directory");
    gb_writer_opts o = opts ? *opts : gb_writer_opts_default();
    if (!(o.flush_secs <= 1e9)) /* NaN, infinities and more than 30 years: no timer can hold them */
        return gb_fail(GB_EINVAL, "gb_writer_open: flush_secs %g is not a finite number of seconds up to 1e9", o.flush_secs);
    if (o.filename_suffix && strchr(o.filename_suffix, '/'))
        return gb_fail(GB_EINVAL, "gb_writer_open: filename_suffix \"%s\" contains '/'", o.filename_suffix);
    if (!o.clock) o.clock = system_clock;

    gb_writer *w = calloc(1, sizeof *w);
    if (!w) return gb_fail(GB_ENOMEM, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    w->opts = o;
    w->opts.filename_suffix = o.filename_suffix ? strdup(o.filename_suffix) : NULL;
    w->tags_with_metadata = gb_strmap_new();
    w->logdir = strdup(logdir);
    if ((o.filename_suffix && !w->opts.filename_suffix) || !w->tags_with_metadata || !w->logdir) {
        free_writer(w);
        return gb_fail(GB_ENOMEM, "out of memory");
    }

    double wall_time = 0;
    gb_status st = read_clock(w, &wall_time);
    if (st == GB_OK) st = gb_mkdir_p(logdir);
    if (st == GB_OK) st = create_event_file(w, logdir, wall_time);
    if (st == GB_OK) st = write_file_version(w, wall_time);
    if (st == GB_OK) remember_identity(w);
    if (st == GB_OK && o.flush_secs > 0) {
        if (pthread_create(&w->flusher, NULL, flusher_main, w) != 0)
            st = gb_fail(GB_ENOMEM, "%s: cannot start the flush thread", w->path);
        else
            w->has_flusher = 1;
    }
    if (st != GB_OK) {
        if (w->file) {
            gb_record_writer_close(w->file);
            unlink(w->path);
        }
        free_writer(w);
        return st;
    }
    *out = w;
    return GB_OK;
}

static gb_status check_tag(const char *tag, size_t *len)
{
    if (!tag || !*tag) return gb_fail(GB_EINVAL, "a summary tag must not be empty");
    *len = strlen(tag);
    if (!gb_utf8_valid(tag, *len)) return gb_fail(GB_EINVAL, "summary tag \"%s\" is not valid UTF-8", tag);
    return GB_OK;
}

/* Writes one event of scalars. Called with the lock held. */
static gb_status write_scalars_locked(gb_writer *w, int64_t step, gb_scalar_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (gb_strmap_find(w->tags_with_metadata, items[i].tag, items[i].tag_len)) continue;
        gb_status st = check_tag(items[i].tag, &items[i].tag_len);
        if (st != GB_OK) return st;
        items[i].with_metadata = 1;
    }
    double wall_time;
    gb_status st = read_clock(w, &wall_time);
    if (st != GB_OK) return st;
    size_t len = gb_scalar_event_size(wall_time, step, items, n);
    uint8_t *payload;
    st = gb_record_writer_begin(w->file, len, &payload);
    if (st != GB_OK) return st;
    gb_scalar_event_encode(payload, wall_time, step, items, n);
    gb_record_writer_commit(w->file);
    /* Only now is the metadata in the file; a tag that fails to be remembered just carries its
     * metadata again next time, which readers ignore. */
    for (size_t i = 0; i < n; i++)
        if (items[i].with_metadata && !gb_strmap_find(w->tags_with_metadata, items[i].tag, items[i].tag_len))
            (void)gb_strmap_insert(w->tags_with_metadata, items[i].tag, items[i].tag_len, SCALAR_METADATA);
    return GB_OK;
}

gb_status gb_summary_scalar(gb_writer *w, const char *tag, int64_t step, double value)
{
    if (!w) return gb_fail(GB_EINVAL, "gb_summary_scalar: writer is NULL");
    if (!tag || !*tag) return gb_fail(GB_EINVAL, "gb_summary_scalar: a summary tag must not be empty");
    gb_scalar_item item = {tag, strlen(tag), (float)value, 0};
    pthread_mutex_lock(&w->lock);
    gb_status st = finish_call(w, write_scalars_locked(w, step, &item, 1));
    pthread_mutex_unlock(&w->lock);
    return st;
}

gb_status gb_summary_scalars(gb_writer *w, int64_t step, size_t n, const char *const tags[],
                             const double values[])
{
    if (!w) return gb_fail(GB_EINVAL, "gb_summary_scalars: writer is NULL");
    if (n == 0) return GB_OK;
    if (!tags || !values) return gb_fail(GB_EINVAL, "gb_summary_scalars: tags or values is NULL");
    if (n > GB_RECORD_MAX_BYTES / 8) /* each scalar takes more than 8 bytes of the record */
        return gb_fail(GB_EINVAL, "gb_summary_scalars: %zu scalars cannot fit in one event", n);
    gb_scalar_item stack_items[STACK_ITEMS];
    gb_scalar_item *items = n <= STACK_ITEMS ? stack_items : malloc(n * sizeof *items);
    if (!items) return gb_fail(GB_ENOMEM, "out of memory for %zu scalars", n);
    gb_status st = GB_OK;
    for (size_t i = 0; i < n && st == GB_OK; i++) {
        if (!tags[i] || !*tags[i]) st = gb_fail(GB_EINVAL, "gb_summary_scalars: tag %zu is empty", i);
        else items[i] = (gb_scalar_item){tags[i], strlen(tags[i]), (float)values[i], 0};
    }
    if (st == GB_OK) {
        pthread_mutex_lock(&w->lock);
        st = finish_call(w, write_scalars_locked(w, step, items, n));
        pthread_mutex_unlock(&w->lock);
    }
    if (items != stack_items) free(items);
    return st;
}

/* Event{wall_time, step, summary: <bytes as they are>}, built without parsing the summary. */
gb_status gb_writer_add_summary_bytes(gb_writer *w, int64_t step, const void *summary, size_t len)
{
    if (!w || (!summary && len)) return gb_fail(GB_EINVAL, "gb_writer_add_summary_bytes: NULL argument");
    if (len > GB_RECORD_MAX_BYTES - 64) /* before the event's size is computed, which must not wrap */
        return gb_fail(GB_EINVAL, "gb_writer_add_summary_bytes: a summary of %zu bytes exceeds the 2 GiB record limit", len);
    gb_status checked = gb_summary_bytes_check(summary, len);
    if (checked != GB_OK) return gb_fail_context(checked, "gb_writer_add_summary_bytes: nothing written");
    pthread_mutex_lock(&w->lock);
    double wall_time;
    gb_status st = read_clock(w, &wall_time);
    if (st == GB_OK) {
        size_t total = 9 + pb_len_field_size(len) + (step ? 1 + pb_varint_size((uint64_t)step) : 0);
        uint8_t *p;
        st = gb_record_writer_begin(w->file, total, &p);
        if (st == GB_OK) {
            uint64_t bits;
            memcpy(&bits, &wall_time, sizeof bits);
            p = pb_put_key(p, 1, PB_FIXED64);
            p = pb_put_fixed64(p, bits);
            if (step) {
                p = pb_put_key(p, 2, PB_VARINT);
                p = pb_put_varint(p, (uint64_t)step);
            }
            p = pb_put_key(p, 5, PB_LEN);
            p = pb_put_varint(p, len);
            if (len) memcpy(p, summary, len);
            gb_record_writer_commit(w->file);
        }
    }
    st = finish_call(w, st);
    pthread_mutex_unlock(&w->lock);
    return st;
}

gb_status gb_writer_add_event_bytes(gb_writer *w, const void *event, size_t len)
{
    if (!w || (!event && len)) return gb_fail(GB_EINVAL, "gb_writer_add_event_bytes: NULL argument");
    if (len > GB_RECORD_MAX_BYTES)
        return gb_fail(GB_EINVAL, "gb_writer_add_event_bytes: an event of %zu bytes exceeds the 2 GiB record limit", len);
    gb_status checked = gb_event_bytes_check(event, len);
    if (checked != GB_OK) return gb_fail_context(checked, "gb_writer_add_event_bytes: nothing written");
    pthread_mutex_lock(&w->lock);
    gb_status st = finish_call(w, gb_record_writer_append(w->file, event, len));
    pthread_mutex_unlock(&w->lock);
    return st;
}

gb_status gb_writer_write_event_pb(gb_writer *w, Gbpb__Event *e)
{
    pthread_mutex_lock(&w->lock);
    gb_status st = read_clock(w, &e->wall_time);
    if (st == GB_OK) {
        size_t len = gbpb__event__get_packed_size(e);
        uint8_t *payload;
        st = gb_record_writer_begin(w->file, len, &payload);
        if (st == GB_OK) {
            gbpb__event__pack(e, payload);
            gb_record_writer_commit(w->file);
        }
    }
    st = finish_call(w, st);
    pthread_mutex_unlock(&w->lock);
    return st;
}

gb_status gb_writer_flush(gb_writer *w)
{
    if (!w) return gb_fail(GB_EINVAL, "gb_writer_flush: writer is NULL");
    pthread_mutex_lock(&w->lock);
    gb_status st = flush_for_caller(w);
    pthread_mutex_unlock(&w->lock);
    return st;
}

const char *gb_writer_path(const gb_writer *w) { return w ? w->path : NULL; }

gb_status gb_writer_close(gb_writer *w)
{
    if (!w) return GB_OK;
    pthread_mutex_lock(&w->lock);
    w->closing = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->has_flusher) pthread_join(w->flusher, NULL);

    gb_status st = flush_for_caller(w);
    gb_status closed = gb_record_writer_close(w->file);
    if (st == GB_OK) st = closed;
    free_writer(w);
    return st;
}

gb_status gb_writer_write_tensor_value(gb_writer *w, int64_t step, const char *tag, Gbpb__TensorProto *tensor,
                                       const char *plugin, const void *content, size_t content_len,
                                       Gbpb__DataClass data_class)
{
    if (!w) return gb_fail(GB_EINVAL, "summary: writer is NULL");
    size_t tag_len = 0;
    gb_status st = check_tag(tag, &tag_len);
    if (st != GB_OK) return st;
    Gbpb__SummaryMetadata__PluginData plugin_data = GBPB__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    plugin_data.plugin_name = (char *)plugin;
    plugin_data.content.data = (uint8_t *)content;
    plugin_data.content.len = content_len;
    Gbpb__SummaryMetadata metadata = GBPB__SUMMARY_METADATA__INIT;
    metadata.plugin_data = &plugin_data;
    metadata.data_class = data_class;
    Gbpb__Summary__Value value = GBPB__SUMMARY__VALUE__INIT;
    value.tag = (char *)tag;
    value.value_case = GBPB__SUMMARY__VALUE__VALUE_TENSOR;
    value.tensor = tensor;
    Gbpb__Summary__Value *values[1] = {&value};
    Gbpb__Summary summary = GBPB__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    Gbpb__Event e = GBPB__EVENT__INIT;
    e.step = step;
    e.what_case = GBPB__EVENT__WHAT_SUMMARY;
    e.summary = &summary;

    pthread_mutex_lock(&w->lock);
    int first = !gb_strmap_find(w->tags_with_metadata, tag, tag_len);
    if (first) value.metadata = &metadata;
    st = read_clock(w, &e.wall_time);
    if (st == GB_OK) {
        size_t len = gbpb__event__get_packed_size(&e);
        uint8_t *payload;
        st = gb_record_writer_begin(w->file, len, &payload);
        if (st == GB_OK) {
            gbpb__event__pack(&e, payload);
            gb_record_writer_commit(w->file);
            if (first) {
                tag_metadata *kept = pack_metadata(&metadata);
                if (gb_strmap_insert(w->tags_with_metadata, tag, tag_len, kept) != GB_OK) free(kept);
            }
        }
    }
    st = finish_call(w, st);
    pthread_mutex_unlock(&w->lock);
    return st;
}
