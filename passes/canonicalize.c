/* passes/canonicalize.c - the canonicalize pass. */
#include "passes/passes.h"

bool qir_pass_run_canonicalize(qir_pass *pass, void *unit_ir) {
  (void)pass;
  (void)unit_ir;
  return true;
}
