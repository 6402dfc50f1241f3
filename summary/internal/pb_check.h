/* Private: full checks of serialized Events and Summaries that callers hand the writer as bytes,
 * so one bad record cannot cost the rest of a file: TensorBoard's loaders stop reading a file
 * at an Event that does not parse, has a NaN wall time or holds a string that is not UTF-8. */
#ifndef GB_INTERNAL_PB_CHECK_H
#define GB_INTERNAL_PB_CHECK_H

#include <stddef.h>

#include "gradboard/status.h"

/* GB_ECORRUPT when payload does not parse as an Event; GB_EINVAL when its wall time is not
 * finite or a string field at any depth is not UTF-8. The message says which. */
gb_status gb_event_bytes_check(const void *payload, size_t len);

/* The same for a serialized Summary. */
gb_status gb_summary_bytes_check(const void *summary, size_t len);

#endif
