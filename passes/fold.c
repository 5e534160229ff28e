/* passes/fold.c - the fold pass. */
#include "passes/passes.h"

bool qir_pass_run_fold(qir_pass *pass, void *unit_ir) {
  (void)pass;
  (void)unit_ir;
  return true;
}
