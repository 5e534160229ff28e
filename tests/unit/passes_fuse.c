/* tests/unit/passes_fuse.c - fuse through the pipeline API, checked with
 * the interpreter, and the equivalence check of ir/pass/equiv.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/pass/equiv.h"
#include "qir/interp.h"
#include "passes_util.h"

/* Runs f on x (1 input, 1 output of n floats) into out. */
static void run_f32(qir_func *f, const float *x, float *out, size_t n) {
  qir_interp *it = qir_interp_create(f, NULL);
  ck_assert_ptr_nonnull(it);
  qir_tensor t;
  qir_tensor_init_from_type(&t, f->body.args[0]->type);
  t.data = (void *)x;
  ck_assert(qir_interp_set_input(it, 0, &t));
  ck_assert(qir_interp_run(it));
  const qir_tensor *y = qir_interp_output(it, 0);
  ck_assert_uint_eq((unsigned)qir_tensor_numel(y), (unsigned)n);
  memcpy(out, y->data, n * sizeof *out);
  qir_interp_destroy(it);
}

/* conv2d(x) -> batch_norm -> mul by a per-channel constant -> relu. */
static qir_func *build_conv_chain(pt *t) {
  const qir_type *in = PT_TENSOR(t, QIR_F32, 1, 2, 3, 3);
  const qir_type *out = PT_TENSOR(t, QIR_F32, 1, 2, 3, 3);
  qir_func *f = pt_func(t, "main", 1, in, out);
  static const double w[] = {0.5, -1.0, 2.0, 0.25};
  static const double g[] = {1.5, 0.5}, beta[] = {0.1, -0.3},
                      mean[] = {0.2, -0.4}, var[] = {0.8, 2.0},
                      s[] = {-2.0, 3.0};
  qir_value *wv = pt_const_f32(t, PT_TENSOR(t, QIR_F32, 2, 2, 1, 1), w);
  const qir_type *ct = PT_TENSOR(t, QIR_F32, 2);
  qir_value *ops[5] = {pt_arg(f, 0), wv};
  qir_value *c = pt_op1(t, QIR_OP_CONV2D, out, 2, ops);
  qir_value *bn_ops[5] = {c, pt_const_f32(t, ct, g), pt_const_f32(t, ct, beta),
                          pt_const_f32(t, ct, mean), pt_const_f32(t, ct, var)};
  qir_value *n = pt_op1(t, QIR_OP_BATCH_NORM, out, 5, bn_ops);
  qir_value *k = pt_const_f32(t, PT_TENSOR(t, QIR_F32, 2, 1, 1), s);
  qir_value *m = pt_binary(t, QIR_OP_MUL, n, k);
  qir_value *y = pt_unary(t, QIR_OP_RELU, m);
  pt_return(t, 1, &y);
  return f;
}

START_TEST(fuse_conv_chain_keeps_numbers) {
  pt t;
  pt_init(&t);
  qir_func *f = build_conv_chain(&t);
  float x[18], before[18], after[18];
  for (int i = 0; i < 18; i++)
    x[i] = (float)sin(i * 0.7) * 3.0f;
  run_f32(f, x, before, 18);
  ck_assert(pt_run(&t, "fuse,dce"));
  ck_assert_uint_eq(pt_count(f, QIR_OP_CONV2D), 1);
  ck_assert_uint_eq(pt_count(f, QIR_OP_BATCH_NORM), 0);
  ck_assert_uint_eq(pt_count(f, QIR_OP_MUL), 0);
  ck_assert_uint_eq(pt_count(f, QIR_OP_RELU), 0);
  qir_op *conv = qir_value_def(pt_returned(f, 0));
  ck_assert_str_eq(qir_op_get_string(conv, "activation"), "relu");
  run_f32(f, x, after, 18);
  for (int i = 0; i < 18; i++)
    ck_assert_float_eq_tol(after[i], before[i], 1e-5f * (1 + fabsf(before[i])));
  pt_fini(&t);
}
END_TEST

/* A second run finds nothing more to fuse. */
START_TEST(fuse_is_idempotent) {
  pt t;
  pt_init(&t);
  qir_func *f = build_conv_chain(&t);
  ck_assert(pt_run(&t, "fuse,dce"));
  unsigned ops = f->body.num_ops;
  char *s1 = qir_print_module_to_string(t.m, NULL, NULL);
  ck_assert(pt_run(&t, "fuse,dce"));
  char *s2 = qir_print_module_to_string(t.m, NULL, NULL);
  ck_assert_uint_eq(f->body.num_ops, ops);
  ck_assert_str_eq(s1, s2);
  free(s1);
  free(s2);
  pt_fini(&t);
}
END_TEST

START_TEST(equiv_same_and_changed_module) {
  pt t;
  pt_init(&t);
  qir_func *f = build_conv_chain(&t);
  qir_equiv_options o;
  qir_equiv_options_init(&o);
  ck_assert_str_eq(o.inputs, "random");
  ck_assert(o.min_cosine == 0.999999 && o.max_rel_error == 1e-5);
  qir_equiv *e = qir_equiv_create(t.m, &o);
  ck_assert_ptr_nonnull(e);
  ck_assert(qir_equiv_check(e, t.m, NULL, false));
  ck_assert(pt_run(&t, "fuse"));
  ck_assert(qir_equiv_check(e, t.m, "fuse", false));
  ck_assert_uint_eq(t.errors, 0);
  /* Scale the result: every output is off by 10%. */
  qir_op *ret = qir_block_terminator(&f->body);
  qir_builder_set_before(&t.b, ret);
  qir_value *k = pt_splat(&t, PT_TENSOR(&t, QIR_F32, 1), 1.1f);
  qir_value *y = pt_binary(&t, QIR_OP_MUL, pt_returned(f, 0), k);
  qir_op_set_operand(ret, 0, y);
  ck_assert(!qir_equiv_check(e, t.m, "scale", false));
  ck_assert_uint_eq(t.errors, 1);
  ck_assert_ptr_nonnull(strstr(t.last_error, "pass 'scale' broke equivalence"));
  qir_equiv_destroy(e);
  pt_fini(&t);
}
END_TEST

Suite *passes_fuse_suite(void) {
  Suite *s = suite_create("passes: fuse, equivalence check");
  TCase *tc = tcase_create("fuse");
  tcase_add_test(tc, fuse_conv_chain_keeps_numbers);
  tcase_add_test(tc, fuse_is_idempotent);
  tcase_add_test(tc, equiv_same_and_changed_module);
  suite_add_tcase(s, tc);
  return s;
}
