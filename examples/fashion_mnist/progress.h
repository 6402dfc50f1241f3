/* progress.h: a one-line progress bar on a terminal, nothing in between epochs otherwise.
 *
 *   fm_progress p;
 *   fm_progress_start(&p, stderr, -1, epochs);
 *   fm_progress_epoch(&p, epoch, steps);
 *   for (...) fm_progress_step(&p, step + 1, loss, batch);   // redraws at most ~10 times a second
 *   fm_progress_done(&p);                                     // ends the bar's line
 */
#ifndef FM_PROGRESS_H
#define FM_PROGRESS_H
#include <stdint.h>
#include <stdio.h>

typedef struct fm_progress {
    FILE *out;
    int bar;              /* draw the bar (a terminal) */
    int epoch, epochs;
    int64_t steps, step;
    double epoch_start, last_draw;
    double samples;
} fm_progress;

/* mode: 1 always draw, 0 never, -1 when out is a terminal. */
void fm_progress_start(fm_progress *p, FILE *out, int mode, int epochs);
void fm_progress_epoch(fm_progress *p, int epoch, int64_t steps);
void fm_progress_step(fm_progress *p, int64_t step, double loss, int batch);
/* Clears the bar's line so the caller can print the epoch's summary in its place. */
void fm_progress_done(fm_progress *p);
/* Seconds since the epoch began. */
double fm_progress_elapsed(const fm_progress *p);
/* A monotonic clock in seconds. */
double fm_now(void);

#endif
