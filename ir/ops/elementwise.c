/* ir/ops/elementwise.c - verify and infer of the elementwise ops: binary
 * arithmetic, comparisons, logic, where, unary math, activations, cast. */
#include <math.h>

#include "ir/ops/ops.h"

static bool check_broadcast(qir_op *op, unsigned i, unsigned j) {
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *a = qir_ops_type(op, i), *b = qir_ops_type(op, j);
  if (qir_ops_broadcast(a, b, dims, &rank))
    return true;
  qir_op_emit_error(op, "operands #%u and #%u are not broadcast compatible: "
                        "%s and %s",
                    i, j, qir_ops_type_str(op->ctx, a),
                    qir_ops_type_str(op->ctx, b));
  return false;
}

/* prelu's slope broadcasts to x, not the other way round. */
static bool check_slope(qir_op *op) {
  const qir_type *x = qir_ops_type(op, 0), *s = qir_ops_type(op, 1);
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  bool ok = qir_ops_broadcast(x, s, dims, &rank) && rank == x->rank;
  for (unsigned i = 0; ok && i < rank; i++)
    ok = dims[i] == x->dims[i] || x->dims[i] == QIR_DYN;
  if (!ok)
    qir_op_emit_error(op, "slope %s does not broadcast to the input %s",
                      qir_ops_type_str(op->ctx, s),
                      qir_ops_type_str(op->ctx, x));
  return ok;
}

bool qir_verify_binary(qir_op *op) {
  bool ok = qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC);
  ok &= qir_ops_check_elem(op, 1, QIR_ELEM_NUMERIC);
  if (!ok)
    return false;
  if (!qir_op_is(op, QIR_OP_POW) && !qir_ops_check_same_elem(op, 0, 1))
    return false;
  if (qir_op_is(op, QIR_OP_MOD)) {
    bool fmod_flag;
    if (!qir_ops_attr_flag(op, "fmod", false, &fmod_flag))
      return false;
  }
  if (qir_op_is(op, QIR_OP_PRELU))
    return check_slope(op);
  return check_broadcast(op, 0, 1);
}

bool qir_verify_compare(qir_op *op) {
  return qir_ops_check_elem(op, 0, QIR_ELEM_ANY) &&
         qir_ops_check_elem(op, 1, QIR_ELEM_ANY) &&
         qir_ops_check_same_elem(op, 0, 1) && check_broadcast(op, 0, 1);
}

bool qir_verify_logical(qir_op *op) {
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++)
    ok &= qir_ops_check_elem(op, i, QIR_ELEM_BOOL);
  if (ok && op->num_operands == 2)
    ok = check_broadcast(op, 0, 1);
  return ok;
}

bool qir_verify_where(qir_op *op) {
  if (!qir_ops_check_elem(op, 0, QIR_ELEM_BOOL) ||
      !qir_ops_check_elem(op, 1, QIR_ELEM_ANY) ||
      !qir_ops_check_elem(op, 2, QIR_ELEM_ANY) ||
      !qir_ops_check_same_elem(op, 1, 2))
    return false;
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *c = qir_ops_type(op, 0), *x = qir_ops_type(op, 1),
                 *y = qir_ops_type(op, 2);
  bool ok = qir_ops_broadcast(x, y, dims, &rank);
  if (ok) {
    const qir_type *xy = qir_tensor_of(op->ctx, QIR_I1, rank, dims);
    ok = qir_ops_broadcast(c, xy, dims, &rank);
  }
  if (!ok)
    qir_op_emit_error(op, "operands are not broadcast compatible: %s, %s "
                          "and %s",
                      qir_ops_type_str(op->ctx, c),
                      qir_ops_type_str(op->ctx, x),
                      qir_ops_type_str(op->ctx, y));
  return ok;
}

bool qir_verify_unary(qir_op *op) {
  return qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC);
}

/* The float parameters some activations take. */
static bool check_float_params(qir_op *op) {
  static const char *const names[] = {"alpha", "beta", "gamma"};
  bool ok = true;
  double v;
  for (unsigned i = 0; i < 3; i++)
    ok &= qir_ops_attr_float(op, names[i], 0.0, &v);
  return ok;
}

bool qir_verify_unary_float(qir_op *op) {
  return qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) && check_float_params(op);
}

bool qir_verify_clip(qir_op *op) {
  double lo, hi;
  if (!qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) ||
      !qir_ops_attr_float(op, "min", -INFINITY, &lo) ||
      !qir_ops_attr_float(op, "max", INFINITY, &hi))
    return false;
  if (lo > hi) {
    qir_op_emit_error(op, "attribute 'min' (%g) is greater than 'max' (%g)",
                      lo, hi);
    return false;
  }
  return true;
}

bool qir_verify_gelu(qir_op *op) {
  static const char *const modes[] = {"none", "tanh", NULL};
  int mode;
  return qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) &&
         qir_ops_attr_enum(op, "approximate", modes, 0, &mode);
}

static bool same_shape(const qir_type *a, const qir_type *b) {
  if (a->rank != b->rank)
    return false;
  for (unsigned i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i] && a->dims[i] != QIR_DYN &&
        b->dims[i] != QIR_DYN)
      return false;
  return true;
}

bool qir_verify_cast(qir_op *op) {
  const qir_type *in = qir_ops_type(op, 0), *out = op->results[0].type;
  if (qir_tensor_is_quant(in) || qir_tensor_is_quant(out)) {
    qir_op_emit_error(op, "cannot convert quantized types (use quantize, "
                          "dequantize or requantize)");
    return false;
  }
  if (!same_shape(in, out)) {
    qir_op_emit_error(op, "result type %s does not have the shape of the "
                          "operand type %s",
                      qir_ops_type_str(op->ctx, out),
                      qir_ops_type_str(op->ctx, in));
    return false;
  }
  return true;
}

/* ---- Inference ----------------------------------------------------------- */

bool qir_infer_same(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  const qir_type *t = qir_ops_type(op, 0);
  if (qir_op_has_trait(op, QIR_TRAIT_SAME_TYPE))
    out[0] = t;
  else
    out[0] = qir_tensor_with_elem(op->ctx, t, qir_ops_compute_elem(op->ctx, t));
  return true;
}

bool qir_infer_broadcast(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *a = qir_ops_type(op, 0), *b = qir_ops_type(op, 1);
  qir_ops_broadcast(a, b, dims, &rank);
  const qir_type *elem = qir_ops_compute_elem(op->ctx, a);
  if (qir_op_is(op, QIR_OP_PRELU)) {
    rank = a->rank;
    for (unsigned i = 0; i < rank; i++)
      dims[i] = a->dims[i];
  }
  out[0] = qir_ops_tensor(op, elem, rank, dims);
  return true;
}

bool qir_infer_compare(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  qir_ops_broadcast(qir_ops_type(op, 0), qir_ops_type(op, 1), dims, &rank);
  out[0] = qir_tensor_of(op->ctx, QIR_I1, rank, dims);
  return true;
}

bool qir_infer_where(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *x = qir_ops_type(op, 1);
  qir_ops_broadcast(x, qir_ops_type(op, 2), dims, &rank);
  const qir_type *xy = qir_tensor_of(op->ctx, QIR_I1, rank, dims);
  qir_ops_broadcast(qir_ops_type(op, 0), xy, dims, &rank);
  out[0] = qir_ops_tensor(op, x->elem, rank, dims);
  return true;
}
