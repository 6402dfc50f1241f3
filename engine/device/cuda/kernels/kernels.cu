// The CUDA kernels, compiled by nvcc into one fat binary that the engine embeds and loads with
// the driver API (device/cuda/cuda_context.c finds each kernel by its extern "C" name).
#include "elementwise.cuh"
#include "move.cuh"
#include "reduce.cuh"
#include "rows.cuh"
#include "training.cuh"
#include "segments.cuh"
