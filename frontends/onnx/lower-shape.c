/* frontends/onnx/lower-shape.c - constants, data movement and shape
 * computations.  ONNX inputs that qir takes as attributes (Reshape shape,
 * Slice starts, Pad pads, Resize sizes, ...) must be constants here; shape
 * sub-graphs fold to constants as they are lowered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

static bool need_input(onnx_importer *imp, qir_value *const *in,
                       unsigned nin) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected an input");
  return true;
}

static qir_named_attr ints_attr(onnx_importer *imp, const char *name,
                                unsigned n, const int64_t *v) {
  return onnx_named(imp, name, qir_attr_ints(imp->ctx, n, v));
}

/* ---- Constants ---------------------------------------------------------- */

bool onnx_lower_constant(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  qir_context *ctx = imp->ctx;
  const onnx_attr *a;
  const qir_attr *dense = NULL;
  if ((a = onnx_find_attr(node, "value")) && a->t) {
    dense = onnx_tensor_to_dense(imp, a->t);
    if (!dense)
      return false;
  } else if ((a = onnx_find_attr(node, "value_float")) && a->has_f) {
    double v = a->f;
    dense = qir_attr_dense_from_f64(ctx, qir_tensor_of(ctx, QIR_F32, 0, NULL),
                                    &v);
  } else if ((a = onnx_find_attr(node, "value_int")) && a->has_i) {
    dense = qir_attr_dense_from_i64(ctx, qir_tensor_of(ctx, QIR_I64, 0, NULL),
                                    &a->i);
  } else if ((a = onnx_find_attr(node, "value_floats"))) {
    int64_t n = (int64_t)a->n_floats;
    double *v = qir_xcalloc(a->n_floats + 1, sizeof *v);
    for (size_t i = 0; i < a->n_floats; i++)
      v[i] = a->floats[i];
    dense = qir_attr_dense_from_f64(ctx, qir_tensor_of(ctx, QIR_F32, 1, &n),
                                    v);
    free(v);
  } else if ((a = onnx_find_attr(node, "value_ints"))) {
    int64_t n = (int64_t)a->n_ints;
    dense = qir_attr_dense_from_i64(ctx, qir_tensor_of(ctx, QIR_I64, 1, &n),
                                    a->ints);
  } else {
    return onnx_error(imp, "only tensor, float and int values are supported "
                           "(not strings or sparse tensors)");
  }
  out[0] = onnx_const(imp, dense);
  return true;
}

bool onnx_lower_constant_of_shape(onnx_importer *imp, const onnx_node *node,
                                  qir_value *const *in, unsigned nin,
                                  qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  const onnx_attr *a = onnx_find_attr(node, "value");
  const qir_attr *value;
  if (a && a->t) {
    value = onnx_tensor_to_dense(imp, a->t);
    if (!value)
      return false;
    if (qir_dense_num_elements(value) != 1)
      return onnx_error(imp, "attribute 'value' must hold one element");
  } else {
    float zero = 0;
    int64_t one = 1;
    value = qir_attr_dense(imp->ctx, qir_loc_unknown(),
                           qir_tensor_of(imp->ctx, QIR_F32, 1, &one), &zero,
                           sizeof zero);
  }
  int64_t dims[QIR_MAX_RANK];
  if (!qir_value_constant(in[0])) {
    qir_named_attr na = onnx_named(imp, "value", value);
    return (out[0] = onnx_emit(imp, QIR_OP_CONSTANT_OF_SHAPE, 1, in, 1, &na)) !=
           NULL;
  }
  int n = onnx_const_ints(imp, in[0], "shape", dims, QIR_MAX_RANK);
  if (n < 0)
    return false;
  for (int i = 0; i < n; i++)
    if (dims[i] < 0 || dims[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "absurd dimension %lld", (long long)dims[i]);
  const qir_type *t = qir_tensor_of(imp->ctx, value->u.dense.type->scalar,
                                    (unsigned)n, dims);
  if (qir_tensor_num_elements(t) < 0 ||
      qir_tensor_num_elements(t) > ONNX_MAX_TENSOR_ELEMENTS)
    return onnx_error(imp, "the result is absurdly large");
  out[0] = onnx_const(imp, qir_attr_dense_splat(imp->ctx, t,
                                                value->u.dense.data));
  return true;
}

bool onnx_lower_shape(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  const qir_type *t = in[0]->type;
  int64_t r = t->rank;
  int64_t start = onnx_attr_int(node, "start", 0);
  int64_t end = onnx_attr_int(node, "end", r);
  start = start < 0 ? start + r : start;
  end = end < 0 ? end + r : end;
  start = start < 0 ? 0 : start > r ? r : start;
  end = end < start ? start : end > r ? r : end;
  bool is_static = true;
  for (int64_t i = start; i < end; i++)
    is_static = is_static && t->dims[i] != QIR_DYN;
  if (is_static) {
    out[0] = onnx_const_i64s(imp, (unsigned)(end - start), t->dims + start);
    return true;
  }
  qir_named_attr attrs[2] = {
      onnx_named(imp, "start", qir_attr_int(imp->ctx, start)),
      onnx_named(imp, "end", qir_attr_int(imp->ctx, end))};
  return (out[0] = onnx_emit(imp, QIR_OP_SHAPE, 1, in, 2, attrs)) != NULL;
}

bool onnx_lower_size(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin) ||
      !onnx_static_shape(imp, in[0], "the input"))
    return false;
  int64_t n = qir_tensor_num_elements(in[0]->type);
  out[0] = onnx_const(imp, qir_attr_dense_from_i64(
                               imp->ctx, qir_tensor_of(imp->ctx, QIR_I64, 0,
                                                       NULL),
                               &n));
  return true;
}

bool onnx_lower_range(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 3 || !in[0] || !in[1] || !in[2])
    return onnx_error(imp, "expected 3 inputs");
  return (out[0] = onnx_emit(imp, QIR_OP_RANGE, 3, in, 0, NULL)) != NULL;
}

/* ---- Joining and splitting ---------------------------------------------- */

bool onnx_lower_concat(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1)
    return onnx_error(imp, "expected at least 1 input");
  for (unsigned i = 0; i < nin; i++)
    if (!in[i])
      return onnx_error(imp, "input %u is empty", i);
  int64_t axis;
  if (!onnx_find_attr(node, "axis"))
    return onnx_error(imp, "attribute 'axis' is missing");
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), in[0]->type->rank,
                      &axis))
    return false;
  if (nin == 1)
    return (out[0] = in[0]) != NULL;
  qir_named_attr a = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
  return (out[0] = onnx_emit(imp, QIR_OP_CONCAT, nin, in, 1, &a)) != NULL;
}

bool onnx_lower_split(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  const qir_type *t = in[0]->type;
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), t->rank, &axis))
    return false;
  unsigned nout = (unsigned)node->n_output;
  int64_t sizes[64];
  int n;
  if (imp->opset < 13)
    n = onnx_attr_ints(imp, node, "split", sizes, 64);
  else
    n = nin > 1 && in[1] ? onnx_const_ints(imp, in[1], "split", sizes, 64)
                         : -1;
  if (n == -2 || (n == -1 && imp->opset >= 13 && nin > 1 && in[1]))
    return false;
  int64_t dim = t->dims[axis];
  if (n < 0) {
    if (dim == QIR_DYN)
      return onnx_error(imp, "the split axis is dynamic");
    int64_t chunk = (dim + nout - 1) / nout;
    for (unsigned i = 0; i < nout; i++) {
      int64_t left = dim - chunk * i;
      sizes[i] = left < chunk ? (left < 0 ? 0 : left) : chunk;
    }
    n = (int)nout;
  }
  if ((unsigned)n != nout)
    return onnx_error(imp, "split has %d sizes for %u outputs", n, nout);
  int64_t sum = 0;
  const qir_type *types[64];
  for (unsigned i = 0; i < nout; i++) {
    if (sizes[i] < 0 || sizes[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "invalid split size %lld", (long long)sizes[i]);
    sum += sizes[i];
    int64_t dims[QIR_MAX_RANK];
    memcpy(dims, t->dims, t->rank * sizeof *dims);
    dims[axis] = sizes[i];
    types[i] = qir_tensor_with_dims(imp->ctx, t, t->rank, dims);
  }
  if (dim != QIR_DYN && sum != dim)
    return onnx_error(imp, "split sizes add up to %lld, not %lld",
                      (long long)sum, (long long)dim);
  qir_named_attr attrs[2] = {
      onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis)),
      ints_attr(imp, "sizes", nout, sizes)};
  return onnx_emit_multi(imp, QIR_OP_SPLIT, 1, in, 2, attrs, nout, types, out);
}

/* ---- Slicing ------------------------------------------------------------ */

bool onnx_lower_slice(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  unsigned rank = in[0]->type->rank;
  int64_t starts[QIR_MAX_RANK], ends[QIR_MAX_RANK], axes[QIR_MAX_RANK],
      steps[QIR_MAX_RANK];
  int ns, ne, na = -1, nst = -1;
  if (imp->opset < 10) {
    ns = onnx_attr_ints(imp, node, "starts", starts, QIR_MAX_RANK);
    ne = onnx_attr_ints(imp, node, "ends", ends, QIR_MAX_RANK);
    na = onnx_attr_ints(imp, node, "axes", axes, QIR_MAX_RANK);
    if (ns < 0 || ne < 0 || na == -2)
      return ns == -2 || ne == -2 || na == -2
                 ? false
                 : onnx_error(imp, "attributes 'starts' and 'ends' are "
                                   "required");
  } else {
    if (nin < 3 || !in[1] || !in[2])
      return onnx_error(imp, "inputs 'starts' and 'ends' are required");
    ns = onnx_const_ints(imp, in[1], "starts", starts, QIR_MAX_RANK);
    ne = onnx_const_ints(imp, in[2], "ends", ends, QIR_MAX_RANK);
    if (ns < 0 || ne < 0)
      return false;
    if (nin > 3 && in[3] &&
        (na = onnx_const_ints(imp, in[3], "axes", axes, QIR_MAX_RANK)) < 0)
      return false;
    if (nin > 4 && in[4] &&
        (nst = onnx_const_ints(imp, in[4], "steps", steps, QIR_MAX_RANK)) < 0)
      return false;
  }
  if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
    return onnx_error(imp, "starts, ends, axes and steps differ in length");
  if (na < 0)
    for (int i = 0; i < ns; i++)
      axes[i] = i;
  for (int i = 0; i < ns; i++) {
    if (!onnx_norm_axis(imp, axes[i], rank, &axes[i]))
      return false;
    if (nst >= 0 && steps[i] == 0)
      return onnx_error(imp, "a step is 0");
  }
  qir_named_attr attrs[4];
  unsigned n = 0;
  attrs[n++] = ints_attr(imp, "starts", (unsigned)ns, starts);
  attrs[n++] = ints_attr(imp, "ends", (unsigned)ns, ends);
  attrs[n++] = ints_attr(imp, "axes", (unsigned)ns, axes);
  if (nst >= 0)
    attrs[n++] = ints_attr(imp, "steps", (unsigned)ns, steps);
  return (out[0] = onnx_emit(imp, QIR_OP_SLICE, 1, in, n, attrs)) != NULL;
}

/* ---- Reshapes ----------------------------------------------------------- */

bool onnx_lower_reshape(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  int64_t shape[QIR_MAX_RANK];
  int n = nin > 1 && in[1]
              ? onnx_const_ints(imp, in[1], "shape", shape, QIR_MAX_RANK)
              : onnx_attr_ints(imp, node, "shape", shape, QIR_MAX_RANK);
  if (n < 0)
    return n == -1 && !(nin > 1 && in[1])
               ? onnx_error(imp, "the shape is missing")
               : false;
  const qir_type *t = in[0]->type;
  bool allowzero = onnx_attr_int(node, "allowzero", 0) != 0;
  unsigned neg = 0;
  for (int i = 0; i < n; i++) {
    if (shape[i] == 0 && !allowzero) {
      if ((unsigned)i >= t->rank)
        return onnx_error(imp, "shape entry %d copies a dimension the input "
                               "does not have",
                          i);
      shape[i] = t->dims[i];
    }
    if (shape[i] < -1 || shape[i] > ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "invalid shape entry %lld", (long long)shape[i]);
    neg += shape[i] == -1;
  }
  if (neg > 1)
    return onnx_error(imp, "the shape has more than one -1");
  qir_named_attr a = ints_attr(imp, "shape", (unsigned)n, shape);
  return (out[0] = onnx_emit(imp, QIR_OP_RESHAPE, 1, in, 1, &a)) != NULL;
}

bool onnx_lower_flatten(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin) || !onnx_static_shape(imp, in[0], "the input"))
    return false;
  const qir_type *t = in[0]->type;
  int64_t axis = onnx_attr_int(node, "axis", 1);
  if (axis < 0)
    axis += t->rank;
  if (axis < 0 || axis > (int64_t)t->rank)
    return onnx_error(imp, "axis is out of range");
  int64_t dims[2] = {1, 1};
  for (unsigned i = 0; i < t->rank; i++)
    dims[i < axis ? 0 : 1] *= t->dims[i];
  return (out[0] = onnx_emit_reshape(imp, in[0], 2, dims)) != NULL;
}

/* Axes of Squeeze/Unsqueeze: an attribute before opset 13, then an input. */
static int squeeze_axes(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, int64_t *axes) {
  if (imp->opset < 13)
    return onnx_attr_ints(imp, node, "axes", axes, QIR_MAX_RANK);
  if (nin > 1 && in[1]) {
    int n = onnx_const_ints(imp, in[1], "axes", axes, QIR_MAX_RANK);
    return n < 0 ? -2 : n;
  }
  return -1;
}

bool onnx_lower_squeeze(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  const qir_type *t = in[0]->type;
  int64_t axes[QIR_MAX_RANK];
  int n = squeeze_axes(imp, node, in, nin, axes);
  if (n == -2)
    return false;
  bool drop[QIR_MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    int64_t a;
    if (!onnx_norm_axis(imp, axes[i], t->rank, &a))
      return false;
    if (t->dims[a] != 1)
      return onnx_error(imp, "cannot squeeze dimension %lld of size %lld",
                        (long long)a, (long long)t->dims[a]);
    drop[a] = true;
  }
  if (n < 0) {
    if (!onnx_static_shape(imp, in[0], "the input"))
      return false;
    for (unsigned i = 0; i < t->rank; i++)
      drop[i] = t->dims[i] == 1;
  }
  int64_t dims[QIR_MAX_RANK];
  unsigned r = 0;
  for (unsigned i = 0; i < t->rank; i++)
    if (!drop[i])
      dims[r++] = t->dims[i];
  return (out[0] = onnx_emit_reshape(imp, in[0], r, dims)) != NULL;
}

bool onnx_lower_unsqueeze(onnx_importer *imp, const onnx_node *node,
                          qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  const qir_type *t = in[0]->type;
  int64_t axes[QIR_MAX_RANK];
  int n = squeeze_axes(imp, node, in, nin, axes);
  if (n < 0)
    return n == -1 ? onnx_error(imp, "axes are required") : false;
  unsigned r = t->rank + (unsigned)n;
  if (r > QIR_MAX_RANK)
    return onnx_error(imp, "the result has rank %u", r);
  bool ins[QIR_MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    int64_t a;
    if (!onnx_norm_axis(imp, axes[i], r, &a))
      return false;
    if (ins[a])
      return onnx_error(imp, "axis %lld is repeated", (long long)a);
    ins[a] = true;
  }
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0, j = 0; i < r; i++)
    dims[i] = ins[i] ? 1 : t->dims[j++];
  return (out[0] = onnx_emit_reshape(imp, in[0], r, dims)) != NULL;
}

bool onnx_lower_transpose(onnx_importer *imp, const onnx_node *node,
                          qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  unsigned rank = in[0]->type->rank;
  int64_t perm[QIR_MAX_RANK];
  int n = onnx_attr_ints(imp, node, "perm", perm, QIR_MAX_RANK);
  if (n == -2)
    return false;
  if (n < 0) {
    for (unsigned i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
    n = (int)rank;
  }
  if ((unsigned)n != rank)
    return onnx_error(imp, "perm has %d entries for rank %u", n, rank);
  qir_named_attr a = ints_attr(imp, "perm", rank, perm);
  return (out[0] = onnx_emit(imp, QIR_OP_TRANSPOSE, 1, in, 1, &a)) != NULL;
}

/* ---- Pad ---------------------------------------------------------------- */

bool onnx_lower_pad(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  unsigned rank = in[0]->type->rank;
  int64_t pads[2 * QIR_MAX_RANK], raw[2 * QIR_MAX_RANK];
  double value = 0;
  int n;
  if (imp->opset < 11) {
    n = onnx_attr_ints(imp, node, "pads", raw, 2 * QIR_MAX_RANK);
    if (n == -1)
      n = onnx_attr_ints(imp, node, "paddings", raw, 2 * QIR_MAX_RANK);
    value = onnx_attr_float(node, "value", 0.0);
  } else {
    if (nin < 2 || !in[1])
      return onnx_error(imp, "input 'pads' is required");
    n = onnx_const_ints(imp, in[1], "pads", raw, 2 * QIR_MAX_RANK);
    if (nin > 2 && in[2]) {
      double v[1];
      int c = onnx_const_floats(imp, in[2], "constant_value", v, 1);
      if (c < 0)
        return false;
      value = c ? v[0] : 0.0;
    }
  }
  if (n < 0)
    return n == -1 ? onnx_error(imp, "pads are required") : false;
  int64_t axes[QIR_MAX_RANK];
  int na = -1;
  if (nin > 3 && in[3] &&
      (na = onnx_const_ints(imp, in[3], "axes", axes, QIR_MAX_RANK)) < 0)
    return false;
  unsigned npairs = na >= 0 ? (unsigned)na : rank;
  if ((unsigned)n != 2 * npairs)
    return onnx_error(imp, "pads has %d values; expected %u", n, 2 * npairs);
  memset(pads, 0, sizeof pads);
  for (unsigned i = 0; i < npairs; i++) {
    int64_t a = i;
    if (na >= 0 && !onnx_norm_axis(imp, axes[i], rank, &a))
      return false;
    pads[a] = raw[i];
    pads[rank + a] = raw[npairs + i];
  }
  for (unsigned i = 0; i < 2 * rank; i++)
    if (pads[i] < 0)
      return onnx_error(imp, "negative pads are not supported");
  if (!onnx_check_dims(imp, "pads", (int)(2 * rank), pads))
    return false;
  const char *mode = onnx_attr_string(imp, node, "mode");
  if (mode && strcmp(mode, "constant") != 0 && strcmp(mode, "reflect") != 0 &&
      strcmp(mode, "edge") != 0)
    return onnx_error(imp, "pad mode '%s' is not supported", mode);
  qir_named_attr attrs[3];
  unsigned na2 = 0;
  attrs[na2++] = ints_attr(imp, "pads", 2 * rank, pads);
  if (mode && strcmp(mode, "constant") != 0)
    attrs[na2++] = onnx_named(imp, "mode", qir_attr_cstr(imp->ctx, mode));
  if (value != 0.0)
    attrs[na2++] = onnx_named(imp, "value", qir_attr_float(imp->ctx, value));
  return (out[0] = onnx_emit(imp, QIR_OP_PAD, 1, in, na2, attrs)) != NULL;
}

/* ---- Resize and Upsample ------------------------------------------------ */

/* `scales` (NULL: none) are the ONNX scales when one of them is not
 * exactly output / input: the resize op then keeps them as its `scales`
 * attribute and maps coordinates by them, as ONNX does. */
static bool emit_resize(onnx_importer *imp, qir_value *x, const int64_t *sizes,
                        const double *scales, const char *mode,
                        const char *coord, const char *nearest, double cubic_a,
                        qir_value **out) {
  if (strcmp(mode, "bilinear") == 0)
    mode = "linear";
  if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0 &&
      strcmp(mode, "cubic") != 0)
    return onnx_error(imp, "resize mode '%s' is not supported", mode);
  qir_named_attr attrs[6];
  unsigned n = 0;
  unsigned rank = x->type->rank;
  attrs[n++] = onnx_named(imp, "mode", qir_attr_cstr(imp->ctx, mode));
  attrs[n++] = ints_attr(imp, "sizes", rank, sizes);
  if (scales)
    attrs[n++] = onnx_named(imp, "scales",
                            qir_attr_floats(imp->ctx, rank, scales));
  attrs[n++] = onnx_named(imp, "coordinate_transformation_mode",
                          qir_attr_cstr(imp->ctx, coord));
  if (strcmp(mode, "nearest") == 0)
    attrs[n++] = onnx_named(imp, "nearest_mode",
                            qir_attr_cstr(imp->ctx, nearest));
  if (strcmp(mode, "cubic") == 0 && cubic_a != -0.75)
    attrs[n++] = onnx_named(imp, "cubic_coeff_a",
                            qir_attr_float(imp->ctx, cubic_a));
  return (out[0] = onnx_emit(imp, QIR_OP_RESIZE, 1, &x, n, attrs)) != NULL;
}

/* Output sizes from scales: floor(dim * scale).  *exact is cleared when
 * a scale is not exactly output / input (0.6 on a dim of 2): ONNX maps
 * coordinates by the scale itself, so the resize must keep the scales. */
static bool sizes_from_scales(onnx_importer *imp, qir_value *x,
                              const double *scales, int n, int64_t *sizes,
                              bool *exact) {
  const qir_type *t = x->type;
  if ((unsigned)n != t->rank)
    return onnx_error(imp, "%d scales for rank %u", n, t->rank);
  if (!onnx_static_shape(imp, x, "the input"))
    return false;
  *exact = true;
  for (unsigned i = 0; i < t->rank; i++) {
    double s = floor((double)t->dims[i] * scales[i]);
    if (!(scales[i] > 0) || s > (double)ONNX_MAX_TENSOR_ELEMENTS)
      return onnx_error(imp, "invalid scale %g", scales[i]);
    sizes[i] = (int64_t)s;
    if (t->dims[i] && (double)sizes[i] / (double)t->dims[i] != scales[i])
      *exact = false;
  }
  return true;
}

bool onnx_lower_resize(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  qir_value *x = in[0];
  unsigned rank = x->type->rank;
  const char *mode = onnx_attr_string(imp, node, "mode");
  const char *mode_buf = mode ? mode : "nearest";
  int64_t sizes[QIR_MAX_RANK];
  double scales[QIR_MAX_RANK];
  if (imp->opset < 11) {
    int n = nin > 1 && in[1] ? onnx_const_floats(imp, in[1], "scales", scales,
                                                 QIR_MAX_RANK)
                             : -1;
    bool exact;
    if (n < 0 || !sizes_from_scales(imp, x, scales, n, sizes, &exact))
      return n == -1 && !(nin > 1 && in[1])
                 ? onnx_error(imp, "input 'scales' is required")
                 : false;
    return emit_resize(imp, x, sizes, exact ? NULL : scales, mode_buf,
                       "asymmetric", "floor", -0.75, out);
  }
  const char *coord = onnx_attr_string(imp, node, "coordinate_transformation_mode");
  const char *coord_buf = coord ? coord : "half_pixel";
  if (strcmp(coord_buf, "tf_crop_and_resize") == 0)
    return onnx_error(imp, "coordinate_transformation_mode "
                           "'tf_crop_and_resize' is not supported");
  const char *nearest = onnx_attr_string(imp, node, "nearest_mode");
  const char *nearest_buf = nearest ? nearest : "round_prefer_floor";
  if (onnx_attr_int(node, "exclude_outside", 0))
    return onnx_error(imp, "exclude_outside = 1 is not supported");
  if (onnx_find_attr(node, "axes") ||
      onnx_find_attr(node, "keep_aspect_ratio_policy"))
    return onnx_error(imp, "attributes 'axes' and 'keep_aspect_ratio_policy' "
                           "are not supported");
  int ns = -1;
  if (nin > 3 && in[3] &&
      (ns = onnx_const_ints(imp, in[3], "sizes", sizes, QIR_MAX_RANK)) < 0)
    return false;
  if (ns > 0 && (unsigned)ns != rank)
    return onnx_error(imp, "%d sizes for rank %u", ns, rank);
  if (ns > 0 && !onnx_check_dims(imp, "sizes", ns, sizes))
    return false;
  bool exact = true;
  if (ns <= 0) {
    int nsc = -1;
    if (nin > 2 && in[2] &&
        (nsc = onnx_const_floats(imp, in[2], "scales", scales,
                                 QIR_MAX_RANK)) < 0)
      return false;
    if (nsc <= 0)
      return onnx_error(imp, "either 'scales' or 'sizes' must be given");
    if (!sizes_from_scales(imp, x, scales, nsc, sizes, &exact))
      return false;
  }
  return emit_resize(imp, x, sizes, exact ? NULL : scales, mode_buf, coord_buf,
                     nearest_buf,
                     onnx_attr_float(node, "cubic_coeff_a", -0.75), out);
}

bool onnx_lower_upsample(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (!need_input(imp, in, nin))
    return false;
  double scales[QIR_MAX_RANK];
  int n = imp->opset < 9
              ? onnx_attr_floats(imp, node, "scales", scales, QIR_MAX_RANK)
              : (nin > 1 && in[1] ? onnx_const_floats(imp, in[1], "scales",
                                                      scales, QIR_MAX_RANK)
                                  : -1);
  if (n < 0)
    return n == -1 ? onnx_error(imp, "scales are required") : false;
  int64_t sizes[QIR_MAX_RANK];
  bool exact;
  if (!sizes_from_scales(imp, in[0], scales, n, sizes, &exact))
    return false;
  const char *mode = onnx_attr_string(imp, node, "mode");
  const char *mode_buf = mode ? mode : "nearest";
  return emit_resize(imp, in[0], sizes, exact ? NULL : scales, mode_buf,
                     "asymmetric", "floor", -0.75, out);
}

/* ---- Gather, Expand, Tile, depth/space ---------------------------------- */

bool onnx_lower_gather(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 0), in[0]->type->rank,
                      &axis))
    return false;
  qir_named_attr a = onnx_named(imp, "axis", qir_attr_int(imp->ctx, axis));
  return (out[0] = onnx_emit(imp, QIR_OP_GATHER, 2, in, 1, &a)) != NULL;
}

/* ONNX Expand broadcasts both ways; qir's expand gets the final shape. */
bool onnx_lower_expand(onnx_importer *imp, const onnx_node *node,
                       qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  int64_t shape[QIR_MAX_RANK];
  int n = onnx_const_ints(imp, in[1], "shape", shape, QIR_MAX_RANK);
  if (n < 0 || !onnx_check_dims(imp, "shape", n, shape))
    return false;
  const qir_type *t = in[0]->type;
  unsigned r = t->rank > (unsigned)n ? t->rank : (unsigned)n;
  int64_t dims[QIR_MAX_RANK];
  for (unsigned i = 0; i < r; i++) {
    int64_t a = i + t->rank >= r ? t->dims[i + t->rank - r] : 1;
    int64_t b = i + n >= r ? shape[i + n - r] : 1;
    if (a != b && a != 1 && b != 1)
      return onnx_error(imp, "cannot broadcast dimension %lld to %lld",
                        (long long)a, (long long)b);
    dims[i] = a == 1 ? b : a;
  }
  qir_named_attr a = ints_attr(imp, "shape", r, dims);
  return (out[0] = onnx_emit(imp, QIR_OP_EXPAND, 1, in, 1, &a)) != NULL;
}

bool onnx_lower_tile(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  int64_t reps[QIR_MAX_RANK];
  int n = onnx_const_ints(imp, in[1], "repeats", reps, QIR_MAX_RANK);
  if (n < 0 || !onnx_check_dims(imp, "repeats", n, reps))
    return false;
  if ((unsigned)n != in[0]->type->rank)
    return onnx_error(imp, "repeats has %d values for rank %u", n,
                      in[0]->type->rank);
  qir_named_attr a = ints_attr(imp, "repeats", (unsigned)n, reps);
  return (out[0] = onnx_emit(imp, QIR_OP_TILE, 1, in, 1, &a)) != NULL;
}

static bool lower_depth_space(onnx_importer *imp, const onnx_node *node,
                              qir_value *const *in, unsigned nin,
                              qir_value **out, unsigned op_id) {
  if (!need_input(imp, in, nin))
    return false;
  int64_t bs = onnx_attr_int(node, "blocksize", 0);
  if (bs < 1)
    return onnx_error(imp, "attribute 'blocksize' must be positive");
  qir_named_attr attrs[2];
  unsigned n = 0;
  attrs[n++] = onnx_named(imp, "blocksize", qir_attr_int(imp->ctx, bs));
  const char *mode = onnx_attr_string(imp, node, "mode");
  if (op_id == QIR_OP_DEPTH_TO_SPACE)
    attrs[n++] = onnx_named(imp, "mode",
                            qir_attr_cstr(imp->ctx, mode ? mode : "DCR"));
  return (out[0] = onnx_emit(imp, op_id, 1, in, n, attrs)) != NULL;
}

bool onnx_lower_depth_to_space(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value **out) {
  return lower_depth_space(imp, node, in, nin, out, QIR_OP_DEPTH_TO_SPACE);
}

bool onnx_lower_space_to_depth(onnx_importer *imp, const onnx_node *node,
                               qir_value *const *in, unsigned nin,
                               qir_value **out) {
  return lower_depth_space(imp, node, in, nin, out, QIR_OP_SPACE_TO_DEPTH);
}
