/* passes/shape-infer.c - recomputes result types from operand types.
 *
 * Ops are visited in block order, so each op sees its operands' updated
 * types.  For each result the inferred type and the declared one merge:
 *  - when they agree on rank and every dim known in both, the result takes
 *    the more static dim of the two (refinement);
 *  - when they disagree (another rank, or two different known dims: an
 *    input shape changed), the inferred shape replaces the declared one.
 * Element types are not inferred over the declared ones: a quantized
 * declared element keeps its parameters (they come from calibration, not
 * from the operands), and two different plain element types are an error.
 * At the end the function's result types follow its `return` operands.
 *
 * Signatures are a contract with callers (the verifier wants call operand
 * and result types to equal the callee's exactly), so a value passed to a
 * call keeps its type, and so does a value returned by a function that is
 * called somewhere in the module; such a function keeps its result types. */
#include <stdlib.h>

#include "passes/passes.h"

/* Ops without an inference function whose result has the operand's shape
 * and the declared element type. */
static bool keeps_operand_shape(const qir_op *op) {
  return qir_op_is(op, QIR_OP_CAST) || qir_op_is(op, QIR_OP_QUANTIZE) ||
         qir_op_is(op, QIR_OP_DEQUANTIZE) || qir_op_is(op, QIR_OP_REQUANTIZE);
}

static bool shapes_conflict(const qir_type *a, const qir_type *b) {
  if (a->rank != b->rank)
    return true;
  for (unsigned i = 0; i < a->rank; i++)
    if (a->dims[i] != QIR_DYN && b->dims[i] != QIR_DYN &&
        a->dims[i] != b->dims[i])
      return true;
  return false;
}

/* The dims of the merged type (see the file comment) into dims. */
static void merge_dims(const qir_type *declared, const qir_type *inferred,
                       int64_t *dims) {
  bool conflict = shapes_conflict(declared, inferred);
  for (unsigned i = 0; i < inferred->rank; i++)
    dims[i] = conflict || inferred->dims[i] != QIR_DYN ? inferred->dims[i]
                                                        : declared->dims[i];
}

static bool elems_compatible(const qir_type *declared,
                             const qir_type *inferred) {
  return declared == inferred || qir_type_is_quant(declared) ||
         qir_type_is_quant(inferred);
}

/* The new type of a result declared `declared` and inferred `inferred`;
 * NULL (after an error) when the element types clash. */
static const qir_type *merge_types(qir_op *op, unsigned i,
                                   const qir_type *declared,
                                   const qir_type *inferred) {
  if (declared == inferred)
    return declared;
  if (!qir_type_is_tensor(declared) || !qir_type_is_tensor(inferred) ||
      !elems_compatible(declared->elem, inferred->elem)) {
    char d[256], n[256];
    qir_type_format(declared, d, sizeof d);
    qir_type_format(inferred, n, sizeof n);
    qir_op_emit_error(op, "result #%u has type %s but its operands give %s",
                      i, d, n);
    return NULL;
  }
  int64_t dims[QIR_MAX_RANK];
  merge_dims(declared, inferred, dims);
  const qir_type *merged =
      qir_tensor_type(op->ctx, declared->elem, inferred->rank, dims);
  QIR_ASSERT(merged); /* dims and element come from valid types */
  return merged;
}

/* Computes the inferred result types into out; false when the op has no
 * inference (out untouched) or when inference failed (*failed set). */
static bool infer_op(qir_op *op, const qir_type **out, bool *failed) {
  if (op->def->infer) {
    if (op->def->infer(op, out))
      return true;
    *failed = true;
    return false;
  }
  if (!keeps_operand_shape(op) || op->num_operands != 1 ||
      op->num_results != 1)
    return false;
  const qir_type *in = qir_op_operand(op, 0)->type;
  const qir_type *declared = op->results[0].type;
  if (!qir_type_is_tensor(in) || !qir_type_is_tensor(declared))
    return false;
  out[0] = qir_tensor_with_elem(op->ctx, in, declared->elem);
  return out[0] != NULL;
}

static bool calls_func(const qir_op *op, const qir_func *f) {
  if (!qir_op_is(op, QIR_OP_CALL))
    return false;
  const qir_attr *callee = qir_op_get_attr(op, "callee");
  return callee && callee->kind == QIR_ATTR_SYMBOL &&
         callee->u.symbol == f->name;
}

/* Scans the module (only when it has other functions). */
static bool func_has_callers(const qir_func *f) {
  if (!f->module || f->module->num_funcs <= 1)
    return false;
  qir_foreach_func(g, f->module) {
    qir_foreach_op(op, &g->body) {
      if (calls_func(op, f))
        return true;
    }
  }
  return false;
}

/* True when a use of v fixes its type (see the file comment). */
static bool type_is_pinned(const qir_value *v, bool func_called) {
  for (const qir_use *u = v->uses; u; u = u->next)
    if (qir_op_is(u->owner, QIR_OP_CALL) ||
        (func_called && qir_op_is(u->owner, QIR_OP_RETURN)))
      return true;
  return false;
}

/* Updates op's result types; returns false after an error. */
static bool update_op(qir_pass *pass, qir_op *op, bool func_called) {
  if (op->num_results == 0)
    return true;
  const qir_type *small[4];
  const qir_type **inferred =
      op->num_results > 4 ? qir_xcalloc(op->num_results, sizeof *inferred)
                          : small;
  for (unsigned i = 0; i < op->num_results; i++)
    inferred[i] = NULL;
  bool failed = false, ok = true;
  if (infer_op(op, inferred, &failed)) {
    for (unsigned i = 0; i < op->num_results && ok; i++) {
      qir_value *r = qir_op_result(op, i);
      const qir_type *t =
          inferred[i] ? merge_types(op, i, r->type, inferred[i]) : r->type;
      ok = t != NULL;
      if (ok && t != r->type && !type_is_pinned(r, func_called)) {
        qir_value_set_type(r, t);
        qir_pass_stat(pass, "result types updated", 1);
      }
    }
  }
  if (inferred != small)
    free(inferred);
  return ok && !failed;
}

static void update_func_results(qir_func *f) {
  qir_op *ret = qir_block_terminator(&f->body);
  if (!ret || !qir_op_is(ret, QIR_OP_RETURN))
    return;
  const qir_type *small[8];
  const qir_type **types =
      ret->num_operands > 8 ? qir_xcalloc(ret->num_operands, sizeof *types)
                            : small;
  for (unsigned i = 0; i < ret->num_operands; i++)
    types[i] = qir_op_operand(ret, i)->type;
  qir_func_set_result_types(f, ret->num_operands, types);
  if (types != small)
    free(types);
}

bool qir_pass_run_shape_infer(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  bool called = func_has_callers(f);
  qir_foreach_op(op, &f->body) {
    if (!update_op(pass, op, called))
      return false;
  }
  if (!called)
    update_func_results(f);
  return true;
}
