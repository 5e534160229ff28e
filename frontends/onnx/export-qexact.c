/* frontends/onnx/export-qexact.c - quantized ops written as ONNX nodes
 * that compute qir's integer semantics (docs/Quantization.md) exactly.
 *
 * A quantized value is its storage integers in ONNX.  QuantizeLinear and
 * DequantizeLinear compute in float32 with float32 scales, and ONNX
 * Runtime fuses DequantizeLinear -> op -> QuantizeLinear into integer
 * kernels that requantize with a float multiplier and round half to even;
 * qir requantizes with a Q31 multiplier and two roundings (gemmlowp).
 * Each differs from qir by one step on some elements, and a deep network
 * amplifies that.  So the export spells the arithmetic out with standard
 * operators:
 *
 *  - quantize / dequantize: Cast to double, divide / multiply by the
 *    double scale, Round (half to even), add the zero point, Clip, Cast;
 *  - accumulators: the operands minus their zero points as float32 (exact
 *    integers), Conv / MatMul / Gemm in float32 (exact while every partial
 *    sum stays below 2^24, which the export checks from the weights), Cast
 *    to int64, plus the int32 bias;
 *  - requantization: qir_mul_by_multiplier in int64 (Mul, Div truncating
 *    toward zero, Where for the nudge of srdhm, Abs/Sign for the rounding
 *    shift), or qir_mul_by_multiplier64 (one rounding, half away);
 *  - the rescaled add, mul, max/min, relu/clip, pools and data movement of
 *    quantized values as qir's kernels (backends/cpu/k_quant.c) do them.
 *
 * Ops without an integer kernel in qir (sigmoid, softmax, linear resize,
 * ...) are written by export.c as the same float round trip qir-run does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/export-internal.h"
#include "qir/quant.h"

/* ---- Node builders ----------------------------------------------------- */

static const char *node1(exporter *ex, const char *type, const char *a) {
  const char *o = onnx_ex_tmp(ex);
  onnx_ex_node(ex, type, 1, &a, 1, &o);
  return o;
}

static const char *node2(exporter *ex, const char *type, const char *a,
                         const char *b) {
  const char *o = onnx_ex_tmp(ex);
  const char *in[2] = {a, b};
  onnx_ex_node(ex, type, 2, in, 1, &o);
  return o;
}

static const char *cast_to(exporter *ex, const char *x, qir_scalar s,
                           const char *out) {
  const char *o = out ? out : onnx_ex_tmp(ex);
  Onnx__NodeProto *n = onnx_ex_node(ex, "Cast", 1, &x, 1, &o);
  onnx_ex_attr_int(ex, n, "to", onnx_elem_type_from_scalar(s));
  return o;
}

static const char *clip_to(exporter *ex, const char *x, const char *lo,
                           const char *hi, const char *out) {
  const char *o = out ? out : onnx_ex_tmp(ex);
  const char *in[3] = {x, lo, hi};
  onnx_ex_node(ex, "Clip", 3, in, 1, &o);
  return o;
}

static const char *i64(exporter *ex, int64_t v) {
  return onnx_ex_init_scalar(ex, QIR_I64, (double)v);
}

/* ---- Parameter tensors ------------------------------------------------- */

/* The shape of a parameter tensor broadcast against a value of rank
 * `rank`: n values along `axis` (a scalar when n == 1), or a full shape
 * (per-position parameters of average pooling). */
typedef struct pshape {
  unsigned rank;
  int64_t dims[QIR_MAX_RANK];
  int64_t n;
} pshape;

static pshape pshape_axis(unsigned rank, int axis, int64_t n) {
  pshape p = {0, {0}, n};
  if (n == 1 || axis < 0 || (unsigned)axis >= rank) {
    p.n = 1;
    return p;
  }
  p.rank = rank;
  for (unsigned d = 0; d < rank; d++)
    p.dims[d] = (int)d == axis ? n : 1;
  return p;
}

static bool all_same_i64(const int64_t *v, int64_t n) {
  for (int64_t i = 1; i < n; i++)
    if (v[i] != v[0])
      return false;
  return true;
}

static const char *param_i64(exporter *ex, const pshape *p, const int64_t *v) {
  if (p->n == 1 || all_same_i64(v, p->n))
    return i64(ex, v[0]);
  const qir_type *t = qir_tensor_of(ex->ctx, QIR_I64, p->rank, p->dims);
  return onnx_ex_init(ex, qir_attr_dense_from_i64(ex->ctx, t, v),
                      onnx_ex_tmp(ex));
}

static const char *param_f64(exporter *ex, const pshape *p, const double *v) {
  bool same = true;
  for (int64_t i = 1; i < p->n; i++)
    same &= v[i] == v[0];
  if (same)
    return onnx_ex_init_scalar(ex, QIR_F64, v[0]);
  const qir_type *t = qir_tensor_of(ex->ctx, QIR_F64, p->rank, p->dims);
  return onnx_ex_init(ex, qir_attr_dense_from_f64(ex->ctx, t, v),
                      onnx_ex_tmp(ex));
}

/* The zero points of a quantized element type as a parameter tensor. */
static const char *zp_param(exporter *ex, const qir_type *q, const pshape *p) {
  int64_t *v = qir_xcalloc((size_t)p->n + 1, sizeof *v);
  for (int64_t c = 0; c < p->n; c++)
    v[c] = qir_quant_zp(q, c);
  const char *r = param_i64(ex, p, v);
  free(v);
  return r;
}

static bool zps_all_zero(const qir_type *q) {
  for (unsigned i = 0; q->zero_points && i < q->nparams; i++)
    if (q->zero_points[i])
      return false;
  return true;
}

static pshape pshape_of(const qir_type *tensor) {
  const qir_type *q = tensor->elem;
  return pshape_axis(tensor->rank, q->axis, q->axis >= 0 ? q->nparams : 1);
}

/* ---- Quantize and dequantize --------------------------------------------- */

void onnx_ex_dequantize(exporter *ex, const qir_type *qt, const char *q,
                        qir_scalar s, const char *out) {
  const qir_type *e = qt->elem;
  pshape p = pshape_of(qt);
  double *v = qir_xcalloc((size_t)p.n + 1, sizeof *v);
  const char *d = cast_to(ex, q, QIR_F64, NULL);
  if (!zps_all_zero(e)) {
    for (int64_t c = 0; c < p.n; c++)
      v[c] = (double)qir_quant_zp(e, c);
    d = node2(ex, "Sub", d, param_f64(ex, &p, v));
  }
  for (int64_t c = 0; c < p.n; c++)
    v[c] = qir_quant_scale(e, c);
  d = node2(ex, "Mul", d, param_f64(ex, &p, v));
  free(v);
  cast_to(ex, d, s, out);
}

void onnx_ex_quantize(exporter *ex, const qir_type *rt, const char *x,
                      const char *out) {
  const qir_type *e = rt->elem;
  pshape p = pshape_of(rt);
  double *v = qir_xcalloc((size_t)p.n + 1, sizeof *v);
  for (int64_t c = 0; c < p.n; c++)
    v[c] = qir_quant_scale(e, c);
  const char *r = node2(ex, "Div", cast_to(ex, x, QIR_F64, NULL),
                        param_f64(ex, &p, v));
  const char *nan = node1(ex, "IsNaN", r);
  r = node1(ex, "Round", r);
  for (int64_t c = 0; c < p.n; c++)
    v[c] = (double)qir_saturate(qir_quant_zp(e, c), e->qmin, e->qmax);
  const char *zp = param_f64(ex, &p, v);
  free(v);
  if (!zps_all_zero(e))
    r = node2(ex, "Add", r, zp);
  r = clip_to(ex, r, onnx_ex_init_scalar(ex, QIR_F64, (double)e->qmin),
              onnx_ex_init_scalar(ex, QIR_F64, (double)e->qmax), NULL);
  /* NaN quantizes to the zero point. */
  const char *w[3] = {nan, zp, r};
  const char *o = onnx_ex_tmp(ex);
  onnx_ex_node(ex, "Where", 3, w, 1, &o);
  cast_to(ex, o, e->scalar, out);
}

/* ---- Requantization ------------------------------------------------------- */

/* qir_mul_by_multiplier on int64 tensor x (int32 values), the multiplier
 * m[i] for parameter i of p. */
static const char *mul_by_multiplier32(exporter *ex, const char *x,
                                       const qir_multiplier *m,
                                       const pshape *p) {
  int64_t n = p->n;
  int64_t *lsh = qir_xcalloc((size_t)n, sizeof *lsh);
  int64_t *mul = qir_xcalloc((size_t)n, sizeof *mul);
  int64_t *half = qir_xcalloc((size_t)n, sizeof *half);
  int64_t *div = qir_xcalloc((size_t)n, sizeof *div);
  bool left = false, right = false;
  for (int64_t i = 0; i < n; i++) {
    int l = m[i].shift > 0 ? m[i].shift : 0;
    int r = m[i].shift < 0 ? -m[i].shift : 0;
    if (r > 62) /* divides any int32 to 0, as qir does above 31 */
      r = 62;
    lsh[i] = (int64_t)1 << l;
    mul[i] = m[i].multiplier;
    half[i] = r ? (int64_t)1 << (r - 1) : 0;
    div[i] = (int64_t)1 << r;
    left |= l > 0;
    right |= r > 0;
  }
  if (left)
    x = clip_to(ex, node2(ex, "Mul", x, param_i64(ex, p, lsh)),
                i64(ex, INT32_MIN), i64(ex, INT32_MAX), NULL);
  /* srdhm: (x * M + nudge) / 2^31, the nudge 2^30 or 1 - 2^30 by sign,
   * the division truncating (ONNX Div of integers). */
  const char *ab = node2(ex, "Mul", x, param_i64(ex, p, mul));
  const char *w[3] = {node2(ex, "Less", ab, i64(ex, 0)),
                      i64(ex, 1 - ((int64_t)1 << 30)), i64(ex, (int64_t)1 << 30)};
  const char *nudge = onnx_ex_tmp(ex);
  onnx_ex_node(ex, "Where", 3, w, 1, &nudge);
  const char *h = node2(ex, "Div", node2(ex, "Add", ab, nudge),
                        i64(ex, (int64_t)1 << 31));
  /* rounding_divide_by_pot: half away from zero. */
  if (right)
    h = node2(ex, "Mul", node1(ex, "Sign", h),
              node2(ex, "Div",
                    node2(ex, "Add", node1(ex, "Abs", h), param_i64(ex, p, half)),
                    param_i64(ex, p, div)));
  free(lsh);
  free(mul);
  free(half);
  free(div);
  return h;
}

/* qir_mul_by_multiplier64: round_half_away(x * M / 2^(31 - shift)); x * M
 * must fit in int64 (the callers bound x). */
static const char *mul_by_multiplier64(exporter *ex, const char *x,
                                       const qir_multiplier *m,
                                       const pshape *p) {
  int64_t n = p->n;
  int64_t *mul = qir_xcalloc((size_t)n, sizeof *mul);
  int64_t *half = qir_xcalloc((size_t)n, sizeof *half);
  int64_t *div = qir_xcalloc((size_t)n, sizeof *div);
  for (int64_t i = 0; i < n; i++) {
    int r = 31 - m[i].shift;
    mul[i] = r > 62 ? 0 : m[i].multiplier; /* |x * M| < 2^62: rounds to 0 */
    r = r > 62 ? 62 : r;
    half[i] = (int64_t)1 << (r - 1);
    div[i] = (int64_t)1 << r;
  }
  const char *pr = node2(ex, "Mul", x, param_i64(ex, p, mul));
  const char *h = node2(ex, "Mul", node1(ex, "Sign", pr),
                        node2(ex, "Div",
                              node2(ex, "Add", node1(ex, "Abs", pr),
                                    param_i64(ex, p, half)),
                              param_i64(ex, p, div)));
  free(mul);
  free(half);
  free(div);
  return h;
}

/* requantize(acc) into storage `out` of element type q: the 32-bit rule,
 * or the 64-bit one (`wide`), + zero points zp, clamp to lo..hi. */
typedef struct requant_to {
  const qir_type *q; /* result element type */
  const char *zp;    /* int64 zero point parameter */
  int64_t lo, hi;
} requant_to;

static void requantize_store(exporter *ex, const char *acc,
                             const qir_multiplier *m, const pshape *p,
                             bool wide, const requant_to *to,
                             const char *out) {
  const char *r = wide ? mul_by_multiplier64(ex, acc, m, p)
                       : mul_by_multiplier32(ex, acc, m, p);
  if (wide) /* qir_requantize64 saturates before adding the zero point */
    r = clip_to(ex, r, i64(ex, INT32_MIN * (int64_t)4),
                i64(ex, INT32_MAX * (int64_t)4), NULL);
  r = node2(ex, "Add", r, to->zp);
  r = clip_to(ex, r, i64(ex, to->lo), i64(ex, to->hi), NULL);
  cast_to(ex, r, to->q->scalar, out);
}

static bool wide_storage(qir_scalar s) {
  return s == QIR_I16 || s == QIR_U16 || s == QIR_I32 || s == QIR_I64;
}

/* A multiplier qir accepts; an error on the op otherwise. */
static bool multiplier_of(exporter *ex, qir_op *at, double real,
                          qir_multiplier *m) {
  if (qir_multiplier_from_real(real, m))
    return true;
  qir_op_emit_error(at, "requantization multiplier %g is out of range", real);
  ex->failed = true;
  return false;
}

/* Storage q minus its zero points, as int64. */
static const char *centered_i64(exporter *ex, const char *q,
                                const qir_type *qt_elem, const pshape *p) {
  const char *v = cast_to(ex, q, QIR_I64, NULL);
  if (zps_all_zero(qt_elem))
    return v;
  return node2(ex, "Sub", v, zp_param(ex, qt_elem, p));
}

/* qir's rescale: requantize(q - zp_from) with s_from / s_to, per axis when
 * either type is (both then along that axis). */
static bool rescale(exporter *ex, qir_op *at, const qir_type *from,
                    const qir_type *to, unsigned rank, const char *q,
                    const char *out) {
  const qir_type *pa = from->axis >= 0 ? from : to;
  pshape p = pshape_axis(rank, pa->axis, pa->axis >= 0 ? pa->nparams : 1);
  qir_multiplier *m = qir_xcalloc((size_t)p.n, sizeof *m);
  bool ok = true;
  for (int64_t c = 0; c < p.n && ok; c++)
    ok = multiplier_of(ex, at, qir_quant_scale(from, c) / qir_quant_scale(to, c),
                       &m[c]);
  if (ok) {
    requant_to rt = {to, zp_param(ex, to, &p), to->qmin, to->qmax};
    requantize_store(ex, centered_i64(ex, q, from, &p), m, &p,
                     wide_storage(from->scalar), &rt, out);
  }
  free(m);
  return ok;
}

bool onnx_ex_requantize(exporter *ex, qir_op *at, const qir_type *from,
                        const qir_type *to, const char *q, const char *out) {
  return rescale(ex, at, from->elem, to->elem, to->rank, q, out);
}

/* ---- Helpers on ops ----------------------------------------------------------- */

static bool isq(const qir_value *v) { return qir_tensor_is_quant(v->type); }

static const qir_type *qelem(const qir_value *v) { return v->type->elem; }

static bool per_tensor_op(qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++)
    if (!isq(qir_op_operand(op, i)) || qelem(qir_op_operand(op, i))->axis >= 0)
      return false;
  for (unsigned i = 0; i < op->num_results; i++)
    if (!isq(qir_op_result(op, i)) || qelem(qir_op_result(op, i))->axis >= 0)
      return false;
  return true;
}

/* The dense value of a constant operand, or NULL. */
static const qir_attr *const_value(qir_value *v) {
  qir_op *d = qir_value_def(v);
  if (!d || !qir_op_is(d, QIR_OP_CONSTANT))
    return NULL;
  const qir_attr *a = qir_op_get_attr(d, "value");
  return a && a->kind == QIR_ATTR_DENSE ? a : NULL;
}

static int64_t dense_int(const qir_attr *d, int64_t i) {
  return qir_load_int(d->u.dense.type->scalar, d->u.dense.data,
                      d->u.dense.splat ? 0 : i);
}

/* Element i of a float (f32/f64) or integer dense tensor. */
static double dense_f64(const qir_attr *d, int64_t i) {
  qir_scalar s = d->u.dense.type->scalar;
  i = d->u.dense.splat ? 0 : i;
  if (s == QIR_F32) {
    float f;
    memcpy(&f, (const uint8_t *)d->u.dense.data + i * 4, 4);
    return f;
  }
  if (s == QIR_F64) {
    double f;
    memcpy(&f, (const uint8_t *)d->u.dense.data + i * 8, 8);
    return f;
  }
  return (double)qir_load_int(s, d->u.dense.data, i);
}

/* The largest |q - zp| of a quantized element type. */
static int64_t max_centered(const qir_type *q) {
  int64_t m = 0;
  for (unsigned c = 0; c < (q->axis >= 0 ? q->nparams : 1); c++) {
    int64_t zp = qir_quant_zp(q, c);
    int64_t a = q->qmax - zp > zp - q->qmin ? q->qmax - zp : zp - q->qmin;
    m = a > m ? a : m;
  }
  return m;
}

/* Float32 sums of integers are exact below 2^24. */
#define EXACT_F32_SUM ((int64_t)1 << 24)
/* The 64-bit rule multiplies by M < 2^31 in int64. */
#define EXACT_MUL64 ((int64_t)1 << 31)

/* An op whose emulation would not be exact is written as the float round
 * trip; the warning says so. */
static qx_result not_exact(qir_op *op, const char *why) {
  qir_op_emit_warning(op, "exported in float: %s", why);
  return QX_OTHER;
}

static const char *const f32_sum_why =
    "its accumulator may exceed 2^24, where float32 sums are not exact";
static const char *const int32_why =
    "its accumulator with the bias may leave the int32 range";
static const char *const mul64_why =
    "its accumulator times the multiplier may exceed the int64 range";

/* The storage of a quantized value minus its zero points, as float32
 * (exact integers); `p` places per-axis zero points. */
static const char *centered_f32(exporter *ex, qir_value *v, const pshape *p) {
  const char *f = cast_to(ex, onnx_ex_value_name(ex, v), QIR_F32, NULL);
  const qir_type *q = qelem(v);
  if (zps_all_zero(q))
    return f;
  double *z = qir_xcalloc((size_t)p->n + 1, sizeof *z);
  for (int64_t c = 0; c < p->n; c++)
    z[c] = (double)qir_quant_zp(q, c);
  const qir_type *t = qir_tensor_of(ex->ctx, QIR_F32, p->rank, p->dims);
  const char *zn =
      p->n == 1 ? onnx_ex_init_scalar(ex, QIR_F32, z[0])
                : onnx_ex_init(ex, qir_attr_dense_from_f64(ex->ctx, t, z),
                               onnx_ex_tmp(ex));
  free(z);
  return node2(ex, "Sub", f, zn);
}

/* ---- Float activations ---------------------------------------------------------- */

static const char *f32c(exporter *ex, double v) {
  return onnx_ex_init_scalar(ex, QIR_F32, v);
}

/* fmaxf(0, fminf(1, v)) */
static const char *clamp01(exporter *ex, const char *v) {
  return node2(ex, "Max", node2(ex, "Min", v, f32c(ex, 1.0)), f32c(ex, 0.0));
}

/* qir's float formulas of sigmoid, hard_sigmoid and hard_swish
 * (backends/cpu/k_elementwise.c), one IEEE operation per node, so that
 * ONNX Runtime rounds exactly as qir does (its own Sigmoid is a
 * polynomial, HardSigmoid and HardSwish may fuse the multiply-add).
 * expf is exp in double rounded to float. */
bool onnx_ex_exact_activation(exporter *ex, unsigned id, float alpha,
                             float beta, const char *x, const char *out) {
  const char *o = out;
  switch (id) {
  case QIR_OP_HARD_SWISH: {
    const char *t = clamp01(ex, node2(ex, "Add", node2(ex, "Div", x, f32c(ex, 6.0)),
                                      f32c(ex, 0.5)));
    const char *in[2] = {x, t};
    onnx_ex_node(ex, "Mul", 2, in, 1, &o);
    return true;
  }
  case QIR_OP_HARD_SIGMOID: {
    const char *t = node2(ex, "Add", node2(ex, "Mul", x, f32c(ex, alpha)),
                          f32c(ex, beta));
    const char *in[2] = {node2(ex, "Min", t, f32c(ex, 1.0)), f32c(ex, 0.0)};
    onnx_ex_node(ex, "Max", 2, in, 1, &o);
    return true;
  }
  case QIR_OP_SIGMOID: {
    /* x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) */
    const char *e = cast_to(ex, node1(ex, "Exp", cast_to(ex, node1(ex, "Neg", node1(ex, "Abs", x)),
                                                     QIR_F64, NULL)),
                            QIR_F32, NULL);
    const char *d = node2(ex, "Add", f32c(ex, 1.0), e);
    const char *in[3] = {node2(ex, "GreaterOrEqual", x, f32c(ex, 0.0)),
                         node2(ex, "Div", f32c(ex, 1.0), d),
                         node2(ex, "Div", e, d)};
    onnx_ex_node(ex, "Where", 3, in, 1, &o);
    return true;
  }
  default:
    return false;
  }
}

bool onnx_ex_has_stage(const qir_op *op, const char *act) {
  float pm, pa;
  return act || qir_op_post_affine(op, &pm, &pa);
}

void onnx_ex_stage_activation(op_ctx *c, const char *act, const char *x,
                             const char *out) {
  qir_op *op = c->op;
  exporter *ex = c->ex;
  float pm, pa;
  bool post = qir_op_post_affine(op, &pm, &pa);
  bool mul = post && qir_op_get_attr(op, "post_mul"), add = post && qir_op_get_attr(op, "post_add");
  const char *a = !mul && !add ? out : act ? onnx_ex_tmp(ex) : x;
  if (act) {
    unsigned id = !ex->quantized_module          ? 0
                  : !strcmp(act, "sigmoid")      ? QIR_OP_SIGMOID
                  : !strcmp(act, "hard_sigmoid") ? QIR_OP_HARD_SIGMOID
                  : !strcmp(act, "hard_swish")   ? QIR_OP_HARD_SWISH
                                                 : 0;
    float alpha = (float)qir_op_get_float(op, "act_alpha", 0.2);
    float beta = (float)qir_op_get_float(op, "act_beta", 0.5);
    if (!id || !onnx_ex_exact_activation(ex, id, alpha, beta, x, a))
      onnx_ex_activation(c, act, x, a);
  }
  /* The post affine: a Mul, then an Add, each rounded to f32 as qir's. */
  if (mul) {
    const char *in[2] = {a, f32c(ex, pm)};
    const char *m = add ? onnx_ex_tmp(ex) : out;
    onnx_ex_node(ex, "Mul", 2, in, 1, &m);
    a = m;
  }
  if (add) {
    const char *in[2] = {a, f32c(ex, pa)};
    onnx_ex_node(ex, "Add", 2, in, 1, &out);
  }
}

/* A quantized sigmoid / hard_sigmoid / hard_swish: qir's float round
 * trip with the exact formula. */
static qx_result export_activation_op(op_ctx *c) {
  qir_op *op = c->op;
  qir_value *x = qir_op_operand(op, 0), *y = qir_op_result(op, 0);
  if (!isq(y))
    return QX_OTHER;
  exporter *ex = c->ex;
  const char *f = onnx_ex_tmp(ex);
  if (isq(x))
    onnx_ex_dequantize(ex, x->type, c->in[0], QIR_F32, f);
  else if (x->type->scalar == QIR_F32)
    f = c->in[0];
  else
    return QX_OTHER;
  const char *a = onnx_ex_tmp(ex);
  onnx_ex_exact_activation(ex, op->def->id, (float)qir_op_get_float(op, "alpha", 0.2),
                   (float)qir_op_get_float(op, "beta", 0.5), f, a);
  onnx_ex_quantize(ex, y->type, a, c->out[0]);
  return QX_DONE;
}

/* ---- conv2d, matmul, gemm -------------------------------------------------------- */

/* How the accumulator of output channel c becomes the result
 * (backends/cpu/k_quant.c, out_stage). */
typedef struct acc_stage {
  op_ctx *c;
  const char *acc;       /* int64 accumulator, bias included */
  const qir_type *xq;    /* input element type (per tensor) */
  const qir_type *wq;    /* weight element type */
  pshape ch;             /* output channels */
  qir_value *sum;        /* fused sum operand or NULL */
  bool wide;
} acc_stage;

static double acc_scale(const acc_stage *s, int64_t c) {
  return s->xq->scales[0] * qir_quant_scale(s->wq, c);
}

static bool clamp_activation(const char *act) {
  return !strcmp(act, "relu") || !strcmp(act, "relu6") || !strcmp(act, "clip");
}

/* Quantized result with no or a clamping activation: requantize. */
static qx_result stage_requantize(const acc_stage *s, const char *act) {
  exporter *ex = s->c->ex;
  qir_op *op = s->c->op;
  const qir_type *q = qir_op_result(op, 0)->type->elem;
  int64_t lo = q->qmin, hi = q->qmax;
  double sy = q->scales[0];
  int64_t zp = qir_quant_zp(q, 0);
  if (act) {
    double amin = qir_op_get_float(op, "act_min",
                                   strcmp(act, "clip") ? 0.0 : -INFINITY);
    double amax = qir_op_get_float(op, "act_max",
                                   !strcmp(act, "relu6") ? 6.0 : INFINITY);
    int64_t qlo = qir_quantize_f64(amin, sy, zp, q->qmin, q->qmax);
    int64_t qhi = qir_quantize_f64(amax, sy, zp, q->qmin, q->qmax);
    lo = qlo > lo ? qlo : lo;
    hi = qhi < hi ? qhi : hi;
  }
  qir_multiplier *m = qir_xcalloc((size_t)s->ch.n, sizeof *m);
  bool ok = true;
  for (int64_t c = 0; c < s->ch.n && ok; c++)
    ok = multiplier_of(ex, op, acc_scale(s, c) / sy, &m[c]);
  if (ok) {
    requant_to rt = {q, i64(ex, zp), lo, hi};
    requantize_store(ex, s->acc, m, &s->ch, s->wide, &rt, s->c->out[0]);
  }
  free(m);
  return ok ? QX_DONE : QX_ERROR;
}

/* Real-valued result: (float)(acc * s_x * s_w[c] (+ dequantize(sum))) in
 * double, the activation in float, then quantize for a quantized result. */
static qx_result stage_real(const acc_stage *s, const char *act) {
  exporter *ex = s->c->ex;
  qir_op *op = s->c->op;
  double *v = qir_xcalloc((size_t)s->ch.n + 1, sizeof *v);
  for (int64_t c = 0; c < s->ch.n; c++)
    v[c] = acc_scale(s, c);
  const char *r = node2(ex, "Mul", cast_to(ex, s->acc, QIR_F64, NULL),
                        param_f64(ex, &s->ch, v));
  free(v);
  if (s->sum) {
    const char *sum = onnx_ex_value_name(ex, s->sum);
    const char *sd = onnx_ex_tmp(ex);
    if (isq(s->sum))
      onnx_ex_dequantize(ex, s->sum->type, sum, QIR_F64, sd);
    else
      cast_to(ex, sum, QIR_F64, sd);
    r = node2(ex, "Add", r, sd);
  }
  qir_value *res = qir_op_result(op, 0);
  bool quant_out = isq(res);
  bool stage = onnx_ex_has_stage(op, act);
  const char *f = cast_to(ex, r, QIR_F32,
                          quant_out || stage ? NULL : s->c->out[0]);
  if (stage) {
    const char *a = quant_out ? onnx_ex_tmp(ex) : s->c->out[0];
    onnx_ex_stage_activation(s->c, act, f, a);
    f = a;
  }
  if (quant_out)
    onnx_ex_quantize(ex, res->type, f, s->c->out[0]);
  return QX_DONE;
}

static const char *fused_activation(const qir_op *op) {
  const char *act = qir_op_get_string(op, "activation");
  return act && *act && strcmp(act, "none") ? act : NULL;
}

/* A quantized result with no or a clamping activation is requantized
 * from the accumulator; anything else goes through real values. */
static bool stage_requantizes(const acc_stage *s) {
  const char *act = fused_activation(s->c->op);
  float pm, pa;
  return isq(qir_op_result(s->c->op, 0)) && !s->sum &&
         (!act || clamp_activation(act)) &&
         !qir_op_post_affine(s->c->op, &pm, &pa);
}

static qx_result finish_stage(const acc_stage *s) {
  const char *act = fused_activation(s->c->op);
  return stage_requantizes(s) ? stage_requantize(s, act) : stage_real(s, act);
}

/* The accumulator value of bias channel c (bias_acc in k_quant.c). */
static int64_t bias_value(const qir_attr *b, const qir_type *bt, int64_t c,
                          double s_acc) {
  if (qir_tensor_is_quant(bt))
    return dense_int(b, c) - qir_quant_zp(bt->elem, c);
  return qir_quantize_f64(dense_f64(b, c), s_acc, 0, INT32_MIN, INT32_MAX);
}

/* acc + bias (a constant, per output channel). */
static const char *add_bias(exporter *ex, const char *acc, qir_value *bias,
                            const acc_stage *s, bool per_channel_bias) {
  if (!bias)
    return acc;
  const qir_attr *b = const_value(bias);
  int64_t *v = qir_xcalloc((size_t)s->ch.n + 1, sizeof *v);
  for (int64_t c = 0; c < s->ch.n; c++)
    v[c] = bias_value(b, bias->type, per_channel_bias ? c : 0, acc_scale(s, c));
  const char *r = node2(ex, "Add", acc, param_i64(ex, &s->ch, v));
  free(v);
  return r;
}

/* The largest |bias| in accumulator units. */
static int64_t bias_bound(qir_value *bias, const acc_stage *s,
                          bool per_channel_bias) {
  if (!bias)
    return 0;
  const qir_attr *b = const_value(bias);
  int64_t worst = 0;
  for (int64_t c = 0; c < s->ch.n; c++) {
    int64_t v = llabs(bias_value(b, bias->type, per_channel_bias ? c : 0,
                                 acc_scale(s, c)));
    worst = v > worst ? v : worst;
  }
  return worst;
}

/* qir requantizes an 8-bit accumulator with the 32-bit rule while it fits
 * in int32 and with the 64-bit rule beyond: the export keeps to the first
 * (a large bias could push the sum out). */
static bool fits_int32_rule(const acc_stage *s, int64_t bound,
                            qir_value *bias, bool per_channel_bias) {
  return s->wide || !stage_requantizes(s) ||
         bound + bias_bound(bias, s, per_channel_bias) <= INT32_MAX;
}

/* A bound on |acc| (without bias) from the weights: per output channel,
 * max |x - zx| * sum |w - zw| over its weights (rows of `kdim` values,
 * `stride` apart, starting at c * cstep). */
static int64_t weights_bound(const qir_attr *w, const qir_type *wq,
                             int64_t nch, int64_t kdim, int64_t cstep,
                             int64_t stride, int64_t xmax) {
  int64_t worst = 0;
  for (int64_t c = 0; c < nch; c++) {
    int64_t zw = qir_quant_zp(wq, wq->axis >= 0 ? c : 0), sum = 0;
    for (int64_t k = 0; k < kdim; k++)
      sum += llabs(dense_int(w, c * cstep + k * stride) - zw);
    worst = sum > worst ? sum : worst;
  }
  return worst * xmax;
}

static qx_result export_conv(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  qir_value *x = qir_op_operand(op, 0), *w = qir_op_operand(op, 1);
  const qir_type *yt = qir_op_result(op, 0)->type;
  if (!isq(x) || !isq(w) || qelem(x)->axis >= 0 || x->type->rank != 4 ||
      w->type->rank != 4)
    return QX_OTHER;
  bool sum_in = qir_op_get_bool(op, "sum_in", false);
  qir_value *sum = sum_in && op->num_operands >= 3
                       ? qir_op_operand(op, op->num_operands - 1) : NULL;
  qir_value *bias = op->num_operands >= 3 && qir_op_operand(op, 2) != sum
                        ? qir_op_operand(op, 2) : NULL;
  const qir_attr *wd = const_value(w);
  if ((bias && !const_value(bias)) || !wd)
    return QX_OTHER;
  const qir_type *wq = qelem(w);
  int64_t O = w->type->dims[0];
  int64_t kdim = w->type->dims[1] * w->type->dims[2] * w->type->dims[3];
  int64_t bound = weights_bound(wd, wq, O, kdim, kdim, 1, max_centered(qelem(x)));
  if (bound >= EXACT_F32_SUM)
    return not_exact(op, f32_sum_why);
  acc_stage s = {c, NULL, qelem(x), wq, pshape_axis(yt->rank, 1, O), sum,
                 wide_storage(x->type->scalar) || wide_storage(w->type->scalar)};
  if (!fits_int32_rule(&s, bound, bias, true))
    return not_exact(op, int32_why);
  pshape wp = pshape_axis(4, wq->axis, wq->axis >= 0 ? wq->nparams : 1);
  pshape one = pshape_axis(0, -1, 1);
  const char *in[2] = {centered_f32(ex, x, &one), centered_f32(ex, w, &wp)};
  const char *f = onnx_ex_tmp(ex);
  Onnx__NodeProto *n = onnx_ex_node(ex, "Conv", 2, in, 1, &f);
  onnx_ex_attr_ints(ex, n, "kernel_shape", 2, w->type->dims + 2);
  int64_t v[4];
  if (qir_op_get_ints(op, "strides", v, 2) == 2)
    onnx_ex_attr_ints(ex, n, "strides", 2, v);
  if (qir_op_get_ints(op, "pads", v, 4) == 4)
    onnx_ex_attr_ints(ex, n, "pads", 4, v);
  if (qir_op_get_ints(op, "dilations", v, 2) == 2)
    onnx_ex_attr_ints(ex, n, "dilations", 2, v);
  onnx_ex_attr_int(ex, n, "group", qir_op_get_int(op, "group", 1));
  s.acc = add_bias(ex, cast_to(ex, f, QIR_I64, NULL), bias, &s, true);
  return finish_stage(&s);
}

static qx_result export_matmul(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  bool gemm = qir_op_is(op, QIR_OP_GEMM);
  qir_value *a = qir_op_operand(op, 0), *b = qir_op_operand(op, 1);
  qir_value *bias = gemm && op->num_operands > 2 ? qir_op_operand(op, 2) : NULL;
  const qir_type *yt = qir_op_result(op, 0)->type;
  if (!isq(a) || !isq(b) || qelem(a)->axis >= 0 || a->type->rank < 2 ||
      b->type->rank < 2 || yt->rank < 2 || (bias && !const_value(bias)))
    return QX_OTHER;
  if (gemm && (qir_op_get_float(op, "alpha", 1.0) != 1.0 ||
               (bias && qir_op_get_float(op, "beta", 1.0) != 1.0)))
    return QX_OTHER;
  bool ta = gemm && qir_op_get_int(op, "trans_a", 0);
  bool tb = gemm && qir_op_get_int(op, "trans_b", 0);
  const qir_type *bq = qelem(b);
  unsigned br = b->type->rank;
  int64_t K = ta ? a->type->dims[a->type->rank - 2] : a->type->dims[a->type->rank - 1];
  int64_t N = yt->dims[yt->rank - 1];
  const qir_attr *bd = const_value(b);
  int64_t bound = bd && br == 2
                      ? weights_bound(bd, bq, N, K, tb ? K : 1, tb ? 1 : N,
                                      max_centered(qelem(a)))
                      : K * max_centered(qelem(a)) * max_centered(bq);
  if (bound >= EXACT_F32_SUM)
    return not_exact(op, f32_sum_why);
  acc_stage s = {c, NULL, qelem(a), bq,
                 pshape_axis(yt->rank, (int)yt->rank - 1, N), NULL,
                 wide_storage(a->type->scalar) || wide_storage(b->type->scalar)};
  bool per_col = bias && qir_tensor_num_elements(bias->type) > 1;
  if (!fits_int32_rule(&s, bound, bias, per_col))
    return not_exact(op, int32_why);
  /* b's zero points run along its output column j. */
  int64_t nb = bq->axis >= 0 ? bq->nparams : 1;
  pshape bp = pshape_axis(br, (int)br - (tb ? 2 : 1), nb);
  pshape one = pshape_axis(0, -1, 1);
  const char *in[2] = {centered_f32(ex, a, &one), centered_f32(ex, b, &bp)};
  const char *f = onnx_ex_tmp(ex);
  Onnx__NodeProto *n = onnx_ex_node(ex, gemm ? "Gemm" : "MatMul", 2, in, 1, &f);
  if (gemm) {
    onnx_ex_attr_int(ex, n, "transA", ta);
    onnx_ex_attr_int(ex, n, "transB", tb);
  }
  s.acc = add_bias(ex, cast_to(ex, f, QIR_I64, NULL), bias, &s, per_col);
  return finish_stage(&s);
}

/* ---- Elementwise ------------------------------------------------------------------ */

/* add / sub: both operands at scale 2 max(s_a, s_b) with L bits of
 * headroom, summed, requantized (quant_add in k_quant.c). */
static qx_result export_add(op_ctx *c, bool subtract) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  if (!per_tensor_op(op))
    return QX_OTHER;
  qir_value *a = qir_op_operand(op, 0), *b = qir_op_operand(op, 1);
  const qir_type *qa = qelem(a), *qb = qelem(b);
  const qir_type *qy = qir_op_result(op, 0)->type->elem;
  bool wide = wide_storage(qa->scalar) || wide_storage(qb->scalar) ||
              wide_storage(qy->scalar);
  int shift = wide ? 15 : 20;
  double sa = qa->scales[0], sb = qb->scales[0];
  double twice_max = 2 * (sa > sb ? sa : sb);
  qir_multiplier ma, mb, my;
  if (!multiplier_of(ex, op, sa / twice_max, &ma) ||
      !multiplier_of(ex, op, sb / twice_max, &mb) ||
      !multiplier_of(ex, op, twice_max / (ldexp(1.0, shift) * qy->scales[0]), &my))
    return QX_ERROR;
  pshape one = pshape_axis(0, -1, 1);
  const char *lsh = i64(ex, (int64_t)1 << shift);
  const char *va = node2(ex, "Mul", centered_i64(ex, c->in[0], qa, &one), lsh);
  const char *vb = node2(ex, "Mul", centered_i64(ex, c->in[1], qb, &one), lsh);
  const char *xa = wide ? mul_by_multiplier64(ex, va, &ma, &one)
                        : mul_by_multiplier32(ex, va, &ma, &one);
  const char *xb = wide ? mul_by_multiplier64(ex, vb, &mb, &one)
                        : mul_by_multiplier32(ex, vb, &mb, &one);
  const char *acc = node2(ex, subtract ? "Sub" : "Add", xa, xb);
  requant_to rt = {qy, i64(ex, qir_quant_zp(qy, 0)), qy->qmin, qy->qmax};
  requantize_store(ex, acc, &my, &one, wide, &rt, c->out[0]);
  return QX_DONE;
}

static qx_result export_mul(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  if (!per_tensor_op(op))
    return QX_OTHER;
  const qir_type *qa = qelem(qir_op_operand(op, 0));
  const qir_type *qb = qelem(qir_op_operand(op, 1));
  const qir_type *qy = qir_op_result(op, 0)->type->elem;
  bool wide = wide_storage(qa->scalar) || wide_storage(qb->scalar);
  if (wide && max_centered(qa) * max_centered(qb) >= EXACT_MUL64)
    return not_exact(op, mul64_why);
  qir_multiplier m;
  if (!multiplier_of(ex, op, qa->scales[0] * qb->scales[0] / qy->scales[0], &m))
    return QX_ERROR;
  pshape one = pshape_axis(0, -1, 1);
  const char *acc = node2(ex, "Mul", centered_i64(ex, c->in[0], qa, &one),
                          centered_i64(ex, c->in[1], qb, &one));
  requant_to rt = {qy, i64(ex, qir_quant_zp(qy, 0)), qy->qmin, qy->qmax};
  requantize_store(ex, acc, &m, &one, wide, &rt, c->out[0]);
  return QX_DONE;
}

/* Operand i in the result's parameters, as int64 (to_out in k_quant.c). */
static const char *in_result_params(op_ctx *c, unsigned i, bool *ok) {
  exporter *ex = c->ex;
  qir_value *v = qir_op_operand(c->op, i);
  const qir_type *qy = qir_op_result(c->op, 0)->type->elem;
  if (qir_quant_same_params(qelem(v), qy))
    return cast_to(ex, c->in[i], QIR_I64, NULL);
  const char *r = onnx_ex_tmp(ex);
  *ok &= rescale(ex, c->op, qelem(v), qy, v->type->rank, c->in[i], r);
  return cast_to(ex, r, QIR_I64, NULL);
}

static qx_result export_minmax(op_ctx *c, bool is_max) {
  if (!per_tensor_op(c->op))
    return QX_OTHER;
  bool ok = true;
  const char *a = in_result_params(c, 0, &ok);
  const char *b = in_result_params(c, 1, &ok);
  if (!ok)
    return QX_ERROR;
  const qir_type *qy = qir_op_result(c->op, 0)->type->elem;
  cast_to(c->ex, node2(c->ex, is_max ? "Max" : "Min", a, b), qy->scalar,
          c->out[0]);
  return QX_DONE;
}

/* relu / clip: in the result's parameters, clamped to quantize(lo..hi). */
static qx_result export_clamp(op_ctx *c, double lo, double hi) {
  if (!per_tensor_op(c->op))
    return QX_OTHER;
  const qir_type *qy = qir_op_result(c->op, 0)->type->elem;
  double s = qy->scales[0];
  int64_t zp = qir_quant_zp(qy, 0);
  bool ok = true;
  const char *v = in_result_params(c, 0, &ok);
  if (!ok)
    return QX_ERROR;
  exporter *ex = c->ex;
  v = clip_to(ex, v, i64(ex, qir_quantize_f64(lo, s, zp, qy->qmin, qy->qmax)),
              i64(ex, qir_quantize_f64(hi, s, zp, qy->qmin, qy->qmax)), NULL);
  cast_to(ex, v, qy->scalar, c->out[0]);
  return QX_DONE;
}

/* ---- Pooling ---------------------------------------------------------------------- */

/* int64 maximum `best` (stored integers of x) into the result: as is, or
 * requantized with the 64-bit rule when the parameters differ. */
static qx_result store_max(op_ctx *c, const char *best) {
  exporter *ex = c->ex;
  qir_value *x = qir_op_operand(c->op, 0);
  const qir_type *qx = qelem(x);
  const qir_type *qy = qir_op_result(c->op, 0)->type->elem;
  if (qir_quant_same_params(qx, qy)) {
    cast_to(ex, best, qy->scalar, c->out[0]);
    return QX_DONE;
  }
  qir_multiplier m;
  if (!multiplier_of(ex, c->op, qx->scales[0] / qy->scales[0], &m))
    return QX_ERROR;
  pshape one = pshape_axis(0, -1, 1);
  requant_to rt = {qy, i64(ex, qir_quant_zp(qy, 0)), qy->qmin, qy->qmax};
  const char *v = node2(ex, "Sub", best, i64(ex, qir_quant_zp(qx, 0)));
  requantize_store(ex, v, &m, &one, true, &rt, c->out[0]);
  return QX_DONE;
}

/* max_pool2d / global_max_pool: the float pool of the stored integers
 * (exact; padding never wins), then store_max. */
static qx_result export_max_pool(op_ctx *c) {
  if (!per_tensor_op(c->op))
    return QX_OTHER;
  exporter *ex = c->ex;
  const char *y = c->out[0];
  c->in[0] = cast_to(ex, c->in[0], QIR_F32, NULL);
  c->out[0] = onnx_ex_tmp(ex);
  if (!onnx_ex_plain_op(c))
    return QX_ERROR;
  const char *best = cast_to(ex, c->out[0], QIR_I64, NULL);
  c->out[0] = y;
  return store_max(c, best);
}

/* The divisor of each output position of avg_pool2d (count_include_pad
 * or the valid elements), as qir_cpu_kq_avg_pool2d counts them. */
static int64_t avg_count(const int64_t *k, const int64_t *s, const int64_t *pads,
                         int64_t H, int64_t W, int64_t oh, int64_t ow,
                         bool include_pad) {
  int64_t h0 = oh * s[0] - pads[0], h1 = h0 + k[0];
  int64_t w0 = ow * s[1] - pads[1], w1 = w0 + k[1];
  if (h1 > H + pads[2]) h1 = H + pads[2];
  if (w1 > W + pads[3]) w1 = W + pads[3];
  int64_t padded = (h1 - h0) * (w1 - w0);
  if (h0 < 0) h0 = 0;
  if (w0 < 0) w0 = 0;
  if (h1 > H) h1 = H;
  if (w1 > W) w1 = W;
  return include_pad ? padded : (h1 - h0) * (w1 - w0);
}

/* avg_pool2d: the window sums of x - zx by a depthwise Conv of ones (exact
 * in float), then one rounding with m = s_x / (s_y * count) per output
 * position. */
static qx_result export_avg_pool(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  if (!per_tensor_op(op))
    return QX_OTHER;
  qir_value *x = qir_op_operand(op, 0);
  const qir_type *xt = x->type, *yt = qir_op_result(op, 0)->type;
  int64_t k[2], s[2] = {1, 1}, d[2], pads[4] = {0, 0, 0, 0};
  if (xt->rank != 4 || yt->rank != 4 || qir_op_get_ints(op, "kernel", k, 2) != 2 ||
      (qir_op_get_ints(op, "dilations", d, 2) == 2 && (d[0] != 1 || d[1] != 1)))
    return QX_OTHER;
  qir_op_get_ints(op, "strides", s, 2);
  qir_op_get_ints(op, "pads", pads, 4);
  int64_t C = xt->dims[1], H = xt->dims[2], W = xt->dims[3];
  int64_t OH = yt->dims[2], OW = yt->dims[3];
  /* A ceil-mode window past the padding has no Conv form. */
  if ((H + pads[0] + pads[2] - k[0]) / s[0] + 1 != OH ||
      (W + pads[1] + pads[3] - k[1]) / s[1] + 1 != OW)
    return QX_OTHER;
  const qir_type *qx = qelem(x), *qy = yt->elem;
  if (max_centered(qx) * k[0] * k[1] >= EXACT_F32_SUM)
    return not_exact(op, f32_sum_why);
  bool include_pad = qir_op_get_int(op, "count_include_pad", 0) != 0;
  pshape pos = {4, {1, 1, OH, OW}, OH * OW};
  qir_multiplier *m = qir_xcalloc((size_t)(OH * OW), sizeof *m);
  bool ok = true;
  for (int64_t i = 0; i < OH && ok; i++)
    for (int64_t j = 0; j < OW && ok; j++) {
      int64_t n = avg_count(k, s, pads, H, W, i, j, include_pad);
      ok = multiplier_of(ex, op, n ? qx->scales[0] / (qy->scales[0] * (double)n) : 0,
                         &m[i * OW + j]);
    }
  if (!ok) {
    free(m);
    return QX_ERROR;
  }
  int64_t wdims[4] = {C, 1, k[0], k[1]};
  const qir_type *wt = qir_tensor_of(ex->ctx, QIR_F32, 4, wdims);
  float one = 1.0f;
  const qir_attr *ones = qir_attr_dense_splat(ex->ctx, wt, &one);
  pshape scalar = pshape_axis(0, -1, 1);
  const char *in[2] = {centered_f32(ex, x, &scalar),
                       onnx_ex_init(ex, ones, onnx_ex_tmp(ex))};
  const char *f = onnx_ex_tmp(ex);
  Onnx__NodeProto *n = onnx_ex_node(ex, "Conv", 2, in, 1, &f);
  onnx_ex_attr_ints(ex, n, "kernel_shape", 2, k);
  onnx_ex_attr_ints(ex, n, "strides", 2, s);
  onnx_ex_attr_ints(ex, n, "pads", 4, pads);
  onnx_ex_attr_int(ex, n, "group", C);
  requant_to rt = {qy, i64(ex, qir_quant_zp(qy, 0)), qy->qmin, qy->qmax};
  requantize_store(ex, cast_to(ex, f, QIR_I64, NULL), m, &pos, true, &rt,
                   c->out[0]);
  free(m);
  return QX_DONE;
}

/* global_avg_pool: ReduceSum of x - zx over the spatial dims, one
 * rounding with m = s_x / (s_y * size). */
static qx_result export_global_avg_pool(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  if (!per_tensor_op(op))
    return QX_OTHER;
  qir_value *x = qir_op_operand(op, 0);
  const qir_type *xt = x->type, *qx = qelem(x);
  const qir_type *qy = qir_op_result(op, 0)->type->elem;
  if (xt->rank < 3)
    return QX_OTHER;
  int64_t axes[QIR_MAX_RANK], size = 1;
  for (unsigned d = 2; d < xt->rank; d++) {
    axes[d - 2] = d;
    size *= xt->dims[d];
  }
  if (max_centered(qx) * size >= EXACT_MUL64)
    return not_exact(op, mul64_why);
  qir_multiplier m;
  if (!multiplier_of(ex, op, size ? qx->scales[0] / (qy->scales[0] * (double)size) : 0,
                     &m))
    return QX_ERROR;
  pshape one = pshape_axis(0, -1, 1);
  const char *in[2] = {centered_i64(ex, c->in[0], qx, &one),
                       onnx_ex_init_i64s(ex, xt->rank - 2, axes)};
  const char *sum = onnx_ex_tmp(ex);
  Onnx__NodeProto *n = onnx_ex_node(ex, "ReduceSum", 2, in, 1, &sum);
  onnx_ex_attr_int(ex, n, "keepdims", 1);
  requant_to rt = {qy, i64(ex, qir_quant_zp(qy, 0)), qy->qmin, qy->qmax};
  requantize_store(ex, sum, &m, &one, true, &rt, c->out[0]);
  return QX_DONE;
}

/* ---- Concat and data movement --------------------------------------------------- */

static qx_result export_concat(op_ctx *c) {
  qir_op *op = c->op;
  if (!per_tensor_op(op))
    return QX_OTHER;
  const qir_type *qy = qir_op_result(op, 0)->type->elem;
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    if (v->type->scalar != qy->scalar)
      return QX_OTHER;
    if (!qir_quant_same_params(qelem(v), qy)) {
      const char *r = onnx_ex_tmp(c->ex);
      if (!rescale(c->ex, op, qelem(v), qy, v->type->rank, c->in[i], r))
        return QX_ERROR;
      c->in[i] = r;
    }
  }
  return onnx_ex_plain_op(c) ? QX_DONE : QX_ERROR;
}

/* Data movement on the stored integers (as exact float32 values, which
 * every ONNX Runtime kernel takes), then a rescale of each result whose
 * parameters differ from the operand's (qir_cpu_kq_move). */
static qx_result export_move(op_ctx *c) {
  exporter *ex = c->ex;
  qir_op *op = c->op;
  qir_value *x = qir_op_operand(op, 0);
  if (qir_op_is(op, QIR_OP_RESIZE)) {
    const char *mode = qir_op_get_string(op, "mode");
    if (mode && strcmp(mode, "nearest"))
      return QX_OTHER;
  }
  if (!isq(x))
    return QX_OTHER;
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_value *r = qir_op_result(op, i);
    if (!isq(r) || r->type->scalar != x->type->scalar ||
        (qelem(x)->axis >= 0 && !qir_quant_same_params(qelem(x), qelem(r))))
      return QX_OTHER;
  }
  const char **final = qir_arena_alloc(ex->ctx, (op->num_results + 1) *
                                                    sizeof *final);
  c->in[0] = cast_to(ex, c->in[0], QIR_F32, NULL);
  for (unsigned i = 0; i < op->num_results; i++) {
    final[i] = c->out[i];
    c->out[i] = onnx_ex_tmp(ex);
  }
  if (qir_op_is(op, QIR_OP_PAD)) {
    /* pad fills with quantize(value) in the result's parameters */
    const qir_type *qy = qir_op_result(op, 0)->type->elem;
    double v = qir_op_get_float(op, "value", 0.0);
    int64_t pads[2 * QIR_MAX_RANK];
    int np = qir_op_get_ints(op, "pads", pads, 2 * QIR_MAX_RANK);
    c->in[1] = onnx_ex_init_i64s(ex, (unsigned)(np > 0 ? np : 0), pads);
    c->in[2] = onnx_ex_init_scalar(
        ex, QIR_F32,
        (double)qir_quantize_f64(v, qy->scales[0], qir_quant_zp(qy, 0),
                                 qy->qmin, qy->qmax));
    const char *mode = qir_op_get_string(op, "mode");
    Onnx__NodeProto *n = onnx_ex_node(ex, "Pad", 3, c->in, 1, c->out);
    if (mode)
      onnx_ex_attr_string(ex, n, "mode", mode);
  } else if (!onnx_ex_plain_op(c)) {
    return QX_ERROR;
  }
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_value *r = qir_op_result(op, i);
    if (qir_quant_same_params(qelem(x), qelem(r))) {
      cast_to(ex, c->out[i], r->type->scalar, final[i]);
    } else {
      const char *q = cast_to(ex, c->out[i], x->type->scalar, NULL);
      if (!rescale(ex, op, qelem(x), qelem(r), r->type->rank, q, final[i]))
        return QX_ERROR;
    }
    c->out[i] = final[i];
  }
  return QX_DONE;
}

qx_result onnx_ex_integer_op(op_ctx *c) {
  qir_op *op = c->op;
  switch (op->def->id) {
  case QIR_OP_CONV2D: return export_conv(c);
  case QIR_OP_MATMUL:
  case QIR_OP_GEMM: return export_matmul(c);
  case QIR_OP_ADD: return export_add(c, false);
  case QIR_OP_SUB: return export_add(c, true);
  case QIR_OP_MUL: return export_mul(c);
  case QIR_OP_MAX: return export_minmax(c, true);
  case QIR_OP_MIN: return export_minmax(c, false);
  case QIR_OP_RELU: return export_clamp(c, 0.0, INFINITY);
  case QIR_OP_CLIP:
    return export_clamp(c, qir_op_get_float(op, "min", -INFINITY),
                        qir_op_get_float(op, "max", INFINITY));
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_GLOBAL_MAX_POOL: return export_max_pool(c);
  case QIR_OP_AVG_POOL2D: return export_avg_pool(c);
  case QIR_OP_GLOBAL_AVG_POOL: return export_global_avg_pool(c);
  case QIR_OP_CONCAT: return export_concat(c);
  case QIR_OP_SIGMOID:
  case QIR_OP_HARD_SIGMOID:
  case QIR_OP_HARD_SWISH: return export_activation_op(c);
  case QIR_OP_IDENTITY:
  case QIR_OP_SPLIT:
  case QIR_OP_SLICE:
  case QIR_OP_RESHAPE:
  case QIR_OP_TRANSPOSE:
  case QIR_OP_PAD:
  case QIR_OP_RESIZE:
  case QIR_OP_GATHER:
  case QIR_OP_EXPAND:
  case QIR_OP_TILE:
  case QIR_OP_DEPTH_TO_SPACE:
  case QIR_OP_SPACE_TO_DEPTH: return export_move(c);
  default: return QX_OTHER;
  }
}
