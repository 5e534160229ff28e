/* tests/unit/npu_target.c - the target registry and the descriptions. */
#include <math.h>
#include <string.h>

#include "npu_test.h"
#include "qir/io.h"

static const char *const names[] = {"bpu-bernoulli2", "bpu-bayes", "ax650",
                                    "ax620e", "ax615"};

START_TEST(lookup_finds_every_target) {
  ck_assert_uint_eq(qir_target_count(), 5);
  for (unsigned i = 0; i < 5; i++) {
    const qir_target *t = qir_target_lookup(names[i]);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, names[i]);
    ck_assert_ptr_eq(qir_target_at(i), t);
  }
  ck_assert_ptr_null(qir_target_lookup("ax651"));
  ck_assert_ptr_null(qir_target_lookup(""));
  ck_assert_ptr_null(qir_target_lookup(NULL));
  ck_assert_ptr_null(qir_target_at(5));
}
END_TEST

START_TEST(quant_schemes_are_known) {
  for (unsigned i = 0; i < qir_target_count(); i++) {
    const qir_target *t = qir_target_at(i);
    ck_assert(!strcmp(t->quant_scheme, QIR_QUANT_SYM_I8) ||
              !strcmp(t->quant_scheme, QIR_QUANT_ASYM_U8) ||
              !strcmp(t->quant_scheme, QIR_QUANT_POW2_I8));
  }
  ck_assert_str_eq(qir_target_lookup("bpu-bernoulli2")->quant_scheme, "pow2-i8");
  ck_assert(!qir_target_lookup("bpu-bernoulli2")->has_int16);
  ck_assert(qir_target_lookup("ax650")->has_int16);
  ck_assert(!qir_target_lookup("ax615")->has_int16);
}
END_TEST

/* TOPS = 2 ops per MAC x MACs per cycle x cores x clock, within 5%. */
START_TEST(figures_are_consistent) {
  for (unsigned i = 0; i < qir_target_count(); i++) {
    const qir_target *t = qir_target_at(i);
    double tops = 2 * qir_target_peak_macs(t, 0) / 1e12;
    ck_assert_msg(fabs(tops - t->tops_int8) <= 0.05 * t->tops_int8,
                  "%s: %g TOPS from the MAC array, %g published", t->name,
                  tops, t->tops_int8);
    ck_assert_uint_ge(t->limits.max_outputs, 1);
  }
  const qir_target *ax = qir_target_lookup("ax650");
  ck_assert(qir_target_peak_macs(ax, 1) * 3 == qir_target_peak_macs(ax, 3));
  ck_assert(qir_target_peak_macs(ax, 9) == qir_target_peak_macs(ax, 0));
}
END_TEST

START_TEST(op_lists) {
  for (unsigned i = 0; i < qir_target_count(); i++) {
    const qir_target *t = qir_target_at(i);
    ck_assert(qir_target_has_op(t, QIR_OP_CONV2D));
    /* Softmax: bpu-bayes only (docs/Targets.md). */
    ck_assert(qir_target_has_op(t, QIR_OP_SOFTMAX) == !strcmp(t->name, "bpu-bayes"));
    ck_assert(!qir_target_has_op(t, QIR_OP_DEQUANTIZE));
  }
  ck_assert(!qir_target_has_op(qir_target_lookup("bpu-bernoulli2"), QIR_OP_HARD_SWISH));
  ck_assert(qir_target_has_op(qir_target_lookup("bpu-bayes"), QIR_OP_HARD_SWISH));
}
END_TEST

/* The template target's hook runs after the shared rules. */
START_TEST(template_hook) {
  static const char text[] =
      "func @main(%x: tensor<1x4x8x8x!q.i8<0.05>>) -> tensor<1x4x8x8x!q.i8<0.05>> {\n"
      "  %w = constant {value = dense<1> : tensor<4x4x3x3x!q.i8<0.01>>} : tensor<4x4x3x3x!q.i8<0.01>>\n"
      "  %c = conv2d(%x, %w) {pads = [2, 2, 2, 2], dilations = [2, 2]} : tensor<1x4x8x8x!q.i8<0.05>>\n"
      "  %d = conv2d(%c, %w) {pads = [1, 1, 1, 1]} : tensor<1x4x8x8x!q.i8<0.05>>\n"
      "  return(%d)\n"
      "}\n";
  qir_context *ctx = qir_context_create();
  qir_module *m = qir_parse_buffer(ctx, "t.qir", text, strlen(text), 1);
  ck_assert(m && qir_verify_module(m));
  qir_op *dilated = m->first->body.first->next, *plain = dilated->next;
  char why[128];
  ck_assert(!npu_op_is_legal(&qir_target_template, dilated, why, sizeof why));
  ck_assert_str_eq(why, "dilated convolution");
  ck_assert(npu_op_is_legal(&qir_target_template, plain, why, sizeof why));
  ck_assert(npu_op_is_legal(qir_target_lookup("ax650"), dilated, why, sizeof why));
  ck_assert_ptr_null(qir_target_lookup("template"));
  qir_module_destroy(m);
  qir_context_destroy(ctx);
}
END_TEST

Suite *npu_target_suite(void) {
  Suite *s = suite_create("npu_target");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, lookup_finds_every_target);
  tcase_add_test(tc, quant_schemes_are_known);
  tcase_add_test(tc, figures_are_consistent);
  tcase_add_test(tc, op_lists);
  tcase_add_test(tc, template_hook);
  suite_add_tcase(s, tc);
  return s;
}
