#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/error.h"
#include "internal/optim_impl.h"
#include "internal/grad_util.h"
#include "internal/cuda_backend.h"
#include "internal/plan_impl.h"
#include "internal/session_impl.h"

void gb_plan_free(gb_plan *p)
{
    if (!p) return;
    free(p->fetch_ids);
    free(p->feed_ids);
    free(p->feed_dtypes);
    free(p->feed_shapes);
    free(p->order);
    free(p->values);
    free(p->buffer_of);
    for (size_t i = 0; i < p->n_buffers; i++) free(p->buffers[i]);
    free(p->buffers);
    free(p->buffer_bytes);
    free(p->inputs);
    free(p->fused_add);
    free(p->fused_matmul);
    free(p->fused_scale);
    free(p->init_into);
    gb_plan_release_device_state(p);
    free(p);
}

void gb_plan_release_device_state(gb_plan *p)
{
    if (p->device_state) gb_cuda_plan_state_free(p->device_state);
    p->device_state = NULL;
}

int gb_plan_matches(const gb_plan *p, const gb_graph *g, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                    size_t n_fetches)
{
    if (p->generation != g->generation || p->edits != g->edits || p->node_count != g->count) return 0;
    if (p->n_fetches != n_fetches || p->n_feeds != n_feeds) return 0;
    for (size_t i = 0; i < n_fetches; i++)
        if (p->fetch_ids[i] != fetches[i]->id) return 0;
    for (size_t i = 0; i < n_feeds; i++) {
        if (p->feed_ids[i] != feeds[i].node->id || p->feed_dtypes[i] != feeds[i].value->dtype ||
            !gb_shape_equal(&p->feed_shapes[i], &feeds[i].value->shape))
            return 0;
    }
    return 1;
}

/* What node n reads when it runs: a fused activation reads its bias add's two inputs; a fused
 * update its learning rate and its gradient MatMul's two inputs; a fused scale its Mul's two. */
static size_t read_count(const gb_plan *p, const gb_node *n)
{
    return p->fused_add[n->id] || p->fused_scale[n->id] ? 2 : p->fused_matmul[n->id] ? 3 : n->n_inputs;
}

static gb_node *read_input(const gb_plan *p, const gb_node *n, size_t i)
{
    const gb_node *add = p->fused_add[n->id], *matmul = p->fused_matmul[n->id], *scale = p->fused_scale[n->id];
    if (add) return add->inputs[i];
    if (scale) return scale->inputs[i];
    if (matmul && i > 0) return matmul->inputs[i - 1];
    return n->inputs[i];
}

/* ---- building ---- */

typedef struct builder {
    gb_graph *g;
    gb_plan *p;
    unsigned char *state;     /* by node id: 0 unseen, 1 on the DFS stack, 2 done */
    unsigned char *fed;
    size_t *last_use;         /* by node id: position of the last reader in order */
    int host_buffers;         /* 0: a device plan: buffer sizes only (the executor allocates them),
                               * and the updates' inputs kept to the end (it queues the updates) */
} builder;

/* Post-order DFS from the fetches, stopping at fed nodes; iterative so deep graphs cannot
 * overflow the C stack. */
static gb_status order_nodes(builder *b, gb_node *const *fetches, size_t n_fetches)
{
    size_t cap = b->g->count + 1;
    gb_node **stack = malloc(cap * sizeof *stack);
    size_t *next_edge = calloc(b->g->count, sizeof *next_edge);
    b->p->order = malloc(cap * sizeof *b->p->order);
    if (!stack || !next_edge || !b->p->order) {
        free(stack), free(next_edge);
        return gb_fail(GB_ENOMEM, "session: out of memory while planning");
    }
    gb_status st = GB_OK;
    for (size_t f = 0; f < n_fetches && st == GB_OK; f++) {
        if (b->state[fetches[f]->id]) continue;
        size_t depth = 0;
        stack[depth++] = fetches[f];
        b->state[fetches[f]->id] = 1;
        while (depth && st == GB_OK) {
            gb_node *n = stack[depth - 1];
            size_t edges = b->fed[n->id] ? 0 : n->n_inputs + n->n_controls;
            size_t *e = &next_edge[n->id];
            if (*e < edges) {
                gb_node *m = *e < n->n_inputs ? n->inputs[*e] : n->controls[*e - n->n_inputs];
                (*e)++;
                if (b->state[m->id] == 1) {
                    st = gb_fail(GB_EINVAL, "session: the graph has a cycle through %s", m->name);
                } else if (b->state[m->id] == 0) {
                    b->state[m->id] = 1;
                    stack[depth++] = m;
                }
                continue;
            }
            b->state[n->id] = 2;
            depth--;
            b->p->order[b->p->n_order++] = n;
        }
    }
    free(stack);
    free(next_edge);
    return st;
}

static gb_status infer_runtime_shapes(builder *b, const gb_feed *feeds, size_t n_feeds)
{
    gb_plan *p = b->p;
    for (size_t i = 0; i < n_feeds; i++) {
        const gb_node *n = feeds[i].node;
        const gb_tensor *v = feeds[i].value;
        char want[96], got[96];
        int fits = v->dtype == n->dtype && v->shape.rank == n->shape.rank;
        for (int d = 0; fits && d < n->shape.rank; d++)
            if (n->shape.dim[d] >= 0 && n->shape.dim[d] != v->shape.dim[d]) fits = 0;
        if (!fits)
            return gb_fail(GB_ESHAPE, "feed for %s: expected %s %s, got %s %s", n->name, gb_dtype_name(n->dtype),
                           gb_shape_format(&n->shape, want, sizeof want), gb_dtype_name(v->dtype),
                           gb_shape_format(&v->shape, got, sizeof got));
        p->values[n->id].dtype = v->dtype;
        p->values[n->id].shape = v->shape;
    }
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *n = p->order[k];
        if (b->fed[n->id]) continue;
        if (!n->op->forward)
            return gb_fail(GB_EINVAL, "%s (%s) must be fed a value", n->name, n->op->type);
        gb_dtype in_dtypes[8];
        gb_shape in_shapes[8];
        for (size_t i = 0; i < n->n_inputs; i++) {
            in_dtypes[i] = p->values[n->inputs[i]->id].dtype;
            in_shapes[i] = p->values[n->inputs[i]->id].shape;
        }
        gb_tensor *out = &p->values[n->id];
        if (n->op->infer) {
            char err[512] = "";
            if (n->op->infer(n, in_dtypes, in_shapes, &out->dtype, &out->shape, err, sizeof err) != GB_OK) {
                char described[1024] = "";
                size_t used = 0;
                for (size_t i = 0; i < n->n_inputs && used < sizeof described; i++) {
                    char s[96];
                    int w = snprintf(described + used, sizeof described - used, "%s%s %s", i ? ", " : "",
                                     n->inputs[i]->name, gb_shape_format(&in_shapes[i], s, sizeof s));
                    used += w > 0 ? (size_t)w : 0;
                }
                return gb_fail(GB_ESHAPE, "%s (%s): %s; inputs at run time: %s", n->name, n->op->type, err, described);
            }
        } else {
            out->dtype = n->dtype;
            out->shape = n->shape;
        }
    }
    return GB_OK;
}

/* The node whose buffer n's output really lives in (following aliases). */
static const gb_node *buffer_root(const builder *b, const gb_node *n)
{
    while (!b->fed[n->id] && n->op->aliases_input && n->n_inputs) n = n->inputs[0];
    return n;
}

/* Readers of each node in the whole graph, a fetch counting twice (a fetched value must stay). */
static void count_uses(const builder *b, gb_node *const *fetches, size_t n_fetches, unsigned *uses)
{
    for (size_t i = 0; i < b->g->count; i++)
        for (size_t k = 0; k < b->g->nodes[i]->n_inputs; k++) uses[b->g->nodes[i]->inputs[k]->id]++;
    for (size_t f = 0; f < n_fetches; f++) uses[fetches[f]->id] += 2;
}

/* Bias add + activation in one pass: an activation whose input is an add of a matrix and a
 * vector along its last axis, read by nothing else and not fetched, computes act(x + b) itself
 * and the add is dropped from the plan. */
static void fuse_bias_activations(builder *b, const unsigned *uses, unsigned char *drop)
{
    gb_plan *p = b->p;
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *act = p->order[k];
        if (!act->op->fusible_activation || b->fed[act->id]) continue;
        gb_node *add = act->inputs[0];
        if (!add->op->is_add || b->fed[add->id] || uses[add->id] != 1) continue;
        const gb_tensor *x = &p->values[add->inputs[0]->id], *bias = &p->values[add->inputs[1]->id];
        const gb_tensor *sum = &p->values[add->id];
        int rank = sum->shape.rank;
        if (!gb_is_float(sum->dtype) || rank < 1 || !gb_shape_equal(&x->shape, &sum->shape) || bias->shape.rank != 1 ||
            bias->shape.dim[0] != sum->shape.dim[rank - 1])
            continue;
        p->fused_add[act->id] = add;
        drop[add->id] = 1;
    }
}

/* Plain gradient descent on a matmul's gradient, on the CPU: w -= lr (a b) as one GEMM into w
 * (gb_apply_sgd_matmul_forward) when nothing else reads the gradient and neither a nor b is a
 * variable (an update between the two nodes could change it). The gradient is never written,
 * and w is read and written once instead of the gradient written, read, and w updated. */
static void fuse_sgd_matmuls(builder *b, const unsigned *uses, unsigned char *drop)
{
    if (!b->host_buffers) return; /* a device executor runs them apart */
    gb_plan *p = b->p;
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *update = p->order[k];
        if (update->op != &gb_op_apply_sgd || b->fed[update->id]) continue;
        gb_node *matmul = update->inputs[1];
        if (!gb_is_matmul(matmul) || b->fed[matmul->id] || uses[matmul->id] != 1) continue;
        const gb_node *x = buffer_root(b, matmul->inputs[0]), *y = buffer_root(b, matmul->inputs[1]);
        if (x->op->output_is_variable || y->op->output_is_variable) continue;
        if (!gb_shape_equal(&p->values[matmul->id].shape, &update->attr.variable->shape)) continue;
        p->fused_matmul[update->id] = matmul;
        drop[matmul->id] = 1;
    }
}

/* v = v * c in place: an Assign to a float variable of the Mul of that variable and a scalar,
 * the Mul read by nothing else and run just before it (nothing can touch the variable between
 * the two). Adam's beta powers advance this way each step; on the GPU the scale joins the
 * batched updates instead of costing a kernel and a copy each. */
static void fuse_scale_assigns(builder *b, const unsigned *uses, unsigned char *drop)
{
    gb_plan *p = b->p;
    for (size_t k = 1; k < p->n_order; k++) {
        gb_node *assign = p->order[k], *mul = p->order[k - 1];
        if (!gb_is_assign(assign) || b->fed[assign->id] || assign->inputs[0] != mul) continue;
        if (!gb_is_mul(mul) || b->fed[mul->id] || uses[mul->id] != 1 || mul->n_inputs != 2) continue;
        const gb_tensor *factor = &p->values[mul->inputs[1]->id], *product = &p->values[mul->id];
        if (mul->inputs[0] != assign->attr.variable || b->fed[mul->inputs[0]->id] || b->fed[mul->inputs[1]->id] ||
            !gb_is_float(product->dtype) || factor->dtype != product->dtype || gb_shape_elements(&factor->shape) != 1 ||
            !gb_shape_equal(&product->shape, &assign->attr.variable->shape))
            continue;
        p->fused_scale[assign->id] = mul;
        drop[mul->id] = 1;
    }
}

/* A variable's initialiser run just before the Assign that is its only reader, on the CPU: it
 * fills the variable's storage itself (the Assign then copies nothing), so a cached initialiser
 * plan keeps no buffer as large as the largest variable. Nothing runs between the two that
 * could read the variable's old value. */
static void fuse_initializers(builder *b, const unsigned *uses)
{
    if (!b->host_buffers) return; /* a device executor runs initialisers on host copies */
    gb_plan *p = b->p;
    for (size_t k = 1; k < p->n_order; k++) {
        gb_node *assign = p->order[k], *init = p->order[k - 1];
        if (!gb_is_assign(assign) || b->fed[assign->id] || assign->inputs[0] != init) continue;
        if (!gb_is_initializer(init) || b->fed[init->id] || uses[init->id] != 1) continue;
        const gb_tensor *value = &p->values[init->id];
        const gb_node *v = assign->attr.variable;
        if (value->dtype == v->dtype && gb_shape_equal(&value->shape, &v->shape)) p->init_into[init->id] = v;
    }
}

/* The fusions, then the nodes they absorbed dropped from the order. */
static gb_status fuse(builder *b, gb_node *const *fetches, size_t n_fetches)
{
    gb_plan *p = b->p;
    unsigned *uses = calloc(b->g->count + 1, sizeof *uses);
    unsigned char *drop = calloc(b->g->count + 1, 1);
    if (!uses || !drop) {
        free(uses), free(drop);
        return gb_fail(GB_ENOMEM, "session: out of memory while planning");
    }
    count_uses(b, fetches, n_fetches, uses);
    fuse_bias_activations(b, uses, drop);
    fuse_sgd_matmuls(b, uses, drop);
    fuse_scale_assigns(b, uses, drop);
    fuse_initializers(b, uses);
    size_t kept = 0;
    for (size_t k = 0; k < p->n_order; k++)
        if (!drop[p->order[k]->id]) p->order[kept++] = p->order[k];
    p->n_order = kept;
    free(uses);
    free(drop);
    return GB_OK;
}

size_t gb_plan_value_bytes(const gb_tensor *t)
{
    if (gb_dtype_size(t->dtype) == 0) return 0;
    int64_t n = gb_shape_elements(&t->shape);
    return n > 0 ? (size_t)n * gb_dtype_size(t->dtype) : 0;
}

typedef struct free_buffer {
    int32_t index;
    size_t bytes;
} free_buffer;

/* What a device executor queues with the optimizers' updates (cuda_updates.c) rather than runs
 * at once: the updates (TensorFlow names them all Apply*: ApplyAdam, ApplyGradientDescent, ...,
 * and so does optim_apply.c), AssignAdd, and an Assign that scales its variable in place. */
static int is_queued_update(const gb_plan *p, const gb_node *n)
{
    return strncmp(n->op->type, "Apply", 5) == 0 || strcmp(n->op->type, "AssignAdd") == 0 ||
           strcmp(n->op->type, "Assign") == 0 || p->fused_scale[n->id];
}

/* Gives every output that needs memory a buffer, reusing a buffer once its last reader ran. */
static gb_status assign_buffers(builder *b, gb_node *const *fetches, size_t n_fetches)
{
    gb_plan *p = b->p;
    size_t n_nodes = b->g->count;
    for (size_t i = 0; i < n_nodes; i++) p->buffer_of[i] = NO_BUFFER;
    /* last reader of each buffer root; fetched values live to the end */
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *n = p->order[k];
        b->last_use[buffer_root(b, n)->id] = k;
        for (size_t i = 0; i < read_count(p, n); i++) {
            size_t root = buffer_root(b, read_input(p, n, i))->id;
            if (b->last_use[root] < k) b->last_use[root] = k;
        }
    }
    for (size_t f = 0; f < n_fetches; f++) b->last_use[buffer_root(b, fetches[f])->id] = SIZE_MAX;
    for (size_t k = 0; k < p->n_order && !b->host_buffers; k++)
        for (size_t i = 0; is_queued_update(p, p->order[k]) && i < read_count(p, p->order[k]); i++)
            b->last_use[buffer_root(b, read_input(p, p->order[k], i))->id] = SIZE_MAX;

    size_t *sizes = calloc(p->n_order + 1, sizeof *sizes);
    free_buffer *pool = calloc(p->n_order + 1, sizeof *pool);
    size_t pooled = 0;
    /* buffers to release after position k: roots whose last use is k */
    if (!sizes || !pool) {
        free(sizes), free(pool);
        return gb_fail(GB_ENOMEM, "session: out of memory while planning");
    }
    size_t n_buffers = 0;
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *n = p->order[k];
        if (b->fed[n->id]) continue;
        size_t bytes = gb_plan_value_bytes(&p->values[n->id]);
        /* a device executor keeps constants in their own device copies (cuda_plan.c place) */
        int device_constant = !b->host_buffers && !n->is_variable && n->value && n->n_inputs == 0;
        if (!n->op->aliases_input && !n->op->output_is_variable && !device_constant && !p->init_into[n->id] && bytes) {
            /* best fit from the pool, else a new buffer */
            size_t best = pooled;
            for (size_t i = 0; i < pooled; i++)
                if (pool[i].bytes >= bytes && (best == pooled || pool[i].bytes < pool[best].bytes)) best = i;
            int32_t index;
            if (best < pooled) {
                index = pool[best].index;
                pool[best] = pool[--pooled];
            } else {
                index = (int32_t)n_buffers++;
                sizes[index] = bytes;
            }
            p->buffer_of[n->id] = index;
        }
        /* release the buffers of every root whose last reader is this node (with or without a
         * buffer of its own: an update is the last reader of its gradient) */
        for (size_t i = 0; i < read_count(p, n); i++) {
            const gb_node *root = buffer_root(b, read_input(p, n, i));
            int32_t rb = p->buffer_of[root->id];
            if (rb == NO_BUFFER || b->last_use[root->id] != k) continue;
            b->last_use[root->id] = SIZE_MAX - 1; /* released once */
            pool[pooled++] = (free_buffer){rb, sizes[rb]};
        }
    }
    p->buffers = calloc(n_buffers ? n_buffers : 1, sizeof *p->buffers);
    gb_status st = p->buffers ? GB_OK : gb_fail(GB_ENOMEM, "session: out of memory while planning");
    p->n_buffers = n_buffers;
    p->buffer_bytes = sizes; /* the plan keeps them (a device executor allocates its own) */
    for (size_t i = 0; i < n_buffers && st == GB_OK && b->host_buffers; i++) {
        p->buffers[i] = gb_aligned_alloc(sizes[i]);
        if (!p->buffers[i]) st = gb_fail(GB_ENOMEM, "session: no memory for a %zu-byte buffer", sizes[i]);
    }
    free(pool);
    return st;
}

gb_status gb_plan_build(gb_graph *g, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches, size_t n_fetches,
                        int host_buffers, gb_plan **out)
{
    *out = NULL;
    gb_plan *p = calloc(1, sizeof *p);
    builder b = {g, p, calloc(g->count, 1), calloc(g->count, 1), calloc(g->count, sizeof(size_t)), host_buffers};
    gb_status st = GB_OK;
    if (!p || !b.state || !b.fed || !b.last_use) {
        st = gb_fail(GB_ENOMEM, "session: out of memory while planning");
        goto done;
    }
    p->generation = g->generation;
    p->edits = g->edits;
    p->node_count = g->count;
    p->n_fetches = n_fetches;
    p->n_feeds = n_feeds;
    p->fetch_ids = malloc((n_fetches + 1) * sizeof *p->fetch_ids);
    p->feed_ids = malloc((n_feeds + 1) * sizeof *p->feed_ids);
    p->feed_dtypes = malloc((n_feeds + 1) * sizeof *p->feed_dtypes);
    p->feed_shapes = malloc((n_feeds + 1) * sizeof *p->feed_shapes);
    p->values = calloc(g->count, sizeof *p->values);
    p->buffer_of = malloc(g->count * sizeof *p->buffer_of + 1);
    p->inputs = malloc(9 * sizeof *p->inputs);
    p->fused_add = calloc(g->count, sizeof *p->fused_add);
    p->fused_matmul = calloc(g->count, sizeof *p->fused_matmul);
    p->fused_scale = calloc(g->count, sizeof *p->fused_scale);
    p->init_into = calloc(g->count, sizeof *p->init_into);
    if (!p->fused_add || !p->fused_matmul || !p->fused_scale || !p->init_into || !p->fetch_ids || !p->feed_ids || !p->feed_dtypes || !p->feed_shapes || !p->values || !p->buffer_of ||
        !p->inputs) {
        st = gb_fail(GB_ENOMEM, "session: out of memory while planning");
        goto done;
    }
    for (size_t i = 0; i < n_fetches; i++) p->fetch_ids[i] = fetches[i]->id;
    for (size_t i = 0; i < n_feeds; i++) {
        p->feed_ids[i] = feeds[i].node->id;
        p->feed_dtypes[i] = feeds[i].value->dtype;
        p->feed_shapes[i] = feeds[i].value->shape;
        b.fed[feeds[i].node->id] = 1;
    }
    st = order_nodes(&b, fetches, n_fetches);
    if (st == GB_OK) st = infer_runtime_shapes(&b, feeds, n_feeds);
    if (st == GB_OK) st = fuse(&b, fetches, n_fetches);
    if (st == GB_OK) st = assign_buffers(&b, fetches, n_fetches);
done:
    free(b.state);
    free(b.fed);
    free(b.last_use);
    if (st != GB_OK) {
        gb_plan_free(p);
        return st;
    }
    *out = p;
    return GB_OK;
}

/* ---- running ---- */

size_t gb_plan_node_count(const gb_plan *p) { return p->n_order; }

double gb_plan_micros_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e6 + (double)(t.tv_nsec - t0->tv_nsec) * 1e-3;
}

int64_t gb_plan_first_non_finite(const gb_tensor *t)
{
    if (!t->data || (t->dtype != GB_F32 && t->dtype != GB_F64)) return -1;
    int64_t n = gb_shape_elements(&t->shape);
    if (t->dtype == GB_F32) {
        const float *v = t->data;
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(v[i])) return i;
    } else {
        const double *v = t->data;
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(v[i])) return i;
    }
    return -1;
}

gb_status gb_plan_numeric_error(const char *what, const gb_node *n, const gb_tensor *t, int64_t at)
{
    double v = t->dtype == GB_F32 ? ((const float *)t->data)[at] : ((const double *)t->data)[at];
    char shape[96];
    return gb_fail(GB_ENUMERIC, "check_numerics: %s %s (%s) %s %s at element %lld of its %s output", what, n->name,
                   n->op->type, n->is_variable ? "holds" : "produced", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf",
                   (long long)at, gb_shape_format(&t->shape, shape, sizeof shape));
}

void gb_plan_record_stats(const gb_plan *p, gb_node_stats *ns, const gb_node *n, double start, double end,
                          const gb_tensor *out)
{
    ns->node = n;
    ns->start_micros = start;
    ns->duration_micros = end - start;
    ns->output_bytes = gb_plan_value_bytes(out);
    ns->shape = out->shape;
    ns->fresh_buffer = p->buffer_of[n->id] != NO_BUFFER;
}

gb_status gb_plan_node_error(gb_status st, const gb_node *n)
{
    char message[1024];
    snprintf(message, sizeof message, "%s", gb_errmsg());
    return gb_fail(st, "%s (%s): %s", n->name, n->op->type, message);
}

/* A fused update under check_numerics: the gradient computed apart and checked first, so that a
 * non-finite one names its MatMul and leaves the variable as it was (as without the fusion). */
static gb_status update_checked(gb_plan *p, gb_kernel_args *args, const gb_node *matmul)
{
    const gb_tensor *like = &p->values[matmul->id];
    gb_tensor *grad = gb_tensor_new(like->dtype, like->shape);
    if (!grad) return gb_fail(GB_ENOMEM, "no memory for the gradient %s checks", matmul->name);
    gb_matmul_accumulate(matmul, &p->values[matmul->inputs[0]->id], &p->values[matmul->inputs[1]->id], 1.0, grad);
    int64_t at = gb_plan_first_non_finite(grad);
    gb_status st;
    if (at >= 0) {
        st = gb_plan_numeric_error("op", matmul, grad, at);
    } else {
        const gb_tensor *inputs[2] = {args->in[0], grad};
        gb_kernel_args apart = {args->node, inputs, args->out, args->session};
        st = args->node->op->forward(&apart);
    }
    gb_tensor_free(grad);
    return st;
}

gb_status gb_plan_execute(gb_plan *p, gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node_stats *stats,
                          size_t *n_stats, int check_numerics)
{
    struct timespec t0;
    if (stats) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        *n_stats = 0;
    }
    for (size_t i = 0; i < n_feeds; i++) p->values[feeds[i].node->id].data = feeds[i].value->data;
    for (size_t i = 0; i < n_feeds && check_numerics; i++) {
        const gb_tensor *t = &p->values[feeds[i].node->id];
        int64_t at = gb_plan_first_non_finite(t);
        if (at >= 0) return gb_plan_numeric_error("the value fed to", feeds[i].node, t, at);
    }
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *n = p->order[k];
        gb_tensor *out = &p->values[n->id];
        int fed = 0;
        for (size_t i = 0; i < n_feeds && !fed; i++) fed = feeds[i].node == n;
        if (fed) continue;
        for (size_t i = 0; i < n->n_inputs; i++) p->inputs[i] = &p->values[n->inputs[i]->id];
        if (n->op->output_is_variable || p->init_into[n->id]) {
            const gb_node *v = p->init_into[n->id] ? p->init_into[n->id] : n->is_variable ? n : n->attr.variable;
            gb_tensor *storage = gb_session_variable_storage(s, v);
            if (!storage) return gb_fail(GB_ENOMEM, "%s: no memory for variable %s", n->name, v->name);
            out->data = storage->data;
        } else if (n->op->aliases_input) {
            out->data = p->values[n->inputs[0]->id].data;
        } else {
            int32_t buffer = p->buffer_of[n->id];
            out->data = buffer == NO_BUFFER ? NULL : p->buffers[buffer];
        }
        gb_kernel_args args = {n, p->inputs, out, s};
        double start = stats ? gb_plan_micros_since(&t0) : 0;
        const gb_node *add = p->fused_add[n->id], *matmul = p->fused_matmul[n->id], *scale = p->fused_scale[n->id];
        gb_status st;
        if (add)
            st = gb_bias_activation_forward(n, &p->values[add->inputs[0]->id], &p->values[add->inputs[1]->id], out);
        else if (scale)
            st = gb_scale_variable_forward(&args, &p->values[scale->inputs[1]->id]);
        else if (matmul && check_numerics)
            st = update_checked(p, &args, matmul);
        else if (matmul)
            st = gb_apply_sgd_matmul_forward(&args, matmul, &p->values[matmul->inputs[0]->id],
                                             &p->values[matmul->inputs[1]->id]);
        else
            st = n->op->forward(&args);
        if (stats) gb_plan_record_stats(p, &stats[(*n_stats)++], n, start, gb_plan_micros_since(&t0), out);
        if (st != GB_OK) return gb_plan_node_error(st, n);
        if (check_numerics) {
            /* every earlier output was finite, so this op made the NaN from finite inputs */
            int64_t at = gb_plan_first_non_finite(out);
            if (at >= 0) return gb_plan_numeric_error(n->is_variable ? "variable" : "op", n, out, at);
        }
    }
    return GB_OK;
}

void gb_plan_outputs(gb_plan *p, gb_node *const *fetches, size_t n_fetches, const gb_tensor **outputs)
{
    for (size_t i = 0; i < n_fetches; i++) {
        gb_tensor *v = &p->values[fetches[i]->id];
        outputs[i] = gb_dtype_size(v->dtype) ? v : NULL;
    }
}
