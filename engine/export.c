/* The engine's graph as a GraphDef and its session stats as run metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/export.h"
#include "internal/error.h"
#include "internal/graph_impl.h"
#include "internal/tensor_impl.h"

enum { MAX_CONST_VALUE_ELEMENTS = 64 }; /* larger constants would swamp the dashboard's info card */

static const char *const device_name = "/job:localhost/replica:0/task:0/device:CPU:0";

static int is_source(const gb_node *n)
{
    const char *op = n->op->type;
    return !strcmp(op, "Placeholder") || !strcmp(op, "VariableV2") || !strcmp(op, "Const");
}

/* Ops that update a variable carry it (and its slots) as TensorFlow's leading ref inputs. */
static void add_ref_inputs(gb_graphdef *gd, int index, const gb_node *n)
{
    if (!n->attr.variable) return;
    gb_graphdef_input(gd, index, n->attr.variable->name);
    for (int i = 0; i < 4; i++)
        if (n->attr.slots[i]) gb_graphdef_input(gd, index, n->attr.slots[i]->name);
}

static int is_random(const char *op)
{
    return !strcmp(op, "RandomUniform") || !strcmp(op, "RandomStandardNormal") || !strcmp(op, "TruncatedNormal");
}

/* The type attributes TensorFlow's op of that name carries: mostly "T", the type of its (first)
 * input, which for comparisons, casts and argmax is not the output's. */
static void add_type_attrs(gb_graphdef *gd, int index, const gb_node *n)
{
    const char *op = n->op->type;
    int out = (int)n->dtype, in = n->n_inputs ? (int)n->inputs[0]->dtype : out;
    enum { DT_INT32 = 3 }; /* the type of a shape input */
    if (is_source(n)) {
        gb_graphdef_attr_type(gd, index, "dtype", out);
    } else if (is_random(op)) {
        gb_graphdef_attr_type(gd, index, "dtype", out);
        gb_graphdef_attr_type(gd, index, "T", DT_INT32);
    } else if (!strcmp(op, "Cast")) {
        gb_graphdef_attr_type(gd, index, "SrcT", in);
        gb_graphdef_attr_type(gd, index, "DstT", out);
    } else if (!strcmp(op, "ArgMax")) {
        gb_graphdef_attr_type(gd, index, "T", in);
        gb_graphdef_attr_type(gd, index, "output_type", out);
    } else if (!strcmp(op, "OneHot")) {
        gb_graphdef_attr_type(gd, index, "T", out);
        gb_graphdef_attr_type(gd, index, "TI", in);
    } else if (!strcmp(op, "GatherV2")) {
        gb_graphdef_attr_type(gd, index, "Tparams", in);
        gb_graphdef_attr_type(gd, index, "Tindices", (int)n->inputs[1]->dtype);
    } else {
        gb_graphdef_attr_type(gd, index, "T", in);
        if (!strcmp(op, "SparseSoftmaxCrossEntropyWithLogits"))
            gb_graphdef_attr_type(gd, index, "Tlabels", (int)n->inputs[1]->dtype);
    }
}

static void add_attrs(gb_graphdef *gd, int index, const gb_node *n)
{
    int has_value = gb_dtype_size(n->dtype) != 0;
    if (has_value) add_type_attrs(gd, index, n);
    if (has_value && n->shape.rank >= 0) {
        int rank = n->shape.rank;
        const int64_t *dims = n->shape.dim;
        gb_graphdef_attr_output_shapes(gd, index, 1, &rank, &dims);
    }
    const char *op = n->op->type;
    if (!strcmp(op, "Placeholder") || !strcmp(op, "VariableV2"))
        gb_graphdef_attr_shape(gd, index, "shape", n->shape.rank, n->shape.dim);
    if (!strcmp(op, "MatMul") || !strcmp(op, "BatchMatMulV2")) {
        gb_graphdef_attr_bool(gd, index, !strcmp(op, "MatMul") ? "transpose_a" : "adj_x", n->attr.transpose_a);
        gb_graphdef_attr_bool(gd, index, !strcmp(op, "MatMul") ? "transpose_b" : "adj_y", n->attr.transpose_b);
    }
    if (!strcmp(op, "Sum") || !strcmp(op, "Mean") || !strcmp(op, "Max"))
        gb_graphdef_attr_bool(gd, index, "keep_dims", n->attr.keepdims);
    if (!strcmp(op, "LeakyRelu")) gb_graphdef_attr_float(gd, index, "alpha", (float)n->attr.alpha);
    if (!strcmp(op, "Print") && n->attr.message) gb_graphdef_attr_string(gd, index, "message", n->attr.message);
    if (n->value && gb_tensor_elements(n->value) <= MAX_CONST_VALUE_ELEMENTS)
        gb_graphdef_attr_tensor(gd, index, "value", (int)n->value->dtype, n->value->shape.rank, n->value->shape.dim,
                                n->value->data, n->value->bytes);
}

gb_graphdef *gb_graph_to_graphdef(const gb_graph *g)
{
    if (!g) {
        gb_fail(GB_EINVAL, "gb_graph_to_graphdef: graph is NULL");
        return NULL;
    }
    gb_graphdef *gd = gb_graphdef_new();
    if (!gd) return NULL;
    for (size_t i = 0; i < g->count; i++) {
        const gb_node *n = g->nodes[i];
        int index = gb_graphdef_node(gd, n->name, n->op->type, device_name);
        if (index < 0) break;
        add_ref_inputs(gd, index, n);
        for (size_t k = 0; k < n->n_inputs; k++) gb_graphdef_input(gd, index, n->inputs[k]->name);
        for (size_t k = 0; k < n->n_controls; k++) {
            char control[1024];
            snprintf(control, sizeof control, "^%s", n->controls[k]->name);
            gb_graphdef_input(gd, index, control);
        }
        add_attrs(gd, index, n);
    }
    if (gb_graphdef_status(gd) != GB_OK) {
        gb_graphdef_free(gd);
        return NULL;
    }
    return gd;
}

gb_status gb_writer_add_graph(gb_writer *w, const gb_graph *g)
{
    gb_graphdef *gd = gb_graph_to_graphdef(g);
    if (!gd) return gb_fail(GB_ENOMEM, "gb_writer_add_graph: %s", gb_errmsg());
    gb_status st = gb_writer_add_graphdef(w, gd);
    gb_graphdef_free(gd);
    return st;
}

gb_status gb_writer_add_session_stats(gb_writer *w, const gb_session *s, int64_t step)
{
    size_t count;
    const gb_node_stats *stats = gb_session_stats(s, &count);
    if (count == 0) return gb_fail(GB_ESTATE, "gb_writer_add_session_stats: no stats (gb_session_set_stats(s, 1), then run)");
    gb_node_exec *nodes = calloc(count, sizeof *nodes);
    if (!nodes) return gb_fail(GB_ENOMEM, "gb_writer_add_session_stats: out of memory");
    int64_t start = gb_session_stats_start_micros(s);
    for (size_t i = 0; i < count; i++) {
        const gb_node *n = stats[i].node;
        nodes[i].node_name = n->name;
        nodes[i].start_micros = start + (int64_t)stats[i].start_micros;
        nodes[i].duration_micros = (int64_t)(stats[i].duration_micros + 0.5);
        nodes[i].output_bytes = stats[i].fresh_buffer ? (int64_t)stats[i].output_bytes : 0;
        nodes[i].output_dtype = gb_dtype_size(n->dtype) ? (int)n->dtype : 0;
        nodes[i].output_rank = stats[i].shape.rank;
        nodes[i].output_dims = stats[i].shape.dim;
    }
    char tag[48];
    snprintf(tag, sizeof tag, "step_%lld", (long long)step);
    gb_status st = gb_writer_add_run_metadata(w, tag, step, device_name, nodes, count);
    free(nodes);
    return st;
}

gb_status gb_summary_histogram_tensor(gb_writer *w, const char *tag, int64_t step, const gb_tensor *t)
{
    if (!t) return gb_fail(GB_EINVAL, "histogram %s: tensor is NULL", tag ? tag : "");
    int64_t n = gb_tensor_elements(t);
    if (t->dtype == GB_F32) return gb_summary_histogram(w, tag, step, t->data, (size_t)n, 0);
    if (t->dtype == GB_F64) return gb_summary_histogram_f64(w, tag, step, t->data, (size_t)n, 0);
    double *values = malloc((size_t)(n ? n : 1) * sizeof *values);
    if (!values) return gb_fail(GB_ENOMEM, "histogram %s: out of memory", tag);
    for (int64_t i = 0; i < n; i++) values[i] = gb_tensor_get(t, i);
    gb_status st = gb_summary_histogram_f64(w, tag, step, values, (size_t)n, 0);
    free(values);
    return st;
}
