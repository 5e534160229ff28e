/* passes/passes.h - declarations shared by the built-in passes (private). */
#ifndef QIR_PASSES_PASSES_H
#define QIR_PASSES_PASSES_H

#include "qir/qir.h"

/* The run function of every pass of passes.def. */
#define QIR_OPT(name, type, dflt, help)
#define QIR_PASS(ID, name, unit, summary, ...)                                \
  bool qir_pass_run_##ID(qir_pass *pass, void *unit_ir);
#include "passes/passes.def"
#undef QIR_PASS
#undef QIR_OPT

#endif
