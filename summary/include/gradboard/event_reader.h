/* gradboard/event_reader.h: read event files, ours or any other writer's.
 *
 *   gb_event_reader *r;
 *   if (gb_event_reader_open(&r, "runs/mlp") != GB_OK) die(gb_errmsg());  // a run dir or one file
 *   const gb_event *ev;
 *   gb_status st;
 *   while ((st = gb_event_reader_next(r, &ev)) != GB_END) {
 *       if (st != GB_OK) { fprintf(stderr, "%s\n", gb_errmsg()); continue; }  // rest of file skipped
 *       for (size_t i = 0; i < gb_event_value_count(ev); i++) {
 *           double v;
 *           if (gb_event_value_scalar(ev, i, &v) == GB_OK)
 *               printf("%s step %lld = %g\n", gb_event_value_tag(ev, i), (long long)gb_event_step(ev), v);
 *       }
 *   }
 *   gb_event_reader_close(r);
 *
 * A run is a directory holding event files (any file whose name contains "tfevents"); its files
 * are read in name order, as TensorBoard does. Each value's plugin is resolved like TensorBoard
 * resolves it: from the metadata on the first value of its tag in the run, or from the legacy
 * value form (simple_value, histo, image, audio). A reader is not thread-safe.
 */
#ifndef GRADBOARD_EVENT_READER_H
#define GRADBOARD_EVENT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_event_reader gb_event_reader;
typedef struct gb_event gb_event;

typedef enum gb_event_type {
    GB_EVENT_EMPTY = 0,         /* wall time and step only */
    GB_EVENT_FILE_VERSION,      /* the first event of a file */
    GB_EVENT_SUMMARY,           /* tagged values */
    GB_EVENT_GRAPH,             /* a GraphDef (one synthetic value, tag "__run_graph__") */
    GB_EVENT_META_GRAPH,        /* a MetaGraphDef */
    GB_EVENT_RUN_METADATA,      /* tagged run metadata (one synthetic value with its tag) */
    GB_EVENT_SESSION_LOG,       /* START / STOP / CHECKPOINT */
    GB_EVENT_LOG_MESSAGE        /* deprecated text log line */
} gb_event_type;

typedef enum gb_value_kind {
    GB_VALUE_TENSOR = 0,        /* a tensor of an unknown or unnamed plugin */
    GB_VALUE_SCALAR,
    GB_VALUE_HISTOGRAM,
    GB_VALUE_IMAGE,
    GB_VALUE_AUDIO,
    GB_VALUE_TEXT,
    GB_VALUE_PR_CURVE,
    GB_VALUE_HPARAMS,
    GB_VALUE_CUSTOM_SCALARS,
    GB_VALUE_GRAPH,
    GB_VALUE_RUN_METADATA
} gb_value_kind;

/* "scalar", "histogram", "image", ... Static storage. */
const char *gb_value_kind_name(gb_value_kind kind);

/* Opens a run directory (its event files, in name order) or a single event file.
 * Returns new (free with gb_event_reader_close). GB_ENOTFOUND when path does not exist or a
 * directory holds no event file. */
gb_status gb_event_reader_open(gb_event_reader **out, const char *path);

/* The next event. *ev is valid until the next call. Returns GB_OK; GB_END after the last event of
 * the last file; GB_ECORRUPT, GB_ETRUNCATED or GB_EIO when the current file has a bad record or
 * ends inside one (gb_errmsg() names file and byte offset). After an error the rest of that
 * file is skipped and the next call goes on with the run's next file. */
gb_status gb_event_reader_next(gb_event_reader *r, const gb_event **ev);

/* The file of the last event or error; NULL before the first call. Valid until the next call. */
const char *gb_event_reader_file(const gb_event_reader *r);

/* Number of event files in the run (1 for a single file). */
size_t gb_event_reader_file_count(const gb_event_reader *r);

/* Byte offset of the last event's (or bad record's) record in its file. */
uint64_t gb_event_reader_offset(const gb_event_reader *r);

/* Tags seen so far in the run, numbered in order of first appearance (see
 * gb_event_value_tag_index), and the name of tag number index (valid until the reader closes). */
size_t gb_event_reader_tag_count(const gb_event_reader *r);
const char *gb_event_reader_tag(const gb_event_reader *r, size_t index);

/* Closes and frees r. NULL is a no-op. */
void gb_event_reader_close(gb_event_reader *r);

/* ---- one event (borrowed from the reader; valid until its next call) ---- */

double gb_event_wall_time(const gb_event *ev);
int64_t gb_event_step(const gb_event *ev);
gb_event_type gb_event_type_of(const gb_event *ev);

/* The serialized Event, for callers that parse it themselves. */
const uint8_t *gb_event_payload(const gb_event *ev, size_t *len);

/* "brain.Event:2" for GB_EVENT_FILE_VERSION, else NULL. */
const char *gb_event_file_version(const gb_event *ev);

/* SessionLog status (1 START, 2 STOP, 3 CHECKPOINT) for GB_EVENT_SESSION_LOG, else 0. */
int gb_event_session_status(const gb_event *ev);

/* Values of a summary event; a graph or run-metadata event has one synthetic value. */
size_t gb_event_value_count(const gb_event *ev);
const char *gb_event_value_tag(const gb_event *ev, size_t i);
/* The plugin that owns the tag in this run ("scalars", "images", ...; "" when none). */
const char *gb_event_value_plugin(const gb_event *ev, size_t i);
gb_value_kind gb_event_value_kind(const gb_event *ev, size_t i);
/* The tag's number in the run: 0 for the first tag seen, 1 for the next new one, ... */
size_t gb_event_value_tag_index(const gb_event *ev, size_t i);

/* The number of a scalar value (a legacy simple_value, or a one-element numeric tensor of
 * plugin "scalars"). GB_EINVAL when value i is not a scalar. */
gb_status gb_event_value_scalar(const gb_event *ev, size_t i, double *out);

/* The first string of a DT_STRING tensor (text summaries), *len bytes, not NUL-terminated; an
 * empty string is "" with *len 0. NULL when the value holds no string (*len untouched). */
const char *gb_event_value_string(const gb_event *ev, size_t i, size_t *len);

/* Checks that a serialized Event is well-formed at its top level without allocating: every field
 * has the wire type Event declares, lengths stay inside the record, and the wall time is finite
 * (TensorBoard's fast loader gives up on a file at a NaN wall time). GB_ECORRUPT says why. */
gb_status gb_event_check(const void *payload, size_t len);

/* ---- runs of a log directory ---- */

/* The runs under logdir: every directory at any depth (logdir itself included, named ".") that
 * holds an event file, as paths relative to logdir, sorted. Returns a new array of new strings
 * in *runs (free with gb_string_list_free). */
gb_status gb_logdir_runs(const char *logdir, char ***runs, size_t *count);

/* Full paths of the event files directly in run_dir, sorted by file name (the order TensorBoard
 * reads them in). Returns a new array of new strings (free with gb_string_list_free); a
 * directory without event files gives GB_OK and *count 0. */
gb_status gb_run_event_files(const char *run_dir, char ***files, size_t *count);

/* Frees what gb_logdir_runs and gb_run_event_files return. NULL is a no-op. */
void gb_string_list_free(char **list, size_t count);

/* 1 when the file name (last path component) names an event file as TensorBoard decides it. */
int gb_is_event_file_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
