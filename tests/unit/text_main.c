/* tests/unit/text_main.c - the test_text runner and its helpers. */
#include <stdio.h>
#include <string.h>

#include "tests/unit/text_test.h"

static void capture(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  text_diags *td = user;
  unsigned i = td->count++;
  if (i >= 8)
    return;
  td->sev[i] = d->severity;
  td->line[i] = d->loc.line;
  td->col[i] = d->loc.col;
  snprintf(td->msg[i], sizeof td->msg[i], "%s", d->message);
}

qir_context *text_context(text_diags *d) {
  memset(d, 0, sizeof *d);
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, capture, d, NULL, NULL);
  return ctx;
}

qir_module *text_parse(qir_context *ctx, const char *src) {
  return qir_parse_buffer(ctx, "t.qir", src, strlen(src), 1);
}

char *text_print(qir_module *m) {
  qir_print_options o;
  qir_print_options_init(&o);
  return qir_print_module_to_string(m, &o, NULL);
}

QIR_UNIT_MAIN(text_parse_suite, text_print_suite, text_fuzz_suite)
