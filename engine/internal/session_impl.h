/* Private: session state the kernels of stateful ops reach. */
#ifndef GB_ENGINE_SESSION_IMPL_H
#define GB_ENGINE_SESSION_IMPL_H

#include "gradboard/session.h"
#include "internal/graph_impl.h"

/* The tensor holding variable v in session s, allocated (uninitialised) on first use.
 * NULL when out of memory. */
gb_tensor *gb_session_variable_storage(gb_session *s, const gb_node *v);

/* Marks variable v initialised / tells whether it is. */
void gb_session_mark_initialized(gb_session *s, const gb_node *v);
void gb_session_mark_uninitialized(gb_session *s, const gb_node *v);
int gb_session_is_initialized(const gb_session *s, const gb_node *v);

/* The counter of this run's dropout masks on the CPU: global_step as the run started when the
 * graph has an initialised one, else the run count (CUDA plans copy global_step at the start of
 * the run on the device instead: cuda_plan.c). */
uint64_t gb_session_dropout_counter(const gb_session *s);

#endif
