/* Private: which variant an op node computes (its attr.flag), shared by the CPU kernels in
 * ops/ and the CUDA kernels in device/cuda/. */
#ifndef GB_ENGINE_OP_KINDS_H
#define GB_ENGINE_OP_KINDS_H

typedef enum gb_unary_kind {
    GB_UNARY_NEG, GB_UNARY_SQUARE, GB_UNARY_SQRT, GB_UNARY_EXP, GB_UNARY_LOG, GB_UNARY_ABS, GB_UNARY_SIGN,
    GB_UNARY_RELU, GB_UNARY_LEAKY_RELU, GB_UNARY_SIGMOID, GB_UNARY_TANH, GB_UNARY_KINDS
} gb_unary_kind;

/* The activations' gradient ops: (dy, x) for relu and leaky relu, (y, dy) for sigmoid and tanh. */
typedef enum gb_grad_kind {
    GB_ACTIVATION_RELU_GRAD, GB_ACTIVATION_LEAKY_RELU_GRAD, GB_ACTIVATION_SIGMOID_GRAD, GB_ACTIVATION_TANH_GRAD
} gb_grad_kind;

/* The sigmoid cross-entropy (logits, labels) and its gradient sigmoid(logits) - labels are ops of
 * ops/nn.c that run on CUDA with the binary kernel. Comparisons come last (their output is bool). */
typedef enum gb_binary_kind {
    GB_BINARY_ADD, GB_BINARY_SUB, GB_BINARY_MUL, GB_BINARY_DIV, GB_BINARY_POW, GB_BINARY_MAXIMUM, GB_BINARY_MINIMUM,
    GB_BINARY_SIGMOID_XENT, GB_BINARY_SIGMOID_XENT_GRAD,
    GB_BINARY_KEEP_WHERE, /* a where b != 0, else 0: a gradient routed by a mask, never inf * 0 */
    GB_BINARY_EQUAL, GB_BINARY_GREATER, GB_BINARY_GREATER_EQUAL
} gb_binary_kind;

typedef enum gb_reduce_kind { GB_REDUCE_SUM, GB_REDUCE_MEAN, GB_REDUCE_MAX } gb_reduce_kind;

#endif
