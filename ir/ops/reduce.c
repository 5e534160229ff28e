/* ir/ops/reduce.c - reductions, softmax, argmax/argmin. */
#include "ir/ops/ops.h"

/* Reads `axes` (absent or empty: every axis) into a mask. */
static bool reduce_axes(qir_op *op, bool *mask, unsigned rank) {
  int64_t axes[QIR_MAX_RANK];
  int n = qir_ops_attr_ints(op, "axes", axes, QIR_MAX_RANK);
  if (n == -2)
    return false;
  for (unsigned i = 0; i < rank; i++)
    mask[i] = n <= 0;
  for (int i = 0; i < n; i++) {
    unsigned ax;
    if (!qir_ops_norm_axis(op, "axes", axes[i], rank, &ax))
      return false;
    if (mask[ax]) {
      qir_op_emit_error(op, "attribute 'axes' names axis %u twice", ax);
      return false;
    }
    mask[ax] = true;
  }
  return true;
}

static bool read_reduce(qir_op *op, bool *mask, bool *keepdims) {
  return qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) &&
         reduce_axes(op, mask, qir_ops_type(op, 0)->rank) &&
         qir_ops_attr_flag(op, "keepdims", true, keepdims);
}

bool qir_verify_reduce(qir_op *op) {
  bool mask[QIR_MAX_RANK], keepdims;
  return read_reduce(op, mask, &keepdims);
}

static const qir_type *reduced_type(qir_op *op, const qir_type *elem,
                                    const bool *mask, bool keepdims) {
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  unsigned rank = 0;
  for (unsigned i = 0; i < x->rank; i++) {
    if (!mask[i])
      dims[rank++] = x->dims[i];
    else if (keepdims)
      dims[rank++] = 1;
  }
  return qir_ops_tensor(op, elem, rank, dims);
}

bool qir_infer_reduce(qir_op *op, const qir_type **out) {
  bool mask[QIR_MAX_RANK], keepdims;
  if (!qir_ops_infer_pre(op) || !read_reduce(op, mask, &keepdims))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  bool keeps_elem = qir_op_is(op, QIR_OP_REDUCE_MAX) ||
                    qir_op_is(op, QIR_OP_REDUCE_MIN);
  const qir_type *elem =
      keeps_elem ? x->elem : qir_ops_compute_elem(op->ctx, x);
  out[0] = reduced_type(op, elem, mask, keepdims);
  return true;
}

bool qir_verify_softmax(qir_op *op) {
  int64_t axis;
  unsigned ax;
  const qir_type *x = qir_ops_type(op, 0);
  return qir_ops_check_elem(op, 0, QIR_ELEM_FLOAT) &&
         qir_ops_check_min_rank(op, 0, 1) &&
         qir_ops_attr_int(op, "axis", -1, &axis) &&
         qir_ops_norm_axis(op, "axis", axis, x->rank, &ax);
}

static bool read_arg_reduce(qir_op *op, bool *mask, bool *keepdims) {
  int64_t axis;
  unsigned ax, rank = qir_ops_type(op, 0)->rank;
  bool last;
  if (!qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) ||
      !qir_ops_check_min_rank(op, 0, 1) ||
      !qir_ops_attr_int(op, "axis", 0, &axis) ||
      !qir_ops_norm_axis(op, "axis", axis, rank, &ax) ||
      !qir_ops_attr_flag(op, "keepdims", true, keepdims) ||
      !qir_ops_attr_flag(op, "select_last_index", false, &last))
    return false;
  for (unsigned i = 0; i < rank; i++)
    mask[i] = i == ax;
  return true;
}

bool qir_verify_arg_reduce(qir_op *op) {
  bool mask[QIR_MAX_RANK], keepdims;
  return read_arg_reduce(op, mask, &keepdims);
}

bool qir_infer_arg_reduce(qir_op *op, const qir_type **out) {
  bool mask[QIR_MAX_RANK], keepdims;
  if (!qir_ops_infer_pre(op) || !read_arg_reduce(op, mask, &keepdims))
    return false;
  out[0] = reduced_type(op, qir_scalar_type(op->ctx, QIR_I64), mask, keepdims);
  return true;
}
