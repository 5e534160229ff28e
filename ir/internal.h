/* ir/internal.h - declarations shared inside libqir, not part of the public
 * API. */
#ifndef QIR_IR_INTERNAL_H
#define QIR_IR_INTERNAL_H

#include "qir/qir.h"

/* Registers the ops of ir/ops.def (ir/ops/registry.c); called by
 * qir_context_create. */
void qir_register_builtin_ops(qir_context *ctx);

#endif
