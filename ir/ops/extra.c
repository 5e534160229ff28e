/* ir/ops/extra.c - verify and infer of the index ops: gather_elements,
 * gather_nd, scatter_elements, scatter_nd, cumsum and top_k (ONNX
 * GatherElements, GatherND, ScatterElements, ScatterND, CumSum, TopK). */
#include "ir/ops/ops.h"

static const char *const reductions[] = {"none", "add", "mul", NULL};

/* data and indices of the same rank, indices i32/i64, axis in range. */
static bool read_elements_op(qir_op *op, unsigned *axis) {
  int64_t a;
  const qir_type *x = qir_ops_type(op, 0), *idx = qir_ops_type(op, 1);
  if (!qir_ops_check_operands(op) || !qir_ops_check_elem(op, 0, QIR_ELEM_ANY) ||
      !qir_ops_check_elem(op, 1, QIR_ELEM_INDEX) ||
      !qir_ops_check_min_rank(op, 0, 1) ||
      !qir_ops_attr_int(op, "axis", 0, &a) ||
      !qir_ops_norm_axis(op, "axis", a, x->rank, axis))
    return false;
  if (idx->rank != x->rank) {
    qir_op_emit_error(op, "indices have rank %u but data has rank %u",
                      idx->rank, x->rank);
    return false;
  }
  return true;
}

bool qir_verify_gather_elements(qir_op *op) {
  unsigned axis;
  return read_elements_op(op, &axis);
}

/* gather_elements: the shape of the indices. */
bool qir_infer_gather_elements(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  const qir_type *idx = qir_ops_type(op, 1);
  out[0] = qir_ops_tensor(op, qir_ops_type(op, 0)->elem, idx->rank,
                          idx->dims);
  return true;
}

/* updates: the shape of the indices, the element type of data. */
static bool check_updates_like_indices(qir_op *op) {
  const qir_type *idx = qir_ops_type(op, 1), *u = qir_ops_type(op, 2);
  if (!qir_ops_check_same_elem(op, 0, 2))
    return false;
  if (u->rank != idx->rank) {
    qir_op_emit_error(op, "updates have rank %u but indices have rank %u",
                      u->rank, idx->rank);
    return false;
  }
  for (unsigned i = 0; i < u->rank; i++)
    if (u->dims[i] != idx->dims[i] && u->dims[i] != QIR_DYN &&
        idx->dims[i] != QIR_DYN) {
      qir_op_emit_error(op, "updates (%s) and indices (%s) differ in shape",
                        qir_ops_type_str(op->ctx, u),
                        qir_ops_type_str(op->ctx, idx));
      return false;
    }
  return true;
}

bool qir_verify_scatter_elements(qir_op *op) {
  unsigned axis;
  int red;
  return read_elements_op(op, &axis) && check_updates_like_indices(op) &&
         qir_ops_attr_enum(op, "reduction", reductions, 0, &red);
}

/* gather_nd / scatter_nd: k = indices.dims[-1] index tuples into data
 * after batch_dims leading dims shared by both. */
static bool read_nd(qir_op *op, int64_t *batch, int64_t *k) {
  const qir_type *x = qir_ops_type(op, 0), *idx = qir_ops_type(op, 1);
  if (!qir_ops_check_operands(op) || !qir_ops_check_elem(op, 0, QIR_ELEM_ANY) ||
      !qir_ops_check_elem(op, 1, QIR_ELEM_INDEX) ||
      !qir_ops_check_min_rank(op, 0, 1) || !qir_ops_check_min_rank(op, 1, 1) ||
      !qir_ops_attr_int(op, "batch_dims", 0, batch))
    return false;
  *k = idx->dims[idx->rank - 1];
  if (*batch < 0 || *batch >= (int64_t)idx->rank ||
      *batch >= (int64_t)x->rank) {
    qir_op_emit_error(op, "batch_dims %lld must be below both ranks",
                      (long long)*batch);
    return false;
  }
  if (*k == QIR_DYN || *k < 1 || *batch + *k > (int64_t)x->rank) {
    qir_op_emit_error(op, "the last dim of the indices (%lld) must be in "
                          "1..%lld",
                      (long long)*k, (long long)(x->rank - *batch));
    return false;
  }
  for (int64_t i = 0; i < *batch; i++)
    if (x->dims[i] != idx->dims[i]) {
      qir_op_emit_error(op, "batch dim %lld differs: %lld and %lld",
                        (long long)i, (long long)x->dims[i],
                        (long long)idx->dims[i]);
      return false;
    }
  return true;
}

/* indices.shape[:-1] + data.shape[batch_dims + k:] */
static unsigned nd_result_dims(qir_op *op, int64_t batch, int64_t k,
                               int64_t *dims) {
  const qir_type *x = qir_ops_type(op, 0), *idx = qir_ops_type(op, 1);
  unsigned n = 0;
  for (unsigned i = 0; i + 1 < idx->rank; i++)
    dims[n++] = idx->dims[i];
  for (unsigned i = (unsigned)(batch + k); i < x->rank; i++)
    dims[n++] = x->dims[i];
  return n;
}

bool qir_verify_gather_nd(qir_op *op) {
  int64_t batch, k, dims[2 * QIR_MAX_RANK];
  if (!read_nd(op, &batch, &k))
    return false;
  if (nd_result_dims(op, batch, k, dims) > QIR_MAX_RANK) {
    qir_op_emit_error(op, "result rank exceeds %d", QIR_MAX_RANK);
    return false;
  }
  return true;
}

bool qir_infer_gather_nd(qir_op *op, const qir_type **out) {
  int64_t batch, k, dims[2 * QIR_MAX_RANK];
  if (!qir_ops_infer_pre(op) || !read_nd(op, &batch, &k))
    return false;
  unsigned n = nd_result_dims(op, batch, k, dims);
  out[0] = qir_ops_tensor(op, qir_ops_type(op, 0)->elem, n, dims);
  return true;
}

bool qir_verify_scatter_nd(qir_op *op) {
  int64_t batch, k, dims[2 * QIR_MAX_RANK];
  int red;
  if (!read_nd(op, &batch, &k) || !qir_ops_check_same_elem(op, 0, 2) ||
      !qir_ops_attr_enum(op, "reduction", reductions, 0, &red))
    return false;
  if (batch) {
    qir_op_emit_error(op, "batch_dims is not supported");
    return false;
  }
  unsigned n = nd_result_dims(op, 0, k, dims);
  const qir_type *u = qir_ops_type(op, 2);
  bool ok = u->rank == n;
  for (unsigned i = 0; ok && i < n; i++)
    ok = u->dims[i] == dims[i] || u->dims[i] == QIR_DYN || dims[i] == QIR_DYN;
  if (!ok) {
    qir_op_emit_error(op, "updates must have the shape %s",
                      qir_ops_ints_str(op->ctx, dims, n));
    return false;
  }
  return true;
}

bool qir_verify_cumsum(qir_op *op) {
  int64_t a;
  unsigned axis;
  bool f;
  return qir_ops_check_operands(op) &&
         qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) &&
         qir_ops_check_min_rank(op, 0, 1) && qir_ops_require_attr(op, "axis") &&
         qir_ops_attr_int(op, "axis", 0, &a) &&
         qir_ops_norm_axis(op, "axis", a, qir_ops_type(op, 0)->rank, &axis) &&
         qir_ops_attr_flag(op, "exclusive", false, &f) &&
         qir_ops_attr_flag(op, "reverse", false, &f);
}

static bool read_top_k(qir_op *op, unsigned *axis, int64_t *k) {
  int64_t a;
  bool f;
  const qir_type *x = qir_ops_type(op, 0);
  if (!qir_ops_check_operands(op) ||
      !qir_ops_check_elem(op, 0, QIR_ELEM_NUMERIC) ||
      !qir_ops_check_min_rank(op, 0, 1) || !qir_ops_require_attr(op, "k") ||
      !qir_ops_attr_int(op, "k", 0, k) ||
      !qir_ops_attr_int(op, "axis", -1, &a) ||
      !qir_ops_norm_axis(op, "axis", a, x->rank, axis) ||
      !qir_ops_attr_flag(op, "largest", true, &f) ||
      !qir_ops_attr_flag(op, "sorted", true, &f))
    return false;
  int64_t dim = x->dims[*axis];
  if (*k < 0 || (dim != QIR_DYN && *k > dim)) {
    qir_op_emit_error(op, "k = %lld is out of range for a dim of %lld",
                      (long long)*k, (long long)dim);
    return false;
  }
  return true;
}

bool qir_verify_top_k(qir_op *op) {
  unsigned axis;
  int64_t k;
  return read_top_k(op, &axis, &k);
}

/* top_k: values (x's element type) and i64 indices, dim `axis` = k. */
bool qir_infer_top_k(qir_op *op, const qir_type **out) {
  unsigned axis;
  int64_t k;
  if (!qir_ops_infer_pre(op) || !read_top_k(op, &axis, &k))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < x->rank; i++)
    dims[i] = i == axis ? k : x->dims[i];
  out[0] = qir_ops_tensor(op, x->elem, x->rank, dims);
  out[1] = qir_ops_tensor(op, qir_scalar_type(op->ctx, QIR_I64), x->rank,
                          dims);
  return true;
}
