/* tests/unit/ops_infer.c - type inference of the built-in ops. */
#include <string.h>

#include "ops_util.h"

#define CK_TYPE(fx, t, text) ck_assert_str_eq(ops_type_text(fx, t), text)

static const qir_type *result(qir_op *op) {
  ck_assert_ptr_nonnull(op);
  return op->results[0].type;
}

START_TEST(test_registry_ids) {
  qir_context *ctx = qir_context_create();
  for (unsigned id = 0; id < QIR_NUM_OPS; id++) {
    const qir_op_def *d = qir_builtin_op(ctx, id);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->id, id);
    ck_assert_ptr_eq(qir_lookup_op(ctx, d->name, strlen(d->name)), d);
  }
  const qir_op_def *conv = qir_lookup_op(ctx, "conv2d", 6);
  ck_assert_uint_eq(conv->id, QIR_OP_CONV2D);
  ck_assert_int_eq(conv->min_operands, 2);
  ck_assert_int_eq(conv->max_operands, 4);
  ck_assert(conv->traits & QIR_TRAIT_QUANTIZABLE);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(test_infer_broadcast) {
  ops_fx fx;
  ops_fx_init(&fx, "2x1x3:f32", "4x1:f32", "?x3:f32", NULL);
  qir_value *ab[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_ADD, 2, ab, 0, NULL)),
          "tensor<2x4x3xf32>");
  qir_value *ac[2] = {ops_arg(&fx, 0), ops_arg(&fx, 2)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_MUL, 2, ac, 0, NULL)),
          "tensor<2x?x3xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_LESS, 2, ab, 0, NULL)),
          "tensor<2x4x3xi1>");
  ck_assert_uint_eq(fx.num_errors, 0);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_broadcast_error) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3:f32", "4:f32", NULL);
  qir_value *ab[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  ck_assert_ptr_null(ops_build(&fx, QIR_OP_SUB, 2, ab, 0, NULL));
  ck_assert_str_eq(fx.diags,
                   "'sub' op operands #0 and #1 are not broadcast compatible: "
                   "tensor<2x3xf32> and tensor<4xf32>\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_conv2d) {
  ops_fx fx;
  ops_fx_init(&fx, "1x3x32x32:f32", "8x3x3x3:f32", "8x1x3x3:f32",
              "1x8x?x31:f32", NULL);
  qir_value *xw[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  int64_t s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1}, pa[4] = {0, 1, 2, 0},
          d2[2] = {2, 2};
  qir_named_attr a[2] = {ops_ints(&fx, "strides", 2, s2),
                         ops_ints(&fx, "pads", 4, p1)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONV2D, 2, xw, 2, a)),
          "tensor<1x8x16x16xf32>");
  /* dilation 2: effective kernel 5; asymmetric pads top 0, bottom 2 */
  qir_named_attr b[2] = {ops_ints(&fx, "dilations", 2, d2),
                         ops_ints(&fx, "pads", 4, pa)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONV2D, 2, xw, 2, b)),
          "tensor<1x8x30x29xf32>");
  /* depthwise with a dynamic height */
  qir_value *dw[2] = {ops_arg(&fx, 3), ops_arg(&fx, 2)};
  qir_named_attr g = ops_int(&fx, "group", 8);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONV2D, 2, dw, 1, &g)),
          "tensor<1x8x?x29xf32>");
  ck_assert_uint_eq(fx.num_errors, 0);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_conv_transpose2d) {
  ops_fx fx;
  ops_fx_init(&fx, "1x8x7x7:f32", "8x4x3x3:f32", NULL);
  qir_value *xw[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  int64_t s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1}, op1[2] = {1, 1};
  qir_named_attr a[3] = {ops_ints(&fx, "strides", 2, s2),
                         ops_ints(&fx, "pads", 4, p1),
                         ops_ints(&fx, "output_padding", 2, op1)};
  /* 2 * (7 - 1) + 1 + 3 - 2 = 14 */
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONV_TRANSPOSE2D, 2, xw, 3, a)),
          "tensor<1x4x14x14xf32>");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_pool_ceil_mode) {
  ops_fx fx;
  ops_fx_init(&fx, "1x2x5x4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  int64_t k2[2] = {2, 2}, s2[2] = {2, 2}, pads[4] = {0, 0, 0, 1};
  qir_named_attr a[4] = {ops_ints(&fx, "kernel", 2, k2),
                         ops_ints(&fx, "strides", 2, s2),
                         ops_int(&fx, "ceil_mode", 1),
                         ops_ints(&fx, "pads", 4, pads)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_MAX_POOL2D, 1, &x, 2, a)),
          "tensor<1x2x2x2xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_MAX_POOL2D, 1, &x, 3, a)),
          "tensor<1x2x3x2xf32>");
  /* width 4 + right pad 1: a third window would start in the padding */
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_AVG_POOL2D, 1, &x, 4, a)),
          "tensor<1x2x3x2xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_GLOBAL_AVG_POOL, 1, &x, 0, NULL)),
          "tensor<1x2x1x1xf32>");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_reshape) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3x4:f32", "?x3x4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0), *y = ops_arg(&fx, 1);
  int64_t s[2] = {-1, 6}, bad[2] = {5, -1};
  qir_named_attr a = ops_ints(&fx, "shape", 2, s);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_RESHAPE, 1, &x, 1, &a)),
          "tensor<4x6xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_RESHAPE, 1, &y, 1, &a)),
          "tensor<?x6xf32>");
  qir_named_attr b = ops_ints(&fx, "shape", 2, bad);
  ck_assert_ptr_null(ops_build(&fx, QIR_OP_RESHAPE, 1, &x, 1, &b));
  ck_assert_str_eq(fx.diags, "'reshape' op cannot reshape tensor<2x3x4xf32> "
                             "into shape [5, -1]\n");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_slice) {
  ops_fx fx;
  ops_fx_init(&fx, "10x8x?:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  /* axis 0: 1..100 step 3 clamps to 1..10 -> 3 elements; axis 1: -1 down
   * to the start (ends = INT64_MIN) step -2 -> 4 elements; axis 2 stays
   * dynamic */
  int64_t starts[3] = {1, -1, 0}, ends[3] = {100, INT64_MIN, 2},
          steps[3] = {3, -2, 1};
  qir_named_attr a[3] = {ops_ints(&fx, "starts", 3, starts),
                         ops_ints(&fx, "ends", 3, ends),
                         ops_ints(&fx, "steps", 3, steps)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_SLICE, 1, &x, 3, a)),
          "tensor<3x4x?xf32>");
  int64_t s1[1] = {5}, e1[1] = {2}, ax[1] = {-2};
  qir_named_attr b[3] = {ops_ints(&fx, "starts", 1, s1),
                         ops_ints(&fx, "ends", 1, e1),
                         ops_ints(&fx, "axes", 1, ax)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_SLICE, 1, &x, 3, b)),
          "tensor<10x0x?xf32>");
  ck_assert_uint_eq(fx.num_errors, 0);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_gather_concat_transpose) {
  ops_fx fx;
  ops_fx_init(&fx, "5x6x7:f32", "2x3:i64", "5x?x7:f32", NULL);
  qir_value *gi[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  qir_named_attr ax1 = ops_int(&fx, "axis", 1);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_GATHER, 2, gi, 1, &ax1)),
          "tensor<5x2x3x7xf32>");
  qir_value *cc[2] = {ops_arg(&fx, 0), ops_arg(&fx, 0)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONCAT, 2, cc, 1, &ax1)),
          "tensor<5x12x7xf32>");
  qir_value *cd[2] = {ops_arg(&fx, 0), ops_arg(&fx, 2)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONCAT, 2, cd, 1, &ax1)),
          "tensor<5x?x7xf32>");
  int64_t perm[3] = {2, 0, 1};
  qir_named_attr p = ops_ints(&fx, "perm", 3, perm);
  qir_value *x = ops_arg(&fx, 0);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_TRANSPOSE, 1, &x, 1, &p)),
          "tensor<7x5x6xf32>");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_matmul_gemm) {
  ops_fx fx;
  ops_fx_init(&fx, "2x1x3x4:f32", "5x4x6:f32", "4:f32", "3x4:f32",
              "6x4:f32", NULL);
  qir_value *ab[2] = {ops_arg(&fx, 0), ops_arg(&fx, 1)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_MATMUL, 2, ab, 0, NULL)),
          "tensor<2x5x3x6xf32>");
  qir_value *av[2] = {ops_arg(&fx, 0), ops_arg(&fx, 2)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_MATMUL, 2, av, 0, NULL)),
          "tensor<2x1x3xf32>");
  qir_value *g[2] = {ops_arg(&fx, 3), ops_arg(&fx, 4)};
  qir_named_attr tb = ops_int(&fx, "trans_b", 1);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_GEMM, 2, g, 1, &tb)),
          "tensor<3x6xf32>");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_reduce_argmax) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3x4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  int64_t axes[2] = {0, -1};
  qir_named_attr a[2] = {ops_ints(&fx, "axes", 2, axes),
                         ops_int(&fx, "keepdims", 0)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_REDUCE_SUM, 1, &x, 2, a)),
          "tensor<3xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_REDUCE_MEAN, 1, &x, 1, a)),
          "tensor<1x3x1xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_REDUCE_MAX, 1, &x, 0, NULL)),
          "tensor<1x1x1xf32>");
  qir_named_attr ax = ops_int(&fx, "axis", 1);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_ARGMAX, 1, &x, 1, &ax)),
          "tensor<2x1x4xi64>");
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_split) {
  ops_fx fx;
  ops_fx_init(&fx, "1x6x4:f32", NULL);
  qir_value *x = ops_arg(&fx, 0);
  int64_t sizes[2] = {2, 4};
  qir_named_attr a[2] = {ops_int(&fx, "axis", 1),
                         ops_ints(&fx, "sizes", 2, sizes)};
  qir_op *op = qir_op_create(fx.ctx, qir_builtin_op(fx.ctx, QIR_OP_SPLIT),
                             qir_loc_unknown(), 1, &x, 2, NULL, 2, a);
  const qir_type *t[2];
  ck_assert(op->def->infer(op, t));
  CK_TYPE(&fx, t[0], "tensor<1x2x4xf32>");
  CK_TYPE(&fx, t[1], "tensor<1x4x4xf32>");
  int64_t bad[2] = {2, 3};
  qir_op_set_attr(op, "sizes", qir_attr_ints(fx.ctx, 2, bad));
  ck_assert(!op->def->infer(op, t));
  ck_assert_str_eq(fx.diags, "'split' op attribute 'sizes' sums to 5 but the "
                             "split dim has size 6\n");
  qir_op_erase(op);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_movement_misc) {
  ops_fx fx;
  ops_fx_init(&fx, "1x8x4x6:f32", "3x1:f32", NULL);
  qir_value *x = ops_arg(&fx, 0), *y = ops_arg(&fx, 1);
  qir_named_attr b = ops_int(&fx, "blocksize", 2);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_DEPTH_TO_SPACE, 1, &x, 1, &b)),
          "tensor<1x2x8x12xf32>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_SPACE_TO_DEPTH, 1, &x, 1, &b)),
          "tensor<1x32x2x3xf32>");
  int64_t pads[8] = {0, 0, 1, 2, 0, 0, 3, -1};
  qir_named_attr p = ops_ints(&fx, "pads", 8, pads);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_PAD, 1, &x, 1, &p)),
          "tensor<1x8x8x7xf32>");
  int64_t shape[3] = {2, 3, 4};
  qir_named_attr s = ops_ints(&fx, "shape", 3, shape);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_EXPAND, 1, &y, 1, &s)),
          "tensor<2x3x4xf32>");
  int64_t rep[2] = {2, 3};
  qir_named_attr r = ops_ints(&fx, "repeats", 2, rep);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_TILE, 1, &y, 1, &r)),
          "tensor<6x3xf32>");
  int64_t sizes[4] = {1, 8, 8, 12};
  qir_named_attr rs = ops_ints(&fx, "sizes", 4, sizes);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_RESIZE, 1, &x, 1, &rs)),
          "tensor<1x8x8x12xf32>");
  ck_assert_uint_eq(fx.num_errors, 0);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_shape_ops) {
  ops_fx fx;
  ops_fx_init(&fx, "2x?x5:f32", "3:i64", NULL);
  qir_value *x = ops_arg(&fx, 0), *s = ops_arg(&fx, 1);
  qir_named_attr st = ops_int(&fx, "start", -2);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_SHAPE, 1, &x, 1, &st)),
          "tensor<2xi64>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONSTANT_OF_SHAPE, 1, &s, 0, NULL)),
          "tensor<?x?x?xf32>");
  int64_t dims[2] = {2, 3};
  qir_value *c = ops_const_i64(&fx, "2:i64", dims);
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_CONSTANT_OF_SHAPE, 1, &c, 0, NULL)),
          "tensor<2x3xf32>");
  int64_t r0 = 1, r1 = 10, r2 = 4;
  qir_value *rng[3] = {ops_const_i64(&fx, ":i64", &r0),
                       ops_const_i64(&fx, ":i64", &r1),
                       ops_const_i64(&fx, ":i64", &r2)};
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_RANGE, 3, rng, 0, NULL)),
          "tensor<3xi64>");
  ck_assert_uint_eq(fx.num_errors, 0);
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_infer_quantized_operands) {
  ops_fx fx;
  ops_fx_init(&fx, "1x4:!q.i8", "1x4:!q.i8", NULL);
  qir_value *a = ops_arg(&fx, 0);
  qir_value *ab[2] = {a, ops_arg(&fx, 1)};
  /* SAME_TYPE ops keep the quantized type, computing ops give f32 */
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_RELU, 1, &a, 0, NULL)),
          "tensor<1x4x!q.i8<0.5>>");
  CK_TYPE(&fx, result(ops_build(&fx, QIR_OP_ADD, 2, ab, 0, NULL)),
          "tensor<1x4xf32>");
  ck_assert_ptr_null(ops_build(&fx, QIR_OP_EXP, 1, &a, 0, NULL));
  ck_assert_str_eq(fx.diags, "'exp' op operand #0 must have a float element "
                             "type, got tensor<1x4x!q.i8<0.5>>\n");
  ops_fx_fini(&fx);
}
END_TEST

Suite *ops_infer_suite(void) {
  Suite *s = suite_create("ops_infer");
  TCase *tc = tcase_create("infer");
  tcase_add_test(tc, test_registry_ids);
  tcase_add_test(tc, test_infer_broadcast);
  tcase_add_test(tc, test_infer_broadcast_error);
  tcase_add_test(tc, test_infer_conv2d);
  tcase_add_test(tc, test_infer_conv_transpose2d);
  tcase_add_test(tc, test_infer_pool_ceil_mode);
  tcase_add_test(tc, test_infer_reshape);
  tcase_add_test(tc, test_infer_slice);
  tcase_add_test(tc, test_infer_gather_concat_transpose);
  tcase_add_test(tc, test_infer_matmul_gemm);
  tcase_add_test(tc, test_infer_reduce_argmax);
  tcase_add_test(tc, test_infer_split);
  tcase_add_test(tc, test_infer_movement_misc);
  tcase_add_test(tc, test_infer_shape_ops);
  tcase_add_test(tc, test_infer_quantized_operands);
  suite_add_tcase(s, tc);
  return s;
}
