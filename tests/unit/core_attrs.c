/* tests/unit/core_attrs.c - attribute uniquing, equality and hashing, dense
 * tensors, f16/bf16 conversions. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core_test.h"

START_TEST(scalar_attrs_uniqued) {
  qir_context *ctx = qir_context_create();
  ck_assert_ptr_eq(qir_attr_int(ctx, 3), qir_attr_int(ctx, 3));
  ck_assert_ptr_ne(qir_attr_int(ctx, 3), qir_attr_int(ctx, -3));
  ck_assert_int_eq(qir_attr_int(ctx, -3)->u.i, -3);
  ck_assert_ptr_eq(qir_attr_float(ctx, 0.5), qir_attr_float(ctx, 0.5));
  /* Floats are compared by bits: 0.0 and -0.0 differ, NaN equals NaN. */
  ck_assert_ptr_ne(qir_attr_float(ctx, 0.0), qir_attr_float(ctx, -0.0));
  ck_assert_ptr_eq(qir_attr_float(ctx, NAN), qir_attr_float(ctx, NAN));
  ck_assert_ptr_ne(qir_attr_float(ctx, 1.0), (const qir_attr *)qir_attr_int(ctx, 1));
  ck_assert_ptr_eq(qir_attr_bool(ctx, true), qir_attr_bool(ctx, true));
  ck_assert_ptr_ne(qir_attr_bool(ctx, true), qir_attr_bool(ctx, false));
  char s1[] = "nearest", s2[] = "nearest";
  const qir_attr *a = qir_attr_cstr(ctx, s1);
  ck_assert_ptr_eq(a, qir_attr_string(ctx, s2, 7));
  ck_assert_uint_eq(a->u.str.len, 7);
  ck_assert_str_eq(a->u.str.data, "nearest");
  ck_assert_ptr_eq(a->u.str.data, qir_intern_cstr(ctx, "nearest"));
  const qir_attr *nul = qir_attr_string(ctx, "a\0b", 3);
  ck_assert_uint_eq(nul->u.str.len, 3);
  ck_assert_ptr_ne(nul, qir_attr_cstr(ctx, "a"));
  const qir_attr *sym = qir_attr_symbol(ctx, "main");
  ck_assert_ptr_eq(sym, qir_attr_symbol(ctx, "main"));
  ck_assert_int_eq(sym->kind, QIR_ATTR_SYMBOL);
  ck_assert_str_eq(sym->u.symbol, "main");
  ck_assert_ptr_ne(sym, qir_attr_cstr(ctx, "main"));
  const qir_type *f32 = qir_scalar_type(ctx, QIR_F32);
  ck_assert_ptr_eq(qir_attr_type(ctx, f32), qir_attr_type(ctx, f32));
  ck_assert_ptr_eq(qir_attr_type(ctx, f32)->u.type, f32);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(array_equality_and_hash) {
  qir_context *ctx = qir_context_create();
  int64_t v[] = {1, 2, 3};
  const qir_attr *a = qir_attr_ints(ctx, 3, v);
  const qir_attr *b = qir_attr_ints(ctx, 3, v);
  ck_assert_ptr_ne(a, b);
  ck_assert(qir_attr_equal(a, b));
  ck_assert(qir_attr_hash(a) == qir_attr_hash(b));
  ck_assert(!qir_attr_equal(a, qir_attr_ints(ctx, 2, v)));
  v[2] = 4;
  ck_assert(!qir_attr_equal(a, qir_attr_ints(ctx, 3, v)));
  ck_assert(qir_attr_hash(a) != qir_attr_hash(qir_attr_ints(ctx, 3, v)));
  const qir_attr *mixed[] = {qir_attr_int(ctx, 1), qir_attr_cstr(ctx, "x"),
                             a};
  const qir_attr *m1 = qir_attr_array(ctx, 3, mixed);
  const qir_attr *m2 = qir_attr_array(ctx, 3, mixed);
  ck_assert(qir_attr_equal(m1, m2));
  ck_assert(qir_attr_hash(m1) == qir_attr_hash(m2));
  double f[] = {0.5, 1.5};
  ck_assert(qir_attr_equal(qir_attr_floats(ctx, 2, f),
                           qir_attr_floats(ctx, 2, f)));
  ck_assert(!qir_attr_equal(qir_attr_floats(ctx, 1, f), qir_attr_int(ctx, 0)));
  ck_assert(!qir_attr_equal(a, NULL));
  ck_assert(qir_attr_equal(NULL, NULL));
  const qir_attr *empty = qir_attr_array(ctx, 0, NULL);
  ck_assert_uint_eq(empty->u.array.n, 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(get_ints_and_floats) {
  qir_context *ctx = qir_context_create();
  int64_t v[] = {1, -2, 3}, out[4];
  ck_assert_int_eq(qir_attr_get_ints(qir_attr_ints(ctx, 3, v), out, 4), 3);
  ck_assert_int_eq(out[1], -2);
  ck_assert_int_eq(qir_attr_get_ints(qir_attr_ints(ctx, 3, v), out, 2), -1);
  ck_assert_int_eq(qir_attr_get_ints(qir_attr_int(ctx, 9), out, 4), 1);
  ck_assert_int_eq(out[0], 9);
  ck_assert_int_eq(qir_attr_get_ints(qir_attr_float(ctx, 1.0), out, 4), -1);
  const qir_attr *mixed[] = {qir_attr_int(ctx, 1), qir_attr_float(ctx, 2.0)};
  ck_assert_int_eq(qir_attr_get_ints(qir_attr_array(ctx, 2, mixed), out, 4),
                   -1);
  double d[4];
  ck_assert_int_eq(qir_attr_get_floats(qir_attr_array(ctx, 2, mixed), d, 4),
                   2);
  ck_assert(d[0] == 1.0 && d[1] == 2.0);
  ck_assert_int_eq(qir_attr_get_floats(qir_attr_float(ctx, 0.25), d, 4), 1);
  ck_assert(d[0] == 0.25);
  ck_assert_int_eq(qir_attr_get_floats(qir_attr_cstr(ctx, "x"), d, 4), -1);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(dense_create_and_read) {
  qir_context *ctx = qir_context_create();
  int64_t d[] = {2, 2};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 2, d);
  float data[] = {1.0f, -2.5f, 0.0f, 3.0f};
  const qir_attr *a = qir_attr_dense(ctx, qir_loc_unknown(), t, data,
                                     sizeof data);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_ne(a->u.dense.data, data);
  data[0] = 99.0f; /* copied */
  ck_assert_uint_eq(a->u.dense.nbytes, 16);
  ck_assert(!a->u.dense.splat);
  ck_assert_int_eq(qir_dense_num_elements(a), 4);
  ck_assert(qir_dense_get_f64(a, 0) == 1.0);
  ck_assert(qir_dense_get_f64(a, 1) == -2.5);
  ck_assert_int_eq(qir_dense_get_i64(a, 1), -2);
  ck_assert_int_eq(qir_dense_get_i64(a, 3), 3);
  float again[] = {1.0f, -2.5f, 0.0f, 3.0f};
  const qir_attr *b = qir_attr_dense(ctx, qir_loc_unknown(), t, again,
                                     sizeof again);
  ck_assert(qir_attr_equal(a, b));
  ck_assert(qir_attr_hash(a) == qir_attr_hash(b));
  again[3] = 4.0f;
  ck_assert(!qir_attr_equal(
      a, qir_attr_dense(ctx, qir_loc_unknown(), t, again, sizeof again)));
  const qir_attr *r = qir_attr_dense_with_resource(ctx, a, "w0");
  ck_assert_str_eq(r->u.dense.resource, "w0");
  ck_assert_ptr_null(a->u.dense.resource);
  ck_assert(qir_attr_equal(a, r));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(dense_size_mismatch_error) {
  qir_context *ctx = qir_context_create();
  diag_capture c;
  capture_begin(&c, ctx);
  int64_t d[] = {2};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 1, d);
  float data[3] = {0};
  ck_assert_ptr_null(qir_attr_dense(ctx, qir_loc_make(ctx, "d.qir", 4, 2), t,
                                    data, 12));
  int64_t dd[] = {QIR_DYN};
  ck_assert_ptr_null(qir_attr_dense(ctx, qir_loc_unknown(),
                                    qir_tensor_of(ctx, QIR_F32, 1, dd), data,
                                    4));
  ck_assert_str_eq(capture_text(&c),
                   "d.qir:4:2: error: dense data has 12 bytes but "
                   "tensor<2xf32> needs 8\n"
                   "error: dense attribute needs a static tensor type, not "
                   "tensor<?xf32>\n");
  capture_end(&c);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(dense_splat) {
  qir_context *ctx = qir_context_create();
  int64_t d[] = {64};
  const qir_type *t = qir_tensor_of(ctx, QIR_I8, 1, d);
  int8_t v = -7;
  const qir_attr *a = qir_attr_dense_splat(ctx, t, &v);
  ck_assert(a->u.dense.splat);
  ck_assert_uint_eq(a->u.dense.nbytes, 1);
  ck_assert_int_eq(qir_dense_num_elements(a), 64);
  ck_assert_int_eq(qir_dense_get_i64(a, 0), -7);
  ck_assert_int_eq(qir_dense_get_i64(a, 63), -7);
  ck_assert(qir_dense_get_f64(a, 10) == -7.0);
  ck_assert(qir_attr_equal(a, qir_attr_dense_splat(ctx, t, &v)));
  int8_t full[64];
  memset(full, -7, sizeof full);
  ck_assert(!qir_attr_equal(
      a, qir_attr_dense(ctx, qir_loc_unknown(), t, full, sizeof full)));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(dense_from_f64_and_i64_convert) {
  qir_context *ctx = qir_context_create();
  int64_t d[] = {4};
  double fv[] = {1.5, -2.0, 65504.0, 1e10};
  const qir_attr *h = qir_attr_dense_from_f64(
      ctx, qir_tensor_of(ctx, QIR_F16, 1, d), fv);
  ck_assert_uint_eq(h->u.dense.nbytes, 8);
  ck_assert(qir_dense_get_f64(h, 0) == 1.5);
  ck_assert(qir_dense_get_f64(h, 2) == 65504.0);
  ck_assert(isinf(qir_dense_get_f64(h, 3)));
  const qir_attr *i8 = qir_attr_dense_from_f64(
      ctx, qir_tensor_of(ctx, QIR_I8, 1, d), fv);
  ck_assert_int_eq(qir_dense_get_i64(i8, 0), 1);
  ck_assert_int_eq(qir_dense_get_i64(i8, 1), -2);
  int64_t iv[] = {300, -1, 0, 7};
  const qir_attr *u8 = qir_attr_dense_from_i64(
      ctx, qir_tensor_of(ctx, QIR_U8, 1, d), iv);
  ck_assert_int_eq(qir_dense_get_i64(u8, 0), 44); /* wraps */
  ck_assert_int_eq(qir_dense_get_i64(u8, 1), 255);
  const qir_attr *b = qir_attr_dense_from_i64(
      ctx, qir_tensor_of(ctx, QIR_I1, 1, d), iv);
  ck_assert_int_eq(qir_dense_get_i64(b, 0), 1);
  ck_assert_int_eq(qir_dense_get_i64(b, 2), 0);
  const qir_attr *f = qir_attr_dense_from_i64(
      ctx, qir_tensor_of(ctx, QIR_F32, 1, d), iv);
  ck_assert(qir_dense_get_f64(f, 0) == 300.0);
  const qir_attr *bf = qir_attr_dense_from_f64(
      ctx, qir_tensor_of(ctx, QIR_BF16, 1, d), fv);
  ck_assert(qir_dense_get_f64(bf, 1) == -2.0);
  double big[] = {3.4028235677973366e38, 3.40282356e38, -1e300, 1e-50};
  const qir_attr *f32 = qir_attr_dense_from_f64(
      ctx, qir_tensor_of(ctx, QIR_F32, 1, d), big);
  ck_assert(isinf(qir_dense_get_f64(f32, 0)));  /* the tie rounds to inf */
  ck_assert(qir_dense_get_f64(f32, 1) == (double)FLT_MAX);
  ck_assert(isinf(qir_dense_get_f64(f32, 2)) && qir_dense_get_f64(f32, 2) < 0);
  ck_assert(qir_dense_get_f64(f32, 3) == 0.0);
  const qir_attr *i64 = qir_attr_dense_from_f64(
      ctx, qir_tensor_of(ctx, QIR_I64, 1, d), fv);
  ck_assert_int_eq(qir_dense_get_i64(i64, 3), 10000000000);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(f16_conversions) {
  ck_assert_uint_eq(qir_f32_to_f16(1.0f), 0x3c00);
  ck_assert_uint_eq(qir_f32_to_f16(-2.0f), 0xc000);
  ck_assert_uint_eq(qir_f32_to_f16(65504.0f), 0x7bff);
  ck_assert_uint_eq(qir_f32_to_f16(65520.0f), 0x7c00); /* rounds to inf */
  ck_assert_uint_eq(qir_f32_to_f16(65519.0f), 0x7bff);
  ck_assert_uint_eq(qir_f32_to_f16(INFINITY), 0x7c00);
  ck_assert_uint_eq(qir_f32_to_f16(-INFINITY), 0xfc00);
  ck_assert_uint_eq(qir_f32_to_f16(-0.0f), 0x8000);
  uint16_t n = qir_f32_to_f16(NAN);
  ck_assert((n & 0x7c00) == 0x7c00 && (n & 0x3ff));
  ck_assert_uint_eq(qir_f32_to_f16(0x1p-24f), 0x0001);  /* min subnormal */
  ck_assert_uint_eq(qir_f32_to_f16(0x1p-25f), 0x0000);  /* tie to even 0 */
  ck_assert_uint_eq(qir_f32_to_f16(0x1.8p-24f), 0x0002); /* tie to even 2 */
  ck_assert_uint_eq(qir_f32_to_f16(0x1p-14f), 0x0400);  /* min normal */
  /* 1 + 2^-11 is half way between 1 and the next half: even is 1. */
  ck_assert_uint_eq(qir_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  ck_assert_uint_eq(qir_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  ck_assert_uint_eq(qir_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
  ck_assert(qir_f16_to_f32(0x3c00) == 1.0f);
  ck_assert(qir_f16_to_f32(0x0001) == 0x1p-24f);
  ck_assert(qir_f16_to_f32(0x7bff) == 65504.0f);
  ck_assert(isinf(qir_f16_to_f32(0xfc00)) && qir_f16_to_f32(0xfc00) < 0);
  ck_assert(isnan(qir_f16_to_f32(0x7e00)));
  ck_assert(signbit(qir_f16_to_f32(0x8000)));
  /* Every half converts to float and back unchanged (NaNs stay NaN). */
  for (uint32_t h = 0; h < 0x10000; h++) {
    float f = qir_f16_to_f32((uint16_t)h);
    if (isnan(f))
      continue;
    ck_assert_uint_eq(qir_f32_to_f16(f), h);
  }
}
END_TEST

START_TEST(bf16_conversions) {
  ck_assert_uint_eq(qir_f32_to_bf16(1.0f), 0x3f80);
  ck_assert_uint_eq(qir_f32_to_bf16(-2.0f), 0xc000);
  /* 1 + 2^-8 is a tie: even is 1.0; a bit above rounds up. */
  ck_assert_uint_eq(qir_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
  ck_assert_uint_eq(qir_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  ck_assert_uint_eq(qir_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
  ck_assert_uint_eq(qir_f32_to_bf16(3.4028235e38f), 0x7f80); /* to inf */
  ck_assert_uint_eq(qir_f32_to_bf16(INFINITY), 0x7f80);
  uint16_t n = qir_f32_to_bf16(NAN);
  ck_assert(isnan(qir_bf16_to_f32(n)));
  uint32_t snan_bits = 0x7f800001; /* payload only in the low bits */
  float snan;
  memcpy(&snan, &snan_bits, 4);
  ck_assert(isnan(qir_bf16_to_f32(qir_f32_to_bf16(snan))));
  ck_assert(qir_bf16_to_f32(0x3f80) == 1.0f);
  ck_assert(qir_bf16_to_f32(0xc040) == -3.0f);
  for (uint32_t h = 0; h < 0x10000; h++) {
    float f = qir_bf16_to_f32((uint16_t)h);
    if (!isnan(f))
      ck_assert_uint_eq(qir_f32_to_bf16(f), h);
  }
}
END_TEST

Suite *core_attrs_suite(void) {
  Suite *s = suite_create("core_attrs");
  TCase *tc = tcase_create("attrs");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, scalar_attrs_uniqued);
  tcase_add_test(tc, array_equality_and_hash);
  tcase_add_test(tc, get_ints_and_floats);
  tcase_add_test(tc, dense_create_and_read);
  tcase_add_test(tc, dense_size_mismatch_error);
  tcase_add_test(tc, dense_splat);
  tcase_add_test(tc, dense_from_f64_and_i64_convert);
  tcase_add_test(tc, f16_conversions);
  tcase_add_test(tc, bf16_conversions);
  suite_add_tcase(s, tc);
  return s;
}
