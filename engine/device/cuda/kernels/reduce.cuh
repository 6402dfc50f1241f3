// Reductions (sum, mean, max over axes; the sums that undo broadcasting). Two shapes of work:
// when the innermost axis is reduced, a warp (or, for a few long rows, a whole block) cooperates
// on each output, so reads along rows are coalesced; otherwise a warp takes 32 neighbouring
// outputs and the block's warps share out the reduced elements (the bias gradient
// [rows, cols] -> [cols]). float32 sums accumulate in double
// (A below), as on the CPU: a float32 accumulator running over thousands of elements loses
// whole digits.
#pragma once

#include "common.cuh"

enum { GB_REDUCE_THREADS = 256 };

template <typename T> __device__ inline T gb_reduce_combine(int32_t kind, T acc, T v)
{
    if (kind == GB_REDUCE_MAX) return v > acc || v != v ? v : acc; // NaN wins, as in NumPy
    return acc + v;
}

template <typename T> __device__ inline T gb_reduce_identity(int32_t kind)
{
    return kind == GB_REDUCE_MAX ? (T)-INFINITY : (T)0;
}

// A warp per output, the block's 8 warps on 8 outputs: per-example sums over [10^6, 10] are
// 125 000 blocks, where a block per output would be 10^6 blocks of 246 idle threads each. The
// loop bound is the same for the whole warp, so every lane reaches the shuffles.
template <typename T, typename A> __device__ inline void gb_reduce_rows_by_warp(const gb_cu_reduce &p)
{
    const T *x = (const T *)p.x;
    int lane = threadIdx.x % 32, warps_per_block = blockDim.x / 32;
    for (int64_t o = (int64_t)blockIdx.x * warps_per_block + threadIdx.x / 32; o < p.outputs;
         o += (int64_t)gridDim.x * warps_per_block) {
        int64_t base = gb_strided_offset(o, p.out_rank, p.out_dim, p.out_stride);
        A acc = gb_reduce_identity<A>(p.kind);
        for (int64_t r = lane; r < p.per_output; r += 32)
            acc = gb_reduce_combine<A>(p.kind, acc, (A)x[base + gb_strided_offset(r, p.red_rank, p.red_dim, p.red_stride)]);
        acc = p.kind == GB_REDUCE_MAX ? gb_warp_max(acc) : gb_warp_sum(acc);
        if (lane == 0) ((T *)p.y)[o] = (T)(p.kind == GB_REDUCE_MAX ? acc : acc * p.scale);
    }
}

// A block per output, for rows too long for a warp when there are too few of them to fill the GPU.
template <typename T, typename A> __device__ inline void gb_reduce_rows_by_block(const gb_cu_reduce &p)
{
    __shared__ A partial[GB_REDUCE_THREADS];
    const T *x = (const T *)p.x;
    for (int64_t o = blockIdx.x; o < p.outputs; o += gridDim.x) {
        int64_t base = gb_strided_offset(o, p.out_rank, p.out_dim, p.out_stride);
        A acc = gb_reduce_identity<A>(p.kind);
        for (int64_t r = threadIdx.x; r < p.per_output; r += blockDim.x)
            acc = gb_reduce_combine<A>(p.kind, acc, (A)x[base + gb_strided_offset(r, p.red_rank, p.red_dim, p.red_stride)]);
        partial[threadIdx.x] = acc;
        __syncthreads();
        for (int half = blockDim.x / 2; half > 0; half >>= 1) {
            if ((int)threadIdx.x < half)
                partial[threadIdx.x] = gb_reduce_combine<A>(p.kind, partial[threadIdx.x], partial[threadIdx.x + half]);
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            A v = partial[0];
            ((T *)p.y)[o] = (T)(p.kind == GB_REDUCE_MAX ? v : v * p.scale);
        }
        __syncthreads();
    }
}

// Column tiles: the 32 lanes of a warp take 32 neighbouring outputs (coalesced reads along a row);
// the block's 8 warps take every 8th reduced element each, and warp 0 adds their 8 partial
// results in a fixed order. A bias gradient [8192, 8192] -> [8192] so keeps 256 blocks busy
// instead of 8192 lone threads walking 8192 rows each.
enum { GB_COLUMN_SLICES = GB_REDUCE_THREADS / 32 };

template <typename T, typename A> __device__ inline void gb_reduce_columns(const gb_cu_reduce &p)
{
    __shared__ A partial[GB_COLUMN_SLICES][32];
    const T *x = (const T *)p.x;
    int lane = threadIdx.x % 32, slice = threadIdx.x / 32;
    for (int64_t tile = blockIdx.x; tile * 32 < p.outputs; tile += gridDim.x) {
        int64_t o = tile * 32 + lane;
        A acc = gb_reduce_identity<A>(p.kind);
        if (o < p.outputs) {
            int64_t base = gb_strided_offset(o, p.out_rank, p.out_dim, p.out_stride);
            for (int64_t r = slice; r < p.per_output; r += GB_COLUMN_SLICES)
                acc = gb_reduce_combine<A>(p.kind, acc, (A)x[base + gb_strided_offset(r, p.red_rank, p.red_dim, p.red_stride)]);
        }
        partial[slice][lane] = acc;
        __syncthreads();
        if (slice == 0 && o < p.outputs) {
            A v = partial[0][lane];
            for (int s = 1; s < GB_COLUMN_SLICES; s++) v = gb_reduce_combine<A>(p.kind, v, partial[s][lane]);
            ((T *)p.y)[o] = (T)(p.kind == GB_REDUCE_MAX ? v : v * p.scale);
        }
        __syncthreads();
    }
}

template <typename T, typename A> __device__ inline void gb_reduce_rows(const gb_cu_reduce &p)
{
    if (p.warp_per_output)
        gb_reduce_rows_by_warp<T, A>(p);
    else
        gb_reduce_rows_by_block<T, A>(p);
}

extern "C" __global__ void gb_k_reduce_rows(const gb_cu_reduce p)
{
    if (p.dtype == GB_F64)
        gb_reduce_rows<double, double>(p);
    else if (p.kind == GB_REDUCE_MAX)
        gb_reduce_rows<float, float>(p);
    else
        gb_reduce_rows<float, double>(p);
}

extern "C" __global__ void gb_k_reduce_columns(const gb_cu_reduce p)
{
    if (p.dtype == GB_F64)
        gb_reduce_columns<double, double>(p);
    else if (p.kind == GB_REDUCE_MAX)
        gb_reduce_columns<float, float>(p);
    else
        gb_reduce_columns<float, double>(p);
}
