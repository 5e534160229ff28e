/* frontends/onnx/qdq.c - folds the QuantizeLinear/DequantizeLinear pairs of
 * a QDQ model into ops on quantized types.
 *
 * The importer lowers QuantizeLinear to `quantize` and DequantizeLinear to
 * `dequantize` (of a quantized constant for weights and biases), so a QDQ
 * model arrives as float ops between them:
 *
 *   %xd = dequantize(%xq)   %wd = dequantize(%w)   %bd = dequantize(%b)
 *   %y  = conv2d(%xd, %wd, %bd)
 *   %yq = quantize(%y) : tensor<...x!q.i8<0.05:-3>>
 *
 * An op with the quantizable trait whose float operands all come from
 * `dequantize` and whose results are only used by `quantize` ops of one
 * type per result (unused quantize ops aside) becomes the same op on the quantized values, with the
 * quantize's result type: `%yq = conv2d(%xq, %w, %b) : ...!q.i8<0.05:-3>`.
 * A relu or clip between a conv2d and its quantize becomes the conv2d's
 * fused activation.  When the op does not verify on quantized types it
 * stays in float.  Every op whose result type is quantized is marked
 * `q.fixed = true`: its parameters come from the model, and calibration
 * leaves them alone (docs/Quantization.md, "QDQ models"). */
#include <stdlib.h>
#include <string.h>

#include "frontends/onnx/onnx-internal.h"

/* The one quantized type all uses of v convert it to; NULL when v has a
 * use that is not a `quantize`, no use, or quantize uses of other types. */
static const qir_type *quantized_by_uses(qir_value *v) {
  const qir_type *t = NULL;
  for (qir_use *u = v->uses; u; u = u->next) {
    if (!qir_op_is(u->owner, QIR_OP_QUANTIZE))
      return NULL;
    qir_value *r = qir_op_result(u->owner, 0);
    if (!qir_value_has_uses(r)) /* dead (a Clip narrowed it): ignored */
      continue;
    const qir_type *ut = r->type;
    if (t && ut != t)
      return NULL;
    t = ut;
  }
  return t;
}

/* The quantized operand standing for float operand v: the input of the
 * dequantize that made it.  Non-float operands (indices) stay; NULL when
 * v is a float not made by a dequantize. */
static qir_value *quantized_operand(qir_value *v) {
  qir_op *def = qir_value_def(v);
  if (def && qir_op_is(def, QIR_OP_DEQUANTIZE))
    return qir_op_operand(def, 0);
  return qir_scalar_is_float(v->type->scalar) ? NULL : v;
}

/* The relu or clip that is the only user of a conv2d's result, to fuse. */
static qir_op *fusable_activation(qir_op *op) {
  if (!qir_op_is(op, QIR_OP_CONV2D) || qir_op_get_attr(op, "activation"))
    return NULL;
  qir_value *r = qir_op_result(op, 0);
  if (qir_value_num_uses(r) != 1)
    return NULL;
  qir_op *user = r->uses->owner;
  return qir_op_is(user, QIR_OP_RELU) || qir_op_is(user, QIR_OP_CLIP) ? user
                                                                      : NULL;
}

/* The attributes of the folded op: op's own, the fused activation's, and
 * q.fixed.  Returns the count; attrs has room for op->num_attrs + 4. */
static unsigned folded_attrs(qir_context *ctx, qir_op *op, qir_op *act,
                             qir_named_attr *attrs) {
  unsigned n = 0;
  for (unsigned i = 0; i < op->num_attrs; i++)
    if (strcmp(op->attrs[i].name, "onnx.name") != 0)
      attrs[n++] = op->attrs[i];
  if (act && qir_op_is(act, QIR_OP_RELU)) {
    attrs[n++] = qir_named(ctx, "activation", qir_attr_cstr(ctx, "relu"));
  } else if (act) {
    attrs[n++] = qir_named(ctx, "activation", qir_attr_cstr(ctx, "clip"));
    const qir_attr *lo = qir_op_get_attr(act, "min");
    const qir_attr *hi = qir_op_get_attr(act, "max");
    if (lo)
      attrs[n++] = qir_named(ctx, "act_min", lo);
    if (hi)
      attrs[n++] = qir_named(ctx, "act_max", hi);
  }
  attrs[n++] = qir_named(ctx, "q.fixed", qir_attr_bool(ctx, true));
  return n;
}

static void ignore_diag(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx, (void)d, (void)user;
}

/* Verifies a trial op without showing its errors. */
static bool verifies_quietly(qir_context *ctx, qir_op *op) {
  if (qir_diag_error_count(ctx))
    return false;
  qir_diag_handler old;
  void *old_user;
  qir_diag_set_handler(ctx, ignore_diag, NULL, &old, &old_user);
  bool ok = qir_verify_op(op);
  qir_diag_set_handler(ctx, old, old_user, NULL, NULL);
  if (!ok)
    qir_diag_reset_error_count(ctx);
  return ok;
}

/* Replaces the quantize users of `from` by `to`, which takes the name of
 * the (first) quantize's result: the ONNX tensor the user knows. */
static void take_quantize_users(qir_op *to_op, unsigned i, qir_value *from) {
  qir_value *to = qir_op_result(to_op, i);
  const char *name = NULL;
  while (from->uses) {
    qir_op *q = from->uses->owner;
    qir_value *qv = qir_op_result(q, 0);
    if (!name) {
      name = qv->name;
      const qir_attr *orig = qir_op_get_attr(q, "onnx.name");
      if (orig && to_op->num_results == 1)
        qir_op_set_attr(to_op, "onnx.name", orig);
    }
    qir_value_replace_all_uses(qv, to);
    qir_op_erase(q);
  }
  if (name)
    qir_value_set_name(to_op->ctx, to, name);
}

/* Folds op (and a fused activation) into an op on quantized types; the
 * new op, or NULL when op stays as it is. */
static qir_op *fold_op(qir_op *op) {
  qir_context *ctx = op->ctx;
  qir_op *act = fusable_activation(op);
  qir_op *tail = act ? act : op;
  unsigned nres = tail->num_results, nops = op->num_operands;
  if (!nres || nres > 64 || nops > 64)
    return NULL;
  const qir_type *types[64];
  for (unsigned i = 0; i < nres; i++)
    if (!(types[i] = quantized_by_uses(qir_op_result(tail, i))))
      return NULL;
  qir_value *ops[64];
  for (unsigned i = 0; i < nops; i++)
    if (!(ops[i] = quantized_operand(qir_op_operand(op, i))))
      return NULL;
  qir_named_attr *attrs = qir_xcalloc(op->num_attrs + 4, sizeof *attrs);
  unsigned nattrs = folded_attrs(ctx, op, act, attrs);
  qir_op *q = qir_op_create(ctx, op->def, op->loc, nops, ops, nres, types,
                            nattrs, attrs);
  free(attrs);
  qir_op_insert_before(tail, q);
  if (!verifies_quietly(ctx, q)) {
    qir_op_erase(q);
    return NULL;
  }
  for (unsigned i = 0; i < nres; i++)
    take_quantize_users(q, i, qir_op_result(tail, i));
  qir_op_erase(tail);
  if (act)
    qir_op_erase(op);
  return q;
}

/* Erases dequantize ops (and then constants) left without users. */
static void erase_unused_dequantize(qir_func *f) {
  for (qir_op *op = f->body.last, *prev; op; op = prev) {
    prev = op->prev;
    if ((qir_op_is(op, QIR_OP_DEQUANTIZE) || qir_op_is(op, QIR_OP_CONSTANT)) &&
        !qir_value_has_uses(qir_op_result(op, 0)))
      qir_op_erase(op);
  }
}

static bool has_quant_result(qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++)
    if (qir_tensor_is_quant(qir_op_result(op, i)->type))
      return true;
  return false;
}

void qir_onnx_fold_qdq(qir_context *ctx, qir_func *f) {
  (void)ctx;
  for (qir_op *op = f->body.first, *next; op; op = next) {
    next = op->next;
    if (!qir_op_has_trait(op, QIR_TRAIT_QUANTIZABLE) || has_quant_result(op))
      continue;
    qir_op *q = fold_op(op);
    if (q)
      next = q->next;
  }
  erase_unused_dequantize(f);
  qir_foreach_op(op, &f->body) {
    if (has_quant_result(op))
      qir_op_set_attr(op, "q.fixed", qir_attr_bool(op->ctx, true));
  }
}
