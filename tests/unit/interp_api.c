/* tests/unit/interp_api.c - the interpreter C API on small functions:
 * inputs, outputs, errors, the observer hook, memory planning, matmul
 * broadcasting and quantized kernels against float references. */
#include <math.h>
#include <string.h>

#include "interp_test.h"
#include "qir/interp.h"

typedef struct fixture {
  qir_context *ctx;
  qir_module *m;
  qir_interp *it;
  char last_error[512];
} fixture;

static void sink(qir_context *ctx, const qir_diag *d, void *user) {
  fixture *f = user;
  snprintf(f->last_error, sizeof f->last_error, "%s", d->message);
}

static void setup(fixture *f, const char *text) {
  memset(f, 0, sizeof *f);
  f->ctx = qir_context_create();
  qir_diag_set_handler(f->ctx, sink, f, NULL, NULL);
  f->m = qir_parse_buffer(f->ctx, "test.qir", text, strlen(text), 1);
  ck_assert_msg(f->m != NULL, "parse: %s", f->last_error);
  ck_assert_msg(qir_verify_module(f->m), "verify: %s", f->last_error);
  f->it = qir_interp_create(f->m->first, NULL);
  ck_assert_msg(f->it != NULL, "create: %s", f->last_error);
}

static void teardown(fixture *f) {
  qir_interp_destroy(f->it);
  qir_module_destroy(f->m);
  qir_context_destroy(f->ctx);
}

static qir_tensor f32_tensor(float *data, unsigned rank, const int64_t *dims) {
  qir_tensor t = {0};
  t.scalar = QIR_F32;
  t.rank = rank;
  int64_t n = 1;
  for (unsigned i = 0; i < rank; i++)
    n *= (t.dims[i] = dims[i]);
  t.data = data;
  t.nbytes = (size_t)n * 4;
  return t;
}

START_TEST(t_api_run_and_errors) {
  fixture f;
  setup(&f, "func @main(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>) {\n"
            "  %y = relu(%x) : tensor<2x3xf32>\n"
            "  return(%y)\n"
            "}\n");
  ck_assert_int_eq(qir_interp_num_inputs(f.it), 1);
  ck_assert_int_eq(qir_interp_find_input(f.it, "x"), 0);
  ck_assert_int_eq(qir_interp_find_input(f.it, "nope"), -1);
  ck_assert_str_eq(qir_interp_output_name(f.it, 0), "y");
  ck_assert(!qir_interp_run(f.it));
  ck_assert_str_eq(f.last_error, "input 'x' was not set");
  float bad[4];
  int64_t d22[2] = {2, 2};
  qir_tensor t = f32_tensor(bad, 2, d22);
  ck_assert(!qir_interp_set_input(f.it, 0, &t));
  ck_assert_str_eq(f.last_error, "input 'x' expects 2x3xf32, got 2x2xf32");
  float x[6] = {-1, 2, -3, 4, -5, 6};
  int64_t d23[2] = {2, 3};
  t = f32_tensor(x, 2, d23);
  ck_assert(qir_interp_set_input(f.it, 0, &t));
  ck_assert(qir_interp_run(f.it));
  const float *y = qir_interp_output(f.it, 0)->data;
  ck_assert(y[0] == 0 && y[1] == 2 && y[4] == 0 && y[5] == 6);
  teardown(&f);
}
END_TEST

static void count_observer(const qir_op *op, unsigned r, const qir_tensor *t,
                           void *user) {
  (*(int *)user)++;
}

START_TEST(t_api_memory_reuse_and_observer) {
  fixture f;
  setup(&f, "func @main(%x: tensor<1x256xf32>) -> (tensor<1x256xf32>) {\n"
            "  %a = relu(%x) : tensor<1x256xf32>\n"
            "  %b = neg(%a) : tensor<1x256xf32>\n"
            "  %c = relu(%b) : tensor<1x256xf32>\n"
            "  %d = neg(%c) : tensor<1x256xf32>\n"
            "  %e = relu(%d) : tensor<1x256xf32>\n"
            "  return(%e)\n"
            "}\n");
  qir_interp_stats s;
  qir_interp_get_stats(f.it, &s);
  ck_assert_int_eq(s.naive_activation_bytes, 5 * 1024);
  /* A chain needs two live buffers at a time, plus the result. */
  ck_assert_int_le(s.peak_activation_bytes, 3 * 1024);
  float x[256];
  for (int i = 0; i < 256; i++)
    x[i] = (float)i - 128;
  int64_t d[2] = {1, 256};
  qir_tensor t = f32_tensor(x, 2, d);
  ck_assert(qir_interp_set_input(f.it, 0, &t));
  int calls = 0;
  qir_interp_set_observer(f.it, count_observer, &calls);
  ck_assert(qir_interp_run(f.it));
  ck_assert_int_eq(calls, 5);
  const float *y = qir_interp_output(f.it, 0)->data;
  ck_assert(y[0] == 0 && y[200] == 0);
  teardown(&f);
}
END_TEST

START_TEST(t_api_matmul_broadcasting) {
  fixture f;
  setup(&f, "func @main(%a: tensor<2x1x3x4xf32>, %b: tensor<3x4x2xf32>) -> "
            "(tensor<2x3x3x2xf32>) {\n"
            "  %y = matmul(%a, %b) : tensor<2x3x3x2xf32>\n"
            "  return(%y)\n"
            "}\n");
  float a[24], b[24];
  for (int i = 0; i < 24; i++) {
    a[i] = (float)(i % 7) - 3;
    b[i] = (float)(i % 5) - 2;
  }
  int64_t da[4] = {2, 1, 3, 4}, db[3] = {3, 4, 2};
  qir_tensor ta = f32_tensor(a, 4, da), tb = f32_tensor(b, 3, db);
  ck_assert(qir_interp_set_input(f.it, 0, &ta));
  ck_assert(qir_interp_set_input(f.it, 1, &tb));
  ck_assert(qir_interp_run(f.it));
  const float *y = qir_interp_output(f.it, 0)->data;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int m = 0; m < 3; m++)
        for (int n = 0; n < 2; n++) {
          float s = 0;
          for (int k = 0; k < 4; k++)
            s += a[(i * 3 + m) * 4 + k] * b[(j * 4 + k) * 2 + n];
          ck_assert(fabsf(y[((i * 3 + j) * 3 + m) * 2 + n] - s) < 1e-5f);
        }
  teardown(&f);
}
END_TEST

START_TEST(t_api_quantized_conv_matches_float) {
  /* A quantized 1x1 conv with per-channel weights against the float
   * computation on the dequantized values: equal within one step. */
  fixture f;
  setup(&f,
        "func @main(%x: tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xf32>) {\n"
        "  %w = constant() {value = dense<[2, -4, 8, 1]> : "
        "tensor<2x2x1x1x!q.i8<axis=0, [0.5, 0.25]>>} : "
        "tensor<2x2x1x1x!q.i8<axis=0, [0.5, 0.25]>>\n"
        "  %q = quantize(%x) : tensor<1x2x2x2x!q.i8<0.1>>\n"
        "  %c = conv2d(%q, %w) : tensor<1x2x2x2x!q.i8<0.2:-3>>\n"
        "  %y = dequantize(%c) : tensor<1x2x2x2xf32>\n"
        "  return(%y)\n"
        "}\n");
  float x[8] = {0.1f, 0.5f, -0.3f, 1.2f, -1.0f, 0.7f, 0.0f, 2.0f};
  int64_t d[4] = {1, 2, 2, 2};
  qir_tensor t = f32_tensor(x, 4, d);
  ck_assert(qir_interp_set_input(f.it, 0, &t));
  ck_assert_msg(qir_interp_run(f.it), "%s", f.last_error);
  const float *y = qir_interp_output(f.it, 0)->data;
  double w[4] = {1.0, -2.0, 2.0, 0.25};
  for (int o = 0; o < 2; o++)
    for (int p = 0; p < 4; p++) {
      double ref = 0;
      for (int c = 0; c < 2; c++)
        ref += round(x[c * 4 + p] / 0.1) * 0.1 * w[o * 2 + c];
      double q = fmin(fmax(round(ref / 0.2) - 3, -128), 127);
      ck_assert_msg(fabs(y[o * 4 + p] - (q + 3) * 0.2) < 0.2 + 1e-6,
                    "o=%d p=%d: %g vs %g", o, p, y[o * 4 + p], ref);
    }
  teardown(&f);
}
END_TEST

Suite *interp_api_suite(void) {
  Suite *s = suite_create("api");
  TCase *tc = tcase_create("api");
  tcase_add_test(tc, t_api_run_and_errors);
  tcase_add_test(tc, t_api_memory_reuse_and_observer);
  tcase_add_test(tc, t_api_matmul_broadcasting);
  tcase_add_test(tc, t_api_quantized_conv_matches_float);
  suite_add_tcase(s, tc);
  return s;
}
