/* tests/unit/onnx_export.c - the ONNX exporter through the C API. */
#include <string.h>

#include "onnx_test.h"

/* @main(x: 1x2x4x4) -> relu(conv2d(x, w, b)) with a 3x2x3x3 kernel. */
static qir_module *build_conv(qir_context *ctx) {
  qir_module *m = qir_module_create(ctx);
  int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {3, 2, 3, 3}, bd[1] = {3};
  const qir_type *xt = qir_tensor_of(ctx, QIR_F32, 4, xd);
  const char *names[1] = {"x"};
  qir_func *f = qir_func_create(m, "main", qir_loc_unknown(), 1, &xt, names,
                                0, NULL);
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_end(&b, &f->body);
  double wv[54], bv[3] = {0.5, -1, 2};
  for (int i = 0; i < 54; i++)
    wv[i] = (i % 7) * 0.125 - 0.25;
  qir_value *w = qir_build_constant(
      &b, qir_attr_dense_from_f64(ctx, qir_tensor_of(ctx, QIR_F32, 4, wd), wv));
  qir_value_set_name(ctx, w, "w");
  qir_value *bias = qir_build_constant(
      &b, qir_attr_dense_from_f64(ctx, qir_tensor_of(ctx, QIR_F32, 1, bd), bv));
  qir_value_set_name(ctx, bias, "b");
  int64_t pads[4] = {1, 1, 1, 1};
  qir_named_attr a = qir_named(ctx, "pads", qir_attr_ints(ctx, 4, pads));
  qir_value *ops[3] = {f->body.args[0], w, bias};
  qir_value *c = qir_build_value(&b, QIR_OP_CONV2D, 3, ops, 1, &a);
  ck_assert_ptr_nonnull(c);
  qir_value_set_name(ctx, c, "c");
  qir_value *r = qir_build_value(&b, QIR_OP_RELU, 1, &c, 0, NULL);
  qir_value_set_name(ctx, r, "r");
  qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_RETURN), 1, &r, 0, NULL, 0,
                  NULL);
  qir_func_set_result_types(f, 1, &r->type);
  return m;
}

START_TEST(test_export_structure) {
  qir_context *ctx = qir_context_create();
  qir_module *m = build_conv(ctx);
  size_t len;
  void *buf = qir_onnx_export_buffer(ctx, m, &len);
  ck_assert_ptr_nonnull(buf);
  Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, len, buf);
  ck_assert_ptr_nonnull(model);
  ck_assert_uint_eq(model->n_opset_import, 1);
  ck_assert_int_eq(model->opset_import[0]->version, QIR_ONNX_EXPORT_OPSET);
  Onnx__GraphProto *g = model->graph;
  ck_assert_uint_eq(g->n_input, 1);
  ck_assert_str_eq(g->input[0]->name, "x");
  ck_assert_uint_eq(g->n_initializer, 2);
  ck_assert_str_eq(g->initializer[0]->name, "w");
  ck_assert_uint_eq(g->initializer[0]->raw_data.len, 54 * 4);
  ck_assert_uint_eq(g->n_node, 2);
  ck_assert_str_eq(g->node[0]->op_type, "Conv");
  ck_assert_uint_eq(g->node[0]->n_attribute, 2);
  ck_assert_str_eq(g->node[0]->attribute[0]->name, "kernel_shape");
  ck_assert_str_eq(g->node[0]->attribute[1]->name, "pads");
  ck_assert_str_eq(g->node[1]->op_type, "Relu");
  ck_assert_uint_eq(g->n_output, 1);
  ck_assert_str_eq(g->output[0]->name, "r");
  onnx__model_proto__free_unpacked(model, NULL);
  free(buf);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_export_import_round_trip) {
  qir_context *ctx = qir_context_create();
  qir_module *m = build_conv(ctx);
  size_t len;
  void *buf = qir_onnx_export_buffer(ctx, m, &len);
  ck_assert_ptr_nonnull(buf);
  qir_module *back = qir_onnx_import_buffer(ctx, "rt.onnx", buf, len, NULL,
                                            NULL);
  ck_assert_ptr_nonnull(back);
  qir_print_options po;
  qir_print_options_init(&po);
  char *a = qir_print_module_to_string(m, &po, NULL);
  char *b = qir_print_module_to_string(back, &po, NULL);
  /* The re-import adds the producer attribute and the graph name. */
  ck_assert_ptr_nonnull(strstr(b, "%c = conv2d(%x, %w, %b) {pads = [1, 1, 1, "
                                  "1]} : tensor<1x3x4x4xf32>"));
  ck_assert_ptr_nonnull(strstr(a, "func @main("));
  ck_assert_str_eq(strstr(a, "func @main("), strstr(b, "func @main("));
  free(a);
  free(b);
  free(buf);
  qir_module_destroy(back);
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_export_unsupported_type) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  qir_module *m = qir_module_create(ctx);
  int64_t d[1] = {4};
  const qir_type *ft = qir_tensor_of(ctx, QIR_F32, 1, d);
  double scale = 0.5;
  /* ONNX's QuantizeLinear has no 32-bit result. */
  const qir_type *qt = qir_tensor_type(
      ctx,
      qir_quant_type(ctx, qir_loc_unknown(), QIR_I32, -1, 1, &scale, NULL,
                     qir_scalar_min(QIR_I32), qir_scalar_max(QIR_I32)),
      1, d);
  const char *names[1] = {"x"};
  qir_func *f = qir_func_create(m, "main", qir_loc_unknown(), 1, &ft, names, 1,
                                &ft);
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_end(&b, &f->body);
  qir_value *arg = f->body.args[0];
  qir_op *q = qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_QUANTIZE), 1,
                              &arg, 1, &qt, 0, NULL);
  qir_value *qv = qir_op_result(q, 0);
  qir_op *dq = qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_DEQUANTIZE), 1,
                               &qv, 1, &ft, 0, NULL);
  qir_value *dv = qir_op_result(dq, 0);
  qir_build_typed(&b, qir_builtin_op(ctx, QIR_OP_RETURN), 1, &dv, 0, NULL, 0,
                  NULL);
  size_t len = 1;
  ck_assert_ptr_null(qir_onnx_export_buffer(ctx, m, &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_ptr_nonnull(
      strstr(log.text, "quantizing to i32 has no ONNX form"));
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

Suite *onnx_export_suite(void) {
  Suite *s = suite_create("onnx_export");
  TCase *tc = tcase_create("export");
  tcase_add_test(tc, test_export_structure);
  tcase_add_test(tc, test_export_import_round_trip);
  tcase_add_test(tc, test_export_unsupported_type);
  suite_add_tcase(s, tc);
  return s;
}
