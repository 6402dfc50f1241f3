// Gather's gradient in the indices' order: the positions sorted by the row they name, then each
// row's run summed in order (see gb_cu_segments in cuda_params.h). Adding rows with atomics would
// be shorter, but its float sums would change with the order the GPU happens to run blocks in.
#pragma once

#include "common.cuh"

__device__ inline uint32_t gb_key_row(unsigned long long key) { return (uint32_t)(key >> 32); }
__device__ inline int64_t gb_key_position(unsigned long long key) { return (int64_t)(key & 0xffffffffull); }

extern "C" __global__ void gb_k_segment_keys(const gb_cu_segments p)
{
    GB_GRID_LOOP(j, p.padded)
    {
        unsigned long long key = ~0ull;
        if (j < p.n) {
            int64_t r = gb_load_index(p.indices, p.index_dtype, j);
            unsigned long long row = r >= 0 && r < p.rows ? (unsigned long long)r : GB_SEGMENT_NONE;
            key = row << 32 | (unsigned long long)j;
        }
        p.keys[j] = key;
    }
}

// Orders keys a < b for an ascending pair, b < a otherwise (keys are unique but for padding).
__device__ inline void gb_order_pair(unsigned long long *a, unsigned long long *b, bool ascending)
{
    unsigned long long x = *a, y = *b;
    if ((x > y) == ascending && x != y) *a = y, *b = x;
}

// The pair t of a bitonic step comparing elements j apart: its first element.
__device__ inline int64_t gb_pair_first(int64_t t, int64_t j) { return 2 * j * (t / j) + t % j; }

extern "C" __global__ void gb_k_sort_step(const gb_cu_segments p)
{
    GB_GRID_LOOP(t, p.padded / 2)
    {
        int64_t i = gb_pair_first(t, p.j);
        gb_order_pair(&p.keys[i], &p.keys[i + p.j], (i & p.k) == 0);
    }
}

extern "C" __global__ void gb_k_sort_block(const gb_cu_segments p)
{
    __shared__ unsigned long long key[GB_SORT_BLOCK];
    int64_t base = (int64_t)blockIdx.x * GB_SORT_BLOCK;
    const int64_t block = GB_SORT_BLOCK;
    int64_t span = p.padded - base < block ? p.padded - base : block;
    for (int64_t i = threadIdx.x; i < span; i += blockDim.x) key[i] = p.keys[base + i];
    __syncthreads();
    for (int64_t k = p.k; k <= p.k_last; k <<= 1) {
        for (int64_t j = (k < span ? k : span) / 2; j > 0; j /= 2) {
            for (int64_t t = threadIdx.x; t < span / 2; t += blockDim.x) {
                int64_t i = gb_pair_first(t, j);
                gb_order_pair(&key[i], &key[i + j], ((base + i) & k) == 0);
            }
            __syncthreads();
        }
    }
    for (int64_t i = threadIdx.x; i < span; i += blockDim.x) p.keys[base + i] = key[i];
}

// The sum of column c over the chunks that lie wholly in one row's run.
template <typename T> __device__ inline void gb_chunk_sums_loop(const gb_cu_segments &p)
{
    const T *x = (const T *)p.x;
    T *sums = (T *)p.chunk_sums;
    GB_GRID_LOOP(i, p.n / GB_SEGMENT_CHUNK * p.width)
    {
        int64_t q = i / p.width, c = i - q * p.width, first = q * GB_SEGMENT_CHUNK;
        uint32_t row = gb_key_row(p.keys[first]);
        if (row == GB_SEGMENT_NONE || gb_key_row(p.keys[first + GB_SEGMENT_CHUNK - 1]) != row) continue;
        T sum = 0;
        for (int64_t s = first; s < first + GB_SEGMENT_CHUNK; s++) sum += x[gb_key_position(p.keys[s]) * p.width + c];
        sums[i] = sum;
    }
}

// Column c of each row's run, from its first sorted position: y[row, c] (the rest stays zero).
template <typename T> __device__ inline void gb_segment_sums_loop(const gb_cu_segments &p)
{
    const T *x = (const T *)p.x, *chunk_sums = (const T *)p.chunk_sums;
    T *y = (T *)p.y;
    const int64_t chunk = GB_SEGMENT_CHUNK;
    GB_GRID_LOOP(i, p.n * p.width)
    {
        int64_t s = i / p.width, c = i - s * p.width;
        uint32_t row = gb_key_row(p.keys[s]);
        if (row == GB_SEGMENT_NONE || (s > 0 && gb_key_row(p.keys[s - 1]) == row)) continue;
        bool long_run = s + GB_SEGMENT_DIRECT < p.n && gb_key_row(p.keys[s + GB_SEGMENT_DIRECT]) == row;
        T sum = 0;
        for (int64_t at = s; at < p.n && gb_key_row(p.keys[at]) == row;) {
            if (long_run && at % chunk == 0 && at + chunk <= p.n && gb_key_row(p.keys[at + chunk - 1]) == row) {
                sum += chunk_sums[at / chunk * p.width + c];
                at += chunk;
            } else {
                sum += x[gb_key_position(p.keys[at]) * p.width + c];
                at++;
            }
        }
        y[(int64_t)row * p.width + c] = sum;
    }
}

GB_FLOAT_KERNEL(gb_k_segment_chunks, gb_cu_segments, gb_chunk_sums_loop)

GB_FLOAT_KERNEL(gb_k_segment_sums, gb_cu_segments, gb_segment_sums_loop)
