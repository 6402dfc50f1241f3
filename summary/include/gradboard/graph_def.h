/* gradboard/graph_def.h: graphs and per-step profiles for TensorBoard's graph dashboard, from
 * any program (the engine's gb_writer_add_graph uses this).
 *
 *   gb_graphdef *gd = gb_graphdef_new();
 *   int x = gb_graphdef_node(gd, "input/x", "Placeholder", "/device:CPU:0");
 *   gb_graphdef_attr_type(gd, x, "dtype", 1);                           // DT_FLOAT
 *   int mm = gb_graphdef_node(gd, "dense1/MatMul", "MatMul", NULL);
 *   gb_graphdef_input(gd, mm, "input/x");
 *   gb_graphdef_input(gd, mm, "dense1/kernel/read");
 *   gb_writer_add_graphdef(w, gd);       // check gb_graphdef_status(gd) or this call's status
 *   gb_graphdef_free(gd);
 *
 * Names split on '/' into the dashboard's groups; inputs are "name" (output 0), "name:k"
 * (output k) or "^name" (a control edge). Errors are sticky: the first failure is kept and
 * returned by every later call. Every string (name, op, device, input, attribute key) must be
 * non-empty UTF-8, as TensorBoard cannot parse a graph otherwise; GB_EINVAL when not.
 */
#ifndef GRADBOARD_GRAPH_DEF_H
#define GRADBOARD_GRAPH_DEF_H

#include <stddef.h>
#include <stdint.h>

#include "gradboard/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_graphdef gb_graphdef;

/* A new empty graph (free with gb_graphdef_free); NULL when out of memory. */
gb_graphdef *gb_graphdef_new(void);
void gb_graphdef_free(gb_graphdef *gd);
gb_status gb_graphdef_status(const gb_graphdef *gd);

/* Adds a node; device may be NULL. Returns its index, or -1 after an error (GB_EINVAL for a
 * name another node already has). */
int gb_graphdef_node(gb_graphdef *gd, const char *name, const char *op, const char *device);
gb_status gb_graphdef_input(gb_graphdef *gd, int node, const char *input);

/* Attributes, each key at most once per node. dtype values are TensorFlow's DataType numbers
 * (gb_dtype's). A shape's rank is -1 (unknown) to 254, a dimension -1 (unknown size) or more;
 * dims may be NULL only for ranks <= 0. Anything else is GB_EINVAL. */
gb_status gb_graphdef_attr_type(gb_graphdef *gd, int node, const char *key, int dtype);
gb_status gb_graphdef_attr_int(gb_graphdef *gd, int node, const char *key, int64_t value);
gb_status gb_graphdef_attr_float(gb_graphdef *gd, int node, const char *key, float value);
gb_status gb_graphdef_attr_bool(gb_graphdef *gd, int node, const char *key, int value);
gb_status gb_graphdef_attr_string(gb_graphdef *gd, int node, const char *key, const char *value);
gb_status gb_graphdef_attr_shape(gb_graphdef *gd, int node, const char *key, int rank, const int64_t *dims);
/* "_output_shapes": one shape per output, which labels the dashboard's edges. */
gb_status gb_graphdef_attr_output_shapes(gb_graphdef *gd, int node, size_t n, const int *ranks,
                                         const int64_t *const *dims);
/* A tensor value (e.g. a constant's "value"): data holds the elements row-major. GB_EINVAL unless
 * dtype is a numeric one stored raw (not string, resource or variant), the rank is known (0..254)
 * with no dimension below 0, and bytes is exactly elements x the dtype's size. */
gb_status gb_graphdef_attr_tensor(gb_graphdef *gd, int node, const char *key, int dtype, int rank, const int64_t *dims,
                                  const void *data, size_t bytes);

size_t gb_graphdef_node_count(const gb_graphdef *gd);

/* Logs the graph (Event.graph_def); the dashboard shows the latest one of a run. */
gb_status gb_writer_add_graphdef(gb_writer *w, const gb_graphdef *gd);

/* One node's execution in a profiled step. */
typedef struct gb_node_exec {
    const char *node_name;   /* as in the graph; non-empty UTF-8 */
    int64_t start_micros;    /* since the epoch */
    int64_t duration_micros;
    int64_t output_bytes;    /* memory of its output; 0 when it allocated none */
    int output_dtype;        /* DataType of output 0, 0 when none */
    int output_rank;         /* -1 when unknown */
    const int64_t *output_dims; /* output_rank of them; may be NULL for ranks <= 0 */
} gb_node_exec;

/* Logs a step's profile as tagged run metadata (tag e.g. "step_100"), so the graph dashboard
 * colours nodes by compute time and memory. */
gb_status gb_writer_add_run_metadata(gb_writer *w, const char *tag, int64_t step, const char *device,
                                     const gb_node_exec *nodes, size_t n);

#ifdef __cplusplus
}
#endif
#endif
