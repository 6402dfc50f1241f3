/* Private: the bundle reader's state, shared by bundle_reader.c (the index and whole entries) and
 * bundle_slices.c (partitioned tensors: their slices found, checked and assembled). */
#ifndef GB_INTERNAL_BUNDLE_READER_IMPL_H
#define GB_INTERNAL_BUNDLE_READER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/checkpoint.h"
#include "internal/sstable.h"
#include "tensor_bundle.pb-c.h"

/* One stored slice of a partitioned tensor: a box of the whole tensor, and where its data are. */
typedef struct bundle_slice {
    const int64_t *start, *length; /* rank each, into the reader's slice_extents */
    int64_t elements;
    uint64_t offset, size;
    int shard;
    uint32_t crc32c; /* unmasked */
} bundle_slice;

struct gb_bundle_reader {
    char *prefix;
    gb_bundle_entry *entries;
    size_t n;
    int num_shards;
    int *fds;            /* one per shard, opened lazily */
    uint64_t *shard_sizes;
    char *names;         /* every entry's name, NUL-terminated, back to back */
    int64_t *dims;       /* every entry's dimensions */
    uint32_t last_crc;   /* CRC32C of the bytes read_raw read last */
    bundle_slice *slices;
    size_t n_slices;
    size_t *first_slice; /* entry i's slices: slices[first_slice[i] .. first_slice[i + 1]) */
    int64_t *slice_extents;
    size_t n_extents;
};

/* Reads the size bytes at offset of shard (data of tensor name) into buf; their CRC32C goes to
 * r->last_crc. */
gb_status gb_bundle_read_stored(gb_bundle_reader *r, const char *name, int shard, uint64_t offset, uint64_t size,
                                void *buf);

/* Finds and checks the slices the entry of partitioned tensor e (index entry `at` of the n in
 * table, protos parsed) lists, appending them to r->slices; sets e->size to their bytes. */
gb_status gb_bundle_load_slices(gb_bundle_reader *r, gb_bundle_entry *e, const gb_sstable_entry *table, size_t n,
                                size_t at, Gbpb__BundleEntryProto *const *protos, const char *index_path);

/* Reads partitioned tensor e into buf (e->size bytes): each slice read, its CRC checked, and
 * copied to its place. */
gb_status gb_bundle_read_slices(gb_bundle_reader *r, const gb_bundle_entry *e, uint8_t *buf);

#endif
