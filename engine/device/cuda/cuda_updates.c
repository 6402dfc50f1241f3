/* The optimizers' updates, queued and launched together. A small model's step updates a few
 * variables of a few thousand elements each, so one launch per variable costs more than the
 * arithmetic; a queued update runs with the rest of the batch when the run ends, when the batch
 * is full, or before a node that reads what it writes or overwrites what it reads (the executor
 * asks gb_cuda_updates_touch before each node). Kernels that report errors flush first, so an
 * update skips only for failures that came before it in the plan, as on the CPU. */
#include "device/cuda/cuda_context.h"

#include <string.h>

#include "internal/error.h"

enum { THREADS = GB_CUDA_THREADS };

gb_status gb_cuda_flush_updates(gb_cuda_session *cs)
{
    gb_cu_apply_batch *b = &cs->updates;
    if (b->count == 0) return GB_OK;
    uint32_t blocks = 0;
    for (int32_t i = 0; i < b->count; i++) {
        b->first_block[i] = blocks;
        blocks += gb_cuda_grid(cs, b->update[i].n);
    }
    b->first_block[b->count] = blocks;
    gb_status st = gb_cuda_launch(cs, GB_KERNEL_APPLY, blocks, THREADS, b);
    b->count = 0;
    return st;
}

gb_status gb_cuda_queue_update(gb_cuda_session *cs, const gb_cu_apply *update)
{
    if (update->n == 0) return GB_OK;
    gb_cu_apply_batch *b = &cs->updates;
    if (b->count == GB_APPLY_BATCH) {
        gb_status st = gb_cuda_flush_updates(cs);
        if (st != GB_OK) return st;
    }
    b->update[b->count++] = *update;
    return cs->queue_updates ? GB_OK : gb_cuda_flush_updates(cs);
}

static int overlaps(const void *a, size_t a_bytes, const void *b, size_t b_bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return a && b && a_bytes && b_bytes && x < y + b_bytes && y < x + a_bytes;
}

int gb_cuda_updates_touch(const gb_cuda_session *cs, const void *data, size_t bytes, int writes)
{
    for (int32_t i = 0; i < cs->updates.count; i++) {
        const gb_cu_apply *u = &cs->updates.update[i];
        size_t element = gb_dtype_size((gb_dtype)u->dtype), all = (size_t)u->n * element;
        if (overlaps(data, bytes, u->var, all) || overlaps(data, bytes, u->slot0, all) ||
            overlaps(data, bytes, u->slot1, all))
            return 1;
        if (writes && (overlaps(data, bytes, u->grad, all) || overlaps(data, bytes, u->lr, element) ||
                       overlaps(data, bytes, u->beta1_power, element) || overlaps(data, bytes, u->beta2_power, element)))
            return 1;
    }
    return 0;
}
