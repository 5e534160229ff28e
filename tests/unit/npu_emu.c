/* tests/unit/npu_emu.c - the emulator's counters (qir_emu_get_stats):
 * zero before a run, the last run's only, the steps adding up to the
 * totals. */
#include <string.h>

#include "npu_test.h"

/* A conv then a CPU softmax then an NPU max pool on ax615: two NPU steps
 * around a CPU one. */
static const char model[] =
    "func @main(%x: tensor<1x2x4x4x!q.i8<0.05>>) -> tensor<1x2x2x2x!q.i8<0.004>> {\n"
    "  %w = constant {value = dense<[1, -2, 3, 4, 5, -6, 7, 8]> : tensor<4x2x1x1x!q.i8<0.01>>} : tensor<4x2x1x1x!q.i8<0.01>>\n"
    "  %c = conv2d(%x, %w) : tensor<1x4x4x4x!q.i8<0.05>>\n"
    "  %s = softmax(%c) {axis = 1} : tensor<1x4x4x4x!q.i8<0.004>>\n"
    "  %p = max_pool2d(%s) {kernel = [2, 2], strides = [2, 2]} : tensor<1x4x2x2x!q.i8<0.004>>\n"
    "  %r = slice(%p) {starts = [0, 0, 0, 0], ends = [1, 2, 2, 2]} : tensor<1x2x2x2x!q.i8<0.004>>\n"
    "  return(%r)\n"
    "}\n";

static qir_artifact *compile(qir_context *ctx) {
  qir_artifact *a = npu_test_compile(ctx, model, "ax615", 0);
  ck_assert_ptr_nonnull(a);
  return a;
}

static void set_input(qir_emu *e, int8_t fill) {
  qir_tensor t;
  qir_tensor_init_from_type(&t, qir_emu_input_type(e, 0));
  ck_assert(qir_tensor_alloc(&t));
  for (int64_t i = 0; i < qir_tensor_numel(&t); i++)
    ((int8_t *)t.data)[i] = (int8_t)(fill + i);
  ck_assert(qir_emu_set_input(e, 0, &t));
  qir_tensor_free_data(&t);
}

START_TEST(stats_zero_before_a_run) {
  qir_context *ctx = qir_context_create();
  qir_artifact *a = compile(ctx);
  qir_emu *e = qir_emu_create(ctx, a);
  ck_assert_ptr_nonnull(e);
  qir_emu_stats s;
  qir_emu_get_stats(e, &s);
  ck_assert_uint_eq(s.runs, 0);
  ck_assert_uint_eq(s.instructions, 0);
  ck_assert_uint_eq(s.ddr_load_bytes + s.ddr_store_bytes, 0);
  ck_assert(s.cycles == 0);
  ck_assert_uint_eq(s.num_steps, 2);
  ck_assert_str_eq(s.steps[0].program, "main_npu0");
  qir_emu_destroy(e);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(stats_add_up_and_do_not_accumulate) {
  qir_context *ctx = qir_context_create();
  qir_artifact *a = compile(ctx);
  qir_emu *e = qir_emu_create(ctx, a);
  set_input(e, 3);
  ck_assert(qir_emu_run(e));
  qir_emu_stats s;
  qir_emu_get_stats(e, &s);
  ck_assert_uint_eq(s.runs, 1);
  ck_assert_uint_eq(s.num_steps, 2);
  uint64_t insns = 0, load = 0, wgt = 0, store = 0;
  double cycles = 0;
  for (unsigned i = 0; i < s.num_steps; i++) {
    const qir_emu_step_stats *st = &s.steps[i];
    ck_assert_uint_eq(st->runs, 1);
    ck_assert_uint_eq(a->steps[st->step].kind, NPU_STEP_NPU);
    ck_assert(st->cycles > 0);
    insns += st->instructions;
    load += st->ddr_load_bytes;
    wgt += st->ddr_weight_load_bytes;
    store += st->ddr_store_bytes;
    cycles += st->cycles;
  }
  ck_assert_uint_eq(insns, s.instructions);
  ck_assert_uint_eq(load, s.ddr_load_bytes);
  ck_assert_uint_eq(wgt, s.ddr_weight_load_bytes);
  ck_assert_uint_eq(store, s.ddr_store_bytes);
  ck_assert(cycles == s.cycles);
  ck_assert(s.latency_us == s.cycles / s.clock_mhz);
  /* The conv: x (32) + w (8) + 4 x 24 parameter bytes. */
  ck_assert_uint_eq(s.steps[0].ddr_load_bytes, 32 + 8 + 96);
  ck_assert_uint_eq(s.steps[0].ddr_weight_load_bytes, 8 + 96);
  /* Another run, other data: the same counters, not twice them. */
  qir_emu_stats first = s;
  qir_emu_step_stats step0 = s.steps[0];
  set_input(e, -40);
  ck_assert(qir_emu_run(e));
  qir_emu_get_stats(e, &s);
  ck_assert_uint_eq(s.runs, 1);
  ck_assert_uint_eq(s.instructions, first.instructions);
  ck_assert_uint_eq(s.ddr_load_bytes, first.ddr_load_bytes);
  ck_assert_uint_eq(s.ddr_store_bytes, first.ddr_store_bytes);
  ck_assert(s.cycles == first.cycles);
  ck_assert_uint_eq(s.steps[0].instructions, step0.instructions);
  qir_emu_destroy(e);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

Suite *npu_emu_suite(void) {
  Suite *s = suite_create("npu_emu");
  TCase *tc = tcase_create("stats");
  tcase_add_test(tc, stats_zero_before_a_run);
  tcase_add_test(tc, stats_add_up_and_do_not_accumulate);
  suite_add_tcase(s, tc);
  return s;
}
