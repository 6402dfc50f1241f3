/* gradboard/engine.h: everything of the engine in one include.
 *
 *   #include <gradboard/engine.h>
 *   gb_graph *g = gb_graph_new();
 *   gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(3));
 *   gb_node *f = gb_sub(g, gb_add(g, gb_square(g, x), x), gb_scalar(g, 1));   // x^2 + x - 1
 *   gb_node *step = gb_minimize(g, gb_gradient_descent(0.1), f, NULL, 0);
 *   gb_session *s = gb_session_new(g, GB_CPU);
 *   gb_session_run(s, NULL, 0, (gb_node *[]){gb_global_variables_initializer(g)}, 1, NULL);
 *   for (int i = 0; i < 30; i++) gb_session_run(s, NULL, 0, &step, 1, NULL);
 */
#ifndef GRADBOARD_ENGINE_H
#define GRADBOARD_ENGINE_H

#include "gradboard/autodiff.h"
#include "gradboard/export.h"
#include "gradboard/graph.h"
#include "gradboard/init.h"
#include "gradboard/ops.h"
#include "gradboard/optim.h"
#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"
#include "gradboard/session.h"
#include "gradboard/summary.h"
#include "gradboard/tensor.h"

/* The headers above declare everything, each inside its own extern "C" block (the system headers
 * they include must stay outside one). This block is for any declaration added here later. */
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
