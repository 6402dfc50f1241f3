/* Private: what an op is. Each op file defines its gb_op_def values: the shape rule, the CPU
 * kernel and the gradient live together. */
#ifndef GB_ENGINE_OP_H
#define GB_ENGINE_OP_H

#include <stddef.h>

#include "gradboard/graph.h"
#include "internal/tensor_impl.h"

typedef struct gb_session gb_session;

/* Per-node settings. Which fields mean something depends on the op. */
typedef struct gb_attrs {
    int transpose_a, transpose_b;   /* MatMul */
    int keepdims;                   /* reductions */
    unsigned axes;                  /* reductions, softmax: bit i = axis i; 0 = all axes */
    int axis;                       /* concat, gather, one_hot, argmax */
    double alpha, beta, gamma, delta, epsilon; /* scalars of activations and optimizers */
    int64_t count;                  /* one_hot depth, print first_n, ... */
    int flag;                       /* op-specific switch (nesterov, ...) */
    gb_shape shape;                 /* reshape target, slice begin/size */
    gb_shape shape2;
    int perm[GB_MAX_RANK];          /* transpose */
    gb_dtype dtype;                 /* cast target, placeholder dtype */
    char *message;                  /* print (owned by the node) */
    gb_initializer init;            /* variable initialisers */
    gb_node *variable;              /* assign and apply ops: the variable they update */
    gb_node *slots[4];              /* apply ops: slot variables: 0 and 1 accumulators the update
                                     * writes, 2 and 3 values it only reads (Adam's beta powers) */
} gb_attrs;

/* What a kernel sees at run time: concrete input values and the output to fill. */
typedef struct gb_kernel_args {
    const gb_node *node;
    const gb_tensor *const *in;
    gb_tensor *out;
    gb_session *session;
} gb_kernel_args;

typedef struct gb_op_def {
    const char *type;  /* TensorFlow's op name, used in GraphDef export */
    /* Output dtype and shape from the inputs' (static shapes may hold -1, run-time ones do not).
     * On failure writes a reason into err and returns GB_ESHAPE or GB_EINVAL. */
    gb_status (*infer)(const gb_node *n, const gb_dtype *in_dtypes, const gb_shape *in_shapes, gb_dtype *dtype,
                       gb_shape *shape, char *err, size_t err_size);
    /* Computes out from in. Returns GB_OK or an error with gb_fail (e.g. bad labels). */
    gb_status (*forward)(const gb_kernel_args *args);
    /* Adds nodes computing d(loss)/d(input i) given dy = d(loss)/d(output); leaves dx[i] NULL for
     * inputs without a gradient. NULL: no input has a gradient. */
    void (*gradient)(gb_graph *g, gb_node *n, gb_node *dy, gb_node **dx);
    /* The output is input 0's memory (reshape, identity): no buffer of its own. */
    int aliases_input;
    /* The output is a variable's storage in the session: the node's own (a variable) or
     * attr.variable's (assign and apply ops). */
    int output_is_variable;
    /* An activation the session may fuse with the bias add that feeds it (see plan.c). */
    int fusible_activation;
    /* An elementwise add (the bias add of such a fusion). */
    int is_add;
    /* The kernel for CUDA sessions (engine/device/cuda), with device pointers in args; NULL runs
     * the CPU kernel on host copies there. Set with GB_CUDA_KERNEL, NULL in builds without CUDA. */
    gb_status (*cuda_forward)(const gb_kernel_args *args);
} gb_op_def;

#ifdef GB_HAVE_CUDA
#define GB_CUDA_KERNEL(f) f
#else
#define GB_CUDA_KERNEL(f) NULL
#endif

/* act(x + bias) in one pass, x [..., n] and bias [n], for an activation node with
 * fusible_activation set. */
gb_status gb_bias_activation_forward(const gb_node *activation, const gb_tensor *x, const gb_tensor *bias,
                                     gb_tensor *out);

/* Whether n is an unbatched MatMul; C += alpha op(A) op(B) for one, into c's memory as it is (an
 * update applying a matmul gradient straight to its variable: see plan.c). */
int gb_is_matmul(const gb_node *n);
void gb_matmul_accumulate(const gb_node *matmul, const gb_tensor *a, const gb_tensor *b, double alpha, gb_tensor *c);

/* Whether n is an elementwise Mul; an Assign. An Assign of the Mul of its variable and a scalar
 * may run as v = v * c in place (plan.c), out being the variable's storage (the same IEEE
 * product as the Mul's). */
int gb_is_mul(const gb_node *n);
int gb_is_assign(const gb_node *n);

/* Whether n is a variable's initialiser (a fill, a random draw, its initial value): it writes its
 * whole output from its attributes alone, so a CPU plan may point it at the variable itself. */
int gb_is_initializer(const gb_node *n);

/* A copy of x made when the node runs (TensorFlow's Snapshot): unlike Identity, which shares x's
 * memory, it keeps a variable's value from before a later update in the same run. */
gb_node *gb_snapshot(gb_graph *g, gb_node *x);
gb_status gb_scale_variable_forward(const gb_kernel_args *args, const gb_tensor *factor);

/* Creates a node of op with the given inputs and attributes (copied) under the current scope.
 * name NULL uses the op's default. Returns NULL (and sets the graph error) on a shape error, or
 * when the graph already has an error or an input is NULL. */
gb_node *gb_node_create(gb_graph *g, const gb_op_def *op, const char *name, gb_node *const *inputs, size_t n_inputs,
                        const gb_attrs *attrs);

/* Records the graph's first error (printf-style); later ones are ignored. */
void gb_graph_fail(gb_graph *g, gb_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
