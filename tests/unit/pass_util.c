/* tests/unit/pass_util.c - helpers shared by the pass manager unit tests. */
#include <stdio.h>
#include <string.h>

#include "pass_util.h"

static void capture(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  captured_diags *c = user;
  if (c->n >= 16)
    return;
  c->sev[c->n] = d->severity;
  c->col[c->n] = d->loc.col;
  snprintf(c->msg[c->n], sizeof c->msg[0], "%s", d->message);
  c->n++;
}

void pass_test_capture(qir_context *ctx, captured_diags *c) {
  memset(c, 0, sizeof *c);
  qir_diag_set_handler(ctx, capture, c, NULL, NULL);
}

qir_module *pass_test_module(qir_context *ctx, unsigned n) {
  qir_module *m = qir_module_create(ctx);
  int64_t dims[] = {4};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 1, dims);
  for (unsigned i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "f%u", i);
    qir_func *f = qir_func_create(m, name, qir_loc_unknown(), 1, &t, NULL, 1,
                                  &t);
    qir_builder b;
    qir_builder_init(&b, ctx);
    qir_builder_set_end(&b, &f->body);
    qir_value *x = f->body.args[0];
    qir_value *r = qir_build_value(&b, QIR_OP_RELU, 1, &x, 0, NULL);
    qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_RETURN), 1, &r, 0, NULL, 0,
                    NULL);
  }
  return m;
}
