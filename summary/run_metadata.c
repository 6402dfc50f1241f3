/* A step's profile as Event.tagged_run_metadata (RunMetadata.step_stats), for the graph
 * dashboard's compute-time and memory colouring. */
#include <stdlib.h>
#include <string.h>

#include "gradboard/graph_def.h"
#include "internal/error.h"
#include "internal/writer_impl.h"
#include "step_stats.pb-c.h"

gb_status gb_writer_add_run_metadata(gb_writer *w, const char *tag, int64_t step, const char *device,
                                     const gb_node_exec *nodes, size_t n)
{
    if (!w || !tag || !*tag || (!nodes && n)) return gb_fail(GB_EINVAL, "gb_writer_add_run_metadata: bad argument");
    /* strings in protobufs that TensorBoard parses: UTF-8, and each node named as in the graph */
    if (!gb_utf8_valid(tag, strlen(tag)) || (device && !gb_utf8_valid(device, strlen(device))))
        return gb_fail(GB_EINVAL, "gb_writer_add_run_metadata: the tag or device is not valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        const gb_node_exec *e = &nodes[i];
        if (!e->node_name || !*e->node_name || !gb_utf8_valid(e->node_name, strlen(e->node_name)))
            return gb_fail(GB_EINVAL, "gb_writer_add_run_metadata %s: node %zu needs a non-empty UTF-8 node_name", tag, i);
        if (e->output_dtype > 0 && (e->output_rank < -1 || (e->output_rank > 0 && !e->output_dims)))
            return gb_fail(GB_EINVAL, "gb_writer_add_run_metadata %s: node %s: output rank %d with dims %s", tag,
                           e->node_name, e->output_rank, e->output_dims ? "given" : "NULL");
    }
    /* every message lives in these arrays: nothing to free one by one */
    Gbpb__NodeExecStats *stats = calloc(n + 1, sizeof *stats);
    Gbpb__NodeExecStats **stat_ptrs = calloc(n + 1, sizeof *stat_ptrs);
    Gbpb__AllocatorMemoryUsed *memory = calloc(n + 1, sizeof *memory);
    Gbpb__AllocatorMemoryUsed **memory_ptrs = calloc(n + 1, sizeof *memory_ptrs);
    Gbpb__NodeOutput *outputs = calloc(n + 1, sizeof *outputs);
    Gbpb__NodeOutput **output_ptrs = calloc(n + 1, sizeof *output_ptrs);
    Gbpb__TensorDescription *descriptions = calloc(n + 1, sizeof *descriptions);
    Gbpb__TensorShapeProto *shapes = calloc(n + 1, sizeof *shapes);
    size_t total_dims = 0;
    for (size_t i = 0; i < n; i++) total_dims += nodes[i].output_rank > 0 ? (size_t)nodes[i].output_rank : 0;
    Gbpb__TensorShapeProto__Dim *dims = calloc(total_dims + 1, sizeof *dims);
    Gbpb__TensorShapeProto__Dim **dim_ptrs = calloc(total_dims + 1, sizeof *dim_ptrs);
    gb_status st = GB_OK;
    if (!stats || !stat_ptrs || !memory || !memory_ptrs || !outputs || !output_ptrs || !descriptions || !shapes ||
        !dims || !dim_ptrs) {
        st = gb_fail(GB_ENOMEM, "gb_writer_add_run_metadata: out of memory");
        goto done;
    }
    size_t next_dim = 0;
    for (size_t i = 0; i < n; i++) {
        const gb_node_exec *e = &nodes[i];
        Gbpb__NodeExecStats *s = &stats[i];
        gbpb__node_exec_stats__init(s);
        s->node_name = (char *)e->node_name;
        s->all_start_micros = e->start_micros;
        s->op_start_rel_micros = 0;
        /* the dashboard skips entries whose end is not after their start: at least 1 us */
        s->op_end_rel_micros = s->all_end_rel_micros = e->duration_micros > 0 ? e->duration_micros : 1;
        s->all_start_nanos = e->start_micros * 1000;
        s->op_end_rel_nanos = s->all_end_rel_nanos = s->all_end_rel_micros * 1000;
        if (e->output_bytes > 0) {
            gbpb__allocator_memory_used__init(&memory[i]);
            memory[i].allocator_name = "cpu";
            memory[i].total_bytes = memory[i].peak_bytes = e->output_bytes;
            memory_ptrs[i] = &memory[i];
            s->n_memory = 1;
            s->memory = &memory_ptrs[i];
        }
        if (e->output_dtype > 0) {
            gbpb__tensor_shape_proto__init(&shapes[i]);
            if (e->output_rank < 0) {
                shapes[i].unknown_rank = 1;
            } else {
                shapes[i].dim = &dim_ptrs[next_dim];
                for (int d = 0; d < e->output_rank; d++) {
                    gbpb__tensor_shape_proto__dim__init(&dims[next_dim]);
                    dims[next_dim].size = e->output_dims[d];
                    dim_ptrs[next_dim] = &dims[next_dim];
                    next_dim++;
                }
                shapes[i].n_dim = (size_t)e->output_rank;
            }
            gbpb__tensor_description__init(&descriptions[i]);
            descriptions[i].dtype = (Gbpb__DataType)e->output_dtype;
            descriptions[i].shape = &shapes[i];
            gbpb__node_output__init(&outputs[i]);
            outputs[i].tensor_description = &descriptions[i];
            output_ptrs[i] = &outputs[i];
            s->n_output = 1;
            s->output = &output_ptrs[i];
        }
        stat_ptrs[i] = s;
    }
    Gbpb__DeviceStepStats dev = GBPB__DEVICE_STEP_STATS__INIT;
    dev.device = (char *)(device && *device ? device : "/job:localhost/replica:0/task:0/device:CPU:0");
    dev.n_node_stats = n;
    dev.node_stats = stat_ptrs;
    Gbpb__DeviceStepStats *devs[1] = {&dev};
    Gbpb__StepStats step_stats = GBPB__STEP_STATS__INIT;
    step_stats.n_dev_stats = 1;
    step_stats.dev_stats = devs;
    Gbpb__RunMetadata rm = GBPB__RUN_METADATA__INIT;
    rm.step_stats = &step_stats;
    size_t len = gbpb__run_metadata__get_packed_size(&rm);
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) {
        st = gb_fail(GB_ENOMEM, "gb_writer_add_run_metadata: no memory for %zu bytes", len);
        goto done;
    }
    gbpb__run_metadata__pack(&rm, bytes);
    Gbpb__TaggedRunMetadata tagged = GBPB__TAGGED_RUN_METADATA__INIT;
    tagged.tag = (char *)tag;
    tagged.run_metadata = (ProtobufCBinaryData){len, bytes};
    Gbpb__Event ev = GBPB__EVENT__INIT;
    ev.step = step;
    ev.what_case = GBPB__EVENT__WHAT_TAGGED_RUN_METADATA;
    ev.tagged_run_metadata = &tagged;
    st = gb_writer_write_event_pb(w, &ev);
    free(bytes);
done:
    free(stats), free(stat_ptrs), free(memory), free(memory_ptrs), free(outputs), free(output_ptrs);
    free(descriptions), free(shapes), free(dims), free(dim_ptrs);
    return st;
}
