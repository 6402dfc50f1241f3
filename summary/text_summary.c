/* Text summaries: Markdown strings and string tables (plugin "text"). */
#include <stdlib.h>
#include <string.h>

#include "gradboard/summaries.h"
#include "gradboard/tfrecord.h"
#include "internal/error.h"
#include "internal/writer_impl.h"
#include "plugin_data.pb-c.h"

static gb_status write_strings(gb_writer *w, const char *tag, int64_t step, size_t rank, const int64_t *dims_in,
                               size_t count, const char *const *cells)
{
    ProtobufCBinaryData *strings = calloc(count ? count : 1, sizeof *strings);
    if (!strings) return gb_fail(GB_ENOMEM, "text %s: out of memory", tag);
    for (size_t i = 0; i < count; i++) {
        const char *c = cells[i] ? cells[i] : "";
        size_t len = strlen(c);
        if (!gb_utf8_valid(c, len)) {
            free(strings);
            return gb_fail(GB_EINVAL, "text %s: cell %zu is not valid UTF-8", tag, i);
        }
        strings[i] = (ProtobufCBinaryData){len, (uint8_t *)c};
    }
    Gbpb__TensorShapeProto__Dim dims[2] = {GBPB__TENSOR_SHAPE_PROTO__DIM__INIT, GBPB__TENSOR_SHAPE_PROTO__DIM__INIT};
    Gbpb__TensorShapeProto__Dim *dim_ptrs[2] = {&dims[0], &dims[1]};
    for (size_t i = 0; i < rank; i++) dims[i].size = dims_in[i];
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = rank;
    shape.dim = dim_ptrs;
    Gbpb__TensorProto tensor = GBPB__TENSOR_PROTO__INIT;
    tensor.dtype = GBPB__DATA_TYPE__DT_STRING;
    tensor.tensor_shape = &shape;
    tensor.n_string_val = count;
    tensor.string_val = strings;
    Gbpb__TextPluginData content = GBPB__TEXT_PLUGIN_DATA__INIT;
    uint8_t content_bytes[16];
    size_t content_len = gbpb__text_plugin_data__pack(&content, content_bytes);
    gb_status st = gb_writer_write_tensor_value(w, step, tag, &tensor, "text", content_bytes, content_len,
                                                GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
    free(strings);
    return st;
}

gb_status gb_summary_text(gb_writer *w, const char *tag, int64_t step, const char *markdown)
{
    if (!markdown) return gb_fail(GB_EINVAL, "text %s: markdown is NULL", tag ? tag : "");
    return write_strings(w, tag, step, 0, NULL, 1, &markdown);
}

gb_status gb_summary_text_table(gb_writer *w, const char *tag, int64_t step, size_t rows, size_t cols,
                                const char *const *cells)
{
    if (!cells || rows == 0) return gb_fail(GB_EINVAL, "text %s: an empty table", tag ? tag : "");
    if (rows > GB_RECORD_MAX_BYTES || cols > GB_RECORD_MAX_BYTES || (cols && rows > GB_RECORD_MAX_BYTES / cols))
        return gb_fail(GB_EINVAL, "text %s: a %zu x %zu table cannot fit in one record", tag ? tag : "", rows, cols);
    int64_t dims[2] = {(int64_t)rows, (int64_t)cols};
    return write_strings(w, tag, step, cols ? 2 : 1, dims, cols ? rows * cols : rows, cells);
}
