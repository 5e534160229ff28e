/* quant/analysis.c - precision analysis and automatic mixed precision. */
#include "quant/quant.h"

bool qir_pass_run_precision_analysis(qir_pass *pass, void *unit_ir) {
  (void)pass;
  qir_func *f = unit_ir;
  qir_emit_error(f->module->ctx, f->loc, "precision-analysis: not supported yet");
  return false;
}

bool qir_pass_run_auto_mixed_precision(qir_pass *pass, void *unit_ir) {
  (void)pass;
  qir_func *f = unit_ir;
  qir_emit_error(f->module->ctx, f->loc, "auto-mixed-precision: not supported yet");
  return false;
}
