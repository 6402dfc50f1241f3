/* idx.h: the IDX files of MNIST and Fashion-MNIST (gzip-compressed, as Debian ships them).
 *
 *   fm_idx images;
 *   char err[256];
 *   if (fm_idx_load("train-images-idx3-ubyte.gz", 3, &images, err, sizeof err) != 0) die(err);
 *   // images.dims = {60000, 28, 28}, images.data: 60000 * 28 * 28 bytes
 *   fm_idx_free(&images);
 *
 * An IDX file is a big-endian header (two zero bytes, the element type 0x08 = unsigned byte, the
 * rank) then one 32-bit size per dimension, then the elements. Anything else is refused with a
 * message: a wrong magic, a rank other than the one expected, sizes that overflow or exceed the
 * limit, data shorter or longer than the header says.
 */
#ifndef FM_IDX_H
#define FM_IDX_H
#include <stddef.h>
#include <stdint.h>

enum { FM_IDX_MAX_RANK = 4 };
/* The most bytes of elements an IDX file may hold here (the training images take 47 MB). */
#define FM_IDX_MAX_BYTES ((size_t)1 << 30)

typedef struct fm_idx {
    int rank;
    uint32_t dims[FM_IDX_MAX_RANK];
    size_t count;    /* the product of dims */
    uint8_t *data;   /* count bytes, owned (fm_idx_free) */
} fm_idx;

/* Parses an uncompressed IDX image of len bytes whose rank must be `rank` (1 labels, 3 images).
 * On success fills *out (data copied) and returns 0; else returns -1 with a message in err. */
int fm_idx_parse(const uint8_t *bytes, size_t len, int rank, fm_idx *out, char *err, size_t err_size);
/* Reads a gzip-compressed (or plain) IDX file and parses it, naming the file in any error. */
int fm_idx_load(const char *path, int rank, fm_idx *out, char *err, size_t err_size);
void fm_idx_free(fm_idx *idx);

#endif
