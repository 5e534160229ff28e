/* frontends/onnx/lower-extra.c - ONNX operators that qir expresses with
 * other ops: hyperbolic functions, IsNaN/IsInf, Shrink, Trilu, EyeLike,
 * MeanVarianceNormalization, LRN, Hardmax, OneHot, Compress and Einsum.
 * Shapes are static here, so masks and index tables are constants. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

/* NULL-propagating builders: a NULL operand (an earlier error) gives
 * NULL, so expressions can be written in one go. */
static qir_value *un(onnx_importer *imp, unsigned id, qir_value *x) {
  return x ? onnx_emit_unary(imp, id, x) : NULL;
}
static qir_value *bin(onnx_importer *imp, unsigned id, qir_value *a,
                      qir_value *b) {
  return a && b ? onnx_emit_binary(imp, id, a, b) : NULL;
}
static qir_value *sel(onnx_importer *imp, qir_value *c, qir_value *a,
                      qir_value *b) {
  qir_value *ops[3] = {c, a, b};
  return c && a && b ? onnx_emit(imp, QIR_OP_WHERE, 3, ops, 0, NULL) : NULL;
}
static qir_value *scalar(onnx_importer *imp, qir_value *like, double v) {
  return onnx_const_scalar(imp, like->type->scalar, v);
}

static bool need_inputs(onnx_importer *imp, qir_value *const *in,
                        unsigned nin, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (i >= nin || !in[i])
      return onnx_error(imp, "expected %u input%s", n, n == 1 ? "" : "s");
  return true;
}

static bool need_float(onnx_importer *imp, qir_value *x) {
  if (!qir_scalar_is_float(x->type->scalar) || qir_tensor_is_quant(x->type))
    return onnx_error(imp, "the input must be a float tensor");
  return true;
}

static bool done(qir_value **out, qir_value *v) {
  out[0] = v;
  return v != NULL;
}

/* ---- Elementwise -------------------------------------------------------- */

/* Sinh, Cosh: (exp(x) -+ exp(-x)) / 2. */
static bool lower_sinh_cosh(onnx_importer *imp, qir_value *const *in,
                            unsigned nin, qir_value **out, unsigned id) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0];
  qir_value *e = un(imp, QIR_OP_EXP, x);
  qir_value *en = un(imp, QIR_OP_EXP, un(imp, QIR_OP_NEG, x));
  return done(out, bin(imp, QIR_OP_MUL, bin(imp, id, e, en),
                       scalar(imp, x, 0.5)));
}

bool onnx_lower_sinh(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  return lower_sinh_cosh(imp, in, nin, out, QIR_OP_SUB);
}

bool onnx_lower_cosh(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  return lower_sinh_cosh(imp, in, nin, out, QIR_OP_ADD);
}

/* Asinh, Acosh: log(x + sqrt(x * x +- 1)). */
static bool lower_asinh_acosh(onnx_importer *imp, qir_value *const *in,
                              unsigned nin, qir_value **out, double sign) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0];
  qir_value *r = un(imp, QIR_OP_SQRT,
                    bin(imp, QIR_OP_ADD, bin(imp, QIR_OP_MUL, x, x),
                        scalar(imp, x, sign)));
  return done(out, un(imp, QIR_OP_LOG, bin(imp, QIR_OP_ADD, x, r)));
}

bool onnx_lower_asinh(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  return lower_asinh_acosh(imp, in, nin, out, 1.0);
}

bool onnx_lower_acosh(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  return lower_asinh_acosh(imp, in, nin, out, -1.0);
}

/* Atanh: log((1 + x) / (1 - x)) / 2. */
bool onnx_lower_atanh(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0], *one = scalar(imp, x, 1.0);
  qir_value *q = bin(imp, QIR_OP_DIV, bin(imp, QIR_OP_ADD, one, x),
                     bin(imp, QIR_OP_SUB, one, x));
  return done(out, bin(imp, QIR_OP_MUL, un(imp, QIR_OP_LOG, q),
                       scalar(imp, x, 0.5)));
}

/* IsNaN: x != x. */
bool onnx_lower_is_nan(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  (void)node;
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  return done(out, un(imp, QIR_OP_NOT, bin(imp, QIR_OP_EQUAL, in[0], in[0])));
}

/* IsInf: x == +inf (detect_positive) or x == -inf (detect_negative). */
bool onnx_lower_is_inf(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0];
  bool pos = onnx_attr_int(node, "detect_positive", 1) != 0;
  bool neg = onnx_attr_int(node, "detect_negative", 1) != 0;
  qir_value *p = bin(imp, QIR_OP_EQUAL, x, scalar(imp, x, INFINITY));
  qir_value *n = bin(imp, QIR_OP_EQUAL, x, scalar(imp, x, -INFINITY));
  if (pos && neg)
    return done(out, bin(imp, QIR_OP_OR, p, n));
  if (pos || neg)
    return done(out, pos ? p : n);
  /* Neither: all false. */
  return done(out, bin(imp, QIR_OP_AND, p, n));
}

/* Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0. */
bool onnx_lower_shrink(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1))
    return false;
  qir_value *x = in[0];
  double l = onnx_attr_float(node, "lambd", 0.5);
  double b = onnx_attr_float(node, "bias", 0.0);
  qir_value *hi = sel(imp, bin(imp, QIR_OP_GREATER, x, scalar(imp, x, l)),
                      bin(imp, QIR_OP_SUB, x, scalar(imp, x, b)),
                      scalar(imp, x, 0.0));
  return done(out,
              sel(imp, bin(imp, QIR_OP_LESS, x, scalar(imp, x, -l)),
                  bin(imp, QIR_OP_ADD, x, scalar(imp, x, b)), hi));
}

/* ---- Masks and constants ----------------------------------------------- */

/* A constant i1 tensor of rank 2, true where keep(i, j, k) holds. */
static qir_value *mask2d(onnx_importer *imp, int64_t n, int64_t m,
                         bool (*keep)(int64_t, int64_t, int64_t), int64_t k) {
  int64_t dims[2] = {n, m};
  const qir_type *t = qir_tensor_of(imp->ctx, QIR_I1, 2, dims);
  unsigned char *data = qir_xmalloc((size_t)(n * m) + 1);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < m; j++)
      data[i * m + j] = keep(i, j, k);
  const qir_attr *a = qir_attr_dense(imp->ctx, qir_loc_unknown(), t, data,
                                     (size_t)(n * m));
  free(data);
  return onnx_const(imp, a);
}

static bool upper_keep(int64_t i, int64_t j, int64_t k) { return j - i >= k; }
static bool lower_keep(int64_t i, int64_t j, int64_t k) { return j - i <= k; }
static bool diag_keep(int64_t i, int64_t j, int64_t k) { return j - i == k; }

/* The last two dims of x (static, at most 2^24 elements: masks are
 * constants). */
static bool matrix_dims(onnx_importer *imp, qir_value *x, int64_t *n,
                        int64_t *m) {
  if (!onnx_static_shape(imp, x, "the input"))
    return false;
  if (x->type->rank < 2)
    return onnx_error(imp, "the input must have rank 2 or more");
  *n = x->type->dims[x->type->rank - 2];
  *m = x->type->dims[x->type->rank - 1];
  if (*n * *m > ((int64_t)1 << 24))
    return onnx_error(imp, "the matrices are too large (%lld x %lld)",
                      (long long)*n, (long long)*m);
  return true;
}

/* Trilu: where(mask, x, 0) with the triangle of diagonal k as mask. */
bool onnx_lower_trilu(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1))
    return false;
  int64_t k = 0, n, m;
  if (nin > 1 && in[1] && onnx_const_ints(imp, in[1], "k", &k, 1) < 0)
    return false;
  if (!matrix_dims(imp, in[0], &n, &m))
    return false;
  bool upper = onnx_attr_int(node, "upper", 1) != 0;
  k = k < -n ? -n : k > m ? m : k;
  qir_value *mask = mask2d(imp, n, m, upper ? upper_keep : lower_keep, k);
  return done(out, sel(imp, mask, in[0], scalar(imp, in[0], 0.0)));
}

/* EyeLike: a constant with ones on diagonal k. */
bool onnx_lower_eye_like(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1))
    return false;
  int64_t n, m;
  if (!matrix_dims(imp, in[0], &n, &m))
    return false;
  if (in[0]->type->rank != 2)
    return onnx_error(imp, "the input must have rank 2");
  qir_scalar s = in[0]->type->scalar;
  int64_t dt = onnx_attr_int(node, "dtype", -1);
  if (dt >= 0 && (dt > INT32_MAX || !onnx_scalar_from_elem_type((int32_t)dt,
                                                                 &s)))
    return onnx_error(imp, "dtype %lld is not supported", (long long)dt);
  int64_t k = onnx_attr_int(node, "k", 0);
  k = k < -n ? -n : k > m ? m : k;
  qir_value *mask = mask2d(imp, n, m, diag_keep, k);
  const qir_type *t = qir_tensor_with_elem(imp->ctx, mask->type,
                                           qir_scalar_type(imp->ctx, s));
  qir_value *v = NULL;
  return onnx_emit_multi(imp, QIR_OP_CAST, 1, &mask, 0, NULL, 1, &t, &v) &&
         done(out, v);
}

/* ---- Normalizations ----------------------------------------------------- */

static qir_value *reduce_mean_keep(onnx_importer *imp, qir_value *x,
                                   unsigned n, const int64_t *axes) {
  qir_named_attr a[2] = {
      onnx_named(imp, "axes", qir_attr_ints(imp->ctx, n, axes)),
      onnx_named(imp, "keepdims", qir_attr_int(imp->ctx, 1))};
  return x ? onnx_emit(imp, QIR_OP_REDUCE_MEAN, 1, &x, 2, a) : NULL;
}

/* MeanVarianceNormalization: (x - mean) / (sqrt(var) + 1e-9) over axes
 * (default [0, 2, 3]). */
bool onnx_lower_mvn(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0];
  int64_t axes[QIR_MAX_RANK] = {0, 2, 3};
  int n = onnx_attr_ints(imp, node, "axes", axes, QIR_MAX_RANK);
  if (n == -1)
    n = 3;
  if (n < 0)
    return false;
  for (int i = 0; i < n; i++)
    if (!onnx_norm_axis(imp, axes[i], x->type->rank, &axes[i]))
      return false;
  qir_value *d = bin(imp, QIR_OP_SUB, x, reduce_mean_keep(imp, x, n, axes));
  qir_value *var = reduce_mean_keep(imp, bin(imp, QIR_OP_MUL, d, d), n, axes);
  qir_value *den = bin(imp, QIR_OP_ADD, un(imp, QIR_OP_SQRT, var),
                       scalar(imp, x, 1e-9));
  return done(out, bin(imp, QIR_OP_DIV, d, den));
}

/* LRN: x / (bias + alpha / size * sum of x^2 over `size` channels)^beta.
 * The channel window sum is an average pool (count_include_pad) over the
 * channels seen as a spatial dim: N x 1 x C x (H*W...). */
bool onnx_lower_lrn(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]))
    return false;
  qir_value *x = in[0];
  const qir_type *t = x->type;
  if (!onnx_static_shape(imp, x, "the input"))
    return false;
  if (t->rank < 3)
    return onnx_error(imp, "the input must have rank 3 or more");
  int64_t size = onnx_attr_int(node, "size", 0);
  if (size < 1 || size > 4096)
    return onnx_error(imp, "size must be in 1..4096, got %lld",
                      (long long)size);
  int64_t rest = 1;
  for (unsigned i = 2; i < t->rank; i++)
    rest *= t->dims[i];
  int64_t pdims[4] = {t->dims[0], 1, t->dims[1], rest};
  qir_value *sq = onnx_emit_reshape(imp, bin(imp, QIR_OP_MUL, x, x), 4, pdims);
  int64_t kernel[2] = {size, 1};
  int64_t pads[4] = {(size - 1) / 2, 0, size - 1 - (size - 1) / 2, 0};
  qir_named_attr a[3] = {
      onnx_named(imp, "kernel", qir_attr_ints(imp->ctx, 2, kernel)),
      onnx_named(imp, "pads", qir_attr_ints(imp->ctx, 4, pads)),
      onnx_named(imp, "count_include_pad", qir_attr_int(imp->ctx, 1))};
  qir_value *avg = sq ? onnx_emit(imp, QIR_OP_AVG_POOL2D, 1, &sq, 3, a) : NULL;
  avg = avg ? onnx_emit_reshape(imp, avg, t->rank, t->dims) : NULL;
  qir_value *base = bin(
      imp, QIR_OP_ADD, scalar(imp, x, onnx_attr_float(node, "bias", 1.0)),
      bin(imp, QIR_OP_MUL, avg,
          scalar(imp, x, onnx_attr_float(node, "alpha", 1e-4))));
  qir_value *p = bin(imp, QIR_OP_POW, base,
                     scalar(imp, x, onnx_attr_float(node, "beta", 0.75)));
  return done(out, bin(imp, QIR_OP_DIV, x, p));
}

/* ---- One-hot forms ------------------------------------------------------ */

/* A constant i64 tensor of rank `rank` with 0..n-1 along `axis` and size
 * 1 elsewhere. */
static qir_value *iota_along(onnx_importer *imp, unsigned rank, unsigned axis,
                             int64_t n) {
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < rank; i++)
    dims[i] = i == axis ? n : 1;
  int64_t *v = qir_xcalloc((size_t)n + 1, sizeof *v);
  for (int64_t i = 0; i < n; i++)
    v[i] = i;
  const qir_type *t = qir_tensor_of(imp->ctx, QIR_I64, rank, dims);
  qir_value *c = onnx_const(imp, qir_attr_dense_from_i64(imp->ctx, t, v));
  free(v);
  return c;
}

/* Hardmax: 1 at the first maximum along axis, else 0 (opset 13 axis
 * semantics; earlier opsets flatten to 2-D at axis). */
bool onnx_lower_hardmax(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1) || !need_float(imp, in[0]) ||
      !onnx_static_shape(imp, in[0], "the input"))
    return false;
  qir_value *x = in[0];
  const qir_type *t = x->type;
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", imp->opset < 13 ? 1
                                                                       : -1),
                      t->rank, &axis))
    return false;
  if (imp->opset < 13) { /* [prod(dims[:axis]), prod(dims[axis:])] */
    int64_t d2[2] = {1, 1};
    for (unsigned i = 0; i < t->rank; i++)
      d2[i < axis ? 0 : 1] *= t->dims[i];
    x = onnx_emit_reshape(imp, x, 2, d2);
    axis = 1;
  }
  qir_named_attr a[2] = {
      onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis)),
      onnx_named(imp, "keepdims", qir_attr_int(imp->ctx, 1))};
  qir_value *am = x ? onnx_emit(imp, QIR_OP_ARGMAX, 1, &x, 2, a) : NULL;
  qir_value *iota = iota_along(imp, x->type->rank, (unsigned)axis,
                               x->type->dims[axis]);
  qir_value *hot = bin(imp, QIR_OP_EQUAL, am, iota);
  qir_value *y = hot ? onnx_emit_cast(imp, hot, t->scalar) : NULL;
  y = y ? onnx_emit_reshape(imp, y, t->rank, t->dims) : NULL;
  return done(out, y);
}

/* OneHot(indices, depth, values = [off, on]): indices (negative ones count
 * from depth) compared with 0..depth-1 along the new axis. */
bool onnx_lower_one_hot(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 3))
    return false;
  double depth_f, values[2];
  int nd = onnx_const_floats(imp, in[1], "depth", &depth_f, 1);
  int nv = nd < 0 ? -1 : onnx_const_floats(imp, in[2], "values", values, 2);
  if (nd < 0 || nv < 0)
    return false;
  if (nd != 1 || nv != 2)
    return onnx_error(imp, "depth must have 1 element and values 2");
  int64_t depth = (int64_t)depth_f;
  if (depth < 1 || depth > ONNX_MAX_TENSOR_ELEMENTS)
    return onnx_error(imp, "depth %g is out of range", depth_f);
  qir_value *idx = in[0];
  unsigned rank = idx->type->rank + 1;
  int64_t axis;
  if (rank > QIR_MAX_RANK ||
      !onnx_norm_axis(imp, onnx_attr_int(node, "axis", -1), rank, &axis))
    return rank > QIR_MAX_RANK ? onnx_error(imp, "rank too large") : false;
  if (!onnx_static_shape(imp, idx, "the indices"))
    return false;
  idx = onnx_emit_cast(imp, idx, QIR_I64);
  qir_value *dv = onnx_const_scalar(imp, QIR_I64, (double)depth);
  qir_value *zero = onnx_const_scalar(imp, QIR_I64, 0.0);
  idx = sel(imp, bin(imp, QIR_OP_LESS, idx, zero),
            bin(imp, QIR_OP_ADD, idx, dv), idx);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0, j = 0; i < rank; i++)
    dims[i] = i == axis ? 1 : in[0]->type->dims[j++];
  idx = idx ? onnx_emit_reshape(imp, idx, rank, dims) : NULL;
  qir_value *hot = bin(imp, QIR_OP_EQUAL, idx,
                       iota_along(imp, rank, (unsigned)axis, depth));
  qir_scalar s = in[2]->type->scalar;
  return done(out, sel(imp, hot, onnx_const_scalar(imp, s, values[1]),
                       onnx_const_scalar(imp, s, values[0])));
}

/* Compress(x, condition) with a constant condition: a gather of the
 * selected indices along axis (of the flattened x without axis). */
bool onnx_lower_compress(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 2) ||
      !onnx_static_shape(imp, in[0], "the input"))
    return false;
  qir_value *x = in[0];
  const qir_attr *c = qir_value_constant(in[1]);
  if (!c)
    return onnx_error(imp, "input 'condition' must be a constant");
  int64_t axis = 0;
  if (onnx_find_attr(node, "axis")) {
    if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), x->type->rank,
                        &axis))
      return false;
  } else {
    int64_t n = qir_tensor_num_elements(x->type);
    x = onnx_emit_reshape(imp, x, 1, &n);
  }
  int64_t dim = x->type->dims[axis], n = qir_dense_num_elements(c);
  int64_t *sel_idx = qir_xcalloc((size_t)(n < dim ? n : dim) + 1,
                                 sizeof *sel_idx);
  int64_t k = 0;
  for (int64_t i = 0; i < n && i < dim; i++)
    if (qir_dense_get_i64(c, i))
      sel_idx[k++] = i;
  qir_value *idx = onnx_const_i64s(imp, (unsigned)k, sel_idx);
  free(sel_idx);
  qir_value *ops[2] = {x, idx};
  qir_named_attr a = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
  return done(out, onnx_emit(imp, QIR_OP_GATHER, 2, ops, 1, &a));
}

/* ---- Einsum ------------------------------------------------------------- */

/* One side of an einsum equation: its index letters, in operand order. */
typedef struct ein_term {
  char idx[QIR_MAX_RANK + 1];
  unsigned n;
} ein_term;

static bool ein_parse_term(onnx_importer *imp, const char **s, ein_term *t) {
  t->n = 0;
  for (; **s && **s != ',' && **s != '-'; (*s)++) {
    char c = **s;
    if (c == ' ')
      continue;
    if (c == '.')
      return onnx_error(imp, "einsum ellipses are not supported");
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
      return onnx_error(imp, "bad character '%c' in the equation", c);
    if (memchr(t->idx, c, t->n))
      return onnx_error(imp, "repeated index '%c' in one term (diagonals) "
                             "is not supported",
                        c);
    if (t->n == QIR_MAX_RANK)
      return onnx_error(imp, "a term has more than %d indices", QIR_MAX_RANK);
    t->idx[t->n++] = c;
  }
  t->idx[t->n] = '\0';
  return true;
}

static bool has_idx(const ein_term *t, char c) {
  return memchr(t->idx, c, t->n) != NULL;
}

/* Parses "ab,bc->ac" (or the implicit form "ab,bc": the indices that occur
 * once, in alphabetical order). */
static bool ein_parse(onnx_importer *imp, const char *eq, unsigned nin,
                      ein_term *in, ein_term *out) {
  const char *s = eq;
  unsigned n = 0;
  for (;;) {
    if (n == nin)
      return onnx_error(imp, "the equation has more terms than inputs");
    if (!ein_parse_term(imp, &s, &in[n++]))
      return false;
    if (*s != ',')
      break;
    s++;
  }
  if (n != nin)
    return onnx_error(imp, "the equation has %u terms for %u inputs", n, nin);
  if (s[0] == '-' && s[1] == '>') {
    s += 2;
    if (!ein_parse_term(imp, &s, out))
      return false;
    if (*s)
      return onnx_error(imp, "bad equation '%s'", eq);
    return true;
  }
  if (*s)
    return onnx_error(imp, "bad equation '%s'", eq);
  out->n = 0;
  for (char c = 'A'; c <= 'z'; c++) {
    unsigned count = 0;
    for (unsigned i = 0; i < nin; i++)
      count += has_idx(&in[i], c);
    if (count == 1 && out->n < QIR_MAX_RANK)
      out->idx[out->n++] = c;
  }
  out->idx[out->n] = '\0';
  return true;
}

static qir_value *transpose_to(onnx_importer *imp, qir_value *x,
                               const ein_term *from, const char *order) {
  int64_t perm[QIR_MAX_RANK];
  bool same = true;
  for (unsigned i = 0; i < from->n; i++) {
    perm[i] = (const char *)memchr(from->idx, order[i], from->n) - from->idx;
    same &= perm[i] == i;
  }
  if (!x || same)
    return x;
  qir_named_attr a = onnx_named(imp, "perm",
                                qir_attr_ints(imp->ctx, from->n, perm));
  return onnx_emit(imp, QIR_OP_TRANSPOSE, 1, &x, 1, &a);
}

/* Sums out the indices of term t that appear in no other term and not in
 * the output; t loses them. */
static qir_value *ein_sum_private(onnx_importer *imp, qir_value *x,
                                  ein_term *t, const ein_term *other,
                                  const ein_term *out) {
  int64_t axes[QIR_MAX_RANK];
  unsigned na = 0, k = 0;
  for (unsigned i = 0; i < t->n; i++) {
    char c = t->idx[i];
    if (!has_idx(out, c) && !(other && has_idx(other, c)))
      axes[na++] = i;
    else
      t->idx[k++] = c;
  }
  t->n = k;
  t->idx[k] = '\0';
  if (!na || !x)
    return x;
  qir_named_attr a[2] = {
      onnx_named(imp, "axes", qir_attr_ints(imp->ctx, na, axes)),
      onnx_named(imp, "keepdims", qir_attr_int(imp->ctx, 0))};
  return onnx_emit(imp, QIR_OP_REDUCE_SUM, 1, &x, 2, a);
}

static int64_t dim_of(qir_value *x, const ein_term *t, char c) {
  return x->type->dims[(const char *)memchr(t->idx, c, t->n) - t->idx];
}

/* Two operands: batch indices (in both and the output), contracted ones
 * (in both only), and the free ones of each side become one batched
 * matmul [B, M, K] x [B, K, N], reshaped and transposed to the output. */
static qir_value *ein_matmul(onnx_importer *imp, qir_value *a, ein_term *ta,
                             qir_value *b, ein_term *tb, const ein_term *out) {
  char batch[QIR_MAX_RANK + 1], con[QIR_MAX_RANK + 1], fa[QIR_MAX_RANK + 1],
      fb[QIR_MAX_RANK + 1];
  unsigned nb = 0, nc = 0, na = 0, nf = 0;
  int64_t B = 1, K = 1, M = 1, N = 1;
  int64_t rdims[QIR_MAX_RANK];
  unsigned nr = 0;
  for (unsigned i = 0; i < ta->n; i++) {
    char c = ta->idx[i];
    if (!has_idx(tb, c))
      continue;
    if (dim_of(a, ta, c) != dim_of(b, tb, c)) {
      onnx_error(imp, "index '%c' has sizes %lld and %lld", c,
                 (long long)dim_of(a, ta, c), (long long)dim_of(b, tb, c));
      return NULL;
    }
    if (has_idx(out, c)) {
      batch[nb++] = c;
      B *= dim_of(a, ta, c);
      rdims[nr++] = dim_of(a, ta, c);
    } else {
      con[nc++] = c;
      K *= dim_of(a, ta, c);
    }
  }
  for (unsigned i = 0; i < ta->n; i++)
    if (!has_idx(tb, ta->idx[i])) {
      fa[na++] = ta->idx[i];
      M *= dim_of(a, ta, ta->idx[i]);
      rdims[nr++] = dim_of(a, ta, ta->idx[i]);
    }
  for (unsigned i = 0; i < tb->n; i++)
    if (!has_idx(ta, tb->idx[i])) {
      fb[nf++] = tb->idx[i];
      N *= dim_of(b, tb, tb->idx[i]);
      rdims[nr++] = dim_of(b, tb, tb->idx[i]);
    }
  char oa[2 * QIR_MAX_RANK + 1], ob[2 * QIR_MAX_RANK + 1],
      res[2 * QIR_MAX_RANK + 1];
  snprintf(oa, sizeof oa, "%.*s%.*s%.*s", (int)nb, batch, (int)na, fa,
           (int)nc, con);
  snprintf(ob, sizeof ob, "%.*s%.*s%.*s", (int)nb, batch, (int)nc, con,
           (int)nf, fb);
  snprintf(res, sizeof res, "%.*s%.*s%.*s", (int)nb, batch, (int)na, fa,
           (int)nf, fb);
  int64_t sa[3] = {B, M, K}, sb[3] = {B, K, N};
  a = transpose_to(imp, a, ta, oa);
  b = transpose_to(imp, b, tb, ob);
  a = a ? onnx_emit_reshape(imp, a, 3, sa) : NULL;
  b = b ? onnx_emit_reshape(imp, b, 3, sb) : NULL;
  qir_value *y = bin(imp, QIR_OP_MATMUL, a, b);
  y = y ? onnx_emit_reshape(imp, y, nr, rdims) : NULL;
  ein_term tr;
  memcpy(tr.idx, res, nr + 1);
  tr.n = nr;
  return transpose_to(imp, y, &tr, out->idx);
}

/* Einsum of one or two operands without ellipses or diagonals: sums,
 * transpositions, (batched) matrix products, inner and outer products. */
bool onnx_lower_einsum(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || nin > 2)
    return onnx_error(imp, "einsum of %u inputs is not supported (1 or 2)",
                      nin);
  if (!need_inputs(imp, in, nin, nin))
    return false;
  const char *eq = onnx_attr_string(imp, node, "equation");
  if (!eq)
    return onnx_error(imp, "attribute 'equation' is required");
  ein_term t[2], to;
  if (!ein_parse(imp, eq, nin, t, &to))
    return false;
  for (unsigned i = 0; i < nin; i++) {
    if (!onnx_static_shape(imp, in[i], "the input"))
      return false;
    if (t[i].n != in[i]->type->rank)
      return onnx_error(imp, "term %u has %u indices for an input of rank %u",
                        i, t[i].n, in[i]->type->rank);
  }
  for (unsigned i = 0; i < to.n; i++)
    if (!has_idx(&t[0], to.idx[i]) && !(nin > 1 && has_idx(&t[1], to.idx[i])))
      return onnx_error(imp, "output index '%c' is in no input", to.idx[i]);
  qir_value *a = ein_sum_private(imp, in[0], &t[0], nin > 1 ? &t[1] : NULL,
                                 &to);
  if (nin == 1)
    return done(out, transpose_to(imp, a, &t[0], to.idx));
  qir_value *b = ein_sum_private(imp, in[1], &t[1], &t[0], &to);
  return done(out, a && b ? ein_matmul(imp, a, &t[0], b, &t[1], &to) : NULL);
}

/* ---- Index ops: gather_elements, gather_nd, scatter_*, cumsum, top_k ---- */

static qir_named_attr int_attr(onnx_importer *imp, const char *name,
                               int64_t v) {
  return onnx_named(imp, name, qir_attr_int(imp->ctx, v));
}

bool onnx_lower_gather_elements(onnx_importer *imp, const onnx_node *node,
                                qir_value *const *in, unsigned nin,
                                qir_value **out) {
  if (!need_inputs(imp, in, nin, 2))
    return false;
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), in[0]->type->rank,
                      &axis))
    return false;
  qir_named_attr a = int_attr(imp, "axis", axis);
  return done(out, onnx_emit(imp, QIR_OP_GATHER_ELEMENTS, 2, in, 1, &a));
}

bool onnx_lower_gather_nd(onnx_importer *imp, const onnx_node *node,
                          qir_value *const *in, unsigned nin,
                          qir_value **out) {
  if (!need_inputs(imp, in, nin, 2))
    return false;
  int64_t b = onnx_attr_int(node, "batch_dims", 0);
  qir_named_attr a = int_attr(imp, "batch_dims", b);
  return done(out, onnx_emit(imp, QIR_OP_GATHER_ND, 2, in, b ? 1 : 0, &a));
}

/* The reduction attribute of ScatterElements/ScatterND ("none" default). */
static unsigned scatter_reduction(onnx_importer *imp, const onnx_node *node,
                                  qir_named_attr *a) {
  const char *r = onnx_attr_string(imp, node, "reduction");
  if (!r || !strcmp(r, "none"))
    return 0;
  *a = onnx_named(imp, "reduction", qir_attr_cstr(imp->ctx, r));
  return 1;
}

bool onnx_lower_scatter_elements(onnx_importer *imp, const onnx_node *node,
                                 qir_value *const *in, unsigned nin,
                                 qir_value **out) {
  if (!need_inputs(imp, in, nin, 3))
    return false;
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), in[0]->type->rank,
                      &axis))
    return false;
  qir_named_attr a[2] = {int_attr(imp, "axis", axis)};
  unsigned n = 1 + scatter_reduction(imp, node, &a[1]);
  return done(out, onnx_emit(imp, QIR_OP_SCATTER_ELEMENTS, 3, in, n, a));
}

bool onnx_lower_scatter_nd(onnx_importer *imp, const onnx_node *node,
                           qir_value *const *in, unsigned nin,
                           qir_value **out) {
  if (!need_inputs(imp, in, nin, 3))
    return false;
  qir_named_attr a;
  unsigned n = scatter_reduction(imp, node, &a);
  return done(out, onnx_emit(imp, QIR_OP_SCATTER_ND, 3, in, n, &a));
}

/* CumSum(x, axis): the axis input must be a constant. */
bool onnx_lower_cumsum(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 2))
    return false;
  int64_t axis;
  int n = onnx_const_ints(imp, in[1], "axis", &axis, 1);
  if (n < 0)
    return false;
  if (n != 1)
    return onnx_error(imp, "input 'axis' must have one element");
  if (!onnx_norm_axis(imp, axis, in[0]->type->rank, &axis))
    return false;
  qir_named_attr a[3] = {int_attr(imp, "axis", axis)};
  unsigned na = 1;
  if (onnx_attr_int(node, "exclusive", 0))
    a[na++] = int_attr(imp, "exclusive", 1);
  if (onnx_attr_int(node, "reverse", 0))
    a[na++] = int_attr(imp, "reverse", 1);
  return done(out, onnx_emit(imp, QIR_OP_CUMSUM, 1, in, na, a));
}

/* TopK: k an attribute before opset 10, a constant input after. */
bool onnx_lower_top_k(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_inputs(imp, in, nin, 1))
    return false;
  int64_t k = onnx_attr_int(node, "k", -1);
  if (imp->opset >= 10) {
    if (!need_inputs(imp, in, nin, 2))
      return false;
    int n = onnx_const_ints(imp, in[1], "K", &k, 1);
    if (n < 0)
      return false;
    if (n != 1)
      return onnx_error(imp, "input 'K' must have one element");
  }
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", -1),
                      in[0]->type->rank, &axis))
    return false;
  qir_named_attr a[4] = {int_attr(imp, "k", k), int_attr(imp, "axis", axis)};
  unsigned na = 2;
  if (!onnx_attr_int(node, "largest", 1))
    a[na++] = int_attr(imp, "largest", 0);
  if (!onnx_attr_int(node, "sorted", 1))
    a[na++] = int_attr(imp, "sorted", 0);
  return onnx_emit_multi(imp, QIR_OP_TOP_K, 1, in, na, a, 2, NULL, out);
}
