/* Private: encodes Events that hold only scalar summaries, without protobuf-c, because the
 * writer's throughput is bounded by this step (protobuf-c needs ~300 ns per event, this ~20 ns). */
#ifndef GB_INTERNAL_SCALAR_ENCODE_H
#define GB_INTERNAL_SCALAR_ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb_scalar_item {
    const char *tag;
    size_t tag_len;
    float value;
    int with_metadata;  /* first value of this tag in the file: add plugin "scalars" metadata */
} gb_scalar_item;

/* The serialized SummaryMetadata that a scalar's first value carries (static storage). */
const uint8_t *gb_scalar_metadata(size_t *len);

/* Bytes of Event{wall_time, step, summary{value: one per item}}. */
size_t gb_scalar_event_size(double wall_time, int64_t step, const gb_scalar_item *items, size_t n);

/* Writes exactly gb_scalar_event_size(...) bytes to out. Each value is a rank-0 DT_FLOAT tensor. */
void gb_scalar_event_encode(uint8_t *out, double wall_time, int64_t step, const gb_scalar_item *items,
                            size_t n);

#endif
