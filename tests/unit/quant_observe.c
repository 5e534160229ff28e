/* tests/unit/quant_observe.c - the statistics and range choices of the
 * calibrate pass (quant/observe.c) and the error measures of precision
 * analysis, on data whose answer is known. */
#include <math.h>

#include "quant/quant.h"
#include "unit.h"

/* 0, 1, ..., 99 and one outlier at 1000. */
static void ramp_with_outlier(qq_stats *s, unsigned bins) {
  float x[101];
  for (int i = 0; i < 100; i++)
    x[i] = (float)i;
  x[100] = 1000.0f;
  qq_stats_init(s);
  qq_stats_add_minmax(s, x, 101);
  qq_stats_start_histogram(s, bins);
  qq_stats_add_histogram(s, x, 101);
}

START_TEST(minmax_keeps_the_observed_range) {
  qq_stats s;
  ramp_with_outlier(&s, 2048);
  double lo, hi;
  qq_choose_range(&s, QQ_MINMAX, 0, 255, &lo, &hi);
  ck_assert_double_eq(lo, 0.0);
  ck_assert_double_eq(hi, 1000.0);
  qq_stats_free(&s);
}
END_TEST

START_TEST(minmax_ignores_nan_and_inf) {
  float x[4] = {NAN, -2.0f, INFINITY, 3.0f};
  qq_stats s;
  qq_stats_init(&s);
  qq_stats_add_minmax(&s, x, 4);
  ck_assert(s.nonfinite);
  ck_assert_double_eq(s.lo, -2.0);
  ck_assert_double_eq(s.hi, 3.0);
  qq_stats_free(&s);
}
END_TEST

START_TEST(range_always_contains_zero) {
  float x[2] = {2.0f, 5.0f};
  qq_stats s;
  qq_stats_init(&s);
  qq_stats_add_minmax(&s, x, 2);
  double lo, hi;
  qq_choose_range(&s, QQ_MINMAX, 0, 255, &lo, &hi);
  ck_assert_double_eq(lo, 0.0);
  ck_assert_double_eq(hi, 5.0);
  qq_stats_free(&s);
}
END_TEST

/* 101 values, 1.01 may be clipped per tail: the outlier goes, 99 stays;
 * the bound is the upper edge of 99's bin (width 1000 / 2048). */
START_TEST(percentile_clips_the_outlier) {
  qq_stats s;
  ramp_with_outlier(&s, 2048);
  double lo, hi;
  qq_choose_range(&s, QQ_PERCENTILE, 99.0, 255, &lo, &hi);
  ck_assert_double_eq(lo, 0.0);
  ck_assert_double_eq(hi, 203 * (1000.0 / 2048));
  qq_stats_free(&s);
}
END_TEST

START_TEST(percentile_100_keeps_everything) {
  qq_stats s;
  ramp_with_outlier(&s, 2048);
  double lo, hi;
  qq_choose_range(&s, QQ_PERCENTILE, 100.0, 255, &lo, &hi);
  ck_assert_double_eq(hi, 1000.0);
  qq_stats_free(&s);
}
END_TEST

/* mse keeps a lone outlier: clipping 1000 to 100 costs 900^2, more than
 * the rounding error of the coarser steps on the 100 others. */
START_TEST(mse_keeps_a_lone_outlier) {
  qq_stats s;
  ramp_with_outlier(&s, 2048);
  double lo, hi;
  qq_choose_range(&s, QQ_MSE, 0, 255, &lo, &hi);
  ck_assert(hi > 990 && hi <= 1000);
  qq_choose_range(&s, QQ_KL, 0, 255, &lo, &hi);
  ck_assert(hi >= 99 && hi <= 1000);
  ck_assert_double_eq(lo, 0.0);
  qq_stats_free(&s);
}
END_TEST

/* The quantiles of an exponential distribution (100000 values, maximum
 * ln(200000) = 12.2): percentile 99.9 is ln(1000) = 6.91 to a bin; mse and
 * kl clip the long tail, but not into the bulk. */
static float expo[100000];

START_TEST(long_tail_is_clipped) {
  int n = 100000;
  for (int i = 0; i < n; i++)
    expo[i] = (float)-log(1.0 - (i + 0.5) / n);
  qq_stats s;
  qq_stats_init(&s);
  qq_stats_add_minmax(&s, expo, n);
  qq_stats_start_histogram(&s, 2048);
  qq_stats_add_histogram(&s, expo, n);
  double lo, hi, w = s.absmax / 2048;
  qq_choose_range(&s, QQ_PERCENTILE, 99.9, 255, &lo, &hi);
  ck_assert_double_eq_tol(hi, log(1000.0), 2 * w);
  qq_choose_range(&s, QQ_MSE, 0, 255, &lo, &hi);
  ck_assert(hi > 7.0 && hi < s.hi - 0.5);
  qq_choose_range(&s, QQ_KL, 0, 255, &lo, &hi);
  ck_assert(hi > 7.0 && hi < s.hi - 0.5);
  ck_assert_double_eq(lo, 0.0);
  qq_stats_free(&s);
}
END_TEST

/* Without outliers, a uniform distribution keeps (nearly) its range. */
START_TEST(mse_keeps_a_uniform_range) {
  float x[2001];
  for (int i = 0; i <= 2000; i++)
    x[i] = (float)(i - 1000) / 1000.0f;
  qq_stats s;
  qq_stats_init(&s);
  qq_stats_add_minmax(&s, x, 2001);
  qq_stats_start_histogram(&s, 2048);
  qq_stats_add_histogram(&s, x, 2001);
  double lo, hi;
  qq_choose_range(&s, QQ_MSE, 0, 255, &lo, &hi);
  ck_assert(hi > 0.95 && lo < -0.95);
  qq_stats_free(&s);
}
END_TEST

START_TEST(histogram_counts_every_finite_value) {
  qq_stats s;
  ramp_with_outlier(&s, 256);
  double total = 0;
  for (unsigned i = 0; i < 2 * s.nbins; i++)
    total += s.counts[i];
  ck_assert_double_eq(total, 101.0);
  /* The maximum lands in the last bin, zero in the first positive one. */
  ck_assert_double_eq(s.counts[2 * s.nbins - 1], 1.0);
  ck_assert(s.counts[s.nbins] >= 1.0);
  qq_stats_free(&s);
}
END_TEST

START_TEST(method_names_round_trip) {
  qq_method m;
  ck_assert(qq_method_from_name("kl", &m) && m == QQ_KL);
  ck_assert(qq_method_from_name("percentile", &m) && m == QQ_PERCENTILE);
  ck_assert(!qq_method_from_name("entropy", &m));
  ck_assert_str_eq(qq_method_name(QQ_MSE), "mse");
}
END_TEST

START_TEST(error_measures) {
  float a[3] = {1, 2, 3}, b[3] = {1, 2, 4}, z[3] = {0, 0, 0};
  qq_err e = {0};
  qq_err_add(&e, a, a, 3);
  ck_assert_double_eq_tol(qq_err_cosine(&e), 1.0, 1e-12);
  ck_assert_double_eq(qq_err_mse(&e), 0.0);
  qq_err f = {0};
  qq_err_add(&f, a, b, 3);
  ck_assert_double_eq_tol(qq_err_cosine(&f), 17.0 / (sqrt(14.0) * sqrt(21.0)), 1e-12);
  ck_assert_double_eq_tol(qq_err_mse(&f), 1.0 / 3, 1e-12);
  ck_assert_double_eq(f.maxabs, 1.0);
  ck_assert_double_eq_tol(qq_err_relative(&f), 1.0 / sqrt(14.0), 1e-12);
  qq_err g = {0};
  qq_err_add(&g, z, z, 3);
  ck_assert_double_eq(qq_err_cosine(&g), 1.0);
  qq_err h = {0};
  qq_err_add(&h, z, a, 3);
  ck_assert_double_eq(qq_err_cosine(&h), 0.0);
}
END_TEST

START_TEST(precision_names) {
  qq_prec p;
  ck_assert(qq_prec_from_name("INT16", &p) && p == QQ_PREC_INT16);
  ck_assert(qq_prec_from_name("U8", &p) && p == QQ_PREC_INT8);
  ck_assert(qq_prec_from_name("fp32", &p) && p == QQ_PREC_FLOAT);
  ck_assert(!qq_prec_from_name("int4", &p));
}
END_TEST

static Suite *quant_observe_suite(void) {
  Suite *s = suite_create("quant_observe");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, minmax_keeps_the_observed_range);
  tcase_add_test(tc, minmax_ignores_nan_and_inf);
  tcase_add_test(tc, range_always_contains_zero);
  tcase_add_test(tc, percentile_clips_the_outlier);
  tcase_add_test(tc, percentile_100_keeps_everything);
  tcase_add_test(tc, mse_keeps_a_lone_outlier);
  tcase_add_test(tc, long_tail_is_clipped);
  tcase_add_test(tc, mse_keeps_a_uniform_range);
  tcase_add_test(tc, histogram_counts_every_finite_value);
  tcase_add_test(tc, method_names_round_trip);
  tcase_add_test(tc, error_measures);
  tcase_add_test(tc, precision_names);
  suite_add_tcase(s, tc);
  return s;
}

Suite *quant_biascorr_suite(void);

QIR_UNIT_MAIN(quant_observe_suite, quant_biascorr_suite)
