/* fuzz/onnx-import.c - the ONNX importer (protobuf decoding, graph
 * checks, lowering, constant folding and the verifier it runs). */
#include "fuzz/fuzz.h"
#include "qir/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  qir_onnx_import_options o;
  qir_onnx_import_options_init(&o);
  qir_module *m = qir_onnx_import_buffer(ctx, "fuzz.onnx", data, size, NULL, &o);
  if (m)
    qir_module_destroy(m);
  qir_context_destroy(ctx);
  return 0;
}
