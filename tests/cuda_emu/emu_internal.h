// Private to the emulator: what its driver part (emu_runtime.cpp) shares with its cuBLAS part
// (emu_cublas.cpp): the one lock every entry point holds, the map of device allocations, and
// the stream operations a GEMM is queued as.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

extern std::recursive_mutex emu_lock;
#define EMU_ENTRY() std::lock_guard<std::recursive_mutex> emu_guard(emu_lock)

// Device allocations by address, with their sizes.
extern std::map<uintptr_t, size_t> device_memory;

// Whether [p, p + bytes) lies inside one of the regions.
bool emu_inside(const std::map<uintptr_t, size_t> &regions, uintptr_t p, size_t bytes);

struct CUfunc_st;

struct operation {
    enum { LAUNCH, COPY, SET, GEMM } kind;
    CUfunc_st *kernel;
    unsigned grid, block;
    std::vector<unsigned char> params;
    void *dst;
    const void *src, *src2; // GEMM: A and B
    size_t bytes;
    unsigned char value;
    // GEMM (column-major, as cuBLAS)
    int f64, ta, tb, m, n, k, lda, ldb, ldc, batches;
    long long sa, sb, sc;
    double alpha, beta;
};

// Runs o on the stream now, or records it when the stream is being captured.
CUresult emu_submit(CUstream stream, const operation &o);
