// Kernels of training state: dropout masks (the CPU's Philox stream, element for element), the
// learning-rate schedules and the optimizers' fused per-variable updates.
#pragma once

#include "common.cuh"

// Philox4x32-10 with the CPU's constants and word order (engine/philox.c).
__device__ inline void gb_philox(uint64_t key, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)counter_lo, c1 = (uint32_t)(counter_lo >> 32);
    uint32_t c2 = (uint32_t)counter_hi, c3 = (uint32_t)(counter_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

template <typename T> __device__ inline void gb_dropout_loop(const gb_cu_dropout &p)
{
    const T *x = (const T *)p.x;
    T *y = (T *)p.y;
    T scale = (T)p.scale;
    uint64_t run = p.step ? (uint64_t)*p.step : p.run;
    GB_GRID_LOOP(block, (p.n + 3) / 4)
    {
        uint32_t words[4];
        gb_philox(p.seed, run, (uint64_t)block * 4, words);
        for (int j = 0; j < 4; j++) {
            int64_t i = block * 4 + j;
            if (i < p.n) y[i] = (uint64_t)words[j] >= p.threshold ? x[i] * scale : (T)0;
        }
    }
}

GB_FLOAT_KERNEL(gb_k_dropout, gb_cu_dropout, gb_dropout_loop)

// engine/optim.c's schedules, computed in double and stored as float32.
extern "C" __global__ void gb_k_schedule(const gb_cu_schedule p)
{
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double step = (double)*p.step, v;
    switch (p.kind) {
    case 0: { // exponential
        double e = step / p.steps;
        v = p.lr * pow(p.factor, p.staircase ? floor(e) : e);
        break;
    }
    case 1: { // cosine
        double t = fmin(step, p.steps) / p.steps;
        v = p.lr * (p.factor + (1 - p.factor) * 0.5 * (1 + cos(3.14159265358979323846 * t)));
        break;
    }
    default: v = p.lr * pow(p.factor, floor(step / p.steps)); break;
    }
    *p.y = (float)v;
}

// The updates of engine/optim_apply.c, same formulas and the same order of operations.
template <typename T> __device__ inline void gb_apply_loop(const gb_cu_apply &p, unsigned block, unsigned blocks)
{
    if (p.error && p.error->node_plus_one) return;
    T *w = (T *)p.var, *s0 = (T *)p.slot0, *s1 = (T *)p.slot1;
    const T *g = (const T *)p.grad;
    T lr = *(const T *)p.lr;
    switch (p.kind) {
    case GB_CU_APPLY_SGD: GB_BLOCKS_LOOP(i, p.n, block, blocks) w[i] -= lr * g[i]; break;
    case GB_CU_APPLY_SCALE: GB_BLOCKS_LOOP(i, p.n, block, blocks) w[i] = w[i] * g[0]; break;
    case GB_CU_APPLY_MOMENTUM: {
        T mu = (T)p.alpha;
        GB_BLOCKS_LOOP(i, p.n, block, blocks)
        {
            T acc = s0[i] * mu + g[i];
            s0[i] = acc;
            if (p.flag)
                w[i] -= g[i] * lr + acc * mu * lr;
            else
                w[i] -= lr * acc;
        }
        break;
    }
    case GB_CU_APPLY_ADAM: {
        T b1p = *(const T *)p.beta1_power, b2p = *(const T *)p.beta2_power;
        T lr_t = lr * sqrt((T)1 - b2p) / ((T)1 - b1p), decay = lr * (T)p.delta;
        T b1 = (T)p.alpha, b2 = (T)p.beta, eps = (T)p.epsilon;
        GB_BLOCKS_LOOP(i, p.n, block, blocks)
        {
            T wi = w[i], gi = g[i];
            if (decay != 0) wi -= decay * wi;
            T m = s0[i] + (gi - s0[i]) * (1 - b1);
            T v = s1[i] + (gi * gi - s1[i]) * (1 - b2);
            s0[i] = m, s1[i] = v;
            w[i] = wi - lr_t * m / (sqrt(v) + eps);
        }
        break;
    }
    case GB_CU_APPLY_RMSPROP: {
        T rho = (T)p.alpha, mu = (T)p.beta, eps = (T)p.epsilon;
        GB_BLOCKS_LOOP(i, p.n, block, blocks)
        {
            T ms = s0[i] + (g[i] * g[i] - s0[i]) * (1 - rho);
            T mom = s1[i] * mu + lr * g[i] / sqrt(ms + eps);
            s0[i] = ms, s1[i] = mom;
            w[i] -= mom;
        }
        break;
    }
    default: { // adagrad
        GB_BLOCKS_LOOP(i, p.n, block, blocks)
        {
            T acc = s0[i] + g[i] * g[i];
            s0[i] = acc;
            w[i] -= lr * g[i] / sqrt(acc);
        }
        break;
    }
    }
}

// AssignAdd queued with the updates (a step's global_step += 1), for any numeric dtype.
template <typename T> __device__ inline void gb_add_loop(const gb_cu_apply &p, unsigned block, unsigned blocks)
{
    if (p.error && p.error->node_plus_one) return;
    T *w = (T *)p.var;
    const T *x = (const T *)p.grad;
    GB_BLOCKS_LOOP(i, p.n, block, blocks) w[i] += x[i];
}

// Assign queued with the updates, so that it too is skipped after a kernel's error; elements
// copied as unsigned words of the dtype's size.
template <typename T> __device__ inline void gb_copy_loop(const gb_cu_apply &p, unsigned block, unsigned blocks)
{
    if (p.error && p.error->node_plus_one) return;
    T *w = (T *)p.var;
    const T *x = (const T *)p.grad;
    GB_BLOCKS_LOOP(i, p.n, block, blocks) w[i] = x[i];
}

// A batch of updates: each block finds its variable (batches are short: a linear search).
// __grid_constant__ lets the blocks index the parameters in place, without a local copy.
extern "C" __global__ void gb_k_apply(const __grid_constant__ gb_cu_apply_batch p)
{
    int32_t t = 0;
    while (t + 1 < p.count && blockIdx.x >= p.first_block[t + 1]) t++;
    const gb_cu_apply &u = p.update[t];
    unsigned block = blockIdx.x - p.first_block[t], blocks = p.first_block[t + 1] - p.first_block[t];
    if (u.kind == GB_CU_APPLY_COPY) {
        switch (u.dtype) {
        case GB_BOOL: gb_copy_loop<uint8_t>(u, block, blocks); break;
        case GB_F64:
        case GB_I64: gb_copy_loop<uint64_t>(u, block, blocks); break;
        default: gb_copy_loop<uint32_t>(u, block, blocks); break;
        }
    } else if (u.kind == GB_CU_APPLY_ADD) {
        switch (u.dtype) {
        case GB_F64: gb_add_loop<double>(u, block, blocks); break;
        // integers as unsigned: they wrap around, as on the CPU (signed overflow is undefined)
        case GB_I64: gb_add_loop<uint64_t>(u, block, blocks); break;
        case GB_I32: gb_add_loop<uint32_t>(u, block, blocks); break;
        default: gb_add_loop<float>(u, block, blocks); break;
        }
    } else if (u.dtype == GB_F64) {
        gb_apply_loop<double>(u, block, blocks);
    } else {
        gb_apply_loop<float>(u, block, blocks);
    }
}
