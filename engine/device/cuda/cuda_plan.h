/* Private: a plan's device state (cuda_plan_memory.c lays out its memory, cuda_plan.c runs it).
 *
 *   cuda_plan *cp;
 *   st = gb_cuda_plan_prepare(p, cs, feeds, n_feeds, fetches, n_fetches, &cp);  // freed by
 *   st = gb_cuda_plan_reserve(p, cs, feeds, n_feeds);                            // gb_cuda_plan_state_free
 */
#ifndef GB_CUDA_PLAN_H
#define GB_CUDA_PLAN_H

#include "device/cuda/cuda_context.h"
#include "internal/plan_impl.h"

typedef struct cuda_plan {
    const gb_cuda_api *api;
    CUcontext context;         /* made current to free, whichever thread frees the plan */
    CUdeviceptr arena;
    CUdeviceptr *buffers;      /* by buffer index */
    CUdeviceptr *feed_buffers; /* by feed index */
    CUdeviceptr scratch;       /* for the nodes that need some (scratch_users), one at a time */
    size_t scratch_bytes;
    void **staging;            /* pinned, by feed index */
    size_t *feed_bytes, n_feeds;
    void **host;               /* pinned host copies by node id (fallback values), made on demand */
    size_t *host_bytes;
    size_t n_nodes;
    gb_tensor *fetched;        /* host tensors given as outputs, by fetch index */
    size_t n_fetches;
    int reserved;              /* its variables and constants have device memory */
    int all_on_device;         /* every node has a kernel: the plan may be captured */
    int eager_runs;
    int capture_failed;
    int log; /* GB_CUDA_LOG set: say which ops fall back to the host and when plans are captured */
    const gb_node *dropout_step; /* global_step, when the plan has dropout: copied as a run starts */
    CUgraphExec graph;
    int graph_tf32; /* the cuBLAS math mode the graph was captured with (it is baked in) */
} cuda_plan;

static inline CUdeviceptr dptr(const void *p) { return (CUdeviceptr)(uintptr_t)p; }
static inline void *vptr(CUdeviceptr p) { return (void *)(uintptr_t)p; }

/* A constant: a node without inputs carrying its value (variables' initial values aside). */
int gb_cuda_is_constant(const gb_node *n);

/* Whether node n can run without the host: its kernel, or something the executor does itself. */
int gb_cuda_on_device(const gb_plan *p, const gb_node *n);

/* The variables an op reaches through the session rather than its inputs (at most 6) into vars. */
size_t gb_cuda_touched_variables(const gb_node *n, const gb_node **vars);

/* The plan's device state for these feeds and fetches: one device allocation holding its buffers,
 * feeds and scratch, pinned staging for the feeds and fetches. Out of memory: GB_ENOMEM, nothing
 * kept. */
gb_status gb_cuda_plan_prepare(gb_plan *p, gb_cuda_session *cs, const gb_feed *feeds, size_t n_feeds,
                               gb_node *const *fetches, size_t n_fetches, cuda_plan **out);

/* Device memory for every variable and constant the plan's nodes reach, before any of them runs:
 * out of memory, the run then fails before an update is queued, and changes nothing. */
gb_status gb_cuda_plan_reserve(gb_plan *p, gb_cuda_session *cs, const gb_feed *feeds, size_t n_feeds);

#endif
