/* tests/unit/passes_dce_cse.c - dce and cse through the pipeline API. */
#include "passes_util.h"

START_TEST(dce_removes_dead_chain) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 8);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *live = pt_unary(&t, QIR_OP_RELU, x);
  qir_value *d1 = pt_unary(&t, QIR_OP_TANH, x);
  pt_binary(&t, QIR_OP_ADD, d1, live); /* dead, uses the live value too */
  pt_return(&t, 1, &live);
  ck_assert(pt_run(&t, "dce"));
  ck_assert_uint_eq(f->body.num_ops, 2);
  ck_assert_uint_eq(pt_count(f, QIR_OP_TANH), 0);
  ck_assert_uint_eq(pt_count(f, QIR_OP_ADD), 0);
  ck_assert_ptr_eq(pt_returned(f, 0), live);
  ck_assert_uint_eq(qir_value_num_uses(live), 1);
  pt_fini(&t);
}
END_TEST

START_TEST(dce_keeps_calls) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 4);
  qir_func *callee = pt_func(&t, "callee", 1, ty, ty);
  qir_value *cx = pt_arg(callee, 0);
  pt_return(&t, 1, &cx);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *a = pt_unary(&t, QIR_OP_RELU, x);
  qir_named_attr callee_attr =
      qir_named(t.ctx, "callee", qir_attr_symbol(t.ctx, "callee"));
  pt_op(&t, QIR_OP_CALL, 1, &a, 1, &ty, 1, &callee_attr);
  pt_return(&t, 1, &x);
  ck_assert(pt_run(&t, "dce"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_CALL), 1);
  ck_assert_uint_eq(pt_count(f, QIR_OP_RELU), 1);
  pt_fini(&t);
}
END_TEST

/* A 100,000-op dead chain: removed without recursion. */
START_TEST(dce_long_chain) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 2);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0), *v = x;
  for (int i = 0; i < 100000; i++)
    v = pt_unary(&t, QIR_OP_RELU, v);
  pt_return(&t, 1, &x);
  ck_assert(pt_run(&t, "dce"));
  ck_assert_uint_eq(f->body.num_ops, 1);
  pt_fini(&t);
}
END_TEST

START_TEST(cse_merges_duplicates) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 8);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *a = pt_unary(&t, QIR_OP_RELU, x);
  qir_value *b = pt_unary(&t, QIR_OP_RELU, x);
  qir_value *sum = pt_binary(&t, QIR_OP_ADD, a, b);
  pt_return(&t, 1, &sum);
  ck_assert(pt_run(&t, "cse"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_RELU), 1);
  qir_op *add = qir_value_def(pt_returned(f, 0));
  ck_assert_ptr_eq(qir_op_operand(add, 0), a);
  ck_assert_ptr_eq(qir_op_operand(add, 1), a);
  pt_fini(&t);
}
END_TEST

START_TEST(cse_respects_attributes) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 8);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_named_attr a1 = qir_named(t.ctx, "alpha", qir_attr_float(t.ctx, 0.1));
  qir_named_attr a2 = qir_named(t.ctx, "alpha", qir_attr_float(t.ctx, 0.2));
  qir_named_attr a3 = qir_named(t.ctx, "alpha", qir_attr_float(t.ctx, 0.1));
  qir_value *v[3];
  v[0] = qir_op_result(pt_op(&t, QIR_OP_LEAKY_RELU, 1, &x, 1, &ty, 1, &a1), 0);
  v[1] = qir_op_result(pt_op(&t, QIR_OP_LEAKY_RELU, 1, &x, 1, &ty, 1, &a2), 0);
  v[2] = qir_op_result(pt_op(&t, QIR_OP_LEAKY_RELU, 1, &x, 1, &ty, 1, &a3), 0);
  qir_value *s = pt_binary(&t, QIR_OP_ADD, v[0], v[1]);
  s = pt_binary(&t, QIR_OP_ADD, s, v[2]);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "cse"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_LEAKY_RELU), 2);
  qir_op *last_add = qir_value_def(pt_returned(f, 0));
  ck_assert_ptr_eq(qir_op_operand(last_add, 1), v[0]);
  pt_fini(&t);
}
END_TEST

START_TEST(cse_commutative_operands) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 4);
  qir_func *f = pt_func(&t, "main", 2, ty, ty);
  qir_value *x = pt_arg(f, 0), *y = pt_arg(f, 1);
  qir_value *a = pt_binary(&t, QIR_OP_MUL, x, y);
  qir_value *b = pt_binary(&t, QIR_OP_MUL, y, x);
  qir_value *c = pt_binary(&t, QIR_OP_SUB, x, y);
  qir_value *d = pt_binary(&t, QIR_OP_SUB, y, x);
  qir_value *s1 = pt_binary(&t, QIR_OP_SUB, a, b);
  qir_value *s2 = pt_binary(&t, QIR_OP_SUB, c, d);
  qir_value *r = pt_binary(&t, QIR_OP_SUB, s1, s2);
  pt_return(&t, 1, &r);
  ck_assert(pt_run(&t, "cse"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_MUL), 1);
  ck_assert_uint_eq(pt_count(f, QIR_OP_SUB), 5);
  pt_fini(&t);
}
END_TEST

/* 10,000 identical users of one value collapse into one. */
START_TEST(cse_wide_fanout) {
  pt t;
  pt_init(&t);
  enum { N = 10000 };
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 4);
  const qir_type *wide = PT_TENSOR(&t, QIR_F32, N, 4);
  qir_func *f = pt_func(&t, "main", 1, ty, wide);
  qir_value *x = pt_arg(f, 0);
  static qir_value *vals[N];
  for (int i = 0; i < N; i++)
    vals[i] = pt_unary(&t, QIR_OP_SIGMOID, x);
  qir_named_attr axis = qir_named(t.ctx, "axis", qir_attr_int(t.ctx, 0));
  qir_value *c = qir_op_result(
      pt_op(&t, QIR_OP_CONCAT, N, vals, 1, &wide, 1, &axis), 0);
  pt_return(&t, 1, &c);
  ck_assert(pt_run(&t, "cse"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_SIGMOID), 1);
  ck_assert_uint_eq(qir_value_num_uses(vals[0]), N);
  pt_fini(&t);
}
END_TEST

START_TEST(cse_merges_equal_constants) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 2);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  const double v12[2] = {1, 2}, v13[2] = {1, 3};
  qir_value *k1 = pt_const_f32(&t, ty, v12);
  qir_value *k2 = pt_const_f32(&t, ty, v12);
  qir_value *k3 = pt_const_f32(&t, ty, v13);
  qir_value *s = pt_binary(&t, QIR_OP_ADD, x, k1);
  s = pt_binary(&t, QIR_OP_ADD, s, k2);
  s = pt_binary(&t, QIR_OP_ADD, s, k3);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "cse"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_CONSTANT), 2);
  ck_assert_uint_eq(qir_value_num_uses(k1), 2);
  pt_fini(&t);
}
END_TEST

Suite *passes_dce_cse_suite(void) {
  Suite *s = suite_create("passes: dce, cse");
  TCase *tc = tcase_create("dce-cse");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, dce_removes_dead_chain);
  tcase_add_test(tc, dce_keeps_calls);
  tcase_add_test(tc, dce_long_chain);
  tcase_add_test(tc, cse_merges_duplicates);
  tcase_add_test(tc, cse_respects_attributes);
  tcase_add_test(tc, cse_commutative_operands);
  tcase_add_test(tc, cse_wide_fanout);
  tcase_add_test(tc, cse_merges_equal_constants);
  suite_add_tcase(s, tc);
  return s;
}
