/* The SessionLog START event a resumed run writes: TensorBoard drops the events of a previous
 * attempt whose steps are at or past the restart's step, so a resumed run's curves do not fold
 * back on themselves. */
#include "internal/error.h"
#include "internal/writer_impl.h"

gb_status gb_writer_session_start(gb_writer *w, int64_t step)
{
    if (!w) return gb_fail(GB_EINVAL, "gb_writer_session_start: writer is NULL");
    Gbpb__SessionLog log = GBPB__SESSION_LOG__INIT;
    log.status = GBPB__SESSION_LOG__SESSION_STATUS__START;
    Gbpb__Event e = GBPB__EVENT__INIT;
    e.step = step;
    e.what_case = GBPB__EVENT__WHAT_SESSION_LOG;
    e.session_log = &log;
    return gb_writer_write_event_pb(w, &e);
}
