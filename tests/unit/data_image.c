/* tests/unit/data_image.c - PNG and JPEG decoding: every color type, bit
 * depths, corrupt and truncated files, the size limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_test.h"
#include "qir/io.h"

static bool decode(qir_context *ctx, const uint8_t *p, size_t n,
                   qir_image *img) {
  return qir_image_decode(ctx, "mem.png", p, n, img);
}

START_TEST(t_png_rgb_exact) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  uint8_t rows[2 * 3 * 3];
  for (unsigned i = 0; i < sizeof rows; i++)
    rows[i] = (uint8_t)(i * 13 + 1);
  size_t n;
  uint8_t *png = data_png(3, 2, 2, 8, rows, NULL, 0, &n);
  qir_image img;
  ck_assert(decode(ctx, png, n, &img));
  ck_assert_uint_eq(img.width, 3);
  ck_assert_uint_eq(img.height, 2);
  ck_assert_uint_eq(img.channels, 3);
  ck_assert(!memcmp(img.pixels, rows, sizeof rows));
  qir_image_free(&img);
  ck_assert_ptr_null(img.pixels);
  free(png);
  ck_assert_uint_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

/* Gray, gray+alpha and RGBA keep their channels. */
START_TEST(t_png_channels) {
  static const struct {
    int color_type;
    unsigned channels;
  } cases[] = {{0, 1}, {4, 2}, {6, 4}};
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  for (unsigned k = 0; k < 3; k++) {
    uint8_t rows[4 * 4 * 4];
    for (unsigned i = 0; i < sizeof rows; i++)
      rows[i] = (uint8_t)(255 - i * 3);
    size_t n;
    uint8_t *png = data_png(4, 4, cases[k].color_type, 8, rows, NULL, 0, &n);
    qir_image img;
    ck_assert(decode(ctx, png, n, &img));
    ck_assert_uint_eq(img.channels, cases[k].channels);
    ck_assert(!memcmp(img.pixels, rows, 16 * cases[k].channels));
    qir_image_free(&img);
    free(png);
  }
  qir_context_destroy(ctx);
}
END_TEST

/* A 2-bit palette image expands to RGB. */
START_TEST(t_png_palette) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  static const uint8_t plte[] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 10, 20, 30};
  uint8_t row = 0x1b; /* indices 0 1 2 3 */
  size_t n;
  uint8_t *png = data_png(4, 1, 3, 2, &row, plte, sizeof plte, &n);
  qir_image img;
  ck_assert(decode(ctx, png, n, &img));
  ck_assert_uint_eq(img.channels, 3);
  ck_assert(!memcmp(img.pixels, plte, sizeof plte));
  qir_image_free(&img);
  free(png);
  qir_context_destroy(ctx);
}
END_TEST

/* 16-bit samples round to 8 bits; 1-bit gray expands to 0 and 255. */
START_TEST(t_png_depths) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  static const uint8_t rows16[] = {0xff, 0xff, 0x80, 0x80, 0x00, 0x00, 0x01, 0x00};
  size_t n;
  uint8_t *png = data_png(4, 1, 0, 16, rows16, NULL, 0, &n);
  qir_image img;
  ck_assert(decode(ctx, png, n, &img));
  ck_assert_uint_eq(img.pixels[0], 255);
  ck_assert_uint_eq(img.pixels[1], 128);
  ck_assert_uint_eq(img.pixels[2], 0);
  ck_assert_uint_eq(img.pixels[3], 1);
  qir_image_free(&img);
  free(png);
  uint8_t bits = 0xa0; /* 1 0 1 0 */
  png = data_png(4, 1, 0, 1, &bits, NULL, 0, &n);
  ck_assert(decode(ctx, png, n, &img));
  ck_assert_uint_eq(img.pixels[0], 255);
  ck_assert_uint_eq(img.pixels[1], 0);
  ck_assert_uint_eq(img.pixels[2], 255);
  qir_image_free(&img);
  free(png);
  ck_assert_uint_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(t_png_corrupt) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  uint8_t rows[8 * 8 * 3] = {0};
  size_t n;
  uint8_t *png = data_png(8, 8, 2, 8, rows, NULL, 0, &n);
  qir_image img;
  png[29] ^= 1; /* IHDR's CRC */
  ck_assert(!decode(ctx, png, n, &img));
  ck_assert_str_eq(e.last, "'mem.png': corrupt PNG image: IHDR: CRC error");
  ck_assert_ptr_null(img.pixels);
  png[29] ^= 1;
  ck_assert(!decode(ctx, png, n - 30, &img));
  ck_assert_str_eq(e.last,
                   "'mem.png': corrupt PNG image: unexpected end of data");
  ck_assert(!decode(ctx, png, 8, &img));
  ck_assert_str_eq(e.last,
                   "'mem.png': corrupt PNG image: unexpected end of data");
  ck_assert(!decode(ctx, png, 7, &img));
  ck_assert_str_eq(e.last, "'mem.png': not a PNG or JPEG image");
  ck_assert(!decode(ctx, (const uint8_t *)"", 0, &img));
  ck_assert_str_eq(e.last, "'mem.png': not a PNG or JPEG image");
  png[16 + 3] = 0, png[16 + 2] = 0; /* width 0; CRC now wrong too */
  ck_assert(!decode(ctx, png, n, &img));
  ck_assert_str_eq(e.last, "'mem.png': corrupt PNG image: IHDR: CRC error");
  free(png);
  qir_context_destroy(ctx);
}
END_TEST

/* The header's size is checked before anything is allocated. */
START_TEST(t_png_limits) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  uint8_t *row = calloc(1, 20000);
  size_t n;
  uint8_t *png = data_png(20000, 1, 0, 8, row, NULL, 0, &n);
  qir_image img;
  ck_assert(!decode(ctx, png, n, &img));
  ck_assert_str_eq(e.last, "'mem.png': image of 20000x1 exceeds the limit of "
                           "16384 pixels per side");
  free(png);
  png = data_png(1, 20000, 0, 8, row, NULL, 0, &n);
  ck_assert(!decode(ctx, png, n, &img));
  ck_assert_str_eq(e.last, "'mem.png': image of 1x20000 exceeds the limit of "
                           "16384 pixels per side");
  free(png);
  free(row);
  qir_data_limits lim;
  qir_data_limits_init(&lim);
  lim.max_image_pixels = 100;
  uint8_t rows[11 * 10] = {0};
  png = data_png(11, 10, 0, 8, rows, NULL, 0, &n);
  ck_assert(!qir_image_decode_limits(ctx, "a.png", png, n, &lim, &img));
  ck_assert_str_eq(e.last,
                   "'a.png': image of 11x10 exceeds the limit of 100 pixels");
  lim.max_image_pixels = 110;
  ck_assert(qir_image_decode_limits(ctx, "a.png", png, n, &lim, &img));
  qir_image_free(&img);
  free(png);
  qir_context_destroy(ctx);
}
END_TEST

static uint8_t *read_input(qir_context *ctx, const char *name, size_t *n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/lit/data/Inputs/%s", QIR_SRCDIR, name);
  uint8_t *p = (uint8_t *)qir_read_file(ctx, path, n);
  ck_assert_ptr_nonnull(p);
  return p;
}

START_TEST(t_jpeg_decode) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  size_t n;
  uint8_t *jpg = read_input(ctx, "photo.jpg", &n);
  qir_image img;
  ck_assert(qir_image_decode(ctx, "photo.jpg", jpg, n, &img));
  ck_assert_uint_eq(img.width, 64);
  ck_assert_uint_eq(img.height, 48);
  ck_assert_uint_eq(img.channels, 3);
  qir_image_free(&img);
  free(jpg);
  jpg = read_input(ctx, "photo-gray.jpg", &n);
  ck_assert(qir_image_decode(ctx, "photo-gray.jpg", jpg, n, &img));
  ck_assert_uint_eq(img.channels, 1);
  qir_image_free(&img);
  free(jpg);
  ck_assert_uint_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(t_jpeg_errors) {
  data_errors e;
  qir_context *ctx = data_ctx(&e);
  size_t n;
  uint8_t *jpg = read_input(ctx, "photo.jpg", &n);
  qir_image img;
  ck_assert(!qir_image_decode(ctx, "t.jpg", jpg, n / 2, &img));
  ck_assert_str_eq(e.last, "'t.jpg': truncated JPEG image");
  ck_assert_ptr_null(img.pixels);
  ck_assert(!qir_image_decode(ctx, "t.jpg", jpg, 40, &img));
  ck_assert_str_eq(e.last, "'t.jpg': corrupt JPEG image: JPEG datastream "
                           "contains no image");
  uint8_t *sof = memmem(jpg, n, "\xff\xc0", 2);
  ck_assert_ptr_nonnull(sof);
  sof[4] = 9; /* sample precision */
  ck_assert(!qir_image_decode(ctx, "t.jpg", jpg, n, &img));
  ck_assert_str_eq(e.last, "'t.jpg': corrupt JPEG image: Unsupported JPEG "
                           "data precision 9");
  free(jpg);
  jpg = read_input(ctx, "cmyk.jpg", &n);
  ck_assert(!qir_image_decode(ctx, "c.jpg", jpg, n, &img));
  ck_assert_str_eq(e.last, "'c.jpg': CMYK JPEG images are not supported");
  free(jpg);
  qir_context_destroy(ctx);
}
END_TEST

Suite *data_image_suite(void) {
  Suite *s = suite_create("data_image");
  TCase *tc = tcase_create("decode");
  tcase_add_test(tc, t_png_rgb_exact);
  tcase_add_test(tc, t_png_channels);
  tcase_add_test(tc, t_png_palette);
  tcase_add_test(tc, t_png_depths);
  tcase_add_test(tc, t_png_corrupt);
  tcase_add_test(tc, t_png_limits);
  tcase_add_test(tc, t_jpeg_decode);
  tcase_add_test(tc, t_jpeg_errors);
  suite_add_tcase(s, tc);
  return s;
}
