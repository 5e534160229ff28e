/* tests/unit/npu_batch.c - batch variants: the artifact's batch section
 * (round trip, truncation, damage), weights shared or appended and
 * relocated, and the emulator's runs of several frames. */
#include <string.h>

#include "backends/npu/run.h"
#include "npu_test.h"

/* A conv with weights `w` and a max pool on ax650: batchable. */
static const char model_fmt[] =
    "func @main(%%x: tensor<1x2x4x4x!q.u8<0.05:128>>) -> tensor<1x4x2x2x!q.u8<0.1:128>> {\n"
    "  %%w = constant {value = dense<[%s]> : tensor<4x2x1x1x!q.i8<0.01>>} : tensor<4x2x1x1x!q.i8<0.01>>\n"
    "  %%c = conv2d(%%x, %%w) : tensor<1x4x4x4x!q.u8<0.1:128>>\n"
    "  %%p = max_pool2d(%%c) {kernel = [2, 2], strides = [2, 2]} : tensor<1x4x2x2x!q.u8<0.1:128>>\n"
    "  return(%%p)\n"
    "}\n";

static const char weights_a[] = "1, -2, 3, 4, 5, -6, 7, 8";
static const char weights_b[] = "-9, 4, 0, 2, -5, 6, 1, -3";


/* The model with weights w compiled at `batch` frames. */
static qir_artifact *compile_at(qir_context *ctx, const char *w, unsigned batch) {
  char text[2048];
  snprintf(text, sizeof text, model_fmt, w);
  qir_artifact *a = npu_test_compile(ctx, text, "ax650", batch);
  ck_assert_ptr_nonnull(a);
  return a;
}

/* Batch 1 of weights_a with variants 2 (weights w2) and 4 (weights_a). */
static qir_artifact *batched(qir_context *ctx, const char *w2) {
  qir_artifact *a = compile_at(ctx, weights_a, 1);
  npu_artifact_add_variant(a, 4, compile_at(ctx, weights_a, 4));
  npu_artifact_add_variant(a, 2, compile_at(ctx, w2, 2));
  return a;
}

START_TEST(variants_share_the_weights_and_round_trip) {
  qir_context *ctx = qir_context_create();
  qir_artifact *a = batched(ctx, weights_a);
  uint64_t wsize = a->weights_size;
  ck_assert_uint_eq(npu_artifact_num_variants(a), 2);
  unsigned b0, b1;
  const qir_artifact *v0 = npu_artifact_variant(a, 0, &b0);
  ck_assert_ptr_nonnull(npu_artifact_variant(a, 1, &b1));
  ck_assert_uint_eq(b0, 2);
  ck_assert_uint_eq(b1, 4);
  ck_assert_ptr_eq(v0->weights, a->weights);
  ck_assert_ptr_null(npu_artifact_variant(a, 2, NULL));
  size_t n1;
  uint8_t *e1 = npu_artifact_encode(a, &n1);
  qir_artifact *r = qir_artifact_read_buffer(ctx, e1, n1, "mem");
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_eq(r->weights_size, wsize);
  ck_assert_uint_eq(npu_artifact_num_variants(r), 2);
  ck_assert_uint_eq(npu_artifact_variant(r, 1, &b1)->values[r->inputs[0]].type->dims[0], 4);
  npu_test_encodes_to(r, e1, n1);
  free(e1);
  qir_artifact_free(r);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(every_truncation_of_a_batched_artifact_is_rejected) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = batched(ctx, weights_a);
  npu_test_rejects_truncations(ctx, a);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* Runs 7 frames when the damaged artifact is accepted: safely (the
 * sanitizer build checks it). */
static void run_frames_if_accepted(qir_context *ctx, qir_artifact *r) {
  qir_emu *e = qir_emu_create(ctx, r);
  if (e && qir_emu_set_frames(e, 7)) {
    qir_tensor t;
    qir_tensor_init_from_type(&t, qir_emu_input_type(e, 0));
    ck_assert(qir_tensor_alloc(&t));
    memset(t.data, 0x5A, t.nbytes);
    if (qir_emu_set_input(e, 0, &t))
      qir_emu_run(e);
    qir_tensor_free_data(&t);
  }
  qir_emu_destroy(e);
}

/* Flipped bits in the batch section behind a valid checksum: rejected,
 * or an artifact that runs safely. */
START_TEST(damage_in_the_batch_section_is_safe) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = batched(ctx, weights_b);
  size_t n;
  uint8_t *b = npu_artifact_encode(a, &n);
  /* The fifth entry of the section table: kind 5, the batch section. */
  const uint8_t *entry = b + 64 + 4 * 24;
  ck_assert_uint_eq(entry[0], 5);
  uint64_t off = le64(entry + 8), size = le64(entry + 16);
  uint8_t *d = qir_xmalloc(n);
  uint64_t state = 777;
  unsigned rejected = 0;
  for (unsigned trial = 0; trial < 300; trial++) {
    memcpy(d, b, n);
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    d[off + (state >> 33) % size] ^= (uint8_t)(1u << ((state >> 20) & 7));
    uint32_t crc = npu_test_crc32(d + 64, n - 64);
    memcpy(d + 28, &crc, 4);
    qir_artifact *r = qir_artifact_read_buffer(ctx, d, n, "damaged");
    rejected += !r;
    if (r)
      run_frames_if_accepted(ctx, r);
    qir_artifact_free(r);
  }
  ck_assert_uint_gt(rejected, 0);
  free(d);
  free(b);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

static void fill(qir_tensor *t, unsigned seed) {
  for (size_t i = 0; i < t->nbytes; i++)
    ((uint8_t *)t->data)[i] = (uint8_t)(i * 37 + seed * 11);
}

/* Output of running frame f (of `frames` filled by fill(seed)) through
 * artifact a alone, into out (one frame's bytes). */
static void run_alone(qir_context *ctx, const qir_artifact *a, unsigned seed,
                      unsigned frames, unsigned f, uint8_t *out) {
  qir_emu *e = qir_emu_create(ctx, a);
  qir_tensor all, one;
  qir_tensor_init_from_type(&one, qir_emu_input_type(e, 0));
  one.nbytes = (size_t)qir_tensor_numel(&one) * qir_scalar_size(one.scalar);
  all = one;
  all.dims[0] = frames;
  all.nbytes = one.nbytes * frames;
  ck_assert(qir_tensor_alloc(&all));
  fill(&all, seed);
  one.data = (uint8_t *)all.data + f * one.nbytes;
  ck_assert(qir_emu_set_input(e, 0, &one));
  ck_assert(qir_emu_run(e));
  memcpy(out, qir_emu_output(e, 0)->data, qir_emu_output(e, 0)->nbytes);
  qir_tensor_free_data(&all);
  qir_emu_destroy(e);
}

/* 7 frames = 4 + 2 + 1; the batch-2 variant has other weights (appended
 * to the weight space, its offsets moved), so frames 4 and 5 are those
 * of the weights_b model: each frame equals its model run alone. */
START_TEST(frames_run_on_the_variants_largest_first) {
  qir_context *ctx = qir_context_create();
  qir_artifact *a = batched(ctx, weights_b);
  qir_artifact *other = compile_at(ctx, weights_b, 1);
  qir_emu *e = qir_emu_create(ctx, a);
  ck_assert_uint_eq(qir_emu_num_batch_sizes(e), 3);
  ck_assert_uint_eq(qir_emu_batch_size(e, 0), 1);
  ck_assert_uint_eq(qir_emu_batch_size(e, 1), 2);
  ck_assert_uint_eq(qir_emu_batch_size(e, 2), 4);
  ck_assert_uint_eq(qir_emu_batch_size(e, 3), 0);
  ck_assert(qir_emu_set_frames(e, 7));
  ck_assert_uint_eq(qir_emu_frames(e), 7);
  ck_assert_int_eq(qir_emu_input_type(e, 0)->dims[0], 7);
  qir_tensor x;
  qir_tensor_init_from_type(&x, qir_emu_input_type(e, 0));
  ck_assert(qir_tensor_alloc(&x));
  fill(&x, 3);
  ck_assert(qir_emu_set_input(e, 0, &x));
  ck_assert(qir_emu_run(e));
  const qir_tensor *y = qir_emu_output(e, 0);
  ck_assert_int_eq(y->dims[0], 7);
  size_t frame = y->nbytes / 7;
  uint8_t want[256];
  ck_assert_uint_le(frame, sizeof want);
  for (unsigned f = 0; f < 7; f++) {
    run_alone(ctx, f == 4 || f == 5 ? other : a, 3, 7, f, want);
    ck_assert(!memcmp((uint8_t *)y->data + f * frame, want, frame));
  }
  qir_emu_stats s;
  qir_emu_get_stats(e, &s);
  ck_assert_uint_eq(s.frames, 7);
  ck_assert_uint_eq(s.runs, 3);
  qir_tensor_free_data(&x);
  qir_emu_destroy(e);
  qir_artifact_free(other);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(frames_out_of_range_are_errors) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = compile_at(ctx, weights_a, 1);
  qir_emu *e = qir_emu_create(ctx, a);
  unsigned before = npu_test_errors;
  ck_assert(!qir_emu_set_frames(e, 0));
  ck_assert(!qir_emu_set_frames(e, QIR_EMU_MAX_FRAMES + 1));
  ck_assert_uint_eq(npu_test_errors, before + 2);
  ck_assert_uint_eq(qir_emu_frames(e), 1);
  ck_assert_uint_eq(qir_emu_num_batch_sizes(e), 1);
  ck_assert(qir_emu_set_frames(e, 2));
  ck_assert(qir_emu_set_frames(e, 1));
  ck_assert_int_eq(qir_emu_input_type(e, 0)->dims[0], 1);
  qir_emu_destroy(e);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

Suite *npu_batch_suite(void) {
  Suite *s = suite_create("npu_batch");
  TCase *tc = tcase_create("batch");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, variants_share_the_weights_and_round_trip);
  tcase_add_test(tc, every_truncation_of_a_batched_artifact_is_rejected);
  tcase_add_test(tc, damage_in_the_batch_section_is_safe);
  tcase_add_test(tc, frames_run_on_the_variants_largest_first);
  tcase_add_test(tc, frames_out_of_range_are_errors);
  suite_add_tcase(s, tc);
  return s;
}
