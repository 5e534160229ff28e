/* frontends/onnx/export.c - writes a qir module as an ONNX model. */
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

void *qir_onnx_export_buffer(qir_context *ctx, qir_module *m, size_t *len) {
  (void)m;
  *len = 0;
  qir_emit_error(ctx, qir_loc_unknown(), "ONNX export is not implemented yet");
  return NULL;
}

bool qir_onnx_export_file(qir_context *ctx, qir_module *m, const char *path) {
  size_t len;
  void *buf = qir_onnx_export_buffer(ctx, m, &len);
  if (!buf)
    return false;
  qir_output o;
  bool ok = qir_output_open(ctx, &o, path, true);
  if (ok) {
    ok = fwrite(buf, 1, len, o.fp) == len;
    if (ok)
      ok = qir_output_commit(ctx, &o);
    else
      qir_output_abort(&o);
  }
  free(buf);
  return ok;
}
