// Row-wise kernels over the last axis, one warp per row: softmax and log-softmax, the fused
// softmax cross-entropies (sparse and dense labels) and their gradients, argmax; and one_hot.
// Every row is shifted by its maximum first, as on the CPU.
#pragma once

#include "common.cuh"
#include "elementwise.cuh"

// The warp's row, or -1 past the end (then the whole warp idles, so shuffles stay full).
__device__ inline int64_t gb_warp_row(int64_t rows)
{
    int64_t row = (int64_t)blockIdx.x * GB_CUDA_ROW_WARPS + threadIdx.x / 32;
    return row < rows ? row : -1;
}

template <typename T> __device__ inline T gb_row_max(const T *x, int64_t cols, int lane)
{
    T m = (T)-INFINITY;
    for (int64_t c = lane; c < cols; c += 32) m = x[c] > m || x[c] != x[c] ? x[c] : m;
    return gb_warp_max(m);
}

// In double for float32 too, as on the CPU: a vocabulary's worth of terms per row.
template <typename T> __device__ inline double gb_row_sum_exp(const T *x, int64_t cols, int lane, T max)
{
    double s = 0;
    for (int64_t c = lane; c < cols; c += 32) s += gb_exp(x[c] - max);
    return gb_warp_sum(s);
}

template <typename T> __device__ inline void gb_softmax_row(const gb_cu_rows &p)
{
    int64_t r = gb_warp_row(p.rows);
    if (r < 0) return;
    int lane = threadIdx.x % 32;
    const T *x = (const T *)p.x + r * p.cols;
    T *y = (T *)p.y + r * p.cols;
    T max = gb_row_max(x, p.cols, lane);
    double sum = gb_row_sum_exp(x, p.cols, lane, max);
    if (p.log_form) { // (x - max) - log(sum), as the CPU: max + log(sum) would round log(sum) away
        T log_sum = (T)log(sum);
        for (int64_t c = lane; c < p.cols; c += 32) y[c] = (x[c] - max) - log_sum;
    } else {
        T inv = (T)(1 / sum);
        for (int64_t c = lane; c < p.cols; c += 32) y[c] = gb_exp(x[c] - max) * inv;
    }
}

GB_FLOAT_KERNEL(gb_k_softmax, gb_cu_rows, gb_softmax_row)

// The row's label, or -1 (and an error reported) when it is outside [0, cols).
__device__ inline int64_t gb_checked_label(const gb_cu_rows &p, int64_t r, int lane)
{
    int64_t label = gb_load_index(p.labels, p.labels_dtype, r);
    if (label < 0 || label >= p.cols) {
        if (lane == 0) gb_report_error(p.error, p.node_id, r);
        return -1;
    }
    return label;
}

// Sparse labels. dy NULL: the loss per row; else the gradient (softmax - onehot) * dy[row].
template <typename T> __device__ inline void gb_sparse_xent_row(const gb_cu_rows &p)
{
    int64_t r = gb_warp_row(p.rows);
    if (r < 0) return;
    int lane = threadIdx.x % 32;
    const T *x = (const T *)p.x + r * p.cols;
    int64_t label = gb_checked_label(p, r, lane);
    T max = gb_row_max(x, p.cols, lane);
    double sum = gb_row_sum_exp(x, p.cols, lane, max);
    if (!p.dy) {
        if (lane == 0) ((T *)p.y)[r] = label < 0 ? (T)NAN : (T)log(sum) - (x[label] - max);
        return;
    }
    T d = ((const T *)p.dy)[r], scale = (T)(d / sum);
    T *o = (T *)p.y + r * p.cols;
    for (int64_t c = lane; c < p.cols; c += 32) o[c] = gb_exp(x[c] - max) * scale - (c == label ? d : (T)0);
}

GB_FLOAT_KERNEL(gb_k_sparse_xent, gb_cu_rows, gb_sparse_xent_row)

// Dense (one-hot or soft) labels z: loss = sum(z) * logsumexp(x) - sum(z * x); gradient
// (softmax(x) * sum(z) - z) * dy[row].
template <typename T> __device__ inline void gb_dense_xent_row(const gb_cu_rows &p)
{
    int64_t r = gb_warp_row(p.rows);
    if (r < 0) return;
    int lane = threadIdx.x % 32;
    const T *x = (const T *)p.x + r * p.cols, *z = (const T *)p.labels + r * p.cols;
    T max = gb_row_max(x, p.cols, lane);
    double sum = 0, label_sum = 0, dot = 0;
    for (int64_t c = lane; c < p.cols; c += 32) {
        sum += gb_exp(x[c] - max);
        label_sum += z[c];
        dot += z[c] * (x[c] - max);
    }
    sum = gb_warp_sum(sum), label_sum = gb_warp_sum(label_sum), dot = gb_warp_sum(dot);
    if (!p.dy) {
        if (lane == 0) ((T *)p.y)[r] = (T)(label_sum * log(sum) - dot);
        return;
    }
    T d = ((const T *)p.dy)[r], scale = (T)(d * label_sum / sum);
    T *o = (T *)p.y + r * p.cols;
    for (int64_t c = lane; c < p.cols; c += 32) o[c] = gb_exp(x[c] - max) * scale - z[c] * d;
}

GB_FLOAT_KERNEL(gb_k_dense_xent, gb_cu_rows, gb_dense_xent_row)

// argmax over the last axis (the first of equal maxima, NaN above every number and the first NaN
// of several, as NumPy), a warp per row: lanes scan every 32nd element, then the warp keeps the
// better of each pair of candidates. Compared in x's own type (int64 past 2^53 is not exact in
// double). A row of 50 000 logits (greedy decoding) is not one thread's walk.
template <typename T> __device__ inline bool gb_argmax_better(T v, int64_t i, T best, int64_t best_i)
{
    bool v_nan = v != v, best_nan = best != best;
    if (v_nan || best_nan) return v_nan && (!best_nan || i < best_i);
    return v > best || (v == best && i < best_i);
}

template <typename T> __device__ inline void gb_argmax_rows(const gb_cu_index &p)
{
    int lane = threadIdx.x % 32;
    for (int64_t r = (int64_t)blockIdx.x * GB_CUDA_ROW_WARPS + threadIdx.x / 32; r < p.n;
         r += (int64_t)gridDim.x * GB_CUDA_ROW_WARPS) {
        const T *row = (const T *)p.x + r * p.depth;
        int64_t best = lane < p.depth ? lane : 0;
        T best_value = row[best];
        for (int64_t c = lane + 32; c < p.depth; c += 32)
            if (gb_argmax_better(row[c], c, best_value, best)) best = c, best_value = row[c];
        for (int o = 16; o > 0; o >>= 1) {
            T other = __shfl_xor_sync(0xffffffffu, best_value, o);
            int64_t other_i = __shfl_xor_sync(0xffffffffu, best, o);
            if (gb_argmax_better(other, other_i, best_value, best)) best = other_i, best_value = other;
        }
        if (lane == 0) ((int64_t *)p.y)[r] = best;
    }
}

extern "C" __global__ void gb_k_argmax(const gb_cu_index p)
{
    switch (p.x_dtype) {
    case GB_F32: gb_argmax_rows<float>(p); break;
    case GB_F64: gb_argmax_rows<double>(p); break;
    case GB_I32: gb_argmax_rows<int32_t>(p); break;
    default: gb_argmax_rows<int64_t>(p); break;
    }
}

// one_hot: out [n, depth] of zeros with ones at each in-range index (out of range: a zero row).
extern "C" __global__ void gb_k_one_hot(const gb_cu_index p)
{
    GB_GRID_LOOP(i, p.n * p.depth)
    {
        int64_t row = i / p.depth, c = i % p.depth;
        int on = gb_load_index(p.x, p.x_dtype, row) == c;
        if (p.y_dtype == GB_F64)
            ((double *)p.y)[i] = on;
        else
            ((float *)p.y)[i] = (float)on;
    }
}
