// The cuBLAS part of the CUDA emulator (see emu_runtime.cpp): handles, their stream, workspace and
// math mode, and the two strided-batched GEMMs, queued on the handle's stream like a kernel and
// run through OpenBLAS. Operands must lie in device memory, as cuBLAS needs.
#include <cublas_v2.h>

#include <cstdio>

#include "emu_internal.h"

extern "C" {

struct cublasContext {
    CUstream stream;
    void *workspace;
    cublasMath_t mode;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
{
    EMU_ENTRY();
    *handle = new cublasContext();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
{
    EMU_ENTRY();
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream)
{
    EMU_ENTRY();
    handle->stream = (CUstream)stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t bytes)
{
    EMU_ENTRY();
    if (!emu_inside(device_memory, (uintptr_t)workspace, bytes)) return CUBLAS_STATUS_INVALID_VALUE;
    handle->workspace = workspace;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    EMU_ENTRY();
    handle->mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t gemm(cublasHandle_t h, int f64, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           double alpha, const void *a, int lda, long long sa, const void *b, int ldb, long long sb,
                           double beta, void *c, int ldc, long long sc, int batches)
{
    size_t element = f64 ? 8 : 4;
    int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
    int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
    if (m < 0 || n < 0 || k < 0 || batches < 0 || lda < a_rows || ldb < b_rows || ldc < m)
        return CUBLAS_STATUS_INVALID_VALUE;
    // every operand inside device memory (column-major: the last column ends the matrix)
    size_t last = (size_t)(batches - 1);
    if (batches && ((a_cols && !emu_inside(device_memory, (uintptr_t)a, ((size_t)sa * last + (size_t)lda * (a_cols - 1) + a_rows) * element)) ||
                    (b_cols && !emu_inside(device_memory, (uintptr_t)b, ((size_t)sb * last + (size_t)ldb * (b_cols - 1) + b_rows) * element)) ||
                    (n && !emu_inside(device_memory, (uintptr_t)c, ((size_t)sc * last + (size_t)ldc * (n - 1) + m) * element)))) {
        fprintf(stderr, "cuda emulator: a GEMM operand is not in device memory\n");
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    operation o = {};
    o.kind = operation::GEMM, o.f64 = f64, o.ta = ta != CUBLAS_OP_N, o.tb = tb != CUBLAS_OP_N;
    o.m = m, o.n = n, o.k = k, o.lda = lda, o.ldb = ldb, o.ldc = ldc, o.batches = batches;
    o.sa = sa, o.sb = sb, o.sc = sc, o.alpha = alpha, o.beta = beta;
    o.src = a, o.src2 = b, o.dst = c;
    emu_submit(h->stream, o);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float *alpha, const float *a, int lda, long long sa,
                                         const float *b, int ldb, long long sb, const float *beta, float *c, int ldc,
                                         long long sc, int batches)
{
    EMU_ENTRY();
    return gemm(h, 0, ta, tb, m, n, k, *alpha, a, lda, sa, b, ldb, sb, *beta, c, ldc, sc, batches);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double *alpha, const double *a, int lda, long long sa,
                                         const double *b, int ldb, long long sb, const double *beta, double *c,
                                         int ldc, long long sc, int batches)
{
    EMU_ENTRY();
    return gemm(h, 1, ta, tb, m, n, k, *alpha, a, lda, sa, b, ldb, sb, *beta, c, ldc, sc, batches);
}

} // extern "C"
