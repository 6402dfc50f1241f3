/* A CUDA plan's memory: its buffers, feeds and kernels' scratch carved from one device
 * allocation, pinned staging for feeds and fetches, and the variables and constants it reaches
 * placed before it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/cuda/cuda_plan.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/session_impl.h"

enum { ALIGN = 256 };

void gb_cuda_plan_state_free(void *state)
{
    cuda_plan *cp = state;
    if (!cp) return;
    const gb_cuda_api *api = cp->api;
    api->cuCtxSetCurrent(cp->context);
    if (cp->graph) api->cuGraphExecDestroy(cp->graph);
    if (cp->arena) api->cuMemFree(cp->arena);
    for (size_t i = 0; cp->staging && i < cp->n_feeds; i++)
        if (cp->staging[i]) api->cuMemFreeHost(cp->staging[i]);
    for (size_t i = 0; cp->host && i < cp->n_nodes; i++)
        if (cp->host[i]) api->cuMemFreeHost(cp->host[i]);
    for (size_t i = 0; cp->fetched && i < cp->n_fetches; i++)
        if (cp->fetched[i].data) api->cuMemFreeHost(cp->fetched[i].data);
    free(cp->buffers);
    free(cp->feed_buffers);
    free(cp->staging);
    free(cp->feed_bytes);
    free(cp->host);
    free(cp->host_bytes);
    free(cp->fetched);
    free(cp);
}

static size_t aligned(size_t bytes) { return (bytes + ALIGN - 1) / ALIGN * ALIGN; }

/* A constant: a node without inputs carrying its value (variables' initial values aside). */
int gb_cuda_is_constant(const gb_node *n) { return !n->is_variable && n->value && n->n_inputs == 0; }

/* Whether node n can run without the host: its kernel, or something the executor does itself. */
int gb_cuda_on_device(const gb_plan *p, const gb_node *n)
{
    if (p->fused_add[n->id] || n->op->cuda_forward || n->is_variable || gb_cuda_is_constant(n)) return 1;
    if (n->op->aliases_input) return strcmp(n->op->type, "Print") != 0; /* Print prints on the host */
    return 0;
}

/* The kernels that need device scratch memory, and how much for given inputs and output. */
static const struct {
    gb_status (*forward)(const gb_kernel_args *args);
    size_t (*bytes)(const gb_kernel_args *args);
} scratch_users[] = {{gb_cuda_gather_grad_forward, gb_cuda_gather_grad_scratch}};

/* The most scratch memory one of the plan's kernels needs for the run-time shapes; the plan's
 * nodes run one at a time, so they share it. */
static size_t scratch_bytes(gb_plan *p, gb_session *s)
{
    size_t most = 0;
    for (size_t k = 0; k < p->n_order; k++) {
        gb_node *n = p->order[k];
        if (p->fused_add[n->id] || p->fused_scale[n->id]) continue;
        for (size_t u = 0; u < sizeof scratch_users / sizeof *scratch_users; u++) {
            if (n->op->cuda_forward != scratch_users[u].forward) continue;
            for (size_t i = 0; i < n->n_inputs; i++) p->inputs[i] = &p->values[n->inputs[i]->id];
            gb_kernel_args args = {n, p->inputs, &p->values[n->id], s};
            size_t bytes = scratch_users[u].bytes(&args);
            if (bytes > most) most = bytes;
        }
    }
    return most;
}

gb_status gb_cuda_plan_prepare(gb_plan *p, gb_cuda_session *cs, const gb_feed *feeds, size_t n_feeds,
                         gb_node *const *fetches, size_t n_fetches, cuda_plan **out)
{
    const gb_cuda_api *api = cs->api;
    cuda_plan *cp = calloc(1, sizeof *cp);
    if (!cp) return gb_fail(GB_ENOMEM, "CUDA: out of memory");
    cp->api = api;
    cp->context = cs->context;
    cp->n_nodes = p->node_count;
    cp->n_fetches = n_fetches;
    cp->n_feeds = n_feeds;
    cp->buffers = calloc(p->n_buffers + 1, sizeof *cp->buffers);
    cp->feed_buffers = calloc(n_feeds + 1, sizeof *cp->feed_buffers);
    cp->staging = calloc(n_feeds + 1, sizeof *cp->staging);
    cp->feed_bytes = calloc(n_feeds + 1, sizeof *cp->feed_bytes);
    cp->host = calloc(p->node_count + 1, sizeof *cp->host);
    cp->host_bytes = calloc(p->node_count + 1, sizeof *cp->host_bytes);
    cp->fetched = calloc(n_fetches + 1, sizeof *cp->fetched);
    gb_status st = GB_OK;
    if (!cp->buffers || !cp->feed_buffers || !cp->staging || !cp->feed_bytes || !cp->host || !cp->host_bytes ||
        !cp->fetched)
        st = gb_fail(GB_ENOMEM, "CUDA: out of memory while planning");
    size_t total = 0;
    for (size_t i = 0; st == GB_OK && i < p->n_buffers; i++) total += aligned(p->buffer_bytes[i]);
    for (size_t i = 0; st == GB_OK && i < n_feeds; i++) {
        cp->feed_bytes[i] = gb_tensor_bytes(feeds[i].value);
        total += aligned(cp->feed_bytes[i]);
    }
    cp->scratch_bytes = st == GB_OK ? scratch_bytes(p, cs->owner) : 0;
    total += aligned(cp->scratch_bytes);
    if (st == GB_OK && total) st = gb_cuda_alloc(cs, &cp->arena, total, "this run's tensors");
    size_t at = 0;
    for (size_t i = 0; st == GB_OK && i < p->n_buffers; i++) {
        cp->buffers[i] = cp->arena + at;
        at += aligned(p->buffer_bytes[i]);
    }
    cp->scratch = cp->arena + at;
    at += aligned(cp->scratch_bytes);
    for (size_t i = 0; st == GB_OK && i < n_feeds; i++) {
        cp->feed_buffers[i] = cp->arena + at;
        at += aligned(cp->feed_bytes[i]);
        if (cp->feed_bytes[i])
            st = gb_cuda_check(api->cuMemHostAlloc(&cp->staging[i], cp->feed_bytes[i], 0), "pinned memory for a feed");
    }
    for (size_t i = 0; st == GB_OK && i < n_fetches; i++) {
        gb_tensor *t = &cp->fetched[i];
        *t = p->values[fetches[i]->id];
        t->data = NULL;
        t->owns_data = 0;
        size_t bytes = gb_plan_value_bytes(t);
        t->bytes = bytes;
        if (bytes) st = gb_cuda_check(api->cuMemHostAlloc(&t->data, bytes, 0), "pinned memory for a fetch");
    }
    cp->all_on_device = 1;
    cp->log = getenv("GB_CUDA_LOG") != NULL;
    for (size_t k = 0; k < p->n_order && !cp->dropout_step; k++) {
        const gb_node *step = gb_graph_find(p->order[k]->graph, "global_step");
        if (!strcmp(p->order[k]->op->type, "Dropout") && step && step->is_variable && step->dtype == GB_I64)
            cp->dropout_step = step;
    }
    for (size_t k = 0; k < p->n_order; k++) {
        int fed = 0;
        for (size_t i = 0; i < n_feeds && !fed; i++) fed = feeds[i].node == p->order[k];
        if (fed || gb_cuda_on_device(p, p->order[k])) continue;
        cp->all_on_device = 0;
        if (cp->log) fprintf(stderr, "gradboard CUDA: %s (%s) runs on the host\n", p->order[k]->name, p->order[k]->op->type);
    }
    if (st != GB_OK) {
        gb_cuda_plan_state_free(cp);
        return st;
    }
    *out = cp;
    return GB_OK;
}

/* The variables an op reaches through the session rather than its inputs. */
size_t gb_cuda_touched_variables(const gb_node *n, const gb_node **vars)
{
    size_t count = 0;
    if (n->is_variable) vars[count++] = n;
    if (n->attr.variable) vars[count++] = n->attr.variable;
    for (int i = 0; i < 4; i++)
        if (n->attr.slots[i]) vars[count++] = n->attr.slots[i];
    return count;
}

/* Device memory for every variable and constant the plan's nodes reach, before any of them runs:
 * out of memory, the run then fails before an update is queued, and changes nothing. */
gb_status gb_cuda_plan_reserve(gb_plan *p, gb_cuda_session *cs, const gb_feed *feeds, size_t n_feeds)
{
    gb_status st = GB_OK;
    for (size_t k = 0; k < p->n_order && st == GB_OK; k++) {
        const gb_node *n = p->order[k], *vars[6];
        int fed = 0;
        for (size_t i = 0; i < n_feeds && !fed; i++) fed = feeds[i].node == n;
        if (fed) continue;
        CUdeviceptr d;
        size_t n_vars = gb_cuda_touched_variables(n, vars);
        for (size_t i = 0; i < n_vars && st == GB_OK; i++) st = gb_cuda_variable(cs, vars[i], &d);
        if (st == GB_OK && gb_cuda_is_constant(n)) st = gb_cuda_constant(cs, n, &d);
    }
    return st;
}
