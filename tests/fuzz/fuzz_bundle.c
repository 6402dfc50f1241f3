/* The checkpoint reader on a hostile pair of files: a u32 gives the index's length, the rest of
 * the input is the data file. Every entry the index accepts is read (sizes are bounded by the
 * data file, which the reader checks at open), strings included. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "gradboard/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t index_len = fuzz_take_u32(&data, &size);
    if (index_len > size) index_len = size;
    fuzz_clear();
    fuzz_write("ckpt.index", data, index_len);
    fuzz_write("ckpt.data-00000-of-00001", data + index_len, size - index_len);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s/ckpt", fuzz_dir());
    gb_bundle_reader *r;
    if (gb_bundle_reader_open(&r, prefix) != GB_OK) return 0;
    for (size_t i = 0; i < gb_bundle_reader_count(r); i++) {
        const gb_bundle_entry *e = gb_bundle_reader_entry(r, i);
        if (gb_bundle_reader_find(r, e->name) != e) abort();
        if (e->size > size) abort(); /* open promised every entry lies inside the data file */
        if (e->dtype == GB_DT_STRING) {
            char **strings;
            size_t *lens;
            if (gb_bundle_reader_read_strings(r, e, &strings, &lens) == GB_OK) free(strings), free(lens);
        } else {
            void *buf = malloc(e->size ? (size_t)e->size : 1);
            if (buf) (void)gb_bundle_reader_read(r, e, buf, (size_t)e->size), free(buf);
        }
    }
    gb_bundle_reader_close(r);
    return 0;
}
