/* ir/print.c - the printer of the .qir text format. */
#include <stdlib.h>
#include <string.h>

#include "qir/qir.h"

void qir_print_options_init(qir_print_options *o) {
  memset(o, 0, sizeof *o);
  o->inline_limit = 64;
}

void qir_print_module(FILE *out, qir_module *m, const qir_print_options *o) {
  (void)out;
  (void)m;
  (void)o;
}

void qir_print_op(FILE *out, qir_op *op) {
  fprintf(out, "%s(...)\n", op->def->name);
}

char *qir_print_module_to_string(qir_module *m, const qir_print_options *o,
                                 size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f)
    qir_die("open_memstream failed");
  qir_print_module(f, m, o);
  fclose(f);
  if (len)
    *len = n;
  return buf;
}

bool qir_write_module(qir_context *ctx, const char *path, qir_module *m,
                      const qir_print_options *o) {
  qir_output out;
  if (!qir_output_open(ctx, &out, path, false))
    return false;
  qir_print_module(out.fp, m, o);
  return qir_output_commit(ctx, &out);
}
