/* ir/types.c - scalar helpers, uniqued types, type printing and the
 * shortest round-trip float formatting. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/internal.h"

/* ---- Scalars -------------------------------------------------------------- */

static const struct scalar_info {
  const char *name;
  unsigned char size, is_float, is_signed;
} scalar_info[QIR_NUM_SCALARS] = {
#define X(id, kw, size, isf, iss) {kw, size, isf, iss},
    QIR_SCALAR_LIST(X)
#undef X
};

static bool scalar_ok(qir_scalar s) { return (unsigned)s < QIR_NUM_SCALARS; }

size_t qir_scalar_size(qir_scalar s) {
  return scalar_ok(s) ? scalar_info[s].size : 0;
}
const char *qir_scalar_name(qir_scalar s) {
  return scalar_ok(s) ? scalar_info[s].name : "<bad scalar>";
}
bool qir_scalar_is_float(qir_scalar s) {
  return scalar_ok(s) && scalar_info[s].is_float;
}
bool qir_scalar_is_signed(qir_scalar s) {
  return scalar_ok(s) && scalar_info[s].is_signed;
}

bool qir_scalar_from_name(const char *s, size_t len, qir_scalar *out) {
  for (unsigned i = 0; i < QIR_NUM_SCALARS; i++) {
    const char *n = scalar_info[i].name;
    if (strlen(n) == len && memcmp(n, s, len) == 0) {
      *out = (qir_scalar)i;
      return true;
    }
  }
  return false;
}

int64_t qir_scalar_min(qir_scalar s) {
  switch (s) {
  case QIR_I8:
    return INT8_MIN;
  case QIR_I16:
    return INT16_MIN;
  case QIR_I32:
    return INT32_MIN;
  case QIR_I64:
    return INT64_MIN;
  default:
    return 0;
  }
}

int64_t qir_scalar_max(qir_scalar s) {
  switch (s) {
  case QIR_I1:
    return 1;
  case QIR_I8:
    return INT8_MAX;
  case QIR_U8:
    return UINT8_MAX;
  case QIR_I16:
    return INT16_MAX;
  case QIR_U16:
    return UINT16_MAX;
  case QIR_I32:
    return INT32_MAX;
  case QIR_I64:
    return INT64_MAX;
  default:
    return 0;
  }
}

/* ---- Uniquing ------------------------------------------------------------ */

static uint64_t hash_type(const qir_type *t) {
  uint64_t h = qir_hash_mix(t->kind, t->scalar);
  if (t->kind == QIR_TYPE_QUANT) {
    h = qir_hash_mix(h, (uint64_t)(int64_t)t->axis);
    h = qir_hash_mix(h, t->nparams);
    h = qir_hash_mix(h, qir_hash_bytes(t->scales, t->nparams * sizeof(double)));
    if (t->zero_points)
      h = qir_hash_mix(
          h, qir_hash_bytes(t->zero_points, t->nparams * sizeof(int64_t)));
    h = qir_hash_mix(h, (uint64_t)t->qmin);
    h = qir_hash_mix(h, (uint64_t)t->qmax);
  } else if (t->kind == QIR_TYPE_TENSOR) {
    h = qir_hash_mix(h, (uint64_t)(uintptr_t)t->elem);
    h = qir_hash_mix(h, t->rank);
    h = qir_hash_mix(h, qir_hash_bytes(t->dims, t->rank * sizeof(int64_t)));
  }
  return h;
}

static bool all_zero(const int64_t *v, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (v[i])
      return false;
  return true;
}

static bool zero_points_eq(const int64_t *a, const int64_t *b, unsigned n) {
  if (a && b)
    return memcmp(a, b, n * sizeof *a) == 0;
  return all_zero(a ? a : b, n);
}

/* memcmp that accepts NULL for empty arrays. */
static bool same_bytes(const void *a, const void *b, size_t n) {
  return n == 0 || memcmp(a, b, n) == 0;
}

static bool type_eq(const void *item, const void *key) {
  const qir_type *a = item, *b = key;
  if (a->kind != b->kind || a->scalar != b->scalar)
    return false;
  if (a->kind == QIR_TYPE_QUANT)
    return a->axis == b->axis && a->nparams == b->nparams &&
           same_bytes(a->scales, b->scales, a->nparams * sizeof(double)) &&
           zero_points_eq(a->zero_points, b->zero_points, a->nparams) &&
           a->qmin == b->qmin && a->qmax == b->qmax;
  if (a->kind == QIR_TYPE_TENSOR)
    return a->elem == b->elem && a->rank == b->rank &&
           same_bytes(a->dims, b->dims, a->rank * sizeof(int64_t));
  return true;
}

/* Every type is allocated with its text form, made once when the type is
 * created, so printing a type is a copy. */
typedef struct type_impl {
  qir_type type;
  const char *text;
  size_t len;
} type_impl;

static void format_type_uncached(char *buf, size_t size, const qir_type *t,
                                 size_t *len);

/* Returns the unique type equal to `key`, storing a copy (with its arrays
 * in the arena) on first sight.  Quant keys have their zero points
 * normalized (NULL when all zero) so hashing agrees with equality. */
static const qir_type *unique_type(qir_context *ctx, const qir_type *key) {
  qir_htab *tab = qir_context_type_table(ctx);
  uint64_t h = hash_type(key);
  const qir_type *found = qir_htab_find(tab, h, type_eq, key);
  if (found)
    return found;
  type_impl *impl = qir_arena_alloc(ctx, sizeof *impl);
  qir_type *t = &impl->type;
  *t = *key;
  t->hash = h;
  if (t->kind == QIR_TYPE_QUANT) {
    t->scales = qir_arena_dup(ctx, key->scales, t->nparams * sizeof(double));
    if (key->zero_points)
      t->zero_points =
          qir_arena_dup(ctx, key->zero_points, t->nparams * sizeof(int64_t));
    else
      t->zero_points = qir_arena_alloc(ctx, t->nparams * sizeof(int64_t));
  } else if (t->kind == QIR_TYPE_TENSOR) {
    t->dims = qir_arena_dup(ctx, key->dims, t->rank * sizeof(int64_t));
  }
  char small[256];
  size_t len;
  format_type_uncached(small, sizeof small, t, &len);
  char *text = qir_arena_alloc(ctx, len + 1);
  if (len < sizeof small)
    memcpy(text, small, len + 1);
  else
    format_type_uncached(text, len + 1, t, &len);
  impl->text = text;
  impl->len = len;
  qir_htab_insert(tab, h, t);
  return t;
}

const qir_type *qir_scalar_type(qir_context *ctx, qir_scalar s) {
  if (!scalar_ok(s))
    qir_die("bad scalar %d", (int)s);
  const qir_type **cache = qir_context_scalar_types(ctx);
  if (!cache[s]) {
    qir_type key;
    memset(&key, 0, sizeof key);
    key.kind = QIR_TYPE_SCALAR;
    key.scalar = s;
    key.axis = -1;
    cache[s] = unique_type(ctx, &key);
  }
  return cache[s];
}

/* ---- Quantized types -------------------------------------------------- */

static bool is_quant_storage(qir_scalar s) {
  return s == QIR_I8 || s == QIR_U8 || s == QIR_I16 || s == QIR_U16 ||
         s == QIR_I32;
}

static bool check_quant_range(qir_context *ctx, qir_loc loc, qir_scalar s,
                              int64_t qmin, int64_t qmax) {
  if (qmin < qir_scalar_min(s) || qmax > qir_scalar_max(s)) {
    qir_emit_error(ctx, loc,
                   "quantized range %" PRId64 ":%" PRId64
                   " does not fit the storage type %s",
                   qmin, qmax, qir_scalar_name(s));
    return false;
  }
  if (qmin > qmax) {
    qir_emit_error(ctx, loc, "quantized range %" PRId64 ":%" PRId64 " is empty",
                   qmin, qmax);
    return false;
  }
  return true;
}

static bool check_quant_params(qir_context *ctx, qir_loc loc, unsigned n,
                               const double *scales, const int64_t *zps,
                               int64_t qmin, int64_t qmax) {
  for (unsigned i = 0; i < n; i++) {
    if (!(scales[i] > 0) || !isfinite(scales[i])) {
      char buf[40];
      qir_format_double(scales[i], buf, sizeof buf);
      qir_emit_error(ctx, loc,
                     "quantized scale must be positive and finite, not %s",
                     buf);
      return false;
    }
    int64_t zp = zps ? zps[i] : 0;
    if (zp < qmin || zp > qmax) {
      qir_emit_error(ctx, loc,
                     "quantized zero point %" PRId64
                     " is outside the range %" PRId64 ":%" PRId64,
                     zp, qmin, qmax);
      return false;
    }
  }
  return true;
}

static bool check_quant_shape(qir_context *ctx, qir_loc loc, int axis,
                              unsigned nparams) {
  if (axis < -1) {
    qir_emit_error(ctx, loc, "quantized axis must be -1 or a dimension, not %d",
                   axis);
    return false;
  }
  if (nparams == 0) {
    qir_emit_error(ctx, loc, "quantized type needs at least one scale");
    return false;
  }
  if (axis == -1 && nparams != 1) {
    qir_emit_error(ctx, loc,
                   "per-tensor quantized type needs one scale, not %u",
                   nparams);
    return false;
  }
  return true;
}

const qir_type *qir_quant_type(qir_context *ctx, qir_loc loc,
                               qir_scalar storage, int axis, unsigned nparams,
                               const double *scales,
                               const int64_t *zero_points, int64_t qmin,
                               int64_t qmax) {
  if (!is_quant_storage(storage)) {
    qir_emit_error(ctx, loc,
                   "quantized storage type must be an integer of 8 to 32 "
                   "bits, not %s",
                   qir_scalar_name(storage));
    return NULL;
  }
  if (!check_quant_shape(ctx, loc, axis, nparams) ||
      !check_quant_range(ctx, loc, storage, qmin, qmax) ||
      !check_quant_params(ctx, loc, nparams, scales, zero_points, qmin, qmax))
    return NULL;
  qir_type key;
  memset(&key, 0, sizeof key);
  key.kind = QIR_TYPE_QUANT;
  key.scalar = storage;
  key.axis = axis;
  key.nparams = nparams;
  key.scales = scales;
  key.zero_points =
      zero_points && !all_zero(zero_points, nparams) ? zero_points : NULL;
  key.qmin = qmin;
  key.qmax = qmax;
  return unique_type(ctx, &key);
}

const qir_type *qir_quant_type_simple(qir_context *ctx, qir_scalar storage,
                                      double scale, int64_t zero_point) {
  return qir_quant_type(ctx, qir_loc_unknown(), storage, -1, 1, &scale,
                        &zero_point, qir_scalar_min(storage),
                        qir_scalar_max(storage));
}

/* ---- Tensor types ------------------------------------------------------ */

const qir_type *qir_tensor_type(qir_context *ctx, const qir_type *elem,
                                unsigned rank, const int64_t *dims) {
  if (!elem || elem->kind == QIR_TYPE_TENSOR || rank > QIR_MAX_RANK)
    return NULL;
  for (unsigned i = 0; i < rank; i++)
    if (dims[i] < 0 && dims[i] != QIR_DYN)
      return NULL;
  qir_type key;
  memset(&key, 0, sizeof key);
  key.kind = QIR_TYPE_TENSOR;
  key.scalar = elem->scalar;
  key.axis = -1;
  key.elem = elem;
  key.rank = rank;
  key.dims = dims;
  return unique_type(ctx, &key);
}

const qir_type *qir_tensor_of(qir_context *ctx, qir_scalar s, unsigned rank,
                              const int64_t *dims) {
  return qir_tensor_type(ctx, qir_scalar_type(ctx, s), rank, dims);
}

const qir_type *qir_tensor_with_elem(qir_context *ctx, const qir_type *t,
                                     const qir_type *elem) {
  if (!qir_type_is_tensor(t))
    return NULL;
  return qir_tensor_type(ctx, elem, t->rank, t->dims);
}

const qir_type *qir_tensor_with_dims(qir_context *ctx, const qir_type *t,
                                     unsigned rank, const int64_t *dims) {
  if (!qir_type_is_tensor(t))
    return NULL;
  return qir_tensor_type(ctx, t->elem, rank, dims);
}

bool qir_tensor_is_static(const qir_type *t) {
  if (!qir_type_is_tensor(t))
    return false;
  for (unsigned i = 0; i < t->rank; i++)
    if (t->dims[i] < 0)
      return false;
  return true;
}

int64_t qir_tensor_num_elements(const qir_type *t) {
  if (!qir_type_is_tensor(t))
    return -1;
  int64_t n = 1;
  for (unsigned i = 0; i < t->rank; i++) {
    int64_t d = t->dims[i];
    if (d < 0)
      return -1;
    if (d && n > INT64_MAX / d)
      return -1;
    n *= d;
  }
  return n;
}

int64_t qir_tensor_num_bytes(const qir_type *t) {
  int64_t n = qir_tensor_num_elements(t);
  int64_t size = (int64_t)qir_scalar_size(t ? t->scalar : QIR_F32);
  if (n < 0 || (n && n > INT64_MAX / size))
    return -1;
  return n * size;
}

/* ---- Floats: the shortest text that reads back bit-exact ----------------- */

static int format_special(double v, char *buf, size_t n) {
  if (isnan(v))
    return snprintf(buf, n, "nan");
  return snprintf(buf, n, v < 0 ? "-inf" : "inf");
}

/* Whether `text` reads back as exactly v (as a double, or as a float when
 * is_float). */
static bool reads_back(const char *text, double v, bool is_float) {
  if (is_float)
    return strtof(text, NULL) == (float)v;
  return strtod(text, NULL) == v;
}

/* Writes v in %e form with the fewest significant digits that read back
 * (at most max_digits, which always do) into tmp; returns that count.
 * More digits never read back worse (the shorter string is one of the
 * longer candidates), so after the common short forms a binary search
 * finds the shortest. */
static int shortest_e_form(double v, bool is_float, int max_digits, char *tmp,
                           size_t size) {
  for (int d = 1; d <= 3; d++) {
    snprintf(tmp, size, "%.*e", d - 1, v);
    if (reads_back(tmp, v, is_float))
      return d;
  }
  int lo = 4, hi = max_digits;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    snprintf(tmp, size, "%.*e", mid - 1, v);
    if (reads_back(tmp, v, is_float))
      hi = mid;
    else
      lo = mid + 1;
  }
  snprintf(tmp, size, "%.*e", lo - 1, v);
  return lo;
}

/* Lays out sign, significant digits and decimal exponent like Python's
 * repr: positional when -4 <= exp < ndigits (no invented zeros), else
 * d.ddde+XX. */
static int layout_digits(bool neg, const char *dig, int nd, int exp,
                         char *out) {
  char *p = out;
  if (neg)
    *p++ = '-';
  if (exp < -4 || exp >= nd) {
    *p++ = dig[0];
    if (nd > 1) {
      *p++ = '.';
      memcpy(p, dig + 1, (size_t)nd - 1);
      p += nd - 1;
    }
    p += sprintf(p, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  } else if (exp < 0) {
    memcpy(p, "0.", 2);
    p += 2;
    memset(p, '0', (size_t)(-exp - 1));
    p += -exp - 1;
    memcpy(p, dig, (size_t)nd);
    p += nd;
  } else {
    memcpy(p, dig, (size_t)exp + 1);
    p += exp + 1;
    *p++ = '.';
    if (nd > exp + 1) {
      memcpy(p, dig + exp + 1, (size_t)(nd - exp - 1));
      p += nd - exp - 1;
    } else {
      *p++ = '0';
    }
  }
  *p = '\0';
  return (int)(p - out);
}

/* Integers small enough that every one is exact: digits and ".0", with no
 * conversion round trips (the common 0.0, 1.0, 6.0 of attributes). */
static bool is_small_integer(double v, bool is_float) {
  double limit = is_float ? 16777216.0 : 9007199254740992.0;
  return v > -limit && v < limit && v == (double)(int64_t)v;
}

static int format_finite(double v, bool is_float, char *out) {
  if (is_small_integer(v, is_float))
    return sprintf(out, "%s%" PRId64 ".0", signbit(v) && v == 0 ? "-" : "",
                   (int64_t)v);
  char tmp[64];
  int nd = shortest_e_form(v, is_float, is_float ? 9 : 17, tmp, sizeof tmp);
  /* tmp is [-]d[.ddd]e(+|-)XX */
  const char *t = tmp;
  bool neg = *t == '-';
  t += neg;
  char dig[24];
  int k = 0;
  for (; *t != 'e'; t++)
    if (*t != '.')
      dig[k++] = *t;
  return layout_digits(neg, dig, nd, atoi(t + 1), out);
}

static int format_shortest(double v, bool is_float, char *buf, size_t n) {
  if (!isfinite(v))
    return format_special(v, buf, n);
  char out[64];
  int len = format_finite(v, is_float, out);
  return snprintf(buf, n, "%s", out) < 0 ? -1 : len;
}

int qir_format_double(double v, char *buf, size_t n) {
  return format_shortest(v, false, buf, n);
}

int qir_format_float(float v, char *buf, size_t n) {
  return format_shortest(v, true, buf, n);
}

/* ---- Printing types -------------------------------------------------------
 * A bounded string builder that, like snprintf, counts what it could not
 * store. */

typedef struct sbuf {
  char *buf;
  size_t size, len;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->len < b->size) {
    size_t room = b->size - b->len - 1;
    memcpy(b->buf + b->len, s, n < room ? n : room);
  }
  b->len += n;
  if (b->size)
    b->buf[b->len < b->size ? b->len : b->size - 1] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_i64(sbuf *b, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  sb_put(b, tmp, (size_t)n);
}

static void sb_double(sbuf *b, double v) {
  char tmp[40];
  int n = qir_format_double(v, tmp, sizeof tmp);
  sb_put(b, tmp, (size_t)n);
}

static void sb_scale_zp(sbuf *b, double scale, int64_t zp) {
  sb_double(b, scale);
  if (zp) {
    sb_put(b, ":", 1);
    sb_i64(b, zp);
  }
}

static void format_quant(sbuf *b, const qir_type *t) {
  sb_str(b, "!q.");
  sb_str(b, qir_scalar_name(t->scalar));
  sb_put(b, "<", 1);
  if (t->axis < 0) {
    sb_scale_zp(b, t->scales[0], t->zero_points ? t->zero_points[0] : 0);
  } else {
    sb_str(b, "axis=");
    sb_i64(b, t->axis);
    sb_str(b, ", [");
    for (unsigned i = 0; i < t->nparams; i++) {
      if (i)
        sb_str(b, ", ");
      sb_scale_zp(b, t->scales[i], t->zero_points ? t->zero_points[i] : 0);
    }
    sb_put(b, "]", 1);
  }
  if (t->qmin != qir_scalar_min(t->scalar) ||
      t->qmax != qir_scalar_max(t->scalar)) {
    sb_str(b, ", range=");
    sb_i64(b, t->qmin);
    sb_put(b, ":", 1);
    sb_i64(b, t->qmax);
  }
  sb_put(b, ">", 1);
}

static void format_type(sbuf *b, const qir_type *t) {
  if (!t) {
    sb_str(b, "<<null type>>");
    return;
  }
  switch (t->kind) {
  case QIR_TYPE_SCALAR:
    sb_str(b, qir_scalar_name(t->scalar));
    break;
  case QIR_TYPE_QUANT:
    format_quant(b, t);
    break;
  case QIR_TYPE_TENSOR:
    sb_str(b, "tensor<");
    for (unsigned i = 0; i < t->rank; i++) {
      if (t->dims[i] == QIR_DYN)
        sb_put(b, "?", 1);
      else
        sb_i64(b, t->dims[i]);
      sb_put(b, "x", 1);
    }
    sb_put(b, ((const type_impl *)t->elem)->text,
           ((const type_impl *)t->elem)->len);
    sb_put(b, ">", 1);
    break;
  }
}

static void format_type_uncached(char *buf, size_t size, const qir_type *t,
                                 size_t *len) {
  sbuf b = {buf, size, 0};
  if (size)
    buf[0] = '\0';
  format_type(&b, t);
  *len = b.len;
}

int qir_type_format(const qir_type *t, char *buf, size_t size) {
  if (!t) {
    size_t len;
    format_type_uncached(buf, size, t, &len);
    return (int)len;
  }
  const type_impl *impl = (const type_impl *)t;
  if (size) {
    size_t n = impl->len < size ? impl->len : size - 1;
    memcpy(buf, impl->text, n);
    buf[n] = '\0';
  }
  return (int)impl->len;
}

void qir_type_print(FILE *out, const qir_type *t) {
  if (!t) {
    fputs("<<null type>>", out);
    return;
  }
  const type_impl *impl = (const type_impl *)t;
  fwrite(impl->text, 1, impl->len, out);
}

/* The cached text of a type (NUL-terminated) and its length. */
const char *qir_type_text(const qir_type *t, size_t *len) {
  static const char null_text[] = "<<null type>>";
  if (!t) {
    if (len)
      *len = sizeof null_text - 1;
    return null_text;
  }
  const type_impl *impl = (const type_impl *)t;
  if (len)
    *len = impl->len;
  return impl->text;
}
