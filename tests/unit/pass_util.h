/* tests/unit/pass_util.h - helpers shared by the pass manager unit tests. */
#ifndef QIR_TESTS_UNIT_PASS_UTIL_H
#define QIR_TESTS_UNIT_PASS_UTIL_H

#include "unit.h"

/* Diagnostics captured instead of printed. */
typedef struct captured_diags {
  unsigned n;
  qir_severity sev[16];
  unsigned col[16];
  char msg[16][256];
} captured_diags;

void pass_test_capture(qir_context *ctx, captured_diags *c);
/* A module with `n` functions `@f0`.. each `relu(%x)` then `return`. */
qir_module *pass_test_module(qir_context *ctx, unsigned n);

#endif
