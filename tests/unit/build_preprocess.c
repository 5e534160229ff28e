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

/* A model that returns its (preprocessed) h x w input. */
static qir_module *identity_model_hw(qir_context *ctx, unsigned c, int h,
                                     int w, bool nhwc) {
  char text[256];
  char shape[32];
  if (nhwc)
    snprintf(shape, sizeof shape, "%dx%dx%dx%u", N, h, w, c);
  else
    snprintf(shape, sizeof shape, "%dx%ux%dx%d", N, c, h, w);
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

/* Applies `processor` to the h x w identity model as a build would. */
static qir_module *preprocess_hw(build_env *e, qir_build_config **cfg,
                                 const char *processor, unsigned c, int h,
                                 int w, bool nhwc, bool *ok) {
  *cfg = parse(e, "/p/b.json", "{\"input\": \"m.qir\", \"target\": "
                               "\"ax650\"}");
  ck_assert_ptr_nonnull(*cfg);
  char over[512];
  snprintf(over, sizeof over, "input_processors=[%s]", processor);
  ck_assert(qir_build_config_override(*cfg, over));
  qir_module *m = identity_model_hw(e->ctx, c, h, w, nhwc);
  build b;
  memset(&b, 0, sizeof b);
  b.ctx = e->ctx;
  b.c = *cfg;
  *ok = build_insert_preprocessing(&b, m->first);
  return m;
}

static qir_module *preprocess(build_env *e, qir_build_config **cfg,
                              const char *processor, unsigned c, bool nhwc,
                              bool *ok) {
  return preprocess_hw(e, cfg, processor, c, H, W, nhwc, ok);
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
                          "error: input_processors[0]: src_format NV12 needs "
                          "an even height and width, not 2x3\n");
  assert_preprocess_error("{src_format: NV12, tensor_layout: NHWC}", 3,
                          "error: input_processors[0]: src_format NV12 needs "
                          "an even height and width, not 3x2\n");
  assert_preprocess_error("{src_format: YUV420SP}", 1,
                          "error: input_processors[0]: src_format YUV420SP "
                          "converts to RGB, BGR or YUV444, not GRAY\n");
  assert_preprocess_error("{src_format: YUV444, tensor_format: GRAY}", 1,
                          "error: input_processors[0]: src_format YUV444 "
                          "converts to RGB, BGR or YUV444, not GRAY\n");
  assert_preprocess_error("{tensor_format: YUV444}", 1,
                          "error: input_processors[0]: tensor_format YUV444 "
                          "does not match the number of channels of the "
                          "input\n");
  assert_preprocess_error("{tensor_format: YUV444, src_format: GRAY}", 3,
                          "error: input_processors[0]: src_format GRAY has a "
                          "different number of channels than "
                          "tensor_format\n");
  assert_preprocess_error("{tensor_format: YUV420SP}", 3,
                          "error: input_processors[0]: tensor_format "
                          "YUV420SP: a model input is RGB, BGR, GRAY or "
                          "YUV444\n");
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

/* ---- YUV sources and centered YUV444 models ------------------------------
 * The BT.601 formulas written out with their usual published coefficients
 * (the library derives its own from Kr and Kb), in double. */

enum { YH = 4, YW = 4 }; /* four 2x2 chroma blocks */

typedef struct yuv_pixel {
  double y, u, v;
} yuv_pixel;

static double clamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

static void yuv_to_rgb_by_hand(bool limited, yuv_pixel p, double rgb[3]) {
  double y = p.y, u = p.u - 128, v = p.v - 128;
  if (limited) {
    y = 1.164383 * (y - 16);
    rgb[0] = y + 1.596027 * v;
    rgb[1] = y - 0.391762 * u - 0.812968 * v;
    rgb[2] = y + 2.017232 * u;
  } else {
    rgb[0] = y + 1.402 * v;
    rgb[1] = y - 0.344136 * u - 0.714136 * v;
    rgb[2] = y + 1.772 * u;
  }
  for (int c = 0; c < 3; c++)
    rgb[c] = clamp(rgb[c], 0, 255);
}

/* clip(round(yuv), 0, 255) - 128, as QAT flows prepare BPU camera input. */
static void rgb_to_centered_yuv_by_hand(bool limited, const double rgb[3],
                                        double yuv[3]) {
  double r = rgb[0], g = rgb[1], b = rgb[2];
  if (limited) {
    yuv[0] = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
    yuv[1] = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
    yuv[2] = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  } else {
    yuv[0] = 0.299 * r + 0.587 * g + 0.114 * b;
    yuv[1] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    yuv[2] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  for (int c = 0; c < 3; c++)
    yuv[c] = clamp(nearbyint(yuv[c]), 0, 255) - 128;
}

/* The YUV of pure red, green, blue and mid gray (one per chroma block), in
 * both ranges, rounded as an 8-bit camera gives them. */
static const yuv_pixel pure_full[4] = {
    {76, 85, 255}, {150, 44, 21}, {29, 255, 107}, {128, 128, 128}};
static const yuv_pixel pure_limited[4] = {
    {81, 90, 240}, {145, 54, 34}, {41, 240, 110}, {126, 128, 128}};
static const double pure_rgb[4][3] = {
    {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}};

/* The pixel at (h, w): its block's color, Y varied per pixel when `vary`. */
static yuv_pixel nv12_pixel(const yuv_pixel *blocks, int h, int w,
                            bool vary) {
  yuv_pixel p = blocks[(h / 2) * 2 + w / 2];
  if (vary)
    p.y = clamp(p.y + (h % 2) * 7 - (w % 2) * 5, 0, 255);
  return p;
}

/* NV12: YH rows of Y, then YH/2 rows of (U, V) pairs. */
static void fill_nv12(const yuv_pixel *blocks, bool vary, qir_tensor *t) {
  uint8_t *d = t->data;
  for (int h = 0; h < YH; h++)
    for (int w = 0; w < YW; w++)
      d[h * YW + w] = (uint8_t)nv12_pixel(blocks, h, w, vary).y;
  for (int h = 0; h < YH / 2; h++)
    for (int w = 0; w < YW / 2; w++) {
      yuv_pixel p = nv12_pixel(blocks, 2 * h, 2 * w, false);
      d[YH * YW + h * YW + 2 * w] = (uint8_t)p.u;
      d[YH * YW + h * YW + 2 * w + 1] = (uint8_t)p.v;
    }
}

typedef struct nv12_variant {
  const char *processor;
  bool limited, bgr, model_nhwc, yuv_model;
  double mean, std;
} nv12_variant;

static const nv12_variant nv12_variants[] = {
    {"{src_format: NV12}", false, false, false, false, 0, 1},
    {"{src_format: NV12, csc_mode: BT601_LIMITED}", true, false, false,
     false, 0, 1},
    {"{src_format: YUV420SP, tensor_format: BGR, tensor_layout: NHWC, "
     "mean: [127.5], std: [127.5]}",
     false, true, true, false, 127.5, 127.5},
    {"{src_format: NV12, tensor_format: BGR, csc_mode: BT601_LIMITED, "
     "mean: [10], std: [2]}",
     true, true, false, false, 10, 2},
    {"{src_format: NV12, tensor_format: YUV444}", false, false, false, true,
     0, 1},
};
#define NUM_NV12_VARIANTS (sizeof nv12_variants / sizeof nv12_variants[0])

static float output_at(const qir_tensor *out, bool nhwc, int h, int w,
                       int c) {
  int64_t i = nhwc ? ((int64_t)h * YW + w) * 3 + c
                   : ((int64_t)c * YH + h) * YW + w;
  return ((const float *)out->data)[i];
}

/* The model input for one pixel by hand: RGB/BGR or centered YUV, then
 * (x - mean) / std. */
static void nv12_by_hand(const nv12_variant *v, yuv_pixel p, double out[3]) {
  double rgb[3], yuv[3] = {p.y - 128, p.u - 128, p.v - 128};
  yuv_to_rgb_by_hand(v->limited, p, rgb);
  for (int c = 0; c < 3; c++) {
    double x = v->yuv_model ? yuv[c] : rgb[v->bgr ? 2 - c : c];
    out[c] = (x - v->mean) / v->std;
  }
}

/* Runs f on `in`, returns the interpreter (owner of the output). */
static qir_interp *run_model(qir_func *f, const qir_tensor *in) {
  qir_interp *it = qir_interp_create(f, NULL);
  ck_assert_ptr_nonnull(it);
  ck_assert(qir_interp_set_input(it, 0, in));
  ck_assert(qir_interp_run(it));
  return it;
}

START_TEST(nv12_matches_the_conversion_by_hand) {
  const nv12_variant *v = &nv12_variants[_i];
  build_env e;
  build_env_init(&e);
  qir_build_config *cfg;
  bool ok;
  qir_module *m = preprocess_hw(&e, &cfg, v->processor, 3, YH, YW,
                                v->model_nhwc, &ok);
  ck_assert_msg(ok, "%s: %s", v->processor, build_env_diags(&e));
  qir_func *f = m->first;
  ck_assert_str_eq(qir_type_text(f->body.args[0]->type, NULL),
                   "tensor<1x6x4x1xu8>");
  const yuv_pixel *blocks = v->limited ? pure_limited : pure_full;
  qir_tensor in;
  qir_tensor_init_from_type(&in, f->body.args[0]->type);
  ck_assert(qir_tensor_alloc(&in));
  fill_nv12(blocks, true, &in);
  qir_interp *it = run_model(f, &in);
  for (int h = 0; h < YH; h++)
    for (int w = 0; w < YW; w++) {
      double want[3];
      nv12_by_hand(v, nv12_pixel(blocks, h, w, true), want);
      for (int c = 0; c < 3; c++) {
        float got = output_at(qir_interp_output(it, 0), v->model_nhwc, h, w,
                              c);
        ck_assert_msg(fabs(got - want[c]) <= 2e-3 * fmax(1, fabs(want[c])),
                      "%s: (%d,%d,%d) got %.9g want %.9g", v->processor, h,
                      w, c, got, want[c]);
      }
    }
  qir_interp_destroy(it);
  qir_tensor_free_data(&in);
  qir_module_destroy(m);
  qir_build_config_free(cfg);
  build_env_done(&e);
}
END_TEST

/* Pure colors come back as themselves (to the rounding of 8-bit YUV). */
START_TEST(nv12_pure_colors_in_both_ranges) {
  for (int limited = 0; limited < 2; limited++) {
    build_env e;
    build_env_init(&e);
    qir_build_config *cfg;
    bool ok;
    qir_module *m = preprocess_hw(
        &e, &cfg,
        limited ? "{src_format: NV12, csc_mode: BT601_LIMITED}"
                : "{src_format: NV12, csc_mode: BT601_FULL}",
        3, YH, YW, false, &ok);
    ck_assert(ok);
    qir_tensor in;
    qir_tensor_init_from_type(&in, m->first->body.args[0]->type);
    ck_assert(qir_tensor_alloc(&in));
    fill_nv12(limited ? pure_limited : pure_full, false, &in);
    qir_interp *it = run_model(m->first, &in);
    for (int h = 0; h < YH; h++)
      for (int w = 0; w < YW; w++)
        for (int c = 0; c < 3; c++) {
          double want = pure_rgb[(h / 2) * 2 + w / 2][c];
          float got = output_at(qir_interp_output(it, 0), false, h, w, c);
          ck_assert_msg(fabs(got - want) <= 2.5,
                        "limited=%d (%d,%d,%d) got %.9g want %.9g", limited,
                        h, w, c, got, want);
        }
    qir_interp_destroy(it);
    qir_tensor_free_data(&in);
    qir_module_destroy(m);
    qir_build_config_free(cfg);
    build_env_done(&e);
  }
}
END_TEST

/* src_format YUV444 (8-bit, NHWC) to RGB, and RGB/BGR to centered YUV444:
 * a 2x3 image of red, green, blue, gray, white, black. */
static const double rgb_image[H * W][3] = {{255, 0, 0},     {0, 255, 0},
                                           {0, 0, 255},     {128, 128, 128},
                                           {255, 255, 255}, {0, 0, 0}};

typedef struct yuv444_variant {
  const char *processor;
  bool limited, src_yuv, bgr;
} yuv444_variant;

static const yuv444_variant yuv444_variants[] = {
    {"{tensor_format: YUV444, src_format: RGB}", false, false, false},
    {"{tensor_format: YUV444, src_format: BGR, csc_mode: BT601_LIMITED}",
     true, false, true},
    {"{tensor_format: RGB, src_format: YUV444}", false, true, false},
    {"{tensor_format: RGB, src_format: YUV444, csc_mode: BT601_LIMITED}",
     true, true, false},
};
#define NUM_YUV444_VARIANTS                                                   \
  (sizeof yuv444_variants / sizeof yuv444_variants[0])

/* The deployed pixel i (NHWC u8) and the model input by hand. */
static void yuv444_case(const yuv444_variant *v, int i, uint8_t src[3],
                        double want[3]) {
  double yuv[3];
  rgb_to_centered_yuv_by_hand(v->limited, rgb_image[i], yuv);
  for (int c = 0; c < 3; c++) {
    if (v->src_yuv) {
      src[c] = (uint8_t)(yuv[c] + 128);
    } else {
      src[c] = (uint8_t)rgb_image[i][v->bgr ? 2 - c : c];
      want[c] = yuv[c];
    }
  }
  if (v->src_yuv)
    yuv_to_rgb_by_hand(v->limited,
                       (yuv_pixel){src[0], src[1], src[2]}, want);
}

START_TEST(yuv444_matches_the_conversion_by_hand) {
  const yuv444_variant *v = &yuv444_variants[_i];
  build_env e;
  build_env_init(&e);
  qir_build_config *cfg;
  bool ok;
  qir_module *m = preprocess(&e, &cfg, v->processor, 3, false, &ok);
  ck_assert_msg(ok, "%s: %s", v->processor, build_env_diags(&e));
  qir_tensor in;
  qir_tensor_init_from_type(&in, m->first->body.args[0]->type);
  ck_assert(qir_tensor_alloc(&in));
  double want[H * W][3];
  for (int i = 0; i < H * W; i++)
    yuv444_case(v, i, (uint8_t *)in.data + i * 3, want[i]);
  qir_interp *it = run_model(m->first, &in);
  const float *out = qir_interp_output(it, 0)->data;
  for (int i = 0; i < H * W; i++)
    for (int c = 0; c < 3; c++) {
      float got = out[c * H * W + i];
      ck_assert_msg(fabs(got - want[i][c]) <= 2e-3 * fmax(1, fabs(want[i][c])),
                    "%s: pixel %d channel %d got %.9g want %.9g",
                    v->processor, i, c, got, want[i][c]);
    }
  qir_interp_destroy(it);
  qir_tensor_free_data(&in);
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
  tcase_add_loop_test(tc, nv12_matches_the_conversion_by_hand, 0,
                      (int)NUM_NV12_VARIANTS);
  tcase_add_test(tc, nv12_pure_colors_in_both_ranges);
  tcase_add_loop_test(tc, yuv444_matches_the_conversion_by_hand, 0,
                      (int)NUM_YUV444_VARIANTS);
  tcase_add_test(tc, unsupported_processors);
  tcase_add_test(tc, inputs_without_a_processor_keep_their_place);
  suite_add_tcase(s, tc);
  return s;
}
