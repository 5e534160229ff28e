/* ir/builder.c - builder (stub). */
#include "ir/internal.h"
#include <stdlib.h>

void qir_builder_init(qir_builder *b, qir_context *ctx) {  }
void qir_builder_set_end(qir_builder *b, qir_block *block) {  }
void qir_builder_set_before(qir_builder *b, qir_op *op) {  }
void qir_builder_set_after(qir_builder *b, qir_op *op) {  }
qir_op * qir_build_typed(qir_builder *b, const qir_op_def *def, unsigned num_operands, qir_value *const *operands, unsigned num_results, const qir_type *const *types, unsigned num_attrs, const qir_named_attr *attrs) { return NULL; }
qir_op * qir_build(qir_builder *b, const qir_op_def *def, unsigned num_operands, qir_value *const *operands, unsigned num_attrs, const qir_named_attr *attrs) { return NULL; }
qir_op * qir_build_id(qir_builder *b, unsigned op_id, unsigned num_operands, qir_value *const *operands, unsigned num_attrs, const qir_named_attr *attrs) { return NULL; }
qir_value * qir_build_value(qir_builder *b, unsigned op_id, unsigned num_operands, qir_value *const *operands, unsigned num_attrs, const qir_named_attr *attrs) { return NULL; }
qir_value * qir_build_constant(qir_builder *b, const qir_attr *dense) { return NULL; }
const qir_attr * qir_value_constant(const qir_value *v) { return NULL; }
