/* tests/unit/text_parse.c - qir_parse_buffer: structure, names, types,
 * dense data, resources, inference and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/text_test.h"

static const char *const small_module =
    "module @m attributes {producer = \"test\"}\n"
    "func @main(%x: tensor<1x8xf32>, %1: tensor<1x8xf32>) -> tensor<1x8xf32> {\n"
    "  %a = add(%x, %1) : tensor<1x8xf32>\n"
    "  %7 = relu(%a) : tensor<1x8xf32>\n"
    "  return(%7)\n"
    "}\n";

START_TEST(test_parse_structure) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, small_module);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(d.count, 0);
  ck_assert_str_eq(m->name, "m");
  ck_assert_uint_eq(m->num_funcs, 1);
  qir_func *f = m->first;
  ck_assert_str_eq(f->name, "main");
  ck_assert_uint_eq(f->body.num_args, 2);
  ck_assert_str_eq(f->body.args[0]->name, "x");
  ck_assert_ptr_null(f->body.args[1]->name); /* digits: anonymous */
  ck_assert_uint_eq(f->body.num_ops, 3);
  qir_op *add = f->body.first;
  ck_assert_str_eq(add->def->name, "add");
  ck_assert_ptr_eq(qir_op_operand(add, 0), f->body.args[0]);
  ck_assert_ptr_eq(qir_op_operand(add, 1), f->body.args[1]);
  ck_assert_str_eq(add->results[0].name, "a");
  ck_assert_uint_eq(add->loc.line, 3);
  ck_assert_uint_eq(add->loc.col, 3);
  qir_op *relu = add->next;
  ck_assert_ptr_null(relu->results[0].name);
  ck_assert_ptr_eq(qir_op_operand(relu, 0), &add->results[0]);
  const qir_type *t = relu->results[0].type;
  ck_assert(qir_type_is_tensor(t));
  ck_assert_uint_eq(t->rank, 2);
  ck_assert_int_eq(t->dims[1], 8);
  ck_assert_int_eq(t->scalar, QIR_F32);
  ck_assert(qir_verify_module(m));
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

/* One error: its text, line and column. */
static void expect_error(const char *src, unsigned line, unsigned col,
                         const char *msg) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(ctx, src);
  ck_assert_msg(m == NULL, "parsed: %s", src);
  ck_assert_uint_ge(d.count, 1);
  ck_assert_int_eq(d.sev[0], QIR_SEV_ERROR);
  ck_assert_str_eq(d.msg[0], msg);
  ck_assert_uint_eq(d.line[0], line);
  ck_assert_uint_eq(d.col[0], col);
  qir_context_destroy(ctx);
}

START_TEST(test_parse_errors) {
  expect_error("func @f() {\n  %0 = foo()\n}", 2, 8, "unknown op 'foo'");
  expect_error("func @f() {\n  return(%x)\n}", 2, 10,
               "use of undefined value '%x'");
  expect_error("func @f(%x: tensor<2xq9>) {}", 1, 22,
               "unknown element type 'q9'");
  expect_error("func @f() {\n  %0 = constant {value = dense<[1.0, 2.0, 3.0]> "
               ": tensor<2x2xf32>} : tensor<2x2xf32>\n}",
               2, 26, "dense attribute has 3 elements but tensor<2x2xf32> needs 4");
  expect_error("func @f() {\n  %0 = constant {value = dense_resource<w> : "
               "tensor<2xf32>} : tensor<2xf32>\n}",
               2, 41, "no data for resource 'w' in the resources section");
  expect_error("func @f() {\n  \"abc\n}", 2, 3, "unterminated string");
  expect_error("func @f(%x: tensor<2xf32>) {\n  %0 = call(%x)\n}", 2, 3,
               "'call' op needs explicit result types");
  expect_error("func @f(%x tensor<2xf32>) {}", 1, 12,
               "expected ':', found 'tensor<2xf32>'");
  expect_error("func @f() { %0 = constant {value = dense<1> : tensor<99999999999x"
               "99999999999xf32>} : tensor<1xf32> }",
               1, 47, "tensor has more than 2^40 elements");
}
END_TEST

START_TEST(test_parse_empty_input) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = qir_parse_buffer(ctx, NULL, NULL, 0, 1);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(m->num_funcs, 0);
  char *s = text_print(m);
  ck_assert_str_eq(s, "");
  free(s);
  qir_module_destroy(m);
  m = qir_parse_buffer(ctx, "c.qir", "// only a comment", 17, 1);
  ck_assert_ptr_nonnull(m);
  qir_module_destroy(m);
  ck_assert_uint_eq(d.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_parse_first_line) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  const char *src = "func @f() {\n  %0 = nope()\n}\n";
  qir_module *m = qir_parse_buffer(ctx, "chunk.qir", src, strlen(src), 40);
  ck_assert_ptr_null(m);
  ck_assert_uint_eq(d.line[0], 41);
  size_t len;
  const char *line = qir_diag_source_line(ctx, "chunk.qir", 41, &len);
  ck_assert_ptr_nonnull(line);
  ck_assert_int_eq(strncmp(line, "  %0 = nope()", len), 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_parse_dense_values) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(
      ctx, "func @f() {\n"
           "  %a = constant {value = dense<[[0.5, -2.0], [65504.0, 1e-3]]> : tensor<2x2xf16>} : tensor<2x2xf16>\n"
           "  %b = constant {value = dense<3> : tensor<5xi16>} : tensor<5xi16>\n"
           "  %c = constant {value = dense<\"0x0000803F00000040\"> : tensor<2xf32>} : tensor<2xf32>\n"
           "  %d = constant {value = dense<[1.5, -1.5]> : tensor<2xbf16>} : tensor<2xbf16>\n"
           "  return\n"
           "}\n");
  ck_assert_ptr_nonnull(m);
  qir_op *op = m->first->body.first;
  const qir_attr *a = qir_op_get_attr(op, "value");
  ck_assert_int_eq(a->kind, QIR_ATTR_DENSE);
  ck_assert_uint_eq(a->u.dense.nbytes, 8);
  ck_assert(qir_dense_get_f64(a, 0) == 0.5);
  ck_assert(qir_dense_get_f64(a, 1) == -2.0);
  ck_assert(qir_dense_get_f64(a, 2) == 65504.0);
  ck_assert(fabs(qir_dense_get_f64(a, 3) - 1e-3) < 1e-6);
  const qir_attr *b = qir_op_get_attr(op->next, "value");
  ck_assert(b->u.dense.splat);
  ck_assert_int_eq(qir_dense_get_i64(b, 4), 3);
  const qir_attr *c = qir_op_get_attr(op->next->next, "value");
  ck_assert(qir_dense_get_f64(c, 0) == 1.0 && qir_dense_get_f64(c, 1) == 2.0);
  const qir_attr *e = qir_op_get_attr(op->next->next->next, "value");
  ck_assert(qir_dense_get_f64(e, 1) == -1.5);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_parse_resources) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(
      ctx, "func @f() -> (tensor<2xf32>, tensor<2xf32>) {\n"
           "  %a = constant {value = dense_resource<w> : tensor<2xf32>} : tensor<2xf32>\n"
           "  %b = constant {value = dense_resource<w> : tensor<2xf32>} : tensor<2xf32>\n"
           "  return(%a, %b)\n"
           "}\n"
           "resources {\n  w: \"0x0000803F000000C0\",\n}\n");
  ck_assert_ptr_nonnull(m);
  qir_op *op = m->first->body.first;
  const qir_attr *a = qir_op_get_attr(op, "value");
  ck_assert_int_eq(a->kind, QIR_ATTR_DENSE);
  ck_assert_str_eq(a->u.dense.resource, "w");
  ck_assert(qir_dense_get_f64(a, 0) == 1.0);
  ck_assert(qir_dense_get_f64(a, 1) == -2.0);
  /* Both references share one attribute. */
  ck_assert_ptr_eq(qir_op_get_attr(op->next, "value"), a);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_parse_infers_types) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(
      ctx, "func @f(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {\n"
           "  %0 = add(%x, %y)\n  %1 = relu(%0)\n  return(%1)\n}\n");
  ck_assert_ptr_nonnull(m);
  qir_op *op = m->first->body.first;
  char buf[64];
  qir_type_format(op->results[0].type, buf, sizeof buf);
  ck_assert_str_eq(buf, "tensor<2x3xf32>");
  ck_assert_ptr_eq(op->next->results[0].type, op->results[0].type);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_parse_elided) {
  text_diags d;
  qir_context *ctx = text_context(&d);
  qir_module *m = text_parse(
      ctx, "func @f() {\n  %0 = constant {value = dense_resource<__elided__> : "
           "tensor<3xi32>} : tensor<3xi32>\n  return\n}\n");
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(d.count, 1);
  ck_assert_int_eq(d.sev[0], QIR_SEV_WARNING);
  ck_assert_str_eq(d.msg[0], "elided constant data read as zeros");
  const qir_attr *a = qir_op_get_attr(m->first->body.first, "value");
  ck_assert_int_eq(qir_dense_get_i64(a, 2), 0);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

Suite *text_parse_suite(void) {
  Suite *s = suite_create("text_parse");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, test_parse_structure);
  tcase_add_test(tc, test_parse_errors);
  tcase_add_test(tc, test_parse_empty_input);
  tcase_add_test(tc, test_parse_first_line);
  tcase_add_test(tc, test_parse_dense_values);
  tcase_add_test(tc, test_parse_resources);
  tcase_add_test(tc, test_parse_infers_types);
  tcase_add_test(tc, test_parse_elided);
  suite_add_tcase(s, tc);
  return s;
}
