/* fuzz/build-config.c - the qir-build configuration reader (JSON through
 * json-c, YAML through libyaml, then the key checks).  A configuration that
 * reads is also printed back as JSON, which must read again. */
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "qir/build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  /* The first byte picks the syntax (the reader decides by the name). */
  const char *name = size && data[0] == '{' ? "fuzz.json" : "fuzz.yaml";
  qir_build_config *c =
      qir_build_config_parse(ctx, name, (const char *)data, size);
  if (c) {
    size_t len;
    char *json = qir_build_config_to_json(c, &len);
    qir_build_config *back = qir_build_config_parse(ctx, "back.json", json, len);
    if (back)
      qir_build_config_free(back);
    free(json);
    qir_build_config_free(c);
  }
  qir_context_destroy(ctx);
  return 0;
}
