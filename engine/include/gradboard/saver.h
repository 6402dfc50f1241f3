/* gradboard/saver.h: saving and restoring a graph's variables, as tf.compat.v1.train.Saver does.
 *
 *   gb_saver *sv = gb_saver_new(g, "runs/mlp/model.ckpt", 5);    // keep the 5 newest
 *   ...
 *   gb_saver_save(sv, s, step, NULL);                             // runs/mlp/model.ckpt-<step>
 *   ...
 *   char *latest = gb_latest_checkpoint("runs/mlp");              // after a restart
 *   if (latest) gb_saver_restore(sv, s, latest);
 *   free(latest);
 *   gb_saver_free(sv);
 *
 * Every variable is saved under its name (optimizer slots and global_step included), in
 * TensorFlow's checkpoint format, so TensorFlow reads what we write and the other way round.
 * The "checkpoint" state file beside the checkpoints lists them (TensorFlow's text format) and is
 * replaced atomically after each save: a crash at any point leaves the previous checkpoint loadable.
 */
#ifndef GRADBOARD_SAVER_H
#define GRADBOARD_SAVER_H

#include <stddef.h>

#include "gradboard/graph.h"
#include "gradboard/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_saver gb_saver;

/* A saver of every variable of g (those existing when it is made) writing "<prefix_base>-<step>".
 * prefix_base names files in a directory ("runs/mlp/model.ckpt"); one ending in '/' is refused
 * (GB_EINVAL), and repeated slashes count as one. The state file goes in that directory and lists
 * paths relative to it. max_to_keep <= 0 keeps every checkpoint. Checkpoints already listed in the
 * directory's state file count toward max_to_keep. The saver serves g until gb_graph_reset(g):
 * after that its calls fail with GB_ESTATE. Returns NULL on failure (gb_errmsg says why). */
gb_saver *gb_saver_new(gb_graph *g, const char *prefix_base, int max_to_keep);
void gb_saver_free(gb_saver *sv);

/* Also keeps, beyond max_to_keep, one checkpoint every `hours` (TensorFlow's keep_every_n_hours). */
void gb_saver_set_keep_every_n_hours(gb_saver *sv, double hours);

/* durable 1 (the default) fsyncs each checkpoint's files; 0 skips that, like TensorFlow's saver
 * (see gb_bundle_writer_set_durable). The state file is always written atomically and fsynced. */
void gb_saver_set_durable(gb_saver *sv, int durable);

/* Saves every variable of s, making the checkpoint directory (and its parents) when missing. On
 * success *prefix_out (when non-NULL) gets the new checkpoint's prefix (free it). Older checkpoints beyond max_to_keep are deleted after the state file names
 * the new one. A step saved again is first saved under a temporary name, which the state file
 * names until the files have their step's name. A failed save removes the files it wrote, unless
 * the state file already names them. Savers sharing a directory, in threads or processes, take
 * turns, a whole save at a time (so savers of one prefix saving one step leave one whole
 * checkpoint). Like gb_session_assign, a save or restore must not overlap a run of the same
 * session: a save during a training step would store variables half updated. */
gb_status gb_saver_save(gb_saver *sv, gb_session *s, int64_t step, char **prefix_out);

/* Restores every variable of the saver from prefix (and marks them initialised). Fails, changing
 * nothing, when a variable is missing from the checkpoint or its dtype or shape differ. */
gb_status gb_saver_restore(gb_saver *sv, gb_session *s, const char *prefix);

/* Restores n variables from the checkpoint tensors names[i] (a renaming restore). Every node must
 * be a variable of s's graph: others are refused (GB_EINVAL) before anything changes. */
gb_status gb_restore_variables(gb_session *s, const char *prefix, size_t n, const char *const *names,
                               gb_node *const *variables);

/* The newest checkpoint of dir by its state file ("checkpoint"), as a new string (free it), or
 * NULL when there is none (or its index file is missing). */
char *gb_latest_checkpoint(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
