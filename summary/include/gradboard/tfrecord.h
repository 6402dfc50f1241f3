/* gradboard/tfrecord.h: TFRecord files, the container of TensorBoard event files.
 *
 *   gb_record_writer *rw;
 *   if (gb_record_writer_open(&rw, "out.tfrecord", GB_RECORD_TRUNCATE) != GB_OK) die(gb_errmsg());
 *   gb_record_writer_append(rw, "hello", 5);
 *   gb_record_writer_close(rw);                       // flushes
 *
 *   gb_record_reader *rr;
 *   gb_record_reader_open(&rr, "out.tfrecord");
 *   const uint8_t *data; size_t len; gb_status st;
 *   while ((st = gb_record_reader_next(rr, &data, &len)) == GB_OK) use(data, len);
 *   if (st != GB_END) fprintf(stderr, "%s\n", gb_errmsg());   // names file and byte offset
 *   gb_record_reader_close(rr);
 *
 * A record on disk: uint64 length (little-endian), masked CRC32C of those 8 bytes, the data,
 * masked CRC32C of the data. Neither the writer nor the reader is thread-safe; use one per thread
 * (gb_writer in writer.h adds locking on top).
 */
#ifndef GRADBOARD_TFRECORD_H
#define GRADBOARD_TFRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    GB_RECORD_HEADER_BYTES = 12, /* length + its masked CRC */
    GB_RECORD_FOOTER_BYTES = 4,  /* masked CRC of the data */
    GB_RECORD_OVERHEAD = GB_RECORD_HEADER_BYTES + GB_RECORD_FOOTER_BYTES
};

/* Largest record the reader accepts: protobuf messages cannot exceed 2 GiB. */
#define GB_RECORD_MAX_BYTES ((uint64_t)INT32_MAX)

/* Writes the 12-byte header of a record holding len bytes. */
void gb_record_frame_header(uint8_t header[GB_RECORD_HEADER_BYTES], uint64_t len);

/* Writes the 4-byte footer (masked CRC32C) of data. */
void gb_record_frame_footer(uint8_t footer[GB_RECORD_FOOTER_BYTES], const void *data, size_t len);

/* ---- writer ---- */

typedef struct gb_record_writer gb_record_writer;

typedef enum gb_record_open_mode {
    GB_RECORD_TRUNCATE = 0,  /* create, or empty an existing file */
    GB_RECORD_EXCLUSIVE = 1, /* create; GB_EIO with errno EEXIST if the file exists */
    GB_RECORD_APPEND = 2     /* create, or add after the existing records (see below) */
} gb_record_open_mode;

/* Opens path for writing records through an in-memory buffer of 256 KiB (grown for larger
 * records). Returns new (free with gb_record_writer_close). The file is created with mode 0644.
 * GB_RECORD_APPEND reads an existing file through first (checking every checksum), because
 * records added after a torn one would be unreachable: a file that ends inside a record (a
 * crash mid-write) is cut back to the end of its last whole record; a corrupt record, or a file
 * that is not a TFRecord file at all (including one shorter than a record header), is refused
 * with GB_ECORRUPT naming the byte offset, and the file is left as it was. Appending therefore
 * needs read access to the file as well as write access. Only one writer may append to a file
 * at a time. */
gb_status gb_record_writer_open(gb_record_writer **out, const char *path, gb_record_open_mode mode);

/* Copies one record into the buffer, flushing first if the buffer is full. */
gb_status gb_record_writer_append(gb_record_writer *w, const void *data, size_t len);

/* Zero-copy form of append: reserves room for a record of exactly len bytes and sets *payload to
 * where its data goes. The caller fills len bytes, then calls gb_record_writer_commit. Nothing else
 * may be called on w in between. *payload is valid until the commit. */
gb_status gb_record_writer_begin(gb_record_writer *w, size_t len, uint8_t **payload);
void gb_record_writer_commit(gb_record_writer *w);

/* Writes the buffer to the file; with do_fsync, also waits for it to reach the disk. A flush is
 * all or nothing: if the system refuses part of it, the file is cut back to its previous size,
 * the records stay buffered for the next flush, and GB_EIO is returned. */
gb_status gb_record_writer_flush(gb_record_writer *w, int do_fsync);

/* Bytes buffered and not yet written to the file. */
size_t gb_record_writer_pending(const gb_record_writer *w);

/* Size of the file once everything buffered is written. */
uint64_t gb_record_writer_size(const gb_record_writer *w);

/* Flushes, closes and frees w (also when the flush fails; the status says so). NULL is a no-op. */
gb_status gb_record_writer_close(gb_record_writer *w);

/* ---- reader ---- */

typedef struct gb_record_reader gb_record_reader;

/* Opens a file of records. Returns new (free with gb_record_reader_close). */
gb_status gb_record_reader_open(gb_record_reader **out, const char *path);

/* Reads the next record. *data points into the reader's buffer and is valid until the next call.
 * Returns GB_OK; GB_END after the last whole record; GB_ETRUNCATED when the file ends inside a
 * record (a crash or a writer still appending: calling again retries the same record, so it
 * succeeds once the rest has been written); GB_ECORRUPT on a checksum mismatch or an impossible
 * length (every later call returns it again: nothing past a bad record is read). */
gb_status gb_record_reader_next(gb_record_reader *r, const uint8_t **data, size_t *len);

/* Byte offset where the last record returned, or the bad or truncated one, starts. */
uint64_t gb_record_reader_offset(const gb_record_reader *r);

/* The path given to gb_record_reader_open. Valid until the reader is closed. */
const char *gb_record_reader_path(const gb_record_reader *r);

/* Closes and frees r. NULL is a no-op. */
void gb_record_reader_close(gb_record_reader *r);

#ifdef __cplusplus
}
#endif
#endif
