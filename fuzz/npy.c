/* fuzz/npy.c - the .npy reader.  A file that reads is encoded again and
 * must read back. */
#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "qir/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qir_context *ctx = fuzz_context();
  qir_tensor t;
  if (qir_npy_read_buffer(ctx, "fuzz.npy", data, size, &t)) {
    size_t len;
    void *bytes = qir_npy_encode(&t, &len);
    qir_tensor back;
    if (!qir_npy_read_buffer(ctx, "encoded.npy", bytes, len, &back))
      abort(); /* the writer made a file its own reader rejects */
    qir_tensor_free_data(&back);
    free(bytes);
    qir_tensor_free_data(&t);
  }
  qir_context_destroy(ctx);
  return 0;
}
