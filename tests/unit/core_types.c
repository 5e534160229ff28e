/* tests/unit/core_types.c - scalars, uniqued types, quantized type checks,
 * tensor helpers, the text form of types, float formatting. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core_test.h"

START_TEST(scalar_helpers) {
  ck_assert_uint_eq(qir_scalar_size(QIR_F64), 8);
  ck_assert_uint_eq(qir_scalar_size(QIR_BF16), 2);
  ck_assert_uint_eq(qir_scalar_size(QIR_I1), 1);
  ck_assert_uint_eq(qir_scalar_size(QIR_U16), 2);
  ck_assert_str_eq(qir_scalar_name(QIR_F32), "f32");
  ck_assert_str_eq(qir_scalar_name(QIR_U8), "u8");
  ck_assert(qir_scalar_is_float(QIR_F16));
  ck_assert(!qir_scalar_is_float(QIR_I32));
  ck_assert(qir_scalar_is_signed(QIR_F32));
  ck_assert(qir_scalar_is_signed(QIR_I8));
  ck_assert(!qir_scalar_is_signed(QIR_U8));
  ck_assert(!qir_scalar_is_signed(QIR_I1));
  qir_scalar s;
  ck_assert(qir_scalar_from_name("bf16", 4, &s));
  ck_assert_int_eq(s, QIR_BF16);
  ck_assert(qir_scalar_from_name("i8x", 2, &s));
  ck_assert_int_eq(s, QIR_I8);
  ck_assert(!qir_scalar_from_name("i8x", 3, &s));
  ck_assert(!qir_scalar_from_name("f", 1, &s));
  ck_assert_int_eq(qir_scalar_min(QIR_I8), -128);
  ck_assert_int_eq(qir_scalar_max(QIR_I8), 127);
  ck_assert_int_eq(qir_scalar_min(QIR_U8), 0);
  ck_assert_int_eq(qir_scalar_max(QIR_U16), 65535);
  ck_assert_int_eq(qir_scalar_min(QIR_I1), 0);
  ck_assert_int_eq(qir_scalar_max(QIR_I1), 1);
  ck_assert(qir_scalar_min(QIR_I64) == INT64_MIN);
  ck_assert(qir_scalar_max(QIR_I32) == INT32_MAX);
}
END_TEST

START_TEST(type_uniquing) {
  qir_context *ctx = qir_context_create();
  const qir_type *f32 = qir_scalar_type(ctx, QIR_F32);
  ck_assert_ptr_eq(f32, qir_scalar_type(ctx, QIR_F32));
  ck_assert_ptr_ne(f32, qir_scalar_type(ctx, QIR_F16));
  ck_assert_int_eq(f32->kind, QIR_TYPE_SCALAR);
  int64_t d1[] = {1, 3, 224, 224}, d2[] = {1, 3, 224, 224}, d3[] = {1, 3,
                                                                   224};
  const qir_type *a = qir_tensor_of(ctx, QIR_F32, 4, d1);
  ck_assert_ptr_eq(a, qir_tensor_of(ctx, QIR_F32, 4, d2));
  ck_assert_ptr_eq(a, qir_tensor_type(ctx, f32, 4, d2));
  ck_assert_ptr_ne(a, qir_tensor_of(ctx, QIR_F16, 4, d1));
  ck_assert_ptr_ne(a, qir_tensor_of(ctx, QIR_F32, 3, d3));
  d2[2] = QIR_DYN;
  ck_assert_ptr_ne(a, qir_tensor_of(ctx, QIR_F32, 4, d2));
  /* The type keeps its own copy of the dims. */
  d1[0] = 7;
  ck_assert_int_eq(a->dims[0], 1);
  ck_assert_ptr_eq(qir_tensor_of(ctx, QIR_F32, 0, NULL),
                   qir_tensor_of(ctx, QIR_F32, 0, NULL));
  ck_assert_ptr_ne(qir_tensor_of(ctx, QIR_F32, 0, NULL), f32);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(many_types_stay_unique) {
  qir_context *ctx = qir_context_create();
  enum { N = 5000 };
  static const qir_type *seen[N];
  for (int i = 0; i < N; i++) {
    int64_t d[] = {i, 3};
    seen[i] = qir_tensor_of(ctx, QIR_F32, 2, d);
  }
  for (int i = 0; i < N; i++) {
    int64_t d[] = {i, 3};
    ck_assert_ptr_eq(qir_tensor_of(ctx, QIR_F32, 2, d), seen[i]);
    ck_assert_int_eq(seen[i]->dims[0], i);
  }
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(quant_uniquing) {
  qir_context *ctx = qir_context_create();
  const qir_type *q = qir_quant_type_simple(ctx, QIR_I8, 0.0235, 3);
  ck_assert_ptr_nonnull(q);
  ck_assert_int_eq(q->kind, QIR_TYPE_QUANT);
  ck_assert_int_eq(q->axis, -1);
  ck_assert_int_eq(q->qmin, -128);
  ck_assert_int_eq(q->qmax, 127);
  ck_assert_ptr_eq(q, qir_quant_type_simple(ctx, QIR_I8, 0.0235, 3));
  ck_assert_ptr_ne(q, qir_quant_type_simple(ctx, QIR_I8, 0.0235, 2));
  ck_assert_ptr_ne(q, qir_quant_type_simple(ctx, QIR_U8, 0.0235, 3));
  ck_assert_ptr_ne(q, qir_quant_type_simple(ctx, QIR_I8, 0.0236, 3));
  /* NULL zero points equal all-zero ones. */
  double sc[2] = {0.5, 0.25};
  int64_t zp[2] = {0, 0};
  const qir_type *p1 = qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 0, 2,
                                      sc, NULL, -128, 127);
  const qir_type *p2 = qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 0, 2,
                                      sc, zp, -128, 127);
  ck_assert_ptr_eq(p1, p2);
  ck_assert_int_eq(p1->zero_points[1], 0);
  ck_assert_ptr_ne(p1, qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 1, 2,
                                      sc, zp, -128, 127));
  ck_assert_ptr_ne(p1, qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 0, 2,
                                      sc, zp, -8, 7));
  int64_t d[] = {2, 8};
  const qir_type *t = qir_tensor_type(ctx, q, 2, d);
  ck_assert(qir_tensor_is_quant(t));
  ck_assert_int_eq(t->scalar, QIR_I8);
  ck_assert_ptr_eq(t, qir_tensor_type(ctx, q, 2, d));
  qir_context_destroy(ctx);
}
END_TEST

static const char *quant_error(qir_context *ctx, diag_capture *c,
                               qir_scalar st, int axis, unsigned n,
                               const double *sc, const int64_t *zp,
                               int64_t qmin, int64_t qmax) {
  capture_begin(c, ctx);
  const qir_type *t = qir_quant_type(ctx, qir_loc_make(ctx, "q.qir", 1, 5),
                                     st, axis, n, sc, zp, qmin, qmax);
  ck_assert_ptr_null(t);
  return capture_text(c);
}

START_TEST(quant_validation_errors) {
  qir_context *ctx = qir_context_create();
  diag_capture c;
  double one = 0.5, neg = -0.5, zero = 0.0, inf = INFINITY, nan_ = NAN;
  double two[2] = {0.5, 0.25};
  int64_t zp300 = 300;
  ck_assert_str_eq(quant_error(ctx, &c, QIR_F32, -1, 1, &one, NULL, 0, 0),
                   "q.qir:1:5: error: quantized storage type must be an "
                   "integer of 8 to 32 bits, not f32\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I64, -1, 1, &one, NULL, -1, 1),
                   "q.qir:1:5: error: quantized storage type must be an "
                   "integer of 8 to 32 bits, not i64\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, -1, 1, &neg, NULL, -128, 127),
                   "q.qir:1:5: error: quantized scale must be positive and "
                   "finite, not -0.5\n");
  capture_end(&c);
  ck_assert_str_eq(
      quant_error(ctx, &c, QIR_I8, -1, 1, &zero, NULL, -128, 127),
      "q.qir:1:5: error: quantized scale must be positive and finite, not "
      "0.0\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, -1, 1, &inf, NULL, -128, 127),
                   "q.qir:1:5: error: quantized scale must be positive and "
                   "finite, not inf\n");
  capture_end(&c);
  ck_assert_str_eq(
      quant_error(ctx, &c, QIR_I8, -1, 1, &nan_, NULL, -128, 127),
      "q.qir:1:5: error: quantized scale must be positive and finite, not "
      "nan\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_U8, -1, 1, &one, &zp300, 0, 255),
                   "q.qir:1:5: error: quantized zero point 300 is outside "
                   "the range 0:255\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_U8, -1, 1, &one, NULL, -1, 255),
                   "q.qir:1:5: error: quantized range -1:255 does not fit "
                   "the storage type u8\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, -1, 1, &one, NULL, 7, -8),
                   "q.qir:1:5: error: quantized range 7:-8 is empty\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, 0, 0, &one, NULL, -128, 127),
                   "q.qir:1:5: error: quantized type needs at least one "
                   "scale\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, -2, 1, &one, NULL, -128, 127),
                   "q.qir:1:5: error: quantized axis must be -1 or a "
                   "dimension, not -2\n");
  capture_end(&c);
  ck_assert_str_eq(quant_error(ctx, &c, QIR_I8, -1, 2, two, NULL, -128, 127),
                   "q.qir:1:5: error: per-tensor quantized type needs one "
                   "scale, not 2\n");
  capture_end(&c);
  ck_assert_uint_eq(qir_diag_error_count(ctx), 12);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(tensor_rejects_bad_shapes) {
  qir_context *ctx = qir_context_create();
  int64_t bad[] = {2, -2};
  ck_assert_ptr_null(qir_tensor_of(ctx, QIR_F32, 2, bad));
  int64_t many[QIR_MAX_RANK + 1] = {0};
  for (int i = 0; i <= QIR_MAX_RANK; i++)
    many[i] = 1;
  ck_assert_ptr_nonnull(qir_tensor_of(ctx, QIR_F32, QIR_MAX_RANK, many));
  ck_assert_ptr_null(qir_tensor_of(ctx, QIR_F32, QIR_MAX_RANK + 1, many));
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 1, many);
  ck_assert_ptr_null(qir_tensor_type(ctx, t, 1, many));
  ck_assert_ptr_null(qir_tensor_type(ctx, NULL, 1, many));
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(tensor_helpers) {
  qir_context *ctx = qir_context_create();
  int64_t d[] = {1, 3, 224, 224};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 4, d);
  ck_assert(qir_tensor_is_static(t));
  ck_assert_int_eq(qir_tensor_num_elements(t), 150528);
  ck_assert_int_eq(qir_tensor_num_bytes(t), 602112);
  int64_t dd[] = {1, QIR_DYN, 4};
  const qir_type *dyn = qir_tensor_of(ctx, QIR_F16, 3, dd);
  ck_assert(!qir_tensor_is_static(dyn));
  ck_assert_int_eq(qir_tensor_num_elements(dyn), -1);
  ck_assert_int_eq(qir_tensor_num_bytes(dyn), -1);
  const qir_type *scalar = qir_tensor_of(ctx, QIR_I64, 0, NULL);
  ck_assert(qir_tensor_is_static(scalar));
  ck_assert_int_eq(qir_tensor_num_elements(scalar), 1);
  ck_assert_int_eq(qir_tensor_num_bytes(scalar), 8);
  int64_t zero[] = {4, 0, INT64_MAX};
  ck_assert_int_eq(qir_tensor_num_elements(qir_tensor_of(ctx, QIR_F32, 3,
                                                          zero)),
                   0);
  int64_t huge[] = {INT64_MAX / 2, 3};
  ck_assert_int_eq(qir_tensor_num_elements(qir_tensor_of(ctx, QIR_F32, 2,
                                                          huge)),
                   -1);
  int64_t big[] = {INT64_MAX / 4};
  const qir_type *b = qir_tensor_of(ctx, QIR_F64, 1, big);
  ck_assert_int_eq(qir_tensor_num_elements(b), INT64_MAX / 4);
  ck_assert_int_eq(qir_tensor_num_bytes(b), -1);
  ck_assert(!qir_tensor_is_static(qir_scalar_type(ctx, QIR_F32)));
  const qir_type *w = qir_tensor_with_elem(ctx, t, qir_scalar_type(ctx,
                                                                   QIR_I8));
  ck_assert_int_eq(w->scalar, QIR_I8);
  ck_assert_int_eq(w->dims[1], 3);
  ck_assert_ptr_eq(qir_tensor_with_elem(ctx, w, t->elem), t);
  ck_assert_ptr_eq(qir_tensor_with_dims(ctx, dyn, 4, d),
                   qir_tensor_of(ctx, QIR_F16, 4, d));
  qir_context_destroy(ctx);
}
END_TEST

static void check_format(const qir_type *t, const char *want) {
  char buf[256];
  int n = qir_type_format(t, buf, sizeof buf);
  ck_assert_str_eq(buf, want);
  ck_assert_int_eq(n, (int)strlen(want));
}

START_TEST(type_format_every_kind) {
  qir_context *ctx = qir_context_create();
  check_format(qir_scalar_type(ctx, QIR_BF16), "bf16");
  int64_t d[] = {1, 3, QIR_DYN, 224};
  check_format(qir_tensor_of(ctx, QIR_F32, 4, d), "tensor<1x3x?x224xf32>");
  check_format(qir_tensor_of(ctx, QIR_F32, 0, NULL), "tensor<f32>");
  check_format(qir_quant_type_simple(ctx, QIR_I8, 0.0235, 0), "!q.i8<0.0235>");
  check_format(qir_quant_type_simple(ctx, QIR_U8, 0.0235, 128),
               "!q.u8<0.0235:128>");
  double sc[] = {0.01, 0.02, 0.03};
  int64_t zp[] = {0, 1, 0};
  check_format(qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 0, 3, sc, zp,
                              -128, 127),
               "!q.i8<axis=0, [0.01, 0.02:1, 0.03]>");
  check_format(qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, -1, 1, sc + 2,
                              NULL, -8, 7),
               "!q.i8<0.03, range=-8:7>");
  check_format(qir_quant_type(ctx, qir_loc_unknown(), QIR_U8, 1, 2, sc, zp,
                              0, 15),
               "!q.u8<axis=1, [0.01, 0.02:1], range=0:15>");
  double half = 0.5;
  int64_t neg = -3;
  const qir_type *q = qir_quant_type(ctx, qir_loc_unknown(), QIR_I16, -1, 1,
                                     &half, &neg, -32768, 32767);
  check_format(q, "!q.i16<0.5:-3>");
  int64_t td[] = {1, 16};
  check_format(qir_tensor_type(ctx, qir_quant_type_simple(ctx, QIR_U8, 0.02,
                                                          128),
                               2, td),
               "tensor<1x16x!q.u8<0.02:128>>");
  check_format(qir_quant_type_simple(ctx, QIR_I8, 1.0, 0), "!q.i8<1.0>");
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(type_format_truncates_like_snprintf) {
  qir_context *ctx = qir_context_create();
  int64_t d[] = {1, 3, 224, 224};
  const qir_type *t = qir_tensor_of(ctx, QIR_F32, 4, d);
  char buf[8];
  int n = qir_type_format(t, buf, sizeof buf);
  ck_assert_int_eq(n, (int)strlen("tensor<1x3x224x224xf32>"));
  ck_assert_str_eq(buf, "tensor<");
  ck_assert_int_eq(qir_type_format(t, NULL, 0), n);
  char *mem = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&mem, &len);
  qir_type_print(fp, t);
  fclose(fp);
  ck_assert_str_eq(mem, "tensor<1x3x224x224xf32>");
  free(mem);
  size_t tl = 0;
  ck_assert_str_eq(qir_type_text(t, &tl), "tensor<1x3x224x224xf32>");
  ck_assert_uint_eq(tl, 23);
  /* Long types (over the first formatting buffer) keep all their text. */
  int64_t many[QIR_MAX_RANK];
  for (int i = 0; i < QIR_MAX_RANK; i++)
    many[i] = 123456789012345;
  double sc[QIR_MAX_RANK];
  for (int i = 0; i < QIR_MAX_RANK; i++)
    sc[i] = 0.1234567891234567;
  const qir_type *q = qir_quant_type(ctx, qir_loc_unknown(), QIR_I8, 0,
                                     QIR_MAX_RANK, sc, NULL, -128, 127);
  const qir_type *big = qir_tensor_type(ctx, q, QIR_MAX_RANK, many);
  const char *text = qir_type_text(big, &tl);
  ck_assert_uint_eq(tl, strlen(text));
  ck_assert_uint_gt(tl, 256 + 256);
  ck_assert(strncmp(text, "tensor<123456789012345x", 23) == 0);
  ck_assert_str_eq(text + tl - 21, "0.1234567891234567]>>");
  qir_context_destroy(ctx);
}
END_TEST

static void check_double(double v, const char *want) {
  char buf[64];
  int n = qir_format_double(v, buf, sizeof buf);
  ck_assert_str_eq(buf, want);
  ck_assert_int_eq(n, (int)strlen(want));
  if (isfinite(v)) {
    double back = strtod(buf, NULL);
    ck_assert(memcmp(&back, &v, sizeof v) == 0);
  }
}

START_TEST(format_double_shortest) {
  check_double(1.0, "1.0");
  check_double(0.1, "0.1");
  check_double(-0.0, "-0.0");
  check_double(0.0, "0.0");
  check_double(1.5e-05, "1.5e-05");
  check_double(1e-45, "1e-45");
  check_double(3.4028234663852886e38, "3.4028234663852886e+38");
  check_double(0.1 + 0.2, "0.30000000000000004");
  check_double(DBL_MAX, "1.7976931348623157e+308");
  check_double(DBL_TRUE_MIN, "5e-324");
  check_double(123456789.0, "123456789.0");
  check_double(10.0, "10.0");
  check_double(100000.0, "100000.0");
  check_double(1e15, "1000000000000000.0");
  check_double(1e16, "1e+16");
  check_double(9007199254740994.0, "9007199254740994.0");
  check_double(0.0001, "0.0001");
  check_double(0.00012, "0.00012");
  check_double(123.456, "123.456");
  check_double(-1234.5, "-1234.5");
  check_double(6.0, "6.0");
  check_double(-7.0, "-7.0");
  check_double(2.5e-300, "2.5e-300");
  check_double(1.25e100, "1.25e+100");
  check_double(-2.5, "-2.5");
  check_double(INFINITY, "inf");
  check_double(-INFINITY, "-inf");
  check_double(NAN, "nan");
  check_double(-NAN, "nan");
}
END_TEST

static void check_float(float v, const char *want) {
  char buf[64];
  qir_format_float(v, buf, sizeof buf);
  ck_assert_str_eq(buf, want);
  if (isfinite(v)) {
    float back = strtof(buf, NULL);
    ck_assert(memcmp(&back, &v, sizeof v) == 0);
  }
}

START_TEST(format_float_shortest) {
  check_float(0.1f, "0.1");
  check_float(1.0f, "1.0");
  check_float(3.4028235e38f, "3.4028235e+38");
  check_float(1e-45f, "1e-45");
  check_float(-0.0f, "-0.0");
  check_float(16777216.0f, "16777216.0");
  check_float(1073741824.0f, "1.0737418e+09"); /* 8 digits suffice */
  check_float(0.3f, "0.3");
  check_float(-2.5e-20f, "-2.5e-20");
  check_float(65504.0f, "65504.0");
  check_float(INFINITY, "inf");
  check_float(NAN, "nan");
  /* As a double, a float needs more digits. */
  char buf[64];
  qir_format_double((double)0.1f, buf, sizeof buf);
  ck_assert_str_eq(buf, "0.10000000149011612");
}
END_TEST

START_TEST(format_double_round_trips_random) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 5000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double v;
    memcpy(&v, &x, sizeof v);
    if (!isfinite(v))
      continue;
    char buf[64];
    qir_format_double(v, buf, sizeof buf);
    ck_assert(strpbrk(buf, ".e") != NULL);
    double back = strtod(buf, NULL);
    ck_assert_msg(memcmp(&back, &v, sizeof v) == 0, "%s", buf);
    float f = (float)(v * 1e-300);
    if (!isfinite(f))
      continue;
    qir_format_float(f, buf, sizeof buf);
    float fb = strtof(buf, NULL);
    ck_assert_msg(memcmp(&fb, &f, sizeof f) == 0, "%s", buf);
  }
}
END_TEST

Suite *core_types_suite(void) {
  Suite *s = suite_create("core_types");
  TCase *tc = tcase_create("types");
  tcase_set_timeout(tc, 60); /* slow under sanitizers on a busy machine */
  tcase_add_test(tc, scalar_helpers);
  tcase_add_test(tc, type_uniquing);
  tcase_add_test(tc, many_types_stay_unique);
  tcase_add_test(tc, quant_uniquing);
  tcase_add_test(tc, quant_validation_errors);
  tcase_add_test(tc, tensor_rejects_bad_shapes);
  tcase_add_test(tc, tensor_helpers);
  tcase_add_test(tc, type_format_every_kind);
  tcase_add_test(tc, type_format_truncates_like_snprintf);
  tcase_add_test(tc, format_double_shortest);
  tcase_add_test(tc, format_float_shortest);
  tcase_add_test(tc, format_double_round_trips_random);
  suite_add_tcase(s, tc);
  return s;
}
