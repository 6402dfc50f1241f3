#include "gradboard/event_reader.h"
#include "gradboard/tfrecord.h"
#include "internal/arena.h"
#include "internal/error.h"
#include "internal/event_view.h"
#include "internal/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct gb_event_reader {
    char **files;
    size_t file_count, next_file;
    gb_record_reader *current;
    gb_strmap *tags;        /* tag -> gb_tag_info, for the whole run */
    gb_arena arena;         /* holds the current event */
    gb_event event;
    size_t values_cap;
    uint64_t last_offset;   /* of the last record returned or rejected */
};

const char *gb_value_kind_name(gb_value_kind kind)
{
    switch (kind) {
    case GB_VALUE_TENSOR: return "tensor";
    case GB_VALUE_SCALAR: return "scalar";
    case GB_VALUE_HISTOGRAM: return "histogram";
    case GB_VALUE_IMAGE: return "image";
    case GB_VALUE_AUDIO: return "audio";
    case GB_VALUE_TEXT: return "text";
    case GB_VALUE_PR_CURVE: return "pr_curve";
    case GB_VALUE_HPARAMS: return "hparams";
    case GB_VALUE_CUSTOM_SCALARS: return "custom_scalars";
    case GB_VALUE_GRAPH: return "graph";
    case GB_VALUE_RUN_METADATA: return "run_metadata";
    }
    return "tensor";
}

static gb_value_kind kind_of_plugin(const char *plugin)
{
    static const struct {
        const char *plugin;
        gb_value_kind kind;
    } known[] = {
        {"scalars", GB_VALUE_SCALAR},   {"histograms", GB_VALUE_HISTOGRAM}, {"images", GB_VALUE_IMAGE},
        {"audio", GB_VALUE_AUDIO},      {"text", GB_VALUE_TEXT},            {"pr_curves", GB_VALUE_PR_CURVE},
        {"hparams", GB_VALUE_HPARAMS},  {"custom_scalars", GB_VALUE_CUSTOM_SCALARS},
        {"graphs", GB_VALUE_GRAPH},     {"graph_tagged_run_metadata", GB_VALUE_RUN_METADATA},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(plugin, known[i].plugin)) return known[i].kind;
    return GB_VALUE_TENSOR;
}

/* The plugin a tag's first value declares, or the one its legacy form implies. */
static const char *plugin_of_first_value(const Gbpb__Summary__Value *v)
{
    if (v->metadata && v->metadata->plugin_data && v->metadata->plugin_data->plugin_name &&
        v->metadata->plugin_data->plugin_name[0])
        return v->metadata->plugin_data->plugin_name;
    switch (v->value_case) {
    case GBPB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE: return "scalars";
    case GBPB__SUMMARY__VALUE__VALUE_HISTO: return "histograms";
    case GBPB__SUMMARY__VALUE__VALUE_IMAGE: return "images";
    case GBPB__SUMMARY__VALUE__VALUE_AUDIO: return "audio";
    default: return "";
    }
}

static void free_tag_info(void *p)
{
    gb_tag_info *info = p;
    if (info) free(info->plugin);
    free(info);
}

gb_status gb_event_reader_open(gb_event_reader **out, const char *path)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) /* only a missing path is "not found"; EACCES, ELOOP... are I/O errors */
        return gb_fail_errno(errno == ENOENT || errno == ENOTDIR ? GB_ENOTFOUND : GB_EIO, errno, "%s", path);
    gb_event_reader *r = calloc(1, sizeof *r);
    if (!r) return gb_fail(GB_ENOMEM, "out of memory");
    r->tags = gb_strmap_new();
    gb_status st = r->tags ? GB_OK : gb_fail(GB_ENOMEM, "out of memory");
    if (st == GB_OK && S_ISDIR(sb.st_mode)) {
        st = gb_run_event_files(path, &r->files, &r->file_count);
        if (st == GB_OK && r->file_count == 0) st = gb_fail(GB_ENOTFOUND, "%s: no event files in this directory", path);
    } else if (st == GB_OK) {
        r->files = malloc(sizeof *r->files);
        if (r->files) r->files[0] = strdup(path);
        if (!r->files || !r->files[0]) st = gb_fail(GB_ENOMEM, "out of memory");
        else r->file_count = 1;
    }
    if (st != GB_OK) {
        gb_event_reader_close(r);
        return st;
    }
    *out = r;
    return GB_OK;
}

/* Finds the tag's run-wide info, creating it from plugin (when the tag is new) if given, else from
 * the value. */
static gb_status resolve_tag(gb_event_reader *r, const char *tag, const Gbpb__Summary__Value *v,
                             const char *plugin, const gb_tag_info **info)
{
    size_t len = strlen(tag);
    void **slot = gb_strmap_find(r->tags, tag, len);
    if (slot) {
        *info = *slot;
        return GB_OK;
    }
    gb_tag_info *fresh = malloc(sizeof *fresh);
    if (!plugin) plugin = plugin_of_first_value(v);
    if (fresh) fresh->plugin = strdup(plugin);
    if (!fresh || !fresh->plugin || gb_strmap_insert(r->tags, tag, len, fresh) != GB_OK) {
        free_tag_info(fresh);
        return gb_fail(GB_ENOMEM, "out of memory for tag %s", tag);
    }
    fresh->kind = kind_of_plugin(plugin);
    fresh->index = gb_strmap_size(r->tags) - 1;
    *info = fresh;
    return GB_OK;
}

static gb_status reserve_values(gb_event_reader *r, size_t n)
{
    if (n <= r->values_cap) return GB_OK;
    gb_value_view *values = realloc(r->event.values, n * sizeof *values);
    if (!values) return gb_fail(GB_ENOMEM, "out of memory for %zu summary values", n);
    r->event.values = values;
    r->values_cap = n;
    return GB_OK;
}

static gb_status build_values(gb_event_reader *r)
{
    Gbpb__Event *pb = r->event.pb;
    r->event.value_count = 0;
    if (pb->what_case == GBPB__EVENT__WHAT_GRAPH_DEF || pb->what_case == GBPB__EVENT__WHAT_TAGGED_RUN_METADATA) {
        int graph = pb->what_case == GBPB__EVENT__WHAT_GRAPH_DEF;
        const char *tag = graph ? "__run_graph__" : pb->tagged_run_metadata->tag;
        const gb_tag_info *info;
        gb_status st = reserve_values(r, 1);
        if (st == GB_OK) st = resolve_tag(r, tag, NULL, graph ? "graphs" : "graph_tagged_run_metadata", &info);
        if (st != GB_OK) return st;
        r->event.values[0] = (gb_value_view){tag, info, NULL};
        r->event.value_count = 1;
        return GB_OK;
    }
    if (pb->what_case != GBPB__EVENT__WHAT_SUMMARY) return GB_OK;
    const Gbpb__Summary *s = pb->summary;
    gb_status st = reserve_values(r, s->n_value);
    for (size_t i = 0; i < s->n_value && st == GB_OK; i++) {
        const Gbpb__Summary__Value *v = s->value[i];
        /* TensorBoard falls back to the deprecated node_name when a tag is empty. */
        const char *tag = v->tag && v->tag[0] ? v->tag : (v->node_name ? v->node_name : "");
        const gb_tag_info *info;
        st = resolve_tag(r, tag, v, NULL, &info);
        if (st == GB_OK) r->event.values[r->event.value_count++] = (gb_value_view){tag, info, v};
    }
    return st;
}

/* A file with a bad record is not read further, as in TensorBoard; the run's next file is. */
static gb_status skip_rest_of_file(gb_event_reader *r, gb_status st)
{
    gb_record_reader_close(r->current);
    r->current = NULL;
    return st;
}

gb_status gb_event_reader_next(gb_event_reader *r, const gb_event **ev)
{
    *ev = NULL;
    for (;;) {
        if (!r->current) {
            if (r->next_file == r->file_count) return GB_END;
            gb_status st = gb_record_reader_open(&r->current, r->files[r->next_file++]);
            if (st != GB_OK) return st;
        }
        const uint8_t *data;
        size_t len;
        gb_status st = gb_record_reader_next(r->current, &data, &len);
        if (st == GB_END) {
            gb_record_reader_close(r->current);
            r->current = NULL;
            continue;
        }
        r->last_offset = gb_record_reader_offset(r->current);
        if (st != GB_OK) return skip_rest_of_file(r, st);
        gb_arena_reset(&r->arena);
        ProtobufCAllocator alloc = gb_arena_protobuf_allocator(&r->arena);
        Gbpb__Event *pb = gbpb__event__unpack(&alloc, len, data);
        if (!pb)
            return skip_rest_of_file(r, gb_fail(GB_ECORRUPT, "%s: record at byte offset %llu does not parse as an Event",
                                                gb_record_reader_path(r->current), (unsigned long long)r->last_offset));
        r->event.pb = pb;
        r->event.payload = data;
        r->event.len = len;
        st = build_values(r);
        if (st != GB_OK) return st;
        *ev = &r->event;
        return GB_OK;
    }
}

const char *gb_event_reader_file(const gb_event_reader *r)
{
    return r->next_file ? r->files[r->next_file - 1] : NULL;
}

size_t gb_event_reader_file_count(const gb_event_reader *r) { return r->file_count; }

size_t gb_event_reader_tag_count(const gb_event_reader *r) { return gb_strmap_size(r->tags); }

const char *gb_event_reader_tag(const gb_event_reader *r, size_t index)
{
    return index < gb_strmap_size(r->tags) ? gb_strmap_key(r->tags, index) : NULL;
}

uint64_t gb_event_reader_offset(const gb_event_reader *r) { return r->last_offset; }

void gb_event_reader_close(gb_event_reader *r)
{
    if (!r) return;
    gb_record_reader_close(r->current);
    gb_string_list_free(r->files, r->file_count);
    gb_strmap_free(r->tags, free_tag_info);
    gb_arena_release(&r->arena);
    free(r->event.values);
    free(r);
}
