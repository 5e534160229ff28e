/* ir/ops/movement.c - verify and infer of the data movement ops: concat,
 * split, slice, reshape, transpose, pad, resize, gather, expand, tile,
 * depth_to_space, space_to_depth. */
#include <inttypes.h>
#include <stdlib.h>

#include "ir/ops/ops.h"

static bool differ(int64_t a, int64_t b) {
  return a != QIR_DYN && b != QIR_DYN && a != b;
}

/* ---- concat ------------------------------------------------------------- */

static bool read_concat(qir_op *op, unsigned *axis) {
  int64_t a;
  const qir_type *t0 = qir_ops_type(op, 0);
  if (!qir_ops_require_attr(op, "axis") || !qir_ops_attr_int(op, "axis", 0, &a))
    return false;
  if (!qir_ops_check_min_rank(op, 0, 1) ||
      !qir_ops_norm_axis(op, "axis", a, t0->rank, axis))
    return false;
  bool ok = true;
  for (unsigned i = 1; i < op->num_operands && ok; i++) {
    const qir_type *t = qir_ops_type(op, i);
    ok = qir_ops_check_same_elem(op, 0, i);
    if (ok && t->rank != t0->rank) {
      qir_op_emit_error(op, "operand #%u has rank %u but operand #0 has rank "
                            "%u",
                        i, t->rank, t0->rank);
      ok = false;
    }
    for (unsigned d = 0; ok && d < t->rank; d++)
      if (d != *axis && differ(t->dims[d], t0->dims[d])) {
        qir_op_emit_error(op, "operand #%u has size %" PRId64 " in dim %u but "
                              "operand #0 has %" PRId64,
                          i, t->dims[d], d, t0->dims[d]);
        ok = false;
      }
  }
  return ok;
}

bool qir_verify_concat(qir_op *op) {
  unsigned axis;
  return read_concat(op, &axis);
}

bool qir_infer_concat(qir_op *op, const qir_type **out) {
  unsigned axis;
  if (!qir_ops_infer_pre(op) || !read_concat(op, &axis))
    return false;
  const qir_type *t0 = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned d = 0; d < t0->rank; d++)
    dims[d] = t0->dims[d];
  for (unsigned d = 0; d < t0->rank; d++)
    for (unsigned i = 1; i < op->num_operands; i++)
      if (d != axis && dims[d] == QIR_DYN)
        dims[d] = qir_ops_type(op, i)->dims[d];
  dims[axis] = 0;
  for (unsigned i = 0; i < op->num_operands && dims[axis] != QIR_DYN; i++) {
    int64_t s = qir_ops_type(op, i)->dims[axis];
    if (s == QIR_DYN)
      dims[axis] = QIR_DYN;
    else if (!qir_ops_add(dims[axis], s, &dims[axis]))
      return qir_ops_overflow(op);
  }
  out[0] = qir_ops_tensor(op, t0->elem, t0->rank, dims);
  return true;
}

/* ---- split ------------------------------------------------------------- */

/* The size of each result along the axis (QIR_DYN when unknown). */
static bool read_split(qir_op *op, unsigned *axis, int64_t *sizes) {
  const qir_type *x = qir_ops_type(op, 0);
  int64_t a;
  unsigned n = op->num_results;
  if (!qir_ops_attr_int(op, "axis", 0, &a) || !qir_ops_check_min_rank(op, 0, 1) ||
      !qir_ops_norm_axis(op, "axis", a, x->rank, axis))
    return false;
  if (n == 0) {
    qir_op_emit_error(op, "must have at least one result");
    return false;
  }
  int64_t dim = x->dims[*axis];
  if (!qir_op_get_attr(op, "sizes")) {
    if (dim != QIR_DYN && dim % n != 0) {
      qir_op_emit_error(op, "cannot split size %" PRId64 " into %u equal parts",
                        dim, n);
      return false;
    }
    for (unsigned i = 0; i < n; i++)
      sizes[i] = dim == QIR_DYN ? QIR_DYN : dim / n;
    return true;
  }
  const qir_attr *sa = qir_op_get_attr(op, "sizes");
  if (sa->kind == QIR_ATTR_ARRAY && sa->u.array.n != n) {
    qir_op_emit_error(op, "attribute 'sizes' has %u elements but the op has "
                          "%u results",
                      sa->u.array.n, n);
    return false;
  }
  if (qir_ops_attr_ints(op, "sizes", sizes, n) < 0)
    return false;
  if (!qir_ops_check_nonneg(op, "sizes", sizes, n))
    return false;
  int64_t sum = 0;
  for (unsigned i = 0; i < n; i++)
    if (!qir_ops_add(sum, sizes[i], &sum))
      return qir_ops_overflow(op);
  if (differ(sum, dim)) {
    qir_op_emit_error(op, "attribute 'sizes' sums to %" PRId64 " but the "
                          "split dim has size %" PRId64,
                      sum, dim);
    return false;
  }
  return true;
}

bool qir_verify_split(qir_op *op) {
  unsigned axis;
  int64_t *sizes = qir_xcalloc(op->num_results + 1, sizeof *sizes);
  bool ok = read_split(op, &axis, sizes);
  free(sizes);
  return ok;
}

bool qir_infer_split(qir_op *op, const qir_type **out) {
  unsigned axis;
  if (!qir_ops_infer_pre(op))
    return false;
  int64_t *sizes = qir_xcalloc(op->num_results + 1, sizeof *sizes);
  bool ok = read_split(op, &axis, sizes);
  const qir_type *x = qir_ops_type(op, 0);
  for (unsigned i = 0; ok && i < op->num_results; i++) {
    int64_t dims[QIR_MAX_RANK];
    for (unsigned d = 0; d < x->rank; d++)
      dims[d] = d == axis ? sizes[i] : x->dims[d];
    out[i] = qir_ops_tensor(op, x->elem, x->rank, dims);
  }
  free(sizes);
  return ok;
}

/* ---- slice ------------------------------------------------------------- */

typedef struct slice_spec {
  unsigned n;
  int64_t starts[QIR_MAX_RANK], ends[QIR_MAX_RANK], steps[QIR_MAX_RANK];
  unsigned axes[QIR_MAX_RANK];
} slice_spec;

static bool read_slice_lists(qir_op *op, slice_spec *s, int64_t *axes,
                             int *nsteps, int *naxes) {
  if (!qir_ops_require_attr(op, "starts") || !qir_ops_require_attr(op, "ends"))
    return false;
  int ns = qir_ops_attr_ints(op, "starts", s->starts, QIR_MAX_RANK);
  int ne = qir_ops_attr_ints(op, "ends", s->ends, QIR_MAX_RANK);
  *naxes = qir_ops_attr_ints(op, "axes", axes, QIR_MAX_RANK);
  *nsteps = qir_ops_attr_ints(op, "steps", s->steps, QIR_MAX_RANK);
  if (ns < 0 || ne < 0 || *naxes == -2 || *nsteps == -2)
    return false;
  if (ne != ns || (*naxes >= 0 && *naxes != ns) ||
      (*nsteps >= 0 && *nsteps != ns)) {
    qir_op_emit_error(op, "attributes 'starts', 'ends', 'axes' and 'steps' "
                          "must have the same length");
    return false;
  }
  s->n = (unsigned)ns;
  return true;
}

static bool read_slice(qir_op *op, slice_spec *s) {
  int64_t axes[QIR_MAX_RANK];
  int nsteps, naxes;
  unsigned rank = qir_ops_type(op, 0)->rank;
  if (!read_slice_lists(op, s, axes, &nsteps, &naxes))
    return false;
  bool seen[QIR_MAX_RANK] = {false};
  for (unsigned i = 0; i < s->n; i++) {
    if (nsteps < 0)
      s->steps[i] = 1;
    if (s->steps[i] == 0) {
      qir_op_emit_error(op, "attribute 'steps' must not contain 0");
      return false;
    }
    if (!qir_ops_norm_axis(op, "axes", naxes < 0 ? (int64_t)i : axes[i], rank,
                           &s->axes[i]))
      return false;
    if (seen[s->axes[i]]) {
      qir_op_emit_error(op, "attribute 'axes' names axis %u twice",
                        s->axes[i]);
      return false;
    }
    seen[s->axes[i]] = true;
  }
  return true;
}

bool qir_verify_slice(qir_op *op) {
  slice_spec s;
  return read_slice(op, &s);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* ONNX Slice: negative starts/ends count from the end, then clamp to
 * [0, dim] (step > 0) or [-1, dim - 1] (step < 0). */
int64_t qir_ops_slice_len(int64_t dim, int64_t start, int64_t end,
                          int64_t step, int64_t *first) {
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = clamp(start, 0, dim);
    end = clamp(end, 0, dim);
  } else {
    start = clamp(start, -1, dim - 1);
    end = clamp(end, -1, dim - 1);
  }
  *first = start;
  int64_t span = end - start; /* both within [-1, dim] */
  if ((step > 0 && span <= 0) || (step < 0 && span >= 0))
    return 0;
  /* ceil(span / step) without overflow for huge steps */
  if (step > 0)
    return (span - 1) / step + 1;
  return step == INT64_MIN ? 1 : (-span - 1) / -step + 1;
}

bool qir_infer_slice(qir_op *op, const qir_type **out) {
  slice_spec s;
  if (!qir_ops_infer_pre(op) || !read_slice(op, &s))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK], first;
  for (unsigned d = 0; d < x->rank; d++)
    dims[d] = x->dims[d];
  for (unsigned i = 0; i < s.n; i++) {
    int64_t dim = x->dims[s.axes[i]];
    dims[s.axes[i]] =
        dim == QIR_DYN ? QIR_DYN
                       : qir_ops_slice_len(dim, s.starts[i], s.ends[i],
                                           s.steps[i], &first);
  }
  out[0] = qir_ops_tensor(op, x->elem, x->rank, dims);
  return true;
}

/* ---- reshape ------------------------------------------------------------ */

static bool read_reshape(qir_op *op, int64_t *shape, unsigned *rank) {
  int n = qir_ops_attr_ints(op, "shape", shape, QIR_MAX_RANK);
  if (n == -1)
    return qir_ops_require_attr(op, "shape");
  if (n < 0)
    return false;
  *rank = (unsigned)n;
  int minus = 0;
  for (int i = 0; i < n; i++) {
    if (shape[i] < -1) {
      qir_op_emit_error(op, "attribute 'shape' has an invalid dim %" PRId64,
                        shape[i]);
      return false;
    }
    minus += shape[i] == -1;
  }
  if (minus > 1) {
    qir_op_emit_error(op, "attribute 'shape' has more than one -1");
    return false;
  }
  return true;
}

/* Resolves the -1 of `shape` against x; false (with an error) when the
 * element counts cannot agree. */
static bool resolve_reshape(qir_op *op, int64_t *shape, unsigned rank) {
  int64_t total = qir_tensor_num_elements(qir_ops_type(op, 0));
  int64_t known = 1;
  int minus = -1;
  for (unsigned i = 0; i < rank; i++) {
    if (shape[i] == -1)
      minus = (int)i;
    else if (known > INT64_MAX / (shape[i] ? shape[i] : 1))
      known = -2; /* overflow: cannot match */
    else
      known *= shape[i];
  }
  if (total < 0)
    return true; /* dynamic input: the -1 stays dynamic */
  bool ok = known >= 0 && (minus >= 0 ? known != 0 && total % known == 0
                                      : known == total);
  if (!ok) {
    qir_op_emit_error(op, "cannot reshape %s into shape %s",
                      qir_ops_type_str(op->ctx, qir_ops_type(op, 0)),
                      qir_ops_ints_str(op->ctx, shape, rank));
    return false;
  }
  if (minus >= 0)
    shape[minus] = total / known;
  return true;
}

bool qir_verify_reshape(qir_op *op) {
  int64_t shape[QIR_MAX_RANK];
  unsigned rank;
  return read_reshape(op, shape, &rank) && resolve_reshape(op, shape, rank);
}

bool qir_infer_reshape(qir_op *op, const qir_type **out) {
  int64_t shape[QIR_MAX_RANK];
  unsigned rank;
  if (!qir_ops_infer_pre(op) || !read_reshape(op, shape, &rank) ||
      !resolve_reshape(op, shape, rank))
    return false;
  out[0] = qir_ops_tensor(op, qir_ops_type(op, 0)->elem, rank, shape);
  return true;
}

/* ---- transpose ---------------------------------------------------------- */

/* perm (absent: the reversed dims, as in ONNX). */
static bool read_perm(qir_op *op, unsigned *perm) {
  unsigned rank = qir_ops_type(op, 0)->rank;
  int64_t p[QIR_MAX_RANK];
  int n = qir_ops_attr_ints(op, "perm", p, QIR_MAX_RANK);
  if (n == -2)
    return false;
  if (n == -1) {
    for (unsigned i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
    return true;
  }
  bool seen[QIR_MAX_RANK] = {false}, ok = (unsigned)n == rank;
  for (int i = 0; ok && i < n; i++) {
    ok = p[i] >= 0 && p[i] < (int64_t)rank && !seen[p[i]];
    if (ok) {
      seen[p[i]] = true;
      perm[i] = (unsigned)p[i];
    }
  }
  if (!ok)
    qir_op_emit_error(op, "attribute 'perm' %s is not a permutation of the "
                          "%u dims",
                      qir_ops_ints_str(op->ctx, p, (unsigned)n), rank);
  return ok;
}

bool qir_verify_transpose(qir_op *op) {
  unsigned perm[QIR_MAX_RANK];
  return read_perm(op, perm);
}

bool qir_infer_transpose(qir_op *op, const qir_type **out) {
  unsigned perm[QIR_MAX_RANK];
  if (!qir_ops_infer_pre(op) || !read_perm(op, perm))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < x->rank; i++)
    dims[i] = x->dims[perm[i]];
  out[0] = qir_ops_tensor(op, x->elem, x->rank, dims);
  return true;
}

/* ---- pad ------------------------------------------------------------- */

static const char *const pad_modes[] = {"constant", "reflect", "edge", NULL};

static bool read_pad(qir_op *op, int64_t *pads, int *mode) {
  const qir_type *x = qir_ops_type(op, 0);
  double value;
  if (!qir_ops_attr_ints_n(op, "pads", 2 * x->rank, true, 0, pads) ||
      !qir_ops_attr_enum(op, "mode", pad_modes, 0, mode) ||
      !qir_ops_attr_float(op, "value", 0.0, &value))
    return false;
  for (unsigned i = 0; i < x->rank; i++) {
    int64_t d = x->dims[i], b = pads[i], e = pads[i + x->rank], sum;
    if (!qir_ops_add(b, e, &sum) || (d != QIR_DYN && !qir_ops_add(d, sum, &sum)))
      return qir_ops_overflow(op);
    if (d != QIR_DYN && sum < 0) {
      qir_op_emit_error(op, "attribute 'pads' removes more than dim %u has",
                        i);
      return false;
    }
    if (*mode == 1 && d != QIR_DYN && (b >= d || e >= d)) {
      qir_op_emit_error(op, "reflect padding of dim %u must be smaller than "
                            "its size %" PRId64,
                        i, d);
      return false;
    }
    if (*mode != 0 && (b < 0 || e < 0)) {
      qir_op_emit_error(op, "attribute 'pads' may be negative only in "
                            "constant mode");
      return false;
    }
  }
  return true;
}

bool qir_verify_pad(qir_op *op) {
  int64_t pads[2 * QIR_MAX_RANK];
  int mode;
  return read_pad(op, pads, &mode);
}

bool qir_infer_pad(qir_op *op, const qir_type **out) {
  int64_t pads[2 * QIR_MAX_RANK];
  int mode;
  if (!qir_ops_infer_pre(op) || !read_pad(op, pads, &mode))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < x->rank; i++)
    dims[i] = x->dims[i] == QIR_DYN ? QIR_DYN
                                    : x->dims[i] + pads[i] + pads[i + x->rank];
  /* (read_pad checked the sums) */
  out[0] = qir_ops_tensor(op, x->elem, x->rank, dims);
  return true;
}

/* ---- resize ------------------------------------------------------------- */

static bool read_resize(qir_op *op, int64_t *sizes) {
  static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
  static const char *const coords[] = {
      "half_pixel",         "asymmetric",           "align_corners",
      "pytorch_half_pixel", "tf_half_pixel_for_nn", NULL};
  static const char *const nearest[] = {"round_prefer_floor",
                                        "round_prefer_ceil", "floor", "ceil",
                                        NULL};
  const qir_type *x = qir_ops_type(op, 0);
  int mode, coord, near;
  double a;
  return qir_ops_attr_enum(op, "mode", modes, 0, &mode) &&
         qir_ops_attr_enum(op, "coordinate_transformation_mode", coords, 0,
                           &coord) &&
         qir_ops_attr_enum(op, "nearest_mode", nearest, 0, &near) &&
         qir_ops_attr_float(op, "cubic_coeff_a", -0.75, &a) &&
         qir_ops_attr_ints_n(op, "sizes", x->rank, true, 0, sizes) &&
         qir_ops_check_positive(op, "sizes", sizes, x->rank);
}

bool qir_verify_resize(qir_op *op) {
  int64_t sizes[QIR_MAX_RANK];
  return read_resize(op, sizes);
}

bool qir_infer_resize(qir_op *op, const qir_type **out) {
  int64_t sizes[QIR_MAX_RANK];
  if (!qir_ops_infer_pre(op) || !read_resize(op, sizes))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  out[0] = qir_ops_tensor(op, x->elem, x->rank, sizes);
  return true;
}

/* ---- gather ------------------------------------------------------------- */

static bool read_gather(qir_op *op, unsigned *axis) {
  int64_t a;
  return qir_ops_check_min_rank(op, 0, 1) &&
         qir_ops_check_elem(op, 1, QIR_ELEM_INDEX) &&
         qir_ops_attr_int(op, "axis", 0, &a) &&
         qir_ops_norm_axis(op, "axis", a, qir_ops_type(op, 0)->rank, axis);
}

bool qir_verify_gather(qir_op *op) {
  unsigned axis;
  return read_gather(op, &axis);
}

bool qir_infer_gather(qir_op *op, const qir_type **out) {
  unsigned axis;
  if (!qir_ops_infer_pre(op) || !read_gather(op, &axis))
    return false;
  const qir_type *x = qir_ops_type(op, 0), *idx = qir_ops_type(op, 1);
  unsigned rank = x->rank - 1 + idx->rank;
  if (rank > QIR_MAX_RANK) {
    qir_op_emit_error(op, "result rank %u exceeds %d", rank, QIR_MAX_RANK);
    return false;
  }
  int64_t dims[2 * QIR_MAX_RANK];
  unsigned n = 0;
  for (unsigned i = 0; i < axis; i++)
    dims[n++] = x->dims[i];
  for (unsigned i = 0; i < idx->rank; i++)
    dims[n++] = idx->dims[i];
  for (unsigned i = axis + 1; i < x->rank; i++)
    dims[n++] = x->dims[i];
  out[0] = qir_ops_tensor(op, x->elem, rank, dims);
  return true;
}

/* ---- expand, tile ----------------------------------------------------- */

static bool expand_shape(qir_op *op, int64_t *dims, unsigned *rank) {
  int64_t shape[QIR_MAX_RANK];
  int n = qir_ops_attr_ints(op, "shape", shape, QIR_MAX_RANK);
  if (n == -1)
    return qir_ops_require_attr(op, "shape");
  if (n < 0 || !qir_ops_check_nonneg(op, "shape", shape, (unsigned)n))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  const qir_type *target = qir_tensor_of(op->ctx, QIR_I1, (unsigned)n, shape);
  if (!qir_ops_broadcast(x, target, dims, rank)) {
    qir_op_emit_error(op, "%s does not broadcast to shape %s",
                      qir_ops_type_str(op->ctx, x),
                      qir_ops_ints_str(op->ctx, shape, (unsigned)n));
    return false;
  }
  return true;
}

bool qir_verify_expand(qir_op *op) {
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  return expand_shape(op, dims, &rank);
}

bool qir_infer_expand(qir_op *op, const qir_type **out) {
  int64_t dims[QIR_MAX_RANK];
  unsigned rank;
  if (!qir_ops_infer_pre(op) || !expand_shape(op, dims, &rank))
    return false;
  out[0] = qir_ops_tensor(op, qir_ops_type(op, 0)->elem, rank, dims);
  return true;
}

static bool read_tile(qir_op *op, int64_t *repeats) {
  const qir_type *x = qir_ops_type(op, 0);
  int64_t d;
  if (!qir_ops_attr_ints_n(op, "repeats", x->rank, true, 1, repeats) ||
      !qir_ops_check_nonneg(op, "repeats", repeats, x->rank))
    return false;
  for (unsigned i = 0; i < x->rank; i++)
    if (x->dims[i] != QIR_DYN && !qir_ops_mul(x->dims[i], repeats[i], &d))
      return qir_ops_overflow(op);
  return true;
}

bool qir_verify_tile(qir_op *op) {
  int64_t repeats[QIR_MAX_RANK];
  return read_tile(op, repeats);
}

bool qir_infer_tile(qir_op *op, const qir_type **out) {
  int64_t repeats[QIR_MAX_RANK], dims[QIR_MAX_RANK];
  if (!qir_ops_infer_pre(op) || !read_tile(op, repeats))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  for (unsigned i = 0; i < x->rank; i++)
    dims[i] = x->dims[i] == QIR_DYN ? QIR_DYN : x->dims[i] * repeats[i];
  out[0] = qir_ops_tensor(op, x->elem, x->rank, dims);
  return true;
}

/* ---- depth_to_space, space_to_depth ------------------------------------ */

static bool read_depth_space(qir_op *op, int64_t *block) {
  static const char *const modes[] = {"DCR", "CRD", NULL};
  int mode;
  if (!qir_ops_check_rank(op, 0, 4) ||
      !qir_ops_require_attr(op, "blocksize") ||
      !qir_ops_attr_int(op, "blocksize", 1, block) ||
      !qir_ops_check_positive(op, "blocksize", block, 1) ||
      !qir_ops_attr_enum(op, "mode", modes, 0, &mode))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t sq, d;
  if (!qir_ops_mul(*block, *block, &sq) ||
      (x->dims[1] != QIR_DYN && !qir_ops_mul(x->dims[1], sq, &d)) ||
      (x->dims[2] != QIR_DYN && !qir_ops_mul(x->dims[2], *block, &d)) ||
      (x->dims[3] != QIR_DYN && !qir_ops_mul(x->dims[3], *block, &d)))
    return qir_ops_overflow(op);
  if (qir_op_is(op, QIR_OP_DEPTH_TO_SPACE)) {
    if (x->dims[1] != QIR_DYN && x->dims[1] % (*block * *block) != 0) {
      qir_op_emit_error(op, "%" PRId64 " channels are not divisible by "
                            "blocksize^2 = %" PRId64,
                        x->dims[1], *block * *block);
      return false;
    }
    return true;
  }
  for (unsigned i = 2; i < 4; i++)
    if (x->dims[i] != QIR_DYN && x->dims[i] % *block != 0) {
      qir_op_emit_error(op, "spatial dim %u of size %" PRId64 " is not "
                            "divisible by blocksize %" PRId64,
                        i, x->dims[i], *block);
      return false;
    }
  return true;
}

bool qir_verify_depth_space(qir_op *op) {
  int64_t block;
  return read_depth_space(op, &block);
}

static int64_t dyn_mul(int64_t d, int64_t k) { return d == QIR_DYN ? d : d * k; }
static int64_t dyn_div(int64_t d, int64_t k) { return d == QIR_DYN ? d : d / k; }

bool qir_infer_depth_to_space(qir_op *op, const qir_type **out) {
  int64_t b;
  if (!qir_ops_infer_pre(op) || !read_depth_space(op, &b))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[4] = {x->dims[0], dyn_div(x->dims[1], b * b),
                     dyn_mul(x->dims[2], b), dyn_mul(x->dims[3], b)};
  out[0] = qir_ops_tensor(op, x->elem, 4, dims);
  return true;
}

bool qir_infer_space_to_depth(qir_op *op, const qir_type **out) {
  int64_t b;
  if (!qir_ops_infer_pre(op) || !read_depth_space(op, &b))
    return false;
  const qir_type *x = qir_ops_type(op, 0);
  int64_t dims[4] = {x->dims[0], dyn_mul(x->dims[1], b * b),
                     dyn_div(x->dims[2], b), dyn_div(x->dims[3], b)};
  out[0] = qir_ops_tensor(op, x->elem, 4, dims);
  return true;
}
