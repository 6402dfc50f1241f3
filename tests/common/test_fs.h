/* Test helpers: scratch directories and whole-file reads and writes. */
#ifndef GB_TEST_FS_H
#define GB_TEST_FS_H

#include <stddef.h>
#include <stdint.h>

/* The scratch directory of the running test, made and removed around each test by
 *   TestSuite(name, .init = test_dir_setup, .fini = test_dir_teardown);   */
extern char *test_dir;
void test_dir_setup(void);
void test_dir_teardown(void);

/* A gb_writer_opts clock that always returns *(double *)ctx, for exact wall times in tests. */
double test_fixed_clock(void *ctx);

/* A new empty directory under $TMPDIR (or /tmp). Returns a malloc'd path. */
char *test_tmpdir(void);

/* Removes path and everything under it. */
void test_rmtree(const char *path);

/* Reads a whole file; returns malloc'd bytes (NULL if it cannot be read). */
uint8_t *test_read_file(const char *path, size_t *len);

/* Replaces a file's contents; returns 0 on success. */
int test_write_file(const char *path, const void *data, size_t len);

/* The single regular file in dir whose name contains "tfevents"; malloc'd path or NULL. */
char *test_only_event_file(const char *dir);

/* Runs a shell command; its stdout is captured into *out (malloc'd, NUL-terminated).
 * Returns the exit status (or -1). */
int test_run(const char *command, char **out);

/* The names in dir, sorted, each followed by a space (malloc'd), or NULL when dir cannot be listed. */
char *test_listing(const char *dir);

#endif
