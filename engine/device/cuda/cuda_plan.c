/* Running a plan on the GPU. The plan (plan.c) fixed the order, the run-time shapes and which
 * buffer each value uses; here those buffers are device memory, carved from one allocation per
 * plan. Each node runs its CUDA kernel (op->cuda_forward); an op without one runs its CPU kernel
 * on host copies of its inputs ("fallback"), which keeps every graph runnable on CUDA.
 *
 * Small models are bound by launch latency, so once a plan has run eagerly and every node of it
 * has a kernel, its next run is captured as a CUDA graph (feeds copied in from pinned staging
 * buffers, fetches copied out into pinned host tensors, all inside the graph) and later runs
 * replay it with one launch. Everything a kernel reads from the host at launch time is fixed per
 * plan (buffer addresses, shapes, attributes); what changes per step (global_step, learning
 * rates, Adam's beta powers) is read on the device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/cuda/cuda_plan.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/plan_impl.h"
#include "internal/session_impl.h"

enum { MAX_INPUTS = 16 };

/* A pinned host buffer for node id's value, kept for the plan's life. */
static void *host_copy(cuda_plan *cp, size_t id, size_t bytes)
{
    if (cp->host[id] && cp->host_bytes[id] >= bytes) return cp->host[id];
    if (cp->host[id]) cp->api->cuMemFreeHost(cp->host[id]);
    cp->host[id] = NULL, cp->host_bytes[id] = 0;
    if (cp->api->cuMemHostAlloc(&cp->host[id], bytes ? bytes : 1, 0) != CUDA_SUCCESS) return cp->host[id] = NULL;
    cp->host_bytes[id] = bytes;
    return cp->host[id];
}

static gb_status kernel_error(gb_plan *p, gb_cuda_session *cs);

/* Before a node runs on the host: the failure a kernel before it recorded (a bad index), which
 * stops the run there, as the CPU would have stopped. */
static gb_status earlier_kernel_error(gb_plan *p, gb_cuda_session *cs)
{
    gb_status st = gb_cuda_check(cs->api->cuMemcpyDtoHAsync(cs->error_host, dptr(cs->error), sizeof *cs->error, cs->stream),
                                 "error word");
    if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), "error word");
    return st == GB_OK ? kernel_error(p, cs) : st;
}

/* Runs node n's CPU kernel on host copies: inputs copied back, the output copied in (or the
 * variables it updated, which the CPU kernels reach through the session's host mirrors). */
static gb_status run_on_host(cuda_plan *cp, gb_plan *p, gb_session *s, gb_cuda_session *cs, gb_node *n, gb_tensor *out)
{
    const gb_cuda_api *api = cs->api;
    if (n->n_inputs > MAX_INPUTS) return gb_fail(GB_EUNSUPPORTED, "CUDA: %zu inputs is too many for a host op", n->n_inputs);
    gb_tensor host_in[MAX_INPUTS];
    const gb_tensor *ins[MAX_INPUTS];
    gb_status st = GB_OK;
    for (size_t i = 0; i < n->n_inputs && st == GB_OK; i++) {
        const gb_tensor *v = &p->values[n->inputs[i]->id];
        size_t bytes = gb_plan_value_bytes(v);
        host_in[i] = *v;
        host_in[i].data = host_copy(cp, n->inputs[i]->id, bytes);
        ins[i] = &host_in[i];
        if (!host_in[i].data) return gb_fail(GB_ENOMEM, "CUDA: no pinned memory for %s", n->inputs[i]->name);
        if (bytes) st = gb_cuda_check(api->cuMemcpyDtoHAsync(host_in[i].data, dptr(v->data), bytes, cs->stream), n->name);
    }
    const gb_node *vars[6];
    size_t n_vars = gb_cuda_touched_variables(n, vars);
    for (size_t i = 0; i < n_vars && st == GB_OK; i++) {
        gb_tensor *mirror = gb_session_variable_storage(s, vars[i]);
        if (!mirror) return gb_fail(GB_ENOMEM, "no memory for %s", vars[i]->name);
        CUdeviceptr d;
        if (gb_session_is_initialized(s, vars[i]) && (st = gb_cuda_variable(cs, vars[i], &d)) == GB_OK)
            st = gb_cuda_check(api->cuMemcpyDtoHAsync(mirror->data, d, mirror->bytes, cs->stream), vars[i]->name);
    }
    if (st == GB_OK) st = gb_cuda_check(api->cuStreamSynchronize(cs->stream), n->name);
    if (st != GB_OK) return st;
    size_t out_bytes = gb_plan_value_bytes(out);
    gb_tensor host_out = *out;
    if (n->op->output_is_variable) {
        gb_tensor *mirror = gb_session_variable_storage(s, n->is_variable ? n : n->attr.variable);
        if (!mirror) return gb_fail(GB_ENOMEM, "no memory for the variable %s updates", n->name);
        host_out.data = mirror->data;
    } else if (n->op->aliases_input) {
        host_out.data = host_in[0].data;
    } else {
        host_out.data = host_copy(cp, n->id, out_bytes);
        if (!host_out.data) return gb_fail(GB_ENOMEM, "CUDA: no pinned memory for %s", n->name);
    }
    gb_kernel_args args = {n, ins, &host_out, s};
    st = n->op->forward ? n->op->forward(&args) : GB_OK;
    if (st != GB_OK) return st;
    for (size_t i = 0; i < n_vars && st == GB_OK; i++) {
        if (!gb_session_is_initialized(s, vars[i])) continue;
        gb_tensor *mirror = gb_session_variable_storage(s, vars[i]);
        CUdeviceptr d;
        if ((st = gb_cuda_variable(cs, vars[i], &d)) == GB_OK)
            st = gb_cuda_check(api->cuMemcpyHtoDAsync(d, mirror->data, mirror->bytes, cs->stream), vars[i]->name);
    }
    if (st == GB_OK && !n->op->output_is_variable && !n->op->aliases_input && out_bytes)
        st = gb_cuda_check(api->cuMemcpyHtoDAsync(dptr(out->data), host_out.data, out_bytes, cs->stream), n->name);
    if (st == GB_OK) st = gb_cuda_check(api->cuStreamSynchronize(cs->stream), n->name);
    return st;
}

/* Points node n's value at its device memory. */
static gb_status place(cuda_plan *cp, gb_plan *p, gb_session *s, gb_cuda_session *cs, gb_node *n, gb_tensor *out)
{
    if (n->op->output_is_variable) {
        const gb_node *v = n->is_variable ? n : n->attr.variable;
        /* the host mirror too: it holds the variable's initialised flag and serves reads */
        if (!gb_session_variable_storage(s, v)) return gb_fail(GB_ENOMEM, "%s: no memory for variable %s", n->name, v->name);
        CUdeviceptr d;
        gb_status st = gb_cuda_variable(cs, v, &d);
        if (st != GB_OK) return st;
        out->data = vptr(d);
        if (n->is_variable && !gb_session_is_initialized(s, n))
            return gb_fail(GB_ESTATE, "variable %s is read before it is initialised: run gb_global_variables_initializer "
                                      "(or restore a checkpoint) first", n->name);
    } else if (n->op->aliases_input) {
        out->data = p->values[n->inputs[0]->id].data;
    } else if (gb_cuda_is_constant(n)) {
        CUdeviceptr d;
        gb_status st = gb_cuda_constant(cs, n, &d);
        if (st != GB_OK) return st;
        out->data = vptr(d);
    } else {
        int32_t buffer = p->buffer_of[n->id];
        out->data = buffer == NO_BUFFER ? NULL : vptr(cp->buffers[buffer]);
    }
    return GB_OK;
}

/* check_numerics on the GPU: the value copied back and scanned. */
static gb_status numeric_check(cuda_plan *cp, gb_cuda_session *cs, const gb_node *n, const gb_tensor *v, const char *what)
{
    if (v->dtype != GB_F32 && v->dtype != GB_F64) return GB_OK;
    size_t bytes = gb_plan_value_bytes(v);
    gb_tensor host = *v;
    host.data = host_copy(cp, n->id, bytes);
    if (!host.data) return gb_fail(GB_ENOMEM, "CUDA: no pinned memory for check_numerics");
    gb_status st = bytes ? gb_cuda_check(cs->api->cuMemcpyDtoHAsync(host.data, dptr(v->data), bytes, cs->stream), n->name)
                         : GB_OK;
    if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), n->name);
    if (st != GB_OK) return st;
    int64_t at = gb_plan_first_non_finite(&host);
    return at < 0 ? GB_OK : gb_plan_numeric_error(what, n, &host, at);
}

static int reads_queued(const gb_cuda_session *cs, const gb_tensor *v)
{
    return gb_cuda_updates_touch(cs, v->data, gb_plan_value_bytes(v), 0);
}

/* Whether node n must wait for the queued updates (cuda_updates.c): it reads what they write or
 * writes what they read, through its values or the variables it updates, or it runs on the host. */
static int waits_for_updates(const gb_plan *p, const gb_cuda_session *cs, const gb_node *n, const gb_tensor *out)
{
    if (cs->updates.count == 0) return 0;
    if (!gb_cuda_on_device(p, n)) return 1;
    const gb_node *fused = p->fused_add[n->id] ? p->fused_add[n->id] : p->fused_scale[n->id];
    for (size_t i = 0; i < n->n_inputs; i++)
        if (reads_queued(cs, &p->values[n->inputs[i]->id])) return 1;
    for (size_t i = 0; fused && i < fused->n_inputs; i++)
        if (reads_queued(cs, &p->values[fused->inputs[i]->id])) return 1;
    if (gb_cuda_updates_touch(cs, out->data, gb_plan_value_bytes(out), 1)) return 1;
    const gb_node *state[] = {n->attr.variable, n->attr.slots[0], n->attr.slots[1], n->attr.slots[2], n->attr.slots[3]};
    for (int i = 0; i < 5; i++) {
        size_t index = state[i] ? state[i]->variable_index : SIZE_MAX;
        if (index >= cs->n_vars || !cs->vars[index]) continue; /* no storage yet: no update touches it */
        size_t bytes = (size_t)gb_shape_elements(&state[i]->shape) * gb_dtype_size(state[i]->dtype);
        int writes = i < 3; /* the variable and the accumulators; slots 2 and 3 are only read */
        if (gb_cuda_updates_touch(cs, vptr(cs->vars[index]), bytes, writes)) return 1;
    }
    return 0;
}

/* Node n: its kernel enqueued (its update queued), or its CPU kernel run on the host. */
static gb_status run_node(cuda_plan *cp, gb_plan *p, gb_session *s, gb_cuda_session *cs, gb_node *n,
                          const struct timespec *t0, gb_node_stats *stats, size_t *n_stats, int check_numerics)
{
    gb_tensor *out = &p->values[n->id];
    for (size_t i = 0; i < n->n_inputs; i++) p->inputs[i] = &p->values[n->inputs[i]->id];
    gb_status st = place(cp, p, s, cs, n, out);
    if (st == GB_OK && waits_for_updates(p, cs, n, out)) st = gb_cuda_flush_updates(cs);
    double start = stats ? gb_plan_micros_since(t0) : 0;
    const gb_node *add = p->fused_add[n->id], *scale = p->fused_scale[n->id];
    if (st != GB_OK) {
    } else if (add) {
        st = gb_cuda_bias_activation_forward(s, n, &p->values[add->inputs[0]->id], &p->values[add->inputs[1]->id], out);
    } else if (scale) {
        gb_kernel_args args = {n, p->inputs, out, s};
        st = gb_cuda_scale_variable_forward(&args, &p->values[scale->inputs[1]->id]);
    } else if (n->is_variable || gb_cuda_is_constant(n) || (n->op->aliases_input && gb_cuda_on_device(p, n))) {
        /* nothing to compute: the value is in place */
    } else if (n->op->cuda_forward) {
        gb_kernel_args args = {n, p->inputs, out, s};
        st = n->op->cuda_forward(&args);
    } else {
        st = earlier_kernel_error(p, cs);
        if (st != GB_OK) return st;
        st = run_on_host(cp, p, s, cs, n, out);
    }
    if (st == GB_OK && stats) {
        st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), n->name);
        gb_plan_record_stats(p, &stats[(*n_stats)++], n, start, gb_plan_micros_since(t0), out);
    }
    if (st != GB_OK) return gb_plan_node_error(st, n);
    return check_numerics ? numeric_check(cp, cs, n, out, n->is_variable ? "variable" : "op") : GB_OK;
}

/* Enqueues every node (or, on the host, runs the fallbacks) in order. */
static gb_status run_nodes(cuda_plan *cp, gb_plan *p, gb_session *s, gb_cuda_session *cs, const gb_feed *feeds,
                           size_t n_feeds, gb_node_stats *stats, size_t *n_stats, int check_numerics)
{
    struct timespec t0;
    if (stats) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        *n_stats = 0;
    }
    for (size_t i = 0; i < n_feeds && check_numerics; i++) {
        gb_status st = numeric_check(cp, cs, feeds[i].node, &p->values[feeds[i].node->id], "the value fed to");
        if (st != GB_OK) return st;
    }
    cs->updates.count = 0;
    cs->queue_updates = !stats && !check_numerics; /* timing or checking a node needs its update done */
    gb_status st = GB_OK;
    for (size_t k = 0; k < p->n_order && st == GB_OK; k++) {
        int fed = 0;
        for (size_t i = 0; i < n_feeds && !fed; i++) fed = feeds[i].node == p->order[k];
        if (!fed) st = run_node(cp, p, s, cs, p->order[k], &t0, stats, n_stats, check_numerics);
    }
    gb_status flushed = gb_cuda_flush_updates(cs); /* after a failure too: earlier updates happen, as on the CPU */
    cs->queue_updates = 0;
    return st != GB_OK ? st : flushed;
}

/* Feeds in (from the staging buffers), the error word cleared, global_step kept for the run's
 * dropout masks (every dropout node of a run, and its gradient, must draw the same mask even when
 * the run increments the step between them); fetches and the error word out. */
static gb_status copy_in(cuda_plan *cp, gb_session *s, gb_cuda_session *cs, size_t n_feeds)
{
    gb_status st = gb_cuda_check(cs->api->cuMemsetD8Async(dptr(cs->error), 0, sizeof *cs->error, cs->stream), "error word");
    cs->dropout_step_set = 0;
    if (st == GB_OK && cp->dropout_step && gb_session_is_initialized(s, cp->dropout_step)) {
        CUdeviceptr step;
        st = gb_cuda_variable(cs, cp->dropout_step, &step);
        if (st != GB_OK) return st;
        st = gb_cuda_check(cs->api->cuMemcpyDtoDAsync(dptr(cs->dropout_step), step, sizeof *cs->dropout_step, cs->stream),
                           "global_step for dropout");
        cs->dropout_step_set = st == GB_OK;
    }
    for (size_t i = 0; i < n_feeds && st == GB_OK; i++)
        if (cp->feed_bytes[i])
            st = gb_cuda_check(cs->api->cuMemcpyHtoDAsync(cp->feed_buffers[i], cp->staging[i], cp->feed_bytes[i], cs->stream),
                               "copying a feed in");
    return st;
}

static gb_status copy_out(cuda_plan *cp, gb_plan *p, gb_cuda_session *cs, gb_node *const *fetches, size_t n_fetches)
{
    gb_status st = GB_OK;
    for (size_t i = 0; i < n_fetches && st == GB_OK; i++) {
        gb_tensor *t = &cp->fetched[i];
        const gb_tensor *v = &p->values[fetches[i]->id];
        if (t->bytes && v->data)
            st = gb_cuda_check(cs->api->cuMemcpyDtoHAsync(t->data, dptr(v->data), t->bytes, cs->stream), fetches[i]->name);
    }
    if (st == GB_OK)
        st = gb_cuda_check(cs->api->cuMemcpyDtoHAsync(cs->error_host, dptr(cs->error), sizeof *cs->error, cs->stream),
                           "error word");
    return st;
}

/* After the stream is done: a kernel's recorded failure (a bad label or index) becomes the run's
 * error, naming the first bad element and its value (read back from the labels or indices). */
static gb_status kernel_error(gb_plan *p, gb_cuda_session *cs)
{
    gb_cuda_error_word e = *cs->error_host;
    if (!e.node_plus_one) return GB_OK;
    const gb_node *n = NULL;
    for (size_t k = 0; k < p->n_order && !n; k++)
        if (p->order[k]->id == e.node_plus_one - 1) n = p->order[k];
    if (!n || n->n_inputs < 2) return gb_fail(GB_EDEVICE, "CUDA: a kernel reported an error for an unknown node");
    long long position = (long long)~e.position_complement, value = 0;
    const gb_tensor *bad = &p->values[n->inputs[1]->id]; /* the labels, or a gather's indices */
    size_t size = gb_dtype_size(bad->dtype);
    int32_t narrow = 0;
    void *into = size == sizeof narrow ? (void *)&narrow : (void *)&value;
    gb_status st = gb_cuda_check(cs->api->cuMemcpyDtoHAsync(into, dptr((const char *)bad->data + (size_t)position * size),
                                                            size, cs->stream), "reading a bad label back");
    if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), "reading a bad label back");
    if (st != GB_OK) return st;
    if (size == sizeof narrow) value = narrow;
    const gb_shape *first = &p->values[n->inputs[0]->id].shape; /* the logits, or a gather's params */
    if (!strcmp(n->op->type, "GatherV2"))
        return gb_fail(GB_EINVAL, "%s (%s): index %lld at position %lld is outside [0, %lld)", n->name, n->op->type, value,
                       position, (long long)first->dim[0]);
    return gb_fail(GB_EINVAL, "%s (%s): label %lld of example %lld is outside [0, %lld)", n->name, n->op->type, value,
                   position, (long long)first->dim[1]);
}

/* Records the plan's device work as a CUDA graph; on failure the plan stays eager. */
static gb_status capture(cuda_plan *cp, gb_plan *p, gb_session *s, gb_cuda_session *cs, const gb_feed *feeds,
                         size_t n_feeds, gb_node *const *fetches, size_t n_fetches)
{
    const gb_cuda_api *api = cs->api;
    gb_status st = gb_cuda_check(api->cuStreamBeginCapture(cs->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "begin capture");
    if (st != GB_OK) {
        cp->capture_failed = 1;
        return st;
    }
    cs->run_dependent = 0;
    gb_status work = copy_in(cp, s, cs, n_feeds);
    if (work == GB_OK) work = run_nodes(cp, p, s, cs, feeds, n_feeds, NULL, NULL, 0);
    if (work == GB_OK) work = copy_out(cp, p, cs, fetches, n_fetches);
    if (work == GB_OK && cs->run_dependent) { /* a launch baked in this run's count: replays would repeat it */
        cp->all_on_device = 0;
        work = gb_fail(GB_ESTATE, "the plan depends on the run count");
    }
    CUgraph graph = NULL;
    st = gb_cuda_check(api->cuStreamEndCapture(cs->stream, &graph), "end capture");
    if (work == GB_OK && st == GB_OK) st = gb_cuda_check(api->cuGraphInstantiateWithFlags(&cp->graph, graph, 0), "instantiate");
    if (graph) api->cuGraphDestroy(graph);
    cp->graph_tf32 = cs->tf32;
    if (work != GB_OK || st != GB_OK) {
        if (cp->log) fprintf(stderr, "gradboard CUDA: capturing a plan of %zu nodes failed: %s\n", p->n_order, gb_errmsg());
        cp->graph = NULL;
        cp->capture_failed = 1;
        return work != GB_OK ? work : st;
    }
    if (cp->log) fprintf(stderr, "gradboard CUDA: a plan of %zu nodes captured as a CUDA graph\n", p->n_order);
    return GB_OK;
}

/* A failed run's queued Assigns were skipped (or never launched): the variables they would have
 * initialised are not. Returns st. */
static gb_status forget_fresh(gb_session *s, gb_cuda_session *cs, gb_status st)
{
    for (size_t i = 0; i < cs->n_fresh && st != GB_OK; i++) gb_session_mark_uninitialized(s, cs->fresh[i]);
    cs->n_fresh = 0;
    return st;
}

gb_status gb_cuda_execute(gb_plan *p, gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                          size_t n_fetches, gb_node_stats *stats, size_t *n_stats, int check_numerics)
{
    gb_cuda_session *cs = gb_session_cuda(s);
    gb_status st = gb_cuda_enter(cs);
    if (st != GB_OK) return st;
    cs->n_fresh = 0;
    cuda_plan *cp = p->device_state;
    if (!cp) {
        st = gb_cuda_plan_prepare(p, cs, feeds, n_feeds, fetches, n_fetches, &cp);
        if (st != GB_OK) return st;
        p->device_state = cp;
    }
    cs->scratch = cp->scratch_bytes ? vptr(cp->scratch) : NULL;
    cs->scratch_bytes = cp->scratch_bytes;
    if (!cp->reserved) {
        st = gb_cuda_plan_reserve(p, cs, feeds, n_feeds);
        if (st != GB_OK) return st;
        cp->reserved = 1;
    }
    for (size_t i = 0; i < n_feeds; i++) {
        p->values[feeds[i].node->id].data = vptr(cp->feed_buffers[i]);
        if (cp->feed_bytes[i]) memcpy(cp->staging[i], feeds[i].value->data, cp->feed_bytes[i]);
    }
    if (cp->graph && cp->graph_tf32 != cs->tf32) { /* the math mode changed: capture again */
        cs->api->cuGraphExecDestroy(cp->graph);
        cp->graph = NULL;
    }
    int replayable = cp->all_on_device && !cp->capture_failed && !stats && !check_numerics && cp->eager_runs > 0;
    if (replayable && !cp->graph) {
        st = capture(cp, p, s, cs, feeds, n_feeds, fetches, n_fetches);
        if (st != GB_OK && !cp->capture_failed) return forget_fresh(s, cs, st);
        replayable = cp->graph != NULL;
    }
    if (replayable) {
        st = gb_cuda_check(cs->api->cuGraphLaunch(cp->graph, cs->stream), "replaying the step");
    } else {
        cs->run_dependent = 0;
        st = copy_in(cp, s, cs, n_feeds);
        if (st == GB_OK) st = run_nodes(cp, p, s, cs, feeds, n_feeds, stats, n_stats, check_numerics);
        if (st == GB_OK) st = copy_out(cp, p, cs, fetches, n_fetches);
        if (cs->run_dependent && cp->all_on_device && cp->log)
            fprintf(stderr, "gradboard CUDA: a plan of %zu nodes depends on the run count: not captured\n", p->n_order);
        if (cs->run_dependent) cp->all_on_device = 0; /* e.g. dropout counting runs: never captured */
    }
    gb_status synced = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), "finishing the run");
    if (st == GB_OK) st = synced;
    if (st == GB_OK) st = kernel_error(p, cs);
    /* Only a run that succeeded on the device counts toward capture: a failed one may not have
     * placed every constant, and its Assigns initialised nothing, while a replay marks nothing. */
    if (!replayable && st == GB_OK) cp->eager_runs++;
    return forget_fresh(s, cs, st);
}

void gb_cuda_outputs(gb_plan *p, gb_node *const *fetches, size_t n_fetches, const gb_tensor **outputs)
{
    (void)fetches; /* the plan holds its fetches' host copies in order */
    cuda_plan *cp = p->device_state;
    for (size_t i = 0; i < n_fetches; i++) outputs[i] = cp && gb_dtype_size(cp->fetched[i].dtype) ? &cp->fetched[i] : NULL;
}
