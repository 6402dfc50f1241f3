#include "event.pb-c.h"
#include "gradboard/event_reader.h"
#include "gradboard/writer.h"
#include "internal/bytes.h"
#include "internal/error.h"
#include "internal/pb_check.h"
#include "internal/pb_wire.h"

#include <math.h>
#include <string.h>

/* Reads a varint at *p (< end). Returns 0 when it runs past end or past 10 bytes. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Wire type each Event field must have (0 = not an Event field: any valid wire type). */
static int expected_wire_type(uint64_t field)
{
    switch (field) {
    case 1: return PB_FIXED64 + 1;  /* wall_time */
    case 2: return PB_VARINT + 1;   /* step */
    case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: return PB_LEN + 1;
    default: return 0;
    }
}

gb_status gb_event_check(const void *payload, size_t len)
{
    if (len == 0) return GB_OK; /* an empty Event; payload may be NULL, and NULL + 0 is undefined */
    const uint8_t *p = payload, *end = p + len;
    while (p < end) {
        size_t at = (size_t)(p - (const uint8_t *)payload);
        uint64_t key;
        if (!read_varint(&p, end, &key)) return gb_fail(GB_ECORRUPT, "bad field key at payload byte %zu", at);
        uint64_t field = key >> 3;
        unsigned wire = (unsigned)(key & 7);
        if (field == 0) return gb_fail(GB_ECORRUPT, "field number 0 at payload byte %zu", at);
        int expected = expected_wire_type(field);
        if (expected && wire != (unsigned)(expected - 1))
            return gb_fail(GB_ECORRUPT, "Event field %llu has wire type %u at payload byte %zu",
                           (unsigned long long)field, wire, at);
        uint64_t n;
        switch (wire) {
        case PB_VARINT:
            if (!read_varint(&p, end, &n)) return gb_fail(GB_ECORRUPT, "bad varint at payload byte %zu", at);
            break;
        case PB_FIXED64:
            if (end - p < 8) return gb_fail(GB_ECORRUPT, "field at payload byte %zu runs past the record", at);
            if (field == 1) {
                uint64_t bits = gb_load_le64(p);
                double wall_time;
                memcpy(&wall_time, &bits, sizeof wall_time);
                if (!isfinite(wall_time))
                    return gb_fail(GB_ECORRUPT, "wall_time is %g (TensorBoard's fast loader stops at it)", wall_time);
            }
            p += 8;
            break;
        case PB_LEN:
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
                return gb_fail(GB_ECORRUPT, "field at payload byte %zu runs past the record", at);
            p += n;
            break;
        case PB_FIXED32:
            if (end - p < 4) return gb_fail(GB_ECORRUPT, "field at payload byte %zu runs past the record", at);
            p += 4;
            break;
        default:
            return gb_fail(GB_ECORRUPT, "unknown wire type %u at payload byte %zu", wire, at);
        }
    }
    return GB_OK;
}

/* Bounds the walk below; the messages an Event holds nest a handful of levels deep. */
enum { MAX_MESSAGE_DEPTH = 32 };

static gb_status check_string(const ProtobufCFieldDescriptor *f, const char *s, const char *message_name)
{
    if (s && !gb_utf8_valid(s, strlen(s)))
        return gb_fail(GB_EINVAL, "%s.%s is not valid UTF-8 (TensorBoard's loaders refuse the whole event)",
                       message_name, f->name);
    return GB_OK;
}

/* Walks every set string field of m and of the messages in it, using protobuf-c's descriptors,
 * so fields added to the .proto files are covered without changes here. */
static gb_status check_strings(const ProtobufCMessage *m, int depth)
{
    if (depth > MAX_MESSAGE_DEPTH) return gb_fail(GB_ECORRUPT, "messages nest more than %d deep", MAX_MESSAGE_DEPTH);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const void *const *items;
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&items, base + f->offset, sizeof items);
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t which;
                memcpy(&which, base + f->quantifier_offset, sizeof which);
                if (which != f->id) continue; /* the slot holds another member of the oneof */
            }
            items = (const void *const *)(base + f->offset);
        }
        for (size_t k = 0; k < n; k++) {
            gb_status st = f->type == PROTOBUF_C_TYPE_STRING ? check_string(f, items[k], d->short_name)
                           : items[k]                        ? check_strings(items[k], depth + 1)
                                                             : GB_OK;
            if (st != GB_OK) return st;
        }
    }
    return GB_OK;
}

gb_status gb_event_bytes_check(const void *payload, size_t len)
{
    Gbpb__Event *e = gbpb__event__unpack(NULL, len, payload);
    if (!e) return gb_fail(GB_ECORRUPT, "%zu bytes do not parse as an Event", len);
    gb_status st = GB_OK;
    if (!isfinite(e->wall_time))
        st = gb_fail(GB_EINVAL, "the Event's wall_time is %g (TensorBoard's loaders stop at it)", e->wall_time);
    if (st == GB_OK) st = check_strings(&e->base, 0);
    gbpb__event__free_unpacked(e, NULL);
    /* what protobuf-c tolerates and TensorBoard's fast loader does not (wire types, field 0) */
    if (st == GB_OK) st = gb_event_check(payload, len);
    return st;
}

gb_status gb_summary_bytes_check(const void *summary, size_t len)
{
    Gbpb__Summary *s = gbpb__summary__unpack(NULL, len, summary);
    if (!s) return gb_fail(GB_ECORRUPT, "%zu bytes do not parse as a Summary", len);
    gb_status st = check_strings(&s->base, 0);
    gbpb__summary__free_unpacked(s, NULL);
    return st;
}
