/* Loads the CUDA driver and cuBLAS with dlopen (see cuda_api.h). Symbols are looked up by the
 * versioned names the headers map the API names to (cuMemAlloc is cuMemAlloc_v2 since CUDA 3.2),
 * so one build works with any driver new enough for its kernels. */
#include "device/cuda/cuda_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal/error.h"

#define GB_STRINGIFY_(x) #x
#define GB_STRINGIFY(x) GB_STRINGIFY_(x)

typedef struct symbol {
    const char *name;
    size_t offset;
} symbol;

#define DRIVER(field, name) {name, offsetof(gb_cuda_api, field)}

static const symbol driver_symbols[] = {
    DRIVER(cuInit, "cuInit"),
    DRIVER(cuDriverGetVersion, "cuDriverGetVersion"),
    DRIVER(cuDeviceGetCount, "cuDeviceGetCount"),
    DRIVER(cuDeviceGet, "cuDeviceGet"),
    DRIVER(cuDeviceGetName, "cuDeviceGetName"),
    DRIVER(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
    DRIVER(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    DRIVER(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
    DRIVER(cuCtxSetCurrent, "cuCtxSetCurrent"),
    DRIVER(cuStreamCreate, "cuStreamCreate"),
    DRIVER(cuStreamDestroy, "cuStreamDestroy_v2"),
    DRIVER(cuStreamSynchronize, "cuStreamSynchronize"),
    DRIVER(cuMemAlloc, "cuMemAlloc_v2"),
    DRIVER(cuMemFree, "cuMemFree_v2"),
    DRIVER(cuMemGetInfo, "cuMemGetInfo_v2"),
    DRIVER(cuMemHostAlloc, "cuMemHostAlloc"),
    DRIVER(cuMemFreeHost, "cuMemFreeHost"),
    DRIVER(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
    DRIVER(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
    DRIVER(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2"),
    DRIVER(cuMemsetD8Async, "cuMemsetD8Async"),
    DRIVER(cuModuleLoadData, "cuModuleLoadData"),
    DRIVER(cuModuleUnload, "cuModuleUnload"),
    DRIVER(cuModuleGetFunction, "cuModuleGetFunction"),
    DRIVER(cuLaunchKernel, "cuLaunchKernel"),
    DRIVER(cuGetErrorString, "cuGetErrorString"),
    DRIVER(cuStreamBeginCapture, "cuStreamBeginCapture_v2"),
    DRIVER(cuStreamEndCapture, "cuStreamEndCapture"),
    DRIVER(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags"),
    DRIVER(cuGraphLaunch, "cuGraphLaunch"),
    DRIVER(cuGraphExecDestroy, "cuGraphExecDestroy"),
    DRIVER(cuGraphDestroy, "cuGraphDestroy"),
};

static const symbol cublas_symbols[] = {
    DRIVER(cublasCreate, "cublasCreate_v2"),
    DRIVER(cublasDestroy, "cublasDestroy_v2"),
    DRIVER(cublasSetStream, "cublasSetStream_v2"),
    DRIVER(cublasSetWorkspace, "cublasSetWorkspace_v2"),
    DRIVER(cublasSetMathMode, "cublasSetMathMode"),
    DRIVER(cublasSgemmStridedBatched, "cublasSgemmStridedBatched"),
    DRIVER(cublasDgemmStridedBatched, "cublasDgemmStridedBatched"),
};

static gb_cuda_api api;
static gb_status load_status;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *open_first(const char *const *names, char *tried, size_t size)
{
    tried[0] = 0;
    for (size_t i = 0; names[i]; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib) return lib;
        size_t used = strlen(tried);
        snprintf(tried + used, size - used, "%s%s", used ? "; " : "", dlerror());
    }
    return NULL;
}

static int resolve(void *lib, const symbol *symbols, size_t n, const char *library)
{
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(lib, symbols[i].name);
        if (!f) {
            snprintf(load_error, sizeof load_error, "%s has no %s (too old?)", library, symbols[i].name);
            return 0;
        }
        memcpy((char *)&api + symbols[i].offset, &f, sizeof f);
    }
    return 1;
}

static void load(void)
{
    static const char *const driver_names[] = {"libcuda.so.1", "libcuda.so", NULL};
    /* the toolkit this was built with first, then the neighbours a driver may ship with */
    static const char *const cublas_names[] = {"libcublas.so." GB_STRINGIFY(GB_CUDA_MAJOR), "libcublas.so.13",
                                               "libcublas.so.12", "libcublas.so", NULL};
    char tried[384];
    load_status = GB_EDEVICE;
    void *driver = open_first(driver_names, tried, sizeof tried);
    if (!driver) {
        snprintf(load_error, sizeof load_error, "no NVIDIA driver on this machine (%s)", tried);
        return;
    }
    if (!resolve(driver, driver_symbols, sizeof driver_symbols / sizeof *driver_symbols, "the NVIDIA driver")) return;
    CUresult r = api.cuInit(0);
    if (r != CUDA_SUCCESS) {
        const char *text = NULL;
        api.cuGetErrorString(r, &text);
        snprintf(load_error, sizeof load_error, "the NVIDIA driver found no usable GPU (cuInit: %s)",
                 text ? text : "unknown error");
        return;
    }
    void *cublas = open_first(cublas_names, tried, sizeof tried);
    if (!cublas) {
        snprintf(load_error, sizeof load_error,
                 "cuBLAS not found (%s); add the CUDA toolkit's lib64 directory to LD_LIBRARY_PATH", tried);
        return;
    }
    if (!resolve(cublas, cublas_symbols, sizeof cublas_symbols / sizeof *cublas_symbols, "cuBLAS")) return;
    load_status = GB_OK;
}

gb_status gb_cuda_api_load(const gb_cuda_api **out)
{
    pthread_once(&once, load);
    *out = load_status == GB_OK ? &api : NULL;
    if (load_status != GB_OK) return gb_fail(load_status, "CUDA: %s", load_error);
    return GB_OK;
}

gb_status gb_cuda_check(CUresult r, const char *what)
{
    if (r == CUDA_SUCCESS) return GB_OK;
    const char *text = NULL;
    if (api.cuGetErrorString) api.cuGetErrorString(r, &text);
    return gb_fail(r == CUDA_ERROR_OUT_OF_MEMORY ? GB_ENOMEM : GB_EDEVICE, "CUDA: %s: %s (error %d)", what,
                   text ? text : "unknown error", (int)r);
}

gb_status gb_cublas_check(cublasStatus_t s, const char *what)
{
    if (s == CUBLAS_STATUS_SUCCESS) return GB_OK;
    return gb_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? GB_ENOMEM : GB_EDEVICE, "cuBLAS: %s failed (status %d)", what,
                   (int)s);
}
