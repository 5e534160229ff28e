/* tests/unit/data_main.c - runs the calibration data unit tests; shared
 * helpers (a PNG encoder, temporary folders). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data_test.h"

QIR_UNIT_MAIN(data_image_suite, data_dataset_suite, data_progress_suite)

static void on_diag(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx;
  data_errors *e = user;
  snprintf(e->last, sizeof e->last, "%s", d->message);
  e->count++;
}

qir_context *data_ctx(data_errors *e) {
  memset(e, 0, sizeof *e);
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, on_diag, e, NULL, NULL);
  return ctx;
}

/* ---- PNG encoder ------------------------------------------------------------ */

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static size_t put_chunk(uint8_t *out, const char *type, const uint8_t *data,
                        size_t n) {
  put32(out, (uint32_t)n);
  memcpy(out + 4, type, 4);
  if (n)
    memcpy(out + 8, data, n);
  put32(out + 8 + n, crc32_of(out + 4, n + 4));
  return n + 12;
}

/* zlib stream of stored blocks. */
static uint8_t *zlib_store(const uint8_t *p, size_t n, size_t *len) {
  size_t blocks = n / 65535 + 1;
  uint8_t *z = malloc(2 + blocks * 5 + n + 4), *o = z;
  *o++ = 0x78, *o++ = 0x01;
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < n; i++)
    a = (a + p[i]) % 65521, b = (b + a) % 65521;
  for (size_t done = 0;;) {
    size_t k = n - done > 65535 ? 65535 : n - done;
    *o++ = done + k == n;
    *o++ = (uint8_t)k, *o++ = (uint8_t)(k >> 8);
    *o++ = (uint8_t)~k, *o++ = (uint8_t)(~k >> 8);
    memcpy(o, p + done, k);
    o += k, done += k;
    if (done == n)
      break;
  }
  put32(o, b << 16 | a);
  *len = (size_t)(o + 4 - z);
  return z;
}

uint8_t *data_png(unsigned w, unsigned h, int color_type, int depth,
                  const uint8_t *rows, const uint8_t *plte, size_t plte_len,
                  size_t *len) {
  static const unsigned channels[] = {1, 0, 3, 1, 2, 0, 4};
  size_t rowbytes = ((size_t)w * channels[color_type] * depth + 7) / 8;
  uint8_t *raw = malloc(h * (rowbytes + 1));
  for (unsigned y = 0; y < h; y++) {
    raw[y * (rowbytes + 1)] = 0; /* filter: none */
    memcpy(raw + y * (rowbytes + 1) + 1, rows + y * rowbytes, rowbytes);
  }
  size_t zlen;
  uint8_t *z = zlib_store(raw, h * (rowbytes + 1), &zlen);
  free(raw);
  uint8_t *out = malloc(8 + 25 + plte_len + 12 + zlen + 12 + 12), *o = out;
  memcpy(o, "\x89PNG\r\n\x1a\n", 8);
  o += 8;
  uint8_t ihdr[13] = {0};
  put32(ihdr, w);
  put32(ihdr + 4, h);
  ihdr[8] = (uint8_t)depth, ihdr[9] = (uint8_t)color_type;
  o += put_chunk(o, "IHDR", ihdr, 13);
  if (plte)
    o += put_chunk(o, "PLTE", plte, plte_len);
  o += put_chunk(o, "IDAT", z, zlen);
  o += put_chunk(o, "IEND", NULL, 0);
  free(z);
  *len = (size_t)(o - out);
  return out;
}

/* ---- Files -------------------------------------------------------------------- */

char *data_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s/qir-data-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(buf));
  return strdup(buf);
}

void data_write(const char *dir, const char *name, const void *data,
                size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (char *s = path + 1; (s = strchr(s, '/')); s++) {
    *s = 0;
    mkdir(path, 0777);
    *s = '/';
  }
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

void data_rmtree(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
