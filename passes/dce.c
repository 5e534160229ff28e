/* passes/dce.c - the dce pass. */
#include "passes/passes.h"

bool qir_pass_run_dce(qir_pass *pass, void *unit_ir) {
  (void)pass;
  (void)unit_ir;
  return true;
}
