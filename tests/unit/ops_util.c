/* tests/unit/ops_util.c - fixtures for the op unit tests. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ops_util.h"

static void capture(qir_context *ctx, const qir_diag *d, void *user) {
  ops_fx *fx = user;
  (void)ctx;
  if (d->severity != QIR_SEV_ERROR)
    return;
  size_t len = strlen(fx->diags);
  snprintf(fx->diags + len, sizeof fx->diags - len, "%s\n", d->message);
  fx->num_errors++;
}

const qir_type *ops_type(ops_fx *fx, const char *spec) {
  const char *colon = strchr(spec, ':');
  ck_assert_ptr_nonnull(colon);
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  for (const char *p = spec; p < colon;) {
    if (*p == '?') {
      dims[rank++] = QIR_DYN;
      p++;
    } else {
      char *end;
      dims[rank++] = strtoll(p, &end, 10);
      p = end;
    }
    if (*p == 'x')
      p++;
  }
  const char *el = colon + 1;
  const qir_type *elem;
  if (strncmp(el, "!q.", 3) == 0) {
    qir_scalar s;
    ck_assert(qir_scalar_from_name(el + 3, strlen(el + 3), &s));
    elem = qir_quant_type_simple(fx->ctx, s, 0.5, 0);
  } else {
    qir_scalar s;
    ck_assert(qir_scalar_from_name(el, strlen(el), &s));
    elem = qir_scalar_type(fx->ctx, s);
  }
  return qir_tensor_type(fx->ctx, elem, rank, dims);
}

void ops_fx_init(ops_fx *fx, ...) {
  memset(fx, 0, sizeof *fx);
  fx->ctx = qir_context_create();
  qir_diag_set_handler(fx->ctx, capture, fx, NULL, NULL);
  fx->m = qir_module_create(fx->ctx);
  const qir_type *types[16];
  unsigned n = 0;
  va_list ap;
  va_start(ap, fx);
  for (const char *s; n < 16 && (s = va_arg(ap, const char *));)
    types[n++] = ops_type(fx, s);
  va_end(ap);
  fx->f = qir_func_create(fx->m, "main", qir_loc_unknown(), n, types, NULL, 0,
                          NULL);
  ck_assert_ptr_nonnull(fx->f);
  qir_builder_init(&fx->b, fx->ctx);
  qir_builder_set_end(&fx->b, &fx->f->body);
}

void ops_fx_fini(ops_fx *fx) {
  qir_module_destroy(fx->m);
  qir_context_destroy(fx->ctx);
}

qir_value *ops_arg(ops_fx *fx, unsigned i) { return fx->f->body.args[i]; }

const char *ops_type_text(ops_fx *fx, const qir_type *t) {
  static char buf[4][256];
  static unsigned next;
  char *b = buf[next++ % 4];
  if (!t)
    return "<null>";
  qir_type_format(t, b, 256);
  (void)fx;
  return b;
}

qir_op *ops_build(ops_fx *fx, unsigned id, unsigned nops, qir_value **ops,
                  unsigned nattrs, const qir_named_attr *attrs) {
  return qir_build_id(&fx->b, id, nops, ops, nattrs, attrs);
}

qir_op *ops_build_typed(ops_fx *fx, unsigned id, unsigned nops,
                        qir_value **ops, unsigned nres,
                        const qir_type **types, unsigned nattrs,
                        const qir_named_attr *attrs) {
  return qir_build_typed(&fx->b, qir_builtin_op(fx->ctx, id), nops, ops, nres,
                         types, nattrs, attrs);
}

qir_value *ops_const_i64(ops_fx *fx, const char *type, const int64_t *v) {
  const qir_attr *a = qir_attr_dense_from_i64(fx->ctx, ops_type(fx, type), v);
  ck_assert_ptr_nonnull(a);
  return qir_build_constant(&fx->b, a);
}

qir_value *ops_const_f64(ops_fx *fx, const char *type, const double *v) {
  const qir_attr *a = qir_attr_dense_from_f64(fx->ctx, ops_type(fx, type), v);
  ck_assert_ptr_nonnull(a);
  return qir_build_constant(&fx->b, a);
}

void ops_return(ops_fx *fx, unsigned n, qir_value **vals) {
  const qir_type *types[16];
  for (unsigned i = 0; i < n; i++)
    types[i] = vals[i]->type;
  qir_func_set_result_types(fx->f, n, types);
  qir_build_typed(&fx->b, qir_builtin_op(fx->ctx, QIR_OP_RETURN), n, vals, 0,
                  NULL, 0, NULL);
}

const qir_attr *ops_fold(qir_op *op) {
  const qir_attr *in[16] = {NULL}, *out[4] = {NULL};
  ck_assert_uint_le(op->num_operands, 16);
  for (unsigned i = 0; i < op->num_operands; i++)
    in[i] = qir_value_constant(op->operands[i].value);
  ck_assert_ptr_nonnull(op->def->fold);
  if (!op->def->fold(op, in, out))
    return NULL;
  return out[0];
}

qir_named_attr ops_ints(ops_fx *fx, const char *name, unsigned n,
                        const int64_t *v) {
  return qir_named(fx->ctx, name, qir_attr_ints(fx->ctx, n, v));
}

qir_named_attr ops_int(ops_fx *fx, const char *name, int64_t v) {
  return qir_named(fx->ctx, name, qir_attr_int(fx->ctx, v));
}

qir_named_attr ops_str(ops_fx *fx, const char *name, const char *s) {
  return qir_named(fx->ctx, name, qir_attr_cstr(fx->ctx, s));
}
