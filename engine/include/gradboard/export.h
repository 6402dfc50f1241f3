/* gradboard/export.h: the engine's graph and profiles in TensorBoard's graph dashboard.
 *
 *   gb_writer_add_graph(w, g);                  // once, after building the model
 *   gb_session_set_stats(s, 1);                 // profile one step ...
 *   gb_session_run(s, feeds, 2, &train, 1, NULL);
 *   gb_writer_add_session_stats(w, s, step);    // ... logged as run metadata "step_<step>"
 *   gb_session_set_stats(s, 0);
 */
#ifndef GRADBOARD_EXPORT_H
#define GRADBOARD_EXPORT_H

#include "gradboard/graph.h"
#include "gradboard/graph_def.h"
#include "gradboard/session.h"
#include "gradboard/summaries.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds g's GraphDef: every node with its scope path, op type, inputs ("^name" for control
 * edges; variables as the reference input of assignments and updates), device, type attributes
 * ("T", or "dtype", "SrcT"/"DstT", ... as TensorFlow's op of that name has them),
 * "_output_shapes" and the value of small constants. It is made for TensorBoard's graph
 * dashboard, not for tf.import_graph_def: ops with no TensorFlow counterpart keep our names
 * (Dropout, LearningRate, the fused cross-entropy gradients), and what TensorFlow's ops take as
 * input tensors (reduction axes, shapes, hyperparameters) is not in the graph. Returns new (free
 * with gb_graphdef_free) or NULL (gb_errmsg says why). */
gb_graphdef *gb_graph_to_graphdef(const gb_graph *g);

/* gb_graph_to_graphdef + gb_writer_add_graphdef. */
gb_status gb_writer_add_graph(gb_writer *w, const gb_graph *g);

/* Logs the per-node stats of s's last run (gb_session_set_stats on) as tagged run metadata
 * "step_<step>". */
gb_status gb_writer_add_session_stats(gb_writer *w, const gb_session *s, int64_t step);

/* A histogram (30 buckets) of every element of a tensor (a variable's value, a gradient). */
gb_status gb_summary_histogram_tensor(gb_writer *w, const char *tag, int64_t step, const gb_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
