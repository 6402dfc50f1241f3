/* gradboard/graph.h: building a computation graph (TensorFlow 1.x style).
 *
 *   gb_graph *g = gb_graph_new();
 *   gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 784));   // [?, 784]
 *   gb_scope_push(g, "dense1");
 *   gb_node *w = gb_variable(g, "kernel", GB_F32, gb_dims(2, 784, 10), gb_init_glorot_uniform(42));
 *   gb_node *b = gb_variable(g, "bias", GB_F32, gb_dims(1, 10), gb_init_zeros());
 *   gb_node *logits = gb_add(g, gb_matmul(g, x, w, 0, 0), b);        // "dense1/MatMul", "dense1/add"
 *   gb_scope_pop(g);
 *   if (gb_graph_status(g) != GB_OK) {                                 // one check for the whole build
 *       fprintf(stderr, "%s\n", gb_graph_errmsg(g));
 *       return 1;
 *   }
 *   gb_graph_free(g);                                                   // frees every node
 *
 * Errors are sticky: the first failing call records a message naming the op, its inputs' shapes
 * and what was expected; every later call returns NULL and adds nothing, so user code checks once.
 * Nodes belong to their graph; gb_node pointers stay valid until gb_graph_reset or gb_graph_free.
 * A graph is not thread-safe while it is being built.
 */
#ifndef GRADBOARD_GRAPH_H
#define GRADBOARD_GRAPH_H

#include <stddef.h>
#include <stdio.h>

#include "gradboard/status.h"
#include "gradboard/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_graph gb_graph;
typedef struct gb_node gb_node;

/* Returns a new empty graph (free with gb_graph_free), NULL when out of memory. */
gb_graph *gb_graph_new(void);
void gb_graph_free(gb_graph *g);

/* Removes every node, scope and error: the graph is as new (like tf.reset_default_graph).
 * Every gb_node of it becomes invalid. */
void gb_graph_reset(gb_graph *g);

/* GB_OK, or the status of the first failure while building; its message. */
gb_status gb_graph_status(const gb_graph *g);
const char *gb_graph_errmsg(const gb_graph *g);

/* Name scopes: nodes created between push and pop are named "<scope>/<name>". They nest. */
void gb_scope_push(gb_graph *g, const char *name);
void gb_scope_pop(gb_graph *g);

/* ---- sources ---- */

/* A value fed at run time. Dimensions may be -1 (any size, fixed per run). */
gb_node *gb_placeholder(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape);

/* A constant holding a copy of value. */
gb_node *gb_constant(gb_graph *g, const char *name, const gb_tensor *value);
/* A float32 constant of the given shape (data copied; gb_shape_elements values). */
gb_node *gb_constant_f32(gb_graph *g, const char *name, gb_shape shape, const float *data);
/* A rank-0 constant of dtype (float32 for gb_scalar). */
gb_node *gb_scalar(gb_graph *g, double value);
gb_node *gb_scalar_of(gb_graph *g, gb_dtype dtype, double value);

/* How a variable gets its first value (see gradboard/init.h). */
typedef enum gb_init_kind {
    GB_INIT_ZEROS, GB_INIT_ONES, GB_INIT_CONSTANT, GB_INIT_UNIFORM, GB_INIT_NORMAL,
    GB_INIT_TRUNCATED_NORMAL, GB_INIT_GLOROT_UNIFORM, GB_INIT_GLOROT_NORMAL, GB_INIT_HE_NORMAL,
    GB_INIT_VALUES
} gb_init_kind;

typedef struct gb_initializer {
    gb_init_kind kind;
    double a, b;          /* constant; uniform [a, b); normal mean a, stddev b */
    uint64_t seed;
    const gb_tensor *values; /* GB_INIT_VALUES: copied when the variable is created */
} gb_initializer;

/* A trainable variable. Its value lives in each session; it must be initialised there (run
 * gb_global_variables_initializer) before it is read. */
gb_node *gb_variable(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape, gb_initializer init);
/* The same with trainable = 0 for counters and statistics (not returned by gb_trainable_variables). */
gb_node *gb_variable_ex(gb_graph *g, const char *name, gb_dtype dtype, gb_shape shape, gb_initializer init,
                        int trainable);

/* An op that, when run, initialises every variable of the graph created before this call. */
gb_node *gb_global_variables_initializer(gb_graph *g);

/* ---- introspection (like get_operations) ---- */

size_t gb_graph_node_count(const gb_graph *g);
/* Node i in creation order (i < gb_graph_node_count). */
gb_node *gb_graph_node(const gb_graph *g, size_t i);
/* The node with this full name, or NULL. */
gb_node *gb_graph_find(const gb_graph *g, const char *name);

const char *gb_node_name(const gb_node *n);
/* The op type, as TensorFlow names it ("MatMul", "Add", "Placeholder", "VariableV2", ...). */
const char *gb_node_op(const gb_node *n);
size_t gb_node_input_count(const gb_node *n);
gb_node *gb_node_input(const gb_node *n, size_t i);
/* Nodes that must run before this one without feeding it a value (^name edges). */
size_t gb_node_control_count(const gb_node *n);
gb_node *gb_node_control(const gb_node *n, size_t i);
gb_dtype gb_node_dtype(const gb_node *n);
gb_shape gb_node_shape(const gb_node *n);
gb_graph *gb_node_graph(const gb_node *n);
int gb_node_is_variable(const gb_node *n);

/* Renames n (within the current scope) and returns it. A clash with any name the graph has
 * used, including names given up by earlier renames, is a graph error; the old name no longer
 * finds n but is not reused. */
gb_node *gb_name(gb_node *n, const char *name);

/* Adds control dependencies: `n` runs only after each of deps (nodes of n's graph). Returns n. */
gb_node *gb_control_deps(gb_node *n, size_t count, gb_node *const deps[]);

/* A node that does nothing but run each of deps (tf.group). */
gb_node *gb_group(gb_graph *g, const char *name, size_t count, gb_node *const deps[]);

/* The trainable variables in creation order: writes up to max into out, returns how many exist. */
size_t gb_trainable_variables(const gb_graph *g, gb_node **out, size_t max);

/* One line per node: name, op, inputs, dtype and shape. */
void gb_graph_print(const gb_graph *g, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
