/* tests/unit/passes_fold_shape.c - fold, shape-infer and the registry. */
#include <string.h>

#include "passes_util.h"

START_TEST(fold_adds_constants_keeping_name) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 2);
  qir_func *f = pt_func(&t, "main", 0, ty, ty);
  const double v1[2] = {1, 2}, v2[2] = {3, 4};
  qir_value *a = pt_const_f32(&t, ty, v1);
  qir_value *b = pt_const_f32(&t, ty, v2);
  qir_value *s = pt_binary(&t, QIR_OP_ADD, a, b);
  qir_value_set_name(t.ctx, s, "sum");
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "fold"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_ADD), 0);
  qir_value *r = pt_returned(f, 0);
  const qir_attr *k = qir_value_constant(r);
  ck_assert_ptr_nonnull(k);
  ck_assert_double_eq(qir_dense_get_f64(k, 0), 4.0);
  ck_assert_double_eq(qir_dense_get_f64(k, 1), 6.0);
  ck_assert_str_eq(r->name, "sum");
  ck_assert_ptr_eq(r->type, ty);
  pt_fini(&t);
}
END_TEST

START_TEST(fold_shape_of_static_argument) {
  pt t;
  pt_init(&t);
  const qir_type *in = PT_TENSOR(&t, QIR_F32, 1, 3, 5);
  const qir_type *sh = PT_TENSOR(&t, QIR_I64, 3);
  qir_func *f = pt_func(&t, "main", 1, in, sh);
  qir_value *x = pt_arg(f, 0);
  qir_value *s = pt_op1(&t, QIR_OP_SHAPE, sh, 1, &x);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "fold"));
  const qir_attr *k = qir_value_constant(pt_returned(f, 0));
  ck_assert_ptr_nonnull(k);
  ck_assert_int_eq(qir_dense_get_i64(k, 0), 1);
  ck_assert_int_eq(qir_dense_get_i64(k, 1), 3);
  ck_assert_int_eq(qir_dense_get_i64(k, 2), 5);
  pt_fini(&t);
}
END_TEST

START_TEST(fold_leaves_non_constants) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 2);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  const double v1[2] = {1, 2};
  qir_value *a = pt_const_f32(&t, ty, v1);
  qir_value *s = pt_binary(&t, QIR_OP_ADD, pt_arg(f, 0), a);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "fold"));
  ck_assert_ptr_eq(pt_returned(f, 0), s);
  ck_assert_uint_eq(f->body.num_ops, 3);
  pt_fini(&t);
}
END_TEST

/* A folder that answers with a value of another type than its result's
 * (here always f16 data for an f32 result). */
static bool fold_to_wrong_type(qir_op *op, const qir_attr *const *operands,
                               const qir_attr **out) {
  (void)operands;
  const qir_type *t = op->results[0].type;
  const qir_type *f16 = qir_tensor_of(op->ctx, QIR_F16, t->rank, t->dims);
  double zero = 0;
  out[0] = qir_attr_dense_from_f64(op->ctx, f16, &zero);
  return true;
}

static bool fold_to_zero(qir_op *op, const qir_attr *const *operands,
                         const qir_attr **out) {
  (void)operands;
  double zero = 0;
  out[0] = qir_attr_dense_from_f64(op->ctx, op->results[0].type, &zero);
  return true;
}

static qir_op_def wrong_fold_def = {
    "test.wrong_fold", 0, 1, 1, 1, QIR_TRAIT_PURE, "folds to another type",
    NULL, NULL, fold_to_wrong_type, NULL};
static qir_op_def zero_fold_def = {
    "test.zero_fold", 0, 1, 1, 1, QIR_TRAIT_PURE, "folds to zero",
    NULL, NULL, fold_to_zero, NULL};
static qir_op_def impure_fold_def = {
    "test.impure_fold", 0, 1, 1, 1, 0, "folds to zero, has side effects",
    NULL, NULL, fold_to_zero, NULL};

static qir_value *plugin_op(pt *t, qir_op_def *def, qir_value *x) {
  qir_op *op = qir_build_typed(&t->b, def, 1, &x, 1, &x->type, 0, NULL);
  ck_assert_ptr_nonnull(op);
  return qir_op_result(op, 0);
}

/* fold keeps ops whose folder gives a value of the wrong type, and ops
 * that are not pure; it folds a plugin op whose folder needs no constant
 * operand. */
START_TEST(fold_checks_folder_results) {
  pt t;
  pt_init(&t);
  ck_assert(qir_register_op(t.ctx, &wrong_fold_def));
  ck_assert(qir_register_op(t.ctx, &zero_fold_def));
  ck_assert(qir_register_op(t.ctx, &impure_fold_def));
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *vals[3] = {plugin_op(&t, &wrong_fold_def, x),
                        plugin_op(&t, &zero_fold_def, x),
                        plugin_op(&t, &impure_fold_def, x)};
  const qir_type *types[3] = {ty, ty, ty};
  qir_func_set_result_types(f, 3, types);
  pt_return(&t, 3, vals);
  ck_assert_msg(pt_run(&t, "fold"), "%s", t.last_error);
  ck_assert_ptr_eq(pt_returned(f, 0), vals[0]);
  ck_assert_ptr_nonnull(qir_value_constant(pt_returned(f, 1)));
  ck_assert_ptr_eq(pt_returned(f, 2), vals[2]);
  pt_fini(&t);
}
END_TEST

START_TEST(shape_infer_refines_types) {
  pt t;
  pt_init(&t);
  const qir_type *stat = PT_TENSOR(&t, QIR_F32, 2, 8);
  const qir_type *dyn = PT_TENSOR(&t, QIR_F32, QIR_DYN, 8);
  qir_func *f = pt_func(&t, "main", 1, stat, dyn);
  qir_value *x = pt_arg(f, 0);
  qir_value *r = pt_op1(&t, QIR_OP_RELU, dyn, 1, &x);
  qir_value *s = pt_op1(&t, QIR_OP_SIGMOID, dyn, 1, &r);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "shape-infer"));
  ck_assert_ptr_eq(r->type, stat);
  ck_assert_ptr_eq(s->type, stat);
  ck_assert_uint_eq(f->num_results, 1);
  ck_assert_ptr_eq(f->result_types[0], stat);
  pt_fini(&t);
}
END_TEST

/* An input shape changed after the body was built: the stale static dims
 * downstream are replaced. */
START_TEST(shape_infer_follows_changed_input) {
  pt t;
  pt_init(&t);
  const qir_type *old_t = PT_TENSOR(&t, QIR_F32, 1, 8);
  const qir_type *new_t = PT_TENSOR(&t, QIR_F32, 4, 8);
  qir_func *f = pt_func(&t, "main", 1, old_t, old_t);
  qir_value *x = pt_arg(f, 0);
  qir_value *r = pt_unary(&t, QIR_OP_RELU, x);
  qir_value *s = pt_binary(&t, QIR_OP_MUL, r, r);
  pt_return(&t, 1, &s);
  qir_value_set_type(x, new_t);
  ck_assert(pt_run(&t, "shape-infer"));
  ck_assert_ptr_eq(r->type, new_t);
  ck_assert_ptr_eq(s->type, new_t);
  ck_assert_ptr_eq(f->result_types[0], new_t);
  pt_fini(&t);
}
END_TEST

/* A result whose element type cannot come from its operands: shape-infer
 * reports it through the op and fails. */
START_TEST(shape_infer_reports_element_clash) {
  pt t;
  pt_init(&t);
  const qir_type *f32 = PT_TENSOR(&t, QIR_F32, 4);
  const qir_type *f16 = PT_TENSOR(&t, QIR_F16, 4);
  qir_func *f = pt_func(&t, "main", 1, f32, f16);
  qir_value *x = pt_arg(f, 0);
  qir_value *r = pt_op1(&t, QIR_OP_RELU, f16, 1, &x);
  pt_return(&t, 1, &r);
  ck_assert(!pt_run(&t, "shape-infer"));
  ck_assert_uint_ge(t.errors, 1);
  ck_assert_str_eq(t.first_error, "'relu' op result #0 has type "
                                  "tensor<4xf16> but its operands give "
                                  "tensor<4xf32>");
  ck_assert_ptr_eq(r->type, f16);
  pt_fini(&t);
}
END_TEST

static void count_pass(const qir_pass_def *d, void *user) {
  (void)d;
  ++*(unsigned *)user;
}

START_TEST(registry_has_builtin_passes) {
  pt t;
  pt_init(&t);
  static const char *const names[] = {"canonicalize", "fold", "dce", "cse",
                                      "shape-infer"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const qir_pass_def *d = qir_lookup_pass(t.ctx, names[i]);
    ck_assert_msg(d != NULL, "pass %s not registered", names[i]);
    ck_assert_int_eq(d->unit, QIR_PASS_ON_FUNC);
    ck_assert_ptr_nonnull(d->run);
    ck_assert(d->summary && *d->summary);
  }
  const qir_pass_def *c = qir_lookup_pass(t.ctx, "canonicalize");
  ck_assert_uint_eq(c->num_options, 2);
  ck_assert_str_eq(c->options[0].name, "max-iterations");
  ck_assert_int_eq(c->options[0].type, QIR_OPT_INT);
  ck_assert_str_eq(c->options[0].dflt, "10");
  ck_assert_str_eq(c->options[1].name, "signed-zeros");
  ck_assert_int_eq(c->options[1].type, QIR_OPT_BOOL);
  ck_assert_str_eq(c->options[1].dflt, "false");
  ck_assert_uint_eq(qir_lookup_pass(t.ctx, "dce")->num_options, 0);
  unsigned n = 0;
  qir_foreach_pass_def(t.ctx, count_pass, &n);
  ck_assert_uint_ge(n, 5);
  pt_fini(&t);
}
END_TEST

Suite *passes_fold_shape_suite(void) {
  Suite *s = suite_create("passes: fold, shape-infer, registry");
  TCase *tc = tcase_create("fold-shape");
  tcase_add_test(tc, fold_adds_constants_keeping_name);
  tcase_add_test(tc, fold_shape_of_static_argument);
  tcase_add_test(tc, fold_leaves_non_constants);
  tcase_add_test(tc, fold_checks_folder_results);
  tcase_add_test(tc, shape_infer_refines_types);
  tcase_add_test(tc, shape_infer_follows_changed_input);
  tcase_add_test(tc, shape_infer_reports_element_clash);
  tcase_add_test(tc, registry_has_builtin_passes);
  suite_add_tcase(s, tc);
  return s;
}
