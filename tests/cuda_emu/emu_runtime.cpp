// A CUDA emulator for testing the engine's CUDA backend on machines without a GPU. Built as one
// shared library that stands in for both libcuda.so.1 (the driver API subset the backend uses,
// here) and libcublas.so (two strided-batched GEMMs through OpenBLAS, emu_cublas.cpp): with its
// directory first in LD_LIBRARY_PATH, the unmodified engine opens it with dlopen exactly as it
// opens the real ones.
//
// Device memory is host memory, but the emulator keeps the rules a GPU would enforce and fails
// the call (as the driver does) when they are broken: copies must name device allocations on the
// device side; during stream capture, host memory in copies must be pinned (cuMemHostAlloc),
// and synchronising, allocating or freeing is an error that invalidates the capture; fresh
// device memory is filled with NaN bytes, so reading it before writing shows.
//
// Like the driver, the emulator is thread-safe: every entry point holds one lock, so host threads
// take turns (kernels included) and a capture forbids only what its mode forbids.
//
// Kernels run block by block; a block's threads are fibers (ucontext) that switch at
// __syncthreads and at warp shuffles. Kernels without either run thread by thread.
#include <cublas_v2.h>
#include <cuda.h>

#include <cblas.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <ucontext.h>
#include <vector>

#define GB_EMU_RUNTIME
#include "cuda_emu.h"
#include "emu_internal.h"
#include "device/cuda/cuda_params.h"

gb_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

extern "C" {
void gb_k_unary(gb_cu_unary);
void gb_k_cast(gb_cu_cast);
void gb_k_binary(gb_cu_binary);
void gb_k_broadcast(gb_cu_broadcast);
void gb_k_bias_act(gb_cu_bias_act);
void gb_k_act_grad(gb_cu_act_grad);
void gb_k_fill(gb_cu_fill);
void gb_k_reduce_rows(gb_cu_reduce);
void gb_k_reduce_columns(gb_cu_reduce);
void gb_k_reduce_finish(gb_cu_reduce);
void gb_k_copy(gb_cu_copy);
void gb_k_gather(gb_cu_gather);
void gb_k_scatter_add(gb_cu_gather);
void gb_k_softmax(gb_cu_rows);
void gb_k_sparse_xent(gb_cu_rows);
void gb_k_dense_xent(gb_cu_rows);
void gb_k_argmax(gb_cu_index);
void gb_k_one_hot(gb_cu_index);
void gb_k_dropout(gb_cu_dropout);
void gb_k_schedule(gb_cu_schedule);
void gb_k_apply(gb_cu_apply_batch);
void gb_k_segment_keys(gb_cu_segments);
void gb_k_sort_step(gb_cu_segments);
void gb_k_sort_block(gb_cu_segments);
void gb_k_segment_chunks(gb_cu_segments);
void gb_k_segment_sums(gb_cu_segments);
}

std::recursive_mutex emu_lock;

// ---- kernels by name ----

typedef void (*kernel_entry)(const void *params);

struct CUfunc_st {
    const char *name;
    kernel_entry run;
    size_t param_bytes;
    int cooperative; // uses __syncthreads or shuffles: needs fibers
    size_t launches; // run so far (eagerly or in replays), for tests
};

template <typename P, void (*K)(P)> static void call(const void *params) { K(*(const P *)params); }

#define KERNEL(name, P, coop) {#name, call<P, name>, sizeof(P), coop, 0}
static CUfunc_st kernels[] = {
    KERNEL(gb_k_unary, gb_cu_unary, 0),          KERNEL(gb_k_cast, gb_cu_cast, 0),
    KERNEL(gb_k_binary, gb_cu_binary, 0),        KERNEL(gb_k_broadcast, gb_cu_broadcast, 0),
    KERNEL(gb_k_bias_act, gb_cu_bias_act, 0),    KERNEL(gb_k_act_grad, gb_cu_act_grad, 0),
    KERNEL(gb_k_fill, gb_cu_fill, 0),            KERNEL(gb_k_reduce_rows, gb_cu_reduce, 1),
    KERNEL(gb_k_reduce_columns, gb_cu_reduce, 1), KERNEL(gb_k_reduce_finish, gb_cu_reduce, 0), KERNEL(gb_k_softmax, gb_cu_rows, 1),
    KERNEL(gb_k_sparse_xent, gb_cu_rows, 1),     KERNEL(gb_k_dense_xent, gb_cu_rows, 1),
    KERNEL(gb_k_argmax, gb_cu_index, 1),         KERNEL(gb_k_one_hot, gb_cu_index, 0),
    KERNEL(gb_k_dropout, gb_cu_dropout, 0),      KERNEL(gb_k_schedule, gb_cu_schedule, 0),
    KERNEL(gb_k_apply, gb_cu_apply_batch, 0),    KERNEL(gb_k_copy, gb_cu_copy, 0),
    KERNEL(gb_k_gather, gb_cu_gather, 0),        KERNEL(gb_k_scatter_add, gb_cu_gather, 0),
    KERNEL(gb_k_segment_keys, gb_cu_segments, 0), KERNEL(gb_k_sort_step, gb_cu_segments, 0),
    KERNEL(gb_k_sort_block, gb_cu_segments, 1),  KERNEL(gb_k_segment_chunks, gb_cu_segments, 0),
    KERNEL(gb_k_segment_sums, gb_cu_segments, 0),
};

// ---- fibers ----

enum { MAX_THREADS = 1024, STACK_BYTES = 64 * 1024 };
enum fiber_state { RUNNABLE, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };

struct fiber {
    ucontext_t context;
    fiber_state state;
};

static fiber fibers[MAX_THREADS];
static unsigned char lane_slots[MAX_THREADS][16];
static char *stacks;
static ucontext_t scheduler;
static unsigned running;
static const CUfunc_st *block_kernel;
static const void *block_params;
// Blocks, and threads within a block, run last to first: a result that depends on the order in
// which a GPU happens to schedule them (atomics on floats) then differs from the usual order's.
// GB_EMU_REVERSE=1 or gb_emu_set_reverse_order.
static bool reverse_order = getenv("GB_EMU_REVERSE") != NULL;

extern "C" void gb_emu_set_reverse_order(int on) { reverse_order = on != 0; }

// The i-th of n in the order of the moment.
static unsigned in_order(unsigned i, unsigned n) { return reverse_order ? n - 1 - i : i; }

extern "C" unsigned char *gb_emu_lane_slot(unsigned thread) { return lane_slots[thread]; }

static void park(fiber_state state)
{
    fibers[running].state = state;
    swapcontext(&fibers[running].context, &scheduler);
}

extern "C" void gb_emu_sync_block(void)
{
    if (block_kernel && block_kernel->cooperative) park(AT_BLOCK_BARRIER);
}

extern "C" void gb_emu_sync_warp(void)
{
    if (!block_kernel || !block_kernel->cooperative) {
        fprintf(stderr, "cuda emulator: a shuffle in a kernel not marked cooperative\n");
        abort();
    }
    park(AT_WARP_BARRIER);
}

static void fiber_main()
{
    block_kernel->run(block_params);
    fibers[running].state = DONE; // then back to the scheduler through uc_link
}

static void run_block_cooperatively(unsigned threads)
{
    if (!stacks) stacks = (char *)malloc((size_t)MAX_THREADS * STACK_BYTES);
    for (unsigned t = 0; t < threads; t++) {
        getcontext(&fibers[t].context);
        fibers[t].context.uc_stack.ss_sp = stacks + (size_t)t * STACK_BYTES;
        fibers[t].context.uc_stack.ss_size = STACK_BYTES;
        fibers[t].context.uc_link = &scheduler;
        makecontext(&fibers[t].context, fiber_main, 0);
        fibers[t].state = RUNNABLE;
    }
    for (;;) {
        for (unsigned i = 0; i < threads; i++) {
            unsigned t = in_order(i, threads);
            if (fibers[t].state != RUNNABLE) continue;
            running = t;
            threadIdx = {t, 0, 0};
            swapcontext(&scheduler, &fibers[t].context);
        }
        unsigned done = 0, at_block = 0, released = 0;
        for (unsigned t = 0; t < threads; t++) {
            done += fibers[t].state == DONE;
            at_block += fibers[t].state == AT_BLOCK_BARRIER;
        }
        if (done == threads) return;
        for (unsigned w = 0; w < threads; w += 32) { // a warp goes on when all its live lanes wait
            unsigned live = 0, waiting = 0;
            for (unsigned t = w; t < w + 32 && t < threads; t++) {
                live += fibers[t].state != DONE;
                waiting += fibers[t].state == AT_WARP_BARRIER;
            }
            if (live && waiting == live)
                for (unsigned t = w; t < w + 32 && t < threads; t++)
                    if (fibers[t].state == AT_WARP_BARRIER) fibers[t].state = RUNNABLE, released++;
        }
        if (!released && at_block == threads - done) {
            for (unsigned t = 0; t < threads; t++)
                if (fibers[t].state == AT_BLOCK_BARRIER) fibers[t].state = RUNNABLE, released++;
        }
        if (!released) {
            fprintf(stderr, "cuda emulator: %s deadlocks (threads at different barriers)\n", block_kernel->name);
            abort();
        }
    }
}

static void launch(CUfunc_st *k, unsigned grid, unsigned block, const void *params)
{
    k->launches++;
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    block_kernel = k;
    block_params = params;
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = {in_order(b, grid), 0, 0};
        if (k->cooperative) {
            run_block_cooperatively(block);
        } else {
            for (unsigned t = 0; t < block; t++) {
                threadIdx = {in_order(t, block), 0, 0};
                k->run(params);
            }
        }
    }
    block_kernel = NULL;
}

// ---- memory ----

std::map<uintptr_t, size_t> device_memory;
static std::map<uintptr_t, size_t> pinned_memory;
static size_t graph_launches; // replays of captured graphs, for tests
// The device's memory as cuMemGetInfo reports it; allocations past it fail with
// CUDA_ERROR_OUT_OF_MEMORY (tests shrink it with gb_emu_set_device_memory).
static const size_t emulated_device_bytes = (size_t)80 << 30;
static size_t device_limit = emulated_device_bytes, device_in_use;
static size_t device_granule(size_t bytes) { return (bytes + 255) / 256 * 256; }

bool emu_inside(const std::map<uintptr_t, size_t> &regions, uintptr_t p, size_t bytes)
{
    auto it = regions.upper_bound(p);
    if (it == regions.begin()) return false;
    --it;
    return p >= it->first && p + bytes <= it->first + it->second;
}

// ---- streams, capture and graphs: everything runs at once unless a capture records it ----

struct CUgraph_st {
    std::vector<operation> ops;
};
struct CUgraphExec_st {
    std::vector<operation> ops;
};
struct CUstream_st {
    bool capturing, invalidated;
    CUstreamCaptureMode mode;
    std::thread::id capturer;
    std::vector<operation> recorded;
};
struct CUctx_st {
    int unused;
};
struct CUmod_st {
    int unused;
};

static CUctx_st the_context;
static CUmod_st the_module;
static thread_local CUcontext current_context; // as the driver: per thread, none until set

// Calls that need a context fail without one, as the driver's do.
#define NEED_CONTEXT()                                                                         \
    do {                                                                                       \
        if (!current_context) {                                                                \
            fprintf(stderr, "cuda emulator: %s without a current context\n", __func__);         \
            return CUDA_ERROR_INVALID_CONTEXT;                                                 \
        }                                                                                      \
    } while (0)

static void run_gemm(const operation &o)
{
    CBLAS_TRANSPOSE ta = o.ta ? CblasTrans : CblasNoTrans, tb = o.tb ? CblasTrans : CblasNoTrans;
    for (int b = 0; b < o.batches; b++) {
        if (o.f64)
            cblas_dgemm(CblasColMajor, ta, tb, o.m, o.n, o.k, o.alpha, (const double *)o.src + b * o.sa, o.lda,
                        (const double *)o.src2 + b * o.sb, o.ldb, o.beta, (double *)o.dst + b * o.sc, o.ldc);
        else
            cblas_sgemm(CblasColMajor, ta, tb, o.m, o.n, o.k, (float)o.alpha, (const float *)o.src + b * o.sa, o.lda,
                        (const float *)o.src2 + b * o.sb, o.ldb, (float)o.beta, (float *)o.dst + b * o.sc, o.ldc);
    }
}

// GB_EMU_NO_WORK=1: kernels and GEMMs are skipped (their results are garbage), so that a program
// times what the host spends per step around them: the engine's floor on a GPU.
static const bool no_work = getenv("GB_EMU_NO_WORK") != NULL;

static void perform(const operation &o)
{
    switch (o.kind) {
    case operation::LAUNCH:
        if (!no_work) launch(o.kernel, o.grid, o.block, o.params.data());
        break;
    case operation::COPY: memcpy(o.dst, o.src, o.bytes); break;
    case operation::SET: memset(o.dst, o.value, o.bytes); break;
    case operation::GEMM:
        if (!no_work) run_gemm(o);
        break;
    }
}

// Runs o now, or records it when the stream is capturing.
CUresult emu_submit(CUstream stream, const operation &o)
{
    if (stream && stream->capturing) {
        stream->recorded.push_back(o);
        return CUDA_SUCCESS;
    }
    perform(o);
    return CUDA_SUCCESS;
}

// A call a capture forbids: the capture is invalidated, as the driver does.
static CUresult forbidden_while_capturing(CUstream stream)
{
    if (stream) stream->invalidated = true;
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

static std::vector<CUstream> streams;

// Allocating and freeing are "unsafe" during a capture: on the capturing thread unless the
// capture is relaxed, and on every thread while a global-mode capture is under way.
static CUresult check_no_capture(void)
{
    std::thread::id me = std::this_thread::get_id();
    for (CUstream s : streams) {
        if (!s->capturing) continue;
        bool forbidden = s->capturer == me ? s->mode != CU_STREAM_CAPTURE_MODE_RELAXED
                                           : s->mode == CU_STREAM_CAPTURE_MODE_GLOBAL;
        if (forbidden) return forbidden_while_capturing(s);
    }
    return CUDA_SUCCESS;
}

extern "C" {

CUresult cuInit(unsigned int flags)
{
    EMU_ENTRY();
    (void)flags;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *version)
{
    EMU_ENTRY();
    *version = 13000;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
    EMU_ENTRY();
    *count = getenv("GB_EMU_NO_DEVICE") ? 0 : 1;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    EMU_ENTRY();
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice device)
{
    EMU_ENTRY();
    (void)device;
    snprintf(name, (size_t)len, "gradboard CUDA emulator");
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice device)
{
    EMU_ENTRY();
    (void)device;
    switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = 2; break;
    default: *value = 0; break;
    }
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice device)
{
    EMU_ENTRY();
    (void)device;
    *ctx = &the_context;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice device)
{
    EMU_ENTRY();
    (void)device;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
    EMU_ENTRY();
    if (ctx && ctx != &the_context) return CUDA_ERROR_INVALID_CONTEXT;
    current_context = ctx;
    return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream *stream, unsigned int flags)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    (void)flags;
    *stream = new CUstream_st();
    streams.push_back(*stream);
    return CUDA_SUCCESS;
}

CUresult cuStreamDestroy(CUstream stream)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    for (size_t i = 0; i < streams.size(); i++)
        if (streams[i] == stream) streams.erase(streams.begin() + (long)i);
    delete stream;
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (stream->capturing) return forbidden_while_capturing(stream);
    return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr *ptr, size_t bytes)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (check_no_capture() != CUDA_SUCCESS) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (device_granule(bytes) > device_limit - device_in_use) return CUDA_ERROR_OUT_OF_MEMORY;
    void *p = aligned_alloc(256, device_granule(bytes));
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    memset(p, 0xff, bytes); // NaN in every float: unwritten memory shows
    device_memory[(uintptr_t)p] = bytes;
    device_in_use += device_granule(bytes);
    *ptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr ptr)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (check_no_capture() != CUDA_SUCCESS) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    auto found = device_memory.find((uintptr_t)ptr);
    if (found == device_memory.end()) return CUDA_ERROR_INVALID_VALUE;
    device_in_use -= device_granule(found->second);
    device_memory.erase(found);
    free((void *)(uintptr_t)ptr);
    return CUDA_SUCCESS;
}

CUresult cuMemGetInfo(size_t *free_bytes, size_t *total)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    *free_bytes = device_limit - device_in_use;
    *total = device_limit;
    return CUDA_SUCCESS;
}

CUresult cuMemHostAlloc(void **ptr, size_t bytes, unsigned int flags)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    (void)flags;
    if (check_no_capture() != CUDA_SUCCESS) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    *ptr = malloc(bytes ? bytes : 1);
    if (!*ptr) return CUDA_ERROR_OUT_OF_MEMORY;
    pinned_memory[(uintptr_t)*ptr] = bytes;
    return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void *ptr)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (!pinned_memory.erase((uintptr_t)ptr)) return CUDA_ERROR_INVALID_VALUE;
    free(ptr);
    return CUDA_SUCCESS;
}

static CUresult copy(CUstream stream, void *dst, const void *src, size_t bytes, bool dst_device, bool src_device)
{
    NEED_CONTEXT();
    if (bytes == 0) return CUDA_SUCCESS;
    if ((dst_device && !emu_inside(device_memory, (uintptr_t)dst, bytes)) ||
        (src_device && !emu_inside(device_memory, (uintptr_t)src, bytes))) {
        fprintf(stderr, "cuda emulator: a copy of %zu bytes names memory that is not a device allocation\n", bytes);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (stream && stream->capturing && ((!dst_device && !emu_inside(pinned_memory, (uintptr_t)dst, bytes)) ||
                                        (!src_device && !emu_inside(pinned_memory, (uintptr_t)src, bytes)))) {
        fprintf(stderr, "cuda emulator: a captured copy uses pageable host memory\n");
        return forbidden_while_capturing(stream);
    }
    operation o = {};
    o.kind = operation::COPY, o.dst = dst, o.src = src, o.bytes = bytes;
    return emu_submit(stream, o);
}

CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream)
{
    EMU_ENTRY();
    return copy(stream, (void *)(uintptr_t)dst, src, bytes, true, false);
}

CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream stream)
{
    EMU_ENTRY();
    return copy(stream, dst, (const void *)(uintptr_t)src, bytes, false, true);
}

CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream)
{
    EMU_ENTRY();
    return copy(stream, (void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes, true, true);
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, CUstream stream)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (n && !emu_inside(device_memory, (uintptr_t)dst, n)) return CUDA_ERROR_INVALID_VALUE;
    operation o = {};
    o.kind = operation::SET, o.dst = (void *)(uintptr_t)dst, o.value = value, o.bytes = n;
    return emu_submit(stream, o);
}

CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    (void)image;
    *module = &the_module;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    (void)module;
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *f, CUmodule module, const char *name)
{
    EMU_ENTRY();
    (void)module;
    for (CUfunc_st &k : kernels)
        if (!strcmp(k.name, name)) {
            *f = &k;
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_NOT_FOUND;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream stream, void **params, void **extra)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    (void)shared, (void)extra;
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > MAX_THREADS || gx == 0 || gx > 0x7fffffffu)
        return CUDA_ERROR_INVALID_VALUE;
    if (f->cooperative && bx % 32) return CUDA_ERROR_INVALID_VALUE;
    operation o = {};
    o.kind = operation::LAUNCH, o.kernel = f, o.grid = gx, o.block = bx;
    o.params.assign((const unsigned char *)params[0], (const unsigned char *)params[0] + f->param_bytes);
    return emu_submit(stream, o);
}

CUresult cuGetErrorString(CUresult error, const char **text)
{
    EMU_ENTRY();
    static thread_local char buffer[64]; // the text outlives the lock: one per thread
    snprintf(buffer, sizeof buffer, "emulated CUDA error %d", (int)error);
    *text = buffer;
    return CUDA_SUCCESS;
}

CUresult cuStreamBeginCapture(CUstream stream, CUstreamCaptureMode mode)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (stream->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    stream->capturing = true, stream->invalidated = false;
    stream->mode = mode, stream->capturer = std::this_thread::get_id();
    stream->recorded.clear();
    return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph)
{
    EMU_ENTRY();
    if (!stream->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    stream->capturing = false;
    *graph = NULL;
    if (stream->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    *graph = new CUgraph_st{stream->recorded};
    stream->recorded.clear();
    return CUDA_SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph, unsigned long long flags)
{
    EMU_ENTRY();
    (void)flags;
    if (getenv("GB_EMU_TRACE")) { // what a replay will launch
        size_t launches = 0, copies = 0, gemms = 0;
        for (const operation &o : graph->ops) {
            launches += o.kind == operation::LAUNCH;
            copies += o.kind == operation::COPY || o.kind == operation::SET;
            gemms += o.kind == operation::GEMM;
        }
        fprintf(stderr, "cuda emulator: a graph of %zu kernels, %zu GEMMs, %zu copies and sets\n", launches, gemms, copies);
        if (!strcmp(getenv("GB_EMU_TRACE"), "ops")) // GB_EMU_TRACE=ops: each in order
            for (const operation &o : graph->ops) {
                if (o.kind == operation::LAUNCH)
                    fprintf(stderr, "  kernel %s <<<%u, %u>>>\n", o.kernel->name, o.grid, o.block);
                else if (o.kind == operation::GEMM)
                    fprintf(stderr, "  gemm %d x %d x %d%s%s, %d batches\n", o.m, o.n, o.k, o.ta ? " A^T" : "",
                            o.tb ? " B^T" : "", o.batches);
                else
                    fprintf(stderr, "  %s %zu bytes\n", o.kind == operation::COPY ? "copy" : "set", o.bytes);
            }
    }
    *exec = new CUgraphExec_st{graph->ops};
    return CUDA_SUCCESS;
}

CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    if (stream->capturing) return forbidden_while_capturing(stream);
    for (const operation &o : exec->ops) perform(o);
    graph_launches++;
    return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec exec)
{
    EMU_ENTRY();
    NEED_CONTEXT();
    delete exec;
    return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph graph)
{
    EMU_ENTRY();
    delete graph;
    return CUDA_SUCCESS;
}

// For tests: device and pinned allocations alive now (the emulator's own query; no driver has it).
size_t gb_emu_live_allocations(void)
{
    EMU_ENTRY();
    return device_memory.size() + pinned_memory.size();
}

// For tests: device memory allocated now, in bytes (each allocation rounded up to 256).
size_t gb_emu_device_bytes_in_use(void)
{
    EMU_ENTRY();
    return device_in_use;
}

// For tests: the device's memory from now on (0: the emulated 80 GiB). Allocations already made
// stay; new ones fail once the total would pass it.
void gb_emu_set_device_memory(size_t bytes)
{
    EMU_ENTRY();
    device_limit = bytes ? (bytes > device_in_use ? bytes : device_in_use) : emulated_device_bytes;
}

// For tests: how many captured graphs have been launched (replayed steps).
size_t gb_emu_graph_launches(void)
{
    EMU_ENTRY();
    return graph_launches;
}

// For tests: how many times the kernel called `name` has run (eagerly or in graph replays).
size_t gb_emu_launches(const char *name)
{
    EMU_ENTRY();
    for (const CUfunc_st &k : kernels)
        if (!strcmp(k.name, name)) return k.launches;
    return 0;
}

// GB_EMU_LEAKS=fail: device or pinned memory still allocated when the program ends is an error
// (what compute-sanitizer --leak-check full reports on a GPU).
__attribute__((destructor)) static void check_leaks(void)
{
    if (device_memory.empty() && pinned_memory.empty()) return;
    fprintf(stderr, "cuda emulator: %zu device and %zu pinned allocations never freed\n", device_memory.size(),
            pinned_memory.size());
    const char *mode = getenv("GB_EMU_LEAKS");
    if (mode && !strcmp(mode, "fail")) _exit(99);
}

} // extern "C"
