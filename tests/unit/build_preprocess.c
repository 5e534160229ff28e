/* tests/unit/build_preprocess.c - preprocessing in the model: the ops that
 * input_processors insert give what the same preprocessing done by hand
 * in float gives, for each variant (dtype, layouts, channel orders, mean
 * and std); and the unsupported cases are errors. */
#include <math.h>
#include <string.h>

#include "build_test.h"
#include "driver/build.h"
#include "qir/interp.h"

enum { N = 1, H = 2, W = 3 };

/* A model that returns its (preprocessed) input. */
static qir_module *identity_model(qir_context *ctx, unsigned c, bool nhwc) {
  char text[256];
  char shape[32];
  if (nhwc)
    snprintf(shape, sizeof shape, "%dx%dx%dx%u", N, H, W, c);
  else
    snprintf(shape, sizeof shape, "%dx%ux%dx%d", N, c, H, W);
  snprintf(text, sizeof text,
           "func @main(%%x: tensor<%sxf32>) -> (tensor<%sxf32>) {\n"
           "  return(%%x)\n}\n", shape, shape);
  qir_module *m = qir_parse_buffer(ctx, "m.qir", text, strlen(text), 1);
  ck_assert_ptr_nonnull(m);
  return m;
}

typedef struct variant {
  const char *processor; /* YAML flow text of one input processor */
  unsigned c;            /* channels */
  bool model_nhwc, src_nhwc, src_u8, swap;
  double mean[3], std[3];
} variant;

static const variant variants[] = {
    {"{src_format: BGR, mean: [123.675, 116.28, 103.53], std: [58.395, "
     "57.12, 57.375]}",
     3, false, true, true, true, {123.675, 116.28, 103.53},
     {58.395, 57.12, 57.375}},
    {"{src_layout: NCHW, src_dtype: FP32, mean: [127.5], std: [127.5]}", 3,
     false, false, false, false, {127.5, 127.5, 127.5},
     {127.5, 127.5, 127.5}},
    {"{tensor_format: BGR, src_format: RGB, tensor_layout: NHWC}", 3, true,
     true, true, true, {0, 0, 0}, {1, 1, 1}},
    {"{src_layout: NHWC}", 1, false, true, true, false, {0, 0, 0},
     {1, 1, 1}},
    {"{tensor_format: GRAY, src_layout: NCHW, mean: [10], std: [0.5]}", 1,
     false, false, true, false, {10, 0, 0}, {0.5, 1, 1}},
    {"{tensor_layout: NHWC, src_layout: NHWC, src_dtype: FP32}", 3, true,
     true, false, false, {0, 0, 0}, {1, 1, 1}},
};
#define NUM_VARIANTS (sizeof variants / sizeof variants[0])

/* The deployed pixel at (h, w, source channel s): distinct values. */
static double pixel(int h, int w, unsigned s) {
  return (double)((h * 37 + w * 11 + (int)s * 101) % 256);
}

static int64_t index4(bool nhwc, unsigned c, int h, int w, unsigned ch) {
  return nhwc ? ((int64_t)h * W + w) * c + ch
              : ((int64_t)ch * H + h) * W + w;
}

static void fill_input(const variant *v, qir_tensor *t) {
  for (int h = 0; h < H; h++)
    for (int w = 0; w < W; w++)
      for (unsigned s = 0; s < v->c; s++) {
        int64_t i = index4(v->src_nhwc, v->c, h, w, s);
        if (v->src_u8)
          ((uint8_t *)t->data)[i] = (uint8_t)pixel(h, w, s);
        else
          ((float *)t->data)[i] = (float)pixel(h, w, s);
      }
}

/* (x[source of c] - mean[c]) / std[c], in double. */
static double by_hand(const variant *v, int h, int w, unsigned c) {
  unsigned s = v->swap ? v->c - 1 - c : c;
  return (pixel(h, w, s) - v->mean[c]) / v->std[c];
}

static void check_outputs(const variant *v, const qir_tensor *out) {
  for (int h = 0; h < H; h++)
    for (int w = 0; w < W; w++)
      for (unsigned c = 0; c < v->c; c++) {
        float got = ((const float *)out->data)[index4(v->model_nhwc, v->c, h,
                                                      w, c)];
        double want = by_hand(v, h, w, c);
        ck_assert_msg(fabs(got - want) <= 1e-5 * fmax(1, fabs(want)),
                      "%s: (%d,%d,%u) got %.9g want %.9g", v->processor, h,
                      w, c, got, want);
      }
}

/* Applies `processor` to the identity model as a build would. */
static qir_module *preprocess(build_env *e, qir_build_config **cfg,
                              const char *processor, unsigned c, bool nhwc,
                              bool *ok) {
  *cfg = parse(e, "/p/b.json", "{\"input\": \"m.qir\", \"target\": "
                               "\"ax650\"}");
  ck_assert_ptr_nonnull(*cfg);
  char over[512];
  snprintf(over, sizeof over, "input_processors=[%s]", processor);
  ck_assert(qir_build_config_override(*cfg, over));
  qir_module *m = identity_model(e->ctx, c, nhwc);
  build b;
  memset(&b, 0, sizeof b);
  b.ctx = e->ctx;
  b.c = *cfg;
  *ok = build_insert_preprocessing(&b, m->first);
  return m;
}

START_TEST(variants_match_the_preprocessing_by_hand) {
  const variant *v = &variants[_i];
  build_env e;
  build_env_init(&e);
  qir_build_config *cfg;
  bool ok;
  qir_module *m = preprocess(&e, &cfg, v->processor, v->c, v->model_nhwc,
                             &ok);
  ck_assert_msg(ok, "%s: %s", v->processor, build_env_diags(&e));
  qir_func *f = m->first;
  ck_assert_uint_eq(f->body.num_args, 1);
  ck_assert_str_eq(f->body.args[0]->name, "x");
  qir_tensor in;
  qir_tensor_init_from_type(&in, f->body.args[0]->type);
  ck_assert_int_eq(in.scalar, v->src_u8 ? QIR_U8 : QIR_F32);
  ck_assert(qir_tensor_alloc(&in));
  fill_input(v, &in);
  qir_interp *it = qir_interp_create(f, NULL);
  ck_assert_ptr_nonnull(it);
  ck_assert(qir_interp_set_input(it, 0, &in));
  ck_assert(qir_interp_run(it));
  check_outputs(v, qir_interp_output(it, 0));
  qir_interp_destroy(it);
  qir_tensor_free_data(&in);
  qir_module_destroy(m);
  qir_build_config_free(cfg);
  build_env_done(&e);
}
END_TEST

static void assert_preprocess_error(const char *processor, unsigned c,
                                    const char *want) {
  build_env e;
  build_env_init(&e);
  qir_build_config *cfg;
  bool ok;
  qir_module *m = preprocess(&e, &cfg, processor, c, false, &ok);
  ck_assert(!ok);
  ck_assert_str_eq(build_env_diags(&e), want);
  qir_module_destroy(m);
  qir_build_config_free(cfg);
  build_env_done(&e);
}

START_TEST(unsupported_processors) {
  assert_preprocess_error("{src_format: NV12}", 3,
                          "error: input_processors[0]: src_format NV12 is "
                          "not supported yet (RGB, BGR and GRAY are)\n");
  assert_preprocess_error("{tensor_format: YUV420SP}", 3,
                          "error: input_processors[0]: tensor_format "
                          "YUV420SP: a model input is RGB, BGR or GRAY\n");
  assert_preprocess_error("{tensor_format: RGB}", 1,
                          "error: input_processors[0]: tensor_format RGB "
                          "does not match the number of channels of the "
                          "input\n");
  assert_preprocess_error("{src_format: GRAY}", 3,
                          "error: input_processors[0]: src_format GRAY has a "
                          "different number of channels than "
                          "tensor_format\n");
  assert_preprocess_error("{mean: [1, 2]}", 3,
                          "error: input_processors[0]: mean and std need one "
                          "value or one per channel (tensor<1x3x2x3xf32>)\n");
  assert_preprocess_error("{std: [0]}", 3,
                          "error: input_processors[0]: std must not be 0\n");
}
END_TEST

START_TEST(inputs_without_a_processor_keep_their_place) {
  build_env e;
  build_env_init(&e);
  qir_build_config *cfg = parse(&e, "/p/b.json", "{}");
  ck_assert(qir_build_config_override(
      cfg, "input_processors=[{tensor_name: b, src_dtype: U8}]"));
  const char text[] =
      "func @main(%a: tensor<1x4xf32>, %b: tensor<1x3x2x2xf32>, %c: "
      "tensor<2xf32>) -> (tensor<1x4xf32>, tensor<1x3x2x2xf32>, "
      "tensor<2xf32>) {\n  return(%a, %b, %c)\n}\n";
  qir_module *m = qir_parse_buffer(e.ctx, "m.qir", text, strlen(text), 1);
  build b;
  memset(&b, 0, sizeof b);
  b.ctx = e.ctx;
  b.c = cfg;
  ck_assert(build_insert_preprocessing(&b, m->first));
  qir_block *body = &m->first->body;
  ck_assert_str_eq(body->args[0]->name, "a");
  ck_assert_str_eq(body->args[1]->name, "b");
  ck_assert_str_eq(body->args[2]->name, "c");
  ck_assert_str_eq(qir_type_text(body->args[1]->type, NULL),
                   "tensor<1x2x2x3xu8>");
  ck_assert_str_eq(qir_type_text(body->args[2]->type, NULL), "tensor<2xf32>");
  qir_module_destroy(m);
  qir_build_config_free(cfg);
  build_env_done(&e);
}
END_TEST

Suite *build_preprocess_suite(void) {
  Suite *s = suite_create("build_preprocess");
  TCase *tc = tcase_create("preprocess");
  tcase_add_loop_test(tc, variants_match_the_preprocessing_by_hand, 0,
                      (int)NUM_VARIANTS);
  tcase_add_test(tc, unsupported_processors);
  tcase_add_test(tc, inputs_without_a_processor_keep_their_place);
  suite_add_tcase(s, tc);
  return s;
}
