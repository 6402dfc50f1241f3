/* A CUDA session's device state: context, stream, kernels, cuBLAS, and the device storage of
 * variables and constants (see cuda_context.h). */
#include "device/cuda/cuda_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/error.h"
#include "internal/session_impl.h"

/* The kernels' fat binary (kernels/kernels.cu), embedded by fatbin.S. */
extern const unsigned char gb_cuda_fatbin[];

static const char *const kernel_names[GB_KERNEL_COUNT] = {
    [GB_KERNEL_UNARY] = "gb_k_unary",
    [GB_KERNEL_CAST] = "gb_k_cast",
    [GB_KERNEL_BINARY] = "gb_k_binary",
    [GB_KERNEL_BROADCAST] = "gb_k_broadcast",
    [GB_KERNEL_BIAS_ACT] = "gb_k_bias_act",
    [GB_KERNEL_ACT_GRAD] = "gb_k_act_grad",
    [GB_KERNEL_FILL] = "gb_k_fill",
    [GB_KERNEL_REDUCE_ROWS] = "gb_k_reduce_rows",
    [GB_KERNEL_REDUCE_COLUMNS] = "gb_k_reduce_columns",
    [GB_KERNEL_REDUCE_FINISH] = "gb_k_reduce_finish",
    [GB_KERNEL_COPY] = "gb_k_copy",
    [GB_KERNEL_GATHER] = "gb_k_gather",
    [GB_KERNEL_SCATTER_ADD] = "gb_k_scatter_add",
    [GB_KERNEL_SOFTMAX] = "gb_k_softmax",
    [GB_KERNEL_SPARSE_XENT] = "gb_k_sparse_xent",
    [GB_KERNEL_DENSE_XENT] = "gb_k_dense_xent",
    [GB_KERNEL_ARGMAX] = "gb_k_argmax",
    [GB_KERNEL_ONE_HOT] = "gb_k_one_hot",
    [GB_KERNEL_DROPOUT] = "gb_k_dropout",
    [GB_KERNEL_SCHEDULE] = "gb_k_schedule",
    [GB_KERNEL_APPLY] = "gb_k_apply",
    [GB_KERNEL_SEGMENT_KEYS] = "gb_k_segment_keys",
    [GB_KERNEL_SORT_STEP] = "gb_k_sort_step",
    [GB_KERNEL_SORT_BLOCK] = "gb_k_sort_block",
    [GB_KERNEL_SEGMENT_CHUNKS] = "gb_k_segment_chunks",
    [GB_KERNEL_SEGMENT_SUMS] = "gb_k_segment_sums",
};

/* cuBLAS's workspace, ours so that nothing is allocated while a CUDA graph is captured. */
enum { BLAS_WORKSPACE_BYTES = 32 << 20 };

gb_status gb_cuda_enter(gb_cuda_session *cs)
{
    return gb_cuda_check(cs->api->cuCtxSetCurrent(cs->context), "cuCtxSetCurrent");
}

static gb_status open_device(gb_cuda_session *cs)
{
    const gb_cuda_api *api = cs->api;
    int count = 0, major = 0, minor = 0, driver = 0;
    gb_status st = gb_cuda_check(api->cuDeviceGetCount(&count), "cuDeviceGetCount");
    if (st != GB_OK) return st;
    if (count == 0) return gb_fail(GB_EDEVICE, "CUDA: the driver reports no GPU");
    st = gb_cuda_check(api->cuDeviceGet(&cs->device, 0), "cuDeviceGet");
    if (st == GB_OK) st = gb_cuda_check(api->cuDevicePrimaryCtxRetain(&cs->context, cs->device), "cuDevicePrimaryCtxRetain");
    if (st != GB_OK) return st;
    st = gb_cuda_enter(cs);
    if (st == GB_OK) st = gb_cuda_check(api->cuStreamCreate(&cs->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    if (st != GB_OK) return st;
    char name[200] = "";
    api->cuDeviceGetName(name, sizeof name, cs->device);
    api->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, cs->device);
    api->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, cs->device);
    api->cuDeviceGetAttribute(&cs->sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, cs->device);
    api->cuDriverGetVersion(&driver);
    snprintf(cs->description, sizeof cs->description, "%s (sm_%d%d, %d SMs, driver API %d.%d)", name, major, minor,
             cs->sm_count, driver / 1000, driver % 1000 / 10);
    if (cs->sm_count < 1) cs->sm_count = 1;
    return GB_OK;
}

static gb_status load_kernels(gb_cuda_session *cs)
{
    const gb_cuda_api *api = cs->api;
    CUresult loaded = api->cuModuleLoadData(&cs->module, gb_cuda_fatbin);
    if (loaded == CUDA_ERROR_NO_BINARY_FOR_GPU)
        return gb_fail(GB_EDEVICE, "CUDA: the kernels were built for sm_%s, not for %s (configure with "
                                   "-DGB_CUDA_ARCHITECTURES naming it)", GB_CUDA_ARCHITECTURE_LIST, cs->description);
    gb_status st = gb_cuda_check(loaded, "loading the kernels (is the driver older than the toolkit that built them?)");
    for (int k = 0; k < GB_KERNEL_COUNT && st == GB_OK; k++)
        st = gb_cuda_check(api->cuModuleGetFunction(&cs->kernels[k], cs->module, kernel_names[k]), kernel_names[k]);
    return st;
}

static gb_status open_blas(gb_cuda_session *cs)
{
    const gb_cuda_api *api = cs->api;
    gb_status st = gb_cublas_check(api->cublasCreate(&cs->blas), "cublasCreate");
    if (st == GB_OK) st = gb_cublas_check(api->cublasSetStream(cs->blas, (cudaStream_t)cs->stream), "cublasSetStream");
    if (st == GB_OK) st = gb_cuda_check(api->cuMemAlloc(&cs->blas_workspace, BLAS_WORKSPACE_BYTES), "cuBLAS workspace");
    if (st == GB_OK)
        st = gb_cublas_check(api->cublasSetWorkspace(cs->blas, (void *)(uintptr_t)cs->blas_workspace, BLAS_WORKSPACE_BYTES),
                             "cublasSetWorkspace");
    if (st == GB_OK) st = gb_cublas_check(api->cublasSetMathMode(cs->blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    return st;
}

gb_status gb_cuda_session_open(gb_cuda_session **out)
{
    *out = NULL;
    const gb_cuda_api *api;
    gb_status st = gb_cuda_api_load(&api);
    if (st != GB_OK) return st;
    gb_cuda_session *cs = calloc(1, sizeof *cs);
    if (!cs) return gb_fail(GB_ENOMEM, "CUDA: out of memory");
    cs->api = api;
    st = open_device(cs);
    if (st == GB_OK) st = load_kernels(cs);
    if (st == GB_OK) st = open_blas(cs);
    CUdeviceptr error = 0;
    if (st == GB_OK) st = gb_cuda_check(api->cuMemAlloc(&error, sizeof *cs->error), "error word");
    cs->error = (gb_cuda_error_word *)(uintptr_t)error;
    CUdeviceptr dropout_step = 0;
    if (st == GB_OK) st = gb_cuda_check(api->cuMemAlloc(&dropout_step, sizeof *cs->dropout_step), "dropout step");
    cs->dropout_step = (int64_t *)(uintptr_t)dropout_step;
    CUdeviceptr partials = 0;
    if (st == GB_OK) st = gb_cuda_check(api->cuMemAlloc(&partials, GB_REDUCE_PARTIALS * sizeof(double)), "reduction scratch");
    cs->reduce_partials = (void *)(uintptr_t)partials;
    if (st == GB_OK)
        st = gb_cuda_check(api->cuMemHostAlloc((void **)&cs->error_host, sizeof *cs->error_host, 0), "error word (host)");
    if (st != GB_OK) {
        char message[1024];
        snprintf(message, sizeof message, "%s", gb_errmsg());
        gb_cuda_session_close(cs);
        return gb_fail(st, "%s", message);
    }
    *out = cs;
    return GB_OK;
}

void gb_cuda_session_close(gb_cuda_session *cs)
{
    if (!cs) return;
    const gb_cuda_api *api = cs->api;
    if (cs->context) api->cuCtxSetCurrent(cs->context);
    if (cs->stream) api->cuStreamSynchronize(cs->stream);
    for (size_t i = 0; i < cs->n_vars; i++)
        if (cs->vars[i]) api->cuMemFree(cs->vars[i]);
    for (size_t i = 0; i < cs->n_consts; i++)
        if (cs->consts[i]) api->cuMemFree(cs->consts[i]);
    free(cs->vars);
    free(cs->consts);
    free(cs->fresh);
    if (cs->error) api->cuMemFree((CUdeviceptr)(uintptr_t)cs->error);
    if (cs->dropout_step) api->cuMemFree((CUdeviceptr)(uintptr_t)cs->dropout_step);
    if (cs->reduce_partials) api->cuMemFree((CUdeviceptr)(uintptr_t)cs->reduce_partials);
    if (cs->error_host) api->cuMemFreeHost(cs->error_host);
    if (cs->blas) api->cublasDestroy(cs->blas);
    if (cs->blas_workspace) api->cuMemFree(cs->blas_workspace);
    if (cs->module) api->cuModuleUnload(cs->module);
    if (cs->stream) api->cuStreamDestroy(cs->stream);
    if (cs->context) api->cuDevicePrimaryCtxRelease(cs->device);
    free(cs);
}

void gb_cuda_session_set_tf32(gb_cuda_session *cs, int enabled)
{
    cs->tf32 = enabled != 0;
    if (gb_cuda_enter(cs) == GB_OK)
        cs->api->cublasSetMathMode(cs->blas, cs->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
}

const char *gb_cuda_session_device(const gb_cuda_session *cs) { return cs->description; }

gb_status gb_cuda_launch(gb_cuda_session *cs, gb_cuda_kernel k, unsigned grid, unsigned block, const void *params)
{
    void *args[] = {(void *)params};
    return gb_cuda_check(cs->api->cuLaunchKernel(cs->kernels[k], grid ? grid : 1, 1, 1, block, 1, 1, 0, cs->stream,
                                                 args, NULL),
                         kernel_names[k]);
}

unsigned gb_cuda_grid(const gb_cuda_session *cs, int64_t n)
{
    int64_t blocks = (n + 255) / 256, most = (int64_t)cs->sm_count * 16;
    if (blocks > most) blocks = most;
    return blocks < 1 ? 1 : (unsigned)blocks;
}

/* Grows a table of device pointers to hold index i. */
static int ensure_slot(CUdeviceptr **table, size_t *n, size_t i)
{
    if (i < *n) return 1;
    size_t cap = *n ? *n : 16;
    while (cap <= i) cap *= 2;
    CUdeviceptr *bigger = realloc(*table, cap * sizeof *bigger);
    if (!bigger) return 0;
    memset(bigger + *n, 0, (cap - *n) * sizeof *bigger);
    *table = bigger, *n = cap;
    return 1;
}

static size_t value_bytes(const gb_node *n)
{
    int64_t elements = gb_shape_elements(&n->shape);
    size_t bytes = (size_t)(elements > 0 ? elements : 0) * gb_dtype_size(n->dtype);
    return bytes ? bytes : 1;
}

void gb_cuda_session_set_owner(gb_cuda_session *cs, gb_session *owner) { cs->owner = owner; }

static double mib(size_t bytes) { return (double)bytes / (1 << 20); }

gb_status gb_cuda_alloc(gb_cuda_session *cs, CUdeviceptr *ptr, size_t bytes, const char *what)
{
    *ptr = 0;
    CUresult r = cs->api->cuMemAlloc(ptr, bytes);
    if (r == CUDA_ERROR_OUT_OF_MEMORY && cs->owner) {
        gb_session_release_device_plans(cs->owner);
        r = cs->api->cuMemAlloc(ptr, bytes);
    }
    if (r == CUDA_SUCCESS) return GB_OK;
    *ptr = 0;
    if (r != CUDA_ERROR_OUT_OF_MEMORY) return gb_cuda_check(r, what);
    size_t free_bytes = 0, total = 0;
    if (cs->api->cuMemGetInfo(&free_bytes, &total) != CUDA_SUCCESS) free_bytes = total = 0;
    return gb_fail(GB_ENOMEM, "CUDA: out of device memory for %s: %.1f MiB asked, %.1f MiB free of %.1f MiB", what,
                   mib(bytes), mib(free_bytes), mib(total));
}

gb_status gb_cuda_variable(gb_cuda_session *cs, const gb_node *v, CUdeviceptr *out)
{
    *out = 0;
    if (!ensure_slot(&cs->vars, &cs->n_vars, v->variable_index)) return gb_fail(GB_ENOMEM, "CUDA: out of memory");
    CUdeviceptr *slot = &cs->vars[v->variable_index];
    if (!*slot) {
        char what[300];
        snprintf(what, sizeof what, "variable %s", v->name);
        gb_status st = gb_cuda_alloc(cs, slot, value_bytes(v), what);
        if (st != GB_OK) return st;
    }
    *out = *slot;
    return GB_OK;
}

gb_status gb_cuda_constant(gb_cuda_session *cs, const gb_node *n, CUdeviceptr *out)
{
    *out = 0;
    if (!ensure_slot(&cs->consts, &cs->n_consts, n->id)) return gb_fail(GB_ENOMEM, "CUDA: out of memory");
    CUdeviceptr *slot = &cs->consts[n->id];
    if (!*slot) {
        char what[300];
        snprintf(what, sizeof what, "constant %s", n->name);
        gb_status st = gb_cuda_alloc(cs, slot, n->value->bytes ? n->value->bytes : 1, what);
        if (st != GB_OK) return st;
        /* synchronous: the host value is the graph's, and this happens once, before any capture */
        st = gb_cuda_check(cs->api->cuMemcpyHtoDAsync(*slot, n->value->data, n->value->bytes, cs->stream), what);
        if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), what);
        if (st != GB_OK) {
            cs->api->cuMemFree(*slot);
            *slot = 0;
            return st;
        }
    }
    *out = *slot;
    return GB_OK;
}

gb_status gb_cuda_variable_download(gb_session *s, const gb_node *v, gb_tensor *host)
{
    gb_cuda_session *cs = gb_session_cuda(s);
    gb_status st = gb_cuda_enter(cs);
    if (st != GB_OK) return st;
    CUdeviceptr d;
    st = gb_cuda_variable(cs, v, &d);
    if (st != GB_OK) return st;
    st = gb_cuda_check(cs->api->cuMemcpyDtoHAsync(host->data, d, host->bytes, cs->stream), "reading a variable");
    if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), "reading a variable");
    return st;
}

gb_status gb_cuda_variable_upload(gb_session *s, const gb_node *v, const gb_tensor *host)
{
    gb_cuda_session *cs = gb_session_cuda(s);
    gb_status st = gb_cuda_enter(cs);
    if (st != GB_OK) return st;
    CUdeviceptr d;
    st = gb_cuda_variable(cs, v, &d);
    if (st != GB_OK) return st;
    st = gb_cuda_check(cs->api->cuMemcpyHtoDAsync(d, host->data, host->bytes, cs->stream), "writing a variable");
    if (st == GB_OK) st = gb_cuda_check(cs->api->cuStreamSynchronize(cs->stream), "writing a variable");
    return st;
}
