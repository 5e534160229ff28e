/* passes/passes.h - declarations shared by the built-in passes (private to
 * libqir). */
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

/* ---- Worklist (passes/rewrite.c) -----------------------------------------
 * A stack of ops without duplicates.  Membership lives in op->aux (slot
 * index + 1, 0 when absent), so every op of the block must start with
 * aux == 0 (qir_passes_clear_aux) and an erased op must leave the list
 * first (qir_worklist_erase_op does both). */
typedef struct qir_worklist {
  qir_op **ops;
  size_t n, cap;
} qir_worklist;

void qir_passes_clear_aux(qir_block *b);
void qir_worklist_init(qir_worklist *wl);
void qir_worklist_free(qir_worklist *wl);
void qir_worklist_push(qir_worklist *wl, qir_op *op);
/* Pushes every op of the block so that they pop in block order. */
void qir_worklist_push_block(qir_worklist *wl, qir_block *b);
/* The most recently pushed op still present, NULL when empty. */
qir_op *qir_worklist_pop(qir_worklist *wl);
void qir_worklist_remove(qir_worklist *wl, qir_op *op);
/* Pushes the ops that use any result of `op` / that use `v`. */
void qir_worklist_push_users(qir_worklist *wl, qir_op *op);
void qir_worklist_push_value_users(qir_worklist *wl, qir_value *v);
/* Pushes the defining ops of op's operands. */
void qir_worklist_push_operand_defs(qir_worklist *wl, qir_op *op);

/* ---- Rewriting helpers (passes/rewrite.c) ------------------------------- */

/* True when the op may be removed once its results are unused: pure and
 * not a terminator. */
bool qir_op_is_removable(const qir_op *op);
bool qir_op_results_unused(const qir_op *op);

/* Calls the op's folder (with NULL for every operand that is not a
 * constant).  On success creates one `constant` per result right before
 * the op, stores their values in out[0..num_results) and returns true; the
 * op itself is left in place for the caller to replace.  Fails (creating
 * nothing) when the op has no folder, is a constant, is not pure, or when a
 * folded value's type differs from the result's type. */
bool qir_passes_fold_to_constants(qir_op *op, qir_value **out);

/* Replaces every use of op's results by values[i], then erases op.  With
 * move_names, each named result gives its name to its (anonymous)
 * replacement.  When wl is not NULL, the users of the results are pushed
 * first, the op leaves the list, and the defining ops of its operands that
 * lose their last use are pushed. */
void qir_passes_replace_op(qir_worklist *wl, qir_op *op,
                           qir_value *const *values, bool move_names);
/* Erases an op whose results are unused (same worklist bookkeeping). */
void qir_passes_erase_op(qir_worklist *wl, qir_op *op);

#endif
