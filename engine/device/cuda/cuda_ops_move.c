/* CUDA forward functions of the ops that move data: transpose, slice and its gradient (the box
 * put back into zeros), concat, gather and its gradient (rows added at the indices). With them a
 * step that slices, concatenates or looks up embeddings stays on the GPU and is captured whole. */
#include <string.h>

#include "device/cuda/cuda_context.h"
#include "internal/cuda_kernels.h"
#include "internal/error.h"
#include "internal/shape_util.h"

enum { THREADS = GB_CUDA_THREADS };

static gb_cuda_session *cuda_of(const gb_kernel_args *k) { return gb_session_cuda(k->session); }

/* Copies the box `dim` (rank entries) from x (strides sx, from element x_base) to y (strides sy,
 * from y_base). Axes of size 1 are dropped and neighbours contiguous in both merged, so that a
 * slice of whole rows is one run and the kernel divides once per element at most per axis left. */
static gb_status copy_box(gb_cuda_session *cs, const void *x, void *y, size_t esize, int rank, const int64_t *dim,
                          const int64_t *sx, const int64_t *sy, int64_t x_base, int64_t y_base)
{
    gb_cu_copy p = {.x = x, .y = y, .n = 1, .x_base = x_base, .y_base = y_base, .esize = (int32_t)esize};
    for (int d = 0; d < rank; d++) {
        p.n *= dim[d];
        if (dim[d] == 1) continue;
        int last = p.rank - 1;
        if (p.rank && p.sx[last] == sx[d] * dim[d] && p.sy[last] == sy[d] * dim[d]) {
            p.dim[last] *= dim[d], p.sx[last] = sx[d], p.sy[last] = sy[d];
        } else {
            p.dim[p.rank] = dim[d], p.sx[p.rank] = sx[d], p.sy[p.rank] = sy[d];
            p.rank++;
        }
    }
    if (p.n == 0) return GB_OK;
    if (p.rank == 0) p.rank = 1, p.dim[0] = 1, p.sx[0] = p.sy[0] = 1;
    return gb_cuda_launch(cs, GB_KERNEL_COPY, gb_cuda_grid(cs, p.n), THREADS, &p);
}

gb_status gb_cuda_transpose_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_tensor *out = k->out;
    int64_t in_strides[GB_MAX_RANK], from[GB_MAX_RANK], to[GB_MAX_RANK];
    gb_shape_strides(&x->shape, in_strides);
    gb_shape_strides(&out->shape, to);
    for (int i = 0; i < out->shape.rank; i++) from[i] = in_strides[k->node->attr.perm[i]];
    return copy_box(cuda_of(k), x->data, out->data, gb_dtype_size(x->dtype), out->shape.rank, out->shape.dim, from, to,
                    0, 0);
}

/* The element offset of `begin` in a tensor of the given shape. */
static int64_t box_base(const gb_shape *big, const gb_shape *begin, int64_t *big_strides)
{
    gb_shape_strides(big, big_strides);
    int64_t base = 0;
    for (int i = 0; i < big->rank; i++) base += begin->dim[i] * big_strides[i];
    return base;
}

gb_status gb_cuda_slice_forward(const gb_kernel_args *k)
{
    const gb_tensor *x = k->in[0];
    gb_tensor *out = k->out;
    int64_t x_strides[GB_MAX_RANK], out_strides[GB_MAX_RANK];
    int64_t base = box_base(&x->shape, &k->node->attr.shape, x_strides);
    gb_shape_strides(&out->shape, out_strides);
    return copy_box(cuda_of(k), x->data, out->data, gb_dtype_size(x->dtype), out->shape.rank, out->shape.dim, x_strides,
                    out_strides, base, 0);
}

/* SliceGrad(dy, x): zeros of x's shape with dy at begin. */
gb_status gb_cuda_slice_grad_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    const gb_tensor *dy = k->in[0];
    gb_tensor *out = k->out;
    size_t bytes = gb_tensor_bytes(out);
    if (bytes == 0) return GB_OK;
    gb_status st = gb_cuda_check(cs->api->cuMemsetD8Async((CUdeviceptr)(uintptr_t)out->data, 0, bytes, cs->stream),
                                 "clearing a slice's gradient");
    int64_t out_strides[GB_MAX_RANK], dy_strides[GB_MAX_RANK];
    int64_t base = box_base(&out->shape, &k->node->attr.shape, out_strides);
    gb_shape_strides(&dy->shape, dy_strides);
    return st == GB_OK ? copy_box(cs, dy->data, out->data, gb_dtype_size(dy->dtype), dy->shape.rank, dy->shape.dim,
                                  dy_strides, out_strides, 0, base)
                       : st;
}

gb_status gb_cuda_concat_forward(const gb_kernel_args *k)
{
    gb_tensor *out = k->out;
    int axis = k->node->attr.axis;
    int64_t out_strides[GB_MAX_RANK], in_strides[GB_MAX_RANK], at = 0;
    gb_shape_strides(&out->shape, out_strides);
    gb_status st = GB_OK;
    for (size_t i = 0; i < k->node->n_inputs && st == GB_OK; i++) {
        const gb_tensor *in = k->in[i];
        gb_shape_strides(&in->shape, in_strides);
        st = copy_box(cuda_of(k), in->data, out->data, gb_dtype_size(in->dtype), in->shape.rank, in->shape.dim,
                      in_strides, out_strides, 0, at * out_strides[axis]);
        at += in->shape.dim[axis];
    }
    return st;
}

/* params [rows, ...] and indices [n...]: the rows' width and count. */
static gb_cu_gather gather_params(const gb_tensor *rows_of, const gb_tensor *indices)
{
    int64_t rows = rows_of->shape.dim[0], total = gb_shape_elements(&rows_of->shape);
    gb_cu_gather p = {.indices = indices->data, .n = gb_shape_elements(&indices->shape), .rows = rows,
                      .width = rows ? total / rows : 0, .esize = (int32_t)gb_dtype_size(rows_of->dtype),
                      .index_dtype = (int32_t)indices->dtype, .dtype = (int32_t)rows_of->dtype};
    return p;
}

gb_status gb_cuda_gather_forward(const gb_kernel_args *k)
{
    gb_cuda_session *cs = cuda_of(k);
    gb_cu_gather p = gather_params(k->in[0], k->in[1]);
    p.x = k->in[0]->data, p.y = k->out->data;
    p.error = cs->error, p.node_id = k->node->id;
    if (p.n == 0) return GB_OK;
    gb_status st = gb_cuda_flush_updates(cs); /* queued updates see only earlier failures */
    int64_t work = p.width ? p.n * p.width : p.n;
    return st == GB_OK ? gb_cuda_launch(cs, GB_KERNEL_GATHER, gb_cuda_grid(cs, work), THREADS, &p) : st;
}
