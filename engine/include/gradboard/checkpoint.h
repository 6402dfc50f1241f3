/* gradboard/checkpoint.h: TensorFlow's checkpoint format (V2 "tensor bundle"): <prefix>.index
 * (an SSTable of entries) and <prefix>.data-00000-of-00001 (the raw tensors).
 *
 *   gb_bundle_writer *w;
 *   gb_bundle_writer_open(&w, "runs/mlp/model.ckpt-1000");
 *   gb_bundle_add(w, "dense/kernel", GB_F32, 2, (int64_t[]){784, 10}, kernel, 784 * 10 * 4);
 *   if (gb_bundle_writer_finish(w) != GB_OK) die(gb_errmsg());   // both files appear atomically
 *
 *   gb_bundle_reader *r;
 *   gb_bundle_reader_open(&r, "runs/mlp/model.ckpt-1000");        // checks the whole index
 *   const gb_bundle_entry *e = gb_bundle_reader_find(r, "dense/kernel");
 *   gb_bundle_reader_read(r, e, buffer, e->size);                  // checks size and CRC
 *   gb_bundle_reader_close(r);
 *
 * dtype values are TensorFlow's DataType numbers (gb_dtype's, and the others TensorFlow has).
 */
#ifndef GRADBOARD_CHECKPOINT_H
#define GRADBOARD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GB_DT_STRING = 7, GB_DT_VARIANT = 21 };

/* Bytes per element of a TensorFlow dtype stored raw; 0 for strings, variants and unknown types. */
size_t gb_tf_dtype_size(int dtype);
/* "float32", "string", ... or "dtype <n>". Static storage. */
const char *gb_tf_dtype_name(int dtype);

/* ---- writing ---- */

typedef struct gb_bundle_writer gb_bundle_writer;

/* Starts a checkpoint at prefix, making its directory if missing (as TensorFlow's writer). The
 * data go to a temporary file until gb_bundle_writer_finish. Returns new (finish or abort frees
 * it). */
gb_status gb_bundle_writer_open(gb_bundle_writer **out, const char *prefix);

/* Adds a numeric tensor: bytes must equal elements x element size. Names are unique, non-empty.
 * Negative dimensions, and shapes whose element count overflows int64, are GB_ESHAPE. */
gb_status gb_bundle_add(gb_bundle_writer *w, const char *name, int dtype, int rank, const int64_t *dims, const void *data,
                        size_t bytes);

/* Adds a DT_STRING tensor of elements strings (lens[i] bytes each). */
gb_status gb_bundle_add_strings(gb_bundle_writer *w, const char *name, int rank, const int64_t *dims,
                                const char *const *strings, const size_t *lens);

/* Writes the index and makes the checkpoint appear: data file fsynced and renamed, then the index
 * (written to a temporary name, fsynced, renamed), then the directory fsynced. A crash at any
 * point leaves either the whole checkpoint or no index for it. Over an existing checkpoint, its
 * index is removed before its data are replaced: a crash or failure then leaves no checkpoint at
 * prefix (gb_saver_save keeps a checkpoint saved again loadable throughout). Frees w, also on
 * failure (and then removes what it wrote). */
gb_status gb_bundle_writer_finish(gb_bundle_writer *w);

/* durable 1 (the default): finish fsyncs both files and the directory, so a power loss keeps
 * the checkpoint. 0: no fsync, as TensorFlow's and PyTorch's savers do; the temporary names and
 * renames still keep a crashed process from leaving half a checkpoint, but after a power loss
 * the newest checkpoint may be missing or empty. */
void gb_bundle_writer_set_durable(gb_bundle_writer *w, int durable);

/* Gives up: removes the temporary files and frees w. NULL is a no-op. */
void gb_bundle_writer_abort(gb_bundle_writer *w);

/* ---- reading ---- */

typedef struct gb_bundle_entry {
    const char *name;
    int dtype;
    int rank;
    const int64_t *dims;
    int64_t elements;
    uint64_t offset, size;
    int shard;
    uint32_t crc32c;     /* unmasked */
    int sliced;          /* a partitioned variable's whole-tensor entry: its data are in slices, each with
                          * its own CRC; size is theirs together (offset, shard, crc32c are 0) */
} gb_bundle_entry;

typedef struct gb_bundle_reader gb_bundle_reader;

/* Opens the checkpoint at prefix: reads and checks the whole index (block CRCs, handles, the
 * header's version, every entry: known shapes, size = elements x element size for numeric types,
 * offsets inside the data file; a partitioned tensor's slices: present, inside it, covering it
 * once). A TensorFlow V1-format checkpoint (a file at prefix, no .index) is GB_EUNSUPPORTED.
 * Returns new (free with gb_bundle_reader_close). */
gb_status gb_bundle_reader_open(gb_bundle_reader **out, const char *prefix);
void gb_bundle_reader_close(gb_bundle_reader *r);

/* Entries in name order (the header excluded). */
size_t gb_bundle_reader_count(const gb_bundle_reader *r);
const gb_bundle_entry *gb_bundle_reader_entry(const gb_bundle_reader *r, size_t i);
/* The entry named name, or NULL. */
const gb_bundle_entry *gb_bundle_reader_find(const gb_bundle_reader *r, const char *name);

/* Reads an entry's stored bytes into buf (bytes == e->size) and checks its CRC. An empty entry
 * needs no buffer (buf NULL, bytes 0). A partitioned numeric tensor is assembled from its slices
 * (each slice's CRC checked), as TensorFlow's reader does. */
gb_status gb_bundle_reader_read(gb_bundle_reader *r, const gb_bundle_entry *e, void *buf, size_t bytes);

/* Reads a DT_STRING entry: *strings gets e->elements pointers into one new block (free(*strings)
 * frees everything) and *lens their lengths (free separately). A partitioned one is
 * GB_EUNSUPPORTED. */
gb_status gb_bundle_reader_read_strings(gb_bundle_reader *r, const gb_bundle_entry *e, char ***strings, size_t **lens);

/* Reads every stored byte of an entry (a partitioned tensor's slices too) and checks its
 * checksums as TensorFlow's reader would: numeric, string and DT_VARIANT tensors. GB_OK, the
 * read's or the check's error, or GB_EUNSUPPORTED for data it cannot check (resources,
 * partitioned strings and variants). */
gb_status gb_bundle_reader_check(gb_bundle_reader *r, const gb_bundle_entry *e);

#ifdef __cplusplus
}
#endif
#endif
