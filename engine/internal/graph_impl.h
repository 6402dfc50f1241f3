/* Private: the graph and node layout shared by the engine's files. */
#ifndef GB_ENGINE_GRAPH_IMPL_H
#define GB_ENGINE_GRAPH_IMPL_H

#include "internal/op.h"

struct gb_node {
    gb_graph *graph;
    size_t id;                /* index in the graph's node list */
    char *name;
    const gb_op_def *op;
    gb_node **inputs;
    size_t n_inputs;
    gb_node **controls;
    size_t n_controls, controls_cap;
    gb_dtype dtype;
    gb_shape shape;           /* static: -1 where unknown until run time */
    gb_attrs attr;
    gb_tensor *value;         /* constants: the value; variables with GB_INIT_VALUES: the initial value */
    int is_variable, trainable;
    size_t variable_index;    /* variables: index into the session's variable table */
    gb_node *initial_assign;  /* variables: the Assign of their initializer (run by "init") */
};

struct gb_graph {
    gb_node **nodes;
    size_t count, cap;
    size_t variable_count;
    struct gb_strmap *names;  /* full name -> node, for unique names */
    char **scopes;
    size_t scope_depth, scope_cap;
    gb_status status;
    char errmsg[1024];
    unsigned generation;      /* bumped by reset; sessions of an older graph refuse to run */
    unsigned edits;           /* bumped when an existing node gains control dependencies: plans
                                 made before then are stale */
    unsigned gradient_calls;  /* names the scopes "gradients", "gradients_1", ... */
};

/* "<scope>/<base>" made unique with _1, _2, ... Returns a new string or NULL. */
char *gb_graph_unique_name(gb_graph *g, const char *base);

/* Opens one scope per component of path ("dense1/MatMul_grad"); returns how many to pop. */
int gb_scope_push_path(gb_graph *g, const char *path);

/* Formats the input shapes of n for error messages: "[2, 3] and [4]". */
void gb_describe_inputs(gb_node *const *inputs, size_t n, char *buf, size_t size);

#endif
