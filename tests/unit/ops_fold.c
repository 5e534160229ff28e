/* tests/unit/ops_fold.c - constant folding of the built-in ops. */
#include <math.h>
#include <string.h>

#include "ops_util.h"

static void check_i64(ops_fx *fx, const qir_attr *a, const char *type,
                      const int64_t *v) {
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(ops_type_text(fx, a->u.dense.type), type);
  for (int64_t i = 0; i < qir_dense_num_elements(a); i++)
    ck_assert_int_eq(qir_dense_get_i64(a, i), v[i]);
}

static void check_f64(ops_fx *fx, const qir_attr *a, const char *type,
                      const double *v) {
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(ops_type_text(fx, a->u.dense.type), type);
  for (int64_t i = 0; i < qir_dense_num_elements(a); i++)
    ck_assert_double_eq_tol(qir_dense_get_f64(a, i), v[i], 1e-6);
}

static qir_op *op1(ops_fx *fx, unsigned id, qir_value *x, unsigned nattrs,
                   const qir_named_attr *attrs) {
  qir_op *op = ops_build(fx, id, 1, &x, nattrs, attrs);
  ck_assert_ptr_nonnull(op);
  return op;
}

static qir_op *op2(ops_fx *fx, unsigned id, qir_value *a, qir_value *b,
                   unsigned nattrs, const qir_named_attr *attrs) {
  qir_value *ab[2] = {a, b};
  qir_op *op = ops_build(fx, id, 2, ab, nattrs, attrs);
  ck_assert_ptr_nonnull(op);
  return op;
}

START_TEST(test_fold_shape) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3x4:f32", "?x3x4:f32", NULL);
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_SHAPE, ops_arg(&fx, 0), 0, NULL)),
            "tensor<3xi64>", (int64_t[]){2, 3, 4});
  ck_assert_ptr_null(
      ops_fold(op1(&fx, QIR_OP_SHAPE, ops_arg(&fx, 1), 0, NULL)));
  /* the dims asked for are static even though the batch is not */
  qir_named_attr st = ops_int(&fx, "start", 1);
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_SHAPE, ops_arg(&fx, 1), 1, &st)),
            "tensor<2xi64>", (int64_t[]){3, 4});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_binary_broadcast) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_i64(&fx, "3:i64", (int64_t[]){1, 2, 3});
  qir_value *b = ops_const_i64(&fx, "2x1:i64", (int64_t[]){10, 20});
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_ADD, a, b, 0, NULL)),
            "tensor<2x3xi64>", (int64_t[]){11, 12, 13, 21, 22, 23});
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_SUB, a, b, 0, NULL)),
            "tensor<2x3xi64>", (int64_t[]){-9, -8, -7, -19, -18, -17});
  qir_value *m = ops_const_i64(&fx, "3:i64", (int64_t[]){-7, 7, -7});
  qir_value *d = ops_const_i64(&fx, "3:i64", (int64_t[]){2, -2, -2});
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_DIV, m, d, 0, NULL)),
            "tensor<3xi64>", (int64_t[]){-3, -3, 3});
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_MOD, m, d, 0, NULL)),
            "tensor<3xi64>", (int64_t[]){1, -1, -1});
  qir_named_attr fm = ops_int(&fx, "fmod", 1);
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_MOD, m, d, 1, &fm)),
            "tensor<3xi64>", (int64_t[]){-1, 1, -1});
  qir_value *z = ops_const_i64(&fx, "3:i64", (int64_t[]){1, 0, 1});
  ck_assert_ptr_null(ops_fold(op2(&fx, QIR_OP_DIV, a, z, 0, NULL)));
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_float_compare_where) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_f64(&fx, "4:f32", (double[]){1, -2, 3, 0.5});
  qir_value *b = ops_const_f64(&fx, ":f32", (double[]){2});
  check_f64(&fx, ops_fold(op2(&fx, QIR_OP_DIV, a, b, 0, NULL)),
            "tensor<4xf32>", (double[]){0.5, -1, 1.5, 0.25});
  qir_op *lt = op2(&fx, QIR_OP_LESS, a, b, 0, NULL);
  const qir_attr *mask = ops_fold(lt);
  check_i64(&fx, mask, "tensor<4xi1>", (int64_t[]){1, 1, 0, 1});
  qir_value *c = qir_build_constant(&fx.b, mask);
  qir_value *cxy[3] = {c, a, b};
  qir_op *w = ops_build(&fx, QIR_OP_WHERE, 3, cxy, 0, NULL);
  check_f64(&fx, ops_fold(w), "tensor<4xf32>", (double[]){1, -2, 2, 0.5});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_unary) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_f64(&fx, "4:f32", (double[]){-1, 4, 2.5, -2.5});
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_RELU, a, 0, NULL)),
            "tensor<4xf32>", (double[]){0, 4, 2.5, 0});
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_ROUND, a, 0, NULL)),
            "tensor<4xf32>", (double[]){-1, 4, 2, -2});
  qir_named_attr lim[2] = {qir_named(fx.ctx, "min", qir_attr_float(fx.ctx, 0)),
                           qir_named(fx.ctx, "max", qir_attr_float(fx.ctx, 3))};
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_CLIP, a, 2, lim)),
            "tensor<4xf32>", (double[]){0, 3, 2.5, 0});
  qir_value *s = ops_const_f64(&fx, "2:f32", (double[]){4, 0.25});
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_SQRT, s, 0, NULL)),
            "tensor<2xf32>", (double[]){2, 0.5});
  qir_value *i = ops_const_i64(&fx, "3:i32", (int64_t[]){-5, 0, 7});
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_ABS, i, 0, NULL)), "tensor<3xi32>",
            (int64_t[]){5, 0, 7});
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_SIGN, i, 0, NULL)), "tensor<3xi32>",
            (int64_t[]){-1, 0, 1});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_cast) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a =
      ops_const_f64(&fx, "5:f32", (double[]){-1.7, 2.9, 1e10, -1e10, 0});
  const qir_type *i32 = ops_type(&fx, "5:i32"), *i1 = ops_type(&fx, "5:i1");
  qir_op *c = ops_build_typed(&fx, QIR_OP_CAST, 1, &a, 1, &i32, 0, NULL);
  check_i64(&fx, ops_fold(c), "tensor<5xi32>",
            (int64_t[]){-1, 2, INT32_MAX, INT32_MIN, 0});
  qir_op *b = ops_build_typed(&fx, QIR_OP_CAST, 1, &a, 1, &i1, 0, NULL);
  check_i64(&fx, ops_fold(b), "tensor<5xi1>", (int64_t[]){1, 1, 1, 1, 0});
  qir_value *i = ops_const_i64(&fx, "2:i64", (int64_t[]){3, -4});
  const qir_type *f16 = ops_type(&fx, "2:f16");
  qir_op *h = ops_build_typed(&fx, QIR_OP_CAST, 1, &i, 1, &f16, 0, NULL);
  check_f64(&fx, ops_fold(h), "tensor<2xf16>", (double[]){3, -4});
  ops_fx_fini(&fx);
}
END_TEST

/* Shape -> Gather -> Concat -> Reshape, the sub-graph ONNX exporters
 * emit for flatten. */
START_TEST(test_fold_shape_subgraph) {
  ops_fx fx;
  ops_fx_init(&fx, "2x3x4:f32", NULL);
  qir_op *sh = op1(&fx, QIR_OP_SHAPE, ops_arg(&fx, 0), 0, NULL);
  qir_value *s = qir_build_constant(&fx.b, ops_fold(sh));
  qir_value *i0 = ops_const_i64(&fx, "1:i64", (int64_t[]){0});
  const qir_attr *n = ops_fold(op2(&fx, QIR_OP_GATHER, s, i0, 0, NULL));
  check_i64(&fx, n, "tensor<1xi64>", (int64_t[]){2});
  qir_value *nv = qir_build_constant(&fx.b, n);
  qir_value *m1 = ops_const_i64(&fx, "1:i64", (int64_t[]){-1});
  qir_named_attr ax = ops_int(&fx, "axis", 0);
  const qir_attr *cat = ops_fold(op2(&fx, QIR_OP_CONCAT, nv, m1, 1, &ax));
  check_i64(&fx, cat, "tensor<2xi64>", (int64_t[]){2, -1});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_slice_transpose_reshape) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_i64(&fx, "2x3:i64", (int64_t[]){0, 1, 2, 3, 4, 5});
  int64_t st[1] = {-1}, en[1] = {INT64_MIN}, ax[1] = {1}, sp[1] = {-2};
  qir_named_attr sl[4] = {ops_ints(&fx, "starts", 1, st),
                          ops_ints(&fx, "ends", 1, en),
                          ops_ints(&fx, "axes", 1, ax),
                          ops_ints(&fx, "steps", 1, sp)};
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_SLICE, a, 4, sl)), "tensor<2x2xi64>",
            (int64_t[]){2, 0, 5, 3});
  int64_t perm[2] = {1, 0};
  qir_named_attr p = ops_ints(&fx, "perm", 2, perm);
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_TRANSPOSE, a, 1, &p)),
            "tensor<3x2xi64>", (int64_t[]){0, 3, 1, 4, 2, 5});
  int64_t shape[2] = {3, -1};
  qir_named_attr r = ops_ints(&fx, "shape", 2, shape);
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_RESHAPE, a, 1, &r)),
            "tensor<3x2xi64>", (int64_t[]){0, 1, 2, 3, 4, 5});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_split_expand) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_i64(&fx, "2x3:i64", (int64_t[]){0, 1, 2, 3, 4, 5});
  int64_t sizes[2] = {1, 2};
  qir_named_attr sa[2] = {ops_int(&fx, "axis", 1),
                          ops_ints(&fx, "sizes", 2, sizes)};
  const qir_type *rt[2] = {ops_type(&fx, "2x1:i64"), ops_type(&fx, "2x2:i64")};
  qir_op *sp = ops_build_typed(&fx, QIR_OP_SPLIT, 1, &a, 2, rt, 2, sa);
  const qir_attr *in[1] = {qir_value_constant(a)}, *out[2] = {NULL, NULL};
  ck_assert(sp->def->fold(sp, in, out));
  check_i64(&fx, out[0], "tensor<2x1xi64>", (int64_t[]){0, 3});
  check_i64(&fx, out[1], "tensor<2x2xi64>", (int64_t[]){1, 2, 4, 5});
  qir_value *c = ops_const_i64(&fx, "2x1:i64", (int64_t[]){7, 8});
  int64_t shape[3] = {2, 2, 3};
  qir_named_attr e = ops_ints(&fx, "shape", 3, shape);
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_EXPAND, c, 1, &e)),
            "tensor<2x2x3xi64>",
            (int64_t[]){7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_reduce) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_f64(&fx, "2x3:f32", (double[]){1, 2, 3, 4, 5, 6});
  int64_t ax1[1] = {1};
  qir_named_attr k0[2] = {ops_ints(&fx, "axes", 1, ax1),
                          ops_int(&fx, "keepdims", 0)};
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_SUM, a, 2, k0)),
            "tensor<2xf32>", (double[]){6, 15});
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_MEAN, a, 0, NULL)),
            "tensor<1x1xf32>", (double[]){3.5});
  check_f64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_MAX, a, 1, k0)),
            "tensor<2x1xf32>", (double[]){3, 6});
  qir_value *i = ops_const_i64(&fx, "3:i64", (int64_t[]){2, 3, 4});
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_PROD, i, 0, NULL)),
            "tensor<1xi64>", (int64_t[]){24});
  /* integer reductions stay exact in 64 bits; the mean truncates */
  qir_value *big = ops_const_i64(&fx, "2:i64",
                                 (int64_t[]){(1LL << 53) + 1, 2});
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_SUM, big, 0, NULL)),
            "tensor<1xi64>", (int64_t[]){(1LL << 53) + 3});
  check_i64(&fx, ops_fold(op1(&fx, QIR_OP_REDUCE_MEAN, i, 0, NULL)),
            "tensor<1xi64>", (int64_t[]){3});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_constant_of_shape_range) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *s = ops_const_i64(&fx, "2:i64", (int64_t[]){2, 3});
  const qir_attr *seven = qir_attr_dense_from_i64(
      fx.ctx, ops_type(&fx, "1:i32"), (int64_t[]){7});
  qir_named_attr v = qir_named(fx.ctx, "value", seven);
  const qir_attr *c = ops_fold(op1(&fx, QIR_OP_CONSTANT_OF_SHAPE, s, 1, &v));
  check_i64(&fx, c, "tensor<2x3xi32>", (int64_t[]){7, 7, 7, 7, 7, 7});
  ck_assert(c->u.dense.splat);
  qir_value *r[3] = {ops_const_i64(&fx, ":i64", (int64_t[]){10}),
                     ops_const_i64(&fx, ":i64", (int64_t[]){1}),
                     ops_const_i64(&fx, ":i64", (int64_t[]){-3})};
  qir_op *rg = ops_build(&fx, QIR_OP_RANGE, 3, r, 0, NULL);
  check_i64(&fx, ops_fold(rg), "tensor<3xi64>", (int64_t[]){10, 7, 4});
  qir_value *f[3] = {ops_const_f64(&fx, ":f32", (double[]){0}),
                     ops_const_f64(&fx, ":f32", (double[]){1}),
                     ops_const_f64(&fx, ":f32", (double[]){0.25})};
  check_f64(&fx, ops_fold(ops_build(&fx, QIR_OP_RANGE, 3, f, 0, NULL)),
            "tensor<4xf32>", (double[]){0, 0.25, 0.5, 0.75});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_matmul_identity) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *a = ops_const_f64(&fx, "2x3:f32", (double[]){1, 2, 3, 4, 5, 6});
  qir_value *b = ops_const_f64(&fx, "3x2:f32", (double[]){1, 0, 0, 1, 1, 1});
  check_f64(&fx, ops_fold(op2(&fx, QIR_OP_MATMUL, a, b, 0, NULL)),
            "tensor<2x2xf32>", (double[]){4, 5, 10, 11});
  const qir_attr *id = ops_fold(op1(&fx, QIR_OP_IDENTITY, a, 0, NULL));
  ck_assert_ptr_eq(id, qir_value_constant(a));
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_narrow_types) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  qir_value *h = ops_const_f64(&fx, "3:f16", (double[]){1.5, -2, 2048});
  /* 2048 + 1 is not an f16: it rounds to even, back to 2048 */
  qir_value *one = ops_const_f64(&fx, ":f16", (double[]){1});
  check_f64(&fx, ops_fold(op2(&fx, QIR_OP_ADD, h, one, 0, NULL)),
            "tensor<3xf16>", (double[]){2.5, -1, 2048});
  qir_value *b = ops_const_f64(&fx, "2:bf16", (double[]){1, 256});
  check_f64(&fx, ops_fold(op2(&fx, QIR_OP_MUL, b, b, 0, NULL)),
            "tensor<2xbf16>", (double[]){1, 65536});
  qir_value *u = ops_const_i64(&fx, "2:u8", (int64_t[]){250, 3});
  qir_value *ten = ops_const_i64(&fx, ":u8", (int64_t[]){10});
  check_i64(&fx, ops_fold(op2(&fx, QIR_OP_ADD, u, ten, 0, NULL)),
            "tensor<2xu8>", (int64_t[]){4, 13});
  ops_fx_fini(&fx);
}
END_TEST

START_TEST(test_fold_keeps_quantized_computation) {
  ops_fx fx;
  ops_fx_init(&fx, NULL);
  const qir_attr *q = qir_attr_dense_from_i64(
      fx.ctx, ops_type(&fx, "2:!q.i8"), (int64_t[]){1, 2});
  qir_value *c = qir_build_constant(&fx.b, q);
  /* computing ops do not fold quantized values, data movement does */
  ck_assert_ptr_null(ops_fold(op2(&fx, QIR_OP_ADD, c, c, 0, NULL)));
  int64_t shape[2] = {2, 1};
  qir_named_attr r = ops_ints(&fx, "shape", 2, shape);
  const qir_attr *moved = ops_fold(op1(&fx, QIR_OP_RESHAPE, c, 1, &r));
  check_i64(&fx, moved, "tensor<2x1x!q.i8<0.5>>", (int64_t[]){1, 2});
  ops_fx_fini(&fx);
}
END_TEST

Suite *ops_fold_suite(void) {
  Suite *s = suite_create("ops_fold");
  TCase *tc = tcase_create("fold");
  tcase_add_test(tc, test_fold_shape);
  tcase_add_test(tc, test_fold_binary_broadcast);
  tcase_add_test(tc, test_fold_float_compare_where);
  tcase_add_test(tc, test_fold_unary);
  tcase_add_test(tc, test_fold_cast);
  tcase_add_test(tc, test_fold_shape_subgraph);
  tcase_add_test(tc, test_fold_slice_transpose_reshape);
  tcase_add_test(tc, test_fold_split_expand);
  tcase_add_test(tc, test_fold_reduce);
  tcase_add_test(tc, test_fold_constant_of_shape_range);
  tcase_add_test(tc, test_fold_matmul_identity);
  tcase_add_test(tc, test_fold_narrow_types);
  tcase_add_test(tc, test_fold_keeps_quantized_computation);
  suite_add_tcase(s, tc);
  return s;
}
