/* Private: an execution plan: which nodes a set of fetches needs, in what order, with what
 * run-time shapes, and which buffer each output uses. Built once per (fetches, feed shapes). */
#ifndef GB_ENGINE_PLAN_H
#define GB_ENGINE_PLAN_H

#include "gradboard/session.h"
#include "internal/graph_impl.h"

typedef struct gb_plan gb_plan;

/* host_buffers 0: only the buffers' sizes are planned (for a device executor). */
gb_status gb_plan_build(gb_graph *g, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches, size_t n_fetches,
                        int host_buffers, gb_plan **out);
void gb_plan_free(gb_plan *p);

/* Frees what a device executor attached to p (its device memory); the next run prepares it again. */
void gb_plan_release_device_state(gb_plan *p);

/* 1 when p was built for exactly these fetches and feed nodes, dtypes and shapes. */
int gb_plan_matches(const gb_plan *p, const gb_graph *g, const gb_feed *feeds, size_t n_feeds, gb_node *const *fetches,
                    size_t n_fetches);

/* Runs the plan; with stats non-NULL (room for every planned node), records each node's timing
 * and output size there and sets *n_stats. check_numerics: stop at the first NaN or infinity
 * in a float feed or output (GB_ENUMERIC). */
gb_status gb_plan_execute(gb_plan *p, gb_session *s, const gb_feed *feeds, size_t n_feeds, gb_node_stats *stats,
                          size_t *n_stats, int check_numerics);

/* Number of nodes the plan runs (an upper bound for the stats). */
size_t gb_plan_node_count(const gb_plan *p);

/* The fetched values after gb_plan_execute (NULL for nodes without a value). */
void gb_plan_outputs(gb_plan *p, gb_node *const *fetches, size_t n_fetches, const gb_tensor **outputs);

#endif
