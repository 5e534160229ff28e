/* ir/ops/nn.c - convolutions, matrix products, normalizations, pooling. */
#include <inttypes.h>
#include <math.h>

#include "ir/ops/ops.h"

/* The 2-D window attributes shared by convolutions and pooling. */
typedef struct window {
  int64_t kernel[2], strides[2], dilations[2], pads[4];
} window;

static bool read_window(qir_op *op, window *w, bool kernel_attr) {
  bool ok = true;
  if (kernel_attr)
    ok &= qir_ops_attr_ints_n(op, "kernel", 2, true, 1, w->kernel) &&
          qir_ops_check_positive(op, "kernel", w->kernel, 2);
  ok &= qir_ops_attr_ints_n(op, "strides", 2, false, 1, w->strides) &&
        qir_ops_check_positive(op, "strides", w->strides, 2);
  ok &= qir_ops_attr_ints_n(op, "dilations", 2, false, 1, w->dilations) &&
        qir_ops_check_positive(op, "dilations", w->dilations, 2);
  ok &= qir_ops_attr_ints_n(op, "pads", 4, false, 0, w->pads) &&
        qir_ops_check_nonneg(op, "pads", w->pads, 4);
  return ok;
}

/* A dim that is known in both, and differs. */
static bool dims_differ(int64_t a, int64_t b) {
  return a != QIR_DYN && b != QIR_DYN && a != b;
}

static bool check_group(qir_op *op, int64_t *group) {
  if (!qir_ops_attr_int(op, "group", 1, group))
    return false;
  if (*group < 1) {
    qir_op_emit_error(op, "attribute 'group' must be positive, got %" PRId64,
                      *group);
    return false;
  }
  return true;
}

/* Same element type for x and w, or both quantized. */
static bool check_weight_elem(qir_op *op) {
  const qir_type *x = qir_ops_type(op, 0), *w = qir_ops_type(op, 1);
  if (qir_tensor_is_quant(x) != qir_tensor_is_quant(w) ||
      (!qir_tensor_is_quant(x) && x->elem != w->elem)) {
    qir_op_emit_error(op, "weight element type %s does not match input "
                          "element type %s",
                      qir_ops_type_str(op->ctx, w->elem),
                      qir_ops_type_str(op->ctx, x->elem));
    return false;
  }
  return true;
}

static bool check_bias(qir_op *op, unsigned i, int64_t channels) {
  if (op->num_operands <= i)
    return true;
  const qir_type *b = qir_ops_type(op, i);
  if (!qir_ops_check_rank(op, i, 1))
    return false;
  if (dims_differ(b->dims[0], channels)) {
    qir_op_emit_error(op, "bias has %" PRId64 " elements but there are %" PRId64
                          " output channels",
                      b->dims[0], channels);
    return false;
  }
  return true;
}

static bool check_fused_activation(qir_op *op) {
  static const char *const acts[] = {"relu",         "relu6",
                                     "clip",         "sigmoid",
                                     "hard_sigmoid", "hard_swish",
                                     "leaky_relu",   NULL};
  static const char *const params[] = {"act_min", "act_max", "act_alpha",
                                       "act_beta", "post_mul", "post_add"};
  int act;
  double v;
  bool ok = qir_ops_attr_enum(op, "activation", acts, 0, &act);
  for (unsigned i = 0; i < 6; i++)
    ok &= qir_ops_attr_float(op, params[i], 0.0, &v);
  for (unsigned i = 4; ok && i < 6; i++) {
    v = qir_op_get_float(op, params[i], 0.0);
    if (!isfinite(v) || !isfinite((float)v)) {
      qir_op_emit_error(op, "'%s' must be a finite f32 value", params[i]);
      ok = false;
    }
  }
  bool sum_in;
  if (!qir_ops_attr_flag(op, "sum_in", false, &sum_in))
    return false;
  if (sum_in != (op->num_operands == 4)) {
    qir_op_emit_error(op, sum_in ? "has 'sum_in' but no 4th (sum) operand"
                                 : "has a 4th operand but not 'sum_in'");
    return false;
  }
  return ok;
}

static bool check_conv_common(qir_op *op, window *w, int64_t *group) {
  bool ok = qir_ops_check_rank(op, 0, 4);
  ok &= qir_ops_check_rank(op, 1, 4);
  ok &= qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT);
  ok &= read_window(op, w, false);
  ok &= check_group(op, group);
  if (!ok)
    return false;
  const qir_type *wt = qir_ops_type(op, 1);
  w->kernel[0] = wt->dims[2];
  w->kernel[1] = wt->dims[3];
  return check_weight_elem(op);
}

bool qir_verify_conv2d(qir_op *op) {
  window w;
  int64_t group;
  if (!check_conv_common(op, &w, &group) || !check_fused_activation(op))
    return false;
  const qir_type *x = qir_ops_type(op, 0), *wt = qir_ops_type(op, 1);
  int64_t c = x->dims[1], o = wt->dims[0], ci = wt->dims[1];
  int64_t per_group_total;
  if (c != QIR_DYN && ci != QIR_DYN &&
      (!qir_ops_mul(ci, group, &per_group_total) || c != per_group_total)) {
    qir_op_emit_error(op, "input has %" PRId64 " channels but the weights "
                          "take %" PRId64 " per group x %" PRId64 " groups",
                      c, ci, group);
    return false;
  }
  if (o != QIR_DYN && o % group != 0) {
    qir_op_emit_error(op, "%" PRId64 " output channels are not divisible "
                          "by group %" PRId64,
                      o, group);
    return false;
  }
  return check_bias(op, 2, o);
}

bool qir_verify_conv_transpose2d(qir_op *op) {
  window w;
  int64_t group, outpad[2];
  if (!check_conv_common(op, &w, &group))
    return false;
  if (!qir_ops_attr_ints_n(op, "output_padding", 2, false, 0, outpad) ||
      !qir_ops_check_nonneg(op, "output_padding", outpad, 2))
    return false;
  for (unsigned i = 0; i < 2; i++)
    if (outpad[i] >= w.strides[i] && outpad[i] >= w.dilations[i]) {
      qir_op_emit_error(op, "attribute 'output_padding' must be smaller than "
                            "the stride or the dilation, got %s",
                        qir_ops_ints_str(op->ctx, outpad, 2));
      return false;
    }
  const qir_type *x = qir_ops_type(op, 0), *wt = qir_ops_type(op, 1);
  if (dims_differ(x->dims[1], wt->dims[0])) {
    qir_op_emit_error(op, "input has %" PRId64 " channels but the weights "
                          "take %" PRId64,
                      x->dims[1], wt->dims[0]);
    return false;
  }
  if (x->dims[1] != QIR_DYN && x->dims[1] % group != 0) {
    qir_op_emit_error(op, "%" PRId64 " input channels are not divisible "
                          "by group %" PRId64,
                      x->dims[1], group);
    return false;
  }
  int64_t o = QIR_DYN;
  if (wt->dims[1] != QIR_DYN && !qir_ops_mul(wt->dims[1], group, &o))
    return qir_ops_overflow(op);
  return check_bias(op, 2, o);
}

/* Output size of a sliding window over `in` (ONNX, floor or ceil mode). */
/* -1 when the window does not fit, -2 on overflow. */
static int64_t window_out(int64_t in, int64_t pad_sum, int64_t k, int64_t s,
                          int64_t d, bool ceil_mode, int64_t pad_begin) {
  int64_t padded, reach, span, last;
  if (!qir_ops_add(in, pad_sum, &padded) || !qir_ops_mul(d, k - 1, &reach) ||
      !qir_ops_add(reach, 1, &reach) || !qir_ops_add(in, pad_begin, &last))
    return -2;
  span = padded - reach;
  if (span < 0)
    return -1;
  int64_t out = (ceil_mode ? span / s + (span % s != 0) : span / s) + 1;
  /* A window may not start in the end padding. */
  if (ceil_mode && (out - 1) * s >= last)
    out--;
  return out;
}

static bool spatial_dims(qir_op *op, const qir_type *x, const window *w,
                         bool ceil_mode, int64_t *out) {
  for (unsigned i = 0; i < 2; i++) {
    int64_t in = x->dims[2 + i];
    if (in == QIR_DYN || w->kernel[i] == QIR_DYN) {
      out[i] = QIR_DYN;
      continue;
    }
    out[i] = window_out(in, w->pads[i] + w->pads[i + 2], w->kernel[i],
                        w->strides[i], w->dilations[i], ceil_mode,
                        w->pads[i]);
    if (out[i] == -2)
      return qir_ops_overflow(op);
    if (out[i] < 1) {
      qir_op_emit_error(op, "window of %" PRId64 " (kernel %" PRId64
                            ", dilation %" PRId64 ") does not fit in "
                            "spatial dim %u of size %" PRId64
                            " padded by %" PRId64,
                        w->dilations[i] * (w->kernel[i] - 1) + 1,
                        w->kernel[i], w->dilations[i], i, in,
                        w->pads[i] + w->pads[i + 2]);
      return false;
    }
  }
  return true;
}

/* The fused `sum` operand has the output's shape. */
static bool check_sum_shape(qir_op *op, const qir_type *y) {
  if (op->num_operands < 4)
    return true;
  const qir_type *s = qir_ops_type(op, 3);
  bool ok = s->rank == 4;
  for (unsigned i = 0; ok && i < 4; i++)
    ok = !dims_differ(s->dims[i], y->dims[i]);
  if (!ok)
    qir_op_emit_error(op, "sum operand %s does not have the output shape %s",
                      qir_ops_type_str(op->ctx, s),
                      qir_ops_type_str(op->ctx, y));
  return ok;
}

bool qir_infer_conv2d(qir_op *op, const qir_type **out) {
  window w;
  int64_t group;
  if (!qir_ops_infer_pre(op) || !check_conv_common(op, &w, &group))
    return false;
  const qir_type *x = qir_ops_type(op, 0), *wt = qir_ops_type(op, 1);
  int64_t dims[4] = {x->dims[0], wt->dims[0], 0, 0};
  if (!spatial_dims(op, x, &w, false, dims + 2))
    return false;
  out[0] = qir_ops_tensor(op, qir_ops_compute_elem(op->ctx, x), 4, dims);
  return check_sum_shape(op, out[0]);
}

bool qir_infer_conv_transpose2d(qir_op *op, const qir_type **out) {
  window w;
  int64_t group, outpad[2];
  if (!qir_ops_infer_pre(op) || !check_conv_common(op, &w, &group) ||
      !qir_ops_attr_ints_n(op, "output_padding", 2, false, 0, outpad))
    return false;
  const qir_type *x = qir_ops_type(op, 0), *wt = qir_ops_type(op, 1);
  int64_t o = QIR_DYN;
  if (wt->dims[1] != QIR_DYN)
    qir_ops_mul(wt->dims[1], group, &o); /* checked by the verify */
  int64_t dims[4] = {x->dims[0], o, 0, 0};
  for (unsigned i = 0; i < 2; i++) {
    int64_t in = x->dims[2 + i], k = w.kernel[i];
    if (in == QIR_DYN || k == QIR_DYN) {
      dims[2 + i] = QIR_DYN;
      continue;
    }
    int64_t a, b, pads;
    if (!qir_ops_mul(w.strides[i], in - 1, &a) ||
        !qir_ops_mul(k - 1, w.dilations[i], &b) || !qir_ops_add(a, b, &a) ||
        !qir_ops_add(a, outpad[i] + 1, &a) ||
        !qir_ops_add(w.pads[i], w.pads[i + 2], &pads))
      return qir_ops_overflow(op);
    dims[2 + i] = a - pads;
    if (dims[2 + i] < 1) {
      qir_op_emit_error(op, "output spatial dim %u would be %" PRId64, i,
                        dims[2 + i]);
      return false;
    }
  }
  out[0] = qir_ops_tensor(op, qir_ops_compute_elem(op->ctx, x), 4, dims);
  return true;
}

/* ---- matmul, gemm ---------------------------------------------------- */

/* numpy matmul shapes: dims of the product into out, false on mismatch. */
static bool matmul_shape(qir_op *op, const qir_type *a, const qir_type *b,
                         int64_t *dims, unsigned *rank) {
  int64_t ka = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  if (dims_differ(ka, kb)) {
    qir_op_emit_error(op, "contracting dims differ: %s x %s",
                      qir_ops_type_str(op->ctx, a),
                      qir_ops_type_str(op->ctx, b));
    return false;
  }
  unsigned ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
  const qir_type *batch_a = qir_tensor_of(op->ctx, QIR_I1, ba, a->dims);
  const qir_type *batch_b = qir_tensor_of(op->ctx, QIR_I1, bb, b->dims);
  if (!qir_ops_broadcast(batch_a, batch_b, dims, rank)) {
    qir_op_emit_error(op, "batch dims are not broadcast compatible: %s x %s",
                      qir_ops_type_str(op->ctx, a),
                      qir_ops_type_str(op->ctx, b));
    return false;
  }
  if (a->rank >= 2)
    dims[(*rank)++] = a->dims[a->rank - 2];
  if (b->rank >= 2)
    dims[(*rank)++] = b->dims[b->rank - 1];
  return true;
}

bool qir_verify_matmul(qir_op *op) {
  int64_t dims[QIR_MAX_RANK + 2];
  unsigned rank;
  return qir_ops_check_min_rank(op, 0, 1) && qir_ops_check_min_rank(op, 1, 1) &&
         qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) &&
         qir_ops_check_elem(op, 1, QIR_ELEM_NUMERIC) &&
         qir_ops_check_same_elem(op, 0, 1) &&
         matmul_shape(op, qir_ops_type(op, 0), qir_ops_type(op, 1), dims,
                      &rank);
}

bool qir_infer_matmul(qir_op *op, const qir_type **out) {
  int64_t dims[QIR_MAX_RANK + 2];
  unsigned rank;
  if (!qir_ops_infer_pre(op))
    return false;
  const qir_type *a = qir_ops_type(op, 0);
  matmul_shape(op, a, qir_ops_type(op, 1), dims, &rank);
  if (rank > QIR_MAX_RANK) {
    qir_op_emit_error(op, "result rank %u exceeds %d", rank, QIR_MAX_RANK);
    return false;
  }
  out[0] = qir_ops_tensor(op, qir_ops_compute_elem(op->ctx, a), rank, dims);
  return true;
}

static bool gemm_mnk(qir_op *op, int64_t *m, int64_t *n) {
  bool ta, tb;
  if (!qir_ops_attr_flag(op, "trans_a", false, &ta) ||
      !qir_ops_attr_flag(op, "trans_b", false, &tb))
    return false;
  const qir_type *a = qir_ops_type(op, 0), *b = qir_ops_type(op, 1);
  int64_t ka = a->dims[ta ? 0 : 1], kb = b->dims[tb ? 1 : 0];
  *m = a->dims[ta ? 1 : 0];
  *n = b->dims[tb ? 0 : 1];
  if (dims_differ(ka, kb)) {
    qir_op_emit_error(op, "contracting dims differ: %" PRId64 " and %" PRId64,
                      ka, kb);
    return false;
  }
  return true;
}

bool qir_verify_gemm(qir_op *op) {
  double v;
  int64_t m, n;
  bool ranks = qir_ops_check_rank(op, 0, 2);
  ranks &= qir_ops_check_rank(op, 1, 2);
  if (!ranks || !qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) ||
      !qir_ops_check_same_elem(op, 0, 1) ||
      !qir_ops_attr_float(op, "alpha", 1.0, &v) ||
      !qir_ops_attr_float(op, "beta", 1.0, &v) || !gemm_mnk(op, &m, &n))
    return false;
  if (op->num_operands < 3)
    return true;
  const qir_type *c = qir_ops_type(op, 2);
  int64_t mn[2] = {m, n}, dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *y = qir_tensor_of(op->ctx, QIR_I1, 2, mn);
  bool ok = c->rank <= 2 && qir_ops_broadcast(y, c, dims, &rank) &&
            !dims_differ(dims[0], m) && !dims_differ(dims[1], n);
  if (!ok)
    qir_op_emit_error(op, "operand #2 of type %s does not broadcast to "
                          "the %sx%s product",
                      qir_ops_type_str(op->ctx, c),
                      m == QIR_DYN ? "?" : qir_ops_ints_str(op->ctx, &m, 1),
                      n == QIR_DYN ? "?" : qir_ops_ints_str(op->ctx, &n, 1));
  return ok;
}

bool qir_infer_gemm(qir_op *op, const qir_type **out) {
  int64_t dims[2];
  if (!qir_ops_infer_pre(op) || !gemm_mnk(op, &dims[0], &dims[1]))
    return false;
  const qir_type *a = qir_ops_type(op, 0);
  out[0] = qir_ops_tensor(op, qir_ops_compute_elem(op->ctx, a), 2, dims);
  return true;
}

/* ---- Normalization ----------------------------------------------------- */

static bool check_channel_params(qir_op *op, unsigned first, unsigned last) {
  int64_t c = qir_ops_type(op, 0)->dims[1];
  bool ok = true;
  for (unsigned i = first; i <= last && i < op->num_operands; i++) {
    const qir_type *p = qir_ops_type(op, i);
    if (!qir_ops_check_rank(op, i, 1) ||
        !qir_ops_check_elem(op, i, QIR_ELEM_FLOAT)) {
      ok = false;
    } else if (dims_differ(p->dims[0], c)) {
      qir_op_emit_error(op, "operand #%u has %" PRId64 " elements but the "
                            "input has %" PRId64 " channels",
                        i, p->dims[0], c);
      ok = false;
    }
  }
  return ok;
}

static bool check_epsilon(qir_op *op) {
  double eps;
  if (!qir_ops_attr_float(op, "epsilon", 1e-5, &eps))
    return false;
  if (!(eps >= 0)) {
    qir_op_emit_error(op, "attribute 'epsilon' must be nonnegative, got %g",
                      eps);
    return false;
  }
  return true;
}

bool qir_verify_batch_norm(qir_op *op) {
  return qir_ops_check_min_rank(op, 0, 2) &&
         qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) &&
         check_channel_params(op, 1, 4) && check_epsilon(op);
}

bool qir_verify_instance_norm(qir_op *op) {
  return qir_ops_check_min_rank(op, 0, 3) &&
         qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) &&
         check_channel_params(op, 1, 2) && check_epsilon(op);
}

/* scale and bias broadcast to x.shape[axis:]. */
static bool check_norm_param(qir_op *op, unsigned i, unsigned axis) {
  const qir_type *x = qir_ops_type(op, 0), *p = qir_ops_type(op, i);
  unsigned n = x->rank - axis;
  bool ok = p->rank <= n;
  for (unsigned k = 0; ok && k < p->rank; k++) {
    int64_t pd = p->dims[k], xd = x->dims[axis + (n - p->rank) + k];
    ok = pd == 1 || !dims_differ(pd, xd);
  }
  if (!ok)
    qir_op_emit_error(op, "operand #%u of type %s does not broadcast to the "
                          "normalized dims of %s",
                      i, qir_ops_type_str(op->ctx, p),
                      qir_ops_type_str(op->ctx, x));
  return ok;
}

bool qir_verify_layer_norm(qir_op *op) {
  int64_t axis;
  unsigned ax;
  if (!qir_ops_check_min_rank(op, 0, 1) ||
      !qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) ||
      !qir_ops_attr_int(op, "axis", -1, &axis) ||
      !qir_ops_norm_axis(op, "axis", axis, qir_ops_type(op, 0)->rank, &ax) ||
      !check_epsilon(op))
    return false;
  bool ok = true;
  for (unsigned i = 1; i < op->num_operands; i++)
    ok &= qir_ops_check_elem(op, i, QIR_ELEM_FLOAT) &&
          check_norm_param(op, i, ax);
  return ok;
}

/* ---- Pooling --------------------------------------------------------- */

static bool read_pool(qir_op *op, window *w, bool *ceil_mode) {
  bool cip;
  bool ok = qir_ops_check_rank(op, 0, 4) &&
            qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC);
  ok &= read_window(op, w, true);
  ok &= qir_ops_attr_flag(op, "ceil_mode", false, ceil_mode);
  if (qir_op_is(op, QIR_OP_AVG_POOL2D))
    ok &= qir_ops_attr_flag(op, "count_include_pad", false, &cip);
  return ok;
}

bool qir_verify_pool2d(qir_op *op) {
  window w;
  bool ceil_mode;
  return read_pool(op, &w, &ceil_mode);
}

bool qir_infer_pool2d(qir_op *op, const qir_type **out) {
  window w;
  bool ceil_mode;
  if (!qir_ops_infer_pre(op) || !read_pool(op, &w, &ceil_mode))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[4] = {x->dims[0], x->dims[1], 0, 0};
  if (!spatial_dims(op, x, &w, ceil_mode, dims + 2))
    return false;
  const qir_type *elem = qir_op_is(op, QIR_OP_MAX_POOL2D)
                             ? x->elem
                             : qir_ops_compute_elem(op->ctx, x);
  out[0] = qir_ops_tensor(op, elem, 4, dims);
  return true;
}

bool qir_verify_global_pool(qir_op *op) {
  return qir_ops_check_min_rank(op, 0, 3) &&
         qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC);
}

bool qir_infer_global_pool(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < x->rank; i++)
    dims[i] = i < 2 ? x->dims[i] : 1;
  const qir_type *elem = qir_op_is(op, QIR_OP_GLOBAL_MAX_POOL)
                             ? x->elem
                             : qir_ops_compute_elem(op->ctx, x);
  out[0] = qir_ops_tensor(op, elem, x->rank, dims);
  return true;
}
