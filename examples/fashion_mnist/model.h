/* model.h: the MLP as an engine graph, with a training path (dropout) and an evaluation path
 * (none) sharing one set of variables. */
#ifndef FM_MODEL_H
#define FM_MODEL_H
#include "gradboard/engine.h"
#include "options.h"

enum { FM_MAX_VARS = 2 * (FM_MAX_HIDDEN + 1) };

typedef struct fm_model {
    gb_graph *g;
    gb_node *images, *labels;           /* placeholders [?, 784] float32 in [0, 1], [?] int32 */
    gb_node *loss, *accuracy;           /* training path: mean loss and accuracy of a batch */
    gb_node *eval_loss, *eval_accuracy; /* evaluation path */
    gb_node *predictions;               /* evaluation path: int64 class per image */
    gb_node *train;                     /* one optimizer step */
    gb_node *learning_rate;             /* its current value */
    gb_node *init;
    gb_node *vars[FM_MAX_VARS], *grads[FM_MAX_VARS];
    size_t n_vars;
    gb_node *first_kernel;              /* [784, hidden[0]] (or [784, 10]) */
} fm_model;

/* Builds the model for cfg; steps_total sizes the learning-rate schedule. Returns GB_OK, or the
 * graph's first error (message in gb_graph_errmsg(m->g)); free with fm_model_free either way. */
gb_status fm_model_build(const fm_config *cfg, int64_t steps_per_epoch, fm_model *m);
void fm_model_free(fm_model *m);

#endif
