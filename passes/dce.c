/* passes/dce.c - dead code elimination: removes pure ops whose results are
 * unused, transitively.
 *
 * A sweep from the end of the block does nearly all the work: every use of
 * a value comes after its definition, so when an op is reached its users
 * have already been visited (and removed if they were dead).  Defining ops
 * that lose their last use also go on a worklist, drained at the end, so
 * the result does not depend on that order. */
#include "passes/passes.h"

static long remove_if_dead(qir_worklist *wl, qir_op *op) {
  if (!qir_op_is_removable(op) || !qir_op_results_unused(op))
    return 0;
  qir_passes_erase_op(wl, op);
  return 1;
}

bool qir_pass_run_dce(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  qir_worklist wl;
  qir_worklist_init(&wl);
  qir_passes_clear_aux(&f->body);
  long removed = 0;
  qir_op *op = f->body.last;
  while (op) {
    qir_op *prev = op->prev;
    removed += remove_if_dead(&wl, op);
    op = prev;
  }
  while ((op = qir_worklist_pop(&wl)))
    removed += remove_if_dead(&wl, op);
  qir_worklist_free(&wl);
  qir_pass_stat(pass, "ops removed", removed);
  return true;
}
