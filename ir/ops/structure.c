/* ir/ops/structure.c - constant, return, call, identity. */
#include "ir/ops/ops.h"

static const qir_attr *constant_value(qir_op *op, bool report) {
  const qir_attr *v = qir_op_get_attr(op, "value");
  if (!v) {
    if (report)
      qir_ops_require_attr(op, "value");
    return NULL;
  }
  if (v->kind != QIR_ATTR_DENSE) {
    if (report)
      qir_op_emit_error(op, "attribute 'value' must be a dense tensor");
    return NULL;
  }
  return v;
}

bool qir_verify_constant(qir_op *op) {
  const qir_attr *v = constant_value(op, true);
  if (!v)
    return false;
  const qir_type *t = op->results[0].type;
  if (t && t != v->u.dense.type) {
    qir_op_emit_error(op, "result type %s does not match the type %s of its "
                          "value",
                      qir_ops_type_str(op->ctx, t),
                      qir_ops_type_str(op->ctx, v->u.dense.type));
    return false;
  }
  return true;
}

bool qir_infer_constant(qir_op *op, const qir_type **out) {
  const qir_attr *v = constant_value(op, true);
  if (!v)
    return false;
  out[0] = v->u.dense.type;
  return true;
}

bool qir_fold_constant(qir_op *op, const qir_attr *const *operands,
                       const qir_attr **out) {
  const qir_attr *v = constant_value(op, false);
  if (!v)
    return false;
  out[0] = v;
  return true;
}

bool qir_fold_identity(qir_op *op, const qir_attr *const *operands,
                       const qir_attr **out) {
  if (!operands[0])
    return false;
  out[0] = operands[0];
  return true;
}

bool qir_verify_return(qir_op *op) {
  qir_func *f = op->block ? op->block->func : NULL;
  if (!f)
    return true;
  if (op->num_operands != f->num_results) {
    qir_op_emit_error(op, "has %u %s but function @%s returns %u %s",
                      op->num_operands,
                      op->num_operands == 1 ? "operand" : "operands", f->name,
                      f->num_results, f->num_results == 1 ? "value" : "values");
    return false;
  }
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_type *t = qir_ops_type(op, i);
    if (t == f->result_types[i])
      continue;
    qir_op_emit_error(op, "operand #%u has type %s but function @%s returns "
                          "%s",
                      i, qir_ops_type_str(op->ctx, t), f->name,
                      qir_ops_type_str(op->ctx, f->result_types[i]));
    ok = false;
  }
  return ok;
}

static qir_func *callee_of(qir_op *op) {
  const qir_attr *a = qir_op_get_attr(op, "callee");
  if (!a) {
    qir_ops_require_attr(op, "callee");
    return NULL;
  }
  if (a->kind != QIR_ATTR_SYMBOL) {
    qir_op_emit_error(op, "attribute 'callee' must be a symbol");
    return NULL;
  }
  qir_module *m = op->block && op->block->func ? op->block->func->module : NULL;
  qir_func *f = m ? qir_module_lookup(m, a->u.symbol) : NULL;
  if (m && !f)
    qir_op_emit_error(op, "calls @%s, which is not a function of the module",
                      a->u.symbol);
  return f;
}

static bool check_call_types(qir_op *op, qir_func *f) {
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_type *t = qir_ops_type(op, i), *want = f->body.args[i]->type;
    if (t != want) {
      qir_op_emit_error(op, "operand #%u has type %s but @%s takes %s", i,
                        qir_ops_type_str(op->ctx, t), f->name,
                        qir_ops_type_str(op->ctx, want));
      ok = false;
    }
  }
  for (unsigned i = 0; i < op->num_results; i++) {
    const qir_type *t = op->results[i].type, *want = f->result_types[i];
    if (t != want) {
      qir_op_emit_error(op, "result #%u has type %s but @%s returns %s", i,
                        qir_ops_type_str(op->ctx, t), f->name,
                        qir_ops_type_str(op->ctx, want));
      ok = false;
    }
  }
  return ok;
}

bool qir_verify_call(qir_op *op) {
  const qir_attr *a = qir_op_get_attr(op, "callee");
  qir_func *f = callee_of(op);
  if (!f)
    return a && a->kind == QIR_ATTR_SYMBOL && !(op->block && op->block->func);
  if (op->num_operands != f->body.num_args) {
    qir_op_emit_error(op, "has %u operands but @%s takes %u", op->num_operands,
                      f->name, f->body.num_args);
    return false;
  }
  if (op->num_results != f->num_results) {
    qir_op_emit_error(op, "has %u results but @%s returns %u",
                      op->num_results, f->name, f->num_results);
    return false;
  }
  return check_call_types(op, f);
}
