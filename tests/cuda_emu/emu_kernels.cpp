// The engine's CUDA kernels, compiled for the host (see cuda_emu.h).
#include "cuda_emu.h"

#include "device/cuda/kernels/kernels.cu"
