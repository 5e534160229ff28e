/* frontends/qir/parse.c - entry points of the .qir parser. */
#include <stdlib.h>

#include "qir/qir.h"

qir_module *qir_parse_buffer(qir_context *ctx, const char *filename,
                             const char *buf, size_t len, unsigned first_line) {
  (void)buf;
  (void)len;
  qir_emit_error(ctx, qir_loc_make(ctx, filename, first_line, 1),
                 "the .qir parser is not available yet");
  return NULL;
}

qir_module *qir_parse_file(qir_context *ctx, const char *path) {
  size_t len = 0;
  char *buf = qir_read_file(ctx, path, &len);
  if (!buf)
    return NULL;
  qir_module *m = qir_parse_buffer(ctx, path, buf, len, 1);
  free(buf);
  return m;
}
