/* tests/unit/ops_verify.c - the verifier driver and the ops' verify
 * functions. */
#include <string.h>

#include "ops_util.h"

/* Appends an op with explicit result types (no inference). */
static qir_op *raw_op(ops_fx *fx, unsigned id, unsigned nops, qir_value **ops,
                      unsigned nres, const char *const *types, unsigned nattrs,
                      const qir_named_attr *attrs) {
  const qir_type *t[4];
  for (unsigned i = 0; i < nres; i++)
    t[i] = ops_type(fx, types[i]);
  return ops_build_typed(fx, id, nops, ops, nres, t, nattrs, attrs);
}

static qir_value *raw_value(ops_fx *fx, unsigned id, unsigned nops,
                            qir_value **ops, const char *type, unsigned nattrs,
                            const qir_named_attr *attrs) {
  return &raw_op(fx, id, nops, ops, 1, &type, nattrs, attrs)->results[0];
}

START_TEST(test_verify_valid_module) {
  ops_fx fx;
  ops_fx_init(&fx, "1x3x8x8:f32", "4x3x3x3:f32", NULL);
  qir_value *xw[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  qir_value *c = qir_build_value(&fx.b, QIR_OP_CONV2D, 2, xw, 0, NULL);
  qir_value *r = qir_build_value(&fx.b, QIR_OP_RELU, 1, &c, 0, NULL);
  ops_return(&fx, 1, &r);
  ck_assert(qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags, "");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_counts) {
  ops_fx fx;
  ops_fx_init(&fx, "1x3x8x8:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_value *xx[3] = {x, x, x};
  raw_op(&fx, QIR_OP_CONV2D, 1, &x, 1, (const char *[]){"1x3x8x8:f32"}, 0,
         NULL);
  raw_op(&fx, QIR_OP_RELU, 2, xx, 1, (const char *[]){"1x3x8x8:f32"}, 0,
         NULL);
  raw_op(&fx, QIR_OP_WHERE, 3, xx, 2,
         (const char *[]){"1x3x8x8:f32", "1x3x8x8:f32"}, 0, NULL);
  raw_op(&fx, QIR_OP_CONCAT, 0, NULL, 1, (const char *[]){"1:f32"}, 0, NULL);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'conv2d' op expects 2 to 4 operands, got 1\n"
                   "'relu' op expects 1 operand, got 2\n"
                   "'where' op expects 1 result, got 2\n"
                   "'concat' op expects at least 1 operand, got 0\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_use_before_def) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_value *a = qir_build_value(&fx.b, QIR_OP_RELU, 1, &x, 0, NULL);
  qir_value *b = qir_build_value(&fx.b, QIR_OP_NEG, 1, &a, 0, NULL);
  ops_return(&fx, 1, &b);
  qir_op_move_before(qir_value_def(a), qir_value_def(b));
  ck_assert(!qir_verify_func(fx.f));
  ck_assert_str_eq(fx.diags,
                   "operand #0 of 'neg' op is used before its definition\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_terminators) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  ops_return(&fx, 1, &x);
  qir_build_value(&fx.b, QIR_OP_RELU, 1, &x, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags, "'return' op must be the last op of its "
                             "function\n"
                             "function @main must end with 'return'\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_return_types) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", "4:i64", NULL);
  qir_value *x = ops_arg(&fx, 0);
  ops_return(&fx, 1, &x);
  const qir_type *rt[2] = {ops_type(&fx, "4:i64"), ops_type(&fx, "4:f32")};
  qir_func_set_result_types(fx.f, 2, rt);
  ck_assert(!qir_verify_module(fx.m));
  qir_func_set_result_types(fx.f, 1, rt);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'return' op has 1 operand but function @main returns 2 "
                   "values\n"
                   "'return' op operand #0 has type tensor<4xf32> but "
                   "function @main returns tensor<4xi64>\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_inferred_types) {
  ops_fx fx;
  ops_fx_init(&fx, "1x4:f32", "1x?:f32", NULL);
  qir_value *x = ops_arg(&fx, 0), *y = ops_arg(&fx, 1);
  raw_value(&fx, QIR_OP_RELU, 1, &x, "1x5:f32", 0, NULL);
  /* more or less static than inferred is fine */
  raw_value(&fx, QIR_OP_RELU, 1, &x, "1x?:f32", 0, NULL);
  raw_value(&fx, QIR_OP_RELU, 1, &y, "1x4:f32", 0, NULL);
  raw_value(&fx, QIR_OP_RELU, 1, &x, "1x4:f16", 0, NULL);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'relu' op result #0 type tensor<1x5xf32> is incompatible "
                   "with the inferred type tensor<1x4xf32>\n"
                   "'relu' op result #0 type tensor<1x4xf16> is incompatible "
                   "with the inferred type tensor<1x4xf32>\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_quantized_results) {
  ops_fx fx;
  ops_fx_init(&fx, "1x3x8x8:f32", "4x3x1x1:f32", "4:f32", NULL);
  qir_value *xw[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  /* conv2d is QUANTIZABLE: a quantized result of the same shape is fine */
  raw_value(&fx, QIR_OP_CONV2D, 2, xw, "1x4x8x8:!q.i8", 0, NULL);
  raw_value(&fx, QIR_OP_CONV2D, 2, xw, "1x4x8x7:!q.i8", 0, NULL);
  qir_value *pp[2] = {ops_arg(&fx, 2), ops_arg(&fx, 2)};
  raw_value(&fx, QIR_OP_POW, 2, pp, "4:!q.i8", 0, NULL);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'conv2d' op result #0 type tensor<1x4x8x7x!q.i8<0.5>> is "
                   "incompatible with the inferred type tensor<1x4x8x8xf32>\n"
                   "'pow' op result #0 type tensor<4x!q.i8<0.5>> is "
                   "incompatible with the inferred type tensor<4xf32>\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_conv_attributes) {
  ops_fx fx;
  ops_fx_init(&fx, "1x6x8x8:f32", "4x3x3x3:f32", "5:f32", "5x3x3x3:f32",
              NULL);
  qir_value *xwb[3] = {ops_arg(&fx, 0), ops_arg(&fx, 1), ops_arg(&fx, 2)};
  qir_value *xw2[2] = {ops_arg(&fx, 0), ops_arg(&fx, 3)};
  int64_t s[2] = {0, 1}, p[3] = {1, 1, 1};
  qir_named_attr a1 = ops_ints(&fx, "strides", 2, s);
  qir_named_attr a2 = ops_ints(&fx, "pads", 3, p);
  qir_named_attr g2 = ops_int(&fx, "group", 2);
  const char *t = "1x4x6x6:f32";
  raw_value(&fx, QIR_OP_CONV2D, 2, xwb, t, 1, &a1);
  raw_value(&fx, QIR_OP_CONV2D, 2, xwb, t, 1, &a2);
  raw_value(&fx, QIR_OP_CONV2D, 2, xwb, t, 0, NULL);
  raw_value(&fx, QIR_OP_CONV2D, 2, xw2, "1x5x6x6:f32", 1, &g2);
  raw_value(&fx, QIR_OP_CONV2D, 3, xwb, t, 1, &g2);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'conv2d' op attribute 'strides' must be positive, got "
                   "[0, 1]\n"
                   "'conv2d' op attribute 'pads' must have 4 elements, got 3\n"
                   "'conv2d' op input has 6 channels but the weights take 3 "
                   "per group x 1 groups\n"
                   "'conv2d' op 5 output channels are not divisible by group "
                   "2\n"
                   "'conv2d' op bias has 5 elements but there are 4 output "
                   "channels\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_quantize_ops) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", "4:!q.i8", NULL);
  qir_value *x = ops_arg(&fx, 0), *q = ops_arg(&fx, 1);
  raw_value(&fx, QIR_OP_QUANTIZE, 1, &x, "4:!q.u8", 0, NULL);
  raw_value(&fx, QIR_OP_DEQUANTIZE, 1, &q, "4:f32", 0, NULL);
  raw_value(&fx, QIR_OP_REQUANTIZE, 1, &q, "4:!q.i16", 0, NULL);
  ck_assert_str_eq(fx.diags, "");
  raw_value(&fx, QIR_OP_QUANTIZE, 1, &q, "4:!q.i8", 0, NULL);
  raw_value(&fx, QIR_OP_DEQUANTIZE, 1, &q, "4:i8", 0, NULL);
  raw_value(&fx, QIR_OP_REQUANTIZE, 1, &q, "5:!q.i8", 0, NULL);
  raw_value(&fx, QIR_OP_CAST, 1, &q, "4:i8", 0, NULL);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'quantize' op operand must have a float element type, got "
                   "tensor<4x!q.i8<0.5>>\n"
                   "'dequantize' op result must have a float element type, "
                   "got tensor<4xi8>\n"
                   "'requantize' op result type tensor<5x!q.i8<0.5>> does not "
                   "have the shape of the operand type tensor<4x!q.i8<0.5>>\n"
                   "'cast' op cannot convert quantized types (use quantize, "
                   "dequantize or requantize)\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_axes_and_enums) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_value *xx[2] = {x, x};
  qir_named_attr ax = ops_int(&fx, "axis", 2);
  qir_named_attr mode = ops_str(&fx, "mode", "wrap");
  int64_t pads[4] = {0, 0, 0, 0}, axes[2] = {1, -1};
  qir_named_attr pd = ops_ints(&fx, "pads", 4, pads);
  qir_named_attr pm[2] = {pd, mode};
  qir_named_attr ra = ops_ints(&fx, "axes", 2, axes);
  raw_value(&fx, QIR_OP_CONCAT, 2, xx, "2x6:f32", 1, &ax);
  raw_value(&fx, QIR_OP_PAD, 1, &x, "2x3:f32", 2, pm);
  raw_value(&fx, QIR_OP_REDUCE_SUM, 1, &x, "2x1:f32", 1, &ra);
  raw_value(&fx, QIR_OP_TRANSPOSE, 1, &x, "3x2:f32", 1, &ra);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'concat' op attribute 'axis' value 2 is out of range "
                   "[-2, 1]\n"
                   "'pad' op attribute 'mode' must be one of \"constant\", "
                   "\"reflect\", \"edge\", got \"wrap\"\n"
                   "'reduce_sum' op attribute 'axes' names axis 1 twice\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_call) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", NULL);
  const qir_type *t = ops_type(&fx, "4:f32");
  qir_func *g = qir_func_create(fx.m, "g", qir_loc_unknown(), 1, &t, NULL, 1,
                                &t);
  qir_builder gb;
  qir_builder_init(&gb, fx.ctx);
  qir_builder_set_end(&gb, &g->body);
  qir_value *ga = g->body.args[0];
  qir_build_typed(&gb, qir_builtin_op(fx.ctx, QIR_OP_RETURN), 1, &ga, 0, NULL,
                  0, NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_named_attr callee = qir_named(fx.ctx, "callee", qir_attr_symbol(fx.ctx, "g"));
  qir_named_attr nowhere = qir_named(fx.ctx, "callee", qir_attr_symbol(fx.ctx, "h"));
  raw_value(&fx, QIR_OP_CALL, 1, &x, "4:f32", 1, &callee);
  raw_value(&fx, QIR_OP_CALL, 1, &x, "4:f32", 1, &nowhere);
  raw_value(&fx, QIR_OP_CALL, 1, &x, "4:i8", 1, &callee);
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_module(fx.m));
  ck_assert_str_eq(fx.diags,
                   "'call' op calls @h, which is not a function of the "
                   "module\n"
                   "'call' op result #0 has type tensor<4xi8> but @g returns "
                   "tensor<4xf32>\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_foreign_and_missing_operands) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", NULL);
  const qir_type *t = ops_type(&fx, "4:f32");
  qir_func *g = qir_func_create(fx.m, "g", qir_loc_unknown(), 1, &t, NULL, 0,
                                NULL);
  qir_value *foreign = g->body.args[0];
  raw_value(&fx, QIR_OP_RELU, 1, &foreign, "4:f32", 0, NULL);
  qir_value *none = NULL;
  raw_value(&fx, QIR_OP_NEG, 1, &none, "4:f32", 0, NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_op *bad = raw_op(&fx, QIR_OP_ABS, 1, &x, 1, (const char *[]){"4:f32"},
                       0, NULL);
  bad->results[0].type = qir_scalar_type(fx.ctx, QIR_F32);
  qir_op *untyped = raw_op(&fx, QIR_OP_SIGN, 1, &x, 1,
                           (const char *[]){"4:f32"}, 0, NULL);
  untyped->results[0].type = NULL;
  qir_op *split = raw_op(&fx, QIR_OP_SPLIT, 1, &x, 0, NULL, 0, NULL);
  (void)split;
  ops_return(&fx, 0, NULL);
  ck_assert(!qir_verify_func(fx.f));
  ck_assert_str_eq(fx.diags,
                   "operand #0 of 'relu' op is not defined in this function\n"
                   "'neg' op operand #0 is missing\n"
                   "'abs' op result #0 must be a tensor, got f32\n"
                   "'sign' op result #0 has no type\n"
                   "'split' op must have at least one result\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_verify_infer_pre_counts) {
  ops_fx fx;
  ops_fx_init(&fx, "4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  qir_value *xx[2] = {x, x};
  /* inference checks the operand count before it reads operands */
  ck_assert_ptr_null(ops_build(&fx, QIR_OP_CONV2D, 1, &x, 0, NULL));
  ck_assert_ptr_null(ops_build(&fx, QIR_OP_TRANSPOSE, 2, xx, 0, NULL));
  ck_assert_str_eq(fx.diags, "'conv2d' op expects 2 to 4 operands, got 1\n"
                             "'transpose' op expects 1 operand, got 2\n");
  ops_fx_fini(&fx);
}
END_TEST

Suite *ops_verify_suite(void) {
  Suite *s = suite_create("ops_verify");
  TCase *tc = tcase_create("verify");
  tcase_add_test(tc, test_verify_valid_module);
  tcase_add_test(tc, test_verify_counts);
  tcase_add_test(tc, test_verify_use_before_def);
  tcase_add_test(tc, test_verify_terminators);
  tcase_add_test(tc, test_verify_return_types);
  tcase_add_test(tc, test_verify_inferred_types);
  tcase_add_test(tc, test_verify_quantized_results);
  tcase_add_test(tc, test_verify_conv_attributes);
  tcase_add_test(tc, test_verify_quantize_ops);
  tcase_add_test(tc, test_verify_axes_and_enums);
  tcase_add_test(tc, test_verify_call);
  tcase_add_test(tc, test_verify_foreign_and_missing_operands);
  tcase_add_test(tc, test_verify_infer_pre_counts);
  suite_add_tcase(s, tc);
  return s;
}
