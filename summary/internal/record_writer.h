/* Private: what gb_writer needs of a record writer beyond the public API. */
#ifndef GB_INTERNAL_RECORD_WRITER_H
#define GB_INTERNAL_RECORD_WRITER_H

#include "gradboard/tfrecord.h"

/* Calls fn with the data of each whole record buffered in w (not yet in its file), in order,
 * until one call fails; returns that failure or GB_OK. The records stay buffered. */
gb_status gb_record_writer_each_pending(gb_record_writer *w, gb_status (*fn)(void *ctx, const uint8_t *data, size_t len),
                                        void *ctx);

/* Forgets the records buffered in w: they will never reach its file. */
void gb_record_writer_drop_pending(gb_record_writer *w);

#endif
