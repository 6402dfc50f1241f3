/* gradboard/writer.h: write TensorBoard event files from any C program.
 *
 *   gb_writer *w;
 *   if (gb_writer_open(&w, "runs/mlp", NULL) != GB_OK) {        // NULL: default options
 *       fprintf(stderr, "%s\n", gb_errmsg());
 *       return 1;
 *   }
 *   for (int64_t step = 0; step < 1000; step++)
 *       gb_summary_scalar(w, "train/loss", step, loss_at(step));
 *   const char *tags[] = {"test/loss", "test/accuracy"};
 *   double values[] = {0.31, 0.89};
 *   gb_summary_scalars(w, 1000, 2, tags, values);               // several tags, one event
 *   gb_writer_close(w);                                          // flushes; then view with
 *                                                                //   tensorboard --logdir runs
 *
 * Each writer owns one new file, <logdir>/events.out.tfevents.<seconds>.<host>.<pid>.<n>[suffix],
 * whose first record is the "brain.Event:2" version event. Events are buffered in memory and
 * written whole: every `flush_secs` by a background thread, when the buffer fills, on
 * gb_writer_flush and on gb_writer_close. A crash loses at most what was not yet flushed, and a
 * reader never sees half a record. All calls on one writer are thread-safe.
 *
 * Errors: a call that logs returns an error only when its own event was not recorded, so it is
 * always safe to retry. A background flush that fails (a full disk) keeps the events buffered;
 * gb_writer_flush and gb_writer_close retry and report, and a full buffer makes the next call
 * flush itself and fail. A background fsync failure is reported by the next flush or close.
 * Exception: with flush_secs <= 0 (write-through) a call reports its own write's failure, but its
 * event stays buffered and goes out with the next successful flush; do not log it again.
 *
 * A deleted file: every flush first checks that the path still names the writer's file. When
 * the file (or its whole log directory) was deleted or replaced, usually to clear a run while
 * training goes on, the writer does what TensorFlow's does: it recreates the log directory and
 * continues in a new event file (new name, see gb_writer_path) that receives every event not yet
 * flushed; what was flushed before the deletion is gone with the old file. If the new file
 * cannot be created, the flush fails with the reason and the events stay buffered.
 */
#ifndef GRADBOARD_WRITER_H
#define GRADBOARD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_writer gb_writer;

typedef struct gb_writer_opts {
    /* Longest time an event waits in memory before reaching the file. Default 10 s.
     * Zero or less writes every event through at once (slow; for debugging). */
    double flush_secs;
    /* Appended to the file name (e.g. ".train"). Default NULL: nothing. Must not contain '/'. */
    const char *filename_suffix;
    /* Non-zero: every flush also fsyncs, so flushed events survive a power loss. Default 0. */
    int fsync_on_flush;
    /* Source of event wall times in seconds since the epoch. Default NULL: the system clock.
     * Replays and tests set it; it must return finite values. */
    double (*clock)(void *clock_ctx);
    void *clock_ctx;
} gb_writer_opts;

/* The default options (what NULL means): 10 s flushes, no suffix, no fsync, system clock. */
gb_writer_opts gb_writer_opts_default(void);

/* Creates logdir (and missing parents) and a new event file in it. Returns new in *out (free
 * with gb_writer_close). opts may be NULL; it is copied. An unwritable logdir fails here with
 * GB_EIO naming the directory, not later. */
gb_status gb_writer_open(gb_writer **out, const char *logdir, const gb_writer_opts *opts);

/* Logs value (stored as float32, like TensorBoard's own scalars) under tag at step. The tag is
 * non-empty UTF-8; `/` groups tags in the UI. NaN and infinities are kept. The first value of each
 * tag carries the "scalars" plugin metadata. */
gb_status gb_summary_scalar(gb_writer *w, const char *tag, int64_t step, double value);

/* Logs n scalars in one event at one step: tags[i] = values[i]. */
gb_status gb_summary_scalars(gb_writer *w, int64_t step, size_t n, const char *const tags[],
                             const double values[]);

/* Logs a serialized Summary message (borrowed; copied) in one event at step. The caller owns the
 * plugin-metadata convention for its tags. The bytes are parsed first, since one bad record
 * makes TensorBoard drop the rest of the file: GB_ECORRUPT when they are not a Summary,
 * GB_EINVAL when a string in it (a tag, a plugin name) is not UTF-8; nothing is written then. */
gb_status gb_writer_add_summary_bytes(gb_writer *w, int64_t step, const void *summary, size_t len);

/* Appends a serialized Event message (borrowed; copied) as it is, wall time included. Checked
 * like gb_writer_add_summary_bytes: GB_ECORRUPT when the bytes are not an Event, GB_EINVAL when
 * its wall time is not finite or a string in it is not UTF-8; nothing is written then. */
gb_status gb_writer_add_event_bytes(gb_writer *w, const void *event, size_t len);

/* Writes SessionLog START at step. Call it whenever training starts: at step 0 for a new run, and
 * at the restored step when a run resumes from a checkpoint. TensorBoard treats every START
 * after a run's first as a restart and drops that run's points logged earlier at or after its
 * step (the stale future the restore undid). */
gb_status gb_writer_session_start(gb_writer *w, int64_t step);

/* Writes everything buffered to the file (and fsyncs when asked to in the options). */
gb_status gb_writer_flush(gb_writer *w);

/* The event file's path: after a deletion (see above), the new file's. Every path returned
 * stays valid until gb_writer_close. */
const char *gb_writer_path(const gb_writer *w);

/* 1 when s[0..len) is well-formed UTF-8, as protobuf strings (tags) must be; TensorBoard's
 * Python loader rejects a whole event whose strings are not. */
int gb_utf8_valid(const char *s, size_t len);

/* Flushes, closes and frees w, also on failure (the status then says what was lost).
 * NULL is a no-op. Call it once every other call on w, in any thread, has returned. */
gb_status gb_writer_close(gb_writer *w);

#ifdef __cplusplus
}
#endif
#endif
