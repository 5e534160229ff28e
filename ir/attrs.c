/* ir/attrs.c - attributes: uniqued scalars, strings, symbols and types;
 * arrays and dense tensors in the arena; half-float conversions. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/internal.h"

/* ---- f16 / bf16 ----------------------------------------------------------- */

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

float qir_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  if (exp == 0x1f) /* inf or NaN (payload kept, quiet bit set) */
    return bits_f32(sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0));
  if (exp == 0) {
    /* Zero or subnormal: man * 2^-24, exact in float. */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
  }
  return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t qir_f32_to_f16(float f) {
  uint32_t u = f32_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t exp = (u >> 23) & 0xff;
  uint32_t man = u & 0x7fffff;
  if (exp == 0xff) /* inf, or NaN kept quiet */
    return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
  int e = (int)exp - 127 + 15;
  if (e >= 0x1f)
    return sign | 0x7c00;
  if (e <= 0) {
    /* Subnormal half (or zero): shift the full significand down. */
    if (e < -10)
      return sign;
    uint32_t m = man | 0x800000;
    unsigned shift = (unsigned)(14 - e);
    uint32_t half = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      half++;
    return sign | (uint16_t)half;
  }
  uint32_t half = ((uint32_t)e << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    half++; /* may carry into the exponent, up to inf: still right */
  return sign | (uint16_t)half;
}

float qir_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t qir_f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) /* NaN: keep it quiet */
    return (uint16_t)((u >> 16) | 0x40);
  uint32_t lsb = (u >> 16) & 1;
  u += 0x7fff + lsb;
  return (uint16_t)(u >> 16);
}

/* double -> float, rounding to nearest even, overflowing to inf without
 * the undefined out-of-range conversion. */
static float f64_to_f32(double v) {
  const double inf_from = 0x1.ffffffp127; /* FLT_MAX + half an ulp: a tie
                                             that rounds to even, inf */
  if (v >= inf_from)
    return INFINITY;
  if (v <= -inf_from)
    return -INFINITY;
  if (v > FLT_MAX)
    return FLT_MAX;
  if (v < -FLT_MAX)
    return -FLT_MAX;
  return (float)v;
}

/* double -> float rounding to odd, so a second rounding to f16/bf16 gives
 * the correctly rounded result of the double. */
static float f64_to_f32_odd(double v) {
  float f = f64_to_f32(v);
  if (!isfinite(f) || (double)f == v)
    return f;
  if (fabs((double)f) > fabs(v))
    f = nextafterf(f, 0.0f);
  return bits_f32(f32_bits(f) | 1);
}

/* ---- Uniqued attributes --------------------------------------------------- */

static uint64_t attr_payload_hash(const qir_attr *a) {
  uint64_t h = a->kind;
  switch (a->kind) {
  case QIR_ATTR_INT:
    return qir_hash_mix(h, (uint64_t)a->u.i);
  case QIR_ATTR_FLOAT: {
    uint64_t bits;
    memcpy(&bits, &a->u.f, 8);
    return qir_hash_mix(h, bits);
  }
  case QIR_ATTR_BOOL:
    return qir_hash_mix(h, a->u.b);
  case QIR_ATTR_STRING:
    return qir_hash_mix(h, qir_hash_bytes(a->u.str.data, a->u.str.len));
  case QIR_ATTR_SYMBOL:
    return qir_hash_mix(h, qir_hash_bytes(a->u.symbol, strlen(a->u.symbol)));
  case QIR_ATTR_TYPE:
    return qir_hash_mix(h, a->u.type ? a->u.type->hash : 0);
  case QIR_ATTR_ARRAY:
    h = qir_hash_mix(h, a->u.array.n);
    for (unsigned i = 0; i < a->u.array.n; i++)
      h = qir_hash_mix(h, qir_attr_hash(a->u.array.elems[i]));
    return h;
  case QIR_ATTR_DENSE:
    h = qir_hash_mix(h, a->u.dense.type ? a->u.dense.type->hash : 0);
    h = qir_hash_mix(h, a->u.dense.splat);
    return qir_hash_mix(h, qir_hash_bytes(a->u.dense.data, a->u.dense.nbytes));
  }
  return h;
}

static bool float_bits_eq(double a, double b) { return !memcmp(&a, &b, 8); }

bool qir_attr_equal(const qir_attr *a, const qir_attr *b) {
  if (a == b)
    return true;
  if (!a || !b || a->kind != b->kind)
    return false;
  switch (a->kind) {
  case QIR_ATTR_INT:
    return a->u.i == b->u.i;
  case QIR_ATTR_FLOAT:
    return float_bits_eq(a->u.f, b->u.f);
  case QIR_ATTR_BOOL:
    return a->u.b == b->u.b;
  case QIR_ATTR_STRING:
    return a->u.str.len == b->u.str.len &&
           !memcmp(a->u.str.data, b->u.str.data, a->u.str.len);
  case QIR_ATTR_SYMBOL:
    return !strcmp(a->u.symbol, b->u.symbol);
  case QIR_ATTR_TYPE:
    return a->u.type == b->u.type;
  case QIR_ATTR_ARRAY:
    if (a->u.array.n != b->u.array.n)
      return false;
    for (unsigned i = 0; i < a->u.array.n; i++)
      if (!qir_attr_equal(a->u.array.elems[i], b->u.array.elems[i]))
        return false;
    return true;
  case QIR_ATTR_DENSE:
    return a->u.dense.type == b->u.dense.type &&
           a->u.dense.splat == b->u.dense.splat &&
           a->u.dense.nbytes == b->u.dense.nbytes &&
           !memcmp(a->u.dense.data, b->u.dense.data, a->u.dense.nbytes);
  }
  return false;
}

uint64_t qir_attr_hash(const qir_attr *a) {
  return a ? attr_payload_hash(a) : 0;
}

static bool attr_eq(const void *item, const void *key) {
  return qir_attr_equal(item, key);
}

static const qir_attr *unique_attr(qir_context *ctx, const qir_attr *key) {
  qir_htab *tab = qir_context_attr_table(ctx);
  uint64_t h = attr_payload_hash(key);
  const qir_attr *found = qir_htab_find(tab, h, attr_eq, key);
  if (found)
    return found;
  qir_attr *a = qir_arena_dup(ctx, key, sizeof *a);
  qir_htab_insert(tab, h, a);
  return a;
}

static qir_attr attr_key(qir_attr_kind kind) {
  qir_attr a;
  memset(&a, 0, sizeof a);
  a.kind = kind;
  return a;
}

const qir_attr *qir_attr_int(qir_context *ctx, int64_t v) {
  qir_attr k = attr_key(QIR_ATTR_INT);
  k.u.i = v;
  return unique_attr(ctx, &k);
}

const qir_attr *qir_attr_float(qir_context *ctx, double v) {
  qir_attr k = attr_key(QIR_ATTR_FLOAT);
  k.u.f = v;
  return unique_attr(ctx, &k);
}

const qir_attr *qir_attr_bool(qir_context *ctx, bool v) {
  qir_attr k = attr_key(QIR_ATTR_BOOL);
  k.u.b = v;
  return unique_attr(ctx, &k);
}

const qir_attr *qir_attr_string(qir_context *ctx, const char *s, size_t len) {
  qir_attr k = attr_key(QIR_ATTR_STRING);
  k.u.str.data = qir_intern(ctx, s, len);
  k.u.str.len = len;
  return unique_attr(ctx, &k);
}

const qir_attr *qir_attr_cstr(qir_context *ctx, const char *s) {
  return qir_attr_string(ctx, s, strlen(s));
}

const qir_attr *qir_attr_symbol(qir_context *ctx, const char *name) {
  qir_attr k = attr_key(QIR_ATTR_SYMBOL);
  k.u.symbol = qir_intern_cstr(ctx, name);
  return unique_attr(ctx, &k);
}

const qir_attr *qir_attr_type(qir_context *ctx, const qir_type *t) {
  qir_attr k = attr_key(QIR_ATTR_TYPE);
  k.u.type = t;
  return unique_attr(ctx, &k);
}

/* ---- Arrays --------------------------------------------------------------- */

const qir_attr *qir_attr_array(qir_context *ctx, unsigned n,
                               const qir_attr *const *elems) {
  qir_attr *a = qir_arena_alloc(ctx, sizeof *a);
  a->kind = QIR_ATTR_ARRAY;
  a->u.array.n = n;
  a->u.array.elems = qir_arena_dup(ctx, elems, n * sizeof *elems);
  return a;
}

const qir_attr *qir_attr_ints(qir_context *ctx, unsigned n, const int64_t *v) {
  const qir_attr **elems = qir_arena_alloc(ctx, n * sizeof *elems);
  for (unsigned i = 0; i < n; i++)
    elems[i] = qir_attr_int(ctx, v[i]);
  qir_attr *a = qir_arena_alloc(ctx, sizeof *a);
  a->kind = QIR_ATTR_ARRAY;
  a->u.array.n = n;
  a->u.array.elems = elems;
  return a;
}

const qir_attr *qir_attr_floats(qir_context *ctx, unsigned n,
                                const double *v) {
  const qir_attr **elems = qir_arena_alloc(ctx, n * sizeof *elems);
  for (unsigned i = 0; i < n; i++)
    elems[i] = qir_attr_float(ctx, v[i]);
  qir_attr *a = qir_arena_alloc(ctx, sizeof *a);
  a->kind = QIR_ATTR_ARRAY;
  a->u.array.n = n;
  a->u.array.elems = elems;
  return a;
}

int qir_attr_get_ints(const qir_attr *a, int64_t *out, unsigned max) {
  if (!a)
    return -1;
  if (a->kind == QIR_ATTR_INT) {
    if (max < 1)
      return -1;
    out[0] = a->u.i;
    return 1;
  }
  if (a->kind != QIR_ATTR_ARRAY || a->u.array.n > max)
    return -1;
  for (unsigned i = 0; i < a->u.array.n; i++) {
    const qir_attr *e = a->u.array.elems[i];
    if (e->kind != QIR_ATTR_INT)
      return -1;
    out[i] = e->u.i;
  }
  return (int)a->u.array.n;
}

/* A float or an int, as a double. */
static bool attr_number(const qir_attr *a, double *out) {
  if (a->kind == QIR_ATTR_FLOAT)
    *out = a->u.f;
  else if (a->kind == QIR_ATTR_INT)
    *out = (double)a->u.i;
  else
    return false;
  return true;
}

int qir_attr_get_floats(const qir_attr *a, double *out, unsigned max) {
  if (!a)
    return -1;
  if (a->kind != QIR_ATTR_ARRAY)
    return max >= 1 && attr_number(a, out) ? 1 : -1;
  if (a->u.array.n > max)
    return -1;
  for (unsigned i = 0; i < a->u.array.n; i++)
    if (!attr_number(a->u.array.elems[i], &out[i]))
      return -1;
  return (int)a->u.array.n;
}

/* ---- Dense tensors ------------------------------------------------------- */

static qir_attr *dense_new(qir_context *ctx, const qir_type *type,
                           const void *data, size_t nbytes, bool splat) {
  qir_attr *a = qir_arena_alloc(ctx, sizeof *a);
  a->kind = QIR_ATTR_DENSE;
  a->u.dense.type = type;
  a->u.dense.data = qir_arena_dup(ctx, data, nbytes);
  a->u.dense.nbytes = nbytes;
  a->u.dense.splat = splat;
  return a;
}

const qir_attr *qir_attr_dense(qir_context *ctx, qir_loc loc,
                               const qir_type *type, const void *data,
                               size_t nbytes) {
  char tbuf[256];
  qir_type_format(type, tbuf, sizeof tbuf);
  if (!qir_tensor_is_static(type)) {
    qir_emit_error(ctx, loc, "dense attribute needs a static tensor type, not %s",
                   tbuf);
    return NULL;
  }
  int64_t need = qir_tensor_num_bytes(type);
  if (need < 0 || (uint64_t)need != nbytes) {
    qir_emit_error(ctx, loc, "dense data has %zu bytes but %s needs %lld",
                   nbytes, tbuf, (long long)need);
    return NULL;
  }
  return dense_new(ctx, type, data, nbytes, false);
}

const qir_attr *qir_attr_dense_splat(qir_context *ctx, const qir_type *type,
                                     const void *elem) {
  if (!qir_tensor_is_static(type) || qir_tensor_num_bytes(type) < 0)
    qir_die("dense splat needs a static tensor type");
  return dense_new(ctx, type, elem, qir_scalar_size(type->scalar), true);
}

static uint64_t f64_to_u64_wrap(double v) {
  /* Integers wrap as a C cast from int64 would; a double outside int64
   * (or NaN) has no such cast, so it saturates first. */
  if (isnan(v))
    return 0;
  if (v >= 9223372036854775808.0)
    return (uint64_t)INT64_MAX;
  if (v < -9223372036854775808.0)
    return (uint64_t)INT64_MIN;
  return (uint64_t)(int64_t)v;
}

/* Stores one element of scalar `s` at p from a double or an int64. */
static void store_elem(qir_scalar s, void *p, double f, uint64_t i,
                       bool from_float) {
  if (qir_scalar_is_float(s) && !from_float)
    f = (double)(int64_t)i;
  if (!qir_scalar_is_float(s) && from_float)
    i = f64_to_u64_wrap(f);
  switch (s) {
  case QIR_F64:
    memcpy(p, &f, 8);
    break;
  case QIR_F32: {
    float v = f64_to_f32(f);
    memcpy(p, &v, 4);
    break;
  }
  case QIR_F16: {
    uint16_t v = qir_f32_to_f16(f64_to_f32_odd(f));
    memcpy(p, &v, 2);
    break;
  }
  case QIR_BF16: {
    uint16_t v = qir_f32_to_bf16(f64_to_f32_odd(f));
    memcpy(p, &v, 2);
    break;
  }
  case QIR_I1:
    *(uint8_t *)p = i != 0;
    break;
  case QIR_I8:
  case QIR_U8:
    *(uint8_t *)p = (uint8_t)i;
    break;
  case QIR_I16:
  case QIR_U16: {
    uint16_t v = (uint16_t)i;
    memcpy(p, &v, 2);
    break;
  }
  case QIR_I32: {
    uint32_t v = (uint32_t)i;
    memcpy(p, &v, 4);
    break;
  }
  default:
    memcpy(p, &i, 8);
    break;
  }
}

static const qir_attr *dense_convert(qir_context *ctx, const qir_type *type,
                                     const double *fv, const int64_t *iv) {
  int64_t n = qir_tensor_num_elements(type);
  int64_t nbytes = qir_tensor_num_bytes(type);
  if (!qir_tensor_is_static(type) || n < 0 || nbytes < 0)
    qir_die("dense attribute needs a static tensor type");
  size_t size = qir_scalar_size(type->scalar);
  unsigned char *data = qir_arena_alloc(ctx, (size_t)nbytes);
  for (int64_t k = 0; k < n; k++)
    store_elem(type->scalar, data + k * size, fv ? fv[k] : 0,
               iv ? (uint64_t)iv[k] : 0, fv != NULL);
  qir_attr *a = qir_arena_alloc(ctx, sizeof *a);
  a->kind = QIR_ATTR_DENSE;
  a->u.dense.type = type;
  a->u.dense.data = data;
  a->u.dense.nbytes = (size_t)nbytes;
  return a;
}

const qir_attr *qir_attr_dense_from_f64(qir_context *ctx, const qir_type *type,
                                        const double *v) {
  return dense_convert(ctx, type, v, NULL);
}

const qir_attr *qir_attr_dense_from_i64(qir_context *ctx, const qir_type *type,
                                        const int64_t *v) {
  return dense_convert(ctx, type, NULL, v);
}

const qir_attr *qir_attr_dense_with_resource(qir_context *ctx,
                                             const qir_attr *dense,
                                             const char *name) {
  QIR_ASSERT(dense && dense->kind == QIR_ATTR_DENSE);
  qir_attr *a = qir_arena_dup(ctx, dense, sizeof *a);
  a->u.dense.resource = name ? qir_intern_cstr(ctx, name) : NULL;
  return a;
}

int64_t qir_dense_num_elements(const qir_attr *a) {
  if (!a || a->kind != QIR_ATTR_DENSE)
    return -1;
  return qir_tensor_num_elements(a->u.dense.type);
}

static const void *dense_elem_ptr(const qir_attr *a, int64_t i) {
  QIR_ASSERT(a && a->kind == QIR_ATTR_DENSE);
  QIR_ASSERT(i >= 0 && i < qir_dense_num_elements(a));
  size_t size = qir_scalar_size(a->u.dense.type->scalar);
  if (a->u.dense.splat)
    i = 0;
  return (const unsigned char *)a->u.dense.data + (size_t)i * size;
}

/* Element i as a double (is_int false) or an int64 (is_int true). */
static void load_elem(qir_scalar s, const void *p, double *f, int64_t *i,
                      bool *is_int) {
  *is_int = true;
  switch (s) {
  case QIR_F64:
    memcpy(f, p, 8);
    *is_int = false;
    return;
  case QIR_F32: {
    float v;
    memcpy(&v, p, 4);
    *f = v;
    *is_int = false;
    return;
  }
  case QIR_F16:
  case QIR_BF16: {
    uint16_t v;
    memcpy(&v, p, 2);
    *f = s == QIR_F16 ? qir_f16_to_f32(v) : qir_bf16_to_f32(v);
    *is_int = false;
    return;
  }
  case QIR_I1:
    *i = *(const uint8_t *)p != 0;
    return;
  case QIR_I8:
    *i = *(const int8_t *)p;
    return;
  case QIR_U8:
    *i = *(const uint8_t *)p;
    return;
  case QIR_I16: {
    int16_t v;
    memcpy(&v, p, 2);
    *i = v;
    return;
  }
  case QIR_U16: {
    uint16_t v;
    memcpy(&v, p, 2);
    *i = v;
    return;
  }
  case QIR_I32: {
    int32_t v;
    memcpy(&v, p, 4);
    *i = v;
    return;
  }
  default:
    memcpy(i, p, 8);
    return;
  }
}

double qir_dense_get_f64(const qir_attr *a, int64_t i) {
  double f = 0;
  int64_t n = 0;
  bool is_int;
  load_elem(a->u.dense.type->scalar, dense_elem_ptr(a, i), &f, &n, &is_int);
  return is_int ? (double)n : f;
}

int64_t qir_dense_get_i64(const qir_attr *a, int64_t i) {
  double f = 0;
  int64_t n = 0;
  bool is_int;
  load_elem(a->u.dense.type->scalar, dense_elem_ptr(a, i), &f, &n, &is_int);
  return is_int ? n : (int64_t)f64_to_u64_wrap(f);
}
