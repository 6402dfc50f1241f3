/* A GraphDef built node by node, held as heap-allocated protobuf-c messages (so one
 * free_unpacked releases everything), and written as Event.graph_def. */
#include <stdlib.h>
#include <string.h>

#include "gradboard/graph_def.h"
#include "graph.pb-c.h"
#include "internal/error.h"
#include "internal/strmap.h"
#include "internal/writer_impl.h"

enum { MAX_RANK = 254 }; /* TensorFlow's limit on a shape's dimensions */

struct gb_graphdef {
    Gbpb__GraphDef *def;
    size_t node_cap;
    gb_strmap *names;  /* node names: inputs and the dashboard find a node by its name */
    gb_status status;
};

gb_graphdef *gb_graphdef_new(void)
{
    gb_graphdef *gd = calloc(1, sizeof *gd);
    Gbpb__GraphDef *def = malloc(sizeof *def);
    Gbpb__VersionDef *versions = malloc(sizeof *versions);
    gb_strmap *names = gb_strmap_new();
    if (!gd || !def || !versions || !names) {
        free(gd), free(def), free(versions);
        gb_strmap_free(names, NULL);
        gb_fail(GB_ENOMEM, "graphdef: out of memory");
        return NULL;
    }
    gbpb__graph_def__init(def);
    gbpb__version_def__init(versions);
    versions->producer = 1087; /* a TensorFlow 2.x producer version: readers accept any */
    def->versions = versions;
    gd->def = def;
    gd->names = names;
    return gd;
}

void gb_graphdef_free(gb_graphdef *gd)
{
    if (!gd) return;
    gbpb__graph_def__free_unpacked(gd->def, NULL);
    gb_strmap_free(gd->names, NULL);
    free(gd);
}

gb_status gb_graphdef_status(const gb_graphdef *gd) { return gd ? gd->status : GB_EINVAL; }
size_t gb_graphdef_node_count(const gb_graphdef *gd) { return gd ? gd->def->n_node : 0; }

/* Records the first failure; every later call repeats it. */
static gb_status sticky(gb_graphdef *gd, gb_status st)
{
    if (gd->status == GB_OK) gd->status = st;
    return st;
}

/* Strings of a NodeDef are protobuf strings: TensorBoard cannot parse a graph whose strings are
 * not UTF-8. */
static int bad_text(const char *s)
{
    return !s || !*s || !gb_utf8_valid(s, strlen(s));
}

/* The shape checks shared by shape and tensor attributes; allow_unknown admits rank -1 and
 * dimensions of -1, which a shape may have and a tensor's value may not. */
static gb_status check_shape(gb_graphdef *gd, const char *what, int rank, const int64_t *dims, int allow_unknown)
{
    int lowest = allow_unknown ? -1 : 0;
    if (rank < lowest || rank > MAX_RANK)
        return sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: rank %d (%d..%d)", what, rank, lowest, MAX_RANK));
    if (rank > 0 && !dims) return sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: rank %d but dims is NULL", what, rank));
    for (int i = 0; i < rank; i++)
        if (dims[i] < lowest)
            return sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: dimension %d is %lld", what, i, (long long)dims[i]));
    return GB_OK;
}

static Gbpb__NodeDef *node_at(gb_graphdef *gd, int node)
{
    if (node < 0 || (size_t)node >= gd->def->n_node) {
        sticky(gd, gb_fail(GB_EINVAL, "graphdef: no node %d", node));
        return NULL;
    }
    return gd->def->node[node];
}

int gb_graphdef_node(gb_graphdef *gd, const char *name, const char *op, const char *device)
{
    if (!gd || gd->status != GB_OK) return -1;
    if (bad_text(name) || bad_text(op) || (device && *device && bad_text(device))) {
        sticky(gd, gb_fail(GB_EINVAL, "graphdef: a node needs a name and an op, and its strings must be UTF-8"));
        return -1;
    }
    if (gb_strmap_find(gd->names, name, strlen(name))) {
        sticky(gd, gb_fail(GB_EINVAL, "graphdef: two nodes named \"%s\"", name));
        return -1;
    }
    if (gd->def->n_node == gd->node_cap) {
        size_t cap = gd->node_cap ? 2 * gd->node_cap : 64;
        Gbpb__NodeDef **nodes = realloc(gd->def->node, cap * sizeof *nodes);
        if (!nodes) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory")), -1;
        gd->def->node = nodes, gd->node_cap = cap;
    }
    Gbpb__NodeDef *n = malloc(sizeof *n);
    if (!n) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory")), -1;
    gbpb__node_def__init(n);
    n->name = strdup(name);
    n->op = strdup(op);
    if (device && *device) n->device = strdup(device);
    if (!n->name || !n->op || !n->device || gb_strmap_insert(gd->names, name, strlen(name), NULL) != GB_OK) {
        gbpb__node_def__free_unpacked(n, NULL);
        return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory")), -1;
    }
    gd->def->node[gd->def->n_node++] = n;
    return (int)gd->def->n_node - 1;
}

gb_status gb_graphdef_input(gb_graphdef *gd, int node, const char *input)
{
    if (!gd) return GB_EINVAL;
    if (gd->status != GB_OK) return gd->status;
    Gbpb__NodeDef *n = node_at(gd, node);
    if (!n) return gd->status;
    if (bad_text(input)) return sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: an empty or non-UTF-8 input name", n->name));
    char **inputs = realloc(n->input, (n->n_input + 1) * sizeof *inputs);
    char *copy = inputs ? strdup(input) : NULL;
    if (inputs) n->input = inputs;
    if (!copy) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    n->input[n->n_input++] = copy;
    return GB_OK;
}

/* A new attribute entry on node, its value initialised; NULL after an error. */
static Gbpb__AttrValue *new_attr(gb_graphdef *gd, int node, const char *key)
{
    if (!gd || gd->status != GB_OK) return NULL;
    Gbpb__NodeDef *n = node_at(gd, node);
    if (!n) return NULL;
    if (bad_text(key)) {
        sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: an attribute key must be non-empty UTF-8", n->name));
        return NULL;
    }
    for (size_t i = 0; i < n->n_attr; i++) /* a map in the protobuf: one value per key */
        if (!strcmp(n->attr[i]->key, key)) {
            sticky(gd, gb_fail(GB_EINVAL, "graphdef: %s: attribute \"%s\" set twice", n->name, key));
            return NULL;
        }
    Gbpb__NodeDef__AttrEntry **entries = realloc(n->attr, (n->n_attr + 1) * sizeof *entries);
    Gbpb__NodeDef__AttrEntry *entry = entries ? malloc(sizeof *entry) : NULL;
    Gbpb__AttrValue *value = entry ? malloc(sizeof *value) : NULL;
    char *key_copy = value ? strdup(key) : NULL;
    if (entries) n->attr = entries;
    if (!key_copy) {
        free(entry), free(value);
        sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
        return NULL;
    }
    gbpb__node_def__attr_entry__init(entry);
    gbpb__attr_value__init(value);
    entry->key = key_copy;
    entry->value = value;
    n->attr[n->n_attr++] = entry;
    return value;
}

gb_status gb_graphdef_attr_type(gb_graphdef *gd, int node, const char *key, int dtype)
{
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    v->value_case = GBPB__ATTR_VALUE__VALUE_TYPE;
    v->type = (Gbpb__DataType)dtype;
    return GB_OK;
}

gb_status gb_graphdef_attr_int(gb_graphdef *gd, int node, const char *key, int64_t value)
{
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    v->value_case = GBPB__ATTR_VALUE__VALUE_I;
    v->i = value;
    return GB_OK;
}

gb_status gb_graphdef_attr_float(gb_graphdef *gd, int node, const char *key, float value)
{
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    v->value_case = GBPB__ATTR_VALUE__VALUE_F;
    v->f = value;
    return GB_OK;
}

gb_status gb_graphdef_attr_bool(gb_graphdef *gd, int node, const char *key, int value)
{
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    v->value_case = GBPB__ATTR_VALUE__VALUE_B;
    v->b = value != 0;
    return GB_OK;
}

gb_status gb_graphdef_attr_string(gb_graphdef *gd, int node, const char *key, const char *value)
{
    if (gd && gd->status == GB_OK && !value)
        return sticky(gd, gb_fail(GB_EINVAL, "graphdef: string attribute \"%s\" is NULL", key ? key : ""));
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    size_t len = strlen(value);
    uint8_t *copy = malloc(len + 1);
    if (!copy) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    memcpy(copy, value, len);
    v->value_case = GBPB__ATTR_VALUE__VALUE_S;
    v->s = (ProtobufCBinaryData){len, copy};
    return GB_OK;
}

/* A heap TensorShapeProto of rank (or unknown rank for -1). */
static Gbpb__TensorShapeProto *new_shape(int rank, const int64_t *dims)
{
    Gbpb__TensorShapeProto *s = malloc(sizeof *s);
    if (!s) return NULL;
    gbpb__tensor_shape_proto__init(s);
    if (rank < 0) {
        s->unknown_rank = 1;
        return s;
    }
    s->dim = calloc((size_t)rank + 1, sizeof *s->dim);
    if (!s->dim) {
        free(s);
        return NULL;
    }
    for (int i = 0; i < rank; i++) {
        Gbpb__TensorShapeProto__Dim *d = malloc(sizeof *d);
        if (!d) {
            gbpb__tensor_shape_proto__free_unpacked(s, NULL);
            return NULL;
        }
        gbpb__tensor_shape_proto__dim__init(d);
        d->size = dims[i];
        s->dim[s->n_dim++] = d;
    }
    return s;
}

gb_status gb_graphdef_attr_shape(gb_graphdef *gd, int node, const char *key, int rank, const int64_t *dims)
{
    if (gd && gd->status == GB_OK && check_shape(gd, key ? key : "shape", rank, dims, 1) != GB_OK) return gd->status;
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    v->value_case = GBPB__ATTR_VALUE__VALUE_SHAPE;
    v->shape = new_shape(rank, dims);
    return v->shape ? GB_OK : sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
}

gb_status gb_graphdef_attr_output_shapes(gb_graphdef *gd, int node, size_t n, const int *ranks,
                                         const int64_t *const *dims)
{
    if (gd && gd->status == GB_OK && n && (!ranks || !dims))
        return sticky(gd, gb_fail(GB_EINVAL, "graphdef: _output_shapes: ranks or dims is NULL"));
    for (size_t i = 0; gd && gd->status == GB_OK && i < n; i++)
        if (check_shape(gd, "_output_shapes", ranks[i], dims[i], 1) != GB_OK) return gd->status;
    Gbpb__AttrValue *v = new_attr(gd, node, "_output_shapes");
    if (!v) return gb_graphdef_status(gd);
    Gbpb__AttrValue__ListValue *list = malloc(sizeof *list);
    if (!list) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    gbpb__attr_value__list_value__init(list);
    v->value_case = GBPB__ATTR_VALUE__VALUE_LIST;
    v->list = list;
    list->shape = calloc(n + 1, sizeof *list->shape);
    if (!list->shape) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    for (size_t i = 0; i < n; i++) {
        Gbpb__TensorShapeProto *s = new_shape(ranks[i], dims[i]);
        if (!s) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
        list->shape[list->n_shape++] = s;
    }
    return GB_OK;
}

/* Bytes per element of the dtypes whose values are stored raw in tensor_content; 0 for the
 * others (strings, resources, variants, unknown numbers). */
static size_t dtype_size(int dtype)
{
    switch (dtype) {
    case GBPB__DATA_TYPE__DT_UINT8: case GBPB__DATA_TYPE__DT_INT8: case GBPB__DATA_TYPE__DT_BOOL:
    case GBPB__DATA_TYPE__DT_QINT8: case GBPB__DATA_TYPE__DT_QUINT8:
        return 1;
    case GBPB__DATA_TYPE__DT_INT16: case GBPB__DATA_TYPE__DT_UINT16: case GBPB__DATA_TYPE__DT_HALF:
    case GBPB__DATA_TYPE__DT_BFLOAT16: case GBPB__DATA_TYPE__DT_QINT16: case GBPB__DATA_TYPE__DT_QUINT16:
        return 2;
    case GBPB__DATA_TYPE__DT_FLOAT: case GBPB__DATA_TYPE__DT_INT32: case GBPB__DATA_TYPE__DT_UINT32:
    case GBPB__DATA_TYPE__DT_QINT32:
        return 4;
    case GBPB__DATA_TYPE__DT_DOUBLE: case GBPB__DATA_TYPE__DT_INT64: case GBPB__DATA_TYPE__DT_UINT64:
    case GBPB__DATA_TYPE__DT_COMPLEX64:
        return 8;
    case GBPB__DATA_TYPE__DT_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

/* A tensor's bytes must be exactly its elements: readers take the dtype and shape at their word. */
static gb_status check_tensor(gb_graphdef *gd, const char *key, int dtype, int rank, const int64_t *dims,
                              const void *data, size_t bytes)
{
    size_t element = dtype_size(dtype);
    if (!element)
        return sticky(gd, gb_fail(GB_EINVAL, "graphdef: tensor %s: dtype %d has no raw numeric form", key, dtype));
    if (check_shape(gd, key, rank, dims, 0) != GB_OK) return gd->status;
    uint64_t want = element;
    for (int i = 0; i < rank; i++) {
        uint64_t d = (uint64_t)dims[i];
        if (d && want > UINT64_MAX / d)
            return sticky(gd, gb_fail(GB_EINVAL, "graphdef: tensor %s: its shape overflows 64 bits", key));
        want *= d;
    }
    if (want != bytes)
        return sticky(gd, gb_fail(GB_EINVAL, "graphdef: tensor %s: %zu bytes given, its dtype and shape need %llu", key,
                                  bytes, (unsigned long long)want));
    if (bytes && !data) return sticky(gd, gb_fail(GB_EINVAL, "graphdef: tensor %s: data is NULL", key));
    return GB_OK;
}

gb_status gb_graphdef_attr_tensor(gb_graphdef *gd, int node, const char *key, int dtype, int rank, const int64_t *dims,
                                  const void *data, size_t bytes)
{
    if (gd && gd->status == GB_OK && check_tensor(gd, key ? key : "", dtype, rank, dims, data, bytes) != GB_OK)
        return gd->status;
    Gbpb__AttrValue *v = new_attr(gd, node, key);
    if (!v) return gb_graphdef_status(gd);
    Gbpb__TensorProto *t = malloc(sizeof *t);
    if (!t) return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    gbpb__tensor_proto__init(t);
    v->value_case = GBPB__ATTR_VALUE__VALUE_TENSOR;
    v->tensor = t;
    t->dtype = (Gbpb__DataType)dtype;
    t->tensor_shape = new_shape(rank, dims);
    uint8_t *copy = malloc(bytes ? bytes : 1);
    if (!t->tensor_shape || !copy) {
        free(copy);
        return sticky(gd, gb_fail(GB_ENOMEM, "graphdef: out of memory"));
    }
    if (bytes) memcpy(copy, data, bytes);
    t->tensor_content = (ProtobufCBinaryData){bytes, copy};
    return GB_OK;
}

gb_status gb_writer_add_graphdef(gb_writer *w, const gb_graphdef *gd)
{
    if (!w || !gd) return gb_fail(GB_EINVAL, "gb_writer_add_graphdef: NULL argument");
    if (gd->status != GB_OK) return gb_fail(gd->status, "gb_writer_add_graphdef: the graph has an earlier error");
    size_t len = gbpb__graph_def__get_packed_size(gd->def);
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) return gb_fail(GB_ENOMEM, "gb_writer_add_graphdef: no memory for %zu bytes", len);
    gbpb__graph_def__pack(gd->def, bytes);
    Gbpb__Event e = GBPB__EVENT__INIT;
    e.what_case = GBPB__EVENT__WHAT_GRAPH_DEF;
    e.graph_def = (ProtobufCBinaryData){len, bytes};
    gb_status st = gb_writer_write_event_pb(w, &e);
    free(bytes);
    return st;
}
