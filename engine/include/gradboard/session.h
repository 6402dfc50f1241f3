/* gradboard/session.h: running a graph: feeds in, fetches out, variables kept between runs.
 *
 *   gb_session *s = gb_session_new(g, GB_CPU);
 *   if (!s) die(gb_errmsg());
 *   gb_session_run(s, NULL, 0, (gb_node *[]){gb_global_variables_initializer(g)}, 1, NULL);
 *   gb_feed feeds[] = {{x, batch}, {y, labels}};
 *   gb_node *fetches[] = {train, loss};
 *   const gb_tensor *out[2];
 *   if (gb_session_run(s, feeds, 2, fetches, 2, out) != GB_OK) die(gb_errmsg());
 *   printf("loss %g\n", gb_tensor_get(out[1], 0));   // out[] valid until the next run
 *   gb_session_free(s);
 *
 * The first run with a given set of fetches and feed shapes plans the work once: the nodes to
 * run, their order and the reuse of buffers. Later runs with the same shapes allocate nothing.
 * A session is not thread-safe; use one per thread. Sessions of one graph may run at once in
 * different threads, while no thread adds nodes to that graph. While any CPU session runs, the
 * engine holds OpenBLAS to one thread (it splits the GEMMs across its own pool) and restores the
 * program's setting when the last run ends.
 */
#ifndef GRADBOARD_SESSION_H
#define GRADBOARD_SESSION_H

#include <stddef.h>

#include "gradboard/graph.h"
#include "gradboard/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_device { GB_CPU = 0, GB_CUDA = 1 } gb_device;

typedef struct gb_session gb_session;

typedef struct gb_feed {
    gb_node *node;          /* a placeholder (or any node, whose value is then replaced) */
    const gb_tensor *value; /* borrowed for the run */
} gb_feed;

/* Returns a new session on g (free with gb_session_free before the graph), NULL on failure
 * (gb_errmsg says why: a graph with an error, a device this build or machine lacks). Nodes may
 * still be added to g afterwards, between runs (never while a session of g runs).
 *
 * GB_CUDA runs the session on the first NVIDIA GPU: variables, constants and activations live in
 * device memory, matmuls go through cuBLAS and the other ops through the engine's kernels (an op
 * without one runs on the CPU, on copies); fetched values and gb_session_variable are copied
 * back. It needs a build with the CUDA backend (-DGB_CUDA=ON, the default where the toolkit is
 * found), the NVIDIA driver and cuBLAS at run time; without them it fails with GB_EUNSUPPORTED or
 * GB_EDEVICE and a message saying what is missing. Device memory holds the variables and, per
 * cached plan (a set of fetches and feed shapes), the run's tensors; a run that does not fit once
 * the other cached plans have given theirs back fails with GB_ENOMEM ("out of device memory for
 * ...: N MiB asked, M MiB free of T MiB") and changes no variable. The environment variable
 * GB_FORCE_DEVICE=cuda (or cpu) overrides `device` for every session. */
gb_session *gb_session_new(gb_graph *g, gb_device device);
void gb_session_free(gb_session *s);

/* GB_OK when sessions can be made on `device` here; else the reason, as gb_session_new gives it. */
gb_status gb_device_available(gb_device device);

/* The device a session runs on (after GB_FORCE_DEVICE), and a description of it:
 * "CPU" or, e.g., "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, driver API 13.0)". */
gb_device gb_session_device(const gb_session *s);
const char *gb_session_device_name(const gb_session *s);

/* CUDA sessions: lets cuBLAS use TF32 tensor cores for float32 matmuls (1), trading about three
 * decimal digits of the products' precision for speed, as torch.backends.cuda.matmul.allow_tf32.
 * Off by default (full float32). No effect on a CPU session. */
void gb_session_set_tf32(gb_session *s, int enabled);

/* Runs what the fetches need. outputs (may be NULL) receives one borrowed tensor per fetch,
 * valid until the next run or gb_session_free; an op without a value (a train step, an
 * initializer) gives NULL. Errors name the node: a missing feed, a node fed twice, a shape that
 * does not fit, an uninitialised variable, bad labels. */
gb_status gb_session_run(gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                         size_t n_fetches, const gb_tensor **outputs);

/* The current value of a variable in this session (borrowed; NULL before it is initialised, or
 * for a node that is not one of this session's graph's variables). */
const gb_tensor *gb_session_variable(const gb_session *s, const gb_node *variable);

/* Replaces a variable's value (copied; dtype and shape must match) and marks it initialised.
 * The variable must be of the session's graph. */
gb_status gb_session_assign(gb_session *s, const gb_node *variable, const gb_tensor *value);

/* Per-node accounting of the last run, when enabled: what TensorBoard's run metadata shows. */
typedef struct gb_node_stats {
    const gb_node *node;
    double start_micros;    /* since the run began */
    double duration_micros;
    size_t output_bytes;    /* bytes of the node's output (0 for ops without a value) */
    gb_shape shape;         /* the output's shape in this run */
    int fresh_buffer;       /* 1 when the output got a buffer of its own, 0 when it is a view */
} gb_node_stats;

/* Turns per-node timing and memory accounting on (1) or off (0, the default: no clock reads). */
void gb_session_set_stats(gb_session *s, int enabled);

/* The stats of the last successful run, one per executed node in execution order (borrowed,
 * valid until the next run). *count 0 when stats are off. */
const gb_node_stats *gb_session_stats(const gb_session *s, size_t *count);

/* When the last run with stats began, in microseconds since the epoch. */
int64_t gb_session_stats_start_micros(const gb_session *s);

/* Subnormal floats (below 1.2e-38 in float32, 2.2e-308 in float64) are flushed to zero during
 * runs by default, as in TensorFlow: arithmetic on them is about a hundred times slower, and
 * decaying optimizer state produces them. 0 keeps them (IEEE gradual underflow, as PyTorch does
 * by default). The caller's floating-point mode is restored after each run. CUDA sessions: the
 * kernels always flush float32 subnormals (they are built with -ftz=true) and always keep
 * float64 ones (GPUs have no flush for doubles); this setting covers the ops that run on the
 * host. */
void gb_session_set_flush_denormals(gb_session *s, int enabled);

/* Turns numeric checking on (1) or off (0, the default). On, every floating-point feed and every
 * op's output is scanned as the run goes; the first NaN or infinity stops the run with
 * GB_ENUMERIC and a message naming the op that produced it from finite inputs (or the feed or
 * variable that held it), the element and its value. Like tf.debugging.enable_check_numerics:
 * for finding where a loss turns NaN; it costs a pass over every tensor. An update op that
 * produces a NaN has already written it into its variable. */
void gb_session_set_check_numerics(gb_session *s, int enabled);

/* How many times gb_session_run has succeeded (seeds dropout masks, like TF's op seeds). */
uint64_t gb_session_run_count(const gb_session *s);

#ifdef __cplusplus
}
#endif
#endif
