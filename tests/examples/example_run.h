/* Test helpers for the examples: running one as a user would, and reading back what it logged. */
#ifndef GB_TEST_EXAMPLE_RUN_H
#define GB_TEST_EXAMPLE_RUN_H

#include <stddef.h>
#include <stdint.h>

/* Runs "<GB_EXAMPLE> <args>" through the shell (args may redirect: "--bad 2>&1"). Its stdout
 * goes to *out (malloc'd, NUL-terminated) when out is non-NULL. Returns the exit status. */
int run_example(const char *args, char **out);

/* The run's values of a scalar tag, in the order logged: up to max steps and values; returns
 * how many there are (more than max when they do not all fit). Fails the test on a read error. */
size_t read_scalars(const char *logdir, const char *tag, int64_t *steps, double *values, size_t max);

/* How many graph events the run holds. */
size_t count_graphs(const char *logdir);

/* A whole file as a NUL-terminated string (fails the test when it cannot be read). */
char *read_text_file(const char *path);

#endif
