/* tests/unit/interp_npy.c - the .npy reader and writer. */
#include <string.h>
#include <unistd.h>

#include "interp_test.h"
#include "qir/npy.h"

typedef struct err_sink {
  char last[512];
  unsigned count;
} err_sink;

static void sink(qir_context *ctx, const qir_diag *d, void *user) {
  err_sink *e = user;
  snprintf(e->last, sizeof e->last, "%s", d->message);
  e->count++;
}

static qir_context *ctx_with_sink(err_sink *e) {
  memset(e, 0, sizeof *e);
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, sink, e, NULL, NULL);
  return ctx;
}

START_TEST(t_npy_roundtrip_all_dtypes) {
  static const qir_scalar all[] = {QIR_F64, QIR_F32, QIR_F16, QIR_I8,
                                   QIR_U8,  QIR_I16, QIR_U16, QIR_I32,
                                   QIR_I64, QIR_I1};
  err_sink e;
  qir_context *ctx = ctx_with_sink(&e);
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
    qir_tensor t = {0};
    t.scalar = all[k];
    t.rank = 3;
    t.dims[0] = 2;
    t.dims[1] = 3;
    t.dims[2] = 5;
    ck_assert(qir_tensor_alloc(&t));
    for (size_t i = 0; i < t.nbytes; i++)
      ((uint8_t *)t.data)[i] = (uint8_t)(i * 37 + k);
    if (all[k] == QIR_I1)
      for (size_t i = 0; i < t.nbytes; i++)
        ((uint8_t *)t.data)[i] &= 1;
    size_t len;
    void *bytes = qir_npy_encode(&t, &len);
    ck_assert_int_eq(len % 64, t.nbytes % 64); /* data 64-byte aligned */
    qir_tensor r;
    ck_assert(qir_npy_read_buffer(ctx, "mem", bytes, len, &r));
    ck_assert_int_eq(r.scalar, all[k]);
    ck_assert_int_eq(r.rank, 3);
    ck_assert_int_eq(r.dims[2], 5);
    ck_assert_int_eq(r.nbytes, t.nbytes);
    ck_assert(!memcmp(r.data, t.data, t.nbytes));
    free(bytes);
    qir_tensor_free_data(&r);
    qir_tensor_free_data(&t);
  }
  ck_assert_int_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

/* Builds a file from a header dict and raw data. */
static size_t make_npy(uint8_t *buf, int major, const char *dict,
                       const void *data, size_t n) {
  size_t hl = strlen(dict), pre = major == 1 ? 10 : 12;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (uint8_t)major;
  buf[7] = 0;
  buf[8] = (uint8_t)(hl & 0xff);
  buf[9] = (uint8_t)(hl >> 8);
  if (major > 1)
    buf[10] = buf[11] = 0;
  memcpy(buf + pre, dict, hl);
  memcpy(buf + pre + hl, data, n);
  return pre + hl + n;
}

START_TEST(t_npy_versions_and_endianness) {
  err_sink e;
  qir_context *ctx = ctx_with_sink(&e);
  uint8_t buf[512];
  float v[2] = {1.5f, -2.0f};
  qir_tensor t;
  size_t n = make_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (2,), }\n", v, sizeof v);
  ck_assert(qir_npy_read_buffer(ctx, "v2", buf, n, &t));
  ck_assert(((float *)t.data)[1] == -2.0f);
  qir_tensor_free_data(&t);
  n = make_npy(buf, 3, "{\"descr\": \"<f4\", \"fortran_order\": False, "
               "\"shape\": (1, 2)}\n", v, sizeof v);
  ck_assert(qir_npy_read_buffer(ctx, "v3", buf, n, &t));
  ck_assert_int_eq(t.rank, 2);
  qir_tensor_free_data(&t);
  uint8_t be[4] = {0x12, 0x34, 0x56, 0x78};
  n = make_npy(buf, 1, "{'descr': '>i4', 'fortran_order': False, "
               "'shape': (), }\n", be, 4);
  ck_assert(qir_npy_read_buffer(ctx, "be", buf, n, &t));
  ck_assert_int_eq(t.rank, 0);
  ck_assert_int_eq(((int32_t *)t.data)[0], 0x12345678);
  qir_tensor_free_data(&t);
  ck_assert_int_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

static void expect_error(const char *dict, const void *data, size_t nd,
                         int major, const char *msg) {
  err_sink e;
  qir_context *ctx = ctx_with_sink(&e);
  uint8_t buf[512];
  size_t n = make_npy(buf, major, dict, data, nd);
  qir_tensor t;
  ck_assert(!qir_npy_read_buffer(ctx, "f.npy", buf, n, &t));
  ck_assert_str_eq(e.last, msg);
  qir_context_destroy(ctx);
}

START_TEST(t_npy_errors) {
  float v[4] = {0};
  expect_error("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
               v, 16, 1,
               "'f.npy': Fortran order is not supported (save with C order)");
  expect_error("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
               v, 16, 1, "'f.npy': unsupported dtype '<c8'");
  expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
               v, 16, 1,
               "'f.npy': data size mismatch: the header says 12 bytes, the "
               "file has 16");
  expect_error("{'descr': '<f4', 'fortran_order': False}", v, 16, 1,
               "'f.npy': header lacks 'descr', 'fortran_order' or 'shape'");
  expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
               v, 16, 1, "'f.npy': malformed shape in header");
  expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': "
               "(4611686018427387904, 4611686018427387904), }",
               v, 16, 1, "'f.npy': shape too large");
  expect_error("{'descr': '<f4'", v, 0, 1, "'f.npy': malformed header");
  expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
               v, 16, 7, "'f.npy': unsupported .npy version 7.0");
}
END_TEST

START_TEST(t_npy_bad_magic_and_truncation) {
  err_sink e;
  qir_context *ctx = ctx_with_sink(&e);
  qir_tensor t;
  ck_assert(!qir_npy_read_buffer(ctx, "x", "hello world", 11, &t));
  ck_assert_str_eq(e.last, "'x': not a .npy file (bad magic)");
  uint8_t hdr[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f};
  ck_assert(!qir_npy_read_buffer(ctx, "x", hdr, sizeof hdr, &t));
  ck_assert_str_eq(e.last, "'x': truncated header");
  ck_assert(!qir_npy_read(ctx, "/nonexistent/dir/x.npy", &t));
  ck_assert_str_eq(e.last,
                   "cannot open '/nonexistent/dir/x.npy': No such file or "
                   "directory");
  qir_context_destroy(ctx);
}
END_TEST

START_TEST(t_npy_file_roundtrip_bf16) {
  err_sink e;
  qir_context *ctx = ctx_with_sink(&e);
  char path[] = "/tmp/qir-npy-XXXXXX";
  int fd = mkstemp(path);
  ck_assert(fd >= 0);
  close(fd);
  qir_tensor t = {0};
  t.scalar = QIR_BF16;
  t.rank = 1;
  t.dims[0] = 2;
  ck_assert(qir_tensor_alloc(&t));
  ((uint16_t *)t.data)[0] = 0x3fc0; /* 1.5 */
  ((uint16_t *)t.data)[1] = 0xc000; /* -2 */
  ck_assert(qir_npy_write(ctx, path, &t));
  qir_tensor r;
  ck_assert(qir_npy_read(ctx, path, &r));
  ck_assert_int_eq(r.scalar, QIR_F32); /* bf16 is written as f32 */
  ck_assert(((float *)r.data)[0] == 1.5f && ((float *)r.data)[1] == -2.0f);
  qir_tensor_free_data(&r);
  qir_tensor_free_data(&t);
  unlink(path);
  ck_assert_int_eq(e.count, 0);
  qir_context_destroy(ctx);
}
END_TEST

Suite *interp_npy_suite(void) {
  Suite *s = suite_create("npy");
  TCase *tc = tcase_create("npy");
  tcase_add_test(tc, t_npy_roundtrip_all_dtypes);
  tcase_add_test(tc, t_npy_versions_and_endianness);
  tcase_add_test(tc, t_npy_errors);
  tcase_add_test(tc, t_npy_bad_magic_and_truncation);
  tcase_add_test(tc, t_npy_file_roundtrip_bf16);
  suite_add_tcase(s, tc);
  return s;
}
