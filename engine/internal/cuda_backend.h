/* Private: the CUDA backend as the session sees it (engine/device/cuda). A build without the
 * toolkit links device/cuda/cuda_stub.c instead, where opening fails with GB_EUNSUPPORTED.
 *
 * A CUDA session keeps every variable and constant in device memory; the session's host tensors
 * of variables become mirrors, refreshed when read (gb_session_variable) and written through
 * (gb_session_assign). Runs go through gb_cuda_execute instead of gb_plan_execute. */
#ifndef GB_ENGINE_CUDA_BACKEND_H
#define GB_ENGINE_CUDA_BACKEND_H

#include <stddef.h>

#include "gradboard/session.h"
#include "internal/graph_impl.h"
#include "internal/plan.h"

typedef struct gb_cuda_session gb_cuda_session;

/* Opens the first GPU: GB_EUNSUPPORTED in a build without CUDA, GB_EDEVICE when the driver,
 * cuBLAS or a GPU is missing (gb_errmsg says which). */
gb_status gb_cuda_session_open(gb_cuda_session **out);
void gb_cuda_session_close(gb_cuda_session *cs);

/* The session whose cached plans give back their device memory when an allocation of cs runs
 * out (session.c calls it once the session exists). */
void gb_cuda_session_set_owner(gb_cuda_session *cs, gb_session *owner);

/* Frees the device state of s's cached plans but the most recently used one (the run under way,
 * or the last run, whose outputs the caller may still hold); a later run of one prepares it
 * again. What a CUDA allocation that ran out of memory gives back before it tries once more, as
 * PyTorch's allocator empties its cache (session.c). */
void gb_session_release_device_plans(gb_session *s);

/* Lets cuBLAS use TF32 tensor cores for float32 matmuls (1) or not (0, the default). */
void gb_cuda_session_set_tf32(gb_cuda_session *cs, int enabled);

/* "NVIDIA H100 80GB HBM3 (sm_90, driver 13.0)": what the session runs on. */
const char *gb_cuda_session_device(const gb_cuda_session *cs);

/* Copies variable v between its device storage and the host tensor `host` (v's dtype and shape). */
gb_status gb_cuda_variable_download(gb_session *s, const gb_node *v, gb_tensor *host);
gb_status gb_cuda_variable_upload(gb_session *s, const gb_node *v, const gb_tensor *host);

/* Runs plan p of session s on the GPU; the arguments are gb_plan_execute's. Afterwards
 * gb_cuda_outputs gives host copies of the fetched values (valid until the next run). */
gb_status gb_cuda_execute(gb_plan *p, gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                          size_t n_fetches, gb_node_stats *stats, size_t *n_stats, int check_numerics);
void gb_cuda_outputs(gb_plan *p, gb_node *const *fetches, size_t n_fetches, const gb_tensor **outputs);

/* Frees what gb_cuda_execute attached to a plan (device buffers, the captured CUDA graph). */
void gb_cuda_plan_state_free(void *state);

/* The session's CUDA state, NULL for a CPU session (session.c). */
gb_cuda_session *gb_session_cuda(const gb_session *s);

#endif
