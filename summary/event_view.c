#include "gradboard/event_reader.h"
#include "internal/bytes.h"
#include "internal/error.h"
#include "internal/event_view.h"

#include <math.h>
#include <string.h>

double gb_event_wall_time(const gb_event *ev) { return ev->pb->wall_time; }

int64_t gb_event_step(const gb_event *ev) { return ev->pb->step; }

gb_event_type gb_event_type_of(const gb_event *ev)
{
    switch (ev->pb->what_case) {
    case GBPB__EVENT__WHAT_FILE_VERSION: return GB_EVENT_FILE_VERSION;
    case GBPB__EVENT__WHAT_SUMMARY: return GB_EVENT_SUMMARY;
    case GBPB__EVENT__WHAT_GRAPH_DEF: return GB_EVENT_GRAPH;
    case GBPB__EVENT__WHAT_META_GRAPH_DEF: return GB_EVENT_META_GRAPH;
    case GBPB__EVENT__WHAT_TAGGED_RUN_METADATA: return GB_EVENT_RUN_METADATA;
    case GBPB__EVENT__WHAT_SESSION_LOG: return GB_EVENT_SESSION_LOG;
    case GBPB__EVENT__WHAT_LOG_MESSAGE: return GB_EVENT_LOG_MESSAGE;
    default: return GB_EVENT_EMPTY;
    }
}

const uint8_t *gb_event_payload(const gb_event *ev, size_t *len)
{
    *len = ev->len;
    return ev->payload;
}

const char *gb_event_file_version(const gb_event *ev)
{
    return ev->pb->what_case == GBPB__EVENT__WHAT_FILE_VERSION ? ev->pb->file_version : NULL;
}

int gb_event_session_status(const gb_event *ev)
{
    if (ev->pb->what_case != GBPB__EVENT__WHAT_SESSION_LOG || !ev->pb->session_log) return 0;
    return (int)ev->pb->session_log->status;
}

size_t gb_event_value_count(const gb_event *ev) { return ev->value_count; }

const char *gb_event_value_tag(const gb_event *ev, size_t i)
{
    return i < ev->value_count ? ev->values[i].tag : NULL;
}

const char *gb_event_value_plugin(const gb_event *ev, size_t i)
{
    return i < ev->value_count ? ev->values[i].info->plugin : NULL;
}

size_t gb_event_value_tag_index(const gb_event *ev, size_t i)
{
    return i < ev->value_count ? ev->values[i].info->index : (size_t)-1;
}

gb_value_kind gb_event_value_kind(const gb_event *ev, size_t i)
{
    return i < ev->value_count ? ev->values[i].info->kind : GB_VALUE_TENSOR;
}

static int is_single_element(const Gbpb__TensorShapeProto *shape)
{
    if (!shape) return 1;
    for (size_t d = 0; d < shape->n_dim; d++)
        if (!shape->dim[d] || shape->dim[d]->size != 1) return 0;
    return !shape->unknown_rank;
}

static double half_to_double(uint16_t h)
{
    int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    double magnitude = exponent == 0    ? ldexp(mantissa, -24)
                       : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                        : ldexp(mantissa | 0x400, exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

/* The single element of a numeric tensor, from its typed field or its raw little-endian bytes. */
static int tensor_number(const Gbpb__TensorProto *t, double *out)
{
    if (!is_single_element(t->tensor_shape)) return 0;
    const uint8_t *raw = t->tensor_content.len ? t->tensor_content.data : NULL;
    size_t raw_len = t->tensor_content.len;
    switch (t->dtype) {
    case GBPB__DATA_TYPE__DT_FLOAT:
        if (raw && raw_len == 4) {
            uint32_t bits = gb_load_le32(raw);
            float f;
            memcpy(&f, &bits, sizeof f);
            return *out = f, 1;
        }
        return t->n_float_val ? (*out = t->float_val[0], 1) : 0;
    case GBPB__DATA_TYPE__DT_DOUBLE:
        if (raw && raw_len == 8) {
            uint64_t bits = gb_load_le64(raw);
            double d;
            memcpy(&d, &bits, sizeof d);
            return *out = d, 1;
        }
        return t->n_double_val ? (*out = t->double_val[0], 1) : 0;
    case GBPB__DATA_TYPE__DT_INT32:
    case GBPB__DATA_TYPE__DT_INT16:
    case GBPB__DATA_TYPE__DT_INT8:
    case GBPB__DATA_TYPE__DT_UINT8:
    case GBPB__DATA_TYPE__DT_UINT16:
        if (raw && t->dtype == GBPB__DATA_TYPE__DT_INT32 && raw_len == 4)
            return *out = (int32_t)gb_load_le32(raw), 1;
        return t->n_int_val ? (*out = t->int_val[0], 1) : 0;
    case GBPB__DATA_TYPE__DT_INT64:
        if (raw && raw_len == 8) return *out = (double)(int64_t)gb_load_le64(raw), 1;
        return t->n_int64_val ? (*out = (double)t->int64_val[0], 1) : 0;
    case GBPB__DATA_TYPE__DT_BOOL:
        if (raw && raw_len == 1) return *out = raw[0] != 0, 1;
        return t->n_bool_val ? (*out = t->bool_val[0] != 0, 1) : 0;
    case GBPB__DATA_TYPE__DT_HALF:
        if (raw && raw_len == 2) return *out = half_to_double((uint16_t)(raw[0] | raw[1] << 8)), 1;
        return t->n_half_val ? (*out = half_to_double((uint16_t)t->half_val[0]), 1) : 0;
    default: return 0;
    }
}

gb_status gb_event_value_scalar(const gb_event *ev, size_t i, double *out)
{
    if (i >= ev->value_count) return gb_fail(GB_EINVAL, "value %zu of %zu does not exist", i, ev->value_count);
    const gb_value_view *v = &ev->values[i];
    if (v->info->kind == GB_VALUE_SCALAR && v->pb) {
        if (v->pb->value_case == GBPB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE) {
            *out = v->pb->simple_value;
            return GB_OK;
        }
        if (v->pb->value_case == GBPB__SUMMARY__VALUE__VALUE_TENSOR && tensor_number(v->pb->tensor, out))
            return GB_OK;
    }
    return gb_fail(GB_EINVAL, "value \"%s\" is not a scalar", v->tag);
}

const char *gb_event_value_string(const gb_event *ev, size_t i, size_t *len)
{
    if (i >= ev->value_count || !ev->values[i].pb) return NULL;
    const Gbpb__Summary__Value *v = ev->values[i].pb;
    if (v->value_case != GBPB__SUMMARY__VALUE__VALUE_TENSOR || v->tensor->dtype != GBPB__DATA_TYPE__DT_STRING ||
        v->tensor->n_string_val == 0)
        return NULL;
    *len = v->tensor->string_val[0].len;
    /* protobuf-c leaves the data of an empty string NULL; NULL here means "no string" */
    return *len ? (const char *)v->tensor->string_val[0].data : "";
}
