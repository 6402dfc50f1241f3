/* The engine's random numbers: Philox4x32-10 against the published known answers, the
 * many-counter form against the one-counter form, and dropout masks built from them. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gradboard/engine.h"
#include "internal/philox.h"

/* Random123's known-answer tests for philox4x32_10: counter words c0..c3 map to
 * (counter_lo low, counter_lo high, counter_hi low, counter_hi high), key words to (low, high). */
Test(random, philox_matches_the_published_known_answers)
{
    struct { uint32_t c[4], k[2], want[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t t = 0; t < sizeof kat / sizeof *kat; t++) {
        uint64_t lo = (uint64_t)kat[t].c[1] << 32 | kat[t].c[0], hi = (uint64_t)kat[t].c[3] << 32 | kat[t].c[2];
        uint64_t key = (uint64_t)kat[t].k[1] << 32 | kat[t].k[0];
        uint32_t out[4];
        gb_philox4x32(key, hi, lo, out);
        for (int j = 0; j < 4; j++)
            cr_assert_eq(out[j], kat[t].want[j], "vector %zu word %d: %08x, want %08x", t, j, out[j], kat[t].want[j]);
        gb_philox4x32_blocks(key, hi, lo, 1, 1, out);
        for (int j = 0; j < 4; j++) cr_assert_eq(out[j], kat[t].want[j], "blocks: vector %zu word %d", t, j);
    }
}

Test(random, many_blocks_equal_one_block_at_a_time)
{
    uint32_t many[4 * 40], one[4];
    const uint64_t strides[] = {1, 4, 0x100000001ULL};
    for (size_t s = 0; s < 3; s++)
        for (size_t n = 0; n <= 40; n++) {
            uint64_t first = 0xfffffffffffffff0ULL; /* the counter wraps past 2^64 on the way */
            for (int portable = 0; portable < 2; portable++) { /* AVX2 where the CPU has it, and without */
                (portable ? gb_philox4x32_blocks_portable : gb_philox4x32_blocks)(99, 7, first, strides[s], n, many);
                for (size_t b = 0; b < n; b++) {
                    gb_philox4x32(99, 7, first + b * strides[s], one);
                    for (int j = 0; j < 4; j++)
                        cr_assert_eq(many[4 * b + j], one[j], "stride %zu, %zu blocks, portable %d: block %zu word %d",
                                     s, n, portable, b, j);
                }
            }
        }
}

Test(random, dropout_keeps_one_minus_rate_and_scales_the_rest)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, 3, 1001)); /* not a multiple of a chunk */
    gb_node *y = gb_dropout(g, x, 0.3, 5);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_session *s = gb_session_new(g, GB_CPU);
    gb_tensor *ones = gb_tensor_new(GB_F32, gb_dims(2, 3, 1001));
    float *p = gb_tensor_data(ones);
    for (int i = 0; i < 3003; i++) p[i] = 1;
    gb_feed feed = {x, ones};
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "%s", gb_errmsg());
    const float *v = gb_tensor_data(out);
    int kept = 0;
    for (int i = 0; i < 3003; i++) {
        /* the mask is word i % 4 of Philox(seed 5; run 0, i - i % 4) against 0.3 * 2^32 */
        uint32_t w[4];
        gb_philox4x32(5, 0, (uint64_t)(i - i % 4), w);
        int keep = w[i % 4] >= (uint32_t)ceil(0.3 * 4294967296.0);
        cr_assert_float_eq(v[i], keep ? 1 / 0.7f : 0.0f, 1e-6, "element %d", i);
        kept += keep;
    }
    cr_assert(fabs(kept / 3003.0 - 0.7) < 0.03, "kept %d of 3003", kept);
    gb_tensor_free(ones);
    gb_session_free(s);
    gb_graph_free(g);
}

/* Uniform initialisers promise [low, high): a draw within half a float32 step of high rounded up
 * to it (element 2350790 of uniform(0, 1, seed 3) was exactly 1.0f, as was Glorot's at its limit). */
Test(random, float32_uniform_initialisers_never_reach_high)
{
    enum { N = 2350791 };
    gb_tensor *t = gb_tensor_new(GB_F32, gb_dims(2, 1, N));
    const float *v = gb_tensor_data(t);
    gb_initializer uniform = gb_init_uniform(0, 1, 3);
    cr_assert_eq(gb_init_fill(&uniform, t), GB_OK, "%s", gb_errmsg());
    for (int64_t i = 0; i < N; i++) cr_assert(v[i] >= 0 && v[i] < 1, "uniform[%lld] = %.9g", (long long)i, v[i]);
    cr_assert_eq(v[N - 1], nextafterf(1, 0), "the draw that rounded up: %.9g", v[N - 1]); /* now the float below 1 */
    gb_initializer glorot = gb_init_glorot_uniform(3);
    cr_assert_eq(gb_init_fill(&glorot, t), GB_OK, "%s", gb_errmsg());
    double limit = sqrt(6.0 / (1 + N));
    for (int64_t i = 0; i < N; i++)
        cr_assert((double)v[i] >= -limit && (double)v[i] < limit, "glorot[%lld] = %.9g, limit %.9g", (long long)i, v[i], limit);
    gb_tensor_free(t);
}

/* gb_init_fill on its own refuses what gb_variable refuses: 2.5 is no int32 (it stored 2). */
Test(random, constant_fills_of_integers_need_whole_values_in_range)
{
    gb_tensor *t = gb_tensor_new(GB_I32, gb_dims(1, 3));
    const double bad[] = {2.5, 3e9, NAN};
    for (size_t b = 0; b < 3; b++) {
        gb_initializer init = gb_init_constant(bad[b]);
        cr_assert_eq(gb_init_fill(&init, t), GB_EINVAL, "%g", bad[b]);
        cr_assert(strstr(gb_errmsg(), "is not a int32 value"), "%s", gb_errmsg());
    }
    gb_initializer seven = gb_init_constant(-7);
    cr_assert_eq(gb_init_fill(&seven, t), GB_OK);
    cr_assert_eq(((const int32_t *)gb_tensor_data(t))[2], -7);
    gb_tensor_free(t);
}
