/* The session: variable storage, the plan cache and the run loop. Planning lives in plan.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/blas_threads.h"
#include "internal/cuda_backend.h"
#include "internal/fp_mode.h"
#include "internal/error.h"
#include "internal/plan.h"
#include "internal/session_impl.h"

enum { MAX_PLANS = 8 };

struct gb_session {
    gb_graph *graph;
    unsigned generation;
    gb_device device;
    gb_tensor **variables;     /* by variable_index */
    unsigned char *initialized;
    size_t variable_cap;
    gb_plan *plans[MAX_PLANS]; /* most recently used first */
    uint64_t runs;
    uint64_t dropout_counter;  /* this run's dropout masks: see gb_session_dropout_counter */
    int stats_enabled;
    int check_numerics;
    int keep_denormals;        /* 0 (the default): subnormals flushed to zero during runs */
    int64_t stats_start_micros;
    gb_node_stats *stats;
    size_t n_stats, stats_cap;
    gb_cuda_session *cuda;     /* GB_CUDA sessions: the device state (variables live there) */
};

/* GB_FORCE_DEVICE=cuda puts every session on the GPU, whatever the program asked for: the way
 * to run a CPU program or test suite unchanged on CUDA. */
static gb_device forced_device(gb_device asked)
{
    const char *forced = getenv("GB_FORCE_DEVICE");
    if (forced && !strcmp(forced, "cuda")) return GB_CUDA;
    if (forced && !strcmp(forced, "cpu")) return GB_CPU;
    return asked;
}

gb_status gb_device_available(gb_device device)
{
    if (device == GB_CPU) return GB_OK;
    if (device != GB_CUDA) return gb_fail(GB_EINVAL, "gb_device_available: unknown device %d", (int)device);
    gb_cuda_session *cs;
    gb_status st = gb_cuda_session_open(&cs);
    if (st == GB_OK) gb_cuda_session_close(cs);
    return st;
}

gb_session *gb_session_new(gb_graph *g, gb_device device)
{
    if (!g) {
        gb_fail(GB_EINVAL, "gb_session_new: graph is NULL");
        return NULL;
    }
    if (g->status != GB_OK) {
        gb_fail(g->status, "gb_session_new: the graph has an error: %s", g->errmsg);
        return NULL;
    }
    device = forced_device(device);
    if (device != GB_CPU && device != GB_CUDA) {
        gb_fail(GB_EINVAL, "gb_session_new: unknown device %d", (int)device);
        return NULL;
    }
    gb_cuda_session *cuda = NULL;
    gb_status opened = device == GB_CUDA ? gb_cuda_session_open(&cuda) : GB_OK;
    if (opened != GB_OK) {
        char message[1024];
        snprintf(message, sizeof message, "%s", gb_errmsg());
        gb_fail(opened, "gb_session_new: GB_CUDA is not available: %s", message);
        return NULL;
    }
    gb_session *s = calloc(1, sizeof *s);
    if (!s) {
        gb_cuda_session_close(cuda);
        gb_fail(GB_ENOMEM, "gb_session_new: out of memory");
        return NULL;
    }
    s->cuda = cuda;
    if (cuda) gb_cuda_session_set_owner(cuda, s);
    s->graph = g;
    s->generation = g->generation;
    s->device = device;
    return s;
}

void gb_session_free(gb_session *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->variable_cap; i++) gb_tensor_free(s->variables[i]);
    free(s->variables);
    free(s->initialized);
    for (int i = 0; i < MAX_PLANS; i++) gb_plan_free(s->plans[i]);
    free(s->stats);
    gb_cuda_session_close(s->cuda);
    free(s);
}

gb_cuda_session *gb_session_cuda(const gb_session *s) { return s ? s->cuda : NULL; }

gb_device gb_session_device(const gb_session *s) { return s && s->cuda ? GB_CUDA : GB_CPU; }

const char *gb_session_device_name(const gb_session *s)
{
    if (s && s->cuda) return gb_cuda_session_device(s->cuda);
    return "CPU";
}

void gb_session_set_tf32(gb_session *s, int enabled)
{
    if (s && s->cuda) gb_cuda_session_set_tf32(s->cuda, enabled);
}

uint64_t gb_session_run_count(const gb_session *s) { return s->runs; }

uint64_t gb_session_dropout_counter(const gb_session *s) { return s->dropout_counter; }

/* The training step when the graph has an initialised global_step (so a run restored from a
 * checkpoint draws the masks of the run it continues), else the run count; read as the run
 * starts, so that every dropout node of a run, and its gradient, draws from one counter even
 * when the run increments the step between them (two train ops fetched together). */
static uint64_t dropout_counter_at_start(const gb_session *s)
{
    const gb_node *step = gb_graph_find(s->graph, "global_step");
    if (!s->cuda && step && step->is_variable && step->dtype == GB_I64 && gb_session_is_initialized(s, step))
        return (uint64_t) * (const int64_t *)s->variables[step->variable_index]->data;
    return s->runs;
}

void gb_session_set_flush_denormals(gb_session *s, int enabled)
{
    if (s) s->keep_denormals = !enabled;
}

void gb_session_set_check_numerics(gb_session *s, int enabled)
{
    if (s) s->check_numerics = enabled != 0;
}

void gb_session_set_stats(gb_session *s, int enabled)
{
    if (!s) return;
    s->stats_enabled = enabled != 0;
    s->n_stats = 0;
}

int64_t gb_session_stats_start_micros(const gb_session *s) { return s ? s->stats_start_micros : 0; }

const gb_node_stats *gb_session_stats(const gb_session *s, size_t *count)
{
    *count = s && s->stats_enabled ? s->n_stats : 0;
    return s ? s->stats : NULL;
}

gb_tensor *gb_session_variable_storage(gb_session *s, const gb_node *v)
{
    size_t i = v->variable_index;
    if (i >= s->variable_cap) {
        size_t cap = s->variable_cap ? s->variable_cap : 16;
        while (cap <= i) cap *= 2;
        gb_tensor **vars = realloc(s->variables, cap * sizeof *vars);
        if (!vars) return NULL;
        s->variables = vars;
        unsigned char *init = realloc(s->initialized, cap);
        if (!init) return NULL;
        s->initialized = init;
        memset(vars + s->variable_cap, 0, (cap - s->variable_cap) * sizeof *vars);
        memset(init + s->variable_cap, 0, cap - s->variable_cap);
        s->variable_cap = cap;
    }
    if (!s->variables[i]) s->variables[i] = gb_tensor_new(v->dtype, v->shape);
    return s->variables[i];
}

void gb_session_mark_initialized(gb_session *s, const gb_node *v)
{
    if (v->variable_index < s->variable_cap) s->initialized[v->variable_index] = 1;
}

void gb_session_mark_uninitialized(gb_session *s, const gb_node *v)
{
    if (v->variable_index < s->variable_cap) s->initialized[v->variable_index] = 0;
}

int gb_session_is_initialized(const gb_session *s, const gb_node *v)
{
    return v->variable_index < s->variable_cap && s->initialized[v->variable_index];
}

const gb_tensor *gb_session_variable(const gb_session *s, const gb_node *variable)
{
    if (!s || !variable || !variable->is_variable || s->generation != s->graph->generation ||
        variable->graph != s->graph || !gb_session_is_initialized(s, variable))
        return NULL;
    gb_tensor *host = s->variables[variable->variable_index];
    /* on a GPU the host tensor is a mirror, refreshed on every read */
    if (s->cuda && gb_cuda_variable_download((gb_session *)s, variable, host) != GB_OK) return NULL;
    return host;
}

gb_status gb_session_assign(gb_session *s, const gb_node *variable, const gb_tensor *value)
{
    if (!s || !variable || !value) return gb_fail(GB_EINVAL, "gb_session_assign: NULL argument");
    if (s->generation != s->graph->generation)
        return gb_fail(GB_ESTATE, "gb_session_assign: the graph was reset after this session was made");
    if (variable->graph != s->graph)
        return gb_fail(GB_EINVAL, "gb_session_assign: %s belongs to another graph than the session's", variable->name);
    if (!variable->is_variable) return gb_fail(GB_EINVAL, "gb_session_assign: %s is not a variable", variable->name);
    char want[96], got[96];
    if (value->dtype != variable->dtype || !gb_shape_equal(&value->shape, &variable->shape))
        return gb_fail(GB_ESHAPE, "gb_session_assign: %s is %s %s, the value is %s %s", variable->name,
                       gb_dtype_name(variable->dtype), gb_shape_format(&variable->shape, want, sizeof want),
                       gb_dtype_name(value->dtype), gb_shape_format(&value->shape, got, sizeof got));
    gb_tensor *storage = gb_session_variable_storage(s, variable);
    if (!storage) return gb_fail(GB_ENOMEM, "gb_session_assign: no memory for %s", variable->name);
    if (storage->bytes) memcpy(storage->data, value->data, storage->bytes);
    if (s->cuda) {
        gb_status st = gb_cuda_variable_upload(s, variable, storage);
        if (st != GB_OK) return st;
    }
    gb_session_mark_initialized(s, variable);
    return GB_OK;
}

void gb_session_release_device_plans(gb_session *s)
{
    /* plans[0]: a run's plan moves to the front before it executes (find_plan) */
    for (int i = 1; i < MAX_PLANS && s->plans[i]; i++) gb_plan_release_device_state(s->plans[i]);
}

/* The cached plan for these fetches and feed shapes, built on a miss. */
static gb_status find_plan(gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                           size_t n_fetches, gb_plan **out)
{
    for (int i = 0; i < MAX_PLANS && s->plans[i]; i++) {
        if (!gb_plan_matches(s->plans[i], s->graph, feeds, n_feeds, fetches, n_fetches)) continue;
        gb_plan *hit = s->plans[i];
        memmove(&s->plans[1], &s->plans[0], (size_t)i * sizeof *s->plans);
        s->plans[0] = hit;
        *out = hit;
        return GB_OK;
    }
    gb_plan *plan;
    gb_status st = gb_plan_build(s->graph, feeds, n_feeds, fetches, n_fetches, s->cuda == NULL, &plan);
    if (st != GB_OK) return st;
    gb_plan_free(s->plans[MAX_PLANS - 1]);
    memmove(&s->plans[1], &s->plans[0], (MAX_PLANS - 1) * sizeof *s->plans);
    s->plans[0] = plan;
    *out = plan;
    return GB_OK;
}

gb_status gb_session_run(gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                         size_t n_fetches, const gb_tensor **outputs)
{
    if (!s) return gb_fail(GB_EINVAL, "gb_session_run: session is NULL");
    if (s->generation != s->graph->generation)
        return gb_fail(GB_ESTATE, "gb_session_run: the graph was reset after this session was made");
    if (s->graph->status != GB_OK)
        return gb_fail(s->graph->status, "gb_session_run: the graph has an error: %s", s->graph->errmsg);
    for (size_t i = 0; i < n_fetches; i++)
        if (!fetches[i] || fetches[i]->graph != s->graph)
            return gb_fail(GB_EINVAL, "gb_session_run: fetch %zu is NULL or from another graph", i);
    for (size_t i = 0; i < n_feeds; i++) {
        if (!feeds[i].node || !feeds[i].value || feeds[i].node->graph != s->graph)
            return gb_fail(GB_EINVAL, "gb_session_run: feed %zu is NULL or from another graph", i);
        for (size_t j = 0; j < i; j++)
            if (feeds[j].node == feeds[i].node)
                return gb_fail(GB_EINVAL, "gb_session_run: %s is fed twice (feeds %zu and %zu)", feeds[i].node->name, j,
                               i);
    }
    gb_plan *plan;
    gb_status st = find_plan(s, feeds, n_feeds, fetches, n_fetches, &plan);
    if (st != GB_OK) return st;
    gb_node_stats *stats = NULL;
    if (s->stats_enabled) {
        size_t need = gb_plan_node_count(plan) + 1;
        if (need > s->stats_cap) {
            gb_node_stats *bigger = realloc(s->stats, need * sizeof *bigger);
            if (!bigger) return gb_fail(GB_ENOMEM, "gb_session_run: no memory for node stats");
            s->stats = bigger, s->stats_cap = need;
        }
        stats = s->stats;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        s->stats_start_micros = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    }
    s->dropout_counter = dropout_counter_at_start(s);
    unsigned caller_mode = gb_fp_mode_get();
    gb_fp_mode_set(gb_fp_mode_flushing(caller_mode, !s->keep_denormals));
    if (s->cuda) {
        st = gb_cuda_execute(plan, s, feeds, n_feeds, fetches, n_fetches, stats, &s->n_stats, s->check_numerics);
    } else {
        gb_blas_threads_enter();
        st = gb_plan_execute(plan, s, feeds, n_feeds, stats, &s->n_stats, s->check_numerics);
        gb_blas_threads_leave();
    }
    gb_fp_mode_set(caller_mode);
    if (st != GB_OK) {
        s->n_stats = 0;
        return st;
    }
    if (outputs && s->cuda)
        gb_cuda_outputs(plan, fetches, n_fetches, outputs);
    else if (outputs)
        gb_plan_outputs(plan, fetches, n_fetches, outputs);
    s->runs++;
    return GB_OK;
}
