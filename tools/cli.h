/* The gradboard command-line tool: shared pieces of its subcommands. */
#ifndef GB_TOOLS_CLI_H
#define GB_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gradboard/event_reader.h"

/* Exit codes of every subcommand. */
enum { EXIT_OK = 0, EXIT_DATA_ERROR = 1, EXIT_USAGE = 2 };

int cmd_events(int argc, char **argv);
int cmd_ckpt(int argc, char **argv);

/* safetensors.c: the export and import of `gradboard ckpt`; they return exit codes. */
int ckpt_export_safetensors(const char *prefix, const char *out_path);
int ckpt_import_safetensors(const char *in_path, const char *prefix);

/* The per-tag summary table of one run that `gradboard events` prints: rows are the run's tags
 * in order of first appearance (gb_event_value_tag_index). */
typedef struct events_table events_table;

/* Returns a new empty table (free with events_table_free), NULL when out of memory. */
events_table *events_table_new(void);
/* Counts every value of ev. Returns 0, or -1 when out of memory. */
int events_table_add(events_table *t, const gb_event *ev);
/* Prints the table, or only the row of tag when it is not NULL (nothing when the run lacks it);
 * tag names come from the reader that produced the events. Returns the number of rows printed. */
size_t events_table_print(const events_table *t, const gb_event_reader *r, const char *tag, FILE *out);
size_t events_table_event_count(const events_table *t);
void events_table_free(events_table *t);

/* JSON output: a string with escapes (invalid UTF-8 becomes U+FFFD), and a number written so
 * that it parses back to the same double; NaN and infinities become the strings "NaN",
 * "Infinity" and "-Infinity", as TensorBoard's HTTP API writes them. */
void json_string(FILE *out, const char *s, size_t len);
void json_number(FILE *out, double v);

/* The shortest decimal form of v that reads back as the same double. buf holds >= 32 bytes. */
void format_double(char *buf, size_t size, double v);

/* Like format_double, but a value that is exactly a float32 (as TensorBoard stores scalars) gets
 * the shortest form that reads back as that float32: 0.1, not 0.10000000149011612. */
void format_value(char *buf, size_t size, double v);

#endif
