/* Audio summaries: 16-bit PCM WAV files in a plugin "audio" string tensor [1]. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summaries.h"
#include "internal/error.h"
#include "internal/writer_impl.h"
#include "plugin_data.pb-c.h"

static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

gb_status gb_wav_encode(const float *samples, size_t frames, int channels, int sample_rate, uint8_t **wav, size_t *len)
{
    *wav = NULL, *len = 0;
    if ((!samples && frames) || channels < 1 || channels > 64 || sample_rate <= 0)
        return gb_fail(GB_EINVAL, "wav: need samples, 1..64 channels and a sample rate > 0");
    /* The RIFF size (36 + data bytes) is a uint32; frames is checked before it is multiplied,
     * since a 64-bit product can wrap to a small size. The byte rate (sample_rate * block align)
     * is kept below 2^31, as many WAV readers take it as a signed 32-bit number. */
    uint32_t block_align = (uint32_t)channels * 2;
    if (frames > (UINT32_MAX - 44) / block_align)
        return gb_fail(GB_EINVAL, "wav: %zu frames of %d channels do not fit a WAV file (4 GiB)", frames, channels);
    if ((uint32_t)sample_rate > (uint32_t)INT32_MAX / block_align)
        return gb_fail(GB_EINVAL, "wav: %d Hz with %d channels overflows the header's byte rate (%d bytes/s at most)",
                       sample_rate, channels, INT32_MAX);
    uint64_t data_bytes = (uint64_t)frames * block_align;
    uint8_t *out = malloc(44 + (size_t)data_bytes);
    if (!out) return gb_fail(GB_ENOMEM, "wav: out of memory");
    memcpy(out, "RIFF", 4);
    put_le32(out + 4, (uint32_t)(36 + data_bytes));
    memcpy(out + 8, "WAVEfmt ", 8);
    put_le32(out + 16, 16);                                        /* fmt chunk size */
    put_le16(out + 20, 1);                                         /* PCM */
    put_le16(out + 22, (uint16_t)channels);
    put_le32(out + 24, (uint32_t)sample_rate);
    put_le32(out + 28, (uint32_t)sample_rate * block_align);       /* bytes per second */
    put_le16(out + 32, (uint16_t)block_align);
    put_le16(out + 34, 16);                                        /* bits per sample */
    memcpy(out + 36, "data", 4);
    put_le32(out + 40, (uint32_t)data_bytes);
    for (size_t i = 0; i < frames * (size_t)channels; i++) {
        float v = samples[i];
        v = v > 1 ? 1 : v < -1 ? -1 : v == v ? v : 0;
        put_le16(out + 44 + 2 * i, (uint16_t)(int16_t)lrintf(v * 32767.0f));
    }
    *wav = out;
    *len = 44 + (size_t)data_bytes;
    return GB_OK;
}

gb_status gb_summary_audio(gb_writer *w, const char *tag, int64_t step, const float *samples, size_t frames,
                           int channels, int sample_rate)
{
    uint8_t *wav;
    size_t len;
    gb_status st = gb_wav_encode(samples, frames, channels, sample_rate, &wav, &len);
    if (st != GB_OK) return st;
    /* a blob sequence of one clip: rank 1, as the data class requires (no label column) */
    ProtobufCBinaryData clip = {len, wav};
    Gbpb__TensorShapeProto__Dim dim = GBPB__TENSOR_SHAPE_PROTO__DIM__INIT;
    dim.size = 1;
    Gbpb__TensorShapeProto__Dim *dims[1] = {&dim};
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = dims;
    Gbpb__TensorProto tensor = GBPB__TENSOR_PROTO__INIT;
    tensor.dtype = GBPB__DATA_TYPE__DT_STRING;
    tensor.tensor_shape = &shape;
    tensor.n_string_val = 1;
    tensor.string_val = &clip;
    Gbpb__AudioPluginData content = GBPB__AUDIO_PLUGIN_DATA__INIT;
    content.encoding = GBPB__AUDIO_PLUGIN_DATA__ENCODING__WAV;
    uint8_t content_bytes[16];
    size_t content_len = gbpb__audio_plugin_data__pack(&content, content_bytes);
    st = gb_writer_write_tensor_value(w, step, tag, &tensor, "audio", content_bytes, content_len,
                                      GBPB__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE);
    free(wav);
    return st;
}
