#include "internal/scalar_encode.h"
#include "internal/pb_wire.h"

#include <string.h>

/* Field numbers (see proto/event.proto, summary.proto, tensor.proto). */
enum {
    EVENT_WALL_TIME = 1, EVENT_STEP = 2, EVENT_SUMMARY = 5,
    SUMMARY_VALUE = 1,
    VALUE_TAG = 1, VALUE_TENSOR = 8, VALUE_METADATA = 9,
    TENSOR_DTYPE = 1, TENSOR_SHAPE = 2, TENSOR_FLOAT_VAL = 5,
    METADATA_PLUGIN_DATA = 1, METADATA_DATA_CLASS = 4,
    PLUGIN_DATA_NAME = 1,
    DT_FLOAT = 1, DATA_CLASS_SCALAR = 1
};

/* TensorProto{dtype: DT_FLOAT, tensor_shape: {}, float_val: [v]}: 2 + 2 + 6 bytes. */
enum { TENSOR_BYTES = 10 };
/* SummaryMetadata{plugin_data{plugin_name: "scalars"}, data_class: SCALAR}. */
static const uint8_t scalar_metadata[] = {
    METADATA_PLUGIN_DATA << 3 | PB_LEN, 9, PLUGIN_DATA_NAME << 3 | PB_LEN, 7,
    's', 'c', 'a', 'l', 'a', 'r', 's', METADATA_DATA_CLASS << 3 | PB_VARINT, DATA_CLASS_SCALAR};

const uint8_t *gb_scalar_metadata(size_t *len)
{
    *len = sizeof scalar_metadata;
    return scalar_metadata;
}

static size_t value_size(const gb_scalar_item *item)
{
    size_t n = pb_len_field_size(item->tag_len) + pb_len_field_size(TENSOR_BYTES);
    if (item->with_metadata) n += pb_len_field_size(sizeof scalar_metadata);
    return n;
}

static size_t summary_size(const gb_scalar_item *items, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += pb_len_field_size(value_size(&items[i]));
    return total;
}

static uint64_t double_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

/* proto3 leaves fields that hold their default (0) off the wire; protobuf-c does the same. */
size_t gb_scalar_event_size(double wall_time, int64_t step, const gb_scalar_item *items, size_t n)
{
    size_t total = pb_len_field_size(summary_size(items, n));
    if (wall_time != 0) total += 1 + 8;
    if (step != 0) total += 1 + pb_varint_size((uint64_t)step);
    return total;
}

void gb_scalar_event_encode(uint8_t *p, double wall_time, int64_t step, const gb_scalar_item *items,
                            size_t n)
{
    if (wall_time != 0) {
        p = pb_put_key(p, EVENT_WALL_TIME, PB_FIXED64);
        p = pb_put_fixed64(p, double_bits(wall_time));
    }
    if (step != 0) {
        p = pb_put_key(p, EVENT_STEP, PB_VARINT);
        p = pb_put_varint(p, (uint64_t)step);
    }
    p = pb_put_key(p, EVENT_SUMMARY, PB_LEN);
    p = pb_put_varint(p, summary_size(items, n));
    for (size_t i = 0; i < n; i++) {
        const gb_scalar_item *item = &items[i];
        p = pb_put_key(p, SUMMARY_VALUE, PB_LEN);
        p = pb_put_varint(p, value_size(item));

        p = pb_put_key(p, VALUE_TAG, PB_LEN);
        p = pb_put_varint(p, item->tag_len);
        memcpy(p, item->tag, item->tag_len);
        p += item->tag_len;

        p = pb_put_key(p, VALUE_TENSOR, PB_LEN);
        *p++ = TENSOR_BYTES;
        p = pb_put_key(p, TENSOR_DTYPE, PB_VARINT);
        *p++ = DT_FLOAT;
        p = pb_put_key(p, TENSOR_SHAPE, PB_LEN);
        *p++ = 0;
        p = pb_put_key(p, TENSOR_FLOAT_VAL, PB_LEN);
        *p++ = 4;
        uint32_t bits;
        memcpy(&bits, &item->value, sizeof bits);
        p = pb_put_fixed32(p, bits);

        if (item->with_metadata) {
            p = pb_put_key(p, VALUE_METADATA, PB_LEN);
            *p++ = (uint8_t)sizeof scalar_metadata;
            memcpy(p, scalar_metadata, sizeof scalar_metadata);
            p += sizeof scalar_metadata;
        }
    }
}
