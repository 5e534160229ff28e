/* frontends/onnx/lower-elementwise.c - elementwise ONNX operators,
 * activations, Clip, Cast, Identity and Dropout. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

/* ---- Binary ops --------------------------------------------------------- */

static bool lower_binary(onnx_importer *imp, unsigned op_id,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  out[0] = onnx_emit_binary(imp, op_id, in[0], in[1]);
  return out[0] != NULL;
}

#define BINARY(fn, id)                                                        \
  bool fn(onnx_importer *imp, const onnx_node *node, qir_value *const *in,   \
          unsigned nin, qir_value **out) {                                    \
    (void)node;                                                               \
    return lower_binary(imp, id, in, nin, out);                               \
  }
BINARY(onnx_lower_add, QIR_OP_ADD)
BINARY(onnx_lower_sub, QIR_OP_SUB)
BINARY(onnx_lower_mul, QIR_OP_MUL)
BINARY(onnx_lower_div, QIR_OP_DIV)
BINARY(onnx_lower_prelu, QIR_OP_PRELU)
BINARY(onnx_lower_equal, QIR_OP_EQUAL)
BINARY(onnx_lower_less, QIR_OP_LESS)
BINARY(onnx_lower_less_equal, QIR_OP_LESS_EQUAL)
BINARY(onnx_lower_greater, QIR_OP_GREATER)
BINARY(onnx_lower_greater_equal, QIR_OP_GREATER_EQUAL)
BINARY(onnx_lower_and, QIR_OP_AND)
BINARY(onnx_lower_or, QIR_OP_OR)
BINARY(onnx_lower_xor, QIR_OP_XOR)
#undef BINARY

/* Pow allows an exponent of another type (opset 12): cast it to the base's. */
bool onnx_lower_pow(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  qir_value *e = onnx_emit_cast(imp, in[1], in[0]->type->scalar);
  if (!e)
    return false;
  out[0] = onnx_emit_binary(imp, QIR_OP_POW, in[0], e);
  return out[0] != NULL;
}

bool onnx_lower_mod(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  qir_value *ops[2] = {in[0], in[1]};
  qir_named_attr a = onnx_named(
      imp, "fmod", qir_attr_int(imp->ctx, onnx_attr_int(node, "fmod", 0)));
  out[0] = onnx_emit(imp, QIR_OP_MOD, 2, ops, 1, &a);
  return out[0] != NULL;
}

bool onnx_lower_where(onnx_importer *imp, const onnx_node *node,
                      qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 3 || !in[0] || !in[1] || !in[2])
    return onnx_error(imp, "expected 3 inputs");
  qir_value *ops[3] = {in[0], in[1], in[2]};
  out[0] = onnx_emit(imp, QIR_OP_WHERE, 3, ops, 0, NULL);
  return out[0] != NULL;
}

/* Variadic Max/Min/Sum: a chain of binary ops. */
static qir_value *chain(onnx_importer *imp, unsigned op_id,
                        qir_value *const *in, unsigned nin) {
  if (nin == 0 || !in[0]) {
    onnx_error(imp, "expected at least 1 input");
    return NULL;
  }
  qir_value *acc = in[0];
  for (unsigned i = 1; i < nin && acc; i++) {
    if (!in[i]) {
      onnx_error(imp, "input %u is empty", i);
      return NULL;
    }
    acc = onnx_emit_binary(imp, op_id, acc, in[i]);
  }
  return acc;
}

bool onnx_lower_max(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  return (out[0] = chain(imp, QIR_OP_MAX, in, nin)) != NULL;
}

bool onnx_lower_min(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  return (out[0] = chain(imp, QIR_OP_MIN, in, nin)) != NULL;
}

bool onnx_lower_sum(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  return (out[0] = chain(imp, QIR_OP_ADD, in, nin)) != NULL;
}

bool onnx_lower_mean(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  qir_value *sum = chain(imp, QIR_OP_ADD, in, nin);
  if (!sum)
    return false;
  if (nin == 1)
    return (out[0] = sum) != NULL;
  qir_value *n = onnx_const_scalar(imp, sum->type->scalar, (double)nin);
  return (out[0] = onnx_emit_binary(imp, QIR_OP_DIV, sum, n)) != NULL;
}

/* ---- Unary ops and activations ------------------------------------------ */

static bool lower_unary(onnx_importer *imp, unsigned op_id,
                        qir_value *const *in, unsigned nin, qir_value **out,
                        unsigned nattrs, const qir_named_attr *attrs) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  out[0] = onnx_emit(imp, op_id, 1, in, nattrs, attrs);
  return out[0] != NULL;
}

#define UNARY(fn, id)                                                         \
  bool fn(onnx_importer *imp, const onnx_node *node, qir_value *const *in,   \
          unsigned nin, qir_value **out) {                                    \
    return lower_unary(imp, id, in, nin, out, 0, NULL);                       \
  }
UNARY(onnx_lower_neg, QIR_OP_NEG)
UNARY(onnx_lower_abs, QIR_OP_ABS)
UNARY(onnx_lower_sqrt, QIR_OP_SQRT)
UNARY(onnx_lower_reciprocal, QIR_OP_RECIPROCAL)
UNARY(onnx_lower_exp, QIR_OP_EXP)
UNARY(onnx_lower_log, QIR_OP_LOG)
UNARY(onnx_lower_erf, QIR_OP_ERF)
UNARY(onnx_lower_sin, QIR_OP_SIN)
UNARY(onnx_lower_cos, QIR_OP_COS)
UNARY(onnx_lower_floor, QIR_OP_FLOOR)
UNARY(onnx_lower_ceil, QIR_OP_CEIL)
UNARY(onnx_lower_round, QIR_OP_ROUND)
UNARY(onnx_lower_sign, QIR_OP_SIGN)
UNARY(onnx_lower_not, QIR_OP_NOT)
UNARY(onnx_lower_relu, QIR_OP_RELU)
UNARY(onnx_lower_sigmoid, QIR_OP_SIGMOID)
UNARY(onnx_lower_tanh, QIR_OP_TANH)
UNARY(onnx_lower_hard_swish, QIR_OP_HARD_SWISH)
UNARY(onnx_lower_softplus, QIR_OP_SOFTPLUS)
UNARY(onnx_lower_mish, QIR_OP_MISH)
#undef UNARY

/* Activations with float attributes: copies the ONNX attributes that are
 * present under the same names (qir's defaults equal ONNX's). */
static bool lower_float_attrs(onnx_importer *imp, const onnx_node *node,
                              unsigned op_id, const char *const *names,
                              unsigned nnames, qir_value *const *in,
                              unsigned nin, qir_value **out) {
  qir_named_attr attrs[4];
  unsigned n = 0;
  for (unsigned i = 0; i < nnames; i++) {
    const onnx_attr *a = onnx_find_attr(node, names[i]);
    if (a && a->has_f)
      attrs[n++] = onnx_named(imp, names[i], qir_attr_float(imp->ctx, a->f));
  }
  return lower_unary(imp, op_id, in, nin, out, n, attrs);
}

bool onnx_lower_hard_sigmoid(onnx_importer *imp, const onnx_node *node,
                             qir_value *const *in, unsigned nin,
                             qir_value **out) {
  static const char *const names[] = {"alpha", "beta"};
  return lower_float_attrs(imp, node, QIR_OP_HARD_SIGMOID, names, 2, in, nin,
                           out);
}

bool onnx_lower_leaky_relu(onnx_importer *imp, const onnx_node *node,
                           qir_value *const *in, unsigned nin,
                           qir_value **out) {
  static const char *const names[] = {"alpha"};
  return lower_float_attrs(imp, node, QIR_OP_LEAKY_RELU, names, 1, in, nin,
                           out);
}

bool onnx_lower_elu(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  static const char *const names[] = {"alpha"};
  return lower_float_attrs(imp, node, QIR_OP_ELU, names, 1, in, nin, out);
}

bool onnx_lower_selu(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  static const char *const names[] = {"alpha", "gamma"};
  return lower_float_attrs(imp, node, QIR_OP_SELU, names, 2, in, nin, out);
}

/* Softsign: x / (1 + |x|). */
bool onnx_lower_softsign(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  qir_value *a = onnx_emit_unary(imp, QIR_OP_ABS, in[0]);
  qir_value *one = onnx_const_scalar(imp, in[0]->type->scalar, 1.0);
  qir_value *d = a ? onnx_emit_binary(imp, QIR_OP_ADD, a, one) : NULL;
  out[0] = d ? onnx_emit_binary(imp, QIR_OP_DIV, in[0], d) : NULL;
  return out[0] != NULL;
}

/* ThresholdedRelu: x > alpha ? x : 0. */
bool onnx_lower_thresholded_relu(onnx_importer *imp, const onnx_node *node,
                                 qir_value *const *in, unsigned nin,
                                 qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  qir_scalar s = in[0]->type->scalar;
  qir_value *alpha =
      onnx_const_scalar(imp, s, onnx_attr_float(node, "alpha", 1.0));
  qir_value *cond = onnx_emit_binary(imp, QIR_OP_GREATER, in[0], alpha);
  qir_value *zero = onnx_const_scalar(imp, s, 0.0);
  qir_value *ops[3] = {cond, in[0], zero};
  out[0] = cond ? onnx_emit(imp, QIR_OP_WHERE, 3, ops, 0, NULL) : NULL;
  return out[0] != NULL;
}

/* Celu: alpha * elu(x / alpha) (elu with alpha 1). */
bool onnx_lower_celu(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  double a = onnx_attr_float(node, "alpha", 1.0);
  if (a == 0.0)
    return onnx_error(imp, "alpha must not be 0");
  qir_value *alpha = onnx_const_scalar(imp, in[0]->type->scalar, a);
  qir_value *d = onnx_emit_binary(imp, QIR_OP_DIV, in[0], alpha);
  qir_value *e = d ? onnx_emit_unary(imp, QIR_OP_ELU, d) : NULL;
  out[0] = e ? onnx_emit_binary(imp, QIR_OP_MUL, e, alpha) : NULL;
  return out[0] != NULL;
}

/* Tan: sin(x) / cos(x). */
bool onnx_lower_tan(onnx_importer *imp, const onnx_node *node,
                    qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  qir_value *s = onnx_emit_unary(imp, QIR_OP_SIN, in[0]);
  qir_value *c = s ? onnx_emit_unary(imp, QIR_OP_COS, in[0]) : NULL;
  out[0] = c ? onnx_emit_binary(imp, QIR_OP_DIV, s, c) : NULL;
  return out[0] != NULL;
}

bool onnx_lower_gelu(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  const char *approx = onnx_attr_string(imp, node, "approximate");
  if (approx && strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)
    return onnx_error(imp, "unknown approximate '%s'", approx);
  qir_named_attr a = onnx_named(imp, "approximate",
                                qir_attr_cstr(imp->ctx, approx ? approx
                                                               : "none"));
  return lower_unary(imp, QIR_OP_GELU, in, nin, out, 1, &a);
}

/* Clip: min/max attributes before opset 11, optional constant inputs
 * from 11 on.  Absent bounds stay absent (unbounded). */
bool onnx_lower_clip(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  qir_named_attr attrs[2];
  unsigned n = 0;
  static const char *const names[] = {"min", "max"};
  double bounds[2];
  for (unsigned i = 0; i < 2; i++) {
    double v = 0;
    bool have = false;
    if (imp->opset < 11) {
      const onnx_attr *a = onnx_find_attr(node, names[i]);
      if (a && a->has_f) {
        v = a->f;
        have = fabs(v) < FLT_MAX;
      }
    } else if (i + 1 < nin && in[i + 1]) {
      int c = onnx_const_floats(imp, in[i + 1], names[i], &v, 1);
      if (c < 0)
        return false;
      have = c == 1;
    }
    if (have)
      attrs[n++] = onnx_named(imp, names[i], qir_attr_float(imp->ctx, v));
    bounds[i] = have ? v : i ? INFINITY : -INFINITY;
  }
  if (nin > 0 && in[0] && qir_tensor_is_quant(in[0]->type))
    return onnx_lower_quantized_clip(imp, in[0], bounds[0], bounds[1], out);
  return lower_unary(imp, QIR_OP_CLIP, in, 1, out, n, attrs);
}

bool onnx_lower_cast(onnx_importer *imp, const onnx_node *node,
                     qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  int64_t to = onnx_attr_int(node, "to", -1);
  qir_scalar s;
  if (to < 0 || to > INT32_MAX || !onnx_scalar_from_elem_type((int32_t)to, &s))
    return onnx_error(imp, "cannot cast to ONNX type %s",
                      onnx_elem_type_name((int32_t)to));
  out[0] = onnx_emit_cast(imp, in[0], s);
  return out[0] != NULL;
}

bool onnx_lower_cast_like(onnx_importer *imp, const onnx_node *node,
                          qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin != 2 || !in[0] || !in[1])
    return onnx_error(imp, "expected 2 inputs");
  out[0] = onnx_emit_cast(imp, in[0], in[1]->type->scalar);
  return out[0] != NULL;
}

bool onnx_lower_identity(onnx_importer *imp, const onnx_node *node,
                         qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  out[0] = in[0];
  return true;
}

/* Inference: Dropout passes its input through; the mask is not supported. */
bool onnx_lower_dropout(onnx_importer *imp, const onnx_node *node,
                        qir_value *const *in, unsigned nin, qir_value **out) {
  if (nin < 1 || !in[0])
    return onnx_error(imp, "expected 1 input");
  if (nin > 2 && in[2]) {
    const qir_attr *t = qir_value_constant(in[2]);
    if (!t || qir_dense_get_i64(t, 0) != 0)
      return onnx_error(imp, "training mode is not supported");
  }
  out[0] = in[0];
  if (node->n_output > 1) { /* the mask: every element kept */
    if (!onnx_static_shape(imp, in[0], "the input"))
      return false;
    const qir_type *t = qir_tensor_with_elem(imp->ctx, in[0]->type,
                                             qir_scalar_type(imp->ctx,
                                                             QIR_I1));
    unsigned char one = 1;
    out[1] = onnx_const(imp, qir_attr_dense_splat(imp->ctx, t, &one));
  }
  return true;
}
