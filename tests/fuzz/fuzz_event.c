/* The event parser: the input is one record's payload, framed correctly (after a file_version
 * event) so the fuzzer spends its time in the protobuf parsing and value decoding, then every
 * accessor is called on every event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "gradboard/crc32c.h"
#include "gradboard/event_reader.h"
#include "gradboard/tfrecord.h"

static size_t frame(uint8_t *out, const uint8_t *payload, size_t len)
{
    gb_record_frame_header(out, len);
    memcpy(out + GB_RECORD_HEADER_BYTES, payload, len);
    gb_record_frame_footer(out + GB_RECORD_HEADER_BYTES + len, payload, len);
    return GB_RECORD_HEADER_BYTES + len + GB_RECORD_FOOTER_BYTES;
}

static void touch(const char *s, size_t len)
{
    volatile char sink = s && len ? s[0] ^ s[len - 1] : 0;
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)gb_event_check(data, size);
    /* a file_version event: field 1 (wall_time, double) and field 3 (file_version, "brain.Event:2") */
    static const uint8_t version[] = {0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, 13, 'b', 'r', 'a', 'i', 'n', '.',
                                      'E', 'v', 'e', 'n', 't', ':', '2'};
    uint8_t *file = malloc(2 * (GB_RECORD_HEADER_BYTES + GB_RECORD_FOOTER_BYTES) + sizeof version + size);
    if (!file) return 0;
    size_t n = frame(file, version, sizeof version);
    n += frame(file + n, data, size);
    fuzz_write("run/events.out.tfevents.1.fuzz", file, n);
    free(file);

    char path[512];
    snprintf(path, sizeof path, "%s/run", fuzz_dir());
    gb_event_reader *r;
    if (gb_event_reader_open(&r, path) != GB_OK) return 0;
    const gb_event *ev;
    while (gb_event_reader_next(r, &ev) == GB_OK && ev) {
        (void)gb_event_step(ev);
        size_t len;
        const uint8_t *payload = gb_event_payload(ev, &len);
        touch((const char *)payload, len);
        const char *v = gb_event_file_version(ev);
        touch(v, v ? strlen(v) : 0);
        (void)gb_event_session_status(ev);
        for (size_t i = 0; i < gb_event_value_count(ev); i++) {
            const char *tag = gb_event_value_tag(ev, i), *plugin = gb_event_value_plugin(ev, i);
            touch(tag, tag ? strlen(tag) : 0);
            touch(plugin, plugin ? strlen(plugin) : 0);
            (void)gb_event_value_kind(ev, i);
            if (gb_event_value_tag_index(ev, i) >= gb_event_reader_tag_count(r)) abort();
            double scalar;
            (void)gb_event_value_scalar(ev, i, &scalar);
            const char *s = gb_event_value_string(ev, i, &len);
            touch(s, s ? len : 0);
        }
    }
    for (size_t t = 0; t < gb_event_reader_tag_count(r); t++) touch(gb_event_reader_tag(r, t), 1);
    gb_event_reader_close(r);
    return 0;
}
