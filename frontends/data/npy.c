/* frontends/data/npy.c - NumPy .npy reader and writer (qir/npy.h).
 *
 * Format: "\x93NUMPY", major, minor, a header length (2 bytes little
 * endian in 1.0, 4 bytes in 2.0 and 3.0), then an ASCII (3.0: UTF-8)
 * Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and a newline, then the data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qir/io.h"
#include "qir/npy.h"

static const struct {
  char kind;
  unsigned size;
  qir_scalar scalar;
} npy_dtypes[] = {
    {'f', 8, QIR_F64}, {'f', 4, QIR_F32}, {'f', 2, QIR_F16},
    {'i', 1, QIR_I8},  {'u', 1, QIR_U8},  {'i', 2, QIR_I16},
    {'u', 2, QIR_U16}, {'i', 4, QIR_I32}, {'i', 8, QIR_I64},
    {'b', 1, QIR_I1},
};

typedef struct npy_header {
  qir_scalar scalar;
  bool big_endian;
  unsigned rank;
  int64_t dims[QIR_MAX_RANK];
} npy_header;

typedef struct npy_cursor {
  const char *p, *end;
} npy_cursor;

static void skip_spaces(npy_cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n'))
    c->p++;
}

static bool eat(npy_cursor *c, char ch) {
  skip_spaces(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

/* A quoted Python string (no escapes needed by the keys and dtypes). */
static bool read_string(npy_cursor *c, char *buf, size_t size) {
  skip_spaces(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (n + 1 >= size)
      return false;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return false;
  c->p++;
  buf[n] = 0;
  return true;
}

static bool parse_descr(const char *d, npy_header *h) {
  char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return false;
  char kind = d[1];
  char *end;
  if (!kind)
    return false;
  long size = strtol(d + 2, &end, 10);
  if (*end || end == d + 2)
    return false;
  for (size_t i = 0; i < sizeof npy_dtypes / sizeof npy_dtypes[0]; i++)
    if (npy_dtypes[i].kind == kind && npy_dtypes[i].size == size) {
      h->scalar = npy_dtypes[i].scalar;
      h->big_endian = order == '>' && size > 1;
      return true;
    }
  return false;
}

static bool parse_shape(npy_cursor *c, npy_header *h) {
  if (!eat(c, '('))
    return false;
  h->rank = 0;
  for (;;) {
    skip_spaces(c);
    if (eat(c, ')'))
      return true;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
      return false;
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      if (v > (INT64_MAX - 9) / 10)
        return false;
      v = v * 10 + (*c->p++ - '0');
    }
    if (c->p < c->end && *c->p == 'L') /* Python 2 longs */
      c->p++;
    if (h->rank >= QIR_MAX_RANK)
      return false;
    h->dims[h->rank++] = v;
    if (!eat(c, ',')) {
      return eat(c, ')');
    }
  }
}

/* Parses the dict; `why` receives the reason on failure. */
static bool parse_header(const char *text, size_t len, npy_header *h,
                         const char **why) {
  npy_cursor c = {text, text + len};
  bool have_descr = false, have_order = false, have_shape = false;
  char key[32], descr[32];
  *why = "malformed header";
  if (!eat(&c, '{'))
    return false;
  while (!eat(&c, '}')) {
    if (!read_string(&c, key, sizeof key) || !eat(&c, ':'))
      return false;
    if (!strcmp(key, "descr")) {
      if (!read_string(&c, descr, sizeof descr)) {
        *why = "unsupported dtype (structured arrays are not supported)";
        return false;
      }
      if (!parse_descr(descr, h)) {
        static char msg[80];
        snprintf(msg, sizeof msg, "unsupported dtype '%s'", descr);
        *why = msg;
        return false;
      }
      have_descr = true;
    } else if (!strcmp(key, "fortran_order")) {
      skip_spaces(&c);
      if ((size_t)(c.end - c.p) >= 4 && !memcmp(c.p, "True", 4)) {
        *why = "Fortran order is not supported (save with C order)";
        return false;
      }
      if ((size_t)(c.end - c.p) < 5 || memcmp(c.p, "False", 5))
        return false;
      c.p += 5;
      have_order = true;
    } else if (!strcmp(key, "shape")) {
      if (!parse_shape(&c, h)) {
        *why = "malformed shape in header";
        return false;
      }
      have_shape = true;
    } else {
      return false;
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}'))
        return false;
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape) {
    *why = "header lacks 'descr', 'fortran_order' or 'shape'";
    return false;
  }
  return true;
}

static void swap_bytes(uint8_t *p, size_t n, size_t size) {
  for (size_t i = 0; i < n; i++, p += size)
    for (size_t a = 0, b = size - 1; a < b; a++, b--) {
      uint8_t t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static bool npy_fail(qir_context *ctx, const char *name, const char *why) {
  qir_emit_error(ctx, qir_loc_unknown(), "'%s': %s", name, why);
  return false;
}

bool qir_npy_read_buffer(qir_context *ctx, const char *name, const void *buf,
                         size_t len, qir_tensor *out) {
  const uint8_t *b = buf;
  memset(out, 0, sizeof *out);
  if (len < 10 || memcmp(b, "\x93NUMPY", 6))
    return npy_fail(ctx, name, "not a .npy file (bad magic)");
  unsigned major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (len < 12)
      return npy_fail(ctx, name, "truncated header");
    hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
           (size_t)b[11] << 24;
    hstart = 12;
  } else {
    char msg[64];
    snprintf(msg, sizeof msg, "unsupported .npy version %u.%u", major, b[7]);
    return npy_fail(ctx, name, msg);
  }
  if (hlen > len - hstart)
    return npy_fail(ctx, name, "truncated header");
  npy_header h;
  const char *why;
  if (!parse_header((const char *)b + hstart, hlen, &h, &why))
    return npy_fail(ctx, name, why);
  out->elem = NULL;
  out->scalar = h.scalar;
  out->rank = h.rank;
  memcpy(out->dims, h.dims, sizeof h.dims);
  int64_t n = 1;
  for (unsigned i = 0; i < h.rank; i++) {
    if (h.dims[i] && n > INT64_MAX / 8 / h.dims[i])
      return npy_fail(ctx, name, "shape too large");
    n *= h.dims[i];
  }
  size_t size = qir_scalar_size(h.scalar);
  size_t need = (size_t)n * size, have = len - hstart - hlen;
  if (have != need) {
    char msg[128];
    snprintf(msg, sizeof msg,
             "data size mismatch: the header says %zu bytes, the file has %zu",
             need, have);
    return npy_fail(ctx, name, msg);
  }
  out->nbytes = need;
  out->data = qir_xmalloc(need ? need : 1);
  memcpy(out->data, b + hstart + hlen, need);
  if (h.big_endian)
    swap_bytes(out->data, (size_t)n, size);
  return true;
}

bool qir_npy_read(qir_context *ctx, const char *path, qir_tensor *out) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    return false;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = qir_xmalloc(cap);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap)
      buf = qir_xrealloc(buf, cap *= 2);
  }
  bool err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return npy_fail(ctx, path, "read error");
  }
  bool ok = qir_npy_read_buffer(ctx, path, buf, len, out);
  free(buf);
  return ok;
}

static const char *npy_descr(qir_scalar s) {
  switch (s) {
  case QIR_F64: return "<f8";
  case QIR_F32:
  case QIR_BF16: return "<f4";
  case QIR_F16: return "<f2";
  case QIR_I1: return "|b1";
  case QIR_I8: return "|i1";
  case QIR_U8: return "|u1";
  case QIR_I16: return "<i2";
  case QIR_U16: return "<u2";
  case QIR_I32: return "<i4";
  case QIR_I64: return "<i8";
  default: return NULL;
  }
}

static float bf16_to_f32(uint16_t v) {
  uint32_t u = (uint32_t)v << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

void *qir_npy_encode(const qir_tensor *t, size_t *len) {
  const char *descr = npy_descr(t->scalar);
  if (!descr)
    qir_die("qir_npy_encode: no .npy dtype for %s", qir_scalar_name(t->scalar));
  char dict[64 + 24 * QIR_MAX_RANK];
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (unsigned i = 0; i < t->rank; i++)
    n += snprintf(dict + n, sizeof dict - n, "%lld,%s", (long long)t->dims[i],
                  i + 1 < t->rank ? " " : "");
  n += snprintf(dict + n, sizeof dict - n, "), }");
  /* Pad so that the data starts on a 64-byte boundary, as NumPy does. */
  size_t total = 10 + (size_t)n + 1;
  size_t padded = (total + 63) / 64 * 64;
  size_t hlen = padded - 10;
  int64_t numel = qir_tensor_numel(t);
  size_t dsize = t->scalar == QIR_BF16 ? (size_t)numel * 4 : t->nbytes;
  uint8_t *out = qir_xmalloc(padded + dsize + 1);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (uint8_t)(hlen & 0xff);
  out[9] = (uint8_t)(hlen >> 8);
  memcpy(out + 10, dict, (size_t)n);
  memset(out + 10 + n, ' ', hlen - (size_t)n - 1);
  out[padded - 1] = '\n';
  if (t->scalar == QIR_BF16) {
    const uint16_t *src = t->data;
    for (int64_t i = 0; i < numel; i++) {
      float f = bf16_to_f32(src[i]);
      memcpy(out + padded + 4 * i, &f, 4);
    }
  } else if (dsize) {
    memcpy(out + padded, t->data, dsize);
  }
  *len = padded + dsize;
  return out;
}

bool qir_npy_write(qir_context *ctx, const char *path, const qir_tensor *t) {
  size_t len;
  void *bytes = qir_npy_encode(t, &len);
  qir_output o;
  if (!qir_output_open(ctx, &o, path, true)) {
    free(bytes);
    return false;
  }
  bool ok = fwrite(bytes, 1, len, o.fp) == len;
  free(bytes);
  if (!ok) {
    qir_output_abort(&o);
    qir_emit_error(ctx, qir_loc_unknown(), "cannot write '%s'", path);
    return false;
  }
  return qir_output_commit(ctx, &o);
}
