/* tests/unit/npu_artifact.c - the artifact round trip, the reader against
 * damaged input (every truncation, byte flips behind a valid checksum), the
 * validator and the emulator API. */
#include <math.h>
#include <string.h>

#include "backends/npu/run.h"
#include "npu_test.h"
#include "qir/io.h"

static const char model[] =
    "func @main(%x: tensor<1x2x6x6x!q.u8<0.02:128>>) -> (tensor<1x4x3x3x!q.u8<0.05:128>>, tensor<1x4x3x3x!q.u8<0.004:0>>) {\n"
    "  %w = constant {value = dense<[1, -2, 3, 4, 5, -6, 7, 8, 9, 10, -11, 12, 13, 14, 15, 16, 17, -18, 19, 20, 21, 22, 23, 24, 25, 26, 27, -28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72]> : tensor<4x2x3x3x!q.i8<0.01>>} : tensor<4x2x3x3x!q.i8<0.01>>\n"
    "  %c = conv2d(%x, %w) {pads = [1, 1, 1, 1], strides = [2, 2]} : tensor<1x4x3x3x!q.u8<0.05:128>>\n"
    "  %s = softmax(%c) {axis = 1} : tensor<1x4x3x3x!q.u8<0.004:0>>\n"
    "  %t = sigmoid(%s) : tensor<1x4x3x3x!q.u8<0.004:0>>\n"
    "  return(%c, %t)\n"
    "}\n";

unsigned npu_test_errors;

void npu_test_quiet(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  (void)d;
  (void)user;
  npu_test_errors++;
}

/* Linear resize and softmax: the float unit's instructions on bpu-bayes. */
static const char float_unit_model[] =
    "func @main(%x: tensor<1x3x4x5x!q.i8<0.05>>) -> (tensor<1x3x7x9x!q.i8<0.05>>, tensor<1x3x4x5x!q.i8<0.0078125>>) {\n"
    "  %r = resize(%x) {mode = \"linear\", sizes = [1, 3, 7, 9]} : tensor<1x3x7x9x!q.i8<0.05>>\n"
    "  %s = softmax(%x) {axis = 1} : tensor<1x3x4x5x!q.i8<0.0078125>>\n"
    "  return(%r, %s)\n"
    "}\n";

qir_artifact *npu_test_compile(qir_context *ctx, const char *text,
                               const char *target, unsigned batch) {
  qir_module *m = qir_parse_buffer(ctx, "model.qir", text, strlen(text), 1);
  ck_assert_ptr_nonnull(m);
  ck_assert(qir_verify_module(m));
  if (batch)
    ck_assert(npu_module_set_batch(m, batch));
  qir_compile_options o;
  qir_compile_options_init(&o);
  o.target = target;
  qir_artifact *a = npu_compile_to_artifact(m, &o);
  qir_module_destroy(m);
  return a;
}

static qir_artifact *compile(qir_context *ctx, const char *target) {
  return npu_test_compile(ctx, model, target, 0);
}

void npu_test_rejects_truncations(qir_context *ctx, const qir_artifact *a) {
  size_t n;
  uint8_t *b = npu_artifact_encode(a, &n);
  for (size_t len = 0; len < n; len++) {
    unsigned before = npu_test_errors;
    ck_assert_ptr_null(qir_artifact_read_buffer(ctx, b, len, "cut"));
    ck_assert_uint_gt(npu_test_errors, before);
  }
  free(b);
}

void npu_test_encodes_to(const qir_artifact *r, const uint8_t *b, size_t n) {
  size_t n2;
  uint8_t *b2 = npu_artifact_encode(r, &n2);
  ck_assert_uint_eq(n, n2);
  ck_assert(!memcmp(b, b2, n));
  free(b2);
}

uint32_t npu_test_crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

START_TEST(round_trip_is_a_fixed_point) {
  qir_context *ctx = qir_context_create();
  qir_artifact *a = compile(ctx, "ax650");
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(a->num_programs, 2);
  ck_assert_uint_eq(a->num_steps, 3);
  size_t n1;
  uint8_t *b1 = npu_artifact_encode(a, &n1);
  qir_artifact *r = qir_artifact_read_buffer(ctx, b1, n1, "mem");
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(qir_artifact_target(r), "ax650");
  npu_test_encodes_to(r, b1, n1);
  free(b1);
  qir_artifact_free(r);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(every_truncation_is_rejected) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = compile(ctx, "ax620e");
  ck_assert_ptr_null(qir_artifact_read_buffer(ctx, NULL, 0, "null"));
  npu_test_rejects_truncations(ctx, a);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}
END_TEST

static void run_if_accepted(qir_context *ctx, qir_artifact *r) {
  qir_emu *e = qir_emu_create(ctx, r);
  if (!e)
    return;
  for (unsigned i = 0; i < qir_emu_num_inputs(e); i++) {
    qir_tensor t;
    qir_tensor_init_from_type(&t, qir_emu_input_type(e, i));
    ck_assert(qir_tensor_alloc(&t));
    memset(t.data, 0x5A, t.nbytes);
    qir_emu_set_input(e, i, &t);
    qir_tensor_free_data(&t);
  }
  qir_emu_run(e);
  qir_emu_destroy(e);
}

/* Damage behind a valid checksum reaches the structural checks: the
 * reader must reject it or produce an artifact that runs safely (the
 * sanitizer build checks the "safely"). */
static void damage(const char *text, const char *target, unsigned trials) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = npu_test_compile(ctx, text, target, 0);
  ck_assert_ptr_nonnull(a);
  size_t n;
  uint8_t *b = npu_artifact_encode(a, &n);
  uint8_t *d = qir_xmalloc(n);
  uint64_t state = 12345;
  unsigned accepted = 0;
  for (unsigned trial = 0; trial < trials; trial++) {
    memcpy(d, b, n);
    for (int k = 0; k < 1 + (int)(trial % 3); k++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      size_t pos = 64 + (size_t)((state >> 33) % (n - 64));
      d[pos] ^= (uint8_t)(1u << ((state >> 20) & 7)) | (uint8_t)(trial & 0xF0);
    }
    uint32_t crc = npu_test_crc32(d + 64, n - 64);
    memcpy(d + 28, &crc, 4);
    qir_artifact *r = qir_artifact_read_buffer(ctx, d, n, "flip");
    if (r) {
      accepted++;
      run_if_accepted(ctx, r);
      qir_artifact_free(r);
    }
  }
  ck_assert_uint_lt(accepted, trials);
  free(d);
  free(b);
  qir_artifact_free(a);
  qir_context_destroy(ctx);
}

START_TEST(damaged_bytes_never_crash) { damage(model, "ax650", 3000); }
END_TEST

/* The softmax table makes this artifact large: fewer trials. */
START_TEST(damaged_float_unit_never_crashes) {
  damage(float_unit_model, "bpu-bayes", 200);
}
END_TEST

START_TEST(validator_names_the_problem) {
  npu_program p = {0};
  npu_tensor t[3] = {
      {NPU_SPACE_DDR, QIR_I8, 0, {1, 4, 4, 4}},
      {NPU_SPACE_WGT, QIR_I8, 0, {4, 3, 1, 1}},
      {NPU_SPACE_DDR, QIR_I8, 64, {1, 4, 4, 4}},
  };
  uint8_t weights[256] = {0};
  p.tensors = t;
  p.num_tensors = 3;
  p.ddr_size = 128;
  npu_insn in = {.opcode = NPU_CONV};
  in.f[npu_field(NPU_CONV, "out")] = 2;
  in.f[npu_field(NPU_CONV, "in")] = 0;
  in.f[npu_field(NPU_CONV, "w")] = 1;
  for (const char *const *f = (const char *const[]){"sh", "sw", "dh", "dw", "group", NULL}; *f; f++)
    in.f[npu_field(NPU_CONV, *f)] = 1;
  p.insns = &in;
  p.num_insns = 1;
  char why[128];
  ck_assert(!npu_program_validate(&p, weights, sizeof weights, why, sizeof why));
  ck_assert_str_eq(why, "conv: shapes do not agree (instruction 0)");
  t[1].dims[1] = 4;
  ck_assert(npu_program_validate(&p, weights, sizeof weights, why, sizeof why));
  t[2].space = NPU_SPACE_WGT;
  ck_assert(!npu_program_validate(&p, weights, sizeof weights, why, sizeof why));
  ck_assert_str_eq(why, "conv: writes to the weights (instruction 0)");
  t[2].space = NPU_SPACE_DDR;
  t[2].offset = 100;
  ck_assert(!npu_program_validate(&p, weights, sizeof weights, why, sizeof why));
  ck_assert_str_eq(why, "tensor 2: outside its memory space");
}
END_TEST

static void set_f64(npu_insn *in, const char *f, double d) {
  memcpy(&in->f[npu_field(in->opcode, f)], &d, sizeof d);
}

static void set_i(npu_insn *in, const char *f, int64_t v) {
  in->f[npu_field(in->opcode, f)] = v;
}

static void expect_invalid(const npu_program *p, const uint8_t *w, size_t n,
                           const char *msg) {
  char why[128];
  ck_assert(!npu_program_validate(p, w, n, why, sizeof why));
  ck_assert_str_eq(why, msg);
}

/* A program of instructions in[0 .. ni) on tensors t[0 .. nt), with
 * memories of ddr_size and sram_size bytes. */
static npu_program program_of(npu_tensor *t, unsigned nt, npu_insn *in, unsigned ni,
                              uint64_t ddr_size, uint64_t sram_size) {
  npu_program p = {0};
  p.tensors = t;
  p.num_tensors = nt;
  p.ddr_size = ddr_size;
  p.sram_size = sram_size;
  p.insns = in;
  p.num_insns = ni;
  return p;
}

/* A program of one instruction `in` on the two DDR tensors t. */
static npu_program one_insn(npu_tensor *t, uint64_t ddr_size, npu_insn *in) {
  return program_of(t, 2, in, 1, ddr_size, 0);
}

/* A copy moves f32 (a float epilogue's tile rows) only to f32 and
 * only as bytes; the emulator copies them unchanged. */
START_TEST(validator_checks_float_copies) {
  npu_tensor t[2] = {
      {NPU_SPACE_DDR, QIR_F32, 0, {1, 1, 2, 2}},
      {NPU_SPACE_DDR, QIR_F32, 64, {1, 1, 2, 3}},
  };
  npu_insn in = {.opcode = NPU_COPY};
  npu_program p = one_insn(t, 128, &in);
  set_i(&in, "in", 0);
  set_i(&in, "out", 1);
  for (const char *const *f = (const char *const[]){"n0", "n1", "n2", "n3", NULL}; *f; f++)
    set_i(&in, *f, 1);
  set_i(&in, "n3", 2);
  set_i(&in, "d3", 1);
  char why[128];
  ck_assert(npu_program_validate(&p, NULL, 0, why, sizeof why));
  uint8_t mem[128] = {0};
  float x[4] = {1.5f, -2.25f, 3.0f, 4.0f}, y[6];
  memcpy(mem, x, sizeof x);
  npu_execute(&p, mem, NULL, NULL);
  memcpy(y, mem + 64, sizeof y);
  ck_assert(y[0] == 0.0f && y[1] == 1.5f && y[2] == -2.25f && y[3] == 0.0f);
  set_i(&in, "rescale", 1);
  expect_invalid(&p, NULL, 0, "copy: a float copy moves f32 to f32 without rescale (instruction 0)");
  set_i(&in, "rescale", 0);
  t[1].dtype = QIR_I8;
  expect_invalid(&p, NULL, 0, "copy: a float copy moves f32 to f32 without rescale (instruction 0)");
}
END_TEST

/* A conv's sum may have fewer channels than its result (a
 * channel-padded residual): the channels past it add 0.  One more
 * channel than the result is an error. */
START_TEST(conv_sum_of_fewer_channels_and_post_affine) {
  npu_tensor t[4] = {
      {NPU_SPACE_DDR, QIR_I8, 0, {1, 1, 1, 2}},   /* x */
      {NPU_SPACE_WGT, QIR_I8, 64, {2, 1, 1, 1}},  /* w */
      {NPU_SPACE_DDR, QIR_I8, 64, {1, 2, 1, 2}},  /* y */
      {NPU_SPACE_DDR, QIR_I8, 128, {1, 1, 1, 2}}, /* sum */
  };
  uint8_t weights[128] = {0}, mem[192] = {0};
  int8_t w[2] = {1, 2};
  memcpy(weights + 64, w, sizeof w);
  double s_acc = 1.0; /* bias, multiplier, shift and weight zero point 0 */
  for (int c = 0; c < 2; c++)
    memcpy(weights + (c * NPU_PARAM_WORDS + NPU_PARAM_SACC) * 4, &s_acc, sizeof s_acc);
  npu_insn in = {.opcode = NPU_CONV};
  npu_program p = one_insn(t, 192, &in);
  p.num_tensors = 4;
  set_i(&in, "in", 0);
  set_i(&in, "w", 1);
  set_i(&in, "out", 2);
  for (const char *const *f = (const char *const[]){"sh", "sw", "dh", "dw", "group", NULL}; *f; f++)
    set_i(&in, *f, 1);
  set_i(&in, "epilogue", 1);
  set_i(&in, "sum", 3);
  set_f64(&in, "ss", 1.0);
  set_f64(&in, "sy", 1.0);
  set_i(&in, "lo", -128);
  set_i(&in, "hi", 127);
  char why[128];
  ck_assert_msg(npu_program_validate(&p, weights, sizeof weights, why, sizeof why), "%s", why);
  int8_t x[2] = {3, -4}, sum[2] = {10, 20}, y[4];
  memcpy(mem, x, sizeof x);
  memcpy(mem + 128, sum, sizeof sum);
  npu_execute(&p, mem, NULL, weights);
  memcpy(y, mem + 64, sizeof y);
  /* channel 0: x * 1 + sum; channel 1: x * 2, no sum */
  ck_assert(y[0] == 13 && y[1] == 16 && y[2] == 6 && y[3] == -8);
  t[3].dims[1] = 3;
  expect_invalid(&p, weights, sizeof weights, "bad sum operand (instruction 0)");
  t[3].dims[1] = 1;
  t[3].dims[3] = 1;
  expect_invalid(&p, weights, sizeof weights, "bad sum operand (instruction 0)");
  /* The post-activation affine: (x * w + sum) * 0.5 - 1, rounded half to
   * even at scale 1. */
  t[3].dims[3] = 2;
  set_i(&in, "post", 1);
  set_f64(&in, "pm", 0.5);
  set_f64(&in, "pa", -1.0);
  ck_assert_msg(npu_program_validate(&p, weights, sizeof weights, why, sizeof why), "%s", why);
  npu_execute(&p, mem, NULL, weights);
  memcpy(y, mem + 64, sizeof y);
  ck_assert(y[0] == 6 && y[1] == 7 && y[2] == 2 && y[3] == -5);
  set_i(&in, "post", 2);
  expect_invalid(&p, weights, sizeof weights, "bad float epilogue (instruction 0)");
  set_i(&in, "post", 1);
  set_f64(&in, "pa", NAN);
  expect_invalid(&p, weights, sizeof weights, "bad float epilogue (instruction 0)");
}
END_TEST

/* A conv reads its channel parameters from SRAM with psram = 1 (a tiled
 * group's copy of them): the same result as from the weight space.  The
 * validator checks only where the table is; values out of the ranges it
 * allows in the weight space saturate there (a multiplier of 0 here). */
START_TEST(conv_params_in_sram) {
  npu_tensor t[3] = {
      {NPU_SPACE_DDR, QIR_I8, 0, {1, 1, 1, 2}},  /* x */
      {NPU_SPACE_WGT, QIR_I8, 64, {1, 1, 1, 1}}, /* w */
      {NPU_SPACE_DDR, QIR_I8, 64, {1, 1, 1, 2}}, /* y */
  };
  uint8_t weights[128] = {0}, mem[128] = {0}, sram[256] = {0};
  weights[64] = 3;
  int32_t prm[NPU_PARAM_WORDS] = {0};
  prm[NPU_PARAM_BIAS] = 5;
  prm[NPU_PARAM_MULT] = 1073741824;
  prm[NPU_PARAM_SHIFT] = 1;
  memcpy(weights, prm, sizeof prm);
  npu_insn in = {.opcode = NPU_CONV};
  npu_program p = program_of(t, 3, &in, 1, 128, 256);
  set_i(&in, "in", 0);
  set_i(&in, "w", 1);
  set_i(&in, "out", 2);
  for (const char *const *f = (const char *const[]){"sh", "sw", "dh", "dw", "group", NULL}; *f; f++)
    set_i(&in, *f, 1);
  set_i(&in, "lo", -128);
  set_i(&in, "hi", 127);
  char why[128];
  ck_assert_msg(npu_program_validate(&p, weights, sizeof weights, why, sizeof why), "%s", why);
  int8_t x[2] = {7, -4}, y[2], y_wgt[2];
  memcpy(mem, x, sizeof x);
  npu_execute(&p, mem, sram, weights);
  memcpy(y_wgt, mem + 64, sizeof y_wgt);
  ck_assert(y_wgt[0] != 0 && y_wgt[1] != 0);
  memcpy(sram + 192, prm, sizeof prm);
  set_i(&in, "params", 192);
  set_i(&in, "psram", 1);
  ck_assert_msg(npu_program_validate(&p, weights, sizeof weights, why, sizeof why), "%s", why);
  memset(mem + 64, 0, 2);
  npu_execute(&p, mem, sram, weights);
  memcpy(y, mem + 64, sizeof y);
  ck_assert(y[0] == y_wgt[0] && y[1] == y_wgt[1]);
  /* Hostile values run without overflow: the multiplier saturates to 0. */
  int32_t bad[NPU_PARAM_WORDS] = {INT32_MAX, -5, 1000, 1 << 30, -1, -1};
  memcpy(sram + 192, bad, sizeof bad);
  npu_execute(&p, mem, sram, weights);
  memcpy(y, mem + 64, sizeof y);
  ck_assert(y[0] == 0 && y[1] == 0);
  set_i(&in, "params", 256 - NPU_PARAM_WORDS * 4 + 1);
  expect_invalid(&p, weights, sizeof weights, "parameter table outside the SRAM (instruction 0)");
  set_i(&in, "params", 192);
  set_i(&in, "psram", 2);
  expect_invalid(&p, weights, sizeof weights, "conv: field 'psram' out of range (instruction 0)");
}
END_TEST

START_TEST(validator_checks_resize) {
  npu_tensor t[2] = {
      {NPU_SPACE_DDR, QIR_I8, 0, {1, 2, 3, 4}},
      {NPU_SPACE_DDR, QIR_I8, 64, {1, 2, 6, 8}},
  };
  npu_insn in = {.opcode = NPU_RESIZE};
  npu_program p = one_insn(t, 256, &in);
  set_i(&in, "out", 1);
  set_i(&in, "mode", NPU_RESIZE_LINEAR);
  set_f64(&in, "sx", 0.5);
  set_f64(&in, "sy", 0.25);
  set_i(&in, "lo", -128);
  set_i(&in, "hi", 127);
  char why[128];
  ck_assert(npu_program_validate(&p, NULL, 0, why, sizeof why));
  set_i(&in, "coord", 5);
  expect_invalid(&p, NULL, 0, "resize: bad mode, coordinate mode or scales (instruction 0)");
  set_i(&in, "coord", 4);
  set_f64(&in, "scale_w", -2.0);
  expect_invalid(&p, NULL, 0, "resize: bad mode, coordinate mode or scales (instruction 0)");
  set_f64(&in, "scale_w", 2.0);
  set_i(&in, "hi", 128);
  expect_invalid(&p, NULL, 0, "resize: bad result parameters (instruction 0)");
  set_i(&in, "hi", 127);
  set_f64(&in, "sx", 0.0);
  expect_invalid(&p, NULL, 0, "resize: bad input parameters (instruction 0)");
  set_f64(&in, "sx", 0.5);
  t[1].dims[1] = 3;
  expect_invalid(&p, NULL, 0, "resize: shapes do not agree (instruction 0)");
}
END_TEST

START_TEST(validator_checks_softmax) {
  npu_tensor t[2] = {
      {NPU_SPACE_DDR, QIR_U8, 0, {1, 4, 2, 2}},
      {NPU_SPACE_DDR, QIR_U8, 64, {1, 4, 2, 2}},
  };
  static uint8_t weights[256 * 256 * 4 + 64];
  npu_insn in = {.opcode = NPU_SOFTMAX};
  npu_program p = one_insn(t, 128, &in);
  set_i(&in, "out", 1);
  set_i(&in, "table", 64);
  set_i(&in, "entries", 256);
  set_i(&in, "outer", 1);
  set_i(&in, "len", 4);
  set_i(&in, "inner", 4);
  set_f64(&in, "sy", 1.0 / 256);
  set_i(&in, "hi", 255);
  char why[128];
  ck_assert(npu_program_validate(&p, weights, sizeof weights, why, sizeof why));
  expect_invalid(&p, weights, sizeof weights - 1, "softmax: table outside the weights (instruction 0)");
  set_i(&in, "inner", 2);
  expect_invalid(&p, weights, sizeof weights, "softmax: shapes do not agree (instruction 0)");
  set_i(&in, "inner", 4);
  set_i(&in, "entries", 255);
  expect_invalid(&p, weights, sizeof weights, "softmax: table does not cover the input (instruction 0)");
  set_i(&in, "entries", 256);
  t[0].dtype = t[1].dtype = QIR_I16;
  p.ddr_size = 256;
  t[1].offset = 128;
  expect_invalid(&p, weights, sizeof weights, "softmax: table does not cover the input (instruction 0)");
}
END_TEST

/* A gpool band by band (parts 1, 2, 3 into an i32 accumulator) gives
 * the whole gpool's result, average and max; the validator checks the
 * accumulator, the part and the count. */
START_TEST(banded_gpool) {
  npu_tensor t[7] = {
      {NPU_SPACE_DDR, QIR_U8, 0, {1, 2, 6, 5}},   /* the whole input */
      {NPU_SPACE_DDR, QIR_U8, 64, {1, 2, 1, 1}},  /* pooled whole */
      {NPU_SPACE_DDR, QIR_U8, 128, {1, 2, 1, 1}}, /* pooled by bands */
      {NPU_SPACE_SRAM, QIR_I32, 0, {1, 2, 1, 1}}, /* the accumulator */
      {NPU_SPACE_SRAM, QIR_U8, 64, {1, 2, 2, 5}}, /* bands of 2 rows */
      {NPU_SPACE_SRAM, QIR_U8, 128, {1, 2, 2, 5}},
      {NPU_SPACE_SRAM, QIR_U8, 192, {1, 2, 2, 5}},
  };
  uint8_t ddr[192] = {0}, sram[256] = {0};
  for (unsigned i = 0; i < 60; i++)
    ddr[i] = (uint8_t)(i * 37 % 251);
  for (int avg = 0; avg <= 1; avg++) {
    npu_insn in[10] = {{.opcode = NPU_GPOOL}};
    set_i(&in[0], "out", 1);
    set_i(&in[0], "in", 0);
    set_i(&in[0], "acc", -1);
    set_i(&in[0], "avg", avg);
    set_i(&in[0], "zx", 3);
    set_i(&in[0], "zy", 7);
    set_i(&in[0], "hi", 255);
    set_f64(&in[0], "sx", 0.5);
    set_f64(&in[0], "sy", 0.25);
    for (unsigned b = 0; b < 3; b++) { /* copy rows 2b, 2b+1; pool them */
      npu_insn *c = &in[1 + 2 * b], *g = &in[2 + 2 * b];
      c->opcode = NPU_COPY;
      set_i(c, "in", 0);
      set_i(c, "out", 4 + b);
      set_i(c, "s2", 2 * b);
      set_i(c, "n0", 1);
      set_i(c, "n1", 2);
      set_i(c, "n2", 2);
      set_i(c, "n3", 5);
      set_i(c, "hi", 255);
      *g = in[0];
      set_i(g, "in", 4 + b);
      set_i(g, "out", 2);
      set_i(g, "acc", 3);
      set_i(g, "part", b + 1);
      set_i(g, "count", 30);
    }
    npu_program p = program_of(t, 7, in, 7, sizeof ddr, sizeof sram);
    char why[128];
    ck_assert_msg(npu_program_validate(&p, NULL, 0, why, sizeof why), "%s", why);
    npu_execute(&p, ddr, sram, NULL);
    ck_assert_int_eq(ddr[64], ddr[128]);
    ck_assert_int_eq(ddr[65], ddr[129]);
    ck_assert_int_ne(ddr[64], ddr[65]);
    set_i(&in[2], "count", 9);
    expect_invalid(&p, NULL, 0, "gpool: field 'count' out of range (instruction 2)");
    set_i(&in[2], "count", 30);
    set_i(&in[4], "part", 4);
    expect_invalid(&p, NULL, 0, "gpool: field 'part' out of range (instruction 4)");
    set_i(&in[4], "part", 2);
    set_i(&in[0], "acc", 3);
    expect_invalid(&p, NULL, 0, "gpool: an accumulator for a whole tensor (instruction 0)");
    set_i(&in[0], "acc", -1);
    t[3].dtype = QIR_I16;
    expect_invalid(&p, NULL, 0, "gpool: the accumulator is not one i32 per plane (instruction 2)");
    t[3].dtype = QIR_I32;
    t[0].dims[2] = 6;
  }
}
END_TEST

/* A gather from a band of its source's rows, indices from the band's
 * first pixel (base), gives the rows of the whole gather. */
START_TEST(gather_from_source_rows) {
  npu_tensor t[5] = {
      {NPU_SPACE_DDR, QIR_I8, 0, {1, 2, 4, 3}},   /* the source */
      {NPU_SPACE_DDR, QIR_I8, 64, {1, 2, 8, 6}},  /* gathered whole */
      {NPU_SPACE_DDR, QIR_I8, 192, {1, 2, 4, 6}}, /* rows 2..5, by band */
      {NPU_SPACE_SRAM, QIR_I8, 0, {1, 2, 2, 3}},  /* source rows 1, 2 */
      {NPU_SPACE_SRAM, QIR_I8, 64, {1, 2, 4, 6}},
  };
  int32_t table[48];
  for (int i = 0; i < 48; i++) /* nearest 2x: (row / 2) x 3 + col / 2 */
    table[i] = (i / 6 / 2) * 3 + i % 6 / 2;
  uint8_t weights[sizeof table], ddr[256] = {0}, sram[128] = {0};
  memcpy(weights, table, sizeof table);
  for (unsigned i = 0; i < 24; i++)
    ddr[i] = (uint8_t)(i * 7 + 1);
  npu_insn in[4] = {{.opcode = NPU_GATHER}, {.opcode = NPU_COPY}, {.opcode = NPU_GATHER},
                    {.opcode = NPU_COPY}};
  set_i(&in[0], "out", 1);
  set_i(&in[0], "lo", -128);
  set_i(&in[0], "hi", 127);
  set_i(&in[1], "out", 3);
  set_i(&in[1], "s2", 1);
  set_i(&in[1], "n0", 1);
  set_i(&in[1], "n1", 2);
  set_i(&in[1], "n2", 2);
  set_i(&in[1], "n3", 3);
  set_i(&in[1], "lo", -128);
  set_i(&in[1], "hi", 127);
  in[2] = in[0];
  set_i(&in[2], "in", 3);
  set_i(&in[2], "out", 4);
  set_i(&in[2], "table", 2 * 6 * 4);
  set_i(&in[2], "base", 3);
  in[3] = in[1];
  set_i(&in[3], "in", 4);
  set_i(&in[3], "out", 2);
  set_i(&in[3], "s2", 0);
  set_i(&in[3], "n2", 4);
  set_i(&in[3], "n3", 6);
  npu_program p = program_of(t, 5, in, 4, sizeof ddr, sizeof sram);
  char why[128];
  ck_assert_msg(npu_program_validate(&p, weights, sizeof weights, why, sizeof why), "%s", why);
  npu_execute(&p, ddr, sram, weights);
  for (int c = 0; c < 2; c++)
    ck_assert_mem_eq(&ddr[192 + c * 24], &ddr[64 + c * 48 + 2 * 6], 24);
  set_i(&in[2], "base", 2);
  expect_invalid(&p, weights, sizeof weights, "gather: index out of range (instruction 2)");
  set_i(&in[2], "base", 4);
  expect_invalid(&p, weights, sizeof weights, "gather: index out of range (instruction 2)");
}
END_TEST

/* A copy reads its region whole before it writes: rows moved up within
 * the bytes of a band (a tile keeping the rows it shares with the tile
 * before, in single buffering or in a slot), to a band of the same shape
 * and to a shorter one at the same place; and rows moved down. */
START_TEST(copy_between_overlapping_bands) {
  npu_tensor t[3] = {
      {NPU_SPACE_SRAM, QIR_U8, 0, {1, 2, 4, 3}}, /* a band of 4 rows */
      {NPU_SPACE_SRAM, QIR_U8, 0, {1, 2, 3, 3}}, /* a band of 3 rows, same place */
      {NPU_SPACE_SRAM, QIR_U8, 3, {1, 2, 4, 3}}, /* one row further */
  };
  static const struct {
    int64_t in, out, s2, d2, n2;
  } cases[] = {{0, 0, 2, 0, 2}, {0, 1, 1, 0, 3}, {0, 2, 0, 0, 3}};
  for (unsigned k = 0; k < sizeof cases / sizeof *cases; k++) {
    uint8_t sram[64], was[64];
    for (unsigned i = 0; i < sizeof sram; i++)
      sram[i] = was[i] = (uint8_t)(i + 1);
    npu_insn in[1] = {{.opcode = NPU_COPY}};
    set_i(&in[0], "in", cases[k].in);
    set_i(&in[0], "out", cases[k].out);
    set_i(&in[0], "s2", cases[k].s2);
    set_i(&in[0], "d2", cases[k].d2);
    set_i(&in[0], "n0", 1);
    set_i(&in[0], "n1", 2);
    set_i(&in[0], "n2", cases[k].n2);
    set_i(&in[0], "n3", 3);
    set_i(&in[0], "hi", 255);
    npu_program p = program_of(t, 3, in, 1, 0, sizeof sram);
    char why[128];
    ck_assert_msg(npu_program_validate(&p, NULL, 0, why, sizeof why), "%s", why);
    npu_execute(&p, NULL, sram, NULL);
    const npu_tensor *x = &t[cases[k].in], *y = &t[cases[k].out];
    for (int64_t c = 0; c < 2; c++)
      for (int64_t r = 0; r < cases[k].n2; r++)
        for (int64_t w = 0; w < 3; w++) {
          int64_t from = (int64_t)x->offset + (c * x->dims[2] + cases[k].s2 + r) * 3 + w;
          int64_t to = (int64_t)y->offset + (c * y->dims[2] + cases[k].d2 + r) * 3 + w;
          ck_assert_msg(sram[to] == was[from], "case %u: channel %lld row %lld", k,
                        (long long)c, (long long)r);
        }
  }
}
END_TEST

START_TEST(emulator_api) {
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, npu_test_quiet, NULL, NULL, NULL);
  qir_artifact *a = compile(ctx, "ax615");
  qir_emu *e = qir_emu_create(ctx, a);
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_eq(qir_emu_num_inputs(e), 1);
  ck_assert_uint_eq(qir_emu_num_outputs(e), 2);
  ck_assert_str_eq(qir_emu_input_name(e, 0), "x");
  ck_assert_str_eq(qir_emu_output_name(e, 0), "c");
  ck_assert_str_eq(qir_emu_output_name(e, 1), "t");
  ck_assert_ptr_null(qir_emu_input_name(e, 1));
  qir_tensor bad;
  int64_t dims[1] = {72};
  qir_tensor_init_from_type(&bad, qir_tensor_of(ctx, QIR_U8, 1, dims));
  ck_assert(qir_tensor_alloc(&bad));
  unsigned before = npu_test_errors;
  ck_assert(!qir_emu_set_input(e, 0, &bad));
  ck_assert_uint_gt(npu_test_errors, before);
  ck_assert(!qir_emu_set_input(e, 3, &bad));
  qir_tensor_free_data(&bad);
  qir_emu_destroy(e);
  qir_artifact_free(a);
  before = npu_test_errors;
  ck_assert_ptr_null(compile(ctx, "nope"));
  ck_assert_uint_gt(npu_test_errors, before);
  qir_context_destroy(ctx);
}
END_TEST

Suite *npu_artifact_suite(void) {
  Suite *s = suite_create("npu_artifact");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, round_trip_is_a_fixed_point);
  tcase_add_test(tc, every_truncation_is_rejected);
  tcase_add_test(tc, damaged_bytes_never_crash);
  tcase_add_test(tc, damaged_float_unit_never_crashes);
  tcase_add_test(tc, validator_names_the_problem);
  tcase_add_test(tc, validator_checks_float_copies);
  tcase_add_test(tc, conv_sum_of_fewer_channels_and_post_affine);
  tcase_add_test(tc, conv_params_in_sram);
  tcase_add_test(tc, validator_checks_resize);
  tcase_add_test(tc, validator_checks_softmax);
  tcase_add_test(tc, banded_gpool);
  tcase_add_test(tc, gather_from_source_rows);
  tcase_add_test(tc, copy_between_overlapping_bands);
  tcase_add_test(tc, emulator_api);
  suite_add_tcase(s, tc);
  return s;
}
