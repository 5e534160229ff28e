/* tests/unit/core_main.c - the core unit tests' runner and shared helpers. */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "core_test.h"

static void capture_handler(qir_context *ctx, const qir_diag *d, void *user) {
  diag_capture *c = user;
  qir_diag_print(ctx, d, c->fp);
}

void capture_begin(diag_capture *c, qir_context *ctx) {
  memset(c, 0, sizeof *c);
  c->ctx = ctx;
  c->fp = open_memstream(&c->buf, &c->len);
  ck_assert_ptr_nonnull(c->fp);
  qir_diag_set_handler(ctx, capture_handler, c, NULL, NULL);
}

const char *capture_text(diag_capture *c) {
  fflush(c->fp);
  return c->buf;
}

void capture_end(diag_capture *c) {
  qir_diag_set_handler(c->ctx, NULL, NULL, NULL, NULL);
  fclose(c->fp);
  free(c->buf);
  memset(c, 0, sizeof *c);
}

QIR_UNIT_MAIN(core_context_suite, core_diag_suite, core_types_suite,
              core_attrs_suite, core_ir_suite, core_output_suite)
