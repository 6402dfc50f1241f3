#include "progress.h"

#include <time.h>
#include <unistd.h>

double fm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void fm_progress_start(fm_progress *p, FILE *out, int mode, int epochs)
{
    p->out = out;
    p->bar = mode < 0 ? isatty(fileno(out)) : mode;
    p->epochs = epochs;
    p->epoch = 0;
    p->steps = p->step = 0;
}

void fm_progress_epoch(fm_progress *p, int epoch, int64_t steps)
{
    p->epoch = epoch;
    p->steps = steps;
    p->step = 0;
    p->samples = 0;
    p->epoch_start = fm_now();
    p->last_draw = 0;
}

double fm_progress_elapsed(const fm_progress *p)
{
    return fm_now() - p->epoch_start;
}

void fm_progress_step(fm_progress *p, int64_t step, double loss, int batch)
{
    p->step = step;
    p->samples += batch;
    if (!p->bar) return;
    double now = fm_now();
    if (step != p->steps && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    double elapsed = now - p->epoch_start;
    double rate = elapsed > 0 ? p->samples / elapsed : 0;
    double eta = step > 0 ? elapsed * (double)(p->steps - step) / (double)step : 0;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    int filled = p->steps > 0 ? (int)(WIDTH * step / p->steps) : WIDTH;
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = 0;
    int eta_s = (int)(eta + 0.5);
    fprintf(p->out, "\r\033[Kepoch %d/%d [%s] %lld/%lld  loss %.4f  %.0f samples/s  ETA %d:%02d", p->epoch,
            p->epochs, bar, (long long)step, (long long)p->steps, loss, rate, eta_s / 60, eta_s % 60);
    fflush(p->out);
}

void fm_progress_done(fm_progress *p)
{
    if (!p->bar) return;
    fprintf(p->out, "\r\033[K");
    fflush(p->out);
}
