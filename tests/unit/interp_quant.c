/* tests/unit/interp_quant.c - the integer quantization arithmetic on edge
 * values (qir/quant.h, docs/Quantization.md). */
#include <math.h>

#include "interp_test.h"
#include "qir/quant.h"

#define TWO30 ((int32_t)1 << 30)

static qir_multiplier mult(double m) {
  qir_multiplier r;
  ck_assert(qir_multiplier_from_real(m, &r));
  return r;
}

START_TEST(t_srdhm_edges) {
  ck_assert_int_eq(qir_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
  ck_assert_int_eq(qir_srdhm(INT32_MIN, INT32_MAX), -2147483647);
  ck_assert_int_eq(qir_srdhm(INT32_MAX, INT32_MAX), 2147483646);
  ck_assert_int_eq(qir_srdhm(0, INT32_MIN), 0);
  /* Ties go toward +infinity. */
  ck_assert_int_eq(qir_srdhm(3, TWO30), 2);
  ck_assert_int_eq(qir_srdhm(-3, TWO30), -1);
  ck_assert_int_eq(qir_srdhm(1, TWO30), 1);
  ck_assert_int_eq(qir_srdhm(-1, TWO30), 0);
  ck_assert_int_eq(qir_srdhm(5, TWO30), 3);
  ck_assert_int_eq(qir_srdhm(-5, TWO30), -2);
}
END_TEST

START_TEST(t_rounding_divide_by_pot) {
  ck_assert_int_eq(qir_rounding_divide_by_pot(5, 1), 3);
  ck_assert_int_eq(qir_rounding_divide_by_pot(-5, 1), -3);
  ck_assert_int_eq(qir_rounding_divide_by_pot(4, 1), 2);
  ck_assert_int_eq(qir_rounding_divide_by_pot(-4, 1), -2);
  ck_assert_int_eq(qir_rounding_divide_by_pot(7, 0), 7);
  ck_assert_int_eq(qir_rounding_divide_by_pot(INT32_MIN, 0), INT32_MIN);
  ck_assert_int_eq(qir_rounding_divide_by_pot(INT32_MIN, 31), -1);
  ck_assert_int_eq(qir_rounding_divide_by_pot(INT32_MAX, 31), 1);
  ck_assert_int_eq(qir_rounding_divide_by_pot(TWO30, 31), 1);
  ck_assert_int_eq(qir_rounding_divide_by_pot(-TWO30, 31), -1);
  ck_assert_int_eq(qir_rounding_divide_by_pot(TWO30 - 1, 31), 0);
  ck_assert_int_eq(qir_rounding_divide_by_pot(-TWO30 + 1, 31), 0);
  ck_assert_int_eq(qir_rounding_divide_by_pot(-6, 2), -2); /* -1.5 */
  ck_assert_int_eq(qir_rounding_divide_by_pot(-7, 2), -2); /* -1.75 */
}
END_TEST

START_TEST(t_multiplier_from_real) {
  qir_multiplier m = mult(0.5);
  ck_assert_int_eq(m.multiplier, TWO30);
  ck_assert_int_eq(m.shift, 0);
  m = mult(1.0);
  ck_assert_int_eq(m.multiplier, TWO30);
  ck_assert_int_eq(m.shift, 1);
  m = mult(0.25);
  ck_assert_int_eq(m.multiplier, TWO30);
  ck_assert_int_eq(m.shift, -1);
  m = mult(0.75);
  ck_assert_int_eq(m.multiplier, 3 * (TWO30 / 2));
  ck_assert_int_eq(m.shift, 0);
  m = mult(0.0);
  ck_assert_int_eq(m.multiplier, 0);
  /* f * 2^31 rounds up to 2^31: renormalized. */
  m = mult(1.0 - ldexp(1.0, -40));
  ck_assert_int_eq(m.multiplier, TWO30);
  ck_assert_int_eq(m.shift, 1);
  m = mult(ldexp(1.0, -70));
  ck_assert_int_eq(m.multiplier, 0);
  ck_assert(!qir_multiplier_from_real(-0.5, &m));
  ck_assert(!qir_multiplier_from_real(NAN, &m));
  ck_assert(!qir_multiplier_from_real(INFINITY, &m));
  ck_assert(!qir_multiplier_from_real(ldexp(1.0, 31), &m));
  ck_assert(fabs(qir_multiplier_to_real(mult(0.0123)) - 0.0123) < 1e-11);
}
END_TEST

START_TEST(t_multiply_exact_half) {
  qir_multiplier h = mult(0.5);
  ck_assert_int_eq(qir_mul_by_multiplier(3, h), 2);
  ck_assert_int_eq(qir_mul_by_multiplier(-3, h), -1); /* srdhm tie up */
  ck_assert_int_eq(qir_mul_by_multiplier(4, h), 2);
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MIN, h), -1073741824);
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MAX, h), 1073741824);
  qir_multiplier q = mult(0.25);
  ck_assert_int_eq(qir_mul_by_multiplier(6, q), 2);   /* 1.5 */
  ck_assert_int_eq(qir_mul_by_multiplier(-6, q), -2); /* -1.5, away */
  ck_assert_int_eq(qir_mul_by_multiplier(0, q), 0);
}
END_TEST

START_TEST(t_multiply_shifts) {
  /* Right shift 31: m = 2^-32; the double rounding of INT32_MAX gives 1. */
  qir_multiplier m = mult(ldexp(1.0, -32));
  ck_assert_int_eq(m.shift, -31);
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MAX, m), 1);
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MIN, m), -1);
  ck_assert_int_eq(qir_mul_by_multiplier(1 << 20, m), 0);
  /* Shift 0 with a non-power-of-two multiplier. */
  m = mult(0.6);
  ck_assert_int_eq(m.shift, 0);
  ck_assert_int_eq(qir_mul_by_multiplier(100, m), 60);
  ck_assert_int_eq(qir_mul_by_multiplier(-100, m), -60);
  /* Shifts past 31 give 0. */
  m = mult(ldexp(1.0, -40));
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MAX, m), 0);
  /* Left shifts saturate before the multiply. */
  m = mult(4.0);
  ck_assert_int_eq(m.shift, 3);
  ck_assert_int_eq(qir_mul_by_multiplier(1000, m), 4000);
  ck_assert_int_eq(qir_mul_by_multiplier(-1000, m), -4000);
  ck_assert_int_eq(qir_mul_by_multiplier(1 << 29, m), TWO30);
  ck_assert_int_eq(qir_mul_by_multiplier(INT32_MIN, m), INT32_MIN / 2);
}
END_TEST

START_TEST(t_multiply64) {
  qir_multiplier h = mult(0.5);
  ck_assert_int_eq(qir_mul_by_multiplier64(3, h), 2);
  ck_assert_int_eq(qir_mul_by_multiplier64(-3, h), -2); /* away from zero */
  ck_assert_int_eq(qir_mul_by_multiplier64((int64_t)1 << 40, h),
                   (int64_t)1 << 39);
  ck_assert_int_eq(qir_mul_by_multiplier64(INT64_MIN, h), INT64_MIN / 2);
  qir_multiplier big = mult(1e9);
  ck_assert_int_eq(qir_mul_by_multiplier64(INT64_MAX, big), INT64_MAX);
  ck_assert_int_eq(qir_mul_by_multiplier64(INT64_MIN, big), INT64_MIN);
  qir_multiplier tiny = mult(ldexp(1.0, -62));
  ck_assert_int_eq(qir_mul_by_multiplier64(INT64_MAX, tiny), 2);
}
END_TEST

START_TEST(t_requantize_saturation) {
  qir_multiplier m = mult(0.5);
  ck_assert_int_eq(qir_requantize32(1000, m, 0, -128, 127), 127);
  ck_assert_int_eq(qir_requantize32(-1000, m, 0, -128, 127), -128);
  ck_assert_int_eq(qir_requantize32(10, m, 3, -128, 127), 8);
  ck_assert_int_eq(qir_requantize32(-10, m, 128, 0, 255), 123);
  ck_assert_int_eq(qir_requantize32(INT32_MIN, m, -128, -128, 127), -128);
  ck_assert_int_eq(qir_requantize32(INT32_MAX, mult(1e6), 127, -128, 127), 127);
  /* Narrow range (4-bit). */
  ck_assert_int_eq(qir_requantize32(100, m, 0, -8, 7), 7);
  ck_assert_int_eq(qir_requantize64(INT64_MAX, mult(2.0), 5, -32768, 32767),
                   32767);
  ck_assert_int_eq(qir_requantize64(-40000, m, 0, -32768, 32767), -20000);
}
END_TEST

START_TEST(t_quantize_half_even) {
  ck_assert_int_eq(qir_quantize_f64(0.5, 1.0, 0, -128, 127), 0);
  ck_assert_int_eq(qir_quantize_f64(1.5, 1.0, 0, -128, 127), 2);
  ck_assert_int_eq(qir_quantize_f64(2.5, 1.0, 0, -128, 127), 2);
  ck_assert_int_eq(qir_quantize_f64(-0.5, 1.0, 0, -128, 127), 0);
  ck_assert_int_eq(qir_quantize_f64(-1.5, 1.0, 0, -128, 127), -2);
  ck_assert_int_eq(qir_quantize_f64(-2.5, 1.0, 0, -128, 127), -2);
  ck_assert_int_eq(qir_quantize_f64(0.3, 0.1, 10, -128, 127), 13);
  ck_assert_int_eq(qir_quantize_f64(1000.0, 0.1, 0, -128, 127), 127);
  ck_assert_int_eq(qir_quantize_f64(-1000.0, 0.1, 0, -128, 127), -128);
  ck_assert_int_eq(qir_quantize_f64(1e300, 1e-300, 0, 0, 255), 255);
  ck_assert_int_eq(qir_quantize_f64(INFINITY, 1.0, 0, -128, 127), 127);
  ck_assert_int_eq(qir_quantize_f64(-INFINITY, 1.0, 128, 0, 255), 0);
  ck_assert_int_eq(qir_quantize_f64(NAN, 1.0, 7, -128, 127), 7);
  ck_assert_int_eq(qir_quantize_f64(-3.0, 1.0, 0, -8, 7), -3);
  ck_assert_int_eq(qir_quantize_f64(-9.0, 1.0, 0, -8, 7), -8);
  ck_assert(qir_dequantize_f64(130, 0.5, 128) == 1.0);
}
END_TEST

START_TEST(t_load_store_int) {
  uint8_t buf[16];
  qir_store_int(QIR_I8, buf, 0, -5);
  ck_assert_int_eq(qir_load_int(QIR_I8, buf, 0), -5);
  qir_store_int(QIR_U16, buf, 1, 65535);
  ck_assert_int_eq(qir_load_int(QIR_U16, buf, 1), 65535);
  qir_store_int(QIR_I32, buf, 1, INT32_MIN);
  ck_assert_int_eq(qir_load_int(QIR_I32, buf, 1), INT32_MIN);
  qir_store_int(QIR_I1, buf, 0, 7);
  ck_assert_int_eq(qir_load_int(QIR_I1, buf, 0), 1);
}
END_TEST

Suite *interp_quant_suite(void) {
  Suite *s = suite_create("quant");
  TCase *tc = tcase_create("arith");
  tcase_add_test(tc, t_srdhm_edges);
  tcase_add_test(tc, t_rounding_divide_by_pot);
  tcase_add_test(tc, t_multiplier_from_real);
  tcase_add_test(tc, t_multiply_exact_half);
  tcase_add_test(tc, t_multiply_shifts);
  tcase_add_test(tc, t_multiply64);
  tcase_add_test(tc, t_requantize_saturation);
  tcase_add_test(tc, t_quantize_half_even);
  tcase_add_test(tc, t_load_store_int);
  suite_add_tcase(s, tc);
  return s;
}
