/* gradboard/optim.h: optimizers that add their update ops to the graph.
 *
 *   gb_node *train = gb_minimize(g, gb_adam(1e-3), loss, NULL, 0);  // every trainable variable
 *   for (step...) gb_session_run(s, feeds, 2, &train, 1, NULL);      // one update, global_step += 1
 *
 * Each variable gets one fused update op per step. Slots follow TensorFlow 1.x names, so
 * checkpoints look familiar: "<var>/Momentum", "<var>/Adam", "<var>/Adam_1" ("<var>/AdamW",
 * "<var>/AdamW_1" for AdamW), and the Adam accumulators "beta1_power" and "beta2_power".
 */
#ifndef GRADBOARD_OPTIM_H
#define GRADBOARD_OPTIM_H

#include <stddef.h>

#include "gradboard/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_optimizer_kind {
    GB_OPT_GRADIENT_DESCENT, GB_OPT_MOMENTUM, GB_OPT_ADAM, GB_OPT_ADAMW, GB_OPT_RMSPROP, GB_OPT_ADAGRAD
} gb_optimizer_kind;

typedef struct gb_optimizer {
    gb_optimizer_kind kind;
    double learning_rate;
    gb_node *learning_rate_node;  /* a scalar node of the loss's dtype (a schedule) used instead */
    double momentum;              /* Momentum, RMSProp */
    int nesterov;                 /* Momentum */
    double beta1, beta2, epsilon; /* Adam, AdamW (epsilon: RMSProp too) */
    double weight_decay;          /* AdamW: w -= lr * weight_decay * w, decoupled from the gradient */
    double rho;                   /* RMSProp: decay of the mean square */
    double initial_accumulator;   /* Adagrad */
    double clip_norm;             /* > 0: scale all gradients so their global norm is at most this
                                     (an infinite or NaN norm makes them all NaN, as in TensorFlow) */
} gb_optimizer;

gb_optimizer gb_gradient_descent(double learning_rate);
gb_optimizer gb_momentum(double learning_rate, double momentum, int nesterov);
/* beta1 0.9, beta2 0.999, epsilon 1e-8 (TensorFlow 1.x defaults). */
gb_optimizer gb_adam(double learning_rate);
/* Adam with decoupled weight decay (Loshchilov & Hutter): each step w -= lr * weight_decay * w,
 * as in PyTorch's AdamW, then gb_adam's step. Epsilon is TensorFlow 1.x's, added to sqrt(v)
 * before the bias correction, so where sqrt(v) is near epsilon steps differ from PyTorch's. */
gb_optimizer gb_adamw(double learning_rate, double weight_decay);
/* rho 0.9, momentum 0, epsilon 1e-10, mean square starting at 1 (TensorFlow 1.x defaults). */
gb_optimizer gb_rmsprop(double learning_rate);
/* Accumulators start at 0.1 (TensorFlow 1.x default; it must be positive). */
gb_optimizer gb_adagrad(double learning_rate);

/* ---- learning-rate schedules: scalar nodes that follow global_step (set learning_rate_node) ---- */
/* lr * rate^(step / decay_steps), the exponent floored when staircase is set. */
gb_node *gb_exponential_decay(gb_graph *g, double lr, double decay_steps, double rate, int staircase);
/* lr * (alpha + (1 - alpha) * (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2). */
gb_node *gb_cosine_decay(gb_graph *g, double lr, double decay_steps, double alpha);
/* lr * gamma^floor(step / step_size) (PyTorch's StepLR). */
gb_node *gb_step_decay(gb_graph *g, double lr, double step_size, double gamma);

/* The int64 scalar variable "global_step" (created, non-trainable, on first use). */
gb_node *gb_global_step(gb_graph *g);

/* Adds d(loss)/d(var) and the update of each of vars (NULL/0: every trainable variable), then
 * global_step += 1 after the updates. Returns the op to run for one training step, named after
 * the optimizer ("GradientDescent", "Momentum", "Adam"). Slot variables are initialised by
 * gb_global_variables_initializer created afterwards. */
gb_node *gb_minimize(gb_graph *g, gb_optimizer opt, gb_node *loss, gb_node *const *vars, size_t n_vars);

/* The second half of gb_minimize, for gradients computed (and perhaps logged or changed) by the
 * caller: gradients[i] from gb_gradients updates vars[i] (NULL: left alone). Clipping, slots and
 * the global_step increment are as in gb_minimize. Returns the training op. */
gb_node *gb_apply_gradients(gb_graph *g, gb_optimizer opt, gb_node *const *gradients, gb_node *const *vars,
                            size_t n_vars);

#ifdef __cplusplus
}
#endif
#endif
