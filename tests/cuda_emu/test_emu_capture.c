/* The emulator keeps the driver's capture-mode rule, which the engine's threads rely on: a
 * thread-local capture forbids allocating only on the capturing thread, a global one on every
 * thread. (The engine captures in thread-local mode; see cuda_plan.c.) */
#include <criterion/criterion.h>
#include <cuda.h>
#include <pthread.h>

static CUcontext context;

typedef struct capture {
    CUstreamCaptureMode mode;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int begun, may_end;
    CUresult begin, own_alloc, end; /* what the capturing thread saw */
} capture;

static void *capture_until_told(void *arg)
{
    capture *c = arg;
    CUstream stream;
    CUdeviceptr p;
    cuCtxSetCurrent(context);
    cuStreamCreate(&stream, 0);
    c->begin = cuStreamBeginCapture(stream, c->mode);
    c->own_alloc = cuMemAlloc(&p, 64);
    pthread_mutex_lock(&c->lock);
    c->begun = 1;
    pthread_cond_broadcast(&c->changed);
    while (!c->may_end) pthread_cond_wait(&c->changed, &c->lock);
    pthread_mutex_unlock(&c->lock);
    CUgraph graph = NULL;
    c->end = cuStreamEndCapture(stream, &graph);
    if (graph) cuGraphDestroy(graph);
    if (c->own_alloc == CUDA_SUCCESS) cuMemFree(p);
    cuStreamDestroy(stream);
    return NULL;
}

/* Allocates on this thread while another holds a capture open in `mode`. */
static CUresult allocate_during_capture(CUstreamCaptureMode mode, capture *c)
{
    *c = (capture){.mode = mode};
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, capture_until_told, c), 0);
    pthread_mutex_lock(&c->lock);
    while (!c->begun) pthread_cond_wait(&c->changed, &c->lock);
    pthread_mutex_unlock(&c->lock);
    CUdeviceptr p;
    CUresult result = cuMemAlloc(&p, 64);
    if (result == CUDA_SUCCESS) cr_assert_eq(cuMemFree(p), CUDA_SUCCESS);
    pthread_mutex_lock(&c->lock);
    c->may_end = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(t, NULL);
    cr_assert_eq(c->begin, CUDA_SUCCESS);
    return result;
}

static void setup(void)
{
    cr_assert_eq(cuInit(0), CUDA_SUCCESS);
    cr_assert_eq(cuDevicePrimaryCtxRetain(&context, 0), CUDA_SUCCESS);
    cr_assert_eq(cuCtxSetCurrent(context), CUDA_SUCCESS);
}

Test(emu_capture, thread_local_forbids_allocating_only_on_the_capturing_thread, .init = setup)
{
    capture c;
    cr_assert_eq(allocate_during_capture(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL, &c), CUDA_SUCCESS);
    cr_assert_eq(c.own_alloc, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    cr_assert_eq(c.end, CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "the capturing thread's own allocation invalidated it");
}

Test(emu_capture, global_forbids_allocating_on_every_thread, .init = setup)
{
    capture c;
    cr_assert_eq(allocate_during_capture(CU_STREAM_CAPTURE_MODE_GLOBAL, &c), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    cr_assert_eq(c.own_alloc, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
}

Test(emu_capture, relaxed_forbids_nothing, .init = setup)
{
    capture c;
    cr_assert_eq(allocate_during_capture(CU_STREAM_CAPTURE_MODE_RELAXED, &c), CUDA_SUCCESS);
    cr_assert_eq(c.own_alloc, CUDA_SUCCESS);
    cr_assert_eq(c.end, CUDA_SUCCESS);
}
