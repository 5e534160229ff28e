/* qir/builder.h - creating ops at an insertion point, for passes and
 * frontends. */
#ifndef QIR_BUILDER_H
#define QIR_BUILDER_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qir_builder {
  qir_context *ctx;
  qir_block *block; /* where new ops go */
  qir_op *before;   /* insert before this op; NULL: at the end of block */
  qir_loc loc;      /* location given to new ops */
} qir_builder;

void qir_builder_init(qir_builder *b, qir_context *ctx);
void qir_builder_set_end(qir_builder *b, qir_block *block);
void qir_builder_set_before(qir_builder *b, qir_op *op);
void qir_builder_set_after(qir_builder *b, qir_op *op);

/* Creates an op with explicit result types and inserts it. */
qir_op *qir_build_typed(qir_builder *b, const qir_op_def *def,
                        unsigned num_operands, qir_value *const *operands,
                        unsigned num_results, const qir_type *const *types,
                        unsigned num_attrs, const qir_named_attr *attrs);
/* Creates an op whose result types come from the def's inference.  On an
 * inference error the op is not inserted, the error has been emitted, and
 * NULL is returned.  Variadic-result ops need qir_build_typed. */
qir_op *qir_build(qir_builder *b, const qir_op_def *def,
                  unsigned num_operands, qir_value *const *operands,
                  unsigned num_attrs, const qir_named_attr *attrs);
/* By built-in id; the common case in passes. */
qir_op *qir_build_id(qir_builder *b, unsigned op_id, unsigned num_operands,
                     qir_value *const *operands, unsigned num_attrs,
                     const qir_named_attr *attrs);
/* The single result of qir_build_id (NULL on error). */
qir_value *qir_build_value(qir_builder *b, unsigned op_id,
                           unsigned num_operands, qir_value *const *operands,
                           unsigned num_attrs, const qir_named_attr *attrs);

/* `constant {value = dense}` with the dense attribute's type. */
qir_value *qir_build_constant(qir_builder *b, const qir_attr *dense);
/* The dense attribute of a value defined by `constant`, else NULL. */
const qir_attr *qir_value_constant(const qir_value *v);

/* Small helpers for attribute lists. */
static inline qir_named_attr qir_named(qir_context *ctx, const char *name,
                                       const qir_attr *a) {
  qir_named_attr na = {qir_intern_cstr(ctx, name), a};
  return na;
}

#ifdef __cplusplus
}
#endif
#endif
