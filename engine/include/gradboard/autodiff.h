/* gradboard/autodiff.h: reverse-mode differentiation that adds the gradient ops to the graph.
 *
 *   gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_constant(5));
 *   gb_node *y = gb_mul(g, x, x);
 *   gb_node *dy_dx;
 *   gb_gradients(g, y, &x, 1, &dy_dx);        // a node computing 2x, under "gradients/"
 *   gb_node *d2;
 *   gb_gradients(g, dy_dx, &x, 1, &d2);        // second derivative: 2
 *
 * Like tf.gradients: y may be any shape (its elements are summed); an x that y does not depend on
 * gets NULL; gradients pass through broadcasting and reductions, and through the gradient ops
 * themselves (second derivatives). An op on the way from x to y with no gradient is an error
 * (GB_EUNSUPPORTED), never a silently missing term; stop_gradient cuts a path on purpose.
 */
#ifndef GRADBOARD_AUTODIFF_H
#define GRADBOARD_AUTODIFF_H

#include <stddef.h>

#include "gradboard/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Adds nodes computing d(sum y)/d(xs[i]) into dxs[i] (NULL when y does not depend on xs[i]).
 * Returns the graph's status. */
gb_status gb_gradients(gb_graph *g, gb_node *y, gb_node *const *xs, size_t n, gb_node **dxs);

/* The same with an explicit upstream gradient dy (y's shape) instead of ones. */
gb_status gb_gradients_with(gb_graph *g, gb_node *y, gb_node *dy, gb_node *const *xs, size_t n, gb_node **dxs);

/* The Jacobian of a vector y (rank 1, known length m) with respect to x: a node of shape
 * [m, elements of x...], row i being the gradient of y[i]. */
gb_node *gb_jacobian(gb_graph *g, gb_node *y, gb_node *x);

#ifdef __cplusplus
}
#endif
#endif
