/* Private: the CUDA driver and cuBLAS, loaded at run time.
 *
 *   const gb_cuda_api *api;
 *   if (gb_cuda_api_load(&api) != GB_OK) ...   // gb_errmsg(): which library is missing, and why
 *   api->cuMemAlloc(&p, bytes);
 *
 * The engine links no CUDA library: a build with the CUDA backend runs on machines without a GPU
 * or driver, and only a session asking for GB_CUDA needs libcuda.so.1 (the driver) and
 * libcublas.so (the toolkit or its redistributable). The kernels are an embedded fat binary,
 * loaded through the driver API, so the CUDA runtime is not needed either. */
#ifndef GB_CUDA_API_H
#define GB_CUDA_API_H

#include <cublas_v2.h>
#include <cuda.h>

#include "gradboard/status.h"

typedef struct gb_cuda_api {
    /* the driver */
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int len, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, CUdevice_attribute attribute, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *ctx, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext ctx);
    CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
    CUresult (*cuStreamDestroy)(CUstream stream);
    CUresult (*cuStreamSynchronize)(CUstream stream);
    CUresult (*cuMemAlloc)(CUdeviceptr *ptr, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr ptr);
    CUresult (*cuMemGetInfo)(size_t *free_bytes, size_t *total);
    CUresult (*cuMemHostAlloc)(void **ptr, size_t bytes, unsigned int flags);
    CUresult (*cuMemFreeHost)(void *ptr);
    CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t n, CUstream stream);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleUnload)(CUmodule module);
    CUresult (*cuModuleGetFunction)(CUfunction *f, CUmodule module, const char *name);
    CUresult (*cuLaunchKernel)(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shared, CUstream stream, void **params, void **extra);
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
    CUresult (*cuStreamBeginCapture)(CUstream stream, CUstreamCaptureMode mode);
    CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph *graph);
    CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph, unsigned long long flags);
    CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
    CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
    CUresult (*cuGraphDestroy)(CUgraph graph);
    /* cuBLAS */
    cublasStatus_t (*cublasCreate)(cublasHandle_t *handle);
    cublasStatus_t (*cublasDestroy)(cublasHandle_t handle);
    cublasStatus_t (*cublasSetStream)(cublasHandle_t handle, cudaStream_t stream);
    cublasStatus_t (*cublasSetWorkspace)(cublasHandle_t handle, void *workspace, size_t bytes);
    cublasStatus_t (*cublasSetMathMode)(cublasHandle_t handle, cublasMath_t mode);
    cublasStatus_t (*cublasSgemmStridedBatched)(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                                int m, int n, int k, const float *alpha, const float *a, int lda,
                                                long long stride_a, const float *b, int ldb, long long stride_b,
                                                const float *beta, float *c, int ldc, long long stride_c, int batches);
    cublasStatus_t (*cublasDgemmStridedBatched)(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                                int m, int n, int k, const double *alpha, const double *a, int lda,
                                                long long stride_a, const double *b, int ldb, long long stride_b,
                                                const double *beta, double *c, int ldc, long long stride_c,
                                                int batches);
} gb_cuda_api;

/* Loads the driver and cuBLAS once per process (later calls return the same table or the same
 * failure). GB_EDEVICE with the reason when either is missing or the driver finds no GPU. */
gb_status gb_cuda_api_load(const gb_cuda_api **out);

/* GB_OK for CUDA_SUCCESS, else GB_EDEVICE with "<what>: <driver's message>". */
gb_status gb_cuda_check(CUresult r, const char *what);

/* GB_OK for CUBLAS_STATUS_SUCCESS, else GB_EDEVICE naming the status. */
gb_status gb_cublas_check(cublasStatus_t s, const char *what);

#endif
