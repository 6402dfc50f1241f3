/* The IDX parser of the Fashion-MNIST example, as labels (rank 1) and as images (rank 3): either
 * a clear error or dimensions whose product is exactly the bytes that follow the header. */
#include <stdlib.h>

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int rank = 1; rank <= 3; rank += 2) {
        fm_idx idx;
        char err[256];
        if (fm_idx_parse(data, size, rank, &idx, err, sizeof err) != 0) {
            if (!err[0]) abort(); /* an error always says why */
            continue;
        }
        size_t count = 1;
        for (int d = 0; d < idx.rank; d++) count *= idx.dims[d];
        if (idx.rank != rank || count != idx.count || 4 + 4 * (size_t)rank + count != size) abort();
        fm_idx_free(&idx);
    }
    return 0;
}
