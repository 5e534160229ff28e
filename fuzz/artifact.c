/* fuzz/artifact.c - the NPU artifact loader.  An artifact that loads is
 * also printed (assembly, cost estimate) and prepared for the emulator,
 * which parses its CPU functions. */
#include <stdio.h>

#include "fuzz/fuzz.h"
#include "qir/npu.h"

static FILE *null_output(void) {
  static FILE *out;
  if (!out)
    out = fopen("/dev/null", "w");
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  qir_artifact *a = qir_artifact_read_buffer(ctx, data, size, "fuzz.npu");
  if (a) {
    qir_artifact_print_asm(a, null_output());
    qir_artifact_print_cost(a, null_output());
    qir_emu *e = qir_emu_create(ctx, a);
    if (e)
      qir_emu_destroy(e);
    qir_artifact_free(a);
  }
  qir_context_destroy(ctx);
  return 0;
}
