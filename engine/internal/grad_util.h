/* Private: helpers the ops' gradient functions share. */
#ifndef GB_ENGINE_GRAD_UTIL_H
#define GB_ENGINE_GRAD_UTIL_H

#include "internal/graph_impl.h"

/* x summed down to like's shape (undoing broadcasting); x itself when the shapes are equal and
 * fully known at build time. */
gb_node *gb_reduce_to_like(gb_graph *g, gb_node *x, gb_node *like);

/* x with like's run-time shape (same number of elements): a view. */
gb_node *gb_reshape_like(gb_graph *g, gb_node *x, gb_node *like);

/* y, the reduction of x over axes, seen with x's rank (size 1 on the reduced axes): a view. */
gb_node *gb_expand_reduced(gb_graph *g, gb_node *y, gb_node *x, unsigned axes);

/* Ones of x's run-time shape and dtype (TensorFlow's OnesLike: no gradient flows through it). */
gb_node *gb_ones_like(gb_graph *g, gb_node *x);

/* A rank-0 constant of n's dtype. */
gb_node *gb_scalar_like(gb_graph *g, gb_node *n, double value);

/* 1 for float32 and float64: the types gradients flow through. */
static inline int gb_is_float(gb_dtype t)
{
    return t == GB_F32 || t == GB_F64;
}

#endif
