/* tests/unit/quant_biascorr.c - reading the q.bias_correction attribute
 * that the bias-correction pass writes and quantize reads: a size that
 * does not match the channels, or non-finite entries, must not shift a
 * bias. */
#include <math.h>
#include <string.h>

#include "quant/quant.h"
#include "unit.h"

Suite *quant_biascorr_suite(void);

/* The conv2d of a one-op function with the given attribute text. */
static qir_op *conv_with(qir_context *ctx, qir_module **m, const char *attr) {
  char text[1024];
  snprintf(text, sizeof text,
           "func @main(%%x: tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32> {\n"
           "  %%w = constant {value = dense<1.0> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>\n"
           "  %%b = constant {value = dense<0.5> : tensor<2xf32>} : tensor<2xf32>\n"
           "  %%c = conv2d(%%x, %%w, %%b) {%s} : tensor<1x2x1x1xf32>\n"
           "  return(%%c)\n}\n", attr);
  *m = qir_parse_buffer(ctx, "t.qir", text, strlen(text), 1);
  ck_assert_ptr_nonnull(*m);
  qir_op *conv = NULL;
  qir_foreach_op(op, &(*m)->first->body) if (qir_op_is(op, QIR_OP_CONV2D)) conv = op;
  ck_assert_ptr_nonnull(conv);
  return conv;
}

/* The two-channel correction of a conv with `attrs` (v prefilled with 9,
 * which must not survive); returns qq_bias_correction's result. */
static bool correction_of(qir_context *ctx, const char *attrs, double v[2]) {
  qir_module *m;
  qir_op *c = conv_with(ctx, &m, attrs);
  v[0] = v[1] = 9;
  bool ok = qq_bias_correction(c, v, 2);
  qir_module_destroy(m);
  return ok;
}

START_TEST(reads_one_value_per_channel) {
  qir_context *ctx = qir_context_create();
  double v[2];
  ck_assert(correction_of(ctx, "q.bias_correction = [0.25, -1.5]", v));
  ck_assert_double_eq(v[0], 0.25);
  ck_assert_double_eq(v[1], -1.5);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(wrong_size_or_absent_gives_zeros) {
  qir_context *ctx = qir_context_create();
  double v[2];
  ck_assert(!correction_of(ctx, "q.bias_correction = [0.25, -1.5, 2.0]", v));
  ck_assert_double_eq(v[0], 0.0);
  ck_assert_double_eq(v[1], 0.0);
  ck_assert(!correction_of(ctx, "group = 1", v));
  ck_assert_double_eq(v[0], 0.0);
  ck_assert_double_eq(v[1], 0.0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(non_finite_entries_are_zero) {
  qir_context *ctx = qir_context_create();
  double v[2];
  ck_assert(correction_of(ctx, "q.bias_correction = [nan, inf]", v));
  ck_assert_double_eq(v[0], 0.0);
  ck_assert_double_eq(v[1], 0.0);
  qir_context_destroy(ctx);
}
END_TEST

Suite *quant_biascorr_suite(void) {
  Suite *s = suite_create("quant_biascorr");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, reads_one_value_per_channel);
  tcase_add_test(tc, wrong_size_or_absent_gives_zeros);
  tcase_add_test(tc, non_finite_entries_are_zero);
  suite_add_tcase(s, tc);
  return s;
}
