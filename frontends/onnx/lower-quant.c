/* frontends/onnx/lower-quant.c - QuantizeLinear and DequantizeLinear.
 * qir carries quantization parameters in element types: QuantizeLinear
 * gives a `quantize` whose result type holds the scale and zero point;
 * DequantizeLinear of a constant integer tensor (QDQ weights and biases)
 * retypes the constant to the quantized type and dequantizes it. */
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

/* The quantized element type of (scale, zero_point) with ONNX's `axis`
 * for per-axis parameters of a tensor of rank `rank`; `storage` is the
 * zero point's type (u8 when absent). */
static const qir_type *quant_elem(onnx_importer *imp, const onnx_node *node,
                                  qir_value *scale, qir_value *zp,
                                  unsigned rank, qir_scalar storage) {
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
  int64_t axis = -1;
  if (s->u.dense.type->rank == 1 && n > 1) {
    if (!onnx_norm_axis(imp, onnx_attr_int(node, "axis", 1), rank, &axis))
      return NULL;
  }
  double *scales = qir_xcalloc((size_t)n, sizeof *scales);
  int64_t *zps = qir_xcalloc((size_t)n, sizeof *zps);
  for (int64_t i = 0; i < n; i++) {
    scales[i] = qir_dense_get_f64(s, i);
    zps[i] = z ? qir_dense_get_i64(z, i) : 0;
  }
  const qir_type *t = qir_quant_type(imp->ctx, qir_loc_unknown(), storage,
                                     (int)axis, (unsigned)n, scales, zps,
                                     qir_scalar_min(storage),
                                     qir_scalar_max(storage));
  free(scales);
  free(zps);
  if (!t)
    onnx_error(imp, "invalid quantization parameters");
  return t;
}

bool onnx_lower_quantize_linear(onnx_importer *imp, const onnx_node *node,
                                qir_value *const *in, unsigned nin,
                                qir_value **out) {
  if (nin < 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected the input and the scale");
  qir_value *zp = nin > 2 ? in[2] : NULL;
  qir_scalar storage = zp ? zp->type->scalar : QIR_U8;
  const qir_type *elem = quant_elem(imp, node, in[1], zp, in[0]->type->rank,
                                    storage);
  if (!elem)
    return false;
  const qir_type *t = qir_tensor_with_elem(imp->ctx, in[0]->type, elem);
  return onnx_emit_multi(imp, QIR_OP_QUANTIZE, 1, in, 0, NULL, 1, &t, out);
}

bool onnx_lower_dequantize_linear(onnx_importer *imp, const onnx_node *node,
                                  qir_value *const *in, unsigned nin,
                                  qir_value **out) {
  if (nin < 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected the input and the scale");
  qir_value *x = in[0];
  const qir_type *elem = quant_elem(imp, node, in[1], nin > 2 ? in[2] : NULL,
                                    x->type->rank, x->type->scalar);
  if (!elem)
    return false;
  const qir_type *qt = qir_tensor_with_elem(imp->ctx, x->type, elem);
  if (qir_tensor_is_quant(x->type)) {
    if (x->type != qt)
      return onnx_error(imp, "the quantization parameters differ from those "
                             "of the QuantizeLinear that made the input");
  } else {
    const qir_attr *d = qir_value_constant(x);
    if (!d)
      return onnx_error(imp, "only a constant integer input or the output of "
                             "a QuantizeLinear can be dequantized");
    x = onnx_const(imp, d->u.dense.splat
                            ? qir_attr_dense_splat(imp->ctx, qt,
                                                   d->u.dense.data)
                            : qir_attr_dense(imp->ctx, qir_loc_unknown(), qt,
                                             d->u.dense.data,
                                             d->u.dense.nbytes));
  }
  const qir_type *ft = qir_tensor_with_elem(imp->ctx, x->type,
                                            qir_scalar_type(imp->ctx,
                                                            QIR_F32));
  return onnx_emit_multi(imp, QIR_OP_DEQUANTIZE, 1, &x, 0, NULL, 1, &ft, out);
}
