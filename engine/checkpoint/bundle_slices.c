/* A partitioned tensor's slices (TensorFlow's partitioned variables): each slice is an index entry
 * of its own, keyed as TensorFlow's checkpoint::EncodeTensorNameSlice keys it, with its own data and
 * CRC; the index is checked for them at open, and a read assembles the whole tensor from them. */
#include <stdlib.h>
#include <string.h>

#include "gradboard/crc32c.h"
#include "internal/bundle_reader_impl.h"
#include "internal/error.h"

/* TensorFlow's OrderedCode encodings, as checkpoint::EncodeTensorNameSlice uses them: an
 * unsigned number as its byte count then its big-endian bytes; a string with 0x00 and 0xff
 * escaped, ended by 00 01; a signed number in 1..10 bytes whose leading bits give the length. */
static size_t put_number(uint8_t *out, uint64_t v)
{
    int len = 0;
    for (uint64_t x = v; x; x >>= 8) len++;
    out[0] = (uint8_t)len;
    for (int k = 0; k < len; k++) out[1 + k] = (uint8_t)(v >> (8 * (len - 1 - k)));
    return (size_t)len + 1;
}

static size_t put_string(uint8_t *out, const uint8_t *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        out[o++] = s[i];
        if (s[i] == 0x00) out[o++] = 0xff;
        else if (s[i] == 0xff) out[o++] = 0x00;
    }
    out[o++] = 0x00, out[o++] = 0x01;
    return o;
}

static size_t put_signed(uint8_t *out, int64_t v)
{
    static const uint8_t header[11][2] = {{0, 0},    {0x80, 0}, {0xc0, 0}, {0xe0, 0},    {0xf0, 0},   {0xf8, 0},
                                          {0xfc, 0}, {0xfe, 0}, {0xff, 0}, {0xff, 0x80}, {0xff, 0xc0}};
    uint64_t magnitude = v < 0 ? ~(uint64_t)v : (uint64_t)v;
    int bits = 0;
    for (uint64_t x = magnitude; x; x >>= 1) bits++;
    size_t len = (size_t)(bits + 7) / 7; /* n bytes hold 7n - 1 bits besides the sign */
    uint8_t buf[10];
    buf[0] = buf[1] = v < 0 ? 0xff : 0x00;
    for (int k = 0; k < 8; k++) buf[2 + k] = (uint8_t)((uint64_t)v >> (8 * (7 - k)));
    uint8_t *begin = buf + sizeof buf - len;
    begin[0] ^= header[len][0];
    if (len > 1) begin[1] ^= header[len][1];
    memcpy(out, begin, len);
    return len;
}

/* The index entry whose key is key (bytewise order, entry 0 is the header), or 0. */
static size_t find_key(const gb_sstable_entry *table, size_t n, const uint8_t *key, size_t key_len)
{
    size_t lo = 1, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, common = table[mid].key_len < key_len ? table[mid].key_len : key_len;
        int c = memcmp(table[mid].key, key, common);
        if (c == 0) c = table[mid].key_len < key_len ? -1 : table[mid].key_len > key_len;
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* Each slice must lie inside e, be stored as an entry of e's dtype and the slice's shape, inside
 * its data file; together they must cover e exactly once. */
gb_status gb_bundle_load_slices(gb_bundle_reader *r, gb_bundle_entry *e, const gb_sstable_entry *table, size_t n,
                             size_t at, Gbpb__BundleEntryProto *const *protos, const char *index_path)
{
    const Gbpb__BundleEntryProto *p = protos[at];
    size_t esize = gb_tf_dtype_size(e->dtype), first = r->n_slices;
    if (e->rank == 0) return gb_fail(GB_ECORRUPT, "%s: tensor %s: a scalar cannot be partitioned", index_path, e->name);
    uint8_t *key = malloc(1 + 2 * table[at].key_len + 2 + 9 + (size_t)e->rank * 20);
    if (!key) return gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    gb_status st = GB_OK;
    int64_t covered = 0;
    e->size = 0;
    for (size_t k = 0; k < p->n_slices && st == GB_OK; k++) {
        const Gbpb__TensorSliceProto *sp = p->slices[k];
        if (sp->n_extent != (size_t)e->rank) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu has %zu dimensions, the tensor %d", index_path, e->name, k,
                         sp->n_extent, e->rank);
            break;
        }
        bundle_slice *s = &r->slices[r->n_slices];
        int64_t *start = r->slice_extents + r->n_extents, *length = start + e->rank;
        size_t key_len = 0;
        key[key_len++] = 0x00; /* put_number(0): every slice key starts with it */
        key_len += put_string(key + key_len, table[at].key, table[at].key_len);
        key_len += put_number(key + key_len, (uint64_t)e->rank);
        s->elements = 1;
        for (int d = 0; d < e->rank && st == GB_OK; d++) {
            const Gbpb__TensorSliceProto__Extent *x = sp->extent[d];
            int has_length = x->has_length_case == GBPB__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
            start[d] = x->start;
            length[d] = has_length ? x->length : e->dims[d] - x->start; /* no length: to the end */
            if (start[d] < 0 || start[d] > e->dims[d] || length[d] < 0 || length[d] > e->dims[d] - start[d])
                st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu lies outside the tensor", index_path, e->name, k);
            key_len += put_signed(key + key_len, start[d]);
            key_len += put_signed(key + key_len, has_length ? x->length : -1);
            s->elements *= length[d];
        }
        if (st != GB_OK) break;
        size_t j = find_key(table, n, key, key_len);
        const Gbpb__BundleEntryProto *q = j ? protos[j] : NULL;
        int same_shape = q && q->shape && q->shape->n_dim == (size_t)e->rank;
        for (int d = 0; same_shape && d < e->rank; d++) same_shape = q->shape->dim[d]->size == length[d];
        if (!q) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu is missing from the index", index_path, e->name, k);
        } else if ((int)q->dtype != e->dtype || !same_shape || q->n_slices) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu has another dtype or shape than its place", index_path,
                         e->name, k);
        } else if (q->offset < 0 || q->size < 0 || q->shard_id < 0 || q->shard_id >= r->num_shards ||
                   (uint64_t)q->offset > r->shard_sizes[q->shard_id] ||
                   (uint64_t)q->size > r->shard_sizes[q->shard_id] - (uint64_t)q->offset) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu has a bad offset, size or shard", index_path, e->name, k);
        } else if (esize && (uint64_t)s->elements * esize != (uint64_t)q->size) {
            st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slice %zu: invalid size in bundle entry", index_path, e->name, k);
        }
        for (size_t other = first; other < r->n_slices && st == GB_OK; other++) {
            const bundle_slice *o = &r->slices[other];
            int overlap = s->elements > 0 && o->elements > 0;
            for (int d = 0; overlap && d < e->rank; d++)
                overlap = start[d] < o->start[d] + o->length[d] && o->start[d] < start[d] + length[d];
            if (overlap) st = gb_fail(GB_ECORRUPT, "%s: tensor %s: slices %zu and %zu overlap", index_path, e->name, other - first, k);
        }
        if (st != GB_OK) break;
        s->start = start, s->length = length;
        s->offset = (uint64_t)q->offset, s->size = (uint64_t)q->size, s->shard = q->shard_id;
        s->crc32c = gb_crc32c_unmask(q->crc32c);
        r->n_slices++, r->n_extents += 2 * (size_t)e->rank;
        covered += s->elements;
        e->size += s->size;
    }
    free(key);
    if (st == GB_OK && covered != e->elements)
        st = gb_fail(GB_ECORRUPT, "%s: tensor %s: its slices hold %lld of its %lld elements", index_path, e->name,
                     (long long)covered, (long long)e->elements);
    return st;
}

/* Copies a slice's elements (row-major, dense) to their places in the whole tensor at dst. */
static void place_slice(uint8_t *dst, const uint8_t *src, const gb_bundle_entry *e, const bundle_slice *s, size_t esize,
                        int64_t *index)
{
    int last = e->rank - 1;
    size_t run = (size_t)s->length[last] * esize; /* the slice's innermost rows are contiguous in both */
    for (int d = 0; d < last; d++) index[d] = 0;
    for (;;) {
        int64_t at = 0;
        for (int d = 0; d < e->rank; d++) at = at * e->dims[d] + s->start[d] + (d < last ? index[d] : 0);
        memcpy(dst + (size_t)at * esize, src, run);
        src += run;
        int d = last - 1;
        while (d >= 0 && ++index[d] == s->length[d]) index[d--] = 0;
        if (d < 0) return;
    }
}

gb_status gb_bundle_read_slices(gb_bundle_reader *r, const gb_bundle_entry *e, uint8_t *buf)
{
    size_t i = (size_t)(e - r->entries), esize = gb_tf_dtype_size(e->dtype);
    int64_t *index = malloc((size_t)e->rank * sizeof *index);
    gb_status st = index ? GB_OK : gb_fail(GB_ENOMEM, "checkpoint: out of memory");
    for (size_t k = r->first_slice[i]; k < r->first_slice[i + 1] && st == GB_OK; k++) {
        const bundle_slice *s = &r->slices[k];
        if (s->elements == 0) continue;
        uint8_t *part = malloc((size_t)s->size);
        st = part ? gb_bundle_read_stored(r, e->name, s->shard, s->offset, s->size, part) : gb_fail(GB_ENOMEM, "checkpoint: out of memory");
        if (st == GB_OK && r->last_crc != s->crc32c)
            st = gb_fail(GB_ECORRUPT,
                         "checkpoint %s: tensor %s: slice %zu (bytes %llu..%llu of shard %d): checksum does not match "
                         "(stored 0x%08x, computed 0x%08x)",
                         r->prefix, e->name, k - r->first_slice[i], (unsigned long long)s->offset,
                         (unsigned long long)(s->offset + s->size), s->shard, s->crc32c, r->last_crc);
        if (st == GB_OK) place_slice(buf, part, e, s, esize, index);
        free(part);
    }
    free(index);
    return st;
}
