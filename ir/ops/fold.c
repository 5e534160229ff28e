/* ir/ops/fold.c - constant folding of the elementwise ops, cast,
 * reductions and matmul.
 *
 * Floats compute in double and round once to the element type (exact for
 * + - * / and sqrt of f32, f16 and bf16); the transcendental functions of
 * f32 and narrower use the C library's float functions, like a float
 * kernel would.  Integers compute in 64 bits and wrap to their type;
 * integer division or remainder by zero does not fold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops/ops.h"

const qir_attr *qir_fold_make(qir_context *ctx, const qir_type *t,
                              const void *data) {
  int64_t n = qir_tensor_num_bytes(t);
  if (n < 0)
    return NULL;
  return qir_attr_dense(ctx, qir_loc_unknown(), t, data, (size_t)n);
}

static bool dense_is_quant(const qir_attr *a) {
  return qir_tensor_is_quant(a->u.dense.type);
}

/* Whether any result of op is declared with a quantized element type: a
 * computing op then has integer semantics this file does not fold. */
static bool results_quantized(const qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++)
    if (qir_tensor_is_quant(op->results[i].type))
      return true;
  return false;
}

/* Offset into a tensor of type `in` (broadcast to out_dims) of the output
 * element at linear index `lin`. */
static int64_t bcast_offset(const int64_t *out_dims, unsigned rank,
                            int64_t lin, const qir_type *in) {
  int64_t off = 0, stride = 1;
  for (unsigned k = rank; k-- > 0;) {
    int64_t c = lin % out_dims[k];
    lin /= out_dims[k];
    if (k >= rank - in->rank) {
      int64_t d = in->dims[k - (rank - in->rank)];
      off += (d == 1 ? 0 : c) * stride;
      stride *= d;
    }
  }
  return off;
}

typedef struct ewise {
  unsigned n;                   /* operands */
  const qir_attr *in[3];
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  int64_t count;
  bool splat;                   /* every operand a splat */
} ewise;

static bool ewise_init(qir_context *ctx, ewise *e,
                       const qir_attr *const *operands, unsigned n) {
  e->n = n;
  e->splat = true;
  for (unsigned i = 0; i < n; i++) {
    if (!operands[i])
      return false;
    e->in[i] = operands[i];
    e->splat &= operands[i]->u.dense.splat;
  }
  e->rank = 0;
  const qir_type *acc = e->in[0]->u.dense.type;
  for (unsigned i = 1; i < n; i++) {
    if (!qir_ops_broadcast(acc, e->in[i]->u.dense.type, e->dims, &e->rank))
      return false;
    acc = qir_tensor_with_dims(ctx, acc, e->rank, e->dims);
  }
  return true;
}

/* ---- Computed values --------------------------------------------------- */

/* float -> integer: truncate toward zero and saturate; NaN gives 0. */
static int64_t float_to_int(double v, qir_scalar s) {
  if (isnan(v))
    return 0;
  if (s == QIR_I1)
    return v != 0;
  double lo = (double)qir_scalar_min(s), hi = (double)qir_scalar_max(s);
  v = trunc(v);
  if (v <= lo)
    return qir_scalar_min(s);
  if (v >= hi)
    return qir_scalar_max(s);
  return (int64_t)v;
}

/* Values being computed, as doubles (floats) or as int64s. */
typedef struct values {
  int64_t n;
  bool is_float;
  double *f;
  int64_t *i;
} values;

static void values_init(values *v, int64_t n, bool is_float) {
  v->n = n;
  v->is_float = is_float;
  v->f = is_float ? qir_xcalloc((size_t)n + 1, sizeof *v->f) : NULL;
  v->i = is_float ? NULL : qir_xcalloc((size_t)n + 1, sizeof *v->i);
}

static void values_free(values *v) {
  free(v->f);
  free(v->i);
}

/* A dense of type t holding the values converted to t's element type
 * (floats round to nearest even, doubles into integers truncate and
 * saturate, integers wrap).  With `splat`, the one value fills t. */
static const qir_attr *values_dense(qir_context *ctx, const qir_type *t,
                                    bool splat, values *v) {
  const qir_type *dt = splat ? qir_tensor_type(ctx, t->elem, 0, NULL) : t;
  bool to_float = qir_scalar_is_float(t->scalar);
  if (to_float && !v->is_float) {
    v->f = qir_xcalloc((size_t)v->n + 1, sizeof *v->f);
    for (int64_t k = 0; k < v->n; k++)
      v->f[k] = (double)v->i[k];
  } else if (!to_float && v->is_float) {
    v->i = qir_xcalloc((size_t)v->n + 1, sizeof *v->i);
    for (int64_t k = 0; k < v->n; k++)
      v->i[k] = float_to_int(v->f[k], QIR_I64);
  }
  const qir_attr *a = to_float ? qir_attr_dense_from_f64(ctx, dt, v->f)
                               : qir_attr_dense_from_i64(ctx, dt, v->i);
  if (a && splat)
    a = qir_attr_dense_splat(ctx, t, qir_fold_elem(a, 0));
  return a;
}

/* ---- Elementwise binary ---------------------------------------------- */

static double max_f(double a, double b) {
  return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
}
static double min_f(double a, double b) {
  return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
}

static bool binary_f64(unsigned id, double a, double b, bool fmod_flag,
                       double *r) {
  switch (id) {
  case QIR_OP_ADD: *r = a + b; return true;
  case QIR_OP_SUB: *r = a - b; return true;
  case QIR_OP_MUL: *r = a * b; return true;
  case QIR_OP_DIV: *r = a / b; return true;
  case QIR_OP_POW: *r = pow(a, b); return true;
  case QIR_OP_MAX: *r = max_f(a, b); return true;
  case QIR_OP_MIN: *r = min_f(a, b); return true;
  case QIR_OP_PRELU: *r = a < 0 ? b * a : a; return true;
  case QIR_OP_MOD:
    *r = fmod(a, b);
    if (!fmod_flag && *r != 0 && (*r < 0) != (b < 0))
      *r += b;
    return true;
  case QIR_OP_EQUAL: *r = a == b; return true;
  case QIR_OP_LESS: *r = a < b; return true;
  case QIR_OP_LESS_EQUAL: *r = a <= b; return true;
  case QIR_OP_GREATER: *r = a > b; return true;
  case QIR_OP_GREATER_EQUAL: *r = a >= b; return true;
  }
  return false;
}

static bool ipow(int64_t a, int64_t b, int64_t *r) {
  if (b < 0)
    return false;
  uint64_t acc = 1, base = (uint64_t)a;
  for (; b; b >>= 1, base *= base)
    if (b & 1)
      acc *= base;
  *r = (int64_t)acc;
  return true;
}

static bool binary_i64(unsigned id, int64_t a, int64_t b, bool fmod_flag,
                       int64_t *r) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  switch (id) {
  case QIR_OP_ADD: *r = (int64_t)(ua + ub); return true;
  case QIR_OP_SUB: *r = (int64_t)(ua - ub); return true;
  case QIR_OP_MUL: *r = (int64_t)(ua * ub); return true;
  case QIR_OP_DIV:
    if (b == 0 || (a == INT64_MIN && b == -1))
      return false;
    *r = a / b;
    return true;
  case QIR_OP_MOD:
    if (b == 0 || (a == INT64_MIN && b == -1))
      return false;
    *r = a % b;
    if (!fmod_flag && *r != 0 && (*r < 0) != (b < 0))
      *r += b;
    return true;
  case QIR_OP_POW: return ipow(a, b, r);
  case QIR_OP_MAX: *r = a > b ? a : b; return true;
  case QIR_OP_MIN: *r = a < b ? a : b; return true;
  case QIR_OP_PRELU: *r = a < 0 ? (int64_t)(ub * ua) : a; return true;
  case QIR_OP_EQUAL: *r = a == b; return true;
  case QIR_OP_LESS: *r = a < b; return true;
  case QIR_OP_LESS_EQUAL: *r = a <= b; return true;
  case QIR_OP_GREATER: *r = a > b; return true;
  case QIR_OP_GREATER_EQUAL: *r = a >= b; return true;
  case QIR_OP_AND: *r = (a != 0) & (b != 0); return true;
  case QIR_OP_OR: *r = (a != 0) | (b != 0); return true;
  case QIR_OP_XOR: *r = (a != 0) ^ (b != 0); return true;
  }
  return false;
}

static bool is_compare(unsigned id) {
  return id == QIR_OP_EQUAL || id == QIR_OP_LESS || id == QIR_OP_LESS_EQUAL ||
         id == QIR_OP_GREATER || id == QIR_OP_GREATER_EQUAL;
}

static const qir_type *ewise_type(qir_context *ctx, const ewise *e,
                                  const qir_type *elem) {
  return qir_tensor_type(ctx, elem, e->rank, e->dims);
}

/* Element i of the broadcast result from the operands' elements. */
static bool binary_at(unsigned id, const ewise *e, int64_t i, bool fmod_flag,
                      values *v) {
  const qir_type *ta = e->in[0]->u.dense.type, *tb = e->in[1]->u.dense.type;
  int64_t oa = e->splat ? 0 : bcast_offset(e->dims, e->rank, i, ta);
  int64_t ob = e->splat ? 0 : bcast_offset(e->dims, e->rank, i, tb);
  if (v->is_float)
    return binary_f64(id, qir_dense_get_f64(e->in[0], oa),
                      qir_dense_get_f64(e->in[1], ob), fmod_flag, &v->f[i]);
  return binary_i64(id, qir_dense_get_i64(e->in[0], oa),
                    qir_dense_get_i64(e->in[1], ob), fmod_flag, &v->i[i]);
}

bool qir_fold_binary(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  ewise e;
  if (results_quantized(op) || !ewise_init(op->ctx, &e, operands, 2) ||
      dense_is_quant(e.in[0]) || dense_is_quant(e.in[1]))
    return false;
  const qir_type *ta = e.in[0]->u.dense.type, *tb = e.in[1]->u.dense.type;
  unsigned id = op->def->id;
  bool fmod_flag = qir_op_get_int(op, "fmod", 0) != 0 ||
                   qir_op_get_bool(op, "fmod", false);
  const qir_type *elem = is_compare(id) ? qir_scalar_type(op->ctx, QIR_I1)
                                        : ta->elem;
  const qir_type *t = ewise_type(op->ctx, &e, elem);
  int64_t n = e.splat ? 1 : qir_tensor_num_elements(t);
  bool as_float = qir_scalar_is_float(ta->scalar) ||
                  qir_scalar_is_float(tb->scalar);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS ||
      (as_float && !is_compare(id) && !qir_scalar_is_float(elem->scalar)))
    return false; /* (pow(int, float) is not worth a rule of its own) */
  values v;
  values_init(&v, n, as_float);
  bool ok = true;
  for (int64_t i = 0; ok && i < n; i++)
    ok = binary_at(id, &e, i, fmod_flag, &v);
  out[0] = ok ? values_dense(op->ctx, t, e.splat, &v) : NULL;
  values_free(&v);
  return out[0] != NULL;
}

/* ---- Elementwise unary ------------------------------------------------ */

typedef struct unary_params {
  double alpha, beta, gamma, lo, hi;
  bool gelu_tanh;
} unary_params;

static void read_unary_params(qir_op *op, unary_params *p) {
  unsigned id = op->def->id;
  double alpha = 0;
  switch (id) {
  case QIR_OP_HARD_SIGMOID: alpha = 0.2; break;
  case QIR_OP_LEAKY_RELU: alpha = 0.01; break;
  case QIR_OP_ELU: alpha = 1.0; break;
  case QIR_OP_SELU: alpha = 1.67326319217681884765625; break;
  }
  p->alpha = qir_op_get_float(op, "alpha", alpha);
  p->beta = qir_op_get_float(op, "beta", 0.5);
  p->gamma = qir_op_get_float(op, "gamma", 1.05070102214813232421875);
  p->lo = qir_op_get_float(op, "min", -INFINITY);
  p->hi = qir_op_get_float(op, "max", INFINITY);
  const char *approx = qir_op_get_string(op, "approximate");
  p->gelu_tanh = approx && strcmp(approx, "tanh") == 0;
}

/* The body of a float unary function in type T; F(name) is the C library
 * function for T (expf or exp). */
#define UNARY_BODY(T, F)                                                      \
  {                                                                           \
    const T one = 1, zero = 0, half = (T)0.5;                                 \
    switch (id) {                                                             \
    case QIR_OP_NEG: return -x;                                               \
    case QIR_OP_ABS: return F(fabs)(x);                                       \
    case QIR_OP_SQRT: return F(sqrt)(x);                                      \
    case QIR_OP_RSQRT: return one / F(sqrt)(x);                               \
    case QIR_OP_RECIPROCAL: return one / x;                                   \
    case QIR_OP_EXP: return F(exp)(x);                                        \
    case QIR_OP_LOG: return F(log)(x);                                        \
    case QIR_OP_ERF: return F(erf)(x);                                        \
    case QIR_OP_SIN: return F(sin)(x);                                        \
    case QIR_OP_COS: return F(cos)(x);                                        \
    case QIR_OP_FLOOR: return F(floor)(x);                                    \
    case QIR_OP_CEIL: return F(ceil)(x);                                      \
    case QIR_OP_ROUND: return F(nearbyint)(x);                                \
    case QIR_OP_SIGN: return x > zero ? one : x < zero ? -one : x;            \
    case QIR_OP_RELU: return x < zero ? zero : x;                             \
    case QIR_OP_CLIP:                                                         \
      return x < (T)p->lo ? (T)p->lo : x > (T)p->hi ? (T)p->hi : x;           \
    case QIR_OP_SIGMOID: return one / (one + F(exp)(-x));                     \
    case QIR_OP_TANH: return F(tanh)(x);                                      \
    case QIR_OP_HARD_SIGMOID: {                                               \
      T v = (T)p->alpha * x + (T)p->beta;                                     \
      return v < zero ? zero : v > one ? one : v;                             \
    }                                                                         \
    case QIR_OP_HARD_SWISH: {                                                 \
      T v = x / (T)6 + half;                                                  \
      return x * (v < zero ? zero : v > one ? one : v);                       \
    }                                                                         \
    case QIR_OP_LEAKY_RELU: return x < zero ? (T)p->alpha * x : x;            \
    case QIR_OP_ELU: return x < zero ? (T)p->alpha * (F(exp)(x) - one) : x;   \
    case QIR_OP_SELU:                                                         \
      return (T)p->gamma *                                                    \
             (x < zero ? (T)p->alpha * (F(exp)(x) - one) : x);                \
    case QIR_OP_SOFTPLUS: return F(log1p)(F(exp)(x));                         \
    case QIR_OP_MISH: return x * F(tanh)(F(log1p)(F(exp)(x)));                \
    case QIR_OP_SILU: return x / (one + F(exp)(-x));                          \
    case QIR_OP_GELU:                                                         \
      if (p->gelu_tanh)                                                       \
        return half * x *                                                     \
               (one + F(tanh)((T)0.7978845608028654 *                         \
                              (x + (T)0.044715 * x * x * x)));                \
      return half * x * (one + F(erf)(x / (T)1.4142135623730951));            \
    }                                                                         \
    return x;                                                                 \
  }
#define F32(name) name##f
#define F64(name) name
static float unary_f32(unsigned id, float x, const unary_params *p)
    UNARY_BODY(float, F32)
static double unary_f64(unsigned id, double x, const unary_params *p)
    UNARY_BODY(double, F64)

static bool unary_i64(unsigned id, int64_t x, const unary_params *p,
                      int64_t *r) {
  switch (id) {
  case QIR_OP_NEG: *r = (int64_t)(0 - (uint64_t)x); return true;
  case QIR_OP_ABS: *r = x < 0 ? (int64_t)(0 - (uint64_t)x) : x; return true;
  case QIR_OP_SIGN: *r = (x > 0) - (x < 0); return true;
  case QIR_OP_RELU: *r = x < 0 ? 0 : x; return true;
  case QIR_OP_NOT: *r = x == 0; return true;
  case QIR_OP_CLIP:
    *r = (double)x < p->lo ? (int64_t)ceil(p->lo)
         : (double)x > p->hi ? (int64_t)floor(p->hi) : x;
    return true;
  }
  return false;
}

bool qir_fold_unary(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  const qir_attr *x = operands[0];
  if (!x || dense_is_quant(x) || results_quantized(op))
    return false;
  const qir_type *t = x->u.dense.type;
  int64_t n = x->u.dense.splat ? 1 : qir_dense_num_elements(x);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return false;
  unary_params p;
  read_unary_params(op, &p);
  unsigned id = op->def->id;
  bool ok = true;
  values v;
  values_init(&v, n, qir_scalar_is_float(t->scalar));
  for (int64_t i = 0; ok && i < n; i++) {
    if (!v.is_float)
      ok = unary_i64(id, qir_dense_get_i64(x, i), &p, &v.i[i]);
    else if (t->scalar == QIR_F64)
      v.f[i] = unary_f64(id, qir_dense_get_f64(x, i), &p);
    else
      v.f[i] = (double)unary_f32(id, (float)qir_dense_get_f64(x, i), &p);
  }
  out[0] = ok ? values_dense(op->ctx, t, x->u.dense.splat, &v) : NULL;
  values_free(&v);
  return out[0] != NULL;
}

/* ---- where ----------------------------------------------------------- */

bool qir_fold_where(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  ewise e;
  if (!ewise_init(op->ctx, &e, operands, 3))
    return false;
  const qir_type *x = e.in[1]->u.dense.type;
  if (x->elem != e.in[2]->u.dense.type->elem)
    return false;
  const qir_type *t = qir_tensor_type(op->ctx, x->elem, e.rank, e.dims);
  int64_t n = e.splat ? 1 : qir_tensor_num_elements(t);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return false;
  size_t size = qir_scalar_size(x->scalar);
  unsigned char *buf = qir_xcalloc((size_t)n + 1, size);
  for (int64_t i = 0; i < n; i++) {
    int64_t o[3];
    for (unsigned k = 0; k < 3; k++)
      o[k] = e.splat ? 0 : bcast_offset(e.dims, e.rank, i, e.in[k]->u.dense.type);
    bool c = *qir_fold_elem(e.in[0], o[0]) != 0;
    memcpy(buf + (size_t)i * size, qir_fold_elem(e.in[c ? 1 : 2], o[c ? 1 : 2]),
           size);
  }
  out[0] = e.splat ? qir_attr_dense_splat(op->ctx, t, buf)
                   : qir_fold_make(op->ctx, t, buf);
  free(buf);
  return out[0] != NULL;
}

/* ---- cast -------------------------------------------------------------- */

bool qir_fold_cast(qir_op *op, const qir_attr *const *operands,
                   const qir_attr **out) {
  const qir_attr *x = operands[0];
  const qir_type *rt = op->results[0].type;
  if (!x || dense_is_quant(x) || !qir_type_is_tensor(rt) ||
      qir_tensor_is_quant(rt))
    return false;
  const qir_type *src = x->u.dense.type;
  int64_t n = x->u.dense.splat ? 1 : qir_dense_num_elements(x);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return false;
  bool from_float = qir_scalar_is_float(src->scalar);
  qir_scalar to = rt->scalar;
  values v;
  values_init(&v, n, from_float && qir_scalar_is_float(to));
  for (int64_t i = 0; i < n; i++) {
    if (v.is_float)
      v.f[i] = qir_dense_get_f64(x, i);
    else if (from_float) /* saturates here: values_dense would wrap */
      v.i[i] = float_to_int(qir_dense_get_f64(x, i), to);
    else
      v.i[i] = to == QIR_I1 ? qir_dense_get_i64(x, i) != 0
                            : qir_dense_get_i64(x, i);
  }
  const qir_type *t = qir_tensor_with_elem(op->ctx, src, rt->elem);
  out[0] = values_dense(op->ctx, t, x->u.dense.splat, &v);
  values_free(&v);
  return out[0] != NULL;
}

/* ---- Reductions ------------------------------------------------------- */

static void reduce_mask(qir_op *op, unsigned rank, bool *mask) {
  int64_t axes[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, "axes", axes, QIR_MAX_RANK);
  for (unsigned i = 0; i < rank; i++)
    mask[i] = n <= 0;
  for (int i = 0; i < n; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a >= 0 && a < (int64_t)rank)
      mask[a] = true;
  }
}

/* Output linear index of input element `lin` (reduced dims dropped). */
static int64_t reduce_target(const qir_type *t, const bool *mask, int64_t lin) {
  int64_t off = 0, stride = 1;
  for (unsigned k = t->rank; k-- > 0;) {
    int64_t c = lin % t->dims[k];
    lin /= t->dims[k];
    if (!mask[k]) {
      off += c * stride;
      stride *= t->dims[k];
    }
  }
  return off;
}

static double reduce_init_f(unsigned id) {
  switch (id) {
  case QIR_OP_REDUCE_MAX: return -INFINITY;
  case QIR_OP_REDUCE_MIN: return INFINITY;
  case QIR_OP_REDUCE_PROD: return 1;
  }
  return 0;
}

static int64_t reduce_init_i(unsigned id) {
  switch (id) {
  case QIR_OP_REDUCE_MAX: return INT64_MIN;
  case QIR_OP_REDUCE_MIN: return INT64_MAX;
  case QIR_OP_REDUCE_PROD: return 1;
  }
  return 0;
}

/* Accumulates x into *acc (reduce_l2 and reduce_mean finish later). */
static void reduce_step(unsigned id, values *v, int64_t o, const qir_attr *x,
                        int64_t i) {
  if (v->is_float) {
    double a = v->f[o], e = qir_dense_get_f64(x, i);
    v->f[o] = id == QIR_OP_REDUCE_MAX    ? max_f(a, e)
              : id == QIR_OP_REDUCE_MIN  ? min_f(a, e)
              : id == QIR_OP_REDUCE_PROD ? a * e
              : id == QIR_OP_REDUCE_L2   ? a + e * e
                                         : a + e;
    return;
  }
  uint64_t a = (uint64_t)v->i[o], e = (uint64_t)qir_dense_get_i64(x, i);
  int64_t sa = v->i[o], se = (int64_t)e;
  v->i[o] = id == QIR_OP_REDUCE_MAX    ? (sa > se ? sa : se)
            : id == QIR_OP_REDUCE_MIN  ? (sa < se ? sa : se)
            : id == QIR_OP_REDUCE_PROD ? (int64_t)(a * e)
            : id == QIR_OP_REDUCE_L2   ? (int64_t)(a + e * e)
                                       : (int64_t)(a + e);
}

/* The result of reducing `count` elements into each accumulator. */
static void reduce_finish(unsigned id, values *v, int64_t count) {
  for (int64_t k = 0; k < v->n; k++) {
    if (id == QIR_OP_REDUCE_MEAN && v->is_float)
      v->f[k] = count ? v->f[k] / (double)count : NAN;
    else if (id == QIR_OP_REDUCE_MEAN)
      v->i[k] = count ? v->i[k] / count : 0; /* truncating */
    else if (id == QIR_OP_REDUCE_L2 && v->is_float)
      v->f[k] = sqrt(v->f[k]);
    else if (id == QIR_OP_REDUCE_L2)
      v->i[k] = (int64_t)sqrt((double)v->i[k]);
  }
}

/* The reduced type of t, keeping reduced dims as 1 with keepdims. */
static const qir_type *reduced(qir_context *ctx, const qir_type *t,
                               const bool *mask, bool keepdims) {
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  for (unsigned i = 0; i < t->rank; i++) {
    if (!mask[i])
      dims[rank++] = t->dims[i];
    else if (keepdims)
      dims[rank++] = 1;
  }
  return qir_tensor_with_dims(ctx, t, rank, dims);
}

bool qir_fold_reduce(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  const qir_attr *x = operands[0];
  if (!x || dense_is_quant(x) || results_quantized(op))
    return false;
  const qir_type *t = x->u.dense.type;
  int64_t n = qir_dense_num_elements(x);
  if (n < 0 || n > QIR_FOLD_MAX_ELEMENTS)
    return false;
  bool mask[QIR_MAX_RANK];
  reduce_mask(op, t->rank, mask);
  bool keepdims = qir_op_get_int(op, "keepdims", 1) != 0 &&
                  qir_op_get_bool(op, "keepdims", true);
  const qir_type *rt = reduced(op->ctx, t, mask, keepdims);
  int64_t m = qir_tensor_num_elements(rt);
  if (m < 0 || m > QIR_FOLD_MAX_ELEMENTS)
    return false;
  unsigned id = op->def->id;
  values v;
  values_init(&v, m, qir_scalar_is_float(t->scalar));
  for (int64_t k = 0; k < m; k++) {
    if (v.is_float)
      v.f[k] = reduce_init_f(id);
    else
      v.i[k] = reduce_init_i(id);
  }
  for (int64_t i = 0; i < n; i++)
    reduce_step(id, &v, reduce_target(t, mask, i), x, i);
  reduce_finish(id, &v, m ? n / m : 0);
  out[0] = values_dense(op->ctx, rt, false, &v);
  values_free(&v);
  return out[0] != NULL;
}

/* ---- matmul (small 1-D and 2-D products) ------------------------------ */

#define MATMUL_FOLD_MAX_MACS (1 << 20)

/* Element (i, j) of a (m x k) x (k x n) product. */
static void matmul_at(const qir_attr *a, const qir_attr *b, int64_t i,
                      int64_t j, int64_t k, int64_t n, values *v) {
  double fs = 0;
  uint64_t is = 0;
  for (int64_t l = 0; l < k; l++) {
    if (v->is_float)
      fs += qir_dense_get_f64(a, i * k + l) * qir_dense_get_f64(b, l * n + j);
    else
      is += (uint64_t)qir_dense_get_i64(a, i * k + l) *
            (uint64_t)qir_dense_get_i64(b, l * n + j);
  }
  if (v->is_float)
    v->f[i * n + j] = fs;
  else
    v->i[i * n + j] = (int64_t)is;
}

bool qir_fold_matmul(qir_op *op, const qir_attr *const *operands,
                     const qir_attr **out) {
  const qir_attr *a = operands[0], *b = operands[1];
  if (!a || !b || dense_is_quant(a) || dense_is_quant(b) ||
      results_quantized(op))
    return false;
  const qir_type *ta = a->u.dense.type, *tb = b->u.dense.type;
  if (ta->rank > 2 || tb->rank > 2 || ta->rank == 0 || tb->rank == 0 ||
      ta->elem != tb->elem)
    return false;
  int64_t m = ta->rank == 2 ? ta->dims[0] : 1, k = ta->dims[ta->rank - 1];
  int64_t n = tb->rank == 2 ? tb->dims[1] : 1;
  if (k != tb->dims[0] || (double)m * (double)n * (double)(k ? k : 1) >
                              (double)MATMUL_FOLD_MAX_MACS)
    return false;
  int64_t dims[2];
  unsigned rank = 0;
  if (ta->rank == 2)
    dims[rank++] = m;
  if (tb->rank == 2)
    dims[rank++] = n;
  values v;
  values_init(&v, m * n, qir_scalar_is_float(ta->scalar));
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      matmul_at(a, b, i, j, k, n, &v);
  out[0] = values_dense(op->ctx, qir_tensor_with_dims(op->ctx, ta, rank, dims),
                        false, &v);
  values_free(&v);
  return out[0] != NULL;
}
