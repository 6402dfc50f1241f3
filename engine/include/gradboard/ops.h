/* gradboard/ops.h: the ops that build a model. Each takes the graph and its inputs and returns
 * a new node (NULL after any error: see gb_graph_status, checked once).
 *
 *   gb_node *h = gb_relu(g, gb_add(g, gb_matmul(g, x, w, 0, 0), b));
 *   gb_node *loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, logits, labels), GB_ALL_AXES, 0);
 *
 * Elementwise ops broadcast like NumPy; their gradients sum over the broadcast axes. Axes of
 * reductions are a bit mask (GB_AXIS(1) | GB_AXIS(2)); GB_ALL_AXES reduces every axis.
 * Float ops pass NaN through (relu, sign, maximum and minimum included, whichever side it is on).
 * Integer arithmetic (add, sub, mul, neg, square, abs) wraps around in two's complement, as in
 * TensorFlow: -INT32_MIN is INT32_MIN.
 */
#ifndef GRADBOARD_OPS_H
#define GRADBOARD_OPS_H

#include "gradboard/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GB_AXIS(i) (1u << (i))
#define GB_ALL_AXES 0u

/* ---- elementwise, two inputs (broadcasting) ---- */
gb_node *gb_add(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_sub(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_mul(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_div(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_pow(gb_graph *g, gb_node *a, gb_node *b);        /* a ** b, b a tensor or a scalar */
gb_node *gb_pow_scalar(gb_graph *g, gb_node *a, double exponent);
gb_node *gb_maximum(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_minimum(gb_graph *g, gb_node *a, gb_node *b);
/* Comparisons give bool tensors (no gradient). */
gb_node *gb_equal(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_greater(gb_graph *g, gb_node *a, gb_node *b);
gb_node *gb_greater_equal(gb_graph *g, gb_node *a, gb_node *b);

/* ---- elementwise, one input ---- */
gb_node *gb_neg(gb_graph *g, gb_node *x);
gb_node *gb_square(gb_graph *g, gb_node *x);
gb_node *gb_sqrt(gb_graph *g, gb_node *x);
gb_node *gb_exp(gb_graph *g, gb_node *x);
gb_node *gb_log(gb_graph *g, gb_node *x);
gb_node *gb_abs(gb_graph *g, gb_node *x);
gb_node *gb_sign(gb_graph *g, gb_node *x);
gb_node *gb_relu(gb_graph *g, gb_node *x);
gb_node *gb_leaky_relu(gb_graph *g, gb_node *x, double alpha);
gb_node *gb_sigmoid(gb_graph *g, gb_node *x);
gb_node *gb_tanh(gb_graph *g, gb_node *x);
/* Converts the element type (gradient flows between float types only). Floats become integers
 * rounded toward zero; values past the integer type's range saturate to its limits (infinities
 * included) and NaN becomes 0. */
gb_node *gb_cast(gb_graph *g, gb_node *x, gb_dtype dtype);
gb_node *gb_identity(gb_graph *g, gb_node *x);
/* Passes x through; no gradient flows back through it. */
gb_node *gb_stop_gradient(gb_graph *g, gb_node *x);

/* ---- linear algebra ---- */
/* a @ b with optional transposes, for rank-2 inputs or batches of them (rank 3, same batch). */
gb_node *gb_matmul(gb_graph *g, gb_node *a, gb_node *b, int transpose_a, int transpose_b);

/* ---- moving data ---- */
/* The same elements in a new shape; one dimension may be -1 (inferred). */
gb_node *gb_reshape(gb_graph *g, gb_node *x, gb_shape shape);
/* Axes permuted: output axis i is input axis perm[i]. perm NULL reverses the axes. */
gb_node *gb_transpose(gb_graph *g, gb_node *x, const int *perm);
/* The box starting at begin with size (a size of -1 runs to the end of the axis; any other
 * negative size is an error). */
gb_node *gb_slice(gb_graph *g, gb_node *x, gb_shape begin, gb_shape size);
/* n tensors joined along axis (1 to 8 of them). */
gb_node *gb_concat(gb_graph *g, size_t n, gb_node *const *xs, int axis);

/* ---- reductions ---- */
/* float32 sums and means are accumulated in double, on the CPU and CUDA alike: within one
 * float32 rounding of the exact value however many elements are summed. */
gb_node *gb_reduce_sum(gb_graph *g, gb_node *x, unsigned axes, int keepdims);
gb_node *gb_reduce_mean(gb_graph *g, gb_node *x, unsigned axes, int keepdims);
gb_node *gb_reduce_max(gb_graph *g, gb_node *x, unsigned axes, int keepdims);

/* ---- neural networks ---- */
/* Over the last axis, shifted by the row maximum (no overflow). */
gb_node *gb_softmax(gb_graph *g, gb_node *logits);
gb_node *gb_log_softmax(gb_graph *g, gb_node *logits);
/* Per-example loss [N] from logits [N, C] and int32/int64 labels [N] in [0, C) (fused, stable;
 * a label out of range is a run-time error naming it). */
gb_node *gb_sparse_softmax_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels);
/* Per-example loss [..] from logits and one-hot (or soft) labels of the same shape, with at least
 * one class. */
gb_node *gb_softmax_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels);
/* Elementwise loss of logits against targets in [0, 1], stable for large |logits|; its gradient is
 * sigmoid(logits) - labels. The two must have the same shape (checked when built and when run). */
gb_node *gb_sigmoid_cross_entropy(gb_graph *g, gb_node *logits, gb_node *labels);
/* mean((predictions - targets)^2), a scalar. The shapes must be compatible when built: the same
 * rank, equal sizes where both are known (like TF-1's tf.losses; [N, 1] against [N] is an error,
 * not an [N, N] broadcast). */
gb_node *gb_mean_squared_error(gb_graph *g, gb_node *predictions, gb_node *targets);
/* Zeroes each element with probability rate and scales the rest by 1/(1-rate). The mask comes
 * from seed and global_step (the session's run counter when the graph has none), so it changes
 * every step, repeats run to run and continues exactly after a restore. */
gb_node *gb_dropout(gb_graph *g, gb_node *x, double rate, uint64_t seed);

/* ---- indices and labels ---- */
/* float32 [..., depth]: 1 at each index (an index outside [0, depth) gives a zero row). */
gb_node *gb_one_hot(gb_graph *g, gb_node *indices, int64_t depth);
/* int64 index of the largest element along the last axis (the first of ties; NaN counts as
 * larger than any number, as in NumPy); an empty last axis is an error. */
gb_node *gb_argmax(gb_graph *g, gb_node *x);
/* Rows of params at indices: [N, ...] from params [V, ...] and int indices [N] (embeddings). */
gb_node *gb_gather(gb_graph *g, gb_node *params, gb_node *indices);
/* Fraction of rows whose argmax equals the label (float32 scalar). */
gb_node *gb_accuracy(gb_graph *g, gb_node *logits, gb_node *labels);
/* Passes x through; when run, prints message and the first `summarize` (default 3) elements
 * of each of tensors (at most 7) to stderr, like tf.Print. */
gb_node *gb_print(gb_graph *g, gb_node *x, const char *message, size_t n, gb_node *const *tensors, int summarize);

/* ---- state ---- */
/* variable = value; the result is the variable's new value. */
gb_node *gb_assign(gb_graph *g, gb_node *variable, gb_node *value);
/* variable += value. */
gb_node *gb_assign_add(gb_graph *g, gb_node *variable, gb_node *value);

#ifdef __cplusplus
}
#endif
#endif
