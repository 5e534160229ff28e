/* tests/unit/interp_kernels.c - the float kernels against naive reference
 * implementations: convolution variants, transposed convolution, pooling
 * with ceil_mode and count_include_pad, resize modes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "interp_test.h"

static float *rand_buf(int64_t n, unsigned seed) {
  float *p = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  return p;
}

static void naive_conv(const qir_conv_params *p, const float *x,
                       const float *w, const float *b, float *y) {
  int64_t cg = p->c / p->group, og = p->o / p->group;
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t o = 0; o < p->o; o++)
      for (int64_t oh = 0; oh < p->oh; oh++)
        for (int64_t ow = 0; ow < p->ow; ow++) {
          double s = b ? b[o] : 0;
          int64_t g = o / og;
          for (int64_t c = 0; c < cg; c++)
            for (int64_t i = 0; i < p->kh; i++)
              for (int64_t j = 0; j < p->kw; j++) {
                int64_t ih = oh * p->sh - p->pt + i * p->dh;
                int64_t iw = ow * p->sw - p->pl + j * p->dw;
                if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w)
                  continue;
                s += x[((n * p->c + g * cg + c) * p->h + ih) * p->w + iw] *
                     w[((o * cg + c) * p->kh + i) * p->kw + j];
              }
          y[((n * p->o + o) * p->oh + oh) * p->ow + ow] = (float)s;
        }
}

static void fill_out_size(qir_conv_params *p) {
  p->oh = (p->h + p->pt + p->pb - (p->kh - 1) * p->dh - 1) / p->sh + 1;
  p->ow = (p->w + p->pl + p->pr - (p->kw - 1) * p->dw - 1) / p->sw + 1;
}

static void check_conv(qir_conv_params p, unsigned threads) {
  fill_out_size(&p);
  int64_t nx = p.n * p.c * p.h * p.w, nw = p.o * (p.c / p.group) * p.kh * p.kw;
  int64_t ny = p.n * p.o * p.oh * p.ow;
  float *x = rand_buf(nx, 1), *w = rand_buf(nw, 2), *b = rand_buf(p.o, 3);
  float *y = calloc((size_t)ny, sizeof(float)), *r = calloc((size_t)ny, sizeof(float));
  qir_pool *pool = qir_pool_create(threads);
  qir_conv2d_f32(pool, &p, x, w, b, y);
  naive_conv(&p, x, w, b, r);
  for (int64_t i = 0; i < ny; i++)
    ck_assert_msg(fabsf(y[i] - r[i]) < 1e-4f, "element %lld: %g vs %g",
                  (long long)i, y[i], r[i]);
  qir_pool_destroy(pool);
  free(x);
  free(w);
  free(b);
  free(y);
  free(r);
}

#define CONV(...) ((qir_conv_params){__VA_ARGS__})

START_TEST(t_conv_regular_padded) {
  check_conv(CONV(.n = 2, .c = 3, .h = 9, .w = 7, .o = 5, .kh = 3, .kw = 3,
                  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pl = 1,
                  .pb = 1, .pr = 1, .group = 1), 2);
}
END_TEST

START_TEST(t_conv_strided_asymmetric) {
  check_conv(CONV(.n = 1, .c = 4, .h = 11, .w = 10, .o = 6, .kh = 3, .kw = 2,
                  .sh = 2, .sw = 3, .dh = 1, .dw = 1, .pt = 0, .pl = 2,
                  .pb = 1, .pr = 0, .group = 1), 1);
}
END_TEST

START_TEST(t_conv_dilated) {
  check_conv(CONV(.n = 1, .c = 2, .h = 12, .w = 12, .o = 3, .kh = 3, .kw = 3,
                  .sh = 1, .sw = 2, .dh = 2, .dw = 3, .pt = 2, .pl = 3,
                  .pb = 2, .pr = 3, .group = 1), 2);
}
END_TEST

START_TEST(t_conv_depthwise) {
  check_conv(CONV(.n = 2, .c = 8, .h = 10, .w = 9, .o = 8, .kh = 3, .kw = 3,
                  .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1, .pl = 0,
                  .pb = 1, .pr = 2, .group = 8), 2);
  /* 5x5, stride (2, 1), pads wider than the border columns. */
  check_conv(CONV(.n = 1, .c = 6, .h = 9, .w = 11, .o = 6, .kh = 5, .kw = 5,
                  .sh = 2, .sw = 1, .dh = 1, .dw = 1, .pt = 2, .pl = 2,
                  .pb = 2, .pr = 3, .group = 6), 2);
  check_conv(CONV(.n = 1, .c = 4, .h = 4, .w = 3, .o = 4, .kh = 5, .kw = 5,
                  .sh = 1, .sw = 2, .dh = 1, .dw = 1, .pt = 2, .pl = 2,
                  .pb = 2, .pr = 2, .group = 4), 1);
  /* Channel multiplier 2, dilated, stride 3. */
  check_conv(CONV(.n = 1, .c = 3, .h = 13, .w = 14, .o = 6, .kh = 5, .kw = 3,
                  .sh = 1, .sw = 3, .dh = 2, .dw = 1, .pt = 4, .pl = 1,
                  .pb = 0, .pr = 1, .group = 3), 1);
}
END_TEST

START_TEST(t_conv_grouped_and_pointwise) {
  check_conv(CONV(.n = 1, .c = 8, .h = 6, .w = 6, .o = 4, .kh = 3, .kw = 3,
                  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pl = 1,
                  .pb = 1, .pr = 1, .group = 2), 2);
  check_conv(CONV(.n = 2, .c = 16, .h = 5, .w = 7, .o = 24, .kh = 1, .kw = 1,
                  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1), 2);
  check_conv(CONV(.n = 1, .c = 16, .h = 8, .w = 8, .o = 8, .kh = 1, .kw = 1,
                  .sh = 2, .sw = 2, .dh = 1, .dw = 1, .group = 4), 1);
}
END_TEST

/* The documented accumulation order of conv2d (docs/Interpreter.md), one
 * output at a time: fused multiply-adds from 0; depthwise one chain over
 * the taps; otherwise channel blocks (128 for 1x1, 16, or 1 below 16
 * channels), each a chain over (kh, kw, channel), added in order; then
 * the bias. */
static float ordered_output(const qir_conv_params *p, const float *x,
                           const float *w, const float *b, int64_t n,
                           int64_t o, int64_t oh, int64_t ow) {
  int64_t cg = p->c / p->group, og = p->o / p->group, g = o / og;
  bool dw = p->group == p->c && p->group > 1;
  int64_t block = dw ? 1
                  : p->kh == 1 && p->kw == 1 ? 128
                  : cg < 16 ? 1 : 16;
  float y = 0.0f;
  for (int64_t c0 = 0; c0 < cg; c0 += block) {
    int64_t nb = cg - c0 < block ? cg - c0 : block;
    float part = 0.0f;
    for (int64_t i = 0; i < p->kh; i++)
      for (int64_t j = 0; j < p->kw; j++)
        for (int64_t c = c0; c < c0 + nb; c++) {
          int64_t ih = oh * p->sh - p->pt + i * p->dh;
          int64_t iw = ow * p->sw - p->pl + j * p->dw;
          int64_t ic = dw ? o / (p->o / p->c) : g * cg + c;
          if (ih >= 0 && ih < p->h && iw >= 0 && iw < p->w)
            part = fmaf(x[((n * p->c + ic) * p->h + ih) * p->w + iw],
                        w[((o * cg + c) * p->kh + i) * p->kw + j], part);
        }
    y = c0 ? y + part : part;
  }
  return y + b[o];
}

static void check_conv_order(qir_conv_params p, unsigned threads) {
  fill_out_size(&p);
  int64_t nx = p.n * p.c * p.h * p.w, nw = p.o * (p.c / p.group) * p.kh * p.kw;
  int64_t ny = p.n * p.o * p.oh * p.ow;
  float *x = rand_buf(nx, 4), *w = rand_buf(nw, 5), *b = rand_buf(p.o, 6);
  float *y = calloc((size_t)ny, sizeof(float));
  qir_pool *pool = qir_pool_create(threads);
  qir_conv2d_f32(pool, &p, x, w, b, y);
  for (int64_t n = 0, i = 0; n < p.n; n++)
    for (int64_t o = 0; o < p.o; o++)
      for (int64_t oh = 0; oh < p.oh; oh++)
        for (int64_t ow = 0; ow < p.ow; ow++, i++) {
          float r = ordered_output(&p, x, w, b, n, o, oh, ow);
          ck_assert_msg(y[i] == r || (y[i] == 0 && r == 0),
                        "element %lld: %.9g vs %.9g", (long long)i, y[i], r);
        }
  qir_pool_destroy(pool);
  free(x);
  free(w);
  free(b);
  free(y);
}

/* conv2d computes exactly the documented chains, on every path: stride-1
 * rows in place (rows over 256 pixels, partial channel blocks, dilation,
 * groups), strided im2col, 1x1 with two channel blocks, depthwise. */
START_TEST(t_conv_accumulation_order) {
  check_conv_order(CONV(.n = 1, .c = 40, .h = 5, .w = 300, .o = 7, .kh = 3,
                        .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1,
                        .pl = 1, .pb = 1, .pr = 1, .group = 1), 2);
  check_conv_order(CONV(.n = 2, .c = 36, .h = 9, .w = 8, .o = 14, .kh = 3,
                        .kw = 2, .sh = 1, .sw = 1, .dh = 2, .dw = 3, .pt = 2,
                        .pl = 1, .pb = 0, .pr = 3, .group = 2), 1);
  check_conv_order(CONV(.n = 1, .c = 20, .h = 11, .w = 13, .o = 9, .kh = 3,
                        .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 1,
                        .pl = 0, .pb = 1, .pr = 1, .group = 1), 2);
  check_conv_order(CONV(.n = 1, .c = 200, .h = 6, .w = 7, .o = 11, .kh = 1,
                        .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                        .group = 1), 2);
  check_conv_order(CONV(.n = 1, .c = 3, .h = 17, .w = 16, .o = 8, .kh = 3,
                        .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 0,
                        .pl = 0, .pb = 1, .pr = 1, .group = 1), 1);
  check_conv_order(CONV(.n = 1, .c = 6, .h = 12, .w = 40, .o = 6, .kh = 5,
                        .kw = 5, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = 2,
                        .pl = 2, .pb = 2, .pr = 2, .group = 6), 2);
  check_conv_order(CONV(.n = 1, .c = 4, .h = 9, .w = 9, .o = 8, .kh = 3,
                        .kw = 3, .sh = 1, .sw = 1, .dh = 2, .dw = 2, .pt = 2,
                        .pl = 2, .pb = 2, .pr = 2, .group = 4), 1);
}
END_TEST

/* y[n, o, ih*s - p + ki*d, ...] += x[n, c, ih, iw] * w[c, o, ki, kj]. */
static void naive_conv_t(const qir_conv_params *p, const float *x,
                         const float *w, const float *b, float *y) {
  int64_t cg = p->c / p->group, og = p->o / p->group;
  for (int64_t i = 0; i < p->n * p->o * p->oh * p->ow; i++)
    y[i] = b[(i / (p->oh * p->ow)) % p->o];
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t c = 0; c < p->c; c++)
      for (int64_t ih = 0; ih < p->h; ih++)
        for (int64_t iw = 0; iw < p->w; iw++)
          for (int64_t oo = 0; oo < og; oo++)
            for (int64_t ki = 0; ki < p->kh; ki++)
              for (int64_t kj = 0; kj < p->kw; kj++) {
                int64_t oh = ih * p->sh - p->pt + ki * p->dh;
                int64_t ow = iw * p->sw - p->pl + kj * p->dw;
                if (oh < 0 || oh >= p->oh || ow < 0 || ow >= p->ow)
                  continue;
                int64_t o = (c / cg) * og + oo;
                y[((n * p->o + o) * p->oh + oh) * p->ow + ow] +=
                    x[((n * p->c + c) * p->h + ih) * p->w + iw] *
                    w[((c * og + oo) * p->kh + ki) * p->kw + kj];
              }
}

START_TEST(t_conv_transpose) {
  qir_conv_params p = CONV(.n = 1, .c = 4, .h = 5, .w = 4, .o = 6, .kh = 3,
                           .kw = 2, .sh = 2, .sw = 3, .dh = 1, .dw = 2,
                           .pt = 1, .pl = 0, .pb = 1, .pr = 1, .group = 2);
  /* ONNX output size with output_padding 1 on both axes. */
  p.oh = (p.h - 1) * p.sh - p.pt - p.pb + (p.kh - 1) * p.dh + 1 + 1;
  p.ow = (p.w - 1) * p.sw - p.pl - p.pr + (p.kw - 1) * p.dw + 1 + 1;
  int64_t nx = p.n * p.c * p.h * p.w, nw = p.c * (p.o / p.group) * p.kh * p.kw;
  int64_t ny = p.n * p.o * p.oh * p.ow;
  float *x = rand_buf(nx, 4), *w = rand_buf(nw, 5), *b = rand_buf(p.o, 6);
  float *y = calloc((size_t)ny, 4), *r = calloc((size_t)ny, 4);
  qir_pool *pool = qir_pool_create(2);
  qir_conv_transpose2d_f32(pool, &p, x, w, b, y);
  naive_conv_t(&p, x, w, b, r);
  for (int64_t i = 0; i < ny; i++)
    ck_assert_msg(fabsf(y[i] - r[i]) < 1e-4f, "element %lld", (long long)i);
  qir_pool_destroy(pool);
  free(x); free(w); free(b); free(y); free(r);
}
END_TEST

START_TEST(t_avg_pool_ceil_and_count_include_pad) {
  /* 1x1x5x5, kernel 2, stride 2, pads 1 at top/left, ceil mode: 3x3
   * windows; the last window hangs over the padded input. */
  qir_pool_params p = {.n = 1, .c = 1, .h = 5, .w = 5, .oh = 3, .ow = 3,
                       .kh = 2, .kw = 2, .sh = 2, .sw = 2, .dh = 1, .dw = 1,
                       .pt = 1, .pl = 1, .pb = 0, .pr = 0};
  float x[25], y[9];
  for (int i = 0; i < 25; i++)
    x[i] = (float)i;
  p.count_include_pad = false;
  qir_avg_pool2d_f32(NULL, &p, x, y);
  ck_assert(y[0] == 0.0f);                 /* only x[0] */
  ck_assert(y[1] == (1.0f + 2.0f) / 2);    /* row 0, cols 1-2 */
  ck_assert(y[4] == (6 + 7 + 11 + 12) / 4.0f);
  ck_assert(y[8] == (18 + 19 + 23 + 24) / 4.0f);
  p.count_include_pad = true;
  qir_avg_pool2d_f32(NULL, &p, x, y);
  ck_assert(y[0] == 0.0f / 4);
  ck_assert(y[1] == (1.0f + 2.0f) / 4);
  /* Ceil-mode overhang past the padded input is not counted. */
  p.oh = 3;
  p.ow = 3;
  p.pt = p.pl = 0;
  p.h = p.w = 5;
  qir_avg_pool2d_f32(NULL, &p, x, y);
  ck_assert(y[2] == (4 + 9) / 2.0f);
  ck_assert(y[8] == 24.0f);
}
END_TEST

START_TEST(t_max_pool_dilated_ceil) {
  qir_pool_params p = {.n = 1, .c = 2, .h = 4, .w = 4, .oh = 2, .ow = 2,
                       .kh = 2, .kw = 2, .sh = 2, .sw = 2, .dh = 2, .dw = 1,
                       .pt = 0, .pl = 0, .pb = 1, .pr = 1};
  float x[32], y[8];
  for (int i = 0; i < 32; i++)
    x[i] = (float)((i * 7) % 11) - (i >= 16 ? 20.0f : 0.0f);
  qir_max_pool2d_f32(NULL, &p, x, y);
  for (int c = 0; c < 2; c++)
    for (int oh = 0; oh < 2; oh++)
      for (int ow = 0; ow < 2; ow++) {
        float m = -INFINITY;
        for (int i = 0; i < 2; i++)
          for (int j = 0; j < 2; j++) {
            int ih = oh * 2 + i * 2, iw = ow * 2 + j;
            if (ih < 4 && iw < 4)
              m = fmaxf(m, x[c * 16 + ih * 4 + iw]);
          }
        ck_assert(y[c * 4 + oh * 2 + ow] == m);
      }
}
END_TEST

START_TEST(t_resize_modes) {
  float x[4] = {1, 2, 3, 4}, y[16];
  qir_resize_params p = {.nc = 1, .h = 2, .w = 2, .oh = 4, .ow = 4,
                         .mode = 1, .coord = QIR_RESIZE_HALF_PIXEL,
                         .cubic_a = -0.75};
  qir_resize2d_f32(NULL, &p, x, y);
  /* numpy/ONNX reference for linear half_pixel 2x2 -> 4x4. */
  static const float lin[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f,
                                2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
  for (int i = 0; i < 16; i++)
    ck_assert_msg(fabsf(y[i] - lin[i]) < 1e-6f, "linear %d: %g", i, y[i]);
  p.coord = QIR_RESIZE_ALIGN_CORNERS;
  qir_resize2d_f32(NULL, &p, x, y);
  ck_assert(fabsf(y[1] - (1 + 1.0f / 3)) < 1e-6f);
  ck_assert(y[15] == 4.0f);
  p.mode = 0;
  p.coord = QIR_RESIZE_ASYMMETRIC;
  p.nearest = 2; /* floor */
  qir_resize2d_f32(NULL, &p, x, y);
  static const float nn[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  for (int i = 0; i < 16; i++)
    ck_assert(y[i] == nn[i]);
  /* Cubic on a constant image stays constant. */
  float c4[4] = {5, 5, 5, 5};
  p.mode = 2;
  p.coord = QIR_RESIZE_HALF_PIXEL;
  qir_resize2d_f32(NULL, &p, c4, y);
  for (int i = 0; i < 16; i++)
    ck_assert(fabsf(y[i] - 5) < 1e-5f);
}
END_TEST

START_TEST(t_half_float_conversions) {
  ck_assert(qir_cpu_f16_to_f32(0x3c00) == 1.0f);
  ck_assert(qir_cpu_f16_to_f32(0xc000) == -2.0f);
  ck_assert(qir_cpu_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
  ck_assert_int_eq(qir_cpu_f32_to_f16(65504.0f), 0x7bff);
  ck_assert_int_eq(qir_cpu_f32_to_f16(1e6f), 0x7c00);
  ck_assert_int_eq(qir_cpu_f32_to_f16(ldexpf(1.0f, -24)), 0x0001);
  ck_assert_int_eq(qir_cpu_f32_to_f16(1.0f + ldexpf(1.0f, -11)), 0x3c00);
  ck_assert_int_eq(qir_cpu_f32_to_bf16(1.0f), 0x3f80);
  float v = 300.7f;
  int32_t i;
  qir_convert(QIR_F32, &v, QIR_I8, &i, 1);
  ck_assert_int_eq(((int8_t *)&i)[0], 127); /* saturating */
}
END_TEST

Suite *interp_kernels_suite(void) {
  Suite *s = suite_create("kernels");
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, t_conv_regular_padded);
  tcase_add_test(tc, t_conv_strided_asymmetric);
  tcase_add_test(tc, t_conv_dilated);
  tcase_add_test(tc, t_conv_depthwise);
  tcase_add_test(tc, t_conv_grouped_and_pointwise);
  tcase_add_test(tc, t_conv_accumulation_order);
  tcase_add_test(tc, t_conv_transpose);
  tcase_add_test(tc, t_avg_pool_ceil_and_count_include_pad);
  tcase_add_test(tc, t_max_pool_dilated_ceil);
  tcase_add_test(tc, t_resize_modes);
  tcase_add_test(tc, t_half_float_conversions);
  suite_add_tcase(s, tc);
  return s;
}
