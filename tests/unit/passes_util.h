/* tests/unit/passes_util.h - building small modules for the pass tests. */
#ifndef QIR_TESTS_UNIT_PASSES_UTIL_H
#define QIR_TESTS_UNIT_PASSES_UTIL_H

#include "unit.h"

/* A test fixture: a context with a quiet diagnostics handler that counts
 * errors, a module and a builder. */
typedef struct pt {
  qir_context *ctx;
  qir_module *m;
  qir_builder b;
  unsigned errors;
  char first_error[512];
  char last_error[512];
} pt;

void pt_init(pt *t);
void pt_fini(pt *t);

/* A tensor type of scalar s with the given dims (QIR_DYN for `?`):
 * PT_TENSOR(t, QIR_F32, 1, 8). */
const qir_type *pt_tensor(pt *t, qir_scalar s, unsigned n,
                          const int64_t *dims);
#define PT_TENSOR(t, s, ...)                                                  \
  pt_tensor((t), (s),                                                         \
            (unsigned)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),   \
            (int64_t[]){__VA_ARGS__})
/* A function with n arguments of type `arg` (named x0, x1, ...) and one
 * result of type `res`; the builder is set at its end. */
qir_func *pt_func(pt *t, const char *name, unsigned n, const qir_type *arg,
                  const qir_type *res);
qir_value *pt_arg(qir_func *f, unsigned i);
/* An op with explicit result types. */
qir_op *pt_op(pt *t, unsigned id, unsigned nops, qir_value *const *ops,
              unsigned nres, const qir_type *const *types, unsigned nattrs,
              const qir_named_attr *attrs);
/* One-result op of type `type`. */
qir_value *pt_op1(pt *t, unsigned id, const qir_type *type, unsigned nops,
                  qir_value *const *ops);
qir_value *pt_unary(pt *t, unsigned id, qir_value *x);
qir_value *pt_binary(pt *t, unsigned id, qir_value *a, qir_value *b);
/* A splat f32 constant of type `type`. */
qir_value *pt_splat(pt *t, const qir_type *type, float v);
qir_value *pt_const_f32(pt *t, const qir_type *type, const double *v);
void pt_return(pt *t, unsigned n, qir_value *const *vals);

/* Parses and runs a pipeline on the module (verifying after each pass). */
bool pt_run(pt *t, const char *pipeline);
unsigned pt_count(const qir_func *f, unsigned op_id);
/* The value returned as result i of f. */
qir_value *pt_returned(const qir_func *f, unsigned i);

#endif
