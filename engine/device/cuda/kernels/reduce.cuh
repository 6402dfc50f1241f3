// Reductions (sum, mean, max over axes; the sums that undo broadcasting). Two shapes of work:
// when the innermost axis is reduced, a warp (or, for a few long rows, a whole block) cooperates
// on each output, so reads along rows are coalesced; otherwise a warp takes 32 neighbouring
// outputs and the block's warps share out the reduced elements (the bias gradient
// [rows, cols] -> [cols]). When that leaves the GPU mostly idle (a whole-tensor sum, a bias
// gradient over 10^6 rows), the reduced elements are split among blocks too and a second kernel
// combines their results. float32 sums accumulate in double (A below), as on the CPU: a float32
// accumulator running over thousands of elements loses whole digits.
#pragma once

#include "common.cuh"

// A reduction kernel over x's dtype T with accumulator A: float32 sums in double, maxima in T.
#define GB_REDUCE_KERNEL(name, reduce)                                                          \
    extern "C" __global__ void name(const gb_cu_reduce p)                                       \
    {                                                                                           \
        if (p.dtype == GB_F64)                                                                  \
            reduce<double, double>(p);                                                          \
        else if (p.kind == GB_REDUCE_MAX)                                                       \
            reduce<float, float>(p);                                                            \
        else                                                                                    \
            reduce<float, double>(p);                                                           \
    }

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

// The run of reduced elements that work item w covers: all of them, or its split's chunk.
__device__ inline void gb_reduce_run(const gb_cu_reduce &p, int64_t w, int64_t *begin, int64_t *end)
{
    int64_t run = w % p.splits;
    *begin = run * p.chunk;
    *end = p.splits == 1 || *begin + p.chunk > p.per_output ? p.per_output : *begin + p.chunk;
}

// Output o's result, or with splits its run's partial result (unscaled, in A).
template <typename T, typename A> __device__ inline void gb_reduce_store(const gb_cu_reduce &p, int64_t o, int64_t run, A v)
{
    if (p.splits > 1)
        ((A *)p.partial)[o * p.splits + run] = v;
    else
        ((T *)p.y)[o] = (T)(p.kind == GB_REDUCE_MAX ? v : v * p.scale);
}

// A block per output (or per run of one, with splits), for rows too long for a warp when there
// are too few of them to fill the GPU.
template <typename T, typename A> __device__ inline void gb_reduce_rows_by_block(const gb_cu_reduce &p)
{
    __shared__ A partial[GB_CUDA_THREADS];
    const T *x = (const T *)p.x;
    for (int64_t w = blockIdx.x; w < p.outputs * p.splits; w += gridDim.x) {
        int64_t o = w / p.splits, begin, end;
        gb_reduce_run(p, w, &begin, &end);
        int64_t base = gb_strided_offset(o, p.out_rank, p.out_dim, p.out_stride);
        A acc = gb_reduce_identity<A>(p.kind);
        for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x)
            acc = gb_reduce_combine<A>(p.kind, acc, (A)x[base + gb_strided_offset(r, p.red_rank, p.red_dim, p.red_stride)]);
        partial[threadIdx.x] = acc;
        __syncthreads();
        for (int half = blockDim.x / 2; half > 0; half >>= 1) {
            if ((int)threadIdx.x < half)
                partial[threadIdx.x] = gb_reduce_combine<A>(p.kind, partial[threadIdx.x], partial[threadIdx.x + half]);
            __syncthreads();
        }
        if (threadIdx.x == 0) gb_reduce_store<T, A>(p, o, w % p.splits, partial[0]);
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

GB_REDUCE_KERNEL(gb_k_reduce_rows, gb_reduce_rows)

// Column tiles: the 32 lanes of a warp take 32 neighbouring outputs (coalesced reads along a row);
// the block's 8 warps take every 8th reduced element each (of the tile's run, with splits), and
// warp 0 adds their 8 partial results in a fixed order. A bias gradient [8192, 8192] -> [8192]
// so keeps 256 blocks (more, split) busy instead of 8192 lone threads walking 8192 rows each.
enum { GB_COLUMN_SLICES = GB_CUDA_THREADS / 32 };

template <typename T, typename A> __device__ inline void gb_reduce_columns(const gb_cu_reduce &p)
{
    __shared__ A partial[GB_COLUMN_SLICES][32];
    const T *x = (const T *)p.x;
    int lane = threadIdx.x % 32, slice = threadIdx.x / 32;
    int64_t tiles = (p.outputs + 31) / 32;
    for (int64_t w = blockIdx.x; w < tiles * p.splits; w += gridDim.x) {
        int64_t o = w / p.splits * 32 + lane, begin, end;
        gb_reduce_run(p, w, &begin, &end);
        A acc = gb_reduce_identity<A>(p.kind);
        if (o < p.outputs) {
            int64_t base = gb_strided_offset(o, p.out_rank, p.out_dim, p.out_stride);
            for (int64_t r = begin + slice; r < end; r += GB_COLUMN_SLICES)
                acc = gb_reduce_combine<A>(p.kind, acc, (A)x[base + gb_strided_offset(r, p.red_rank, p.red_dim, p.red_stride)]);
        }
        partial[slice][lane] = acc;
        __syncthreads();
        if (slice == 0 && o < p.outputs) {
            A v = partial[0][lane];
            for (int s = 1; s < GB_COLUMN_SLICES; s++) v = gb_reduce_combine<A>(p.kind, v, partial[s][lane]);
            gb_reduce_store<T, A>(p, o, w % p.splits, v);
        }
        __syncthreads();
    }
}

GB_REDUCE_KERNEL(gb_k_reduce_columns, gb_reduce_columns)

// The splits' partial results of each output, combined in order (the same sum every run).
template <typename T, typename A> __device__ inline void gb_reduce_finish(const gb_cu_reduce &p)
{
    const A *partial = (const A *)p.partial;
    GB_GRID_LOOP(o, p.outputs)
    {
        A acc = gb_reduce_identity<A>(p.kind);
        for (int32_t run = 0; run < p.splits; run++) acc = gb_reduce_combine<A>(p.kind, acc, partial[o * p.splits + run]);
        ((T *)p.y)[o] = (T)(p.kind == GB_REDUCE_MAX ? acc : acc * p.scale);
    }
}

GB_REDUCE_KERNEL(gb_k_reduce_finish, gb_reduce_finish)
