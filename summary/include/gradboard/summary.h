/* gradboard/summary.h: everything in gradboard's summary layer, a complete TensorBoard logger
 * and reader usable by any C or C++ program without the engine.
 *
 *   #include <gradboard/summary.h>
 *
 *   gb_writer *w;
 *   if (gb_writer_open(&w, "runs/demo", NULL) != GB_OK) return fprintf(stderr, "%s\n", gb_errmsg()), 1;
 *   for (int step = 0; step < 100; step++) gb_summary_scalar(w, "loss", step, 1.0 / (1 + step));
 *   return gb_writer_close(w) == GB_OK ? 0 : 1;
 */
#ifndef GRADBOARD_SUMMARY_H
#define GRADBOARD_SUMMARY_H

#include "gradboard/crc32c.h"
#include "gradboard/event_reader.h"
#include "gradboard/graph_def.h"
#include "gradboard/hparams.h"
#include "gradboard/status.h"
#include "gradboard/summaries.h"
#include "gradboard/tfrecord.h"
#include "gradboard/version.h"
#include "gradboard/writer.h"

/* The headers above declare everything, each inside its own extern "C" block (the system headers
 * they include must stay outside one). This block is for any declaration added here later. */
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
