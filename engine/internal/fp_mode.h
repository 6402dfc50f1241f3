/* Private: the floating-point mode the engine's kernels run in. Subnormal floats are flushed to
 * zero (FTZ and DAZ on x86), as TensorFlow does on CPU: operations on them take microcode
 * assists about a hundred times slower, and optimizer state decaying towards zero produces them
 * (an Adam step of a small MLP ran 2x slower after a few hundred steps). The session sets the
 * mode for a run and restores the caller's; the worker pool takes the caller's mode with each
 * loop. Elsewhere than x86 these are no-ops. */
#ifndef GB_INTERNAL_FP_MODE_H
#define GB_INTERNAL_FP_MODE_H

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
enum { GB_FP_FLUSH_BITS = 0x8040 }; /* MXCSR flush-to-zero (bit 15) and denormals-are-zero (bit 6) */
static inline unsigned gb_fp_mode_get(void) { return _mm_getcsr(); }
static inline void gb_fp_mode_set(unsigned mode) { _mm_setcsr(mode); }
static inline unsigned gb_fp_mode_flushing(unsigned mode, int flush)
{
    return flush ? mode | GB_FP_FLUSH_BITS : mode & ~(unsigned)GB_FP_FLUSH_BITS;
}
#else
static inline unsigned gb_fp_mode_get(void) { return 0; }
static inline void gb_fp_mode_set(unsigned mode) { (void)mode; }
static inline unsigned gb_fp_mode_flushing(unsigned mode, int flush)
{
    (void)flush;
    return mode;
}
#endif

#endif
