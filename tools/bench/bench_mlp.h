/* The benchmarks' model: an MLP with relu hidden layers (dense<l>/kernel, dense<l>/bias, Glorot
 * uniform and zeros) and the mean sparse softmax cross-entropy of its logits against y.
 *
 *   gb_node *loss = bench_mlp_loss(g, x, y, (const int[]){784, 256, 128, 10}, 3);
 */
#ifndef GB_BENCH_MLP_H
#define GB_BENCH_MLP_H

#include <stdio.h>

#include "gradboard/engine.h"

static inline gb_node *bench_mlp_loss(gb_graph *g, gb_node *x, gb_node *y, const int *widths, int layers)
{
    gb_node *h = x;
    for (int l = 1; l <= layers; l++) {
        char scope[16];
        snprintf(scope, sizeof scope, "dense%d", l);
        gb_scope_push(g, scope);
        gb_node *w = gb_variable(g, "kernel", GB_F32, gb_dims(2, widths[l - 1], widths[l]), gb_init_glorot_uniform((uint64_t)l));
        gb_node *b = gb_variable(g, "bias", GB_F32, gb_dims(1, widths[l]), gb_init_zeros());
        h = gb_add(g, gb_matmul(g, h, w, 0, 0), b);
        if (l < layers) h = gb_relu(g, h);
        gb_scope_pop(g);
    }
    return gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, h, y), GB_ALL_AXES, 0);
}

#endif
