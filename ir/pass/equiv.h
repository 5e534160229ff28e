/* ir/pass/equiv.h - the numerical equivalence check of qir-opt
 * (-check-equivalence, -check-each; docs/Optimization.md).
 *
 * The reference is the module before the pipeline: create runs its
 * function on the inputs (random with a seed, or .npy files of a folder)
 * and keeps the outputs; check runs a transformed module on the same
 * inputs and compares every output (cosine, max absolute and max relative
 * error). */
#ifndef QIR_IR_PASS_EQUIV_H
#define QIR_IR_PASS_EQUIV_H

#include "qir/qir.h"

typedef struct qir_equiv_options {
  const char *inputs;   /* "random" or a folder of <input name>.npy */
  uint64_t seed;        /* of the random inputs */
  double min_cosine;    /* every output's cosine must reach this */
  double max_rel_error; /* max |a - b| / max |a| must stay within this */
  FILE *report;         /* where the per-output figures go */
} qir_equiv_options;

void qir_equiv_options_init(qir_equiv_options *o);

typedef struct qir_equiv qir_equiv;

/* Runs the reference: the function @main of m (else its first one).
 * NULL after an error (no function, inputs that cannot be made or read,
 * an interpreter error). */
qir_equiv *qir_equiv_create(qir_module *m, const qir_equiv_options *o);
void qir_equiv_destroy(qir_equiv *e);

/* Runs m's function on the reference inputs and compares.  `after` names
 * the pass that just ran (NULL: the whole pipeline), for the report and
 * the error.  Prints one line per output when `verbose`.  Returns false
 * after an error when the outputs are not equivalent. */
bool qir_equiv_check(qir_equiv *e, qir_module *m, const char *after,
                     bool verbose);

#endif
