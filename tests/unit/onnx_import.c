/* tests/unit/onnx_import.c - the ONNX importer through the C API. */
#include <string.h>

#include "onnx_test.h"

static qir_module *import(qir_context *ctx, test_model *m,
                          const char *shapes) {
  size_t len;
  void *buf = test_model_pack(m, &len);
  qir_onnx_import_options o;
  qir_onnx_import_options_init(&o);
  o.input_shapes = shapes;
  qir_module *mod = qir_onnx_import_buffer(ctx, "unit.onnx", buf, len, NULL,
                                           &o);
  free(buf);
  return mod;
}

static qir_op *nth_op(qir_module *m, unsigned n) {
  qir_func *f = qir_module_lookup(m, "main");
  ck_assert_ptr_nonnull(f);
  qir_op *op = f->body.first;
  while (op && n--)
    op = op->next;
  return op;
}

START_TEST(test_import_relu) {
  qir_context *ctx = qir_context_create();
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[2] = {1, 4};
  test_model_input(&m, "x", 2, dims);
  test_model_node(&m, "Relu", "r", "x", NULL, "y");
  test_model_output(&m, "y");
  qir_module *mod = import(ctx, &m, NULL);
  ck_assert_ptr_nonnull(mod);
  qir_func *f = qir_module_lookup(mod, "main");
  ck_assert_uint_eq(f->body.num_args, 1);
  ck_assert_str_eq(f->body.args[0]->name, "x");
  qir_op *op = nth_op(mod, 0);
  ck_assert(qir_op_is(op, QIR_OP_RELU));
  ck_assert_str_eq(qir_op_result(op, 0)->name, "y");
  ck_assert_int_eq(qir_op_result(op, 0)->type->dims[1], 4);
  ck_assert(qir_op_is(nth_op(mod, 1), QIR_OP_RETURN));
  ck_assert_uint_eq(f->num_results, 1);
  qir_module_destroy(mod);
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_truncated) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[1] = {4};
  test_model_input(&m, "x", 1, dims);
  test_model_node(&m, "Relu", "r", "x", NULL, "y");
  test_model_output(&m, "y");
  size_t len;
  unsigned char *buf = test_model_pack(&m, &len);
  qir_module *mod =
      qir_onnx_import_buffer(ctx, "cut.onnx", buf, len - 3, NULL, NULL);
  ck_assert_ptr_null(mod);
  ck_assert_str_eq(log.text, "'cut.onnx' is not a valid ONNX model "
                             "(truncated or corrupted protobuf)\n");
  /* Nothing at all is not a model either (no graph). */
  log.len = 0;
  ck_assert_ptr_null(qir_onnx_import_buffer(ctx, "empty.onnx", buf, 0, NULL,
                                            NULL));
  ck_assert_ptr_nonnull(strstr(log.text, "'empty.onnx' is not a valid"));
  free(buf);
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_opset_range) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  test_model m;
  test_model_init(&m, QIR_ONNX_MAX_OPSET + 1);
  int64_t dims[1] = {4};
  test_model_input(&m, "x", 1, dims);
  test_model_node(&m, "Relu", "r", "x", NULL, "y");
  test_model_output(&m, "y");
  ck_assert_ptr_null(import(ctx, &m, NULL));
  ck_assert_str_eq(log.text,
                   "'unit.onnx' uses ONNX opset 19; qir supports opsets 7 to "
                   "18\n");
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_unsupported_listed_once) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[1] = {4};
  test_model_input(&m, "x", 1, dims);
  test_model_node(&m, "GridSample", "grid_0", "x", NULL, "a");
  test_model_node(&m, "Relu", "r", "a", NULL, "b");
  test_model_node(&m, "NonMaxSuppression", NULL, "b", NULL, "c");
  test_model_node(&m, "GridSample", "grid_3", "c", NULL, "d");
  test_model_output(&m, "d");
  ck_assert_ptr_null(import(ctx, &m, NULL));
  ck_assert_str_eq(log.text, "unsupported ONNX operators: GridSample (nodes: "
                             "grid_0, grid_3), NonMaxSuppression (nodes: #2)\n");
  ck_assert_uint_eq(qir_diag_error_count(ctx), 1);
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_input_shapes) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[3] = {-1, 3, -1};
  test_model_input(&m, "in:0", 3, dims);
  test_model_node(&m, "Relu", "r", "in:0", NULL, "y");
  test_model_output(&m, "y");
  ck_assert_ptr_null(import(ctx, &m, NULL));
  ck_assert_str_eq(log.text,
                   "input 'in:0' has a dynamic dimension (tensor<?x3x?xf32>); "
                   "fix it with --input-shapes='in:0:?x3x?', each ? "
                   "replaced by a size\n");
  /* Names may contain ':'; the last one separates the dims. */
  qir_module *mod = import(ctx, &m, "in:0:2x3x5");
  ck_assert_ptr_nonnull(mod);
  qir_func *f = qir_module_lookup(mod, "main");
  const qir_type *t = f->body.args[0]->type;
  ck_assert_int_eq(t->dims[0], 2);
  ck_assert_int_eq(t->dims[2], 5);
  ck_assert_str_eq(f->body.args[0]->name, "in_0");
  qir_module_destroy(mod);
  log.len = 0;
  ck_assert_ptr_null(import(ctx, &m, "in:0:2x4x5"));
  ck_assert_str_eq(log.text,
                   "--input-shapes gives input 'in:0' the shape 2x4x5, which "
                   "contradicts the model (tensor<?x3x?xf32>)\n");
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_names) {
  qir_context *ctx = qir_context_create();
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[1] = {4};
  test_model_input(&m, "x", 1, dims);
  test_model_node(&m, "Relu", "a", "x", NULL, "conv/out:0");
  test_model_node(&m, "Relu", "b", "conv/out:0", NULL, "conv_out_0");
  test_model_node(&m, "Relu", "c", "conv_out_0", NULL, "42");
  test_model_output(&m, "42");
  qir_module *mod = import(ctx, &m, NULL);
  ck_assert_ptr_nonnull(mod);
  qir_op *a = nth_op(mod, 0), *b = nth_op(mod, 1), *c = nth_op(mod, 2);
  ck_assert_str_eq(qir_op_result(a, 0)->name, "conv_out_0");
  ck_assert_str_eq(qir_op_get_string(a, "onnx.name"), "conv/out:0");
  ck_assert_str_eq(qir_op_result(b, 0)->name, "conv_out_0_1");
  ck_assert_str_eq(qir_op_get_string(b, "onnx.name"), "conv_out_0");
  ck_assert_str_eq(qir_op_result(c, 0)->name, "_42");
  ck_assert_str_eq(qir_op_get_string(c, "onnx.name"), "42");
  qir_module_destroy(mod);
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_typed_initializer_and_fold) {
  qir_context *ctx = qir_context_create();
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[1] = {3};
  test_model_input(&m, "x", 1, dims);
  const float w[3] = {1.5f, -2.0f, 0.25f};
  test_model_float_init(&m, "w", 3, w);
  /* neg(w) has a constant operand: it folds into a constant named nw. */
  test_model_node(&m, "Neg", "n", "w", NULL, "nw");
  test_model_node(&m, "Add", "add", "x", "nw", "y");
  test_model_output(&m, "y");
  qir_module *mod = import(ctx, &m, NULL);
  ck_assert_ptr_nonnull(mod);
  qir_op *c = nth_op(mod, 0);
  ck_assert(qir_op_is(c, QIR_OP_CONSTANT));
  ck_assert_str_eq(qir_op_result(c, 0)->name, "nw");
  const qir_attr *d = qir_value_constant(qir_op_result(c, 0));
  ck_assert_ptr_nonnull(d);
  ck_assert_double_eq(qir_dense_get_f64(d, 0), -1.5);
  ck_assert_double_eq(qir_dense_get_f64(d, 2), -0.25);
  ck_assert(qir_op_is(nth_op(mod, 1), QIR_OP_ADD));
  /* The unused initializer w is gone. */
  ck_assert(qir_op_is(nth_op(mod, 2), QIR_OP_RETURN));
  qir_module_destroy(mod);
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_too_many_inputs) {
  qir_context *ctx = qir_context_create();
  diag_log log;
  diag_log_install(ctx, &log);
  test_model m;
  test_model_init(&m, 13);
  int64_t dims[1] = {3};
  test_model_input(&m, "x", 1, dims);
  test_model_node(&m, "Relu", "r", "x", "x", "y");
  test_model_output(&m, "y");
  ck_assert_ptr_null(import(ctx, &m, NULL));
  ck_assert_str_eq(log.text, "ONNX node 'r' (Relu): the node has 2 inputs; "
                             "Relu takes at most 1\n");
  test_model_free(&m);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_import_softmax_opset_semantics) {
  qir_context *ctx = qir_context_create();
  for (int opset = 11; opset <= 13; opset += 2) {
    test_model m;
    test_model_init(&m, opset);
    int64_t dims[3] = {2, 3, 4};
    test_model_input(&m, "x", 3, dims);
    Onnx__NodeProto *n = test_model_node(&m, "Softmax", "s", "x", NULL, "y");
    test_model_int_attr(&m, n, "axis", 1);
    test_model_output(&m, "y");
    qir_module *mod = import(ctx, &m, NULL);
    ck_assert_ptr_nonnull(mod);
    /* Opset 11: reshape to 2x12, softmax, reshape back.  13: one op. */
    qir_op *first = nth_op(mod, 0);
    if (opset == 11) {
      ck_assert(qir_op_is(first, QIR_OP_RESHAPE));
      ck_assert(qir_op_is(nth_op(mod, 1), QIR_OP_SOFTMAX));
      ck_assert(qir_op_is(nth_op(mod, 2), QIR_OP_RESHAPE));
    } else {
      ck_assert(qir_op_is(first, QIR_OP_SOFTMAX));
      ck_assert_int_eq(qir_op_get_int(first, "axis", -1), 1);
    }
    qir_module_destroy(mod);
    test_model_free(&m);
  }
  qir_context_destroy(ctx);
}
END_TEST

Suite *onnx_import_suite(void) {
  Suite *s = suite_create("onnx_import");
  TCase *tc = tcase_create("import");
  tcase_add_test(tc, test_import_relu);
  tcase_add_test(tc, test_import_truncated);
  tcase_add_test(tc, test_import_opset_range);
  tcase_add_test(tc, test_import_unsupported_listed_once);
  tcase_add_test(tc, test_import_input_shapes);
  tcase_add_test(tc, test_import_names);
  tcase_add_test(tc, test_import_typed_initializer_and_fold);
  tcase_add_test(tc, test_import_too_many_inputs);
  tcase_add_test(tc, test_import_softmax_opset_semantics);
  suite_add_tcase(s, tc);
  return s;
}
