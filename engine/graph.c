#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/error.h"
#include "internal/graph_impl.h"
#include "internal/shape_util.h"
#include "internal/strmap.h"

gb_graph *gb_graph_new(void)
{
    gb_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->names = gb_strmap_new();
    if (!g->names) {
        free(g);
        return NULL;
    }
    return g;
}

static void free_node(gb_node *n)
{
    free(n->name);
    free(n->inputs);
    free(n->controls);
    free(n->attr.message);
    gb_tensor_free(n->value);
    free(n);
}

static void clear(gb_graph *g)
{
    for (size_t i = 0; i < g->count; i++) free_node(g->nodes[i]);
    free(g->nodes);
    g->nodes = NULL;
    g->count = g->cap = 0;
    g->variable_count = 0;
    for (size_t i = 0; i < g->scope_depth; i++) free(g->scopes[i]);
    free(g->scopes);
    g->scopes = NULL;
    g->scope_depth = g->scope_cap = 0;
    gb_strmap_free(g->names, NULL);
    g->names = NULL;
    g->status = GB_OK;
    g->errmsg[0] = '\0';
    g->gradient_calls = 0;
}

void gb_graph_free(gb_graph *g)
{
    if (!g) return;
    clear(g);
    free(g);
}

void gb_graph_reset(gb_graph *g)
{
    clear(g);
    g->generation++;
    g->names = gb_strmap_new();
    if (!g->names) gb_graph_fail(g, GB_ENOMEM, "gb_graph_reset: out of memory");
}

gb_status gb_graph_status(const gb_graph *g) { return g ? g->status : GB_EINVAL; }
const char *gb_graph_errmsg(const gb_graph *g) { return g ? g->errmsg : "graph is NULL"; }

void gb_graph_fail(gb_graph *g, gb_status st, const char *fmt, ...)
{
    if (g->status != GB_OK) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->errmsg, sizeof g->errmsg, fmt, ap);
    va_end(ap);
    g->status = st;
    gb_fail(st, "%s", g->errmsg); /* also the thread's message, like every other failure */
}

void gb_scope_push(gb_graph *g, const char *name)
{
    if (!g || g->status != GB_OK) return;
    if (!name || !*name || strchr(name, '/')) {
        gb_graph_fail(g, GB_EINVAL, "gb_scope_push: scope name \"%s\" must be non-empty and without '/'",
                      name ? name : "(null)");
        return;
    }
    if (g->scope_depth == g->scope_cap) {
        size_t cap = g->scope_cap ? 2 * g->scope_cap : 8;
        char **s = realloc(g->scopes, cap * sizeof *s);
        if (!s) {
            gb_graph_fail(g, GB_ENOMEM, "gb_scope_push: out of memory");
            return;
        }
        g->scopes = s, g->scope_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        gb_graph_fail(g, GB_ENOMEM, "gb_scope_push: out of memory");
        return;
    }
    g->scopes[g->scope_depth++] = copy;
}

void gb_scope_pop(gb_graph *g)
{
    if (!g || g->status != GB_OK) return;
    if (g->scope_depth == 0) {
        gb_graph_fail(g, GB_ESTATE, "gb_scope_pop: no scope is open");
        return;
    }
    free(g->scopes[--g->scope_depth]);
}

int gb_scope_push_path(gb_graph *g, const char *path)
{
    char part[256];
    int depth = 0;
    while (path && *path) {
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        if (len >= sizeof part) len = sizeof part - 1;
        memcpy(part, path, len);
        part[len] = '\0';
        gb_scope_push(g, part);
        depth++;
        path += len + (slash ? 1 : 0);
        if (!slash) break;
    }
    return depth;
}

static int name_taken(const gb_graph *g, const char *name)
{
    return gb_strmap_find(g->names, name, strlen(name)) != NULL;
}

char *gb_graph_unique_name(gb_graph *g, const char *base)
{
    size_t prefix_len = 0;
    for (size_t i = 0; i < g->scope_depth; i++) prefix_len += strlen(g->scopes[i]) + 1;
    size_t size = prefix_len + strlen(base) + 24;
    char *name = malloc(size);
    if (!name) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < g->scope_depth; i++) at += (size_t)snprintf(name + at, size - at, "%s/", g->scopes[i]);
    snprintf(name + at, size - at, "%s", base);
    /* TensorFlow's rule: "add", then "add_1", "add_2", ... */
    for (unsigned k = 1; name_taken(g, name); k++) snprintf(name + at, size - at, "%s_%u", base, k);
    return name;
}

void gb_describe_inputs(gb_node *const *inputs, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        char shape[96];
        int k = snprintf(buf + used, size - used, "%s%s %s %s", i ? ", " : "", inputs[i]->name,
                         gb_dtype_name(inputs[i]->dtype), gb_shape_format(&inputs[i]->shape, shape, sizeof shape));
        used += k > 0 ? (size_t)k : 0;
    }
}

static gb_status add_node(gb_graph *g, gb_node *n)
{
    if (g->count == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        gb_node **nodes = realloc(g->nodes, cap * sizeof *nodes);
        if (!nodes) return GB_ENOMEM;
        g->nodes = nodes, g->cap = cap;
    }
    if (gb_strmap_insert(g->names, n->name, strlen(n->name), n) != GB_OK) return GB_ENOMEM;
    n->id = g->count;
    g->nodes[g->count++] = n;
    return GB_OK;
}

gb_node *gb_node_create(gb_graph *g, const gb_op_def *op, const char *name, gb_node *const *inputs, size_t n_inputs,
                        const gb_attrs *attrs)
{
    if (!g || g->status != GB_OK) return NULL;
    gb_dtype in_dtypes[8];
    gb_shape in_shapes[8];
    if (n_inputs > 8) {
        gb_graph_fail(g, GB_EINVAL, "%s: %zu inputs, at most 8", op->type, n_inputs);
        return NULL;
    }
    for (size_t i = 0; i < n_inputs; i++) {
        if (!inputs[i]) {
            gb_graph_fail(g, GB_EINVAL, "%s: input %zu is NULL", op->type, i);
            return NULL;
        }
        if (inputs[i]->graph != g) {
            gb_graph_fail(g, GB_EINVAL, "%s: input %s belongs to another graph", op->type, inputs[i]->name);
            return NULL;
        }
        in_dtypes[i] = inputs[i]->dtype;
        in_shapes[i] = inputs[i]->shape;
    }
    gb_node *n = calloc(1, sizeof *n);
    if (!n) goto out_of_memory;
    n->graph = g;
    n->op = op;
    if (attrs) n->attr = *attrs;
    if (attrs && attrs->message && !(n->attr.message = strdup(attrs->message))) goto out_of_memory;
    n->name = gb_graph_unique_name(g, name && *name ? name : op->type); /* "" is no name */
    if (!n->name) goto out_of_memory;
    if (n_inputs) {
        n->inputs = malloc(n_inputs * sizeof *n->inputs);
        if (!n->inputs) goto out_of_memory;
        memcpy(n->inputs, inputs, n_inputs * sizeof *n->inputs);
    }
    n->n_inputs = n_inputs;
    if (op->infer) {
        char err[512] = "";
        gb_status st = op->infer(n, in_dtypes, in_shapes, &n->dtype, &n->shape, err, sizeof err);
        if (st != GB_OK) {
            char described[1024];
            gb_describe_inputs(inputs, n_inputs, described, sizeof described);
            gb_graph_fail(g, st, "%s (%s): %s; inputs: %s", n->name, op->type, err, n_inputs ? described : "none");
            free_node(n);
            return NULL;
        }
        if (gb_shape_too_large(&n->shape)) {
            char shape[160];
            gb_graph_fail(g, GB_ESHAPE, "%s (%s): the output shape %s has too many elements", n->name, op->type,
                          gb_shape_format(&n->shape, shape, sizeof shape));
            free_node(n);
            return NULL;
        }
    }
    if (add_node(g, n) != GB_OK) goto out_of_memory;
    return n;

out_of_memory:
    if (n) free_node(n);
    gb_graph_fail(g, GB_ENOMEM, "%s: out of memory", op->type);
    return NULL;
}

size_t gb_graph_node_count(const gb_graph *g) { return g->count; }
gb_node *gb_graph_node(const gb_graph *g, size_t i) { return i < g->count ? g->nodes[i] : NULL; }

gb_node *gb_graph_find(const gb_graph *g, const char *name)
{
    void **slot = gb_strmap_find(g->names, name, strlen(name));
    return slot ? *slot : NULL;
}

const char *gb_node_name(const gb_node *n) { return n->name; }
const char *gb_node_op(const gb_node *n) { return n->op->type; }
size_t gb_node_input_count(const gb_node *n) { return n->n_inputs; }
gb_node *gb_node_input(const gb_node *n, size_t i) { return i < n->n_inputs ? n->inputs[i] : NULL; }
size_t gb_node_control_count(const gb_node *n) { return n->n_controls; }
gb_node *gb_node_control(const gb_node *n, size_t i) { return i < n->n_controls ? n->controls[i] : NULL; }
gb_dtype gb_node_dtype(const gb_node *n) { return n->dtype; }
gb_shape gb_node_shape(const gb_node *n) { return n->shape; }
gb_graph *gb_node_graph(const gb_node *n) { return n->graph; }
int gb_node_is_variable(const gb_node *n) { return n->is_variable; }

gb_node *gb_name(gb_node *n, const char *name)
{
    if (!n) return NULL;
    gb_graph *g = n->graph;
    if (g->status != GB_OK) return NULL;
    if (!name || !*name) {
        gb_graph_fail(g, GB_EINVAL, "gb_name: %s: the new name is %s", n->name, name ? "empty" : "NULL");
        return NULL;
    }
    size_t prefix_len = 0;
    for (size_t i = 0; i < g->scope_depth; i++) prefix_len += strlen(g->scopes[i]) + 1;
    size_t size = prefix_len + strlen(name) + 1;
    char *full = malloc(size);
    if (!full) {
        gb_graph_fail(g, GB_ENOMEM, "gb_name: out of memory");
        return NULL;
    }
    size_t at = 0;
    for (size_t i = 0; i < g->scope_depth; i++) at += (size_t)snprintf(full + at, size - at, "%s/", g->scopes[i]);
    snprintf(full + at, size - at, "%s", name);
    if (strcmp(full, n->name) == 0) { /* already so named */
        free(full);
        return n;
    }
    if (name_taken(g, full)) {
        gb_graph_fail(g, GB_EINVAL, "gb_name: %s: a node named \"%s\" already exists (or did: names are never reused)",
                      n->name, full);
        free(full);
        return NULL;
    }
    if (gb_strmap_insert(g->names, full, strlen(full), n) != GB_OK) {
        free(full);
        gb_graph_fail(g, GB_ENOMEM, "gb_name: out of memory");
        return NULL;
    }
    /* The old name stays reserved, since other nodes' unique names were chosen beside it, but no
     * longer finds this node. */
    void **old = gb_strmap_find(g->names, n->name, strlen(n->name));
    if (old) *old = NULL;
    free(n->name);
    n->name = full;
    return n;
}

gb_node *gb_control_deps(gb_node *n, size_t count, gb_node *const deps[])
{
    if (!n || n->graph->status != GB_OK) return NULL;
    for (size_t i = 0; i < count; i++) {
        if (!deps[i]) {
            gb_graph_fail(n->graph, GB_EINVAL, "%s: control dependency %zu is NULL", n->name, i);
            return NULL;
        }
        if (deps[i]->graph != n->graph) {
            gb_graph_fail(n->graph, GB_EINVAL, "%s: control dependency %zu (%s) belongs to another graph", n->name, i,
                          deps[i]->name);
            return NULL;
        }
        if (n->n_controls == n->controls_cap) {
            size_t cap = n->controls_cap ? 2 * n->controls_cap : 4;
            gb_node **c = realloc(n->controls, cap * sizeof *c);
            if (!c) {
                gb_graph_fail(n->graph, GB_ENOMEM, "%s: out of memory", n->name);
                return NULL;
            }
            n->controls = c, n->controls_cap = cap;
        }
        n->controls[n->n_controls++] = deps[i];
    }
    if (count) n->graph->edits++;
    return n;
}

size_t gb_trainable_variables(const gb_graph *g, gb_node **out, size_t max)
{
    size_t found = 0;
    for (size_t i = 0; i < g->count; i++) {
        gb_node *n = g->nodes[i];
        if (!n->is_variable || !n->trainable) continue;
        if (found < max) out[found] = n;
        found++;
    }
    return found;
}

void gb_graph_print(const gb_graph *g, FILE *out)
{
    for (size_t i = 0; i < g->count; i++) {
        const gb_node *n = g->nodes[i];
        char shape[96];
        fprintf(out, "%-40s %-22s %-8s %-14s", n->name, n->op->type, gb_dtype_name(n->dtype),
                gb_shape_format(&n->shape, shape, sizeof shape));
        for (size_t k = 0; k < n->n_inputs; k++) fprintf(out, " %s", n->inputs[k]->name);
        for (size_t k = 0; k < n->n_controls; k++) fprintf(out, " ^%s", n->controls[k]->name);
        fputc('\n', out);
    }
}
