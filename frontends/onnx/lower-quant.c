/* frontends/onnx/lower-quant.c - QuantizeLinear and DequantizeLinear.
 * qir carries quantization parameters in element types: QuantizeLinear
 * gives a `quantize` whose result type holds the scale and zero point;
 * DequantizeLinear of a constant integer tensor (QDQ weights and biases)
 * retypes the constant to the quantized type and dequantizes it.  A Clip
 * of a quantized tensor to integer bounds narrows its range (the 4-bit
 * form: QuantizeLinear, Clip to -8..7, DequantizeLinear).  qdq.c then folds
 * the float ops between them into ops on quantized types. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

static bool is_storage_scalar(qir_scalar s) {
  return s == QIR_I8 || s == QIR_U8 || s == QIR_I16 || s == QIR_U16;
}

/* The per-axis axis of scale `s` for an input of type `xt` (-1: per
 * tensor); -2 after an error. */
static int64_t quant_axis(onnx_importer *imp, const onnx_node *node,
                          const qir_attr *s, const qir_type *xt) {
  int64_t n = qir_dense_num_elements(s);
  if (n == 1)
    return -1;
  if (s->u.dense.type->rank != 1) {
    onnx_error(imp, "the scale must be a scalar or 1-D");
    return -2;
  }
  int64_t axis;
  if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 1), xt->rank, &axis))
    return -2;
  if (xt->dims[axis] != QIR_DYN && xt->dims[axis] != n) {
    onnx_error(imp, "the scale has %lld elements but dim %lld of the input "
                    "has %lld",
               (long long)n, (long long)axis, (long long)xt->dims[axis]);
    return -2;
  }
  return axis;
}

/* The quantized element type of (scale, zero_point) for input type `xt`
 * with storage `storage` (the zero point's type; u8 when absent). */
static const qir_type *quant_elem(onnx_importer *imp, const onnx_node *node,
                                  qir_value *scale, qir_value *zp,
                                  const qir_type *xt, qir_scalar storage) {
  const qir_attr *s = qir_value_constant(scale);
  const qir_attr *z = zp ? qir_value_constant(zp) : NULL;
  if (!s || (zp && !z)) {
    onnx_error(imp, "the scale and zero point must be constants");
    return NULL;
  }
  int64_t n = qir_dense_num_elements(s);
  if (n < 1 || n > ONNX_MAX_TENSOR_ELEMENTS ||
      (z && qir_dense_num_elements(z) != n)) {
    onnx_error(imp, "the scale and zero point must have the same number of "
                    "elements");
    return NULL;
  }
  int64_t axis = quant_axis(imp, node, s, xt);
  if (axis < -1)
    return NULL;
  double *scales = qir_xcalloc((size_t)n, sizeof *scales);
  int64_t *zps = qir_xcalloc((size_t)n, sizeof *zps);
  bool ok = true;
  for (int64_t i = 0; i < n && ok; i++) {
    scales[i] = qir_dense_get_f64(s, i);
    zps[i] = z ? qir_dense_get_i64(z, i) : 0;
    if (!(scales[i] > 0) || !isfinite(scales[i]))
      ok = onnx_error(imp, "scale %g is not a positive number", scales[i]);
  }
  const qir_type *t = NULL;
  if (ok) {
    t = qir_quant_type(imp->ctx, qir_loc_unknown(), storage, (int)axis,
                       (unsigned)n, scales, zps, qir_scalar_min(storage),
                       qir_scalar_max(storage));
    if (!t)
      onnx_error(imp, "invalid quantization parameters");
  }
  free(scales);
  free(zps);
  return t;
}

static bool need_scale(onnx_importer *imp, qir_value *const *in,
                       unsigned nin) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "the input is missing");
  if (nin < 2 || !in[1])
    return onnx_error(imp, "the scale input is missing");
  return true;
}

bool onnx_lower_quantize_linear(onnx_importer *imp, const onnx_node *node,
                                qir_value *const *in, unsigned nin,
                                qir_value **out) {
  if (!need_scale(imp, in, nin))
    return false;
  imp->saw_qdq = true;
  qir_value *zp = nin > 2 ? in[2] : NULL;
  qir_scalar storage = zp ? zp->type->scalar : QIR_U8;
  if (!is_storage_scalar(storage))
    return onnx_error(imp, "the zero point has type %s; QuantizeLinear "
                           "gives uint8, int8, uint16 or int16",
                      qir_scalar_name(storage));
  if (!qir_scalar_is_float(in[0]->type->scalar) ||
      qir_tensor_is_quant(in[0]->type))
    return onnx_error(imp, "the input must be a float tensor");
  const qir_type *elem = quant_elem(imp, node, in[1], zp, in[0]->type,
                                    storage);
  if (!elem)
    return false;
  const qir_type *t = qir_tensor_with_elem(imp->ctx, in[0]->type, elem);
  return onnx_emit_multi(imp, QIR_OP_QUANTIZE, 1, in, 0, NULL, 1, &t, out);
}

/* Same scales and zero points (the range may be narrower). */
static bool same_params(const qir_type *a, const qir_type *b) {
  if (a->scalar != b->scalar || a->axis != b->axis ||
      a->nparams != b->nparams)
    return false;
  for (unsigned i = 0; i < a->nparams; i++) {
    int64_t za = a->zero_points ? a->zero_points[i] : 0;
    int64_t zb = b->zero_points ? b->zero_points[i] : 0;
    if (a->scales[i] != b->scales[i] || za != zb)
      return false;
  }
  return true;
}

/* The quantized constant of integer constant x retyped to `qt`. */
static qir_value *retype_constant(onnx_importer *imp, qir_value *x,
                                  const qir_type *qt) {
  const qir_attr *d = qir_value_constant(x);
  return onnx_const(imp, d->u.dense.splat
                             ? qir_attr_dense_splat(imp->ctx, qt,
                                                    d->u.dense.data)
                             : qir_attr_dense(imp->ctx, qir_loc_unknown(), qt,
                                              d->u.dense.data,
                                              d->u.dense.nbytes));
}

bool onnx_lower_dequantize_linear(onnx_importer *imp, const onnx_node *node,
                                  qir_value *const *in, unsigned nin,
                                  qir_value **out) {
  if (!need_scale(imp, in, nin))
    return false;
  imp->saw_qdq = true;
  qir_value *x = in[0];
  qir_value *zp = nin > 2 ? in[2] : NULL;
  qir_scalar storage = x->type->scalar;
  if (zp && zp->type->scalar != storage)
    return onnx_error(imp, "the zero point has type %s but the input has "
                           "type %s",
                      qir_scalar_name(zp->type->scalar),
                      qir_scalar_name(storage));
  if (!is_storage_scalar(storage) && storage != QIR_I32)
    return onnx_error(imp, "cannot dequantize a tensor of type %s",
                      qir_scalar_name(storage));
  const qir_type *elem = quant_elem(imp, node, in[1], zp, x->type, storage);
  if (!elem)
    return false;
  if (qir_tensor_is_quant(x->type)) {
    if (!same_params(x->type->elem, elem))
      return onnx_error(imp, "the quantization parameters differ from those "
                             "of the QuantizeLinear that made the input");
  } else if (qir_value_constant(x)) {
    x = retype_constant(imp, x,
                        qir_tensor_with_elem(imp->ctx, x->type, elem));
  } else if (!qir_value_def(x) && !qir_value_has_uses(x)) {
    /* A graph input of integers that only DequantizeLinear reads so far:
     * the input is a quantized tensor (a model fed with u8 images). */
    x->type = qir_tensor_with_elem(imp->ctx, x->type, elem);
  } else {
    return onnx_error(imp, "only a constant integer input, a graph input or "
                           "the output of a QuantizeLinear can be "
                           "dequantized");
  }
  const qir_type *ft = qir_tensor_with_elem(imp->ctx, x->type,
                                            qir_scalar_type(imp->ctx,
                                                            QIR_F32));
  return onnx_emit_multi(imp, QIR_OP_DEQUANTIZE, 1, &x, 0, NULL, 1, &ft, out);
}

/* Clip of a quantized tensor x to integer bounds lo..hi: the same values
 * in a type of range lo..hi (a requantize; a quantize with no other user
 * is rebuilt with the narrow type instead). */
bool onnx_lower_quantized_clip(onnx_importer *imp, qir_value *x, double lo,
                               double hi, qir_value **out) {
  const qir_type *q = x->type->elem;
  if (lo != floor(lo) || hi != floor(hi) || lo < (double)q->qmin ||
      hi > (double)q->qmax || lo >= hi)
    return onnx_error(imp, "a Clip of a quantized tensor needs integer "
                           "bounds inside %lld..%lld, got %g..%g",
                      (long long)q->qmin, (long long)q->qmax, lo, hi);
  const qir_type *nq = qir_quant_type(
      imp->ctx, qir_loc_unknown(), q->scalar, q->axis, q->nparams, q->scales,
      q->zero_points, (int64_t)lo, (int64_t)hi);
  if (!nq)
    return onnx_error(imp, "invalid quantization parameters");
  const qir_type *t = qir_tensor_with_elem(imp->ctx, x->type, nq);
  qir_op *def = qir_value_def(x);
  unsigned op = QIR_OP_REQUANTIZE;
  if (def && qir_op_is(def, QIR_OP_QUANTIZE) && !qir_value_has_uses(x)) {
    x = qir_op_operand(def, 0);
    op = QIR_OP_QUANTIZE;
  }
  return onnx_emit_multi(imp, op, 1, &x, 0, NULL, 1, &t, out);
}
