/* fuzz/fuzz-common.c - helpers shared by the fuzz targets. */
#include "fuzz/fuzz.h"

static void drop_diagnostic(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  (void)d;
  (void)user;
}

qir_context *fuzz_context(void) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, drop_diagnostic, NULL, NULL, NULL);
  return ctx;
}
