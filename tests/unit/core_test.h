/* tests/unit/core_test.h - shared by the core unit tests (test_core). */
#ifndef QIR_TESTS_CORE_TEST_H
#define QIR_TESTS_CORE_TEST_H

#include <stdio.h>

#include "unit.h"

/* Collects diagnostics, formatted as the default handler would print them,
 * into a string. */
typedef struct diag_capture {
  qir_context *ctx;
  FILE *fp;
  char *buf;
  size_t len;
} diag_capture;

void capture_begin(diag_capture *c, qir_context *ctx);
const char *capture_text(diag_capture *c);
void capture_end(diag_capture *c);

Suite *core_context_suite(void);
Suite *core_diag_suite(void);
Suite *core_types_suite(void);
Suite *core_attrs_suite(void);
Suite *core_ir_suite(void);
Suite *core_output_suite(void);

#endif
