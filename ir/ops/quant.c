/* ir/ops/quant.c - quantize, dequantize, requantize.  The parameters of
 * the quantized side come from its element type. */
#include "ir/ops/ops.h"

static bool same_shape(const qir_type *a, const qir_type *b) {
  if (a->rank != b->rank)
    return false;
  for (unsigned i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i] && a->dims[i] != QIR_DYN &&
        b->dims[i] != QIR_DYN)
      return false;
  return true;
}

/* want_q: whether the value must be quantized (else float). */
static bool check_side(qir_op *op, const char *what, const qir_type *t,
                       bool want_q) {
  if (want_q ? qir_tensor_is_quant(t) : qir_ops_is_float(t))
    return true;
  qir_op_emit_error(op, "%s must have a %s element type, got %s", what,
                    want_q ? "quantized" : "float",
                    qir_ops_type_str(op->ctx, t));
  return false;
}

static bool check_quant_op(qir_op *op, bool in_q, bool out_q) {
  const qir_type *in = qir_ops_type(op, 0), *out = op->results[0].type;
  if (!check_side(op, "operand", in, in_q) ||
      !check_side(op, "result", out, out_q))
    return false;
  if (!same_shape(in, out)) {
    qir_op_emit_error(op, "result type %s does not have the shape of the "
                          "operand type %s",
                      qir_ops_type_str(op->ctx, out),
                      qir_ops_type_str(op->ctx, in));
    return false;
  }
  return true;
}

bool qir_verify_quantize(qir_op *op) { return check_quant_op(op, false, true); }

bool qir_verify_dequantize(qir_op *op) {
  return check_quant_op(op, true, false);
}

bool qir_verify_requantize(qir_op *op) {
  return check_quant_op(op, true, true);
}
