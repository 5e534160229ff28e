/* fuzz/qir-parse.c - the .qir parser, the verifier and the printer.
 * A module that parses and verifies is printed and parsed again: the
 * printed text of a valid module must always parse. */
#include <stdlib.h>

#include "fuzz/fuzz.h"

static void reparse(qir_module *m) {
  qir_print_options po;
  qir_print_options_init(&po);
  size_t len;
  char *text = qir_print_module_to_string(m, &po, &len);
  qir_context *ctx = fuzz_context();
  qir_module *back = qir_parse_buffer(ctx, "printed.qir", text, len, 1);
  if (!back)
    abort(); /* the printer wrote text its own parser rejects */
  qir_module_destroy(back);
  qir_context_destroy(ctx);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  qir_module *m = qir_parse_buffer(ctx, "fuzz.qir", (const char *)data, size, 1);
  if (m && qir_verify_module(m))
    reparse(m);
  if (m)
    qir_module_destroy(m);
  qir_context_destroy(ctx);
  return 0;
}
