/* tests/unit/text_test.h - shared helpers of the .qir text format tests. */
#ifndef QIR_TESTS_UNIT_TEXT_TEST_H
#define QIR_TESTS_UNIT_TEXT_TEST_H

#include "tests/unit/unit.h"

/* Diagnostics captured instead of printed. */
typedef struct text_diags {
  unsigned count;
  qir_severity sev[8];
  unsigned line[8], col[8];
  char msg[8][256];
} text_diags;

/* A context whose diagnostics go into *d. */
qir_context *text_context(text_diags *d);
/* Parses src (named "t.qir") with diagnostics captured. */
qir_module *text_parse(qir_context *ctx, const char *src);
/* Prints with the default options into a malloc'd string. */
char *text_print(qir_module *m);

Suite *text_parse_suite(void);
Suite *text_print_suite(void);
Suite *text_fuzz_suite(void);

#endif
