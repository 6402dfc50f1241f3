// Kernels that move data without arithmetic (transpose, slice and its gradient, concat, gather)
// and gather's gradient, which adds rows at indices. Elements are copied as raw words of their
// size, so every dtype goes through the same code and no float is flushed or converted.
#pragma once

#include "common.cuh"

template <typename E> __device__ inline void gb_strided_copy_loop(const gb_cu_copy &p)
{
    const E *x = (const E *)p.x;
    E *y = (E *)p.y;
    GB_GRID_LOOP(i, p.n)
    {
        int64_t from = p.x_base, to = p.y_base, rest = i;
        for (int32_t d = p.rank - 1; d > 0; d--) {
            int64_t c = rest % p.dim[d];
            rest /= p.dim[d];
            from += c * p.sx[d], to += c * p.sy[d];
        }
        from += rest * p.sx[0], to += rest * p.sy[0];
        y[to] = x[from];
    }
}

extern "C" __global__ void gb_k_copy(const gb_cu_copy p)
{
    switch (p.esize) {
    case 1: gb_strided_copy_loop<uint8_t>(p); break;
    case 4: gb_strided_copy_loop<uint32_t>(p); break;
    default: gb_strided_copy_loop<unsigned long long>(p); break;
    }
}

// Element i of the gathered [n, width]: its index j, column c and the row r it names.
__device__ inline int64_t gb_gathered_row(const gb_cu_gather &p, int64_t i, int64_t *j, int64_t *c)
{
    *j = i / p.width, *c = i - *j * p.width;
    return gb_load_index(p.indices, p.index_dtype, *j);
}

template <typename E> __device__ inline void gb_gather_loop(const gb_cu_gather &p)
{
    const E *x = (const E *)p.x;
    E *y = (E *)p.y;
    GB_GRID_LOOP(i, p.n * p.width)
    {
        int64_t j, c, r = gb_gathered_row(p, i, &j, &c);
        if (r < 0 || r >= p.rows) { // the run fails; zeros meanwhile, not leftovers, for what reads them
            if (c == 0) gb_report_error(p.error, p.node_id, j);
            y[i] = 0;
            continue;
        }
        y[i] = x[r * p.width + c];
    }
}

extern "C" __global__ void gb_k_gather(const gb_cu_gather p)
{
    if (p.width == 0) { // nothing to copy, but an index outside still fails, as on the CPU
        GB_GRID_LOOP(j, p.n)
        {
            int64_t r = gb_load_index(p.indices, p.index_dtype, j);
            if (r < 0 || r >= p.rows) gb_report_error(p.error, p.node_id, j);
        }
        return;
    }
    switch (p.esize) {
    case 1: gb_gather_loop<uint8_t>(p); break;
    case 4: gb_gather_loop<uint32_t>(p); break;
    default: gb_gather_loop<unsigned long long>(p); break;
    }
}

// Gather's gradient past 4 billion indices, too many for segments.cuh's sort: rows that share an
// index are added with atomics, so the order of those additions, and the last bits of such a
// row's sum, can change from run to run.
template <typename T> __device__ inline void gb_scatter_add_loop(const gb_cu_gather &p)
{
    const T *x = (const T *)p.x;
    T *y = (T *)p.y;
    GB_GRID_LOOP(i, p.n * p.width)
    {
        int64_t j, c, r = gb_gathered_row(p, i, &j, &c);
        if (r >= 0 && r < p.rows) atomicAdd(&y[r * p.width + c], x[i]);
    }
}

GB_FLOAT_KERNEL(gb_k_scatter_add, gb_cu_gather, gb_scatter_add_loop)
