/* tests/unit/data_dataset.c - datasets: configurations, samples from
 * folders, .npy / .bin / images, preprocessing, multi-input datasets, the
 * limits and every error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_test.h"
#include "qir/io.h"
#include "qir/npy.h"

typedef struct fixture {
  data_errors e;
  qir_context *ctx;
  qir_module *m;
  qir_func *f;
  char *dir;
  char msg[1024];
} fixture;

static void setup(fixture *fx, const char *qir) {
  fx->ctx = data_ctx(&fx->e);
  fx->m = qir_parse_buffer(fx->ctx, "t.qir", qir, strlen(qir), 1);
  ck_assert_ptr_nonnull(fx->m);
  ck_assert(qir_verify_module(fx->m));
  fx->f = fx->m->first;
  fx->dir = data_tmpdir();
}

static void teardown(fixture *fx) {
  qir_module_destroy(fx->m);
  qir_context_destroy(fx->ctx);
  data_rmtree(fx->dir);
  free(fx->dir);
}

/* fx->msg = the expected text with every {} replaced by the folder. */
static const char *expect(fixture *fx, const char *fmt) {
  size_t n = 0;
  for (const char *p = fmt; *p && n + 1 < sizeof fx->msg; p++) {
    if (p[0] == '{' && p[1] == '}') {
      n += (size_t)snprintf(fx->msg + n, sizeof fx->msg - n, "%s", fx->dir);
      p++;
    } else {
      fx->msg[n++] = *p;
    }
  }
  fx->msg[n] = 0;
  return fx->msg;
}

static void write_npy(const char *dir, const char *name, qir_scalar s,
                      unsigned rank, const int64_t *dims, float first) {
  qir_tensor t = {.scalar = s, .rank = rank};
  memcpy(t.dims, dims, rank * sizeof *dims);
  ck_assert(qir_tensor_alloc(&t));
  if (s == QIR_F32)
    for (int64_t i = 0; i < qir_tensor_numel(&t); i++)
      ((float *)t.data)[i] = first + (float)i;
  size_t len;
  void *bytes = qir_npy_encode(&t, &len);
  data_write(dir, name, bytes, len);
  free(bytes);
  qir_tensor_free_data(&t);
}

static void write_png(const char *dir, const char *name, unsigned w,
                      unsigned h, int color_type, const uint8_t *rows) {
  size_t n;
  uint8_t *png = data_png(w, h, color_type, 8, rows, NULL, 0, &n);
  data_write(dir, name, png, n);
  free(png);
}

static qir_dataset *open1(fixture *fx, const char *path, size_t limit) {
  qir_input_config c;
  qir_input_config_init(&c);
  c.path = path;
  return qir_dataset_open(fx->f, &c, 1, limit);
}

static const char *const one_input =
    "func @main(%x: tensor<1x3xf32>) -> tensor<1x3xf32> {\n  return(%x)\n}\n";

START_TEST(t_npy_folder_sorted_and_limited) {
  fixture fx;
  setup(&fx, one_input);
  static const int64_t dims[] = {1, 3};
  write_npy(fx.dir, "b.npy", QIR_F32, 2, dims, 10);
  write_npy(fx.dir, "a.npy", QIR_F32, 2, dims, 0);
  write_npy(fx.dir, "sub/c.npy", QIR_F32, 2, dims, 20);
  data_write(fx.dir, ".hidden.txt", "x", 1);
  data_write(fx.dir, ".git/config.txt", "x", 1);
  qir_dataset *ds = open1(&fx, fx.dir, 0);
  ck_assert_ptr_nonnull(ds);
  ck_assert_uint_eq(qir_dataset_size(ds), 3);
  ck_assert_str_eq(qir_dataset_sample_name(ds, 0), "a");
  ck_assert_str_eq(qir_dataset_sample_name(ds, 2), "c");
  ck_assert_ptr_null(qir_dataset_sample_name(ds, 3));
  qir_tensor t;
  ck_assert(qir_dataset_load(ds, 2, &t));
  ck_assert_uint_eq(t.rank, 2);
  ck_assert(t.elem == fx.f->body.args[0]->type->elem);
  ck_assert_float_eq(((float *)t.data)[2], 22);
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  ds = open1(&fx, fx.dir, 2);
  ck_assert_uint_eq(qir_dataset_size(ds), 2);
  qir_dataset_close(ds);
  ck_assert_uint_eq(fx.e.count, 0);
  teardown(&fx);
}
END_TEST

START_TEST(t_npy_and_bin_errors) {
  fixture fx;
  setup(&fx, one_input);
  static const int64_t dims[] = {2, 3};
  write_npy(fx.dir, "a.npy", QIR_F32, 2, dims, 0);
  data_write(fx.dir, "b.bin", "01234567", 8);
  data_write(fx.dir, "c.bin", "0123456789ab", 12);
  qir_dataset *ds = open1(&fx, fx.dir, 0);
  ck_assert_ptr_nonnull(ds);
  qir_tensor t;
  ck_assert(!qir_dataset_load(ds, 0, &t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/a.npy': array of 2x3xf32 does not match "
                               "input 'x' of type tensor<1x3xf32>"));
  ck_assert(!qir_dataset_load(ds, 1, &t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/b.bin': 8 bytes, but input 'x' of type "
                               "tensor<1x3xf32> takes 12"));
  ck_assert(qir_dataset_load(ds, 2, &t));
  ck_assert(!memcmp(t.data, "0123456789ab", 12));
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_folder_errors) {
  fixture fx;
  setup(&fx, one_input);
  char path[4200];
  snprintf(path, sizeof path, "%s/nope", fx.dir);
  ck_assert_ptr_null(open1(&fx, path, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "cannot open '{}/nope': No such file or "
                               "directory"));
  ck_assert_ptr_null(open1(&fx, fx.dir, 0));
  ck_assert_str_eq(fx.e.last, expect(&fx, "no samples in '{}'"));
  data_write(fx.dir, "a.txt", "x", 1);
  ck_assert_ptr_null(open1(&fx, fx.dir, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/a.txt': unknown file extension (expected "
                               ".npy, .bin, .raw, .png, .jpg or .jpeg)"));
  qir_input_config c;
  qir_input_config_init(&c);
  c.path = fx.dir;
  c.format = QIR_DATA_BIN; /* any name goes with an explicit format */
  data_write(fx.dir, "sub/a.bin", "x", 1);
  ck_assert_ptr_null(qir_dataset_open(fx.f, &c, 1, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/a.txt' and '{}/sub/a.bin' are both sample "
                               "'a'"));
  teardown(&fx);
}
END_TEST

static const char *const two_inputs =
    "func @main(%x: tensor<1x3xf32>, %y: tensor<2xi32>) -> tensor<1x3xf32> "
    "{\n  return(%x)\n}\n";

static void two_configs(qir_input_config *c, const char *x, const char *y) {
  qir_input_config_init(&c[0]);
  qir_input_config_init(&c[1]);
  c[0].name = "y", c[0].path = y; /* order does not matter */
  c[1].name = "x", c[1].path = x;
}

START_TEST(t_multi_input) {
  fixture fx;
  setup(&fx, two_inputs);
  char xdir[4200], ydir[4200];
  snprintf(xdir, sizeof xdir, "%s/x", fx.dir);
  snprintf(ydir, sizeof ydir, "%s/y", fx.dir);
  static const int64_t dx[] = {1, 3}, dy[] = {2};
  write_npy(xdir, "s1.npy", QIR_F32, 2, dx, 1);
  write_npy(xdir, "s2.npy", QIR_F32, 2, dx, 2);
  write_npy(ydir, "s1.npy", QIR_I32, 1, dy, 0);
  data_write(ydir, "s2.bin", "\1\0\0\0\2\0\0\0", 8);
  qir_input_config c[2];
  two_configs(c, xdir, ydir);
  qir_dataset *ds = qir_dataset_open(fx.f, c, 2, 0);
  ck_assert_ptr_nonnull(ds);
  ck_assert_uint_eq(qir_dataset_size(ds), 2);
  qir_tensor t[2];
  ck_assert(qir_dataset_load(ds, 1, t));
  ck_assert_float_eq(((float *)t[0].data)[0], 2);
  ck_assert_int_eq(((int32_t *)t[1].data)[1], 2);
  qir_tensor_free_data(&t[0]);
  qir_tensor_free_data(&t[1]);
  qir_dataset_close(ds);
  /* A sample missing for either input. */
  write_npy(xdir, "s3.npy", QIR_F32, 2, dx, 3);
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 2, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "sample 's3' has no file for input 'y' in "
                               "'{}/y'"));
  write_npy(ydir, "s3.npy", QIR_I32, 1, dy, 0);
  write_npy(ydir, "s0.npy", QIR_I32, 1, dy, 0);
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 2, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "sample 's0' has no file for input 'x' in "
                               "'{}/x'"));
  /* A load error frees what was loaded. */
  write_npy(xdir, "s0.npy", QIR_F32, 2, dx, 0);
  data_write(ydir, "s0.npy", "junk", 4);
  ds = qir_dataset_open(fx.f, c, 2, 0);
  ck_assert_ptr_nonnull(ds);
  ck_assert(!qir_dataset_load(ds, 0, t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/y/s0.npy': not a .npy file (bad magic)"));
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_config_errors) {
  fixture fx;
  setup(&fx, two_inputs);
  qir_input_config c[3];
  two_configs(c, fx.dir, fx.dir);
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 1, 0));
  ck_assert_str_eq(fx.e.last, "input 'x' of @main has no data configuration");
  c[1].name = "z";
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 2, 0));
  ck_assert_str_eq(fx.e.last, "no input named 'z' in @main (inputs: x, y)");
  c[1].name = "y";
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 2, 0));
  ck_assert_str_eq(fx.e.last, "two data configurations for input 'y'");
  c[1].name = NULL;
  ck_assert_ptr_null(qir_dataset_open(fx.f, c + 1, 1, 0));
  ck_assert_str_eq(fx.e.last,
                   "a data configuration without an input name needs a "
                   "function with one input; @main has inputs x, y");
  c[1].name = "x";
  c[1].path = NULL;
  ck_assert_ptr_null(qir_dataset_open(fx.f, c, 2, 0));
  ck_assert_str_eq(fx.e.last, "input 'x': no data path");
  teardown(&fx);
}
END_TEST

START_TEST(t_folder_depth) {
  fixture fx;
  setup(&fx, one_input);
  char name[256] = "";
  for (int i = 0; i < 17; i++)
    strcat(name, "d/");
  strcat(name, "a.bin");
  data_write(fx.dir, name, "0123456789ab", 12);
  ck_assert_ptr_null(open1(&fx, fx.dir, 0));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d': "
                               "folders nested deeper than 16 levels"));
  name[strlen(name) - strlen("d/a.bin")] = 0;
  strcat(name, "b.bin");
  data_write(fx.dir, name, "0123456789ab", 12); /* 16 levels: fine */
  char path[4200];
  snprintf(path, sizeof path, "%s/d", fx.dir);
  qir_dataset *ds = open1(&fx, path, 0);
  ck_assert_ptr_nonnull(ds);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_limits) {
  fixture fx;
  setup(&fx, one_input);
  static const int64_t dims[] = {1, 3};
  for (int i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "s%d.npy", i);
    write_npy(fx.dir, name, QIR_F32, 2, dims, 0);
  }
  qir_input_config c;
  qir_input_config_init(&c);
  c.path = fx.dir;
  qir_data_limits lim;
  qir_data_limits_init(&lim);
  ck_assert_uint_eq(lim.max_image_side, 16384);
  lim.max_samples = 4;
  ck_assert_ptr_null(qir_dataset_open_limits(fx.f, &c, 1, 0, &lim));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}': 5 samples exceed the limit of 4 "
                               "samples"));
  qir_dataset *ds = qir_dataset_open_limits(fx.f, &c, 1, 4, &lim);
  ck_assert_ptr_nonnull(ds); /* the calibration size keeps it in bounds */
  qir_dataset_close(ds);
  lim.max_entries = 4;
  ck_assert_ptr_null(qir_dataset_open_limits(fx.f, &c, 1, 0, &lim));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}': more than 4 files or archive entries "
                               "(the limit)"));
  qir_data_limits_init(&lim);
  lim.max_file_bytes = 100;
  ds = qir_dataset_open_limits(fx.f, &c, 1, 0, &lim);
  qir_tensor t;
  ck_assert(!qir_dataset_load(ds, 0, &t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/s0.npy': 140 bytes exceeds the limit of "
                               "100 bytes per file"));
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

/* ---- Images ------------------------------------------------------------------ */

static qir_dataset *open_image(fixture *fx, const qir_input_config *proto) {
  qir_input_config c = *proto;
  c.path = fx->dir;
  return qir_dataset_open(fx->f, &c, 1, 0);
}

static float *load_f32(fixture *fx, qir_dataset *ds, qir_tensor *t) {
  ck_assert_ptr_nonnull(ds);
  if (!qir_dataset_load(ds, 0, t))
    ck_abort_msg("load failed: %s", fx->e.last);
  return t->data;
}

/* A 2x1 RGB image: (10, 20, 30) and (40, 50, 60). */
static const uint8_t two_pixels[] = {10, 20, 30, 40, 50, 60};

START_TEST(t_image_layouts_and_norm) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x3x1x2xf32>) -> tensor<1x3x1x2xf32> "
             "{\n  return(%x)\n}\n");
  write_png(fx.dir, "a.png", 2, 1, 2, two_pixels);
  qir_input_config c;
  qir_input_config_init(&c);
  qir_tensor t;
  qir_dataset *ds = open_image(&fx, &c);
  float *v = load_f32(&fx, ds, &t);
  static const float nchw[] = {10, 40, 20, 50, 30, 60};
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq(v[i], nchw[i]);
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  c.channel_order = "BGR";
  c.num_mean = 3, c.mean[0] = 1, c.mean[1] = 2, c.mean[2] = 3;
  c.num_std = 1, c.std[0] = 2;
  ds = open_image(&fx, &c);
  v = load_f32(&fx, ds, &t);
  static const float bgr[] = {14.5f, 29.5f, 9, 24, 3.5f, 18.5f};
  for (int i = 0; i < 6; i++)
    ck_assert_float_eq(v[i], bgr[i]);
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_image_nhwc_gray_u8) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x1x2x1xu8>) -> tensor<1x1x2x1xu8> "
             "{\n  return(%x)\n}\n");
  write_png(fx.dir, "a.png", 2, 1, 2, two_pixels);
  qir_input_config c;
  qir_input_config_init(&c);
  c.nhwc = true;
  c.channel_order = "GRAY";
  c.num_mean = 1, c.mean[0] = 0.5;
  qir_tensor t;
  qir_dataset *ds = open_image(&fx, &c);
  ck_assert(qir_dataset_load(ds, 0, &t));
  ck_assert_int_eq(t.scalar, QIR_U8);
  /* 0.299*10+0.587*20+0.114*30 = 18.15 -> 17.65 -> 18; 48.15 -> 47.65 */
  ck_assert_uint_eq(((uint8_t *)t.data)[0], 18);
  ck_assert_uint_eq(((uint8_t *)t.data)[1], 48);
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_image_resize_half_pixel) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32> "
             "{\n  return(%x)\n}\n");
  static const uint8_t gray[] = {0, 100};
  write_png(fx.dir, "a.png", 2, 1, 0, gray);
  qir_input_config c;
  qir_input_config_init(&c);
  c.channel_order = "GRAY";
  qir_tensor t;
  qir_dataset *ds = open_image(&fx, &c);
  float *v = load_f32(&fx, ds, &t);
  ck_assert_float_eq(v[0], 0);
  ck_assert_float_eq(v[1], 25);
  ck_assert_float_eq(v[2], 75);
  ck_assert_float_eq(v[3], 100);
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_image_no_resize) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x3x1x2xf32>) -> tensor<1x3x1x2xf32> "
             "{\n  return(%x)\n}\n");
  write_png(fx.dir, "a.png", 2, 1, 2, two_pixels);
  write_png(fx.dir, "b.png", 1, 2, 2, two_pixels);
  qir_input_config c;
  qir_input_config_init(&c);
  c.no_resize = true;
  qir_tensor t;
  qir_dataset *ds = open_image(&fx, &c);
  ck_assert(qir_dataset_load(ds, 0, &t));
  qir_tensor_free_data(&t);
  ck_assert(!qir_dataset_load(ds, 1, &t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/b.png': image of 1x2, but input 'x' takes "
                               "2x1 and resizing is off"));
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_image_quantized_and_dynamic) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x3x?x?x!q.i8<0.5:-10>>) -> "
             "tensor<1x3x?x?x!q.i8<0.5:-10>> {\n  return(%x)\n}\n");
  write_png(fx.dir, "a.png", 2, 1, 2, two_pixels);
  qir_input_config c;
  qir_input_config_init(&c);
  qir_tensor t;
  qir_dataset *ds = open_image(&fx, &c);
  ck_assert(qir_dataset_load(ds, 0, &t));
  ck_assert_int_eq(t.dims[2], 1);
  ck_assert_int_eq(t.dims[3], 2);
  ck_assert(t.elem == fx.f->body.args[0]->type->elem);
  const int8_t *q = t.data;
  ck_assert_int_eq(q[0], 10);  /* 10 / 0.5 - 10 */
  ck_assert_int_eq(q[1], 70);  /* 40 / 0.5 - 10 */
  ck_assert_int_eq(q[5], 110); /* 60 / 0.5 - 10 */
  qir_tensor_free_data(&t);
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_image_input_errors) {
  static const struct {
    const char *type, *order;
    bool nhwc;
    unsigned num_mean;
    double std0;
    const char *message;
  } cases[] = {
      {"tensor<3x4xf32>", "RGB", false, 0, 1,
       "input 'x' of type tensor<3x4xf32> cannot take images (expected NCHW, "
       "rank 4)"},
      {"tensor<2x3x4x4xf32>", "RGB", false, 0, 1,
       "input 'x' of type tensor<2x3x4x4xf32> cannot take images: an image "
       "fills a batch of 1"},
      {"tensor<1x3x4x4xf32>", "GRAY", false, 0, 1,
       "input 'x' of type tensor<1x3x4x4xf32> has 3 channels (NCHW) but "
       "channel order GRAY gives 1"},
      {"tensor<1x4x4x3xf32>", "RGB", false, 0, 1,
       "input 'x' of type tensor<1x4x4x3xf32> has 4 channels (NCHW) but "
       "channel order RGB gives 3"},
      {"tensor<1x3x4x4xf32>", "YUV", false, 0, 1,
       "input 'x': unknown channel order 'YUV' (expected RGB, BGR or GRAY)"},
      {"tensor<1x3x4x4xf32>", "RGB", false, 2, 1,
       "input 'x': 2 mean values for 3 channels"},
      {"tensor<1x3x4x4xf32>", "RGB", false, 0, 0,
       "input 'x': mean and std must be finite and std not 0"},
      {"tensor<1x3x4x4xi1>", "RGB", false, 0, 1,
       "input 'x' of type tensor<1x3x4x4xi1> cannot take images: i1 "
       "elements"},
      {"tensor<1x3x0x4xf32>", "RGB", false, 0, 1,
       "input 'x' of type tensor<1x3x0x4xf32> cannot take images: no "
       "pixels"},
      {"tensor<1x3x20000x4xf32>", "RGB", false, 0, 1,
       "input 'x' of type tensor<1x3x20000x4xf32> cannot take images: "
       "larger than the image limits"},
      {"tensor<1x3x4x4x!q.i8<axis=2, [0.5, 0.5, 0.5, 0.5]>>", "RGB", false,
       0, 1,
       "input 'x' of type tensor<1x3x4x4x!q.i8<axis=2, [0.5, 0.5, 0.5, "
       "0.5]>> cannot take images: quantized on an axis other than the "
       "channels"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char qir[512];
    snprintf(qir, sizeof qir, "func @main(%%x: %s) -> %s {\n  return(%%x)\n}\n",
             cases[k].type, cases[k].type);
    fixture fx;
    setup(&fx, qir);
    write_png(fx.dir, "a.png", 2, 1, 2, two_pixels);
    qir_input_config c;
    qir_input_config_init(&c);
    c.channel_order = cases[k].order;
    c.nhwc = cases[k].nhwc;
    c.num_mean = cases[k].num_mean;
    c.num_std = 1, c.std[0] = cases[k].std0;
    ck_assert_ptr_null(open_image(&fx, &c));
    ck_assert_str_eq(fx.e.last, cases[k].message);
    teardown(&fx);
  }
}
END_TEST

START_TEST(t_bin_needs_static_shape) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {\n"
             "  return(%x)\n}\n");
  data_write(fx.dir, "a.bin", "0123456789ab", 12);
  ck_assert_ptr_null(open1(&fx, fx.dir, 0));
  ck_assert_str_eq(fx.e.last, "input 'x' of type tensor<?x3xf32> has a dynamic "
                              "shape; .bin files need a static one");
  teardown(&fx);
}
END_TEST

START_TEST(t_image_corrupt_names_file) {
  fixture fx;
  setup(&fx, "func @main(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> "
             "{\n  return(%x)\n}\n");
  data_write(fx.dir, "a.jpg", "\xff\xd8\xff", 3);
  qir_dataset *ds = open1(&fx, fx.dir, 0);
  qir_tensor t;
  ck_assert(!qir_dataset_load(ds, 0, &t));
  ck_assert_str_eq(fx.e.last,
                   expect(&fx, "'{}/a.jpg': corrupt JPEG image: JPEG "
                               "datastream contains no image"));
  qir_dataset_close(ds);
  teardown(&fx);
}
END_TEST

START_TEST(t_function_without_inputs) {
  fixture fx;
  setup(&fx, "func @k() -> tensor<1xf32> {\n"
             "  %c = constant {value = dense<1.0> : tensor<1xf32>} : "
             "tensor<1xf32>\n  return(%c)\n}\n");
  ck_assert_ptr_null(open1(&fx, fx.dir, 0));
  ck_assert_str_eq(fx.e.last, "@k has no inputs to read data for");
  teardown(&fx);
}
END_TEST

Suite *data_dataset_suite(void) {
  Suite *s = suite_create("data_dataset");
  TCase *tc = tcase_create("dataset");
  tcase_add_test(tc, t_npy_folder_sorted_and_limited);
  tcase_add_test(tc, t_npy_and_bin_errors);
  tcase_add_test(tc, t_folder_errors);
  tcase_add_test(tc, t_multi_input);
  tcase_add_test(tc, t_config_errors);
  tcase_add_test(tc, t_limits);
  tcase_add_test(tc, t_folder_depth);
  tcase_add_test(tc, t_bin_needs_static_shape);
  tcase_add_test(tc, t_function_without_inputs);
  suite_add_tcase(s, tc);
  TCase *ti = tcase_create("images");
  tcase_add_test(ti, t_image_layouts_and_norm);
  tcase_add_test(ti, t_image_nhwc_gray_u8);
  tcase_add_test(ti, t_image_resize_half_pixel);
  tcase_add_test(ti, t_image_quantized_and_dynamic);
  tcase_add_test(ti, t_image_no_resize);
  tcase_add_test(ti, t_image_input_errors);
  tcase_add_test(ti, t_image_corrupt_names_file);
  suite_add_tcase(s, ti);
  return s;
}
