// Shared by the kernel files: element access by dtype code and the grid-stride loop.
#pragma once

#include <stdint.h>

#include "gradboard/tensor.h"
#include "internal/op_kinds.h"
#include "device/cuda/cuda_params.h"

// Blocks [0, blocks) of a launch shared with other work (block: this one's index among them).
#define GB_BLOCKS_LOOP(i, n, block, blocks)                                                     \
    for (int64_t i = (int64_t)(block) * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)blockDim.x * (blocks))

// A kernel over float32 or float64 values (p.dtype): the template loop<T>(p) for the one given.
#define GB_FLOAT_KERNEL(name, Params, loop)                                                     \
    extern "C" __global__ void name(const Params p)                                             \
    {                                                                                           \
        if (p.dtype == GB_F64)                                                                  \
            loop<double>(p);                                                                    \
        else                                                                                    \
            loop<float>(p);                                                                     \
    }

// Every thread of the grid visits i = start, start + stride, ...: any grid size covers any n.
#define GB_GRID_LOOP(i, n)                                                                      \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                  \
         i += (int64_t)blockDim.x * gridDim.x)

__device__ inline double gb_load(const void *p, int32_t dtype, int64_t i)
{
    switch (dtype) {
    case GB_F32: return ((const float *)p)[i];
    case GB_F64: return ((const double *)p)[i];
    case GB_I32: return ((const int32_t *)p)[i];
    case GB_I64: return (double)((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

__device__ inline int64_t gb_load_index(const void *p, int32_t dtype, int64_t i)
{
    return dtype == GB_I32 ? ((const int32_t *)p)[i] : ((const int64_t *)p)[i];
}

// The offset of output element i (i < the product of dims) in an operand with the given strides
// over dims (row-major). Rank 1 (the host merges what it can) needs no division, which for 64-bit
// integers is a long instruction sequence on a GPU.
__device__ inline int64_t gb_strided_offset(int64_t i, int32_t rank, const int64_t *dim, const int64_t *stride)
{
    if (rank == 1) return i * stride[0];
    int64_t offset = 0;
    for (int32_t d = rank - 1; d >= 0; d--) {
        int64_t c = i % dim[d];
        i /= dim[d];
        offset += c * stride[d];
    }
    return offset;
}

// Warp-wide sum and max (all 32 lanes take part).
template <typename T> __device__ inline T gb_warp_sum(T v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T> __device__ inline T gb_warp_max(T v)
{
    for (int o = 16; o > 0; o >>= 1) {
        T w = __shfl_xor_sync(0xffffffffu, v, o);
        v = w > v || w != w ? w : v;
    }
    return v;
}

// Records a failure at `position` of node node_id: the first node to fail in a run, its smallest
// failing position (see gb_cuda_error_word).
__device__ inline void gb_report_error(gb_cuda_error_word *e, uint64_t node_id, int64_t position)
{
    if (!e) return;
    unsigned long long mine = (unsigned long long)node_id + 1, first = atomicCAS(&e->node_plus_one, 0ull, mine);
    if (first == 0 || first == mine) atomicMax(&e->position_complement, ~(unsigned long long)position);
}
