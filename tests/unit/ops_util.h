/* tests/unit/ops_util.h - fixtures for the op unit tests: a module with
 * one function, types from short strings, captured diagnostics. */
#ifndef QIR_TESTS_OPS_UTIL_H
#define QIR_TESTS_OPS_UTIL_H

#include "unit.h"

typedef struct ops_fx {
  qir_context *ctx;
  qir_module *m;
  qir_func *f;
  qir_builder b;
  char diags[8192]; /* every error, one per line */
  unsigned num_errors;
} ops_fx;

/* A context, a module and @main with arguments of the given types (a
 * NULL-terminated list of type strings, see ops_type) and no results. */
void ops_fx_init(ops_fx *fx, ...);
void ops_fx_fini(ops_fx *fx);

/* "1x3x?x4:f32", ":i64" (rank 0), "4:!q.i8" (scale 0.5, zero point 0). */
const qir_type *ops_type(ops_fx *fx, const char *spec);
qir_value *ops_arg(ops_fx *fx, unsigned i);
const char *ops_type_text(ops_fx *fx, const qir_type *t);

/* Builds an op with inferred types (NULL on an inference error). */
qir_op *ops_build(ops_fx *fx, unsigned id, unsigned nops, qir_value **ops,
                  unsigned nattrs, const qir_named_attr *attrs);
/* Builds an op with the given result types. */
qir_op *ops_build_typed(ops_fx *fx, unsigned id, unsigned nops,
                        qir_value **ops, unsigned nres,
                        const qir_type **types, unsigned nattrs,
                        const qir_named_attr *attrs);
qir_value *ops_const_i64(ops_fx *fx, const char *type, const int64_t *v);
qir_value *ops_const_f64(ops_fx *fx, const char *type, const double *v);
/* Appends `return` of the values and sets the function's result types. */
void ops_return(ops_fx *fx, unsigned n, qir_value **vals);

/* Runs def->fold with the constants of the op's operands. */
const qir_attr *ops_fold(qir_op *op);
/* Attribute shortcuts. */
qir_named_attr ops_ints(ops_fx *fx, const char *name, unsigned n,
                        const int64_t *v);
qir_named_attr ops_int(ops_fx *fx, const char *name, int64_t v);
qir_named_attr ops_str(ops_fx *fx, const char *name, const char *s);

Suite *ops_infer_suite(void);
Suite *ops_verify_suite(void);
Suite *ops_fold_suite(void);

#endif
