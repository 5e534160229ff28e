/* fuzz/pipeline.c - the pass-pipeline string parser (-pass=...). */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  qir_context *ctx = fuzz_context();
  qir_pipeline *pl = qir_pipeline_parse(ctx, text);
  if (pl)
    qir_pipeline_destroy(pl);
  qir_context_destroy(ctx);
  free(text);
  return 0;
}
