/* tests/unit/onnx_qdq.c - qir_onnx_fold_qdq on hand-written modules: what
 * folds into ops on quantized types and what must stay in float. */
#include <string.h>

#include "onnx_test.h"

static qir_module *parse(qir_context *ctx, const char *text) {
  qir_module *m = qir_parse_buffer(ctx, "qdq.qir", text, strlen(text), 1);
  ck_assert_ptr_nonnull(m);
  return m;
}

/* The op defining the value returned first. */
static qir_op *returned_def(qir_module *m, unsigned i) {
  qir_func *f = qir_module_lookup(m, "main");
  qir_op *ret = qir_block_terminator(&f->body);
  return qir_value_def(qir_op_operand(ret, i));
}

static unsigned count_ops(qir_module *m, unsigned id) {
  unsigned n = 0;
  qir_func *f = qir_module_lookup(m, "main");
  qir_foreach_op(op, &f->body) n += qir_op_is(op, id);
  return n;
}

static const char *const relu_pair =
    "func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {\n"
    "  %q = quantize(%x) : tensor<1x4x!q.i8<0.5>>\n"
    "  %d = dequantize(%q) : tensor<1x4xf32>\n"
    "  %r = relu(%d) : tensor<1x4xf32>\n"
    "  %rq = quantize(%r) : tensor<1x4x!q.i8<0.25:-3>>\n"
    "  %y = dequantize(%rq) : tensor<1x4xf32>\n"
    "  return(%y)\n"
    "}\n";

START_TEST(test_fold_relu) {
  qir_context *ctx = qir_context_create();
  qir_module *m = parse(ctx, relu_pair);
  qir_onnx_fold_qdq(ctx, qir_module_lookup(m, "main"));
  ck_assert(qir_verify_module(m));
  qir_op *dq = returned_def(m, 0);
  ck_assert(qir_op_is(dq, QIR_OP_DEQUANTIZE));
  qir_op *relu = qir_value_def(qir_op_operand(dq, 0));
  ck_assert(qir_op_is(relu, QIR_OP_RELU));
  ck_assert(qir_tensor_is_quant(qir_op_result(relu, 0)->type));
  ck_assert_double_eq(qir_op_result(relu, 0)->type->elem->scales[0], 0.25);
  ck_assert_str_eq(qir_op_result(relu, 0)->name, "rq");
  ck_assert(qir_op_get_bool(relu, "q.fixed", false));
  ck_assert(qir_op_is(qir_value_def(qir_op_operand(relu, 0)),
                      QIR_OP_QUANTIZE));
  ck_assert_uint_eq(count_ops(m, QIR_OP_DEQUANTIZE), 1);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* The relu's float result is also returned: it must stay in float. */
START_TEST(test_no_fold_float_use) {
  qir_context *ctx = qir_context_create();
  qir_module *m = parse(
      ctx, "func @main(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, "
           "tensor<1x4xf32>) {\n"
           "  %q = quantize(%x) : tensor<1x4x!q.i8<0.5>>\n"
           "  %d = dequantize(%q) : tensor<1x4xf32>\n"
           "  %r = relu(%d) : tensor<1x4xf32>\n"
           "  %rq = quantize(%r) : tensor<1x4x!q.i8<0.25>>\n"
           "  %y = dequantize(%rq) : tensor<1x4xf32>\n"
           "  return(%y, %r)\n"
           "}\n");
  qir_onnx_fold_qdq(ctx, qir_module_lookup(m, "main"));
  ck_assert(qir_verify_module(m));
  qir_op *relu = returned_def(m, 1);
  ck_assert(qir_op_is(relu, QIR_OP_RELU));
  ck_assert(!qir_tensor_is_quant(qir_op_result(relu, 0)->type));
  ck_assert(!qir_op_get_attr(relu, "q.fixed"));
  ck_assert_uint_eq(count_ops(m, QIR_OP_QUANTIZE), 2);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* Two quantize users of different types: no single result type. */
START_TEST(test_no_fold_two_types) {
  qir_context *ctx = qir_context_create();
  qir_module *m = parse(
      ctx, "func @main(%x: tensor<1x4xf32>) -> (tensor<1x4x!q.i8<0.25>>, "
           "tensor<1x4x!q.i8<0.5>>) {\n"
           "  %q = quantize(%x) : tensor<1x4x!q.i8<0.5>>\n"
           "  %d = dequantize(%q) : tensor<1x4xf32>\n"
           "  %r = relu(%d) : tensor<1x4xf32>\n"
           "  %a = quantize(%r) : tensor<1x4x!q.i8<0.25>>\n"
           "  %b = quantize(%r) : tensor<1x4x!q.i8<0.5>>\n"
           "  return(%a, %b)\n"
           "}\n");
  qir_onnx_fold_qdq(ctx, qir_module_lookup(m, "main"));
  ck_assert(qir_verify_module(m));
  ck_assert(qir_op_is(returned_def(m, 0), QIR_OP_QUANTIZE));
  ck_assert_uint_eq(count_ops(m, QIR_OP_RELU), 1);
  ck_assert(!qir_tensor_is_quant(
      qir_op_result(qir_value_def(qir_op_operand(returned_def(m, 0), 0)), 0)
          ->type));
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* A float operand that no dequantize made (a float constant) blocks it. */
START_TEST(test_no_fold_float_operand) {
  qir_context *ctx = qir_context_create();
  qir_module *m = parse(
      ctx, "func @main(%x: tensor<1x4xf32>) -> tensor<1x4x!q.i8<0.25>> {\n"
           "  %q = quantize(%x) : tensor<1x4x!q.i8<0.5>>\n"
           "  %d = dequantize(%q) : tensor<1x4xf32>\n"
           "  %c = constant {value = dense<1.0> : tensor<1x4xf32>} : "
           "tensor<1x4xf32>\n"
           "  %s = add(%d, %c) : tensor<1x4xf32>\n"
           "  %a = quantize(%s) : tensor<1x4x!q.i8<0.25>>\n"
           "  return(%a)\n"
           "}\n");
  qir_onnx_fold_qdq(ctx, qir_module_lookup(m, "main"));
  ck_assert(qir_verify_module(m));
  ck_assert_uint_eq(count_ops(m, QIR_OP_DEQUANTIZE), 1);
  ck_assert(qir_op_is(qir_value_def(qir_op_operand(returned_def(m, 0), 0)),
                      QIR_OP_ADD));
  ck_assert_uint_eq(qir_diag_error_count(ctx), 0);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

Suite *onnx_qdq_suite(void) {
  Suite *s = suite_create("onnx_qdq");
  TCase *tc = tcase_create("fold");
  tcase_add_test(tc, test_fold_relu);
  tcase_add_test(tc, test_no_fold_float_use);
  tcase_add_test(tc, test_no_fold_two_types);
  tcase_add_test(tc, test_no_fold_float_operand);
  suite_add_tcase(s, tc);
  return s;
}
