/* passes/fold.c - the fold pass: ops whose folder succeeds (usually because
 * their operands are constants) become `constant` ops.
 *
 * One sweep in block order is enough: an op's operands are defined before
 * it, so they have been folded by the time it is visited. */
#include <stdlib.h>

#include "passes/passes.h"

/* Folds one op; returns true when it was replaced by constants. */
static bool fold_one(qir_op *op) {
  qir_value *small[4];
  qir_value **values = small;
  if (op->num_results > 4)
    values = qir_xcalloc(op->num_results, sizeof *values);
  bool folded = qir_passes_fold_to_constants(op, values);
  if (folded)
    qir_passes_replace_op(NULL, op, values, true);
  if (values != small)
    free(values);
  return folded;
}

bool qir_pass_run_fold(qir_pass *pass, void *unit_ir) {
  qir_func *f = unit_ir;
  long folded = 0;
  qir_foreach_op_safe(op, next, &f->body) {
    if (fold_one(op))
      folded++;
  }
  qir_pass_stat(pass, "ops folded", folded);
  return true;
}
