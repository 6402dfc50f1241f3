/* Gather's gradient on CUDA: zeros of the table's shape with dy's rows added at the indices, in
 * the indices' order. The positions are sorted by the row they name and each row's run is summed
 * in order (kernels/segments.cuh), so the result is the same bits run to run, and the CPU's
 * while no index repeats more than GB_SEGMENT_DIRECT times. The sort's keys and the chunk sums
 * live in the plan's scratch memory, sized by gb_cuda_gather_grad_scratch. */
#include "device/cuda/cuda_context.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/shape_util.h"

enum { THREADS = GB_CUDA_THREADS, KEYS_ALIGN = 256 };

static int64_t power_of_two_above(int64_t n)
{
    int64_t m = 1;
    while (m < n) m <<= 1;
    return m;
}

/* GatherGrad(dy, indices, params): the shapes of one, in sizes. */
static gb_cu_segments segments_of(const gb_kernel_args *k)
{
    const gb_tensor *out = k->out, *indices = k->in[1];
    int64_t rows = out->shape.dim[0], total = gb_shape_elements(&out->shape);
    gb_cu_segments p = {.x = k->in[0]->data, .indices = indices->data, .y = out->data,
                        .n = gb_shape_elements(&indices->shape), .rows = rows, .width = rows ? total / rows : 0,
                        .index_dtype = (int32_t)indices->dtype, .dtype = (int32_t)out->dtype};
    p.padded = power_of_two_above(p.n);
    return p;
}

/* Positions and rows must fit the keys' 32-bit halves (4 billion indices would take 16 GiB). */
static int sortable(const gb_cu_segments *p) { return p->n <= 0xffffffffll && p->rows < (int64_t)GB_SEGMENT_NONE; }

static size_t keys_bytes(const gb_cu_segments *p)
{
    return ((size_t)p->padded * sizeof(unsigned long long) + KEYS_ALIGN - 1) / KEYS_ALIGN * KEYS_ALIGN;
}

size_t gb_cuda_gather_grad_scratch(const gb_kernel_args *k)
{
    gb_cu_segments p = segments_of(k);
    if (!sortable(&p) || p.n * p.width == 0) return 0;
    return keys_bytes(&p) + (size_t)(p.n / GB_SEGMENT_CHUNK * p.width) * gb_dtype_size(k->out->dtype);
}

/* Bitonic sort of the keys: the stages up to GB_SORT_BLOCK within blocks, then for each larger
 * stage its long-distance steps over the whole array and its short ones within blocks again. */
static gb_status sort_keys(gb_cuda_session *cs, gb_cu_segments p)
{
    if (p.padded < 2) return GB_OK;
    unsigned blocks = (unsigned)((p.padded + GB_SORT_BLOCK - 1) / GB_SORT_BLOCK);
    p.k = 2, p.k_last = p.padded < GB_SORT_BLOCK ? p.padded : GB_SORT_BLOCK;
    gb_status st = gb_cuda_launch(cs, GB_KERNEL_SORT_BLOCK, blocks, THREADS, &p);
    for (int64_t k = 2 * GB_SORT_BLOCK; k <= p.padded && st == GB_OK; k <<= 1) {
        p.k = p.k_last = k;
        for (p.j = k / 2; p.j >= GB_SORT_BLOCK && st == GB_OK; p.j /= 2)
            st = gb_cuda_launch(cs, GB_KERNEL_SORT_STEP, gb_cuda_grid(cs, p.padded / 2), THREADS, &p);
        if (st == GB_OK) st = gb_cuda_launch(cs, GB_KERNEL_SORT_BLOCK, blocks, THREADS, &p);
    }
    return st;
}

/* Too many indices to sort: rows added with atomics, whose order (the last bits) may vary. */
static gb_status add_with_atomics(gb_cuda_session *cs, const gb_kernel_args *k, const gb_cu_segments *s)
{
    gb_cu_gather p = {.x = s->x, .indices = s->indices, .y = s->y, .n = s->n, .rows = s->rows, .width = s->width,
                      .esize = (int32_t)gb_dtype_size(k->out->dtype), .index_dtype = s->index_dtype, .dtype = s->dtype};
    return gb_cuda_launch(cs, GB_KERNEL_SCATTER_ADD, gb_cuda_grid(cs, p.n * p.width), THREADS, &p);
}

gb_status gb_cuda_gather_grad_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = gb_session_cuda(k->session);
    size_t bytes = gb_tensor_bytes(k->out);
    if (bytes == 0) return GB_OK;
    gb_status st = gb_cuda_check(cs->api->cuMemsetD8Async((CUdeviceptr)(uintptr_t)k->out->data, 0, bytes, cs->stream),
                                 "clearing a gather's gradient");
    gb_cu_segments p = segments_of(k);
    if (st != GB_OK || p.n * p.width == 0) return st;
    if (!sortable(&p)) return add_with_atomics(cs, k, &p);
    size_t needed = gb_cuda_gather_grad_scratch(k);
    if (!cs->scratch || cs->scratch_bytes < needed)
        return gb_fail(GB_ESTATE, "CUDA: %zu bytes of scratch memory for %s were not set aside", needed, k->node->name);
    p.keys = cs->scratch;
    p.chunk_sums = (char *)cs->scratch + keys_bytes(&p);
    st = gb_cuda_launch(cs, GB_KERNEL_SEGMENT_KEYS, gb_cuda_grid(cs, p.padded), THREADS, &p);
    if (st == GB_OK) st = sort_keys(cs, p);
    if (st == GB_OK && p.n >= GB_SEGMENT_CHUNK)
        st = gb_cuda_launch(cs, GB_KERNEL_SEGMENT_CHUNKS, gb_cuda_grid(cs, p.n / GB_SEGMENT_CHUNK * p.width), THREADS, &p);
    if (st == GB_OK) st = gb_cuda_launch(cs, GB_KERNEL_SEGMENT_SUMS, gb_cuda_grid(cs, p.n * p.width), THREADS, &p);
    return st;
}
