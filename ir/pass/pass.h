/* ir/pass/pass.h - private structures of the pass manager. */
#ifndef QIR_IR_PASS_PASS_H
#define QIR_IR_PASS_PASS_H

#include <stdlib.h>

#include "qir/qir.h"

typedef union qir_opt_value {
  bool b;
  int64_t i;
  double f;
  const char *s; /* interned */
} qir_opt_value;

typedef struct qir_pass_statistic {
  const char *name; /* interned */
  long value;
} qir_pass_statistic;

struct qir_pass {
  qir_context *ctx;
  const qir_pass_def *def;
  qir_opt_value *values; /* one per option of def */
  qir_pass_statistic *stats;
  unsigned num_stats, cap_stats;
  double seconds; /* wall time of the last run */
};

struct qir_pipeline {
  qir_context *ctx;
  qir_pass **passes;
  unsigned num_passes, cap_passes;
};

/* Creates a pass with every option at its default. */
qir_pass *qir_pass_create(qir_context *ctx, const qir_pass_def *def);
void qir_pass_destroy(qir_pass *p);
/* Converts `text` to the option's type; false when it does not parse. */
bool qir_opt_value_parse(qir_context *ctx, qir_opt_type type,
                         const char *text, size_t len, qir_opt_value *out);

#endif
