/* tests/unit/passes_util.c - building small modules for the pass tests. */
#include <stdio.h>
#include <string.h>

#include "passes_util.h"

static void count_errors(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  pt *t = user;
  if (d->severity == QIR_SEV_ERROR) {
    if (!t->errors++)
      snprintf(t->first_error, sizeof t->first_error, "%s", d->message);
    snprintf(t->last_error, sizeof t->last_error, "%s", d->message);
  }
}

void pt_init(pt *t) {
  memset(t, 0, sizeof *t);
  t->ctx = qir_context_create();
  ck_assert_ptr_nonnull(t->ctx);
  qir_diag_set_handler(t->ctx, count_errors, t, NULL, NULL);
  t->m = qir_module_create(t->ctx);
  ck_assert_ptr_nonnull(t->m);
  qir_builder_init(&t->b, t->ctx);
}

void pt_fini(pt *t) {
  qir_module_destroy(t->m);
  qir_context_destroy(t->ctx);
}

const qir_type *pt_tensor(pt *t, qir_scalar s, unsigned n,
                          const int64_t *dims) {
  const qir_type *ty = qir_tensor_of(t->ctx, s, n, dims);
  ck_assert_ptr_nonnull(ty);
  return ty;
}

qir_func *pt_func(pt *t, const char *name, unsigned n, const qir_type *arg,
                  const qir_type *res) {
  const qir_type *args[8];
  const char *names[8];
  static const char *const arg_names[8] = {"x0", "x1", "x2", "x3",
                                           "x4", "x5", "x6", "x7"};
  ck_assert_uint_le(n, 8);
  for (unsigned i = 0; i < n; i++) {
    args[i] = arg;
    names[i] = arg_names[i];
  }
  qir_func *f =
      qir_func_create(t->m, name, qir_loc_unknown(), n, args, names, 1, &res);
  ck_assert_ptr_nonnull(f);
  qir_builder_set_end(&t->b, &f->body);
  return f;
}

qir_value *pt_arg(qir_func *f, unsigned i) {
  ck_assert_uint_lt(i, f->body.num_args);
  return f->body.args[i];
}

qir_op *pt_op(pt *t, unsigned id, unsigned nops, qir_value *const *ops,
              unsigned nres, const qir_type *const *types, unsigned nattrs,
              const qir_named_attr *attrs) {
  qir_op *op = qir_build_typed(&t->b, qir_builtin_op(t->ctx, id), nops, ops,
                               nres, types, nattrs, attrs);
  ck_assert_ptr_nonnull(op);
  return op;
}

qir_value *pt_op1(pt *t, unsigned id, const qir_type *type, unsigned nops,
                  qir_value *const *ops) {
  return qir_op_result(pt_op(t, id, nops, ops, 1, &type, 0, NULL), 0);
}

qir_value *pt_unary(pt *t, unsigned id, qir_value *x) {
  return pt_op1(t, id, x->type, 1, &x);
}

qir_value *pt_binary(pt *t, unsigned id, qir_value *a, qir_value *b) {
  qir_value *ops[2] = {a, b};
  return pt_op1(t, id, a->type, 2, ops);
}

qir_value *pt_splat(pt *t, const qir_type *type, float v) {
  const qir_attr *a = qir_attr_dense_splat(t->ctx, type, &v);
  ck_assert_ptr_nonnull(a);
  qir_value *c = qir_build_constant(&t->b, a);
  ck_assert_ptr_nonnull(c);
  return c;
}

qir_value *pt_const_f32(pt *t, const qir_type *type, const double *v) {
  const qir_attr *a = qir_attr_dense_from_f64(t->ctx, type, v);
  ck_assert_ptr_nonnull(a);
  qir_value *c = qir_build_constant(&t->b, a);
  ck_assert_ptr_nonnull(c);
  return c;
}

void pt_return(pt *t, unsigned n, qir_value *const *vals) {
  pt_op(t, QIR_OP_RETURN, n, vals, 0, NULL, 0, NULL);
}

bool pt_run(pt *t, const char *pipeline) {
  qir_pipeline *pl = qir_pipeline_parse(t->ctx, pipeline);
  ck_assert_msg(pl != NULL, "pipeline '%s' does not parse: %s", pipeline,
                t->last_error);
  qir_pm_options o;
  qir_pm_options_init(&o);
  bool ok = qir_pipeline_run(pl, t->m, &o);
  qir_pipeline_destroy(pl);
  return ok;
}

unsigned pt_count(const qir_func *f, unsigned op_id) {
  unsigned n = 0;
  qir_foreach_op(op, &f->body) n += qir_op_is(op, op_id);
  return n;
}

qir_value *pt_returned(const qir_func *f, unsigned i) {
  qir_op *ret = qir_block_terminator(&f->body);
  ck_assert_ptr_nonnull(ret);
  ck_assert_uint_lt(i, ret->num_operands);
  return qir_op_operand(ret, i);
}
