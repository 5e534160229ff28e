/* qir/io.h - the .qir text format (parse and print) and safe output files. */
#ifndef QIR_IO_H
#define QIR_IO_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a .qir file ("-" reads stdin).  On error emits diagnostics
 * (`file:line:col: error: ...`) and returns NULL.  The source text is
 * registered with the diagnostics engine so errors show a caret.  The
 * module is not verified; call qir_verify_module. */
qir_module *qir_parse_file(qir_context *ctx, const char *path);
/* Parses `len` bytes named `filename`; line numbers start at first_line
 * (1 normally; later for the chunks of -split-input-file). */
qir_module *qir_parse_buffer(qir_context *ctx, const char *filename,
                             const char *buf, size_t len, unsigned first_line);

typedef struct qir_print_options {
  /* Dense attributes larger than this many bytes print as
   * dense_resource<name> with the data in the `resources` section at the
   * end of the module.  0 means never out of line. */
  size_t inline_limit;
  bool elide_constants; /* out-of-line data printed as __elided__ */
  bool print_locs;      /* loc("file":line:col) after each op */
} qir_print_options;

/* inline_limit 64, nothing elided, no locations. */
void qir_print_options_init(qir_print_options *o);

void qir_print_module(FILE *out, qir_module *m, const qir_print_options *o);
/* One op on one line as it would appear in its function (names of values
 * are their own names or %<aux-less number>); for debugging and messages. */
void qir_print_op(FILE *out, qir_op *op);
/* The text of the module in a malloc'd string (*len receives its length). */
char *qir_print_module_to_string(qir_module *m, const qir_print_options *o,
                                 size_t *len);

/* ---- Safe output files -------------------------------------------------
 * Outputs go to a temporary file in the destination's folder and are
 * renamed over the destination only on success, so a failing command
 * leaves no file behind and never truncates an existing one. */
typedef struct qir_output {
  FILE *fp;
  char *path;     /* final path; NULL for stdout */
  char *tmp_path; /* temporary path; NULL when writing a device or pipe */
} qir_output;

/* Opens `path` ("-" is stdout).  On failure emits an error and returns
 * false. */
bool qir_output_open(qir_context *ctx, qir_output *o, const char *path,
                     bool binary);
/* Flushes, closes and renames into place; false (with an error) on I/O
 * failure, after removing the temporary. */
bool qir_output_commit(qir_context *ctx, qir_output *o);
/* Closes and removes the temporary. */
void qir_output_abort(qir_output *o);

/* Prints the module to `path` through a qir_output. */
bool qir_write_module(qir_context *ctx, const char *path, qir_module *m,
                      const qir_print_options *o);

/* Reads a whole file ("-" is stdin) into a malloc'd NUL-terminated buffer.
 * Emits `error: cannot open 'path': reason` and returns NULL on failure. */
char *qir_read_file(qir_context *ctx, const char *path, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
