// The parts of the CUDA language the engine's kernels use, on the host: enough to compile
// engine/device/cuda/kernels/kernels.cu with g++ and run it in the emulator (emu_runtime.cpp).
// Each block runs alone; its threads are fibers that switch at __syncthreads and at the warp
// shuffles, so block-shared memory can be a static array.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

struct gb_emu_dim3 {
    unsigned x, y, z;
};

// Set by the emulator before it switches to a thread.
extern gb_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

#ifndef GB_EMU_RUNTIME // the runtime includes the real CUDA headers, which define these for nvcc
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __grid_constant__
#endif

extern "C" void gb_emu_sync_block(void);
extern "C" void gb_emu_sync_warp(void);
// 16 bytes per thread of the running block, for the shuffles
extern "C" unsigned char *gb_emu_lane_slot(unsigned thread);

inline void __syncthreads() { gb_emu_sync_block(); }

template <typename T> inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask)
{
    (void)mask;
    static_assert(sizeof(T) <= 16, "shuffled values are at most 16 bytes");
    unsigned me = threadIdx.x, from = (me & ~31u) | ((me & 31u) ^ (unsigned)lane_mask);
    std::memcpy(gb_emu_lane_slot(me), &value, sizeof value);
    gb_emu_sync_warp();
    T result;
    std::memcpy(&result, gb_emu_lane_slot(from), sizeof result);
    gb_emu_sync_warp();
    return result;
}

// Threads of a block never run at the same time, so these need no locking.
inline unsigned long long atomicCAS(unsigned long long *address, unsigned long long compare, unsigned long long value)
{
    unsigned long long old = *address;
    if (old == compare) *address = value;
    return old;
}

inline unsigned long long atomicMax(unsigned long long *address, unsigned long long value)
{
    unsigned long long old = *address;
    if (value > old) *address = value;
    return old;
}

template <typename T> inline T atomicAdd(T *address, T value)
{
    T old = *address;
    *address = old + value;
    return old;
}

inline uint32_t __umulhi(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * b) >> 32); }

using std::cos;
using std::exp;
using std::floor;
using std::fmin;
using std::log;
using std::pow;
using std::sqrt;
using std::tanh;
