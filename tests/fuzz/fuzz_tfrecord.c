/* The TFRecord reader on arbitrary bytes: every record it returns lies inside the file, and it
 * stops with an error (never a crash or a huge allocation) on bad framing, CRCs or lengths. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "gradboard/tfrecord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("records", data, size);
    gb_record_reader *r;
    if (gb_record_reader_open(&r, path) != GB_OK) return 0;
    const uint8_t *record;
    size_t len, total = 0;
    while (gb_record_reader_next(r, &record, &len) == GB_OK) {
        total += len + 16; /* 12 bytes of header, 4 of footer */
        if (total > size) abort();
        volatile uint8_t sink = len ? record[0] ^ record[len - 1] : 0;
        (void)sink;
    }
    gb_record_reader_close(r);
    return 0;
}
