/* ir/ops/shape.c - shape, constant_of_shape, range: the ops of ONNX shape
 * sub-graphs, which fold away once the input shapes are fixed. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops/ops.h"

/* ---- shape ------------------------------------------------------------- */

void qir_ops_shape_range(qir_op *op, unsigned rank, unsigned *start,
                         unsigned *end) {
  int64_t r = rank, s = qir_op_get_int(op, "start", 0),
          e = qir_op_get_int(op, "end", r);
  if (s < 0)
    s += r;
  if (e < 0)
    e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  *start = (unsigned)s;
  *end = (unsigned)(e > s ? e : s);
}

bool qir_verify_shape(qir_op *op) {
  int64_t v;
  return qir_ops_attr_int(op, "start", 0, &v) &&
         qir_ops_attr_int(op, "end", 0, &v);
}

bool qir_infer_shape(qir_op *op, const qir_type **out) {
  unsigned start, end;
  if (!qir_ops_infer_pre(op))
    return false;
  qir_ops_shape_range(op, qir_ops_type(op, 0)->rank, &start, &end);
  int64_t n = end - start;
  out[0] = qir_tensor_of(op->ctx, QIR_I64, 1, &n);
  return true;
}

bool qir_fold_shape(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  const qir_type *x = qir_ops_type(op, 0);
  if (!qir_type_is_tensor(x))
    return false;
  unsigned start, end;
  qir_ops_shape_range(op, x->rank, &start, &end);
  int64_t dims[QIR_MAX_RANK], n = end - start;
  for (unsigned i = start; i < end; i++) {
    if (x->dims[i] == QIR_DYN)
      return false;
    dims[i - start] = x->dims[i];
  }
  out[0] = qir_fold_make(op->ctx, qir_tensor_of(op->ctx, QIR_I64, 1, &n), dims);
  return true;
}

/* ---- constant_of_shape ------------------------------------------------- */

static const qir_attr *fill_value(qir_op *op) {
  const qir_attr *v = qir_op_get_attr(op, "value");
  if (!v)
    return NULL;
  if (v->kind != QIR_ATTR_DENSE || qir_dense_num_elements(v) != 1) {
    qir_op_emit_error(op, "attribute 'value' must be a dense tensor of one "
                          "element");
    return NULL;
  }
  return v;
}

static const qir_type *fill_elem(qir_op *op) {
  const qir_attr *v = qir_op_get_attr(op, "value");
  if (v && v->kind == QIR_ATTR_DENSE)
    return v->u.dense.type->elem;
  return qir_scalar_type(op->ctx, QIR_F32);
}

/* Reads a constant shape operand; false when it is not a constant. */
static bool constant_shape(qir_op *op, int64_t *dims, unsigned *rank) {
  const qir_attr *s = qir_value_constant(op->operands[0].value);
  if (!s)
    return false;
  int64_t n = qir_dense_num_elements(s);
  if (n < 0 || n > QIR_MAX_RANK)
    return false;
  for (int64_t i = 0; i < n; i++)
    dims[i] = qir_dense_get_i64(s, i);
  *rank = (unsigned)n;
  return true;
}

bool qir_verify_constant_of_shape(qir_op *op) {
  if (!qir_ops_check_rank(op, 0, 1) || !qir_ops_check_elem(op, 0, QIR_ELEM_INT))
    return false;
  if (qir_op_get_attr(op, "value") && !fill_value(op))
    return false;
  const qir_type *s = qir_ops_type(op, 0);
  if (s->dims[0] != QIR_DYN && s->dims[0] > QIR_MAX_RANK) {
    qir_op_emit_error(op, "shape operand has %" PRId64 " dims, more than %d",
                      s->dims[0], QIR_MAX_RANK);
    return false;
  }
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  if (constant_shape(op, dims, &rank) &&
      !qir_ops_check_nonneg(op, "shape", dims, rank))
    return false;
  return true;
}

bool qir_infer_constant_of_shape(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  const qir_type *elem = fill_elem(op);
  if (constant_shape(op, dims, &rank)) {
    out[0] = qir_ops_tensor(op, elem, rank, dims);
    return true;
  }
  int64_t n = qir_ops_type(op, 0)->dims[0];
  if (n != QIR_DYN) {
    for (int64_t i = 0; i < n; i++)
      dims[i] = QIR_DYN;
    out[0] = qir_ops_tensor(op, elem, (unsigned)n, dims);
    return true;
  }
  /* The rank is unknowable: keep the declared type when there is one. */
  if (op->results[0].type && qir_type_is_tensor(op->results[0].type)) {
    out[0] = qir_tensor_with_elem(op->ctx, op->results[0].type, elem);
    return true;
  }
  qir_op_emit_error(op, "cannot infer the result rank from a shape operand "
                        "of unknown length");
  return false;
}

bool qir_fold_constant_of_shape(qir_op *op, const qir_attr *const *operands,
                                const qir_attr **out) {
  if (!operands[0])
    return false;
  int64_t n = qir_dense_num_elements(operands[0]), dims[QIR_MAX_RANK];
  if (n < 0 || n > QIR_MAX_RANK)
    return false;
  for (int64_t i = 0; i < n; i++)
    if ((dims[i] = qir_dense_get_i64(operands[0], i)) < 0)
      return false;
  const qir_type *t = qir_tensor_type(op->ctx, fill_elem(op), (unsigned)n, dims);
  if (!t || qir_tensor_num_elements(t) < 0)
    return false;
  const qir_attr *v = qir_op_get_attr(op, "value");
  if (v && (v->kind != QIR_ATTR_DENSE || qir_dense_num_elements(v) != 1))
    return false;
  unsigned char zero[8] = {0};
  out[0] = qir_attr_dense_splat(op->ctx, t, v ? qir_fold_elem(v, 0) : zero);
  return out[0] != NULL;
}

/* ---- range ---------------------------------------------------------- */

bool qir_verify_range(qir_op *op) {
  bool ok = true;
  for (unsigned i = 0; i < 3; i++)
    ok &= qir_ops_check_rank(op, i, 0) &&
          qir_ops_check_elem(op, i, QIR_ELEM_NUMERIC);
  if (!ok || !qir_ops_check_same_elem(op, 0, 1) ||
      !qir_ops_check_same_elem(op, 0, 2))
    return false;
  const qir_attr *d = qir_value_constant(op->operands[2].value);
  if (d && qir_dense_get_f64(d, 0) == 0.0) {
    qir_op_emit_error(op, "delta must not be zero");
    return false;
  }
  return true;
}

/* Number of elements of a range, -1 when it cannot be known or exceeds
 * `limit`. */
static int64_t range_count(const qir_attr *s, const qir_attr *l,
                           const qir_attr *d, double limit) {
  if (!s || !l || !d)
    return -1;
  double n;
  if (qir_scalar_is_float(s->u.dense.type->scalar)) {
    double ds = qir_dense_get_f64(d, 0);
    if (ds == 0)
      return -1;
    n = ceil((qir_dense_get_f64(l, 0) - qir_dense_get_f64(s, 0)) / ds);
  } else {
    int64_t a = qir_dense_get_i64(s, 0), b = qir_dense_get_i64(l, 0),
            st = qir_dense_get_i64(d, 0);
    if (st == 0)
      return -1;
    /* (b - a) in double is exact enough for counts that fit in memory */
    n = ceil(((double)b - (double)a) / (double)st);
  }
  if (!(n >= 0))
    return 0;
  return n > limit ? -1 : (int64_t)n;
}

bool qir_infer_range(qir_op *op, const qir_type **out) {
  if (!qir_ops_infer_pre(op))
    return false;
  const qir_attr *c[3];
  for (unsigned i = 0; i < 3; i++)
    c[i] = qir_value_constant(op->operands[i].value);
  int64_t n = range_count(c[0], c[1], c[2], 0x1p62);
  if (n < 0)
    n = QIR_DYN;
  out[0] = qir_ops_tensor(op, qir_ops_type(op, 0)->elem, 1, &n);
  return true;
}

bool qir_fold_range(qir_op *op, const qir_attr *const *operands,
                    const qir_attr **out) {
  int64_t n = range_count(operands[0], operands[1], operands[2],
                          (double)QIR_FOLD_MAX_ELEMENTS);
  if (n < 0)
    return false;
  const qir_type *t =
      qir_tensor_type(op->ctx, operands[0]->u.dense.type->elem, 1, &n);
  if (qir_scalar_is_float(t->scalar)) {
    double s = qir_dense_get_f64(operands[0], 0),
           d = qir_dense_get_f64(operands[2], 0);
    double *v = qir_xcalloc((size_t)n + 1, sizeof *v);
    for (int64_t i = 0; i < n; i++)
      v[i] = s + (double)i * d;
    out[0] = qir_attr_dense_from_f64(op->ctx, t, v);
    free(v);
  } else {
    uint64_t s = (uint64_t)qir_dense_get_i64(operands[0], 0),
             d = (uint64_t)qir_dense_get_i64(operands[2], 0);
    int64_t *v = qir_xcalloc((size_t)n + 1, sizeof *v);
    for (int64_t i = 0; i < n; i++)
      v[i] = (int64_t)(s + (uint64_t)i * d);
    out[0] = qir_attr_dense_from_i64(op->ctx, t, v);
    free(v);
  }
  return out[0] != NULL;
}
