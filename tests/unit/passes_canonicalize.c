/* tests/unit/passes_canonicalize.c - canonicalize through the pipeline API. */
#include <string.h>

#include "passes_util.h"

/* 100,000 chained identities disappear without recursion. */
START_TEST(canonicalize_long_identity_chain) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 8);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0), *v = x;
  for (int i = 0; i < 100000; i++)
    v = pt_unary(&t, i % 2 ? QIR_OP_IDENTITY : QIR_OP_SIGMOID, v);
  pt_return(&t, 1, &v);
  ck_assert(pt_run(&t, "canonicalize"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_IDENTITY), 0);
  ck_assert_uint_eq(pt_count(f, QIR_OP_SIGMOID), 50000);
  ck_assert(qir_op_is(qir_value_def(pt_returned(f, 0)), QIR_OP_SIGMOID));
  pt_fini(&t);
}
END_TEST

START_TEST(canonicalize_neutral_operands) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 2, 3);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *one = pt_splat(&t, ty, 1.0f);
  qir_value *zero = pt_splat(&t, PT_TENSOR(&t, QIR_F32, 1, 3), 0.0f);
  qir_value *v = pt_binary(&t, QIR_OP_MUL, one, x);
  v = pt_binary(&t, QIR_OP_ADD, v, zero);
  v = pt_binary(&t, QIR_OP_DIV, v, one);
  v = pt_binary(&t, QIR_OP_SUB, v, zero);
  pt_return(&t, 1, &v);
  ck_assert(pt_run(&t, "canonicalize"));
  ck_assert_ptr_eq(pt_returned(f, 0), x);
  ck_assert_uint_eq(f->body.num_ops, 1); /* the constants are dead too */
  pt_fini(&t);
}
END_TEST

/* x + zeros of a bigger shape broadcasts x: the add must stay. */
START_TEST(canonicalize_keeps_broadcasting_add) {
  pt t;
  pt_init(&t);
  const qir_type *small = PT_TENSOR(&t, QIR_F32, 1, 3);
  const qir_type *big = PT_TENSOR(&t, QIR_F32, 4, 3);
  qir_func *f = pt_func(&t, "main", 1, small, big);
  qir_value *x = pt_arg(f, 0);
  qir_value *zero = pt_splat(&t, big, 0.0f);
  qir_value *ops[2] = {x, zero};
  qir_value *s = pt_op1(&t, QIR_OP_ADD, big, 2, ops);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "canonicalize"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_ADD), 1);
  ck_assert_ptr_eq(pt_returned(f, 0), s);
  pt_fini(&t);
}
END_TEST

static qir_value *transpose(pt *t, qir_value *x, const qir_type *ty,
                            const int64_t *perm, unsigned rank) {
  qir_named_attr p =
      qir_named(t->ctx, "perm", qir_attr_ints(t->ctx, rank, perm));
  return qir_op_result(pt_op(t, QIR_OP_TRANSPOSE, 1, &x, 1, &ty, 1, &p), 0);
}

START_TEST(canonicalize_transpose_pairs) {
  pt t;
  pt_init(&t);
  const qir_type *t234 = PT_TENSOR(&t, QIR_F32, 2, 3, 4);
  const qir_type *t324 = PT_TENSOR(&t, QIR_F32, 3, 2, 4);
  const qir_type *t423 = PT_TENSOR(&t, QIR_F32, 4, 2, 3);
  qir_func *f = pt_func(&t, "main", 1, t234, t423);
  qir_value *x = pt_arg(f, 0);
  const int64_t p102[3] = {1, 0, 2}, p210[3] = {2, 1, 0};
  qir_value *a = transpose(&t, x, t324, p102, 3);
  qir_value *b = transpose(&t, a, t423, p210, 3);
  pt_return(&t, 1, &b);
  ck_assert(pt_run(&t, "canonicalize"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_TRANSPOSE), 1);
  qir_op *tr = qir_value_def(pt_returned(f, 0));
  ck_assert_ptr_eq(qir_op_operand(tr, 0), x);
  int64_t perm[3];
  ck_assert_int_eq(qir_op_get_ints(tr, "perm", perm, 3), 3);
  ck_assert_int_eq(perm[0], 2);
  ck_assert_int_eq(perm[1], 0);
  ck_assert_int_eq(perm[2], 1);
  pt_fini(&t);
}
END_TEST

START_TEST(canonicalize_bad_max_iterations) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 4);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  pt_return(&t, 1, &x);
  ck_assert(!pt_run(&t, "canonicalize{max-iterations=0}"));
  ck_assert_uint_ge(t.errors, 1);
  ck_assert_str_eq(t.last_error,
                   "canonicalize: max-iterations must be at least 1, not 0");
  pt_fini(&t);
}
END_TEST

/* The whole classic pipeline on a small graph with something for each
 * pass to do. */
START_TEST(pipeline_canonicalize_cse_dce) {
  pt t;
  pt_init(&t);
  const qir_type *ty = PT_TENSOR(&t, QIR_F32, 1, 4);
  qir_func *f = pt_func(&t, "main", 1, ty, ty);
  qir_value *x = pt_arg(f, 0);
  qir_value *i1 = pt_unary(&t, QIR_OP_IDENTITY, x);
  qir_value *a = pt_unary(&t, QIR_OP_RELU, i1);
  qir_value *b = pt_unary(&t, QIR_OP_RELU, x);
  pt_unary(&t, QIR_OP_TANH, x); /* dead */
  qir_value *s = pt_binary(&t, QIR_OP_ADD, a, b);
  pt_return(&t, 1, &s);
  ck_assert(pt_run(&t, "canonicalize,cse,dce"));
  ck_assert_uint_eq(f->body.num_ops, 3);
  qir_op *add = qir_value_def(pt_returned(f, 0));
  ck_assert_ptr_eq(qir_op_operand(add, 0), qir_op_operand(add, 1));
  pt_fini(&t);
}
END_TEST

Suite *passes_canonicalize_suite(void) {
  Suite *s = suite_create("passes: canonicalize");
  TCase *tc = tcase_create("canonicalize");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, canonicalize_long_identity_chain);
  tcase_add_test(tc, canonicalize_neutral_operands);
  tcase_add_test(tc, canonicalize_keeps_broadcasting_add);
  tcase_add_test(tc, canonicalize_transpose_pairs);
  tcase_add_test(tc, canonicalize_bad_max_iterations);
  tcase_add_test(tc, pipeline_canonicalize_cse_dce);
  suite_add_tcase(s, tc);
  return s;
}
