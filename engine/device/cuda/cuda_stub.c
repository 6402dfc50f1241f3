/* The CUDA backend in a build without the CUDA toolkit: sessions cannot be opened on GB_CUDA,
 * so none of the other entry points is ever reached. */
#include "internal/cuda_backend.h"
#include "internal/error.h"

gb_status gb_cuda_session_open(gb_cuda_session **out)
{
    *out = NULL;
    return gb_fail(GB_EUNSUPPORTED, "this build of gradboard has no CUDA backend (configure with -DGB_CUDA=ON where "
                                    "the CUDA toolkit is installed)");
}

void gb_cuda_session_close(gb_cuda_session *cs) { (void)cs; }

void gb_cuda_session_set_owner(gb_cuda_session *cs, gb_session *owner) { (void)cs, (void)owner; }

void gb_cuda_session_set_tf32(gb_cuda_session *cs, int enabled) { (void)cs, (void)enabled; }

const char *gb_cuda_session_device(const gb_cuda_session *cs)
{
    (void)cs;
    return "none";
}

gb_status gb_cuda_variable_download(gb_session *s, const gb_node *v, gb_tensor *host)
{
    (void)s, (void)v, (void)host;
    return gb_fail(GB_EUNSUPPORTED, "no CUDA backend in this build");
}

gb_status gb_cuda_variable_upload(gb_session *s, const gb_node *v, const gb_tensor *host)
{
    (void)s, (void)v, (void)host;
    return gb_fail(GB_EUNSUPPORTED, "no CUDA backend in this build");
}

gb_status gb_cuda_execute(gb_plan *p, gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                          size_t n_fetches, gb_node_stats *stats, size_t *n_stats, int check_numerics)
{
    (void)p, (void)s, (void)feeds, (void)n_feeds, (void)fetches, (void)n_fetches, (void)stats, (void)n_stats;
    (void)check_numerics;
    return gb_fail(GB_EUNSUPPORTED, "no CUDA backend in this build");
}

void gb_cuda_outputs(gb_plan *p, gb_node *const *fetches, size_t n_fetches, const gb_tensor **outputs)
{
    (void)p, (void)fetches, (void)n_fetches, (void)outputs;
}

void gb_cuda_plan_state_free(void *state) { (void)state; }
