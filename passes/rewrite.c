/* passes/rewrite.c - the worklist and rewriting helpers the passes share. */
#include <stdlib.h>

#include "passes/passes.h"

void qir_passes_clear_aux(qir_block *b) {
  qir_foreach_op(op, b) op->aux = 0;
}

void qir_worklist_init(qir_worklist *wl) {
  wl->ops = NULL;
  wl->n = wl->cap = 0;
}

void qir_worklist_free(qir_worklist *wl) {
  for (size_t i = 0; i < wl->n; i++)
    if (wl->ops[i])
      wl->ops[i]->aux = 0;
  free(wl->ops);
  qir_worklist_init(wl);
}

void qir_worklist_push(qir_worklist *wl, qir_op *op) {
  if (op->aux)
    return;
  if (wl->n == wl->cap) {
    wl->cap = wl->cap ? wl->cap * 2 : 64;
    wl->ops = qir_xrealloc(wl->ops, wl->cap * sizeof *wl->ops);
  }
  wl->ops[wl->n++] = op;
  op->aux = (intptr_t)wl->n;
}

void qir_worklist_push_block(qir_worklist *wl, qir_block *b) {
  for (qir_op *op = b->last; op; op = op->prev)
    qir_worklist_push(wl, op);
}

qir_op *qir_worklist_pop(qir_worklist *wl) {
  while (wl->n) {
    qir_op *op = wl->ops[--wl->n];
    if (op) {
      op->aux = 0;
      return op;
    }
  }
  return NULL;
}

void qir_worklist_remove(qir_worklist *wl, qir_op *op) {
  if (!op->aux)
    return;
  size_t slot = (size_t)op->aux - 1;
  QIR_ASSERT(slot < wl->n && wl->ops[slot] == op);
  wl->ops[slot] = NULL;
  op->aux = 0;
}

void qir_worklist_push_value_users(qir_worklist *wl, qir_value *v) {
  for (qir_use *u = v->uses; u; u = u->next)
    qir_worklist_push(wl, u->owner);
}

void qir_worklist_push_users(qir_worklist *wl, qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++)
    qir_worklist_push_value_users(wl, qir_op_result(op, i));
}

void qir_worklist_push_operand_defs(qir_worklist *wl, qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    qir_op *def = v ? qir_value_def(v) : NULL;
    if (def)
      qir_worklist_push(wl, def);
  }
}

bool qir_op_is_removable(const qir_op *op) {
  return qir_op_has_trait(op, QIR_TRAIT_PURE) &&
         !qir_op_has_trait(op, QIR_TRAIT_TERMINATOR);
}

bool qir_op_results_unused(const qir_op *op) {
  for (unsigned i = 0; i < op->num_results; i++)
    if (qir_value_has_uses(&op->results[i]))
      return false;
  return true;
}

/* Fills operands[i] with the dense value of operand i when it is a
 * constant, else NULL. */
static void collect_constant_operands(const qir_op *op,
                                      const qir_attr **operands) {
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    operands[i] = v ? qir_value_constant(v) : NULL;
  }
}

static bool folded_types_match(qir_op *op, const qir_attr *const *out) {
  for (unsigned i = 0; i < op->num_results; i++)
    if (!out[i] || out[i]->kind != QIR_ATTR_DENSE ||
        out[i]->u.dense.type != op->results[i].type)
      return false;
  return true;
}

static bool call_folder(qir_op *op, const qir_attr **out) {
  const qir_attr *small[8];
  const qir_attr **operands = small;
  if (op->num_operands > 8)
    operands = qir_xcalloc(op->num_operands, sizeof *operands);
  collect_constant_operands(op, operands);
  for (unsigned i = 0; i < op->num_results; i++)
    out[i] = NULL;
  bool ok = op->def->fold(op, operands, out) && folded_types_match(op, out);
  if (operands != small)
    free(operands);
  return ok;
}

bool qir_passes_fold_to_constants(qir_op *op, qir_value **out) {
  if (!op->def->fold || op->num_results == 0 ||
      qir_op_has_trait(op, QIR_TRAIT_CONSTANT) || !qir_op_is_removable(op))
    return false;
  const qir_attr *small[4];
  const qir_attr **folded = small;
  if (op->num_results > 4)
    folded = qir_xcalloc(op->num_results, sizeof *folded);
  bool ok = call_folder(op, folded);
  if (ok) {
    qir_builder b;
    qir_builder_init(&b, op->ctx);
    qir_builder_set_before(&b, op);
    b.loc = op->loc;
    for (unsigned i = 0; i < op->num_results; i++) {
      out[i] = qir_build_constant(&b, folded[i]);
      QIR_ASSERT(out[i]);
    }
  }
  if (folded != small)
    free(folded);
  return ok;
}

static void move_name(qir_context *ctx, qir_value *from, qir_value *to) {
  if (!from->name || to->name)
    return;
  const char *name = from->name;
  qir_value_set_name(ctx, from, NULL);
  qir_value_set_name(ctx, to, name);
}

/* Erases op, then pushes the defining ops of its former operands that
 * were left without uses (they may now be dead). */
static void erase_and_push_dead_defs(qir_worklist *wl, qir_op *op) {
  if (!wl) {
    qir_op_erase(op);
    return;
  }
  qir_worklist_remove(wl, op);
  unsigned n = op->num_operands;
  qir_op *small[8];
  qir_op **defs = n > 8 ? qir_xcalloc(n, sizeof *defs) : small;
  for (unsigned i = 0; i < n; i++) {
    qir_value *v = qir_op_operand(op, i);
    defs[i] = v ? qir_value_def(v) : NULL;
  }
  qir_op_erase(op);
  for (unsigned i = 0; i < n; i++)
    if (defs[i] && qir_op_results_unused(defs[i]))
      qir_worklist_push(wl, defs[i]);
  if (defs != small)
    free(defs);
}

void qir_passes_replace_op(qir_worklist *wl, qir_op *op,
                           qir_value *const *values, bool move_names) {
  for (unsigned i = 0; i < op->num_results; i++) {
    qir_value *r = qir_op_result(op, i);
    if (wl)
      qir_worklist_push_value_users(wl, r);
    if (move_names)
      move_name(op->ctx, r, values[i]);
    qir_value_replace_all_uses(r, values[i]);
  }
  erase_and_push_dead_defs(wl, op);
}

void qir_passes_erase_op(qir_worklist *wl, qir_op *op) {
  QIR_ASSERT(qir_op_results_unused(op));
  erase_and_push_dead_defs(wl, op);
}
