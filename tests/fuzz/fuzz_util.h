/* Shared by the fuzz targets: a private scratch directory (made once, removed at exit) and a
 * file writer, since the readers under test take paths. */
#ifndef GB_FUZZ_UTIL_H
#define GB_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The scratch directory: under /dev/shm when there is one, so the file system is memory. */
const char *fuzz_dir(void);

/* Writes len bytes to fuzz_dir()/name (made or replaced); aborts if the file cannot be written,
 * since then the target would test nothing. Returns the full path (static, until the next call). */
const char *fuzz_write(const char *name, const uint8_t *data, size_t len);

/* Removes every file and directory under fuzz_dir() (the directory itself stays). */
void fuzz_clear(void);

/* Reads a little-endian u32 from the front of the input, consuming it (0 when too short). */
uint32_t fuzz_take_u32(const uint8_t **data, size_t *len);

#endif
