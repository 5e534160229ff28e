/* ir/verify.c - the verifier driver.
 *
 * Checks the structure every op shares (operand and result counts, missing
 * operands, tensor types, uses before definitions, terminators), then each
 * op's own verify function, then that the declared result types agree with
 * the op's type inference.  It reports every problem and keeps going.
 *
 * Uses before definitions are found in one walk over the block: the walk
 * marks each value it has seen defined through value->aux (so the verifier
 * clobbers the aux of every value of the function it checks). */
#include <stdlib.h>

#include "ir/ops/ops.h"

static const char *plural(int n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

static bool check_result_count(qir_op *op) {
  int want = op->def->num_results, n = (int)op->num_results;
  if (want < 0 || n == want)
    return true;
  qir_op_emit_error(op, "expects %d %s, got %d", want,
                    plural(want, "result", "results"), n);
  return false;
}

static bool is_builtin(const qir_op *op) { return op->def->id < QIR_NUM_OPS; }

/* A per-axis quantized element type must name a dimension of the tensor
 * and carry one parameter pair per index of it. */
static bool check_quant_axis(qir_op *op, const char *what, unsigned i,
                             const qir_type *t) {
  const qir_type *q = t->elem;
  if (q->kind != QIR_TYPE_QUANT || q->axis < 0)
    return true;
  if ((unsigned)q->axis >= t->rank) {
    qir_op_emit_error(op, "%s #%u type %s has a quantization axis %d out of "
                          "range for rank %u",
                      what, i, qir_ops_type_str(op->ctx, t), q->axis,
                      t->rank);
    return false;
  }
  int64_t d = t->dims[q->axis];
  if (d != QIR_DYN && (int64_t)q->nparams != d) {
    qir_op_emit_error(op, "%s #%u type %s has %u quantization parameters "
                          "for dimension %d of size %lld",
                      what, i, qir_ops_type_str(op->ctx, t), q->nparams,
                      q->axis, (long long)d);
    return false;
  }
  return true;
}

/* Operands present and (for built-in ops) tensors; result types present
 * and tensors.  False when the operands cannot be looked at further. */
static bool check_values(qir_op *op, bool *results_ok) {
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *v = op->operands[i].value;
    if (!v) {
      qir_op_emit_error(op, "operand #%u is missing", i);
      ok = false;
    } else if (!v->type) {
      qir_op_emit_error(op, "operand #%u has no type", i);
      ok = false;
    } else if (is_builtin(op) && !qir_type_is_tensor(v->type)) {
      qir_op_emit_error(op, "operand #%u must be a tensor, got %s", i,
                        qir_ops_type_str(op->ctx, v->type));
      ok = false;
    } else if (is_builtin(op) && !check_quant_axis(op, "operand", i, v->type))
      ok = false;
  }
  *results_ok = true;
  for (unsigned i = 0; i < op->num_results; i++) {
    const qir_type *t = op->results[i].type;
    if (!t) {
      qir_op_emit_error(op, "result #%u has no type", i);
      *results_ok = false;
    } else if (is_builtin(op) && !qir_type_is_tensor(t)) {
      qir_op_emit_error(op, "result #%u must be a tensor, got %s", i,
                        qir_ops_type_str(op->ctx, t));
      *results_ok = false;
    } else if (is_builtin(op) && !check_quant_axis(op, "result", i, t))
      *results_ok = false;
  }
  return ok;
}

static bool check_inferred_types(qir_op *op) {
  const qir_type *small[4];
  const qir_type **inferred = small;
  if (op->num_results > 4)
    inferred = qir_xcalloc(op->num_results, sizeof *inferred);
  for (unsigned i = 0; i < op->num_results; i++)
    inferred[i] = NULL;
  bool ok = op->def->infer(op, inferred);
  for (unsigned i = 0; ok && i < op->num_results; i++) {
    const qir_type *t = op->results[i].type;
    if (!inferred[i] || qir_ops_types_compatible(op, t, inferred[i]))
      continue;
    qir_op_emit_error(op,
                      "result #%u type %s is incompatible with the inferred "
                      "type %s",
                      i, qir_ops_type_str(op->ctx, t),
                      qir_ops_type_str(op->ctx, inferred[i]));
    ok = false;
  }
  if (inferred != small)
    free(inferred);
  return ok;
}

bool qir_verify_op(qir_op *op) {
  bool counts = qir_ops_check_operand_count(op);
  counts &= check_result_count(op);
  bool results_ok;
  bool operands_ok = check_values(op, &results_ok);
  if (!counts || !operands_ok || !results_ok)
    return false;
  if (op->def->verify && !op->def->verify(op))
    return false;
  if (op->def->infer && !check_inferred_types(op))
    return false;
  return true;
}

/* ---- Functions ------------------------------------------------------- */

/* Marks every value of the block undefined (aux 0), then its arguments
 * defined (aux 1). */
static void reset_marks(qir_block *b) {
  for (unsigned i = 0; i < b->num_args; i++)
    b->args[i]->aux = 1;
  qir_foreach_op(op, b) {
    for (unsigned i = 0; i < op->num_results; i++)
      op->results[i].aux = 0;
  }
}

static bool value_in_block(const qir_value *v, const qir_block *b) {
  if (v->kind == QIR_VALUE_ARG)
    return v->owner.block == b;
  return v->owner.op && v->owner.op->block == b;
}

static bool check_dominance(qir_op *op, qir_block *b) {
  bool ok = true;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *v = op->operands[i].value;
    if (!v)
      continue;
    if (!value_in_block(v, b)) {
      qir_emit_error(op->ctx, op->loc,
                     "operand #%u of '%s' op is not defined in this function",
                     i, op->def->name);
      ok = false;
    } else if (v->aux != 1) {
      qir_emit_error(op->ctx, op->loc,
                     "operand #%u of '%s' op is used before its definition", i,
                     op->def->name);
      ok = false;
    }
  }
  return ok;
}

static bool check_terminator_position(qir_op *op) {
  if (!qir_op_has_trait(op, QIR_TRAIT_TERMINATOR) || !op->next)
    return true;
  qir_op_emit_error(op, "must be the last op of its function");
  return false;
}

static bool check_ends_with_return(qir_func *f) {
  qir_op *last = f->body.last;
  if (last && qir_op_is(last, QIR_OP_RETURN))
    return true;
  qir_emit_error(f->module->ctx, f->loc,
                 "function @%s must end with 'return'", f->name);
  return false;
}

bool qir_verify_func(qir_func *f) {
  qir_block *b = &f->body;
  bool ok = true;
  reset_marks(b);
  qir_foreach_op(op, b) {
    if (!check_dominance(op, b))
      ok = false;
    if (!check_terminator_position(op))
      ok = false;
    if (!qir_verify_op(op))
      ok = false;
    for (unsigned i = 0; i < op->num_results; i++)
      op->results[i].aux = 1;
  }
  if (!check_ends_with_return(f))
    ok = false;
  return ok;
}

bool qir_verify_module(qir_module *m) {
  bool ok = true;
  qir_foreach_func(f, m) {
    if (!qir_verify_func(f))
      ok = false;
  }
  return ok;
}
